"""The bulk reader (C++ filters, WKB made by pyosmium, one vectorised decode) against a plain per-object read.

The reference below is the straightforward way to read the same layers: a pyosmium
handler seeing every object, all tags copied into a dict, one shapely geometry per
object built from Python coordinates. Both must give the same rows, tags and
geometries (compared as WKB, byte for byte) on a hand-written file holding the cases a
reader can get wrong: a way cut by the extract in the middle and at an end, repeated
locations, a one-node way, an excluded way, a tunnel, an over-long name, a building with
levels, a multipolygon with a hole, residential land, facilities as node and building.
"""

from __future__ import annotations

import osmium
import pandas as pd
import pytest
import shapely

from circles.config import facility_preset
from circles.sources.limits import MAX_TEXT_CHARS, TRUNCATION_MARKER, bound_text
from circles.sources.osm import KEEP_TAGS, read_osm
from circles.sources.walk_filter import is_street_level, is_walkable
from circles.sources.way_filters import MODE_TAGS, NETWORK_FILTERS

LONG_NAME = "Very long lane " * 50  # 750 characters: cut to MAX_TEXT_CHARS


def _nodes() -> str:
    coords = {
        31: (24.9400, 60.1700), 32: (24.9410, 60.1700), 33: (24.9410, 60.1700), 34: (24.9420, 60.1705),
        35: (24.9400, 60.1720), 36: (24.9410, 60.1720), 37: (24.9420, 60.1720), 38: (24.9430, 60.1720),
        39: (24.9400, 60.1730), 40: (24.9410, 60.1730), 41: (24.9420, 60.1730), 42: (24.9400, 60.1740),
        43: (24.9410, 60.1740), 51: (24.9450, 60.1700), 52: (24.9460, 60.1700), 53: (24.9460, 60.1705),
        54: (24.9450, 60.1705), 61: (24.9500, 60.1700), 62: (24.9530, 60.1700), 63: (24.9530, 60.1730),
        64: (24.9500, 60.1730), 65: (24.9510, 60.1710), 66: (24.9520, 60.1710), 67: (24.9520, 60.1720),
        68: (24.9510, 60.1720), 71: (24.9600, 60.1700), 72: (24.9610, 60.1700), 73: (24.9610, 60.1710),
        74: (24.9600, 60.1710),
    }  # fmt: skip
    nodes = [f'<node id="{i}" lat="{lat}" lon="{lon}"/>' for i, (lon, lat) in coords.items()]
    nodes.append('<node id="80" lat="60.1702" lon="24.9455"><tag k="entrance" v="main"/></node>')
    nodes.append(
        '<node id="81" lat="60.1750" lon="24.9400"><tag k="amenity" v="clinic"/><tag k="name" v="N"/></node>'
    )
    return "\n".join(nodes)


def _way(way_id: int, refs: list[int], **tags: str) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    tag_xml = "".join(f'<tag k="{k.replace("_", ":")}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{way_id}">{nds}{tag_xml}</way>'


TEST_OSM = f"""<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
{_nodes()}
{_way(300, [31, 32, 33, 34], highway="footway", name="Repeated location")}
{_way(301, [35, 36, 999, 37, 38], highway="residential", oneway="yes")}
{_way(302, [39, 998, 40, 41], highway="service")}
{_way(303, [39, 42], highway="service", access="private")}
{_way(304, [40, 43], highway="primary", tunnel="yes", layer="-1")}
{_way(305, [41, 43], highway="footway", name=LONG_NAME)}
{_way(306, [42], highway="footway")}
{_way(307, [997, 996], highway="footway")}
{_way(308, [41, 38], highway="motorway")}
{_way(309, [51, 80, 52, 53, 54, 51], building="apartments", building_levels="7", amenity="clinic")}
{_way(310, [61, 62, 63, 64, 61])}
{_way(311, [65, 66, 67, 68, 65])}
{_way(312, [71, 72, 73, 74, 71], landuse="residential", name="Estate")}
{_way(313, [71, 72, 73, 74, 71], highway="pedestrian", area="yes")}
<relation id="400">
  <member type="way" ref="310" role="outer"/><member type="way" ref="311" role="inner"/>
  <tag k="type" v="multipolygon"/><tag k="landuse" v="residential"/><tag k="building" v="yes"/>
</relation>
</osm>
"""


class _Reference(osmium.SimpleHandler):
    """Every object, all its tags as a dict, one shapely geometry per object."""

    def __init__(self, filters):
        super().__init__()
        self.filters = filters
        self.ways, self.buildings, self.landuse = [], [], []
        self.wkb = osmium.geom.WKBFactory()

    def way(self, w):
        tags = dict(w.tags)
        flags = [passes(tags) for _, passes in self.filters]
        if not any(flags):
            return
        runs, run = [], []
        for node in w.nodes:
            if node.location.valid():
                run.append((node.location.lon, node.location.lat))
            else:
                runs.append(run)
                run = []
        runs.append(run)
        keys = (*KEEP_TAGS, *MODE_TAGS) if len(self.filters) > 1 else KEEP_TAGS
        for run in (r for r in runs if len(r) >= 2):
            row = {"osm_id": f"way/{w.id}", **{k: bound_text(tags.get(k)) for k in dict.fromkeys(keys)}}
            if len(self.filters) > 1:
                row |= {c: f for (c, _), f in zip(self.filters, flags, strict=True)}
            self.ways.append((row, run, is_street_level(tags)))

    def area(self, a):
        tags = dict(a.tags)
        osm_id = f"{'way' if a.from_way() else 'relation'}/{a.orig_id()}"
        geom = shapely.from_wkb(self.wkb.create_multipolygon(a))
        row = {"osm_id": osm_id, **{k: bound_text(tags.get(k)) for k in KEEP_TAGS}}
        if "building" in tags:
            self.buildings.append((row, geom))
        if tags.get("landuse") == "residential":
            self.landuse.append((row, geom))


@pytest.fixture
def test_osm(tmp_path):
    path = tmp_path / "cases.osm"
    path.write_text(TEST_OSM, encoding="utf-8")
    return path


def _same(frame, expected_rows, expected_geoms):
    columns = [c for c in frame.columns if c not in ("geometry", "street_level")]
    got = pd.DataFrame(frame[columns]).astype(object).where(frame[columns].notna(), None)
    assert got.to_dict("records") == expected_rows
    assert shapely.to_wkb(frame.geometry.values).tolist() == shapely.to_wkb(expected_geoms).tolist()


@pytest.mark.parametrize("networks", [("walk",), ("walk", "drive", "bike")])
def test_bulk_reader_matches_a_plain_per_object_read(test_osm, networks):
    filters = [("net_walk", is_walkable)] + [(f"net_{n}", NETWORK_FILTERS[n]) for n in networks[1:]]
    ref = _Reference(filters)
    ref.apply_file(str(test_osm), locations=True)
    layers = read_osm(test_osm, facility_preset("primary-care"), networks=networks)

    rows = [r for r, _, _ in ref.ways]
    _same(layers.walkways, rows, [shapely.LineString(run) for _, run, _ in ref.ways])
    assert layers.walkways["street_level"].tolist() == [level for _, _, level in ref.ways]
    _same(layers.buildings, [r for r, _ in ref.buildings], [g for _, g in ref.buildings])
    _same(layers.residential_areas, [r for r, _ in ref.landuse], [g for _, g in ref.landuse])

    # The cases themselves, so that the reference cannot agree by being wrong in the same way.
    ids = layers.walkways["osm_id"].tolist()
    walk_ids = [i for i, w in zip(ids, layers.walkways.get("net_walk", [True] * len(ids)), strict=True) if w]
    assert walk_ids == ["way/300", "way/301", "way/301", "way/302", "way/304", "way/305"]
    assert "way/308" in ids if "drive" in networks else "way/308" not in ids  # motorways: driving only
    assert len(layers.walkways.geometry.iloc[0].coords) == 4  # a repeated location is kept
    pieces = layers.walkways.geometry.values[[i for i, x in enumerate(ids) if x == "way/301"]]
    assert [len(p.coords) for p in pieces] == [2, 2]  # cut where node 999 is missing
    name = layers.walkways.set_index("osm_id").loc["way/305", "name"]
    assert len(name) == MAX_TEXT_CHARS + len(TRUNCATION_MARKER) and name.endswith(TRUNCATION_MARKER)
    assert layers.walkways.set_index("osm_id").loc["way/304", "street_level"] == False  # noqa: E712
    assert layers.buildings["osm_id"].tolist() == ["way/309", "relation/400"]
    assert list(shapely.get_num_interior_rings(layers.buildings.geometry.values[1].geoms)) == [1]
    assert layers.buildings.set_index("osm_id").loc["way/309", "building:levels"] == "7"
    assert sorted(layers.residential_areas["osm_id"]) == ["relation/400", "way/312"]
    fac = layers.facilities.set_index("osm_id")
    assert sorted(fac.index) == ["node/81", "way/309"]
    assert fac.loc["way/309", "located_at"] == "entrance"
    assert (fac.loc["way/309"].geometry.x, fac.loc["way/309"].geometry.y) == (24.9455, 60.1702)
