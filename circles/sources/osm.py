"""Walk network, facilities, homes and residential land use from an OSM file.

One pass over a ``.osm.pbf`` or ``.osm``/``.xml`` file with pyosmium: the same code
and the same walk filter for both formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from circles.config import GENERIC_BUILDINGS, RESIDENTIAL_BUILDINGS, TagPreset
from circles.crs import WGS84_CODE as WGS84
from circles.errors import InputFileError
from circles.sources.formats import OSM_SUFFIXES
from circles.sources.geo import check_input_file
from circles.sources.limits import bound_text
from circles.sources.walk_filter import is_street_level, is_walkable
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


def _lines_of_way(way: osmium.osm.Way) -> list[list[tuple[float, float]]]:
    """Coordinate runs of a way, split where a node lies outside the extract."""
    runs: list[list[tuple[float, float]]] = [[]]
    for node in way.nodes:
        loc = node.location
        if loc.valid():
            runs[-1].append((loc.lon, loc.lat))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if len(r) >= 2]


def facility_keys(facility_tags: TagPreset) -> tuple[str, ...]:
    """Columns of a facility layer: :data:`KEEP_TAGS` and every key the facility tags name."""
    return tuple(dict.fromkeys([*KEEP_TAGS, *(key for key, _ in facility_tags.tags)]))


def _frame(rows: list[dict], geoms: list, keys: tuple[str, ...] = KEEP_TAGS) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows, columns=["osm_id", *keys]) if rows else pd.DataFrame(columns=["osm_id", *keys])
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
    area_keys = tuple(dict.fromkeys(("building", "landuse", *tag_keys)))
    processor = (
        osmium.FileProcessor(str(path))
        .with_areas(osmium.filter.KeyFilter(*area_keys))
        .with_filter(osmium.filter.KeyFilter(*dict.fromkeys(("highway", *area_keys, "entrance"))))
    )
    found = _Collected(facility_tags, networks)
    try:
        for obj in processor:
            tags = dict(obj.tags)
            if obj.is_node():
                found.node(obj, tags)
            elif obj.is_way():
                found.way(obj, tags)
            elif obj.is_area():
                found.area(obj, tags)
    except RuntimeError as exc:
        raise InputFileError(
            f"cannot be read as OSM data ({exc})",
            where=str(path),
            fix="check that it is a complete .osm.pbf or .osm file",
        ) from None
    return found.layers()


class _Collected:
    """Rows and geometries of each layer, gathered in one pass over the file."""

    def __init__(self, facility_tags: TagPreset, networks: tuple[str, ...] = ("walk",)) -> None:
        self.networks = tuple(dict.fromkeys(networks))
        unknown = [n for n in self.networks if n != "walk" and n not in NETWORK_FILTERS]
        if unknown:
            raise ValueError(f"unknown networks {unknown}")
        if self.networks != ("walk",):  # walking alone keeps the lean path below
            self.way = self._mode_way  # type: ignore[method-assign]
            filters = {"walk": is_walkable, **NETWORK_FILTERS}
            self.filters = tuple((f"net_{n}", filters[n]) for n in self.networks)
            self.way_keys = tuple(dict.fromkeys([*KEEP_TAGS, *MODE_TAGS]))
        self.tags = facility_tags
        self.keys = facility_keys(facility_tags)
        self.wkb = osmium.geom.WKBFactory()
        self.ways: tuple[list[dict], list, list[bool]] = ([], [], [])
        self.facilities: tuple[list[dict], list] = ([], [])
        self.buildings: tuple[list[dict], list] = ([], [])
        self.landuse: tuple[list[dict], list] = ([], [])
        self.entrances: list[tuple[float, float, bool, int]] = []

    def node(self, obj: osmium.osm.Node, tags: dict[str, str]) -> None:
        if not obj.location.valid():
            return
        loc = obj.location
        if tags.get("entrance", "no") != "no":
            self.entrances.append((loc.lon, loc.lat, tags["entrance"] == "main", obj.id))
        if self.tags.matches(tags):
            self.facilities[0].append(_row(f"node/{obj.id}", tags, self.keys))
            self.facilities[1].append(shapely.Point(loc.lon, loc.lat))

    def way(self, obj: osmium.osm.Way, tags: dict[str, str]) -> None:
        if not is_walkable(tags):
            return
        level = is_street_level(tags)
        for run in _lines_of_way(obj):
            self.ways[0].append(_row(f"way/{obj.id}", tags))
            self.ways[1].append(shapely.LineString(run))
            self.ways[2].append(level)

    def _mode_way(self, obj: osmium.osm.Way, tags: dict[str, str]) -> None:
        if "highway" not in tags:
            return
        flags = {column: passes(tags) for column, passes in self.filters}
        if not any(flags.values()):
            return
        level = is_street_level(tags)
        for run in _lines_of_way(obj):
            self.ways[0].append({**_row(f"way/{obj.id}", tags, self.way_keys), **flags})
            self.ways[1].append(shapely.LineString(run))
            self.ways[2].append(level)

    def area(self, obj: osmium.osm.Area, tags: dict[str, str]) -> None:
        osm_id = f"{'way' if obj.from_way() else 'relation'}/{obj.orig_id()}"
        try:
            geom = shapely.from_wkb(self.wkb.create_multipolygon(obj))
        except RuntimeError:
            return  # broken ring in the extract: skip this polygon
        if "building" in tags:
            self.buildings[0].append(_row(osm_id, tags))
            self.buildings[1].append(geom)
        if tags.get("landuse") == "residential":
            self.landuse[0].append(_row(osm_id, tags))
            self.landuse[1].append(geom)
        if self.tags.matches(tags):
            self.facilities[0].append({**_row(osm_id, tags, self.keys), "_polygon": geom})
            self.facilities[1].append(geom.point_on_surface())

    def layers(self) -> OsmLayers:
        rows, geoms = self.facilities
        facilities = dedupe_facilities(rows, place_at_entrances(rows, geoms, self.entrances), self.keys)
        if self.networks == ("walk",):
            walkways = _frame(self.ways[0], self.ways[1])
        else:
            walkways = _frame(self.ways[0], self.ways[1], (*self.way_keys, *(c for c, _ in self.filters)))
            for column, _ in self.filters:
                walkways[column] = walkways[column].astype(bool)
        walkways["street_level"] = np.array(self.ways[2], dtype=bool)
        return OsmLayers(
            walkways=walkways,
            facilities=facilities,
            buildings=_frame(*self.buildings),
            residential_areas=_frame(*self.landuse),
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


def _row(osm_id: str, tags: dict[str, str], keys: tuple[str, ...] = KEEP_TAGS) -> dict:
    row: dict = {"osm_id": osm_id}
    row.update({k: bound_text(tags.get(k)) for k in keys})
    return row


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
