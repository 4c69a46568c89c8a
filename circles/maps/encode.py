"""Compact geometry for the page: rounded, delta-coded integer coordinates the page's script decodes.

A layer's features are sent as one flat list of integers (longitude and latitude times
``1 / step``, each pair the difference from the previous pair) with the number of points
per part and parts per feature, instead of one GeoJSON object per feature: a district's
streets take a fraction of the bytes and are drawn on one canvas.

Coordinates are WGS-84 unless the basemap is drawn in GCJ-02 (Amap, Tencent): then every
overlay is shifted to GCJ-02 for display (:class:`Display`), so a clinic sits on its building.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

#: Rounding of drawn coordinates for lines and areas (about 1.1 m) and for points (about 0.1 m).
STEP_DEG = 1e-5
POINT_STEP_DEG = 1e-6


@dataclass(frozen=True)
class Display:
    """How WGS-84 coordinates are shown: as they are, or shifted to GCJ-02 for Chinese basemaps.

    Attributes
    ----------
    gcj02 : bool
        Shift every coordinate inside China to GCJ-02 (outside China nothing changes).
    """

    gcj02: bool = False

    def xy(self, lon_lat: NDArray[np.float64]) -> NDArray[np.float64]:
        """Display coordinates of an ``(n, 2)`` array of WGS-84 longitude, latitude.

        Parameters
        ----------
        lon_lat : ndarray, shape (n, 2)
        """
        if not self.gcj02 or len(lon_lat) == 0:
            return lon_lat
        from circles.sources.coords import wgs84_to_gcj02

        lon, lat = wgs84_to_gcj02(lon_lat[:, 0], lon_lat[:, 1])
        return np.column_stack([lon, lat])

    def geoms(self, geoms: NDArray[np.object_]) -> NDArray[np.object_]:
        """Shapely geometries (WGS-84) in display coordinates.

        Parameters
        ----------
        geoms : ndarray of shapely geometry
        """
        if not self.gcj02:
            return geoms
        return shapely.transform(geoms, self.xy)


def _quantise(xy: NDArray[np.float64], step: float) -> NDArray[np.int64]:
    return np.rint(xy / step).astype(np.int64)


def _deltas(q: NDArray[np.int64]) -> list[int]:
    if len(q) == 0:
        return []
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), np.int64))
    return d.ravel().tolist()


def encode_points(lon_lat: NDArray[np.float64], display: Display, step: float = POINT_STEP_DEG) -> dict:
    """Points as ``{"q": step, "c": [dx, dy, ...]}`` in display coordinates.

    Parameters
    ----------
    lon_lat : ndarray, shape (n, 2)
        WGS-84.
    display : Display
    step : float
        Rounding, degrees.
    """
    xy = display.xy(np.asarray(lon_lat, dtype=float).reshape(-1, 2))
    return {"q": step, "c": _deltas(_quantise(xy, step))}


def encode_lines(geoms: NDArray[np.object_], display: Display, step: float = STEP_DEG) -> dict:
    """(Multi)LineStrings as ``{"q", "c", "n": points per part, "f": parts per feature}``.

    Parameters
    ----------
    geoms : ndarray of shapely geometry
        WGS-84.
    display : Display
    step : float
        Rounding, degrees.
    """
    geoms = display.geoms(np.asarray(geoms, dtype=object))
    parts, owner = shapely.get_parts(geoms, return_index=True)
    coords, part = shapely.get_coordinates(parts, return_index=True)
    q, part = _dedupe(_quantise(coords, step), part)
    n = np.bincount(part, minlength=len(parts))
    keep = n >= 2
    q, part = q[keep[part]], part[keep[part]]
    f = np.bincount(owner[keep], minlength=len(geoms))
    return {"q": step, "c": _deltas(q), "n": n[keep].tolist(), "f": f.tolist()}


def encode_polygons(geoms: NDArray[np.object_], display: Display, step: float = STEP_DEG) -> dict:
    """(Multi)Polygons as ``{"q", "c", "n", "r", "f"}``, rings open (the closing point implied).

    ``n`` counts points per ring, ``r`` rings per polygon, ``f`` polygons per feature.

    Parameters
    ----------
    geoms : ndarray of shapely geometry
        WGS-84.
    display : Display
    step : float
        Rounding, degrees.
    """
    geoms = display.geoms(np.asarray(geoms, dtype=object))
    polys, owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    last = np.r_[ring[1:] != ring[:-1], True]
    coords, ring = coords[~last], ring[~last]  # drop each ring's closing point
    q, ring = _dedupe(_quantise(coords, step), ring)
    n = np.bincount(ring, minlength=len(rings))
    ok_ring = n >= 3
    exterior = np.r_[True, ring_poly[1:] != ring_poly[:-1]] if len(rings) else np.zeros(0, bool)
    ok_poly = np.zeros(len(polys), bool)
    ok_poly[ring_poly[exterior & ok_ring]] = True
    keep_ring = ok_ring & ok_poly[ring_poly]
    q, ring = q[keep_ring[ring]], ring[keep_ring[ring]]
    r = np.bincount(ring_poly[keep_ring], minlength=len(polys))[ok_poly]
    f = np.bincount(owner[ok_poly], minlength=len(geoms))
    return {"q": step, "c": _deltas(q), "n": n[keep_ring].tolist(), "r": r.tolist(), "f": f.tolist()}


def _dedupe(q: NDArray[np.int64], part: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Drop points equal to the previous point of the same part after rounding."""
    if len(q) == 0:
        return q, part
    same = np.r_[False, (q[1:] == q[:-1]).all(axis=1) & (part[1:] == part[:-1])]
    return q[~same], part[~same]


def script_json(value: object) -> str:
    """JSON safe to place inside a ``<script>`` element (no ``</``, no raw U+2028/9).

    Parameters
    ----------
    value : object
        JSON-serialisable data.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def decode_points(geom: dict) -> NDArray[np.float64]:
    """The ``(n, 2)`` longitude, latitude of an encoded layer's points, as the page decodes them.

    Parameters
    ----------
    geom : dict
        From :func:`encode_points` (or any encoded layer's ``geom``).
    """
    c = np.asarray(geom["c"], dtype=np.int64).reshape(-1, 2)
    return np.cumsum(c, axis=0) * geom["q"]


def drawable(frame: gpd.GeoDataFrame, display: Display) -> gpd.GeoDataFrame:
    """A WGS-84 frame for folium's own layers: display coordinates rounded to about 0.1 m, index 0..n-1.

    Parameters
    ----------
    frame : GeoDataFrame
        In any CRS.
    display : Display
    """
    out = frame.to_crs("EPSG:4326").reset_index(drop=True)
    out.geometry = shapely.set_precision(display.geoms(out.geometry.values), POINT_STEP_DEG)
    return out[~out.geometry.is_empty]
