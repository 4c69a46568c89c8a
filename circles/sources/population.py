"""Residents per home: from a column, a population raster, or estimated from floor area."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from circles.config import PopulationSettings
from circles.errors import InputError, InputFileError


def floor_area_m2(homes: gpd.GeoDataFrame, settings: PopulationSettings) -> NDArray[np.float64]:
    """Gross floor area of each home in m^2: footprint x storeys.

    Storeys come from ``building:levels`` where it is a positive number, else from
    ``settings.default_levels`` by building type, else ``settings.fallback_levels``.
    Point homes (no footprint) count as one ``floor_area_per_person_m2``.

    Parameters
    ----------
    homes : GeoDataFrame
        Homes in a projected (metric) CRS.
    settings : PopulationSettings

    Returns
    -------
    ndarray of float64

    """
    if homes.crs is None or not homes.crs.is_projected:
        raise InputError("floor areas need homes in a projected CRS (metres)")
    footprint = homes.geometry.area.to_numpy(dtype=float)
    kinds = homes["building"] if "building" in homes else pd.Series("", index=homes.index)
    default = kinds.map(settings.default_levels).fillna(settings.fallback_levels).to_numpy(float)
    if "building:levels" in homes:
        given = pd.to_numeric(homes["building:levels"], errors="coerce").to_numpy(float)
        levels = np.where(np.isfinite(given) & (given > 0), given, default)
    else:
        levels = default
    area = footprint * levels
    return np.where(footprint > 0, area, settings.floor_area_per_person_m2)


def estimate_population(
    homes: gpd.GeoDataFrame,
    settings: PopulationSettings,
    *,
    total: float | None = None,
) -> tuple[NDArray[np.float64], str]:
    """Residents per home from floor area.

    Parameters
    ----------
    homes : GeoDataFrame
        Homes in a projected CRS.
    settings : PopulationSettings
    total : float, optional
        A known population of the study area, spread in proportion to floor area.
        Without it each home gets ``floor area / floor_area_per_person_m2``.

    Returns
    -------
    (ndarray, str)
        Residents per home, and a sentence stating the method for the summary.

    """
    area = floor_area_m2(homes, settings)
    if total is not None:
        if not total >= 0:
            raise InputError(f"population total must be a non-negative number, got {total}")
        share = area / area.sum() if area.sum() > 0 else np.full(area.size, 1 / max(area.size, 1))
        return total * share, f"total of {total:g} spread by floor area (footprint x storeys)"
    per_person = settings.floor_area_per_person_m2
    return area / per_person, f"floor area (footprint x storeys) / {per_person:g} m2 per resident"


def population_from_column(homes: gpd.GeoDataFrame, column: str) -> NDArray[np.float64]:
    """Residents per home from a numeric column; a bad value names its row."""
    if column not in homes:
        raise InputError(
            f"population column {column!r} not found; the homes have: {', '.join(map(str, homes.columns))}"
        )
    values = pd.to_numeric(homes[column], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise InputError(
            f"population column {column!r}, row {int(bad[0]) + 1}: {homes[column].iloc[bad[0]]!r} "
            "is not a non-negative number; fix or remove that row"
        )
    return values


@dataclass(frozen=True)
class _Grid:
    """A north-up raster grid: cell width ``a``, cell height ``e`` (negative), origin ``c``, ``f``."""

    a: float
    e: float
    c: float
    f: float


def _raster_window(src, bounds: NDArray[np.float64]) -> tuple[int, int, int, int] | None:
    """Rows and columns (row0, row1, col0, col1; ends exclusive) of the cells under ``bounds``."""
    t = src.transform
    cols = (bounds[[0, 2]] - t.c) / t.a
    rows = (bounds[[1, 3]] - t.f) / t.e
    col0, col1 = int(np.floor(cols.min())), int(np.floor(cols.max())) + 1
    row0, row1 = int(np.floor(rows.min())), int(np.floor(rows.max())) + 1
    col0, col1 = max(col0, 0), min(col1, src.width)
    row0, row1 = max(row0, 0), min(row1, src.height)
    return (row0, row1, col0, col1) if row0 < row1 and col0 < col1 else None


def _cell_boxes(transform: _Grid, rows: NDArray[np.int64], cols: NDArray[np.int64]) -> NDArray[np.object_]:
    x0 = transform.c + cols * transform.a
    y0 = transform.f + rows * transform.e
    x1, y1 = x0 + transform.a, y0 + transform.e
    return shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1))


def _share_among_points(
    points: NDArray[np.object_], people: NDArray[np.float64], grid: _Grid, shape: tuple[int, int]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Each cell's people divided equally among the points in it; and which cells hold points."""
    height, width = shape
    xy = shapely.get_coordinates(points)
    col = np.floor((xy[:, 0] - grid.c) / grid.a).astype(np.int64)
    row = np.floor((xy[:, 1] - grid.f) / grid.e).astype(np.int64)
    on = (row >= 0) & (row < height) & (col >= 0) & (col < width)
    cell = np.where(on, row * width + col, 0)
    count = np.bincount(cell[on], minlength=people.size)
    return np.where(on, people[cell] / np.maximum(count[cell], 1), 0.0), count > 0


def _share_among_polygons(
    polygons: NDArray[np.object_], people: NDArray[np.float64], grid: _Grid, shape: tuple[int, int]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Each cell's people shared by footprint area inside it; and which cells hold footprint."""
    width = shape[1]
    cells = np.flatnonzero(people > 0)
    boxes = _cell_boxes(grid, cells // width, cells % width)
    shapely.prepare(polygons)
    box_i, home_j = shapely.STRtree(polygons).query(boxes, predicate="intersects")
    overlap = shapely.area(shapely.intersection(boxes[box_i], polygons[home_j]))
    covered = np.bincount(box_i, overlap, minlength=cells.size)
    share = np.divide(overlap, covered[box_i], out=np.zeros_like(overlap), where=covered[box_i] > 0)
    result = np.bincount(home_j, people[cells][box_i] * share, minlength=polygons.size)
    occupied = np.zeros(people.size, dtype=bool)
    occupied[cells[covered > 0]] = True
    return result, occupied


def population_from_raster(
    homes: gpd.GeoDataFrame,
    raster_path: str | Path,
    *,
    study_area_wgs84: shapely.Geometry | None = None,
    band: int = 1,
) -> tuple[NDArray[np.float64], str]:
    """Residents per home from a gridded population raster (WorldPop-style GeoTIFF).

    Each cell holds a number of people. Polygon homes share a cell's people in
    proportion to their footprint area inside that cell (so a building spanning two
    cells takes a share of each, and the homes' total equals the raster's total over
    the cells they occupy). Point homes share their cell's people equally.

    Cells with people but no home are not redistributed: moving their people to homes
    in other cells would put them where the raster says they do not live (possibly
    inside a service area they are not in). Their total is reported in the returned
    sentence so the planner sees how much of the raster the homes miss (usually a few
    per cent where buildings are well mapped; more where mapping is sparse).

    Parameters
    ----------
    homes : GeoDataFrame
        Homes as polygons or as points (not mixed), in any CRS.
    raster_path : str or Path
        A GeoTIFF (or any GDAL raster) of people per cell with a CRS, north-up. Cells
        holding nodata, NaN or a negative value count as empty.
    study_area_wgs84 : shapely geometry, optional
        The study area (WGS-84). Unassigned people are counted over cells whose centre
        lies in it; without it, over the cells under the homes' bounding box.
    band : int
        Raster band holding the counts.

    Returns
    -------
    (ndarray, str)
        Residents per home (float64), and a sentence stating the method with the
        people assigned, the people in cells without homes, and homes off the raster.

    Raises
    ------
    InputFileError
        If the raster is missing or unreadable.
    InputError
        If homes lack a CRS, mix points and polygons, or none lies on the raster; or
        the raster has no CRS or is rotated.

    """
    import rasterio
    from rasterio.windows import Window

    path = Path(raster_path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such population raster; check the path")
    if homes.crs is None:
        raise InputError("homes have no coordinate system; cannot place them on the population raster")
    geoms = homes.geometry.to_numpy()
    kind = shapely.get_type_id(geoms)
    polygonal, points = np.isin(kind, [3, 6]), kind == 0
    bad = np.flatnonzero(~(polygonal | points) | shapely.is_empty(geoms))
    if bad.size:
        raise InputError(f"home row {int(bad[0]) + 1} is neither a point nor a polygon; fix or remove it")
    if polygonal.any() and points.any():
        raise InputError(
            f"homes mix {int(points.sum())} points and {int(polygonal.sum())} polygons; "
            "a population raster is shared among homes of one kind: give buildings or points"
        )
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputFileError(f"{path}: cannot be read as a raster ({exc}); give a GeoTIFF") from None
    with src:
        if src.crs is None:
            raise InputError(f"{path}: the raster has no coordinate system; georeference it (e.g. EPSG:4326)")
        t = src.transform
        if t.b != 0 or t.d != 0:
            raise InputError(f"{path}: the raster is rotated; warp it north-up (gdalwarp) first")
        local = homes.geometry.to_crs(src.crs.to_wkt()).to_numpy()
        bounds = np.asarray(shapely.total_bounds(local), dtype=float)
        area_local = None
        if study_area_wgs84 is not None:
            area_local = gpd.GeoSeries([study_area_wgs84], crs="EPSG:4326").to_crs(src.crs.to_wkt()).iloc[0]
            a = shapely.total_bounds(area_local)
            bounds = np.array(
                [min(bounds[0], a[0]), min(bounds[1], a[1]), max(bounds[2], a[2]), max(bounds[3], a[3])]
            )
        window = _raster_window(src, bounds)
        if window is None:
            raise InputError(
                f"{path}: none of the {len(homes)} homes lies on the raster; check it covers the study area"
            )
        row0, row1, col0, col1 = window
        win = Window(col0, row0, col1 - col0, row1 - row0)
        data = src.read(band, window=win, masked=True).astype(np.float64).filled(0.0)
        raster_bounds = tuple(src.bounds)
    # The window's own grid: same cell size, origin at its top-left cell.
    wt = _Grid(t.a, t.e, t.c + col0 * t.a, t.f + row0 * t.e)
    people = np.where(np.isfinite(data) & (data > 0), data, 0.0).ravel()

    if points.all():
        result, occupied = _share_among_points(local, people, wt, data.shape)
        rule = "people per cell shared equally among the point homes in it"
    else:
        result, occupied = _share_among_polygons(local, people, wt, data.shape)
        rule = "people per cell shared among the buildings in it by footprint area"
    off = int((~shapely.intersects(local, shapely.box(*raster_bounds))).sum())
    width = data.shape[1]

    if off == len(homes):
        raise InputError(
            f"{path}: none of the {len(homes)} homes lies on the raster; check it covers the study area"
        )
    if area_local is not None:
        rr, cc = np.divmod(np.arange(people.size), width)
        centres = shapely.points(wt.c + (cc + 0.5) * wt.a, wt.f + (rr + 0.5) * wt.e)
        counted = shapely.contains(area_local, centres)
        extent = "the study area"
    else:
        counted = np.ones(people.size, dtype=bool)
        extent = "the homes' extent"
    unassigned = float(people[counted & ~occupied].sum())
    total = float(people[counted].sum())
    assigned = float(result.sum())
    pct = 100.0 * unassigned / total if total > 0 else 0.0
    text = (
        f"raster {path.name} ({rule}): {assigned:,.0f} residents assigned to homes; "
        f"{unassigned:,.0f} ({pct:.1f}%) of the {total:,.0f} people the raster puts in {extent} "
        "live in cells without a home and are not counted"
    )
    if off:
        text += f"; {off} home(s) lie outside the raster and get 0"
    return result.astype(np.float64), text
