"""Chinese map coordinate systems (GCJ-02, BD-09) and any pyproj CRS to WGS-84.

Facility lists copied from Amap (高德) or Tencent (腾讯) maps are in GCJ-02, the
obfuscated "Mars" datum mandated for maps published in China; lists from Baidu (百度)
are in BD-09, a further distortion of GCJ-02. In Shenzhen GCJ-02 is about 550 m off
WGS-84, enough to ruin a 15-minute walk analysis, so inputs are converted on read.

GCJ-02 is the widely published closed-form forward transform (WGS-84 -> GCJ-02, Krasovsky
ellipsoid constants); points outside the usual China box (longitude 73.66-135.05,
latitude 3.86-53.55) are left unchanged, as every implementation of the standard
algorithm does. The inverse has no closed form: it is solved by fixed-point iteration of
the forward transform until the residual is below 1e-9 degrees (about 0.1 mm), not by the
common one-step approximation, which is off by up to about 4 m. BD-09 <-> GCJ-02 uses
Baidu's published polar formula; its inverse is refined the same way.

All functions are vectorised over numpy arrays; NaN coordinates stay NaN. Converting
whole arrays, geometries and GeoDataFrames from any of these systems (or any pyproj CRS)
to WGS-84 is :mod:`circles.sources.convert`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from circles.crs import WGS84 as WGS84_CRS
from circles.errors import InputError

__all__ = [
    "BD09",
    "GCJ02",
    "WGS84",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "parse_coordinate_system",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: Normalised names returned by :func:`parse_coordinate_system`.
WGS84 = "wgs84"
GCJ02 = "gcj02"
BD09 = "bd09"


# Constants of the published GCJ-02 algorithm: Krasovsky 1940 semi-major axis (m) and
# first eccentricity squared.
_GCJ_A_M = 6378245.0
_GCJ_EE = 0.00669342162296594323
# Bounding box outside which GCJ-02 is the identity (degrees).
_CHINA_LON = (73.66, 135.05)
_CHINA_LAT = (3.86, 53.55)
# Baidu's BD-09 constants: angular frequency and offsets (degrees).
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

#: Stop refining an inverse when the largest residual is below this, degrees (~0.1 mm).
INVERSE_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30

_ALIASES: dict[str, str] = {
    "wgs84": WGS84,
    "wgs1984": WGS84,
    "gps": WGS84,
    "osm": WGS84,
    "epsg4326": WGS84,
    "4326": WGS84,
    "crs84": WGS84,
    "ogccrs84": WGS84,
    "gcj02": GCJ02,
    "gcj": GCJ02,
    "gcj02ll": GCJ02,
    "mars": GCJ02,
    "amap": GCJ02,
    "gaode": GCJ02,
    "autonavi": GCJ02,
    "tencent": GCJ02,
    "qq": GCJ02,
    "火星": GCJ02,
    "火星坐标": GCJ02,
    "高德": GCJ02,
    "腾讯": GCJ02,
    "国测局": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,
    "baidu": BD09,
    "百度": BD09,
}

_ACCEPTED = (
    "wgs84 (GPS, OpenStreetMap), gcj02 (Amap/高德, Tencent/腾讯), bd09 (Baidu/百度) "
    "or an EPSG code such as EPSG:4490 or EPSG:32650"
)


def _as_float_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    if lon_arr.shape != lat_arr.shape:
        raise ValueError(f"lon and lat differ in shape: {lon_arr.shape} vs {lat_arr.shape}")
    return lon_arr, lat_arr


def _in_china(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (lon > _CHINA_LON[0]) & (lon < _CHINA_LON[1]) & (lat > _CHINA_LAT[0]) & (lat < _CHINA_LAT[1])


def _inside_china_only(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    new_lon: NDArray[np.float64],
    new_lat: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Converted coordinates inside the China box, the input outside; NaN if either is NaN."""
    inside = _in_china(lon, lat)
    missing = np.isnan(lon) | np.isnan(lat)
    out_lon = np.where(missing, np.nan, np.where(inside, new_lon, lon))
    out_lat = np.where(missing, np.nan, np.where(inside, new_lat, lat))
    return out_lon, out_lat


def _gcj_offset_deg(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 minus WGS-84 at WGS-84 points (degrees), ignoring the China box."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat_deg = dlat * 180.0 / ((_GCJ_A_M * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon_deg = dlon * 180.0 / (_GCJ_A_M / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon_deg, dlat_deg


def _invert(
    forward: Callable[
        [NDArray[np.float64], NDArray[np.float64]], tuple[NDArray[np.float64], NDArray[np.float64]]
    ],
    target_lon: NDArray[np.float64],
    target_lat: NDArray[np.float64],
    start_lon: NDArray[np.float64],
    start_lat: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``forward(lon, lat) == target`` by fixed-point iteration from a start guess."""
    lon, lat = start_lon.copy(), start_lat.copy()
    for _ in range(_MAX_ITERATIONS):
        got_lon, got_lat = forward(lon, lat)
        res_lon = got_lon - target_lon
        res_lat = got_lat - target_lat
        lon -= res_lon
        lat -= res_lat
        residual = np.fmax(np.abs(res_lon), np.abs(res_lat))
        if not np.any(residual >= INVERSE_TOLERANCE_DEG):  # NaN compares False: done
            break
    return lon, lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS-84 longitude/latitude to GCJ-02 (Amap, Tencent).

    Parameters
    ----------
    lon, lat : array_like
        WGS-84 longitude and latitude in degrees, same shape.

    Returns
    -------
    lon, lat : ndarray
        GCJ-02 degrees; points outside the China box are returned unchanged.

    """
    lon_arr, lat_arr = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj_offset_deg(lon_arr, lat_arr)
    return _inside_china_only(lon_arr, lat_arr, lon_arr + dlon, lat_arr + dlat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude (Amap, Tencent) to WGS-84.

    The forward transform is iterated until it reproduces the input to within
    ``INVERSE_TOLERANCE_DEG`` (1e-9 degrees, about 0.1 mm).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude in degrees, same shape.

    Returns
    -------
    lon, lat : ndarray
        WGS-84 degrees; points outside the China box are returned unchanged.

    """
    lon_arr, lat_arr = _as_float_arrays(lon, lat)

    def forward(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        dx, dy = _gcj_offset_deg(x, y)
        return x + dx, y + dy

    wgs_lon, wgs_lat = _invert(forward, lon_arr, lat_arr, lon_arr, lat_arr)
    return _inside_china_only(lon_arr, lat_arr, wgs_lon, wgs_lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 degrees, same shape.

    Returns
    -------
    lon, lat : ndarray
        BD-09 degrees.

    """
    lon_arr, lat_arr = _as_float_arrays(lon, lat)
    z = np.hypot(lon_arr, lat_arr) + 0.00002 * np.sin(lat_arr * _BD_X_PI)
    theta = np.arctan2(lat_arr, lon_arr) + 0.000003 * np.cos(lon_arr * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert BD-09 longitude/latitude (Baidu) to GCJ-02.

    Starts from Baidu's published approximate inverse and refines it by iterating
    :func:`gcj02_to_bd09` (a sub-millimetre correction), so round trips are exact.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 degrees, same shape.

    Returns
    -------
    lon, lat : ndarray
        GCJ-02 degrees.

    """
    lon_arr, lat_arr = _as_float_arrays(lon, lat)
    x = lon_arr - _BD_DLON
    y = lat_arr - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return _invert(gcj02_to_bd09, lon_arr, lat_arr, z * np.cos(theta), z * np.sin(theta))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert BD-09 longitude/latitude (Baidu) to WGS-84 (via GCJ-02).

    Parameters
    ----------
    lon, lat : array_like
        BD-09 degrees, same shape.

    Returns
    -------
    lon, lat : ndarray
        WGS-84 degrees.

    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS-84 longitude/latitude to BD-09 (Baidu) (via GCJ-02).

    Parameters
    ----------
    lon, lat : array_like
        WGS-84 degrees, same shape.

    Returns
    -------
    lon, lat : ndarray
        BD-09 degrees.

    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def parse_coordinate_system(text: str | int | pyproj.CRS) -> str:
    """Normalise a user's name for a coordinate system.

    Parameters
    ----------
    text : str, int or pyproj.CRS
        E.g. ``"WGS84"``, ``"wgs-84"``, ``"GCJ-02"``, ``"amap"``, ``"tencent"``, ``"高德"``
        (-> ``"gcj02"``), ``"baidu"``, ``"BD-09"`` (-> ``"bd09"``), ``"EPSG:4326"``,
        ``"4326"`` (-> ``"wgs84"``), or any CRS pyproj understands (``"EPSG:4490"``,
        ``32650``, a PROJ string or WKT).

    Returns
    -------
    str
        ``"wgs84"``, ``"gcj02"``, ``"bd09"``, or an authority code such as
        ``"EPSG:32650"`` (WKT for a CRS without one).

    Raises
    ------
    InputError
        If the name is neither a known alias nor a CRS pyproj understands.

    """
    if isinstance(text, pyproj.CRS):
        crs = text
    else:
        raw = str(text).strip()
        key = "".join(ch for ch in raw.lower() if ch not in " -_:./")
        if key in _ALIASES:
            return _ALIASES[key]
        if not raw:
            raise InputError(f"no coordinate system given; use {_ACCEPTED}")
        try:
            crs = pyproj.CRS.from_epsg(int(raw)) if raw.isdigit() else pyproj.CRS.from_user_input(raw)
        except (pyproj.exceptions.CRSError, ValueError, OverflowError) as exc:
            raise InputError(f"unknown coordinate system {raw!r}; use {_ACCEPTED}") from exc
    if crs.equals(WGS84_CRS, ignore_axis_order=True):
        return WGS84
    authority = crs.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else crs.to_wkt()
