"""Online OSM data through OSMnx (Overpass and Nominatim), cached on disk.

Every download runs inside :func:`~circles.sources.online_settings.osmnx_settings`
(re-exported here with :class:`OnlineSettings`), which applies the caller's settings to
``osmnx.settings`` and restores them afterwards.
Connection problems become :class:`~circles.errors.NetworkUnavailableError`, an
unknown place an :class:`~circles.errors.InputError`; no ``requests`` or OSMnx
exception escapes.

The walk network is downloaded with :data:`~circles.sources.walk_filter.OVERPASS_WALK_FILTERS`
(OSMnx 2 takes a list of filters and returns the union) and passed through the same
tag filter as the PBF reader; OSMnx is told to keep every tag that filter reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import pandas as pd
import requests
import shapely

from circles.config import TagPreset
from circles.crs import WGS84_CODE as WGS84
from circles.errors import EmptyResultError, InputError, NetworkUnavailableError
from circles.sources.graphml import walkways_from_graph
from circles.sources.limits import bound_text
from circles.sources.online_settings import OnlineSettings, default_cache_folder, osmnx_settings
from circles.sources.osm import KEEP_TAGS, OsmLayers, dedupe_facilities, facility_keys
from circles.sources.problems import numbers_text
from circles.sources.walk_filter import OVERPASS_WALK_FILTERS

__all__ = [
    "OnlineSettings",
    "default_cache_folder",
    "features_online",
    "geocode_area",
    "osm_layers_online",
    "osmnx_settings",
    "walkways_online",
]

_HINT = "use a local .osm.pbf extract instead; behind a proxy set HTTPS_PROXY"
#: Longest wait, seconds, for the quick reachability check before an Overpass download.
PREFLIGHT_TIMEOUT_S = 10.0


def _host(url: str) -> str:
    return urlparse(url).netloc or url


@contextmanager
def _network_errors(what: str, url: str, timeout_s: float) -> Iterator[None]:
    """Turn requests/OSMnx transport failures into NetworkUnavailableError."""
    from osmnx._errors import ResponseStatusCodeError

    try:
        yield
    except requests.exceptions.Timeout:
        raise NetworkUnavailableError(
            f"{what}: {_host(url)} did not answer within {math.ceil(timeout_s)} s; try again later or {_HINT}"
        ) from None
    except requests.exceptions.RequestException as exc:
        reason = type(exc).__name__
        raise NetworkUnavailableError(f"{what}: cannot reach {_host(url)} ({reason}); {_HINT}") from None
    except ResponseStatusCodeError as exc:
        detail = str(exc).splitlines()[0][:160]
        raise NetworkUnavailableError(
            f"{what}: {_host(url)} answered with an error ({detail}); try again later or {_HINT}"
        ) from None


def _overpass_reachable(timeout_s: float) -> bool:
    """Quick check of the Overpass status endpoint.

    When it fails, OSMnx's rate-limit pause (60 s for an unreachable status
    endpoint) and its DNS-over-HTTPS fallback are switched off for this download:
    a cached answer is still used, and a real request fails at once.
    """
    import osmnx as ox

    url = ox.settings.overpass_url.rstrip("/") + "/status"
    try:
        requests.get(url, timeout=min(timeout_s, PREFLIGHT_TIMEOUT_S), **ox.settings.requests_kwargs)
    except requests.exceptions.RequestException:
        ox.settings.overpass_rate_limit = False
        ox.settings.doh_url_template = None
        return False
    return True


def _check_polygon(polygon_wgs84: shapely.Geometry) -> shapely.Geometry:
    if not isinstance(polygon_wgs84, shapely.Polygon | shapely.MultiPolygon) or polygon_wgs84.is_empty:
        raise InputError(
            f"an online download needs a study-area polygon, got {type(polygon_wgs84).__name__}",
            parameter="polygon_wgs84",
            fix="give a Polygon or MultiPolygon as `polygon_wgs84` (a place, boundary or bbox)",
        )
    west, south, east, north = polygon_wgs84.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InputError(
            f"the study area {numbers_text(polygon_wgs84.bounds)} is not in WGS-84 longitude/latitude",
            parameter="polygon_wgs84",
            fix="convert it (e.g. read the boundary with its `crs`) before downloading",
        )
    return polygon_wgs84 if polygon_wgs84.is_valid else shapely.make_valid(polygon_wgs84)


def walkways_online(
    polygon_wgs84: shapely.Geometry, *, online: OnlineSettings | None = None
) -> gpd.GeoDataFrame:
    """Download the walk network inside a polygon.

    Parameters
    ----------
    polygon_wgs84 : shapely Polygon or MultiPolygon
        The area in WGS-84 (usually the study area buffered by the longest walk).
        Streets crossing its border are kept whole up to their first node outside.
    online : OnlineSettings, optional

    Returns
    -------
    GeoDataFrame
        One straight segment per row: ``osm_id`` (``way/<id>``), ``highway``, ``name``,
        geometry in EPSG:4326 (see :func:`circles.sources.graphml.walkways_from_graph`).

    Raises
    ------
    EmptyResultError
        If no walkable way lies in the polygon.
    NetworkUnavailableError
        If Overpass cannot be reached.

    """
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    polygon = _check_polygon(polygon_wgs84)
    online = online or OnlineSettings()
    with osmnx_settings(online):
        url = ox.settings.overpass_url
        with _network_errors("downloading the walk network", url, online.timeout_s):
            _overpass_reachable(online.timeout_s)
            try:
                graph = ox.graph_from_polygon(
                    polygon,
                    network_type="walk",
                    custom_filter=list(OVERPASS_WALK_FILTERS),
                    simplify=False,
                    retain_all=True,
                    truncate_by_edge=True,
                )
            except (InsufficientResponseError, ValueError) as exc:
                if "no data elements" in str(exc).lower() or "no graph nodes" in str(exc).lower():
                    raise EmptyResultError(
                        f"OpenStreetMap has no walkable ways in the area {_bounds(polygon)}; "
                        "check the area or its coordinate system"
                    ) from None
                raise NetworkUnavailableError(f"Overpass gave an unusable answer ({exc}); {_HINT}") from None
    return walkways_from_graph(graph)


def _bounds(geom: shapely.Geometry) -> str:
    return "({:.4f}, {:.4f}, {:.4f}, {:.4f})".format(*geom.bounds)


def features_online(
    polygon_wgs84: shapely.Geometry,
    tags: Mapping[str, bool | str | Sequence[str]],
    *,
    online: OnlineSettings | None = None,
) -> gpd.GeoDataFrame:
    """Download OSM features with any of the given tags inside a polygon.

    Parameters
    ----------
    polygon_wgs84 : shapely Polygon or MultiPolygon
        The area in WGS-84.
    tags : mapping
        OSMnx tag query: ``{"building": True, "landuse": "residential",
        "amenity": ["clinic", "doctors"]}`` selects the union.
    online : OnlineSettings, optional

    Returns
    -------
    GeoDataFrame
        ``osm_id`` (``node/<id>``, ``way/<id>``, ``relation/<id>``), one column per tag
        found, geometry (points, lines or polygons) in EPSG:4326; empty (``osm_id``
        and geometry only) when nothing matches.

    Raises
    ------
    NetworkUnavailableError
        If Overpass cannot be reached.

    """
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    polygon = _check_polygon(polygon_wgs84)
    query = {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in tags.items()}
    online = online or OnlineSettings()
    with osmnx_settings(online):
        url = ox.settings.overpass_url
        with _network_errors("downloading OSM features", url, online.timeout_s):
            _overpass_reachable(online.timeout_s)
            try:
                found = ox.features_from_polygon(polygon, query)
            except InsufficientResponseError as exc:
                if "no matching features" in str(exc).lower():
                    return gpd.GeoDataFrame({"osm_id": []}, geometry=gpd.GeoSeries([], crs=WGS84))
                raise NetworkUnavailableError(f"Overpass gave an unusable answer ({exc}); {_HINT}") from None
    element = found.index.get_level_values("element").astype(str)
    osm_id = element + "/" + found.index.get_level_values("id").astype(str)
    frame = found.reset_index(drop=True)
    frame.insert(0, "osm_id", np.asarray(osm_id))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=found.crs).to_crs(WGS84)


def osm_layers_online(
    polygon_wgs84: shapely.Geometry,
    facility_tags: TagPreset,
    *,
    online: OnlineSettings | None = None,
) -> OsmLayers:
    """Download what :func:`circles.sources.osm.read_osm` reads from a file.

    One Overpass query for the walk network and one for facilities, buildings and
    ``landuse=residential``, split into the same layers with the same columns and
    rules as the file reader (a facility mapped as node and polygon counts once;
    polygon facilities become a point on their surface).

    Parameters
    ----------
    polygon_wgs84 : shapely Polygon or MultiPolygon
        The area in WGS-84 (the study area buffered by the longest walk).
    facility_tags : TagPreset
        Which tagged objects are facilities.
    online : OnlineSettings, optional

    Returns
    -------
    OsmLayers

    """
    walkways = walkways_online(polygon_wgs84, online=online)
    wanted: dict[str, list[str]] = {}
    for key, value in facility_tags.tags:
        wanted.setdefault(key, []).append(value)
    query: dict[str, bool | str | list[str]] = {**wanted, "building": True}
    query["landuse"] = sorted({"residential", *wanted.get("landuse", [])})
    found = features_online(polygon_wgs84, query, online=online)
    keys = facility_keys(facility_tags)
    table = pd.DataFrame(found.drop(columns="geometry")).reindex(columns=["osm_id", *keys])
    table = table.astype(object).where(table.notna(), None).map(bound_text)
    geoms = found.geometry.to_numpy()
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    is_point = shapely.get_type_id(geoms) == 0
    is_facility = np.zeros(len(found), dtype=bool)
    for key, value in facility_tags.tags:
        if key in found:
            is_facility |= (found[key] == value).to_numpy()
    fac = np.flatnonzero(is_facility & (is_point | polygonal))
    records = table.iloc[fac].to_dict("records")
    fac_rows = [{**r, "_polygon": geoms[i]} if polygonal[i] else r for i, r in zip(fac, records, strict=True)]
    fac_geoms = [geoms[i].point_on_surface() if polygonal[i] else geoms[i] for i in fac]
    facilities = dedupe_facilities(fac_rows, fac_geoms, keys)

    def layer(mask: np.ndarray) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            table.loc[mask, ["osm_id", *KEEP_TAGS]].reset_index(drop=True),
            geometry=gpd.GeoSeries(geoms[mask], crs=WGS84),
        )

    has_building = table["building"].notna().to_numpy()
    residential = (table["landuse"] == "residential").to_numpy()
    return OsmLayers(
        walkways=walkways,
        facilities=facilities,
        buildings=layer(polygonal & has_building),
        residential_areas=layer(polygonal & residential),
    )


def geocode_area(place_name: str, *, online: OnlineSettings | None = None) -> gpd.GeoDataFrame:
    """Look a place up in Nominatim and return its boundary polygon.

    Parameters
    ----------
    place_name : str
        E.g. ``"Luohu District, Shenzhen"`` or ``"罗湖区"``.
    online : OnlineSettings, optional

    Returns
    -------
    GeoDataFrame
        One row: ``name`` (as given), ``display_name`` (Nominatim's), ``osm_id``
        (e.g. ``relation/3464364``), geometry (Polygon or MultiPolygon) in EPSG:4326.

    Raises
    ------
    InputError
        If the place is unknown or is not an area.
    NetworkUnavailableError
        If Nominatim cannot be reached.

    """
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    name = str(place_name).strip()
    if not name:
        raise InputError(
            "the place name is empty",
            parameter="place_name",
            fix="give a `place_name` such as 'Luohu District, Shenzhen'",
        )
    online = online or OnlineSettings()
    with osmnx_settings(online):
        url = ox.settings.nominatim_url
        with _network_errors(f"looking up place {name!r}", url, online.timeout_s):
            try:
                found = ox.geocode_to_gdf(name)
            except InsufficientResponseError as exc:
                if "0 results" in str(exc):
                    raise InputError(
                        f"place {name!r} was not found by Nominatim",
                        parameter="place_name",
                        fix="check the spelling or use a boundary file",
                    ) from None
                raise NetworkUnavailableError(f"Nominatim gave an unusable answer ({exc}); {_HINT}") from None
            except TypeError:
                raise InputError(
                    f"place {name!r} is a point or line in Nominatim, not an area",
                    parameter="place_name",
                    fix="name the district more precisely (e.g. 'Luohu District, Shenzhen') "
                    "or use a boundary file or a bounding box",
                ) from None
    row = found.iloc[0]
    osm_id = f"{row.get('osm_type', '')}/{row.get('osm_id', '')}"
    return gpd.GeoDataFrame(
        {"name": [name], "display_name": [row.get("display_name", name)], "osm_id": [osm_id]},
        geometry=gpd.GeoSeries([row.geometry], crs=found.crs),
    ).to_crs(WGS84)
