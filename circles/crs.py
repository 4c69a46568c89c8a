"""Coordinate reference systems used everywhere: WGS-84 for data, a local UTM zone for metres.

WGS-84 is defined here once. Every distance in circles is computed in the UTM zone that
holds the centre of the data (:func:`local_utm_crs`); an area too wide for one zone
(more than :data:`MAX_UTM_SPAN_DEG` degrees of longitude) must be split or measured
otherwise (:func:`fits_one_utm_zone` tells).
"""

from __future__ import annotations

import numpy as np
import pyproj
from numpy.typing import ArrayLike

from circles.errors import EmptyResultError

#: The coordinate system of OpenStreetMap and of every layer circles outputs.
WGS84 = pyproj.CRS.from_epsg(4326)
#: The same as an EPSG string, for GeoPandas calls that take text.
WGS84_CODE = "EPSG:4326"
#: Widest span of longitude (degrees) measured in a single UTM zone (a zone is 6 degrees wide;
#: distortion stays under 0.1 % within about 9 degrees of its central meridian).
MAX_UTM_SPAN_DEG = 12.0


def local_utm_crs(lon: ArrayLike, lat: ArrayLike) -> pyproj.CRS:
    """Return the UTM CRS of the zone holding the centre of the given WGS-84 points.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees; NaN values are ignored.

    Returns
    -------
    pyproj.CRS
        A projected CRS in metres.

    Raises
    ------
    EmptyResultError
        If no finite point is given.
    """
    lons = np.asarray(lon, dtype=float).ravel()
    lats = np.asarray(lat, dtype=float).ravel()
    ok = np.isfinite(lons) & np.isfinite(lats)
    if not ok.any():
        raise EmptyResultError("cannot choose a local coordinate system for an empty set of points")
    lons, lats = lons[ok], lats[ok]
    lon0 = float((lons.min() + lons.max()) / 2)
    lat0 = float(np.clip((lats.min() + lats.max()) / 2, -80.0, 84.0))
    infos = pyproj.database.query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=pyproj.aoi.AreaOfInterest(lon0, lat0, lon0, lat0),
    )
    # Several zones may touch the centre (zone edges); take the lowest code for determinism.
    return pyproj.CRS.from_epsg(min(int(i.code) for i in infos))


def fits_one_utm_zone(lon: ArrayLike) -> bool:
    """True when the longitudes span at most :data:`MAX_UTM_SPAN_DEG` degrees.

    Parameters
    ----------
    lon : array_like
        Longitudes in degrees (NaN ignored).

    Returns
    -------
    bool
    """
    lons = np.asarray(lon, dtype=float)
    lons = lons[np.isfinite(lons)]
    return bool(lons.size == 0 or float(lons.max() - lons.min()) <= MAX_UTM_SPAN_DEG)
