"""Residents per home from a gridded population raster (WorldPop-style GeoTIFF).

rasterio is an optional extra (``pip install 'circles[raster]'``), imported only here and
only when a raster is read; without it the reader says so in one line.

A raster whose cells under the study area hold no people (all nodata, NaN, zero or
negative) is an error, not "0 residents"; NaN or negative cells among valid ones count
as empty and are reported in the method sentence and logged as a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from circles.crs import WGS84_CODE
from circles.errors import CirclesError, InputError, InputFileError, error_scope
from circles.sources.geo import check_input_file
from circles.sources.problems import detail

__all__ = ["population_from_raster"]

_LOG = logging.getLogger("circles.sources")
#: Scope of the errors: the CLI maps ``raster_path`` and ``band`` of the population input.
SCOPE = "population"
INSTALL_HINT = "pip install 'circles[raster]'"


def _rasterio():
    try:
        import rasterio
        import rasterio.errors
        import rasterio.windows
    except ImportError:
        raise CirclesError(
            "reading a population raster needs rasterio, which is not installed",
            parameter="raster_path",
            fix=f"install it with {INSTALL_HINT}",
            scope=SCOPE,
        ) from None
    return rasterio


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


def _all_points(homes: gpd.GeoDataFrame) -> bool:
    """Whether the homes are all points (else all polygons); other kinds are an error."""
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
    return bool(points.all())


@dataclass(frozen=True)
class _Window:
    """The raster cells under the homes and study area, in the raster's CRS."""

    data: np.ma.MaskedArray
    grid: _Grid
    raster_bounds: tuple[float, float, float, float]
    homes_local: NDArray[np.object_]
    area_local: shapely.Geometry | None


def _read_window(
    src, path: Path, homes: gpd.GeoDataFrame, area: shapely.Geometry | None, band: int
) -> _Window:
    rasterio = _rasterio()
    if src.crs is None:
        raise InputError("the raster has no coordinate system", fix="georeference it (e.g. EPSG:4326)")
    t = src.transform
    if t.b != 0 or t.d != 0:
        raise InputError("the raster is rotated", fix="warp it north-up (gdalwarp) first")
    if not 1 <= band <= src.count:
        raise InputError(f"the raster has {src.count} band(s), not band {band}", parameter="band")
    local = homes.geometry.to_crs(src.crs.to_wkt()).to_numpy()
    bounds = np.asarray(shapely.total_bounds(local), dtype=float)
    area_local = None
    if area is not None:
        area_local = gpd.GeoSeries([area], crs=WGS84_CODE).to_crs(src.crs.to_wkt()).iloc[0]
        a = shapely.total_bounds(area_local)
        bounds = np.array(
            [min(bounds[0], a[0]), min(bounds[1], a[1]), max(bounds[2], a[2]), max(bounds[3], a[3])]
        )
    window = _raster_window(src, bounds)
    if window is None:
        raise InputError(f"none of the {len(homes)} homes lies on the raster; check it covers the study area")
    row0, row1, col0, col1 = window
    win = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0)
    data = src.read(band, window=win, masked=True).astype(np.float64)
    grid = _Grid(t.a, t.e, t.c + col0 * t.a, t.f + row0 * t.e)
    return _Window(data, grid, tuple(src.bounds), local, area_local)


def _people(data: np.ma.MaskedArray, path: Path) -> tuple[NDArray[np.float64], str]:
    """People per cell (0 where nodata, NaN or negative), and a note on NaN/negative cells."""
    values = data.filled(np.nan)
    nodata = np.ma.getmaskarray(data)
    nan = ~nodata & np.isnan(values)
    negative = ~nodata & (values < 0)
    people = np.where(np.isfinite(values) & (values > 0), values, 0.0).ravel()
    counts = f"{int(nodata.sum()):,} nodata, {int(nan.sum()):,} NaN, {int(negative.sum()):,} negative"
    if not (people > 0).any():
        raise InputError(
            f"the raster holds no people under the homes and study area: all {values.size:,} cells "
            f"there are nodata, NaN, zero or negative ({counts})",
            parameter="raster_path",
            fix="give a population-count raster (people per cell) that covers the study area",
        )
    note = ""
    if nan.any() or negative.any():
        note = f"{int(nan.sum()):,} NaN and {int(negative.sum()):,} negative cell(s) counted as empty"
        _LOG.warning("%s: %s", path, note)
    return people, note


def _assigned_text(path: Path, window: _Window, people, result, occupied, rule: str, n_homes: int) -> str:
    off = int((~shapely.intersects(window.homes_local, shapely.box(*window.raster_bounds))).sum())
    if off == n_homes:
        raise InputError(f"none of the {n_homes} homes lies on the raster; check it covers the study area")
    g, width = window.grid, window.data.shape[1]
    if window.area_local is not None:
        rr, cc = np.divmod(np.arange(people.size), width)
        centres = shapely.points(g.c + (cc + 0.5) * g.a, g.f + (rr + 0.5) * g.e)
        counted, extent = shapely.contains(window.area_local, centres), "the study area"
    else:
        counted, extent = np.ones(people.size, dtype=bool), "the homes' extent"
    unassigned = float(people[counted & ~occupied].sum())
    total = float(people[counted].sum())
    pct = 100.0 * unassigned / total if total > 0 else 0.0
    text = (
        f"raster {path.name} ({rule}): {float(result.sum()):,.0f} residents assigned to homes; "
        f"{unassigned:,.0f} ({pct:.1f}%) of the {total:,.0f} people the raster puts in {extent} "
        "live in cells without a home and are not counted"
    )
    return text + (f"; {off} home(s) lie outside the raster and get 0" if off else "")


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
        holding nodata, NaN or a negative value count as empty (NaN and negative ones
        are reported); a raster with no people at all under the area is an error.
    study_area_wgs84 : shapely geometry, optional
        The study area (WGS-84). Unassigned people are counted over cells whose centre
        lies in it; without it, over the cells under the homes' bounding box.
    band : int
        Raster band holding the counts (1-based).

    Returns
    -------
    (ndarray, str)
        Residents per home (float64), and a sentence stating the method with the
        people assigned, the people in cells without homes, homes off the raster, and
        cells counted as empty because they were NaN or negative.

    Raises
    ------
    CirclesError
        If rasterio is not installed (``pip install 'circles[raster]'``).
    InputFileError
        If the raster is missing, a folder or unreadable.
    InputError
        If homes lack a CRS, mix points and polygons, or none lies on the raster; if
        the raster has no CRS, is rotated, lacks the band, or holds no people.
    """
    path = Path(raster_path)
    rasterio = _rasterio()
    with error_scope(SCOPE):
        check_input_file(path, "population raster")
        all_points = _all_points(homes)
    try:
        try:
            src = rasterio.open(path)
        except rasterio.errors.RasterioIOError as exc:
            raise InputFileError(
                f"cannot be read as a raster ({detail(exc, path)})", fix="give a GeoTIFF"
            ) from None
        with src:
            window = _read_window(src, path, homes, study_area_wgs84, band)
        people, note = _people(window.data, path)
    except CirclesError as exc:
        exc.where = exc.where or str(path)
        exc.scope = exc.scope or SCOPE
        raise
    shape = window.data.shape
    if all_points:
        result, occupied = _share_among_points(window.homes_local, people, window.grid, shape)
        rule = "people per cell shared equally among the point homes in it"
    else:
        result, occupied = _share_among_polygons(window.homes_local, people, window.grid, shape)
        rule = "people per cell shared among the buildings in it by footprint area"
    try:
        text = _assigned_text(path, window, people, result, occupied, rule, len(homes))
    except CirclesError as exc:
        exc.where, exc.scope = str(path), SCOPE
        raise
    return result.astype(np.float64), text + (f"; {note}" if note else "")
