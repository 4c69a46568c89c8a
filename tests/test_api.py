"""The Python API a notebook user meets: what analyse() accepts, directed weighted graphs, clear errors."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

import circles
from circles import StudyResult, TravelSettings, WalkNetwork, analyse
from circles.engine import SearchPlan, nearest_facility, pair_costs
from circles.errors import InputError
from circles.testing import reference_distances

UTM = "EPSG:32650"


def hand_graph() -> nx.MultiDiGraph:
    """A(0,0) -> B(100,0) -> C(100,100) -> A, with one-way B->C and C->A, travel times in seconds.

    A->B 10 s, B->A 20 s (two-way, different times), B->C 30 s (one-way), C->A 50 s (one-way).
    """
    g = nx.MultiDiGraph(crs=UTM)
    for name, (x, y) in {"A": (0, 0), "B": (100, 0), "C": (100, 100)}.items():
        g.add_node(name, x=x, y=y)
    for u, v, t in [("A", "B", 10.0), ("B", "A", 20.0), ("B", "C", 30.0), ("C", "A", 50.0)]:
        g.add_edge(u, v, travel_time=t)
    return g


def test_weighted_directed_graph_gives_exact_times_each_way():
    net = WalkNetwork.from_graph(hand_graph(), weight="travel_time")
    assert net.cost_unit == "s" and net.n_edges == 3
    graph = net.travel_graph
    clinic = net.snap(np.array([[100.0, 100.0]]), max_access_leg_m=1)  # at C
    homes = net.snap(
        np.array([[0.0, 0.0], [100.0, 0.0], [50.0, 0.0]]), max_access_leg_m=1
    )  # A, B, midway A-B
    _, towards = nearest_facility(graph, clinic, homes)
    # Residents travel to the clinic: A->B->C = 40 s, B->C = 30 s, midway->B->C = 5 + 30 s.
    np.testing.assert_allclose(towards.cost, [40.0, 30.0, 35.0], atol=1e-9)
    _, outwards = nearest_facility(graph, clinic, homes, towards=False)
    # From the clinic outwards: C->A = 50 s, C->A->B = 60 s, C->A->midway = 55 s.
    np.testing.assert_allclose(outwards.cost, [50.0, 60.0, 55.0], atol=1e-9)
    # The same pairs from the pair search, on the whole network and on local subgraphs.
    for plan in (SearchPlan(), SearchPlan(local_min_nodes=0)):
        pairs = pair_costs(graph, clinic, homes, 45.0, plan=plan)
        assert pairs.point.tolist() == [0, 1, 2]
        np.testing.assert_allclose(pairs.cost, [40.0, 30.0, 35.0], atol=1e-9)


def test_weighted_graph_minutes_in_analyse():
    g = hand_graph()
    fac = gpd.GeoDataFrame({"name": ["C"]}, geometry=[shapely.Point(100, 100)], crs=UTM)
    homes = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.Point(100, 0)], crs=UTM)
    net = WalkNetwork.from_graph(g, weight="travel_time")
    result = analyse(
        net, fac, homes, population=None, settings=TravelSettings(threshold_min=1.0, bands_min=(0.5, 1.0))
    )
    np.testing.assert_allclose(result.homes["walk_time_min"], [40 / 60, 30 / 60], atol=1e-3)
    assert result.homes["covered"].tolist() == [True, True]


@pytest.mark.shared_data
def test_osmnx_graph_and_geodataframes_straight_to_analyse(shared_data):
    """The notebook path: an OSMnx graph from the Nanjing XML, clinics and homes as GeoDataFrames."""
    import osmnx as ox

    xml = shared_data / "nanjing_xuanwu_osm" / "nanjing_xuanwu_osmwebwizard.osm.xml"
    graph = ox.graph_from_xml(xml, retain_all=True)
    features = ox.features_from_xml(xml, tags={"amenity": ["hospital", "clinic"], "building": True})
    clinics = features[features.get("amenity").isin(["hospital", "clinic"])][["geometry"]]
    homes = features[features.get("building").isin(["residential", "apartments"])][["geometry"]]
    result = analyse(graph, clinics, homes)
    assert isinstance(result, StudyResult) and len(result.homes) == len(homes) > 50
    assert result.summary.population.method.startswith("one resident per home")
    assert result.summary.coverage.population == len(homes)
    # Node-to-node walks equal networkx's on the OSMnx graph itself (its haversine lengths, within 0.3%).
    net = WalkNetwork.from_graph(graph)
    undirected = ox.convert.to_undirected(graph)
    nodes = list(undirected.nodes)[::40]
    node_xy = gpd.GeoSeries(
        [shapely.Point(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in undirected.nodes], crs=4326
    ).to_crs(net.crs)
    from scipy.spatial import cKDTree

    gap, ours = cKDTree(net.node_xy).query(np.column_stack([node_xy.x, node_xy.y]))
    linked = np.array([undirected.degree(n) > 0 for n in undirected.nodes])
    assert (gap[linked] < 1e-6).all()  # every node with an edge is a node of the network
    row = {n: r for n, r, d in zip(undirected.nodes, ours, gap, strict=True) if d < 1e-6}
    nodes = [n for n in nodes if n in row]
    from circles.engine import search
    from circles.siting import node_sites

    for source in nodes[:5]:
        here = node_sites(net, np.array([row[source]]))  # a source exactly at the node
        got = search(net.travel_graph, here).cost
        want = nx.single_source_dijkstra_path_length(undirected, source, weight="length")
        far = [n for n in want if want[n] > 50 and n in row]
        np.testing.assert_allclose([got[row[n]] for n in far], [want[n] for n in far], rtol=3e-3)
    # Every time agrees with networkx on the graph split at the snapped points.
    settings = TravelSettings()
    fac = net.snap(_xy(clinics, net), max_access_leg_m=250, min_island_m=300)
    pts = net.snap(_xy(homes, net), max_access_leg_m=250, min_island_m=300)
    expected = reference_distances(net, fac, pts) / settings.speed_m_per_min
    got = np.nan_to_num(result.homes["walk_time_min"].to_numpy(float), nan=np.inf)
    np.testing.assert_allclose(got, expected, atol=1e-3)


def _xy(frame, net):
    pts = shapely.point_on_surface(frame.to_crs(net.crs).geometry.values)
    return np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])


def test_population_column_array_or_none(helsinki_result):
    net = helsinki_result.context.network
    fac, homes = helsinki_result.facilities, helsinki_result.homes[["geometry"]].copy()
    one = analyse(net, fac, homes, population=None)
    assert one.summary.coverage.population == len(homes) and not one.summary.population.estimated
    homes["people"] = np.arange(len(homes), dtype=float)
    by_column = analyse(net, fac, homes, population="people")
    assert by_column.summary.coverage.population == pytest.approx(homes["people"].sum())
    by_array = analyse(net, fac, homes, population=homes["people"].to_numpy())
    assert by_array.summary.coverage.covered_population == by_column.summary.coverage.covered_population
    # The times do not depend on how residents are given.
    np.testing.assert_array_equal(by_array.homes["walk_time_min"], helsinki_result.homes["walk_time_min"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: analyse("streets.pbf", r.facilities, r.homes), "cannot use a str as the network"),
        (
            lambda r: analyse(r.context.network, r.facilities.drop(columns="geometry"), r.homes),
            "must be a GeoDataFrame",
        ),
        (
            lambda r: analyse(r.context.network, r.facilities, r.homes.set_crs(None, allow_override=True)),
            "has no CRS",
        ),
        (lambda r: analyse(r.context.network, r.facilities, r.homes, population="nope"), "no column 'nope'"),
        (
            lambda r: analyse(r.context.network, r.facilities, r.homes, population=[1, 2]),
            "2 values for 59 homes",
        ),
    ],
)
def test_wrong_inputs_are_clear_errors(helsinki_result, call, message):
    with pytest.raises(InputError, match=message):
        call(helsinki_result)


def test_result_is_immutable_and_carries_its_settings(helsinki_result):
    import dataclasses

    assert helsinki_result.settings == TravelSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        helsinki_result.name = "x"  # type: ignore[misc]
    assert helsinki_result.summary.to_dict()["parameters"]["threshold_min"] == 15.0


def test_all_names_are_importable():
    for name in circles.__all__:
        assert getattr(circles, name) is not None
    with pytest.raises(AttributeError):
        circles.not_a_name  # noqa: B018
