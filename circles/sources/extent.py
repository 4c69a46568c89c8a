"""Study-area extents: a bounding box, and an area grown by a walking distance.

:func:`buffer_area` works for any extent. An area that fits one UTM zone (the usual
district or city) is buffered in metres in that zone. A part too wide for one zone (a
country, ``bbox_boundary(-180, -90, 180, 90)``) is buffered in degrees by at least the
distance everywhere (the degree width of the distance at the part's highest latitude),
so the grown area always holds everything within the distance; the result is clipped
to valid longitude/latitude.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

from circles.crs import MAX_UTM_SPAN_DEG, WGS84_CODE, local_utm_crs
from circles.errors import EmptyResultError, InputError
from circles.sources.problems import number_text, numbers_text

__all__ = ["bbox_boundary", "buffer_area"]

#: Shortest length of one degree of latitude (at the equator), metres.
METRES_PER_DEG_LAT_MIN = 110_574.0
#: Length of one degree of longitude at the equator, metres.
METRES_PER_DEG_LON_EQUATOR = 111_320.0
#: Latitudes beyond which a part is buffered in degrees rather than in UTM.
UTM_LAT_RANGE = (-80.0, 84.0)
_WORLD = shapely.box(-180.0, -90.0, 180.0, 90.0)


def bbox_boundary(
    west: float, south: float, east: float, north: float, *, name: str = "bbox"
) -> gpd.GeoDataFrame:
    """A rectangular study area from WGS-84 bounds.

    Parameters
    ----------
    west, south, east, north : float
        Longitudes and latitudes in degrees, in this order.
    name : str
        The area's name.

    Returns
    -------
    GeoDataFrame
        One row: ``name`` and the rectangle, EPSG:4326.

    Raises
    ------
    InputError
        If a value is not finite, out of range, or the bounds are in the wrong order.

    """
    try:
        values = np.array([west, south, east, north], dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"bbox ({west}, {south}, {east}, {north}) holds a value that is not a number",
            fix="give west, south, east, north in degrees",
        ) from None
    shown = numbers_text(values)
    order = "give west, south, east, north (longitude, latitude, longitude, latitude)"
    if not np.isfinite(values).all():
        raise InputError(f"bbox {shown} holds a value that is not a number", fix=order)
    lon_ok = bool(np.all(np.abs(values[[0, 2]]) <= 180))
    lat_ok = bool(np.all(np.abs(values[[1, 3]]) <= 90))
    if not (lon_ok and lat_ok):
        swapped = bool(np.all(np.abs(values[[0, 2]]) <= 90) and np.all(np.abs(values[[1, 3]]) <= 180))
        hint = "; latitude and longitude look swapped" if swapped else ""
        raise InputError(f"bbox {shown} is out of range{hint}", fix=order)
    if not (west < east and south < north):
        raise InputError(f"bbox {shown}: west must be less than east and south less than north", fix=order)
    return gpd.GeoDataFrame({"name": [name]}, geometry=[shapely.box(*values)], crs=WGS84_CODE)


def _fits_utm(geom: shapely.Geometry) -> bool:
    west, south, east, north = geom.bounds
    return east - west <= MAX_UTM_SPAN_DEG and UTM_LAT_RANGE[0] <= south and north <= UTM_LAT_RANGE[1]


def _utm_buffer(geom: shapely.Geometry, distance_m: float) -> shapely.Geometry:
    lon, lat = shapely.get_coordinates(geom).T
    local = gpd.GeoSeries([geom], crs=WGS84_CODE).to_crs(local_utm_crs(lon, lat))
    return local.buffer(distance_m, quad_segs=8).to_crs(WGS84_CODE).iloc[0]


def _degree_buffer(geom: shapely.Geometry, distance_m: float) -> shapely.Geometry:
    """Buffer in degrees by at least ``distance_m`` in every direction at every point of ``geom``."""
    _, south, _, north = geom.bounds
    dlat = distance_m / METRES_PER_DEG_LAT_MIN
    top = min(90.0, max(abs(south), abs(north)) + dlat)
    cos_top = math.cos(math.radians(top))
    dlon = 360.0 if cos_top < 1e-6 else distance_m / (METRES_PER_DEG_LON_EQUATOR * cos_top)
    return shapely.buffer(geom, min(max(dlat, dlon), 360.0), quad_segs=8)


def buffer_area(
    boundary_wgs84: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry, distance_m: float
) -> shapely.Geometry:
    """The study area grown by a walking distance, e.g. the longest walk considered.

    Networks and clinics are loaded for this larger area because residents near the
    border walk to clinics beyond it.

    Parameters
    ----------
    boundary_wgs84 : GeoDataFrame, GeoSeries or shapely geometry
        The area(s) in WGS-84; several are united.
    distance_m : float
        Buffer distance in metres (e.g. 15 min x 75 m/min = 1125 m).

    Returns
    -------
    shapely geometry
        The buffered area in WGS-84: computed in the local UTM zone when the area fits
        one zone; otherwise each part in its own zone, or in degrees (by at least
        ``distance_m``) for a part wider than a zone or beyond UTM's latitudes; clipped
        to longitude -180..180, latitude -90..90.

    Raises
    ------
    InputError
        If ``distance_m`` is negative or not a number.
    EmptyResultError
        If the area is empty.
    """
    if not (isinstance(distance_m, int | float | np.floating | np.integer) and 0 <= distance_m < math.inf):
        raise InputError(
            f"buffer distance must be a non-negative number of metres, got {number_text(distance_m)}",
            parameter="distance_m",
        )
    if isinstance(boundary_wgs84, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = boundary_wgs84.to_crs(WGS84_CODE).geometry.to_numpy()
    else:
        geoms = np.array([boundary_wgs84], dtype=object)
    area = shapely.union_all(geoms)
    if area.is_empty:
        raise EmptyResultError("the study area is empty; nothing to buffer")
    if _fits_utm(area):
        grown = _utm_buffer(area, float(distance_m))
    else:
        parts = shapely.get_parts(area)
        grown = shapely.union_all(
            [
                _utm_buffer(p, float(distance_m)) if _fits_utm(p) else _degree_buffer(p, float(distance_m))
                for p in parts
            ]
        )
    west, south, east, north = grown.bounds
    if west < -180 or south < -90 or east > 180 or north > 90:
        grown = shapely.intersection(grown, _WORLD)
    return grown
