"""Sanity checks on inputs that are valid but probably wrong, reported as warnings.

The costliest silent mistake in Chinese studies is a clinic list copied from Amap or
Tencent (GCJ-02) or Baidu (BD-09) declared as WGS-84: every point sits ~300-700 m off,
systematically, which ruins a 15-minute analysis. Points in the right system sit at
street frontages and inside mapped buildings; shifted points land at random. So two
fits are compared under each alternative system: the median distance to the nearest
walkable street, and the share of points within 10 m of a mapped building.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike

from circles.network import WalkNetwork
from circles.sources import coords

#: Alternatives tried: the system the file may really be in -> converter from the points as read.
_ALTERNATIVES = {
    "gcj02": coords.gcj02_to_wgs84,  # the file was GCJ-02 but read as WGS-84
    "bd09": coords.bd09_to_wgs84,  # the file was BD-09 but read as WGS-84
    "wgs84": coords.wgs84_to_gcj02,  # the file was WGS-84 but read as GCJ-02
}
_HINT = {"gcj02": "gcj02 (Amap, Tencent)", "bd09": "bd09 (Baidu)", "wgs84": "wgs84"}
BUILDING_NEAR_M = 10.0
MIN_BUILDINGS = 30


@dataclass(frozen=True)
class Fit:
    """How well points sit on the map: median metres to a street, share near a building."""

    street_m: float
    near_building: float | None

    def clearly_worse_than(self, other: Fit) -> bool:
        """True when ``other`` fits markedly better on one measure and no worse on the other."""
        street_better = other.street_m < 0.7 * self.street_m and self.street_m - other.street_m > 8.0
        street_not_worse = other.street_m <= 1.1 * self.street_m
        if self.near_building is None or other.near_building is None:
            return street_better
        building_better = other.near_building - self.near_building >= 0.2
        building_not_worse = other.near_building >= self.near_building - 0.05
        return (street_better and building_not_worse) or (building_better and street_not_worse)


def _fit(network: WalkNetwork, streets: shapely.STRtree, buildings: shapely.STRtree | None, lon, lat) -> Fit:
    pts = shapely.points(network.to_local(lon, lat))
    _, street = streets.query_nearest(pts, return_distance=True, all_matches=False)
    near = None
    if buildings is not None:
        _, dist = buildings.query_nearest(pts, return_distance=True, all_matches=False)
        near = float(np.mean(dist <= BUILDING_NEAR_M))
    return Fit(float(np.median(street)), near)


def median_street_distance_m(network: WalkNetwork, lon: ArrayLike, lat: ArrayLike) -> float:
    """Median straight distance in metres from the points to the nearest walkable street."""
    streets = shapely.STRtree(network.edge_lines())
    return _fit(network, streets, None, np.asarray(lon, float), np.asarray(lat, float)).street_m


def coordinate_system_warning(
    network: WalkNetwork,
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    declared: str,
    what: str,
    buildings_local: ArrayLike | None = None,
    min_points: int = 5,
    parameter: str = "`crs`",
) -> str | None:
    """Warn when points fit the map much better under another Chinese coordinate system.

    Parameters
    ----------
    network : WalkNetwork
        The walk network (OSM, WGS-84 based).
    lon, lat : array_like
        The points as read, already converted to WGS-84 from ``declared``.
    declared : str
        The coordinate system the points were declared in (``"wgs84"``, ``"gcj02"``, ...).
    what : str
        How to name the points in the message, e.g. ``"facilities from clinics.csv"``.
    buildings_local : array_like of shapely geometries, optional
        Mapped building footprints in the network CRS; used when there are at least 30.
    min_points : int
        Fewer points than this are not judged.
    parameter : str
        How to name the coordinate-system parameter in the message.

    Returns
    -------
    str or None
        A one-line warning naming both fits and the option to use, or None.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    if lon.size < min_points:
        return None
    tree = None
    if buildings_local is not None and len(buildings_local) >= MIN_BUILDINGS:
        tree = shapely.STRtree(np.asarray(buildings_local, dtype=object))
    streets = shapely.STRtree(network.edge_lines())  # built once for all alternatives
    as_read = _fit(network, streets, tree, lon, lat)
    best_name, best = None, as_read
    for name, convert in _ALTERNATIVES.items():
        if name == declared:
            continue
        alt_lon, alt_lat = convert(lon, lat)
        if np.allclose(alt_lon, lon) and np.allclose(alt_lat, lat):
            continue  # outside China the systems coincide
        fit = _fit(network, streets, tree, alt_lon, alt_lat)
        if best.clearly_worse_than(fit):
            best_name, best = name, fit
    if best_name is None:
        return None

    def describe(f: Fit) -> str:
        near = "" if f.near_building is None else f", {100 * f.near_building:.0f}% by a building"
        return f"median {f.street_m:.0f} m from a street{near}"

    return (
        f"{what}: read as {declared}, the points lie {describe(as_read)}; as {_HINT[best_name]} they would "
        f"lie {describe(best)}; if so, declare that coordinate system: {parameter} {best_name}"
    )


# ---------------------------------------------------------------------------------------------
# Is the result whole? Network extent, facilities off the network, implausible populations.

#: The network must cover at least this share of the study area itself, or the run stops.
MIN_AREA_COVERED = 0.5
#: Facilities within reach that do not attach to a street: warn above this share, stop above the next.
WARN_FACILITIES_OFF_NETWORK = 0.2
MAX_FACILITIES_OFF_NETWORK = 0.5
#: Residents per km^2 over a whole study area beyond any real city (the densest districts of
#: Hong Kong, Dhaka or Manila reach about 50,000-130,000 per km^2 over a few km^2).
MAX_PLAUSIBLE_DENSITY_PER_KM2 = 60_000.0


def network_extent(walkways_wgs84: np.ndarray) -> shapely.Geometry:
    """The area a network source covers: the convex hull of its walkways (WGS-84)."""
    coords = shapely.get_coordinates(walkways_wgs84)
    return shapely.convex_hull(shapely.multipoints(coords)) if coords.size else shapely.Polygon()


def share_covered(extent_wgs84: shapely.Geometry, area_wgs84: shapely.Geometry) -> float:
    """Share of ``area_wgs84``'s surface inside ``extent_wgs84`` (computed in the local UTM zone)."""
    from circles.crs import local_utm_crs

    lon, lat = shapely.get_coordinates(area_wgs84).T
    utm = local_utm_crs(lon, lat)
    tr = pyproj.Transformer.from_crs(4326, utm, always_xy=True)
    area = shapely.transform(area_wgs84, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    extent = shapely.transform(extent_wgs84, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    total = area.area
    return float(area.intersection(extent).area / total) if total > 0 else 1.0


def facilities_off_network_warning(
    attached: np.ndarray, what: str, max_access_leg_m: float
) -> tuple[str | None, bool]:
    """A warning when many facilities within reach attach to no street, and whether it is fatal."""
    n = int(attached.size)
    off = int((~attached).sum())
    if n == 0 or off / n <= WARN_FACILITIES_OFF_NETWORK:
        return None, False
    text = (
        f"{off} of the {n} facilities within reach of the area ({100 * off / n:.0f}%, {what}) lie more than "
        f"{max_access_leg_m:g} m from any walkable street and serve nobody: check that the network "
        "covers them and that their coordinate system is right (`crs`), or raise `max_access_leg_m`"
    )
    return text, off / n > MAX_FACILITIES_OFF_NETWORK


def density_warning(population: float, area_km2: float, estimated: bool) -> str | None:
    """A warning when residents per km^2 over the whole area are beyond any real city."""
    if area_km2 <= 0 or population / area_km2 <= MAX_PLAUSIBLE_DENSITY_PER_KM2:
        return None
    kind = "estimated " if estimated else ""
    return (
        f"{population:,.0f} {kind}residents on {area_km2:,.1f} km2 is {population / area_km2:,.0f} per km2, "
        "beyond any real city; give `population.total`, `population.raster` or `population.column` "
        "for real figures"
    )
