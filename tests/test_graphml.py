"""GraphML walk networks: a hand-made OSMnx graph and the real western-Futian export."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

from circles.errors import EmptyResultError, InputFileError
from circles.network import WalkNetwork
from circles.sources.graphml import read_graphml_walkways

UTM50 = "EPSG:32650"
X0, Y0 = 500_000.0, 2_490_000.0


def _tiny_graph() -> nx.MultiDiGraph:
    r"""A square 300 m x 400 m in UTM 50N with a few kinds of edges.

    ::

        4 ---- cycleway, foot=designated (400) ---- 1
        | \                                        / |
        |  path detour via (-300, 200): 2 x 250 m  |
        |                                           |
        residential;motorway_link (dropped)   residential 1-2 (300)
        |                                           |
        3 -- footway;steps via (600, 400): 500+300 -- 2      1-3 motorway (dropped)

    """
    g = nx.MultiDiGraph(crs=UTM50)
    for node, (dx, dy) in {1: (0, 0), 2: (300, 0), 3: (300, 400), 4: (0, 400)}.items():
        g.add_node(node, x=X0 + dx, y=Y0 + dy)

    def xy(*pts):
        return shapely.LineString([(X0 + dx, Y0 + dy) for dx, dy in pts])

    # Two-way residential street without geometry: one street of 300 m.
    g.add_edge(1, 2, osmid=10, highway="residential", name="Main St", oneway=False, reversed=False)
    g.add_edge(2, 1, osmid=10, highway="residential", name="Main St", oneway=False, reversed=True)
    # A merged footway + steps chain with a bend, both directions: 500 + 300 m.
    bend = xy((300, 0), (600, 400), (300, 400))
    g.add_edge(2, 3, osmid=[11, 12], highway=["footway", "steps"], geometry=bend)
    g.add_edge(3, 2, osmid=[11, 12], highway=["footway", "steps"], geometry=bend.reverse())
    # Motorway: never walkable.
    g.add_edge(1, 3, osmid=13, highway="motorway")
    # A merged chain containing a motorway ramp: dropped (every merged way must be walkable).
    g.add_edge(3, 4, osmid=[14, 15], highway=["residential", "motorway_link"])
    # A shared foot-and-cycle path: walkable (foot=designated), 400 m.
    g.add_edge(4, 1, osmid=16, highway="cycleway", foot="designated")
    # A private service road parallel to it: dropped.
    g.add_edge(4, 1, osmid=17, highway="service", access="private", geometry=xy((0, 400), (10, 200), (0, 0)))
    # A second street between 1 and 4 with a different shape: kept, 2 x 250 m.
    g.add_edge(1, 4, osmid=18, highway="path", geometry=xy((0, 0), (-150, 200), (0, 400)))
    return g


@pytest.fixture
def tiny_graphml(tmp_path):
    import osmnx as ox

    path = tmp_path / "tiny.graphml"
    ox.save_graphml(_tiny_graph(), path)
    return path


def test_tiny_graphml_filter_dedupe_and_lengths(tiny_graphml):
    ways = read_graphml_walkways(tiny_graphml)
    assert ways.crs.to_epsg() == 4326
    assert list(ways.columns) == ["osm_id", "highway", "name", "street_level", "geometry"]
    assert ways["street_level"].all()
    assert sorted(ways["osm_id"]) == ["way/10", "way/11;way/12", "way/16", "way/18"]
    by_id = ways.set_index("osm_id")
    assert by_id.loc["way/11;way/12", "highway"] == "footway;steps"
    assert by_id.loc["way/10", "name"] == "Main St"
    net = WalkNetwork.from_lines(ways.geometry.values, projected_crs=UTM50)
    lengths = sorted(np.round(net.edge_length_m, 6))
    # 1-2: 300; bend 500 + 300; cycleway 400; path detour 250 + 250.
    assert lengths == [250.0, 250.0, 300.0, 300.0, 400.0, 500.0]
    assert net.edge_length_m.sum() == pytest.approx(2000.0, abs=1e-6)
    # Same answer in the local UTM zone chosen automatically (it is zone 50 here).
    auto = WalkNetwork.from_lines(ways.geometry.values)
    assert auto.crs.to_epsg() == 32650
    assert auto.edge_length_m.sum() == pytest.approx(2000.0, abs=1e-6)


def test_graphml_errors(tmp_path):
    with pytest.raises(InputFileError, match="no such GraphML file"):
        read_graphml_walkways(tmp_path / "missing.graphml")
    empty = tmp_path / "empty.graphml"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="the file is empty"):
        read_graphml_walkways(empty)
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><graph>", encoding="utf-8")
    with pytest.raises(InputFileError, match="cannot be read as an OSMnx GraphML file"):
        read_graphml_walkways(broken)
    plain = tmp_path / "plain.graphml"
    g = nx.MultiDiGraph()
    g.add_edge(1, 2, highway="footway")
    nx.write_graphml(g, plain)
    with pytest.raises(InputFileError, match="has no x/y coordinates"):
        read_graphml_walkways(plain)


def test_graphml_without_walkable_edges(tmp_path):
    import osmnx as ox

    g = nx.MultiDiGraph(crs="EPSG:4326")
    g.add_node(1, x=114.0, y=22.5)
    g.add_node(2, x=114.01, y=22.5)
    g.add_edge(1, 2, osmid=1, highway="motorway")
    path = tmp_path / "motorway.graphml"
    ox.save_graphml(g, path)
    with pytest.raises(EmptyResultError, match="none of its 1 edges is walkable"):
        read_graphml_walkways(path)


@pytest.mark.shared_data
def test_futian_graphml(shared_data):
    path = shared_data / "shenzhen_futian_walk_graph" / "shenzhen_futian_xiangmihu_all.graphml"
    ways = read_graphml_walkways(path)
    # 4,009 directed edges; the walk filter keeps 3,928 over 1,732 nodes (drops 33 motorway_link,
    # 46 access=private, 2 merged cycleway+service), which are 2,536 undirected streets.
    assert len(ways) == 2536
    assert ways["osm_id"].str.startswith("way/").all()
    assert not ways["highway"].str.contains("motorway").any()
    assert (ways["highway"] == "trunk_link").sum() == 24  # walkable under the OSMnx walk filter
    net = WalkNetwork.from_lines(ways.geometry.values)
    assert (net.n_nodes, net.n_edges) == (8068, 8872)
    sizes = np.bincount(net.component)
    assert sizes.size == 5
    assert sizes.max() == 7997  # 99.1 % of the nodes in one component
    # 221 km of streets; the UTM lengths agree with geodesic lengths of the same lines.
    assert net.edge_length_m.sum() == pytest.approx(220_810.3, abs=0.1)
    geod = pyproj.Geod(ellps="WGS84")
    geodesic_m = sum(geod.geometry_length(g) for g in ways.geometry)
    assert net.edge_length_m.sum() == pytest.approx(geodesic_m, rel=1e-3)


@pytest.mark.shared_data
@pytest.mark.slow
def test_graphml_and_osm_reader_give_the_same_network(shared_data, tmp_path):
    """One walk filter, two loaders: an OSMnx graph of an .osm file vs the pyosmium reader."""
    import osmnx as ox

    from circles.config import facility_preset
    from circles.sources.online import osmnx_settings
    from circles.sources.osm import read_osm

    xml = shared_data / "nanjing_xuanwu_osm" / "nanjing_xuanwu_osmwebwizard.osm.xml"
    with osmnx_settings():  # keeps foot/sidewalk tags on edges, restores osmnx.settings after
        graph = ox.graph_from_xml(xml, simplify=False, retain_all=True)
    path = tmp_path / "nanjing.graphml"
    ox.save_graphml(graph, path)
    from_graphml = read_graphml_walkways(path)
    from_osm = read_osm(xml, facility_preset("primary-care")).walkways
    assert set(from_graphml["osm_id"]) == set(from_osm["osm_id"])
    assert len(set(from_osm["osm_id"])) == 383
    a = WalkNetwork.from_lines(from_graphml.geometry.values)
    b = WalkNetwork.from_lines(from_osm.geometry.values, projected_crs=a.crs)
    assert a.n_edges == b.n_edges == 1772
    assert a.edge_length_m.sum() == pytest.approx(b.edge_length_m.sum(), abs=1e-6)
    assert a.edge_length_m.sum() == pytest.approx(86_879.7, abs=0.1)
