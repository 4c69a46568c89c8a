"""Reading the real OSM extracts: walk filter, facilities, homes."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from circles.config import FACILITY_PRESETS, facility_preset
from circles.errors import InputError, InputFileError
from circles.network import WalkNetwork
from circles.sources.osm import read_osm, residential_homes
from circles.sources.walk_filter import is_street_level, is_walkable

PRIMARY = FACILITY_PRESETS["primary-care"]


@pytest.mark.parametrize(
    ("tags", "walkable"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "residential", "oneway": "yes"}, True),
        ({"highway": "motorway"}, False),
        ({"highway": "motorway_link"}, False),
        ({"highway": "primary", "foot": "no"}, False),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "service", "service": "private"}, False),
        ({"highway": "cycleway"}, False),
        ({"highway": "cycleway", "foot": "designated"}, True),
        ({"highway": "cycleway", "foot": "designated", "access": "private"}, False),
        ({"highway": "secondary", "sidewalk": "separate"}, False),
        ({"highway": "secondary", "sidewalk:left": "separate"}, False),
        ({"highway": "pedestrian", "area": "yes"}, False),
        ({"highway": "platform"}, False),
        ({"highway": "construction"}, False),
        ({"building": "yes"}, False),
    ],
)
def test_walk_filter_follows_osmnx_walk(tags, walkable):
    assert is_walkable(tags) is walkable


def test_helsinki_layers(helsinki_pbf):
    layers = read_osm(helsinki_pbf, PRIMARY)
    # Walkable ways split where the extract cuts them; checked by hand with pyosmium.
    assert len(layers.walkways) == 2419
    assert set(layers.facilities["name"]) == {
        "Diacor Keskusta",
        "Bulevardin Klinikka",
        "Dextra",
        "Vita Lääkäriasema",
        "Mehiläinen",
        "Elielinaukion röntgen",
        "Hypnoosi- ja luontaisterapeuttia Anneli Rusanen",
    }
    homes = residential_homes(layers)
    assert len(homes) == 59
    assert homes["osm_id"].str.match(r"^(way|relation)/\d+$").all()
    assert set(homes["building"]) == {"apartments", "yes"}
    net = WalkNetwork.from_lines(layers.walkways.geometry.values)
    assert (net.n_nodes, net.n_edges) == (5886, 6910)
    assert net.crs.to_epsg() == 32635  # UTM zone 35N


def test_pharmacy_and_custom_presets(helsinki_pbf):
    assert len(read_osm(helsinki_pbf, facility_preset("pharmacy")).facilities) == 6
    dentists = read_osm(helsinki_pbf, facility_preset("amenity=dentist")).facilities
    assert len(dentists) == 5
    with pytest.raises(InputError, match="key=value"):
        facility_preset("dentist")


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(InputFileError, match="no such OSM file"):
        read_osm(tmp_path / "nope.osm.pbf", PRIMARY)
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dthis is not a pbf" * 10)
    with pytest.raises(InputFileError, match="cannot be read as OSM data"):
        read_osm(bad, PRIMARY)


@pytest.mark.shared_data
def test_nanjing_pbf_and_xml_give_the_same_walkways(shared_data):
    base = shared_data / "nanjing_xuanwu_osm" / "nanjing_xuanwu_osmwebwizard"
    pbf = read_osm(base.with_suffix(".osm.pbf"), PRIMARY)
    xml = read_osm(base.with_suffix(".osm.xml"), PRIMARY)
    assert len(pbf.walkways) > 300
    assert sorted(pbf.walkways["osm_id"]) == sorted(xml.walkways["osm_id"])
    coords = lambda layer: shapely.get_coordinates(layer.walkways.sort_values("osm_id").geometry.values)  # noqa: E731
    np.testing.assert_array_equal(coords(pbf), coords(xml))
    # 秦淮区妇幼保健所 is the one primary-care facility (the rest are hospitals).
    assert list(pbf.facilities["name"]) == ["秦淮区妇幼保健所"]


@pytest.mark.shared_data
def test_nanjing_hospital_mapped_twice_counts_once(shared_data):
    path = shared_data / "nanjing_xuanwu_osm" / "nanjing_xuanwu_osmwebwizard.osm.pbf"
    hospitals = read_osm(path, facility_preset("hospital")).facilities
    assert (hospitals["name"] == "八一医院").sum() == 1


@pytest.mark.parametrize(
    ("tags", "street_level"),
    [
        ({"highway": "footway"}, True),
        ({"highway": "service", "tunnel": "yes", "layer": "-4"}, False),
        ({"highway": "footway", "tunnel": "building_passage"}, True),
        ({"highway": "footway", "bridge": "yes", "layer": "1"}, False),
        ({"highway": "footway", "layer": "-1"}, False),
        ({"highway": "corridor"}, False),
        ({"highway": "footway", "indoor": "yes"}, False),
        ({"highway": "footway", "layer": "0"}, True),
    ],
)
def test_street_level(tags, street_level):
    assert is_street_level(tags) is street_level


def test_clinic_above_a_tunnel_attaches_to_the_street(helsinki_pbf):
    # Kaivokatu, central Helsinki: 13 m above the city's underground service tunnel (layer -4), which
    # surfaces far away. A clinic there must attach to the street, not to the tunnel.
    layers = read_osm(helsinki_pbf, PRIMARY)
    walkways = layers.walkways
    assert (~walkways["street_level"]).sum() > 0
    lines = walkways.geometry.values
    everywhere = WalkNetwork.from_lines(lines)
    street = WalkNetwork.from_lines(lines, street_level=walkways["street_level"].to_numpy())
    xy = everywhere.to_local([24.945], [60.169])
    a = everywhere.snap(xy, max_access_leg_m=250)
    b = street.snap(xy, max_access_leg_m=250)
    assert a.access_leg_m[0] < b.access_leg_m[0] < 60
    assert everywhere.edge_street_level is None and street.edge_street_level[b.edge[0]]
    assert not street.edge_street_level[a.edge[0]]


TINY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="60.1700" lon="24.9400"/>
  <node id="2" lat="60.1700" lon="24.9410"/>
  <node id="3" lat="60.1705" lon="24.9410"/>
  <node id="4" lat="60.1705" lon="24.9400"/>
  <node id="5" lat="60.1700" lon="24.9405"><tag k="entrance" v="main"/></node>
  <node id="11" lat="60.1710" lon="24.9400"/>
  <node id="12" lat="60.1710" lon="24.9410"/>
  <node id="13" lat="60.1715" lon="24.9410"/>
  <node id="14" lat="60.1715" lon="24.9400"/>
  <node id="20" lat="60.1712" lon="24.9405"><tag k="amenity" v="doctors"/><tag k="name" v="Inside"/></node>
  <node id="21" lat="60.1698" lon="24.9390"/>
  <node id="22" lat="60.1698" lon="24.9420"/>
  <way id="100"><nd ref="1"/><nd ref="5"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="building" v="yes"/><tag k="amenity" v="clinic"/><tag k="name" v="Door"/></way>
  <way id="101"><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="14"/><nd ref="11"/>
    <tag k="building" v="yes"/><tag k="amenity" v="clinic"/><tag k="name" v="Inside"/></way>
  <way id="200"><nd ref="21"/><nd ref="22"/><tag k="highway" v="footway"/></way>
</osm>
"""


def test_facility_buildings_sit_at_their_entrance(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(TINY_OSM, encoding="utf-8")
    fac = read_osm(path, PRIMARY).facilities.set_index("osm_id")
    # The clinic building with an entrance node is placed at that door; the building with a
    # doctors node inside counts once, as the node.
    assert sorted(fac.index) == ["node/20", "way/100"]
    door = fac.loc["way/100"]
    assert door["located_at"] == "entrance"
    assert (door.geometry.x, door.geometry.y) == (24.9405, 60.17)
    assert fac.loc["node/20", "located_at"] == "node"


# ---------------------------------------------------------------------------------------------
# Facility tags with any key (issue 11, item 7)


def _osmnx_ids_once(xml_path, tags: dict[str, list[str]]) -> set[str]:
    """What OSMnx finds for the tags, minus polygons holding a matching node (counted once by us)."""
    import warnings

    import osmnx as ox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = ox.features_from_xml(xml_path, tags=tags)
    ids = [f"{element}/{osm_id}" for element, osm_id in found.index]
    nodes = [g for i, g in zip(ids, found.geometry, strict=True) if i.startswith("node/")]
    keep = set()
    for i, geom in zip(ids, found.geometry, strict=True):
        if i.startswith("node/") or not any(geom.contains(n) for n in nodes):
            keep.add(i)
    return keep


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("spec", "count"),
    [("shop=supermarket,shop=convenience", 16), ("tourism=hotel", 16), ("leisure=pitch", 23)],
)
def test_custom_tags_on_nanjing_match_osmnx(shared_data, spec, count):
    base = shared_data / "nanjing_xuanwu_osm" / "nanjing_xuanwu_osmwebwizard"
    preset = facility_preset(spec)
    tags: dict[str, list[str]] = {}
    for key, value in preset.tags:
        tags.setdefault(key, []).append(value)
    expected = _osmnx_ids_once(base.with_suffix(".osm.xml"), tags)
    key = preset.tags[0][0]
    for path in (base.with_suffix(".osm.xml"), base.with_suffix(".osm.pbf")):
        facilities = read_osm(path, preset).facilities
        assert set(facilities["osm_id"]) == expected
        assert len(facilities) == count
        # The key is kept as a column with the values asked for.
        assert set(facilities[key]) == {v for k, v in preset.tags if k == key}


def test_custom_key_on_helsinki_pbf(helsinki_pbf):
    import osmium

    opticians = read_osm(helsinki_pbf, facility_preset("shop=optician")).facilities
    # 18 optician nodes in the extract (counted with pyosmium directly), none mapped twice.
    direct = [
        o.id
        for o in osmium.FileProcessor(str(helsinki_pbf)).with_filter(
            osmium.filter.TagFilter(("shop", "optician"))
        )
        if o.is_node()
    ]
    assert len(direct) == 18
    assert sorted(opticians["osm_id"]) == sorted(f"node/{i}" for i in direct)
    assert set(opticians["shop"]) == {"optician"}
    assert opticians["amenity"].isna().all()


def test_custom_tags_reach_the_facility_layer_through_the_cli(helsinki_pbf, tmp_path):
    import json
    import subprocess
    import sys

    import geopandas as gpd

    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "circles", "run", "--pbf", str(helsinki_pbf), "--facilities", "shop=optician",
         "--out", str(out), "-q"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    written = gpd.read_file(out / "facilities.gpkg")
    assert len(written) == 18 and set(written["shop"]) == {"optician"}
    assert (
        "shop=optician"
        in json.loads((out / "summary.json").read_text(encoding="utf-8"))["sources"]["facilities"]
    )
