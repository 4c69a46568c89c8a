"""Coordinates of a planner's rows: found, checked and converted to WGS-84.

Checks (every bad row collected into the reader's :class:`~circles.sources.problems.Problems`):
missing or non-numeric coordinates, longitude and latitude swapped (per row, or the
whole file when every latitude looks like a Chinese longitude), values out of range
(projected metres read as degrees), points a coordinate conversion cannot map, and
features without geometry.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray

from circles.crs import WGS84_CODE
from circles.errors import InputError
from circles.sources.columns import (
    LAT_NAMES,
    LOCATION_NAMES,
    LON_NAMES,
    attribute_columns,
    find_column,
    text_values,
)
from circles.sources.convert import frame_to_wgs84, to_wgs84_lonlat
from circles.sources.coords import BD09, GCJ02, WGS84, parse_coordinate_system
from circles.sources.problems import Problems, columns_text, rows_text

__all__ = ["locate", "numeric_column", "numeric_values", "resolve_crs"]

_SWAP_FIX = "name the columns with `lon_column` and `lat_column`"
_GEOMETRY_SWAP_FIX = "export the geometry again with coordinates in x=longitude, y=latitude order"


def resolve_crs(crs: str | int | pyproj.CRS | None) -> str | None:
    """The caller's coordinate system normalised (``"gcj02"``, ``"EPSG:32650"``), or None."""
    if crs is None:
        return None
    try:
        return parse_coordinate_system(crs)
    except InputError as exc:
        raise InputError(exc.what, parameter="crs", fix=exc.fix) from exc


def _is_geographic(system: str) -> bool:
    return system in (WGS84, GCJ02, BD09) or pyproj.CRS.from_user_input(system).is_geographic


def numeric_values(series: pd.Series) -> NDArray[np.float64]:
    """A column as float64, NaN where blank, not a number or not finite (typographic minus read)."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = text_values(series).str.replace("\u2212", "-", regex=False)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _xy_from_location(series: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    parts = text_values(series).str.split(",", n=1, expand=True, regex=False)
    if parts.shape[1] < 2:
        nan = np.full(len(series), np.nan)
        return nan, nan.copy()
    return numeric_values(parts[0]), numeric_values(parts[1])


def _table_xy(
    frame: pd.DataFrame, lon_column: str | None, lat_column: str | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    """Raw x/y values from the table, and a description of where they came from."""
    lon_col = find_column(frame, lon_column, LON_NAMES, "lon_column")
    lat_col = find_column(frame, lat_column, LAT_NAMES, "lat_column")
    if lon_col is not None and lat_col is not None:
        if lon_col == lat_col:
            raise InputError(
                f"longitude and latitude are both column {lon_col!r}",
                parameter="lon_column",
                fix="name two different columns as `lon_column` and `lat_column`",
            )
        return (
            numeric_values(frame[lon_col]),
            numeric_values(frame[lat_col]),
            f"columns {lon_col!r}/{lat_col!r}",
        )
    if lon_column is None and lat_column is None:
        location = find_column(frame, None, LOCATION_NAMES, "")
        if location is not None:
            x, y = _xy_from_location(frame[location])
            return x, y, f"column {location!r} ('lng,lat')"
    raise InputError(
        f"no longitude/latitude columns found; the columns are {columns_text(attribute_columns(frame))}",
        parameter="lon_column",
        fix="name them with `lon_column` and `lat_column`",
    )


def check_lonlat(
    problems: Problems,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    rows: NDArray[np.int64],
    unit: str,
    where: str,
    *,
    geographic: bool,
    swap_fix: str = _SWAP_FIX,
) -> None:
    """Record missing values, out-of-range and swapped longitude/latitude, rows listed."""
    missing = np.isnan(x) | np.isnan(y)
    if missing.any():
        problems.add(
            f"{rows_text(rows[missing], unit)}: missing or non-numeric coordinate in {where}",
            fix="fill in or delete those rows",
        )
    if not geographic:
        return
    ok = ~missing
    # Whole-file check: every latitude looks like a Chinese longitude and vice versa.
    if ok.any() and np.all((y[ok] >= 73) & (y[ok] <= 135) & (x[ok] >= 18) & (x[ok] <= 54)):
        problems.add(
            f"latitudes in {where} lie in 73..135 and longitudes in 18..54: looks like longitude "
            "and latitude are swapped",
            parameter="lon_column" if swap_fix == _SWAP_FIX else None,
            fix=swap_fix,
        )
        return
    swapped = ok & (np.abs(y) > 90) & (np.abs(y) <= 180) & (np.abs(x) <= 90)
    if swapped.any():
        problems.add(
            f"{rows_text(rows[swapped], unit)}: latitude beyond ±90 with longitude within ±90: looks like "
            "longitude and latitude are swapped",
            parameter="lon_column" if swap_fix == _SWAP_FIX else None,
            fix=swap_fix,
        )
    out_of_range = ok & ~swapped & ((np.abs(y) > 90) | (np.abs(x) > 180))
    if out_of_range.any():
        problems.add(
            f"{rows_text(rows[out_of_range], unit)}: longitude/latitude out of range (|lon| <= 180, "
            "|lat| <= 90)",
            parameter="crs",
            fix="if the coordinates are projected metres, state the `crs` (e.g. EPSG:32650)",
        )


def _finite_geometries(geoms: NDArray[np.object_]) -> NDArray[np.bool_]:
    """True where a geometry exists, is not empty and all its coordinates are finite."""
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    ok[index[~np.isfinite(coords).all(axis=1)]] = False
    return ok


def _repaired(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Invalid polygons made valid (``make_valid``); points and valid shapes unchanged."""
    out = geoms.copy()
    broken = ~shapely.is_valid(geoms) & (shapely.get_type_id(geoms) != shapely.GeometryType.POINT)
    if broken.any():
        out[broken] = shapely.make_valid(geoms[broken])
    return out


def _representative_points(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Points unchanged; other shapes reduced to a point on their surface."""
    out = geoms.copy()
    shapes = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if shapes.any():
        out[shapes] = shapely.point_on_surface(geoms[shapes])
    return out


def _uses_columns(frame: pd.DataFrame, lon_column: str | None, lat_column: str | None) -> bool:
    if not isinstance(frame, gpd.GeoDataFrame) or lon_column is not None or lat_column is not None:
        return True
    if not frame.geometry.isna().all():
        return False
    return bool(find_column(frame, None, LON_NAMES, "") and find_column(frame, None, LAT_NAMES, ""))


def _points_from_columns(
    problems: Problems,
    frame: pd.DataFrame,
    system: str | None,
    lon_column: str | None,
    lat_column: str | None,
    unit: str,
) -> NDArray[np.object_]:
    rows = frame["source_row"].to_numpy(dtype=np.int64)
    source = system or WGS84
    x, y, where = _table_xy(frame, lon_column, lat_column)
    check_lonlat(problems, x, y, rows, unit, where, geographic=_is_geographic(source))
    lon, lat = to_wgs84_lonlat(x, y, source)
    failed = ~np.isnan(x) & (np.isnan(lon) | np.isnan(lat))
    if failed.any():
        problems.add(
            f"{rows_text(rows[failed], unit)}: cannot be converted from {source} to WGS-84",
            parameter="crs",
            fix="check the coordinate system given as `crs`",
        )
    return np.where(np.isnan(lon) | np.isnan(lat), None, shapely.points(lon, lat))


def _from_geometry(
    problems: Problems, frame: gpd.GeoDataFrame, system: str | None, keep_shapes: bool
) -> NDArray[np.object_]:
    rows = frame["source_row"].to_numpy(dtype=np.int64)
    geoms = frame.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        problems.add(f"{rows_text(rows[empty], 'feature')}: no geometry", fix="fix or delete those features")
    if keep_shapes:
        lines = ~empty & np.isin(shapely.get_type_id(geoms), [1, 2, 5, 7])  # lines, rings, collections
        if lines.any():
            problems.add(
                f"{rows_text(rows[lines], 'feature')}: homes must be points or polygons, "
                "not lines or collections"
            )
    declared = gpd.GeoDataFrame(frame[[]], geometry=geoms, crs=frame.crs)
    if frame.crs is None and system is None:
        declared = declared.set_crs(WGS84_CODE)
    converted = frame_to_wgs84(declared, system).geometry.to_numpy()
    usable = _finite_geometries(converted)
    bad_xy = ~empty & ~usable
    if bad_xy.any():
        problems.add(
            f"{rows_text(rows[bad_xy], 'feature')}: cannot be converted to WGS-84",
            parameter="crs",
            fix="check the coordinate system (`crs`)",
        )
    out = np.full(len(converted), None, dtype=object)
    out[usable] = _repaired(converted[usable])
    points = _representative_points(out[usable])
    if not keep_shapes:
        out[usable] = points
    check_lonlat(
        problems,
        shapely.get_x(points).astype(np.float64),
        shapely.get_y(points).astype(np.float64),
        rows[usable],
        "feature",
        "the geometry",
        geographic=True,
        swap_fix=_GEOMETRY_SWAP_FIX,
    )
    return out


def locate(
    problems: Problems,
    frame: pd.DataFrame,
    *,
    system: str | None,
    lon_column: str | None,
    lat_column: str | None,
    keep_shapes: bool,
) -> NDArray[np.object_]:
    """WGS-84 geometries for each row (None where unusable); problems go to ``problems``.

    Parameters
    ----------
    problems : Problems
    frame : DataFrame or GeoDataFrame
        With a ``source_row`` column.
    system : str, optional
        Normalised coordinate system (:func:`resolve_crs`); None: WGS-84 for tables,
        the file's CRS for geometry files.
    lon_column, lat_column : str, optional
        Coordinate columns (tables, or instead of a geometry).
    keep_shapes : bool
        Keep polygons (homes); otherwise every geometry becomes a point.

    Returns
    -------
    ndarray of shapely geometries or None
    """
    if _uses_columns(frame, lon_column, lat_column):
        unit = "feature" if isinstance(frame, gpd.GeoDataFrame) else "data row"
        return _points_from_columns(problems, frame, system, lon_column, lat_column, unit)
    return _from_geometry(problems, frame, system, keep_shapes)


def numeric_column(
    problems: Problems, frame: pd.DataFrame, column: str, what: str, unit: str, *, required: bool
) -> NDArray[np.float64]:
    """A non-negative numeric column (capacity, population); bad rows recorded."""
    rows = frame["source_row"].to_numpy(dtype=np.int64)
    values = numeric_values(frame[column])
    blank = (text_values(frame[column]) == "").to_numpy(dtype=bool)
    bad = np.isnan(values) & (~blank | required)
    if bad.any():
        fix = (
            "fill in a number (0 if none) or delete those rows" if required else "use numbers or leave blank"
        )
        problems.add(f"{rows_text(rows[bad], unit)}: {what} in column {column!r} is not a number", fix=fix)
    negative = values < 0
    if negative.any():
        problems.add(f"{rows_text(rows[negative], unit)}: {what} in column {column!r} is negative")
    return values
