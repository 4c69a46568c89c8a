"""The engine against hand-computed distances and a brute-force networkx reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circles.engine import SearchPlan, Snapped, nearest_facility, search
from circles.network import WalkNetwork
from circles.testing import HAND_CRS, SQUARE_WITH_ISLAND, reference_distances

UTM = HAND_CRS
NODES = SQUARE_WITH_ISLAND.nodes


def hand_network() -> WalkNetwork:
    return SQUARE_WITH_ISLAND.network()


def test_hand_drawn_graph_exact_distances():
    net = hand_network()
    assert net.n_edges == 6
    assert sorted(net.edge_length_m.tolist()) == [100, 100, 100, 100, 200, 400]
    fac = net.snap(np.array([[150, 10], [0, -100]]), max_access_leg_m=250)
    assert fac.access_leg_m.tolist() == [10, 0]
    homes_xy = np.array(
        [
            [-5, -50],  # H1 on A-D, 50 m from both ends: G via D is 50 + 5 = 55
            [180, -3],  # H2 on F's own edge, 30 m past F: 30 + 10 + 3 = 43 directly
            [190, -104],  # H3 on D-E, 10 m from E: F via C-E is 60 + 100 + 10 + 4 = 174
            [1200, 20],  # H4 on the X-Y island, which has no facility: unreachable
            [5000, 5000],  # H5 is kilometres from any street: not attached
        ]
    )
    homes = net.snap(homes_xy, max_access_leg_m=250)
    assert homes.attached.tolist() == [True, True, True, True, False]
    nodes, pts = nearest_facility(net.travel_graph, fac, homes)
    np.testing.assert_allclose(pts.cost[:3], [55.0, 43.0, 174.0], rtol=0, atol=1e-9)
    assert pts.facility.tolist() == [1, 0, 0, -1, -1]
    assert math.isinf(pts.cost[3]) and math.isinf(pts.cost[4])
    # Node distances: B = C = 60 (50 + 10 via F), A = 100 (from G via D), E = 160.
    names = list(NODES)
    node = {k: nodes.cost[names.index(k)] for k in names}
    assert (node["A"], node["B"], node["C"], node["D"], node["E"]) == (100, 60, 60, 0, 160)
    assert nodes.facility[names.index("A")] == 1 and nodes.facility[names.index("E")] == 0


def test_limit_cuts_off_far_nodes_and_points():
    net = hand_network()
    fac = net.snap(np.array([[150, 10]]), max_access_leg_m=250)
    homes = net.snap(np.array([[180, -3], [-5, -50]]), max_access_leg_m=250)
    nodes, pts = nearest_facility(net.travel_graph, fac, homes, limit=100)
    assert pts.cost[0] == 43 and math.isinf(pts.cost[1])
    assert pts.facility.tolist() == [0, -1]
    assert np.isinf(nodes.cost).sum() == 5  # A, D, E, X, Y beyond 100 m


def test_access_leg_cap_and_no_facilities():
    net = hand_network()
    far = net.snap(np.array([[100, 300]]), max_access_leg_m=250)
    assert far.edge.tolist() == [-1] and np.isnan(far.access_leg_m[0])
    near = net.snap(np.array([[100, 240]]), max_access_leg_m=250)
    assert near.access_leg_m[0] == 240
    nodes = search(net.travel_graph, far)
    assert np.isinf(nodes.cost).all() and (nodes.facility == -1).all()


def test_small_islands_are_not_snapped_onto():
    net = hand_network()
    # The X-Y island is 400 m long: kept at min_island_m=300, skipped at 500.
    kept = net.snap(np.array([[1200, 20]]), max_access_leg_m=250, min_island_m=300)
    skipped = net.snap(np.array([[1200, 20]]), max_access_leg_m=250, min_island_m=500)
    assert kept.attached[0] and not skipped.attached[0]


@st.composite
def random_case(draw):
    n = draw(st.integers(2, 25))
    coord = st.integers(0, 1000)
    xy = np.array([[draw(coord), draw(coord)] for _ in range(n)], dtype=float)
    m = draw(st.integers(1, 3 * n))
    idx = st.integers(0, n - 1)
    edges = [(draw(idx), draw(idx)) for _ in range(m)]
    pts = st.lists(st.tuples(st.floats(-100, 1100), st.floats(-100, 1100)), min_size=0, max_size=8)
    return xy, edges, np.array(draw(pts)).reshape(-1, 2), np.array(draw(pts)).reshape(-1, 2)


@settings(max_examples=200, deadline=None)
@given(random_case())
def test_matches_networkx_on_random_graphs(case):
    xy, edges, fac_xy, home_xy = case
    u = [a for a, b in edges]
    v = [b for a, b in edges]
    if all(a == b for a, b in edges):
        return
    net = WalkNetwork.from_arrays(xy, u, v, UTM)
    fac = net.snap(fac_xy, max_access_leg_m=300)
    homes = net.snap(home_xy, max_access_leg_m=300)
    _, pts = nearest_facility(net.travel_graph, fac, homes)
    expected = reference_distances(net, fac, homes)
    np.testing.assert_allclose(pts.cost, expected, rtol=0, atol=1e-6)
    # The facility named as nearest really is at that distance.
    for i in np.flatnonzero(np.isfinite(pts.cost)):
        only = type(fac)(
            np.where(np.arange(len(fac)) == pts.facility[i], fac.edge, -1), fac.along_m, fac.access_leg_m
        )
        _, single = nearest_facility(net.travel_graph, only, homes)
        assert single.cost[i] == pytest.approx(pts.cost[i], abs=1e-6)


#: Search plans that force each bounded-search strategy on the small random graphs.
LOCAL_PLANS = {
    "one subgraph": SearchPlan(local_min_nodes=0, max_share=1e9),
    "groups": SearchPlan(local_min_nodes=0, tile_nodes=1, cache_nodes=0, max_overlap=1e9),
}


@pytest.mark.parametrize("plan", LOCAL_PLANS)
@settings(max_examples=150, deadline=None)
@given(random_case(), st.sampled_from([0.0, 30.0, 150.0, 400.0, 2000.0]))
def test_bounded_search_on_local_subgraphs_equals_the_whole_network(plan, case, limit_m):
    xy, edges, fac_xy, _ = case
    if all(a == b for a, b in edges) or len(fac_xy) == 0:
        return
    net = WalkNetwork.from_arrays(xy, [a for a, _ in edges], [b for _, b in edges], UTM)
    graph = net.travel_graph
    fac = net.snap(fac_xy, max_access_leg_m=300)
    whole = search(graph, fac)
    local = search(graph, fac, limit=limit_m, plan=LOCAL_PLANS[plan])
    expected = np.where(whole.cost <= limit_m, whole.cost, np.inf)
    np.testing.assert_allclose(local.cost, expected, rtol=0, atol=1e-9)
    assert ((local.facility >= 0) == np.isfinite(local.cost)).all()
    # The facility named for each reached node is one at that distance (ties: any of them).
    for f in np.unique(local.facility[local.facility >= 0]):
        alone = Snapped(np.where(np.arange(len(fac)) == f, fac.edge, -1), fac.along_m, fac.access_leg_m)
        named = local.facility == f
        np.testing.assert_allclose(search(graph, alone).cost[named], local.cost[named], rtol=0, atol=1e-9)
