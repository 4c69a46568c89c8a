"""One pass over an OSM file with pyosmium: each layer's tags and geometries, gathered in bulk.

The objects reach Python already filtered in C++ (nodes with a facility key or
``entrance``, ways with ``highway``, areas with ``building``, ``landuse`` or a facility
key); their geometries are made in C++ as WKB (:class:`osmium.geom.WKBFactory`) and
decoded at the end in one vectorised :func:`shapely.from_wkb`; areas and nodes look up
only the tags their layers keep. :mod:`circles.sources.osm` turns what is gathered into
frames.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import shapely
from osmium.osm import AREA, NODE, WAY

from circles.config import TagPreset
from circles.sources.limits import bound_text
from circles.sources.walk_filter import is_street_level, is_walkable

__all__ = ["Gathered", "OsmPass", "lines_of_way", "osm_processor"]

_LINE_ERRORS = (RuntimeError, osmium.InvalidLocationError)


def lines_of_way(way: osmium.osm.Way) -> list[list[tuple[float, float]]]:
    """Coordinate runs of a way, split where a node lies outside the extract (runs of 2+ nodes).

    Parameters
    ----------
    way : osmium.osm.Way
        A way read with node locations.

    Returns
    -------
    list of list of (lon, lat)
    """
    runs: list[list[tuple[float, float]]] = [[]]
    for node in way.nodes:
        loc = node.location
        if loc.valid():
            runs[-1].append((loc.lon, loc.lat))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if len(r) >= 2]


def osm_processor(
    path: str | Path, *, node_keys: tuple[str, ...], area_keys: tuple[str, ...]
) -> osmium.FileProcessor:
    """A processor yielding nodes with ``node_keys``, ways with ``highway``, areas with ``area_keys``.

    Parameters
    ----------
    path : str or Path
    node_keys : tuple of str
        Keys a node needs one of to be yielded (facility keys, ``entrance``).
    area_keys : tuple of str
        Keys an area (closed way or multipolygon relation) needs one of.

    Returns
    -------
    osmium.FileProcessor
    """
    nodes = osmium.filter.KeyFilter(*node_keys)
    nodes.enable_for(NODE)
    ways = osmium.filter.KeyFilter("highway")
    ways.enable_for(WAY)
    areas = osmium.filter.KeyFilter(*area_keys)
    areas.enable_for(AREA)
    return (
        osmium.FileProcessor(str(path))
        .with_areas(osmium.filter.KeyFilter(*area_keys))
        .with_filter(osmium.filter.EntityFilter(NODE | WAY | AREA))
        .with_filter(nodes)
        .with_filter(ways)
        .with_filter(areas)
    )


@dataclass
class Gathered:
    """What one pass found, before it becomes frames.

    Attributes
    ----------
    way_rows : list of tuple
        Per way piece: ``osm_id``, the values of the way keys (and the network flags).
    way_geoms : ndarray of LineString
    street_level : list of bool
    facility_rows : list of dict
        ``osm_id`` and the facility keys; polygons carry their outline under ``"_polygon"``.
    facility_geoms : list of Point
    building_rows, landuse_rows : list of tuple
        ``osm_id`` and the area keys.
    building_geoms, landuse_geoms : ndarray of (Multi)Polygon
    entrances : list of (lon, lat, is_main, node_id)
    """

    way_rows: list[tuple] = field(default_factory=list)
    way_geoms: np.ndarray | list = field(default_factory=list)
    street_level: list[bool] = field(default_factory=list)
    facility_rows: list[dict] = field(default_factory=list)
    facility_geoms: list = field(default_factory=list)
    building_rows: list[tuple] = field(default_factory=list)
    building_geoms: np.ndarray | list = field(default_factory=list)
    landuse_rows: list[tuple] = field(default_factory=list)
    landuse_geoms: np.ndarray | list = field(default_factory=list)
    entrances: list[tuple[float, float, bool, int]] = field(default_factory=list)


class OsmPass:
    """The per-object callbacks of one pass: :meth:`node`, :meth:`way`, :meth:`area`; then :meth:`finish`.

    Parameters
    ----------
    facility_tags : TagPreset
    way_keys : tuple of str
        Tags kept per way piece.
    area_keys : tuple of str
        Tags kept per building and residential area.
    facility_keys : tuple of str
        Tags kept per facility.
    filters : tuple of (column, callable), optional
        Networks to read for (each a tag filter): a way is kept when any passes, with
        one flag per filter. Without them, walking alone (:func:`is_walkable`).
    """

    def __init__(
        self,
        facility_tags: TagPreset,
        *,
        way_keys: tuple[str, ...],
        area_keys: tuple[str, ...],
        facility_keys: tuple[str, ...],
        filters: tuple[tuple[str, Callable[[Mapping[str, str]], bool]], ...] = (),
    ) -> None:
        self.preset = facility_tags
        self.way_keys = way_keys
        self.area_keys = area_keys
        self.facility_keys = facility_keys
        self.filters = filters
        self.building_at = area_keys.index("building")
        self.landuse_at = area_keys.index("landuse")
        # The facility keys, each with its place among the area keys (-1: looked up on its own).
        self.preset_keys = tuple(
            (key, area_keys.index(key) if key in area_keys else -1)
            for key in dict.fromkeys(key for key, _ in facility_tags.tags)
        )
        self.wkb = osmium.geom.WKBFactory()
        self.found = Gathered()
        self.way_wkb: list[str] = []
        self.area_wkb: list[str] = []
        self.building_index: list[int] = []
        self.landuse_index: list[int] = []

    def node(self, obj: osmium.osm.Node) -> None:
        """An entrance (kept for placing facilities) and/or a facility node.

        Parameters
        ----------
        obj : osmium.osm.Node
        """
        loc = obj.location
        if not loc.valid():
            return
        tags = obj.tags
        entrance = tags.get("entrance", "no")
        if entrance != "no":
            self.found.entrances.append((loc.lon, loc.lat, entrance == "main", obj.id))
        if self.preset.matches(tags):
            self.found.facility_rows.append(_row(f"node/{obj.id}", tags, self.facility_keys))
            self.found.facility_geoms.append(shapely.Point(loc.lon, loc.lat))

    def way(self, obj: osmium.osm.Way) -> None:
        """A way with ``highway``: kept, one row per piece, when a network may use it.

        Parameters
        ----------
        obj : osmium.osm.Way
        """
        tags = dict(obj.tags)
        if self.filters:
            flags = tuple(passes(tags) for _, passes in self.filters)
            if not any(flags):
                return
        elif not is_walkable(tags):
            return
        else:
            flags = ()
        row = (f"way/{obj.id}", *map(tags.get, self.way_keys), *flags)
        level = is_street_level(tags)
        for wkb in self._line_wkb(obj):
            self.found.way_rows.append(row)
            self.way_wkb.append(wkb)
            self.found.street_level.append(level)

    def _line_wkb(self, obj: osmium.osm.Way) -> list[str]:
        """The way as one WKB line, or its runs of nodes inside the extract when some lie outside."""
        try:
            return [self.wkb.create_linestring(obj, use_nodes=osmium.geom.ALL)]
        except _LINE_ERRORS:
            return [shapely.LineString(run).wkb_hex for run in lines_of_way(obj)]

    def area(self, obj: osmium.osm.Area) -> None:
        """A building, residential land and/or a facility mapped as a polygon.

        Parameters
        ----------
        obj : osmium.osm.Area
        """
        tags = obj.tags
        values = tuple(map(tags.get, self.area_keys))
        building = values[self.building_at] is not None
        landuse = values[self.landuse_at] == "residential"
        found = {k: values[i] if i >= 0 else tags.get(k) for k, i in self.preset_keys}
        facility = any(v is not None for v in found.values()) and self.preset.matches(found)
        if not (building or landuse or facility):
            return
        try:
            wkb = self.wkb.create_multipolygon(obj)
        except RuntimeError:
            return  # broken ring in the extract: skip this polygon
        osm_id = f"{'way' if obj.from_way() else 'relation'}/{obj.orig_id()}"
        index = len(self.area_wkb)
        self.area_wkb.append(wkb)
        if building:
            self.building_index.append(index)
            self.found.building_rows.append((osm_id, *values))
        if landuse:
            self.landuse_index.append(index)
            self.found.landuse_rows.append((osm_id, *values))
        if facility:
            self.found.facility_rows.append({**_row(osm_id, tags, self.facility_keys), "_polygon": index})
            self.found.facility_geoms.append(None)

    def finish(self) -> Gathered:
        """Decode every geometry at once; facility polygons get their point on the surface."""
        found = self.found
        found.way_geoms = _decode(self.way_wkb)
        areas = _decode(self.area_wkb)
        found.building_geoms = areas[np.asarray(self.building_index, dtype=np.intp)]
        found.landuse_geoms = areas[np.asarray(self.landuse_index, dtype=np.intp)]
        polygons = [i for i, row in enumerate(found.facility_rows) if "_polygon" in row]
        if polygons:
            outlines = areas[[found.facility_rows[i]["_polygon"] for i in polygons]]
            for i, outline, point in zip(polygons, outlines, shapely.point_on_surface(outlines), strict=True):
                found.facility_rows[i]["_polygon"] = outline
                found.facility_geoms[i] = point
        return found


def _decode(wkb: list[str]) -> np.ndarray:
    """Geometries of hex WKB; GEOS reads binary WKB 3x faster than hex, so it is unhexed first."""
    if not wkb:
        return np.empty(0, dtype=object)
    return shapely.from_wkb(np.fromiter(map(bytes.fromhex, wkb), dtype=object, count=len(wkb)))


def _row(osm_id: str, tags: Mapping[str, str], keys: tuple[str, ...]) -> dict:
    row: dict = {"osm_id": osm_id}
    row.update({k: bound_text(tags.get(k)) for k in keys})
    return row
