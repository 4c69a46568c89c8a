"""Coordinates, geometries and GeoDataFrames from any supported system to WGS-84.

A system is anything :func:`circles.sources.coords.parse_coordinate_system` accepts:
``"wgs84"``, ``"gcj02"`` (Amap, Tencent), ``"bd09"`` (Baidu) or any pyproj CRS.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from circles.crs import WGS84 as WGS84_CRS
from circles.errors import InputError
from circles.sources.coords import (
    BD09,
    GCJ02,
    WGS84,
    _as_float_arrays,
    bd09_to_wgs84,
    gcj02_to_wgs84,
    parse_coordinate_system,
)

__all__ = ["frame_to_wgs84", "to_wgs84_lonlat", "transform_geometries"]


def _converter(
    source: str | int | pyproj.CRS,
) -> Callable[[NDArray[np.float64], NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """A vectorised (lon/x, lat/y) -> WGS-84 (lon, lat) function for a source system."""
    system = parse_coordinate_system(source)
    if system == WGS84:
        return lambda x, y: (x.copy(), y.copy())
    if system == GCJ02:
        return gcj02_to_wgs84
    if system == BD09:
        return bd09_to_wgs84
    transformer = pyproj.Transformer.from_crs(system, WGS84_CRS, always_xy=True)

    def with_pyproj(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        lon, lat = transformer.transform(x, y, errcheck=False)
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        bad = ~(np.isfinite(lon) & np.isfinite(lat))
        return np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)

    return with_pyproj


def to_wgs84_lonlat(
    lon: ArrayLike, lat: ArrayLike, source: str | int | pyproj.CRS
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert coordinates in any supported system to WGS-84 longitude/latitude.

    Parameters
    ----------
    lon, lat : array_like
        Longitude/latitude in degrees, or easting/northing (x/y) for a projected CRS.
    source : str, int or pyproj.CRS
        The coordinate system of the input, anything :func:`parse_coordinate_system`
        accepts: ``"wgs84"``, ``"gcj02"``, ``"bd09"``, ``"EPSG:4490"``, ``"EPSG:32650"``...

    Returns
    -------
    lon, lat : ndarray
        WGS-84 degrees (float64). Points a projection cannot map come back as NaN.

    Raises
    ------
    InputError
        If ``source`` is not a known coordinate system.

    """
    lon_arr, lat_arr = _as_float_arrays(lon, lat)
    return _converter(source)(lon_arr, lat_arr)


def transform_geometries(geoms: ArrayLike, source: str | int | pyproj.CRS) -> NDArray[np.object_]:
    """Convert shapely geometries from any supported system to WGS-84.

    Parameters
    ----------
    geoms : array_like of shapely.Geometry
        Geometries (None and empty geometries pass through).
    source : str, int or pyproj.CRS
        Their coordinate system, as for :func:`to_wgs84_lonlat`.

    Returns
    -------
    ndarray of shapely.Geometry
        The same geometries with WGS-84 longitude/latitude coordinates.

    """
    convert = _converter(source)

    def transform_xy(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = convert(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(np.asarray(geoms, dtype=object), transform_xy), dtype=object)


def frame_to_wgs84(gdf: gpd.GeoDataFrame, source: str | int | pyproj.CRS | None = None) -> gpd.GeoDataFrame:
    """Return a copy of a GeoDataFrame in WGS-84 (EPSG:4326).

    Parameters
    ----------
    gdf : GeoDataFrame
        The frame to convert.
    source : str, int, pyproj.CRS or None
        The coordinate system its coordinates are really in. None uses the frame's own
        CRS. ``"gcj02"``/``"bd09"`` mean longitude/latitude on those Chinese datums; if the
        frame declares a projected CRS (e.g. web Mercator of GCJ-02 tiles), it is first
        unprojected to longitude/latitude. Any other CRS overrides the declared one.

    Returns
    -------
    GeoDataFrame
        A copy with CRS EPSG:4326.

    Raises
    ------
    InputError
        If ``source`` is None and the frame has no CRS, or ``source`` is unknown.

    """
    if source is None:
        if gdf.crs is None:
            raise InputError(
                "the geometries have no coordinate system",
                parameter="crs",
                fix="state it as `crs` (e.g. wgs84, gcj02 or EPSG:32650)",
            )
        return gdf.to_crs(WGS84_CRS)
    system = parse_coordinate_system(source)
    if system in (GCJ02, BD09):
        lonlat = gdf if gdf.crs is None else gdf.to_crs(WGS84_CRS)
        out = lonlat.set_crs(WGS84_CRS, allow_override=True)
        out[out.geometry.name] = gpd.GeoSeries(
            transform_geometries(out.geometry.array, system), index=out.index, crs=WGS84_CRS
        )
        return out
    if system == WGS84:
        return gdf.set_crs(WGS84_CRS, allow_override=True)
    return gdf.set_crs(system, allow_override=True).to_crs(WGS84_CRS)
