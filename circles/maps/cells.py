"""Homes summed into H3 hexagons: the share of residents covered, and the residents beyond, per cell.

At city scale single homes cannot be told apart, and a layer of "cells with any gap" paints a
mostly covered city red. The cells instead carry the population-weighted share within the
threshold (a mostly covered city looks mostly green), and a dot per cell whose area grows with
the residents beyond the threshold (a few uncovered residents make a small dot, never a red cell).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.maps.encode import Display, encode_points, encode_polygons
from circles.maps.style import (
    HEX_SHARE_CLASSES,
    NO_RESIDENTS_COLOUR,
    UNCOVERED_DOT_COLOUR,
    share_class,
)

#: H3 resolutions tried for the hexagon grid, finest first (about 130 m to 17 km across).
HEX_RESOLUTIONS = (10, 9, 8, 7, 6, 5)
#: Wanted width of a hexagon on screen at every zoom level, pixels.
TARGET_CELL_PX = 22.0


def surface_points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points as they are, other shapes by a point on their surface.

    Parameters
    ----------
    geoms : GeoSeries
    """
    pts = np.where(geoms.geom_type == "Point", geoms.values, geoms.representative_point().values)
    return gpd.GeoSeries(pts, crs=geoms.crs)


def _fine_cells(
    homes: gpd.GeoDataFrame, points: gpd.GeoSeries | None = None
) -> tuple[np.ndarray, np.ndarray, gpd.GeoDataFrame, gpd.GeoSeries]:
    """The finest cells holding homes, each home's cell, the homes and their points in WGS-84."""
    import h3

    wgs = homes.to_crs("EPSG:4326") if homes.crs is not None else homes
    pts = surface_points(wgs.geometry) if points is None else points
    finest = HEX_RESOLUTIONS[0]
    lon_lat = zip(pts.x.tolist(), pts.y.tolist(), strict=True)
    fine = np.array([h3.latlng_to_cell(lat, lon, finest) for lon, lat in lon_lat], dtype=object)
    cells, home_cell = np.unique(fine.astype(str), return_inverse=True)
    return cells, home_cell.reshape(-1), wgs, pts


def _coarser(cells: np.ndarray, home_cell: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    import h3

    parents = np.array([h3.cell_to_parent(c, resolution) for c in cells.tolist()])
    coarse, parent_of = np.unique(parents, return_inverse=True)
    return coarse, parent_of.reshape(-1)[home_cell]


def _table(
    cells: np.ndarray, home_cell: np.ndarray, resolution: int, wgs: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    import h3

    pop = np.asarray(wgs["population"], dtype=float)
    covered = np.asarray(wgs["covered"], dtype=bool)
    n = len(cells)
    table = pd.DataFrame(
        {
            "h3_cell": cells,
            "homes": np.bincount(home_cell, minlength=n),
            "population": np.bincount(home_cell, weights=pop, minlength=n),
            "covered_homes": np.bincount(home_cell, weights=covered, minlength=n).astype(int),
            "covered_population": np.bincount(home_cell, weights=np.where(covered, pop, 0.0), minlength=n),
        }
    )
    table.insert(1, "resolution", resolution)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["covered_share"] = np.where(
            table["population"] > 0, table["covered_population"] / table["population"], np.nan
        )
    polygons = [
        shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in table["h3_cell"]
    ]
    return gpd.GeoDataFrame(table, geometry=polygons, crs="EPSG:4326")


def aggregate_hexes(homes: gpd.GeoDataFrame, *, max_cells: int) -> gpd.GeoDataFrame:
    """Sum homes into H3 hexagons, at the finest resolution giving at most ``max_cells`` cells.

    Parameters
    ----------
    homes : GeoDataFrame
        Homes in any CRS with ``covered`` (bool) and ``population`` columns; polygons
        count at a point on their surface.
    max_cells : int
        Largest number of hexagons wanted; resolutions 10 (about 130 m across) to 5
        (about 17 km) are tried, finest first, and the coarsest is used if none fits.

    Returns
    -------
    GeoDataFrame
        One row per occupied hexagon, sorted by cell id, in WGS-84: ``h3_cell``,
        ``resolution``, ``homes``, ``population``, ``covered_homes``,
        ``covered_population``, ``covered_share`` (population-weighted; NaN where the
        hexagon has no residents) and the hexagon polygon.

    """
    cells, home_cell, wgs, _ = _fine_cells(homes)
    resolution = HEX_RESOLUTIONS[0]
    for resolution in HEX_RESOLUTIONS:
        if resolution != HEX_RESOLUTIONS[0]:
            cells, home_cell = _coarser(cells, home_cell, resolution)
        if len(cells) <= max_cells:
            break
    return _table(cells, home_cell, resolution, wgs)


def hex_levels(
    homes: gpd.GeoDataFrame,
    *,
    below_zoom: int,
    max_cells: int,
    target_px: float = TARGET_CELL_PX,
    points: gpd.GeoSeries | None = None,
) -> list[tuple[int, int, gpd.GeoDataFrame]]:
    """Hexagon grids for every zoom level below ``below_zoom``, each about ``target_px`` across.

    Parameters
    ----------
    homes : GeoDataFrame
        As for :func:`aggregate_hexes`.
    below_zoom : int
        The zoom from which single homes are drawn instead.
    max_cells : int
        Most hexagons in one grid (finer grids with more are not used).
    target_px : float
        Wanted width of a hexagon on screen, pixels.
    points : GeoSeries, optional
        A point per home in WGS-84 (default: a point on the surface of each).

    Returns
    -------
    list of (min_zoom, max_zoom, GeoDataFrame)
        Coarsest grid first; each is shown from ``min_zoom`` up to, not including, ``max_zoom``.
    """
    import h3

    cells, home_cell, wgs, pts = _fine_cells(homes, points)
    grids = {}
    for resolution in HEX_RESOLUTIONS:
        if resolution != HEX_RESOLUTIONS[0]:
            cells, home_cell = _coarser(cells, home_cell, resolution)
        if len(cells) <= max_cells or resolution == HEX_RESOLUTIONS[-1]:
            grids[resolution] = (cells, home_cell)
    lat = float(np.nanmean(pts.y)) if len(wgs) else 0.0
    m_per_px = 156543.03392 * np.cos(np.radians(lat)) / 2.0 ** np.arange(below_zoom)
    width_m = {r: 2 * h3.average_hexagon_edge_length(r, unit="m") for r in grids}
    pick = [
        min(grids, key=lambda r, z=z: abs(np.log(width_m[r] / m_per_px[z] / target_px)))
        for z in range(below_zoom)
    ]
    levels = []
    for z, r in enumerate(pick):
        if levels and levels[-1][0] == r:
            levels[-1][2] = z + 1
        else:
            levels.append([r, z, z + 1])
    return [(lo, hi, _table(*grids[r], r, wgs)) for r, lo, hi in levels]


def cell_specs(hexes: gpd.GeoDataFrame, threshold_min: float, display: Display) -> tuple[dict, dict]:
    """The page's cell layer (share covered) and dot layer (residents beyond) from :func:`aggregate_hexes`.

    Parameters
    ----------
    hexes : GeoDataFrame
        From :func:`aggregate_hexes`.
    threshold_min : float
    display : Display

    Returns
    -------
    (dict, dict)
        Specs of the two layers for :class:`circles.maps.layers.DataLayer`.
    """
    import h3

    share = hexes["covered_share"].to_numpy(dtype=float)
    pop = hexes["population"].to_numpy(dtype=float)
    uncovered = pop - hexes["covered_population"].to_numpy(dtype=float)
    props = {
        "s": share_class(share).tolist(),
        "pct": np.where(np.isnan(share), -1, np.floor(100 * np.nan_to_num(share))).astype(int).tolist(),
        "homes": hexes["homes"].astype(int).tolist(),
        "res": np.round(pop).astype(int).tolist(),
        "unc": np.round(uncovered).astype(int).tolist(),
    }
    within, beyond = f"within {threshold_min:g} min", f"beyond {threshold_min:g} min"
    rows = [["homes", "homes", "int"], ["residents", "res", "int"], [within, "pct", "pct"]]
    rows.append([f"residents {beyond}", "unc", "int"])
    cells = {
        "id": "cells",
        "kind": "polygon",
        "pane": "cells",
        "geom": encode_polygons(hexes.geometry.values, display),
        "style": {"color": "#ffffff", "weight": 0.5, "fillOpacity": 0.55},
        "keepStroke": True,
        "colourBy": "s",
        "colours": [c for _low, _label, c in HEX_SHARE_CLASSES] + [NO_RESIDENTS_COLOUR],
        "props": props,
        "popup": {"rows": rows},
    }
    edge_m = h3.average_hexagon_edge_length(int(hexes["resolution"].iloc[0]), unit="m") if len(hexes) else 0.0
    has = uncovered > 0.5
    largest = float(uncovered[has].max()) if has.any() else 1.0
    centres = shapely.get_coordinates(shapely.centroid(hexes.geometry.values[has]))
    dots = {
        "id": "uncovered",
        "kind": "dot",
        "pane": "cells",
        "geom": encode_points(centres, display),
        "style": {"color": "#ffffff", "weight": 1, "fillColor": UNCOVERED_DOT_COLOUR, "fillOpacity": 0.8},
        "props": {
            "radius_m": np.round(0.85 * edge_m * np.sqrt(uncovered[has] / largest), 1).tolist(),
            "unc": np.round(uncovered[has]).astype(int).tolist(),
            "res": np.round(pop[has]).astype(int).tolist(),
        },
        "popup": {"rows": [[f"residents {beyond}", "unc", "int"], ["of residents", "res", "int"]]},
        "largest": round(largest),
    }
    return cells, dots


def level_specs(
    levels: list[tuple[int, int, gpd.GeoDataFrame]], threshold_min: float, display: Display
) -> tuple[dict, dict]:
    """Cell and dot layers holding one grid per zoom range (from :func:`hex_levels`).

    Parameters
    ----------
    levels : list
        From :func:`hex_levels`.
    threshold_min : float
    display : Display
    """
    cells, dots = [], []
    for lo, hi, grid in levels:
        c, d = cell_specs(grid, threshold_min, display)
        cells.append({**c, "minZoom": lo, "maxZoom": hi})
        dots.append({**d, "minZoom": lo, "maxZoom": hi})
    return {"id": "cells", "kind": "levels", "levels": cells}, {
        "id": "uncovered",
        "kind": "levels",
        "levels": dots,
    }
