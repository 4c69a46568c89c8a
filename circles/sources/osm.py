"""Walk network, facilities, homes and residential land use from an OSM file.

One pass over a ``.osm.pbf`` or ``.osm``/``.xml`` file with pyosmium: the same code
and the same walk filter for both formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.config import GENERIC_BUILDINGS, RESIDENTIAL_BUILDINGS, TagPreset
from circles.crs import WGS84_CODE as WGS84
from circles.errors import InputFileError
from circles.sources.formats import OSM_SUFFIXES
from circles.sources.geo import check_input_file
from circles.sources.limits import bound_text_columns
from circles.sources.osm_pass import Gathered, OsmPass, osm_processor
from circles.sources.walk_filter import is_walkable
from circles.sources.way_filters import MODE_TAGS, NETWORK_FILTERS

__all__ = [
    "KEEP_TAGS",
    "OSM_SUFFIXES",
    "OsmLayers",
    "dedupe_facilities",
    "facility_keys",
    "landuse_cells",
    "place_at_entrances",
    "read_osm",
    "residential_homes",
]

#: OSM tags kept as columns of every layer (facilities also keep the keys their tags name).
KEEP_TAGS = (
    "name",
    "name:zh",
    "name:en",
    "amenity",
    "healthcare",
    "building",
    "building:levels",
    "landuse",
    "highway",
)


@dataclass(frozen=True)
class OsmLayers:
    """What one OSM file holds for an accessibility analysis, all in WGS-84.

    Attributes
    ----------
    walkways : GeoDataFrame
        Walkable ways as LineStrings: ``osm_id`` (``way/<id>``), ``highway``,
        ``street_level`` (may homes and clinics attach to it; see
        :func:`circles.sources.walk_filter.is_street_level`). Read for more networks
        than walking (``networks``), the ways any of them may use, with the tags of
        :data:`~circles.sources.way_filters.MODE_TAGS` and a boolean ``net_<network>``
        column per network (``net_walk``, ``net_bike``, ...).
    facilities : GeoDataFrame
        Points of the requested facility tags: ``osm_id``, :data:`KEEP_TAGS` and every
        key the tags name (e.g. ``shop``); a facility mapped as both node and building
        counts once.
    buildings : GeoDataFrame
        Building polygons: ``osm_id``, ``building``, ``building:levels``, ``name``.
    residential_areas : GeoDataFrame
        ``landuse=residential`` polygons: ``osm_id``, ``name``.

    """

    walkways: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    residential_areas: gpd.GeoDataFrame


def facility_keys(facility_tags: TagPreset) -> tuple[str, ...]:
    """Columns of a facility layer: :data:`KEEP_TAGS` and every key the facility tags name.

    Parameters
    ----------
    facility_tags : TagPreset

    Returns
    -------
    tuple of str
    """
    return tuple(dict.fromkeys([*KEEP_TAGS, *(key for key, _ in facility_tags.tags)]))


def _frame(rows: list, geoms, keys: tuple[str, ...] = KEEP_TAGS) -> gpd.GeoDataFrame:
    """A WGS-84 frame of ``osm_id`` and ``keys`` from rows (dicts or tuples in that order)."""
    df = pd.DataFrame(rows, columns=["osm_id", *keys]) if rows else pd.DataFrame(columns=["osm_id", *keys])
    if rows and not isinstance(rows[0], dict):
        bound_text_columns(df)  # dict rows are bounded as they are made
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=WGS84))


def read_osm(
    path: str | Path, facility_tags: TagPreset, *, networks: tuple[str, ...] = ("walk",)
) -> OsmLayers:
    """Read walkable ways, facilities, buildings and residential land use.

    Parameters
    ----------
    path : str or Path
        An ``.osm.pbf`` or ``.osm``/``.xml`` (optionally ``.bz2``/``.gz``) file.
    facility_tags : TagPreset
        Which tagged objects are facilities: any key (``shop=chemist``,
        ``social_facility=nursing_home``), filtered on and kept as a column.
    networks : tuple of str
        The networks to read ways for: ``"walk"`` (the default and only one needed for
        walking), ``"bike"``, ``"ebike"``, ``"drive"`` (see
        :mod:`circles.sources.way_filters`).

    Returns
    -------
    OsmLayers

    """
    path = Path(path)
    check_input_file(path, "OSM file")
    tag_keys = tuple(dict.fromkeys(key for key, _ in facility_tags.tags))
    found = _osm_pass(facility_tags, networks)
    processor = osm_processor(
        path,
        node_keys=tuple(dict.fromkeys((*tag_keys, "entrance"))),
        area_keys=tuple(dict.fromkeys(("building", "landuse", *tag_keys))),
    )
    try:
        for obj in processor:
            if obj.is_node():
                found.node(obj)
            elif obj.is_way():
                found.way(obj)
            elif obj.is_area():
                found.area(obj)
    except RuntimeError as exc:
        raise InputFileError(
            f"cannot be read as OSM data ({exc})",
            where=str(path),
            fix="check that it is a complete .osm.pbf or .osm file",
        ) from None
    return _layers(found.finish(), found.way_keys, found.filters, facility_keys(facility_tags))


def _osm_pass(facility_tags: TagPreset, networks: tuple[str, ...]) -> OsmPass:
    """The pass reading walkways (walking alone: the lean path) or the ways of several networks."""
    networks = tuple(dict.fromkeys(networks))
    unknown = [n for n in networks if n != "walk" and n not in NETWORK_FILTERS]
    if unknown:
        raise ValueError(f"unknown networks {unknown}")
    way_keys, filters = KEEP_TAGS, ()
    if networks != ("walk",):
        every = {"walk": is_walkable, **NETWORK_FILTERS}
        filters = tuple((f"net_{n}", every[n]) for n in networks)
        way_keys = tuple(dict.fromkeys([*KEEP_TAGS, *MODE_TAGS]))
    return OsmPass(
        facility_tags,
        way_keys=way_keys,
        area_keys=KEEP_TAGS,
        facility_keys=facility_keys(facility_tags),
        filters=filters,
    )


def _layers(found: Gathered, way_keys: tuple[str, ...], filters: tuple, keys: tuple[str, ...]) -> OsmLayers:
    """The frames of what one pass gathered."""
    rows, geoms = found.facility_rows, found.facility_geoms
    facilities = dedupe_facilities(rows, place_at_entrances(rows, geoms, found.entrances), keys)
    flag_columns = tuple(column for column, _ in filters)
    walkways = _frame(found.way_rows, found.way_geoms, (*way_keys, *flag_columns))
    for column in flag_columns:
        walkways[column] = walkways[column].astype(bool)
    walkways["street_level"] = np.array(found.street_level, dtype=bool)
    return OsmLayers(
        walkways=walkways,
        facilities=facilities,
        buildings=_frame(found.building_rows, found.building_geoms),
        residential_areas=_frame(found.landuse_rows, found.landuse_geoms),
    )


def place_at_entrances(
    rows: list[dict], geoms: list, entrances: list[tuple[float, float, bool, int]]
) -> list:
    """Put each facility mapped as a building at its entrance, where one is mapped.

    A clinic's door is where walks end, so a facility polygon with an ``entrance=*``
    node on its outline is placed there (``entrance=main`` first, then the lowest node
    id); otherwise it keeps its point on the surface. ``rows`` gain a ``located_at``
    entry: ``"node"``, ``"entrance"`` or ``"point on surface"``.

    Parameters
    ----------
    rows : list of dict
        Facility rows; polygons carry their outline under ``"_polygon"``.
    geoms : list of shapely Point
        Facility points aligned with ``rows``.
    entrances : list of (lon, lat, is_main, node_id)
        Entrance nodes of the file.

    Returns
    -------
    list of shapely Point
    """
    out = list(geoms)
    ranked = sorted(entrances, key=lambda e: (not e[2], e[3]))
    points = shapely.points([(e[0], e[1]) for e in ranked]) if ranked else np.empty(0, dtype=object)
    tree = shapely.STRtree(points) if len(points) else None
    for i, row in enumerate(rows):
        polygon = row.get("_polygon")
        if polygon is None:
            row["located_at"] = "node"
            continue
        row["located_at"] = "point on surface"
        if tree is None:
            continue
        # Entrance nodes are vertices of the outline: within ~1 cm of the boundary.
        hits = tree.query(polygon.boundary, predicate="dwithin", distance=1e-7)
        if hits.size:
            out[i] = points[int(hits.min())]
            row["located_at"] = "entrance"
    return out


def dedupe_facilities(rows: list[dict], geoms: list, keys: tuple[str, ...] = KEEP_TAGS) -> gpd.GeoDataFrame:
    """Facilities as a frame, dropping a polygon when a facility node lies inside it (mapped twice).

    Parameters
    ----------
    rows : list of dict
        One dict of ``osm_id`` and ``keys`` per facility; polygons carry their
        outline under ``"_polygon"`` (removed here).
    geoms : list of shapely Point
        The facility points, aligned with ``rows``.
    keys : tuple of str
        Tag columns (:func:`facility_keys`).

    Returns
    -------
    GeoDataFrame
        WGS-84 facility points.
    """
    polygons = [r.pop("_polygon", None) for r in rows]
    frame = _frame(rows, geoms, keys)
    frame["located_at"] = [
        r.get("located_at") or ("point on surface" if p is not None else "node")
        for r, p in zip(rows, polygons, strict=True)
    ]
    is_node = frame["osm_id"].str.startswith("node/").to_numpy()
    node_points = shapely.points(shapely.get_coordinates(frame.geometry[is_node]))
    drop = np.zeros(len(frame), dtype=bool)
    if node_points.size:
        tree = shapely.STRtree(node_points)
        for i, poly in enumerate(polygons):
            if poly is not None and tree.query(poly, predicate="contains").size:
                drop[i] = True
    return frame.loc[~drop].reset_index(drop=True)


def residential_homes(layers: OsmLayers, *, cell_m: float = 100.0) -> gpd.GeoDataFrame:
    """Homes: residential buildings, and residential land use where no home building is mapped.

    Residential building types count anywhere, generic ones (``building=yes``) inside
    ``landuse=residential``; residential areas without any home building are cut into
    cells (see :func:`landuse_cells`).

    Parameters
    ----------
    layers : OsmLayers
    cell_m : float
        Cell size in metres for residential areas without mapped homes.

    Returns
    -------
    GeoDataFrame
        Building polygons (WGS-84) with ``osm_id``, ``building``, ``building:levels``,
        ``name``.

    """
    b = layers.buildings
    kind = b["building"].fillna("")
    homes = np.array(kind.isin(RESIDENTIAL_BUILDINGS))
    generic = kind.isin(GENERIC_BUILDINGS).to_numpy()
    if generic.any() and len(layers.residential_areas):
        tree = shapely.STRtree(layers.residential_areas.geometry.values)
        centres = shapely.point_on_surface(b.geometry.values[generic])
        inside = np.unique(tree.query(centres, predicate="within")[0])
        idx = np.flatnonzero(generic)[inside]
        homes[idx] = True
    cols = ["osm_id", "building", "building:levels", "name", "geometry"]
    buildings = b.loc[homes, cols].reset_index(drop=True)
    cells = landuse_cells(layers.residential_areas, buildings, cell_m=cell_m)
    if len(cells) == 0:
        return buildings
    return gpd.GeoDataFrame(pd.concat([buildings, cells[cols]], ignore_index=True), crs=WGS84)


def landuse_cells(
    residential_areas: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, *, cell_m: float = 100.0
) -> gpd.GeoDataFrame:
    """Square cells of ``landuse=residential`` polygons that hold no mapped home building.

    Where buildings are not mapped, a residential area still houses people. Cutting it
    into cells (``cell_m`` metres, clipped to the polygon) measures walking times across
    the area instead of from one centroid, so a large estate is partly covered when
    only its near side is within reach.

    Parameters
    ----------
    residential_areas : GeoDataFrame
        ``landuse=residential`` polygons (WGS-84) with ``osm_id`` and ``name``.
    buildings : GeoDataFrame
        Home buildings already found (WGS-84); areas containing any are skipped.
    cell_m : float
        Cell size in metres.

    Returns
    -------
    GeoDataFrame
        Cells (WGS-84) with ``osm_id`` like ``way/123#4``, ``building="landuse"``.
    """
    from circles.crs import local_utm_crs

    cols = ["osm_id", "building", "building:levels", "name"]
    if len(residential_areas) == 0:
        return gpd.GeoDataFrame(columns=[*cols, "geometry"], geometry="geometry", crs=WGS84)
    if len(buildings):
        tree = shapely.STRtree(shapely.point_on_surface(buildings.geometry.values))
        has_home = np.zeros(len(residential_areas), dtype=bool)
        has_home[np.unique(tree.query(residential_areas.geometry.values, predicate="contains")[0])] = True
        empty = residential_areas.loc[~has_home]
    else:
        empty = residential_areas
    if len(empty) == 0:
        return gpd.GeoDataFrame(columns=[*cols, "geometry"], geometry="geometry", crs=WGS84)
    lon, lat = shapely.get_coordinates(empty.geometry.values).T
    local = empty.to_crs(local_utm_crs(lon, lat))
    rows, geoms = [], []
    for (_, area), poly in zip(empty.iterrows(), local.geometry.values, strict=True):
        minx, miny, maxx, maxy = poly.bounds
        xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
        ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)
        gx, gy = np.meshgrid(xs, ys)
        boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
        pieces = shapely.intersection(boxes, poly)
        pieces = pieces[~shapely.is_empty(pieces) & (shapely.area(pieces) > 1.0)]
        for k, piece in enumerate(pieces):
            rows.append(
                {
                    "osm_id": f"{area['osm_id']}#{k + 1}",
                    "building": "landuse",
                    "building:levels": None,
                    "name": area.get("name"),
                }
            )
            geoms.append(piece)
    cells = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geoms, crs=local.crs))
    return cells.to_crs(WGS84)
