"""Service areas: exact reached pieces on a hand-drawn graph, and polygons checked on random graphs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from circles.areas import (
    piece_lines,
    reached_pieces,
    reached_pieces_by_facility,
    service_area,
    service_areas,
    service_areas_by_facility,
)
from circles.engine import Snapped, point_costs, search
from circles.errors import InputError
from circles.network import WalkNetwork

UTM = "EPSG:32650"
W = 50.0  # buffer width, metres
Q = 4  # quad_segs

#  F1                                                        F3
#  A(0,0) ---300--- B(300,0) -------------1000------------ C(1300,0)
#                     |
#                    400
#                     |
#                   E(300,-400)
#
#  D(0,-800) ----------------------1500---------------------- H(1500,-800)
#                         F2 (700,-780): on D-H 700 m from D, access leg 20 m
#
#  X(2000,500) ---200--- Y(2200,500)        an island without a facility
#
# F1 sits on node A (leg 0). F3 sits on node C, the end of edge B-C (along 1000, leg 0).
# Distances from the nearest facility: A 0, B 300, C 0, E 700, D 720, H 820, X and Y unreached.
NODES = {
    "A": (0, 0),
    "B": (300, 0),
    "C": (1300, 0),
    "E": (300, -400),
    "D": (0, -800),
    "H": (1500, -800),
    "X": (2000, 500),
    "Y": (2200, 500),
}
EDGES = [("A", "B"), ("B", "C"), ("B", "E"), ("D", "H"), ("X", "Y")]  # edge index = position here
FACILITIES_XY = [(0, 0), (700, -780), (1300, 0)]  # F1, F2, F3


def hand_case(limit_m: float = math.inf):
    names = list(NODES)
    xy = np.array([NODES[k] for k in names], dtype=float)
    net = WalkNetwork.from_arrays(
        xy, [names.index(a) for a, _ in EDGES], [names.index(b) for _, b in EDGES], UTM
    )
    # Node order is A, B, C, E, D, H, X, Y, so every edge runs from its first-named node (u).
    assert [(names[u], names[v]) for u, v in zip(net.edge_u, net.edge_v, strict=True)] == EDGES
    fac = net.snap(np.array(FACILITIES_XY, dtype=float), max_access_leg_m=250)
    nodes = search(net.travel_graph, fac, limit=limit_m)
    return net, fac, nodes


def as_rows(pieces):
    return [(int(e), round(float(s), 9), round(float(t), 9)) for e, s, t in zip(*pieces[:3], strict=True)]


def at(net, edge, along_m):
    """A point ``along_m`` metres from the u end of ``edge``."""
    a, b = net.node_xy[net.edge_u[edge]], net.node_xy[net.edge_v[edge]]
    return shapely.Point(a + (b - a) * along_m / net.edge_length_m[edge])


def test_hand_drawn_facility_snapping_and_node_distances():
    _, fac, nodes = hand_case()
    assert fac.edge.tolist() == [0, 3, 1]
    np.testing.assert_allclose(fac.along_m, [0, 700, 1000], atol=1e-9)
    np.testing.assert_allclose(fac.access_leg_m, [0, 20, 0], atol=1e-9)
    np.testing.assert_allclose(nodes.cost, [0, 300, 0, 700, 720, 820, math.inf, math.inf], atol=1e-9)


def test_exact_reached_pieces_at_500_m():
    net, fac, nodes = hand_case()
    assert as_rows(reached_pieces(net, nodes, fac, 500)) == [
        (0, 0, 300),  # A-B fully reached from F1 at A
        (1, 0, 200),  # B-C from B (300 + 200 = 500) ...
        (1, 500, 1000),  # ... and from F3 at C: a 300 m gap in the middle
        (2, 0, 200),  # B-E partly, from B only
        (3, 220, 1180),  # D-H: only F2, in its middle, reaches it: 700 -/+ (500 - 20)
    ]  # X-Y, the island, is not reached at all


def test_exact_reached_pieces_at_300_m_and_by_facility_at_700_m():
    net, fac, nodes = hand_case()
    assert as_rows(reached_pieces(net, nodes, fac, 300)) == [(0, 0, 300), (1, 700, 1000), (3, 420, 980)]
    e, s, t, f = reached_pieces_by_facility(net, nodes, fac, 700)
    # B-C is whole at 700 m; F1 (300 + x) and F3 (1000 - x) meet at x = 350.
    assert [(*row, int(k)) for row, k in zip(as_rows((e, s, t)), f, strict=True)] == [
        (0, 0, 300, 0),
        (1, 0, 350, 0),
        (1, 350, 1000, 2),
        (2, 0, 400, 0),
        (3, 20, 1380, 1),
    ]
    assert as_rows(reached_pieces(net, nodes, fac, 700)) == [
        (0, 0, 300),
        (1, 0, 1000),
        (2, 0, 400),
        (3, 20, 1380),
    ]


def test_polygon_holds_reached_pieces_and_excludes_far_unreached_parts():
    net, fac, nodes = hand_case()
    area = service_area(net, nodes, fac, 500, W)
    inside = [
        at(net, 0, 150),
        at(net, 1, 199),
        at(net, 1, 501),
        at(net, 2, 1),
        at(net, 2, 199),
        at(net, 3, 221),
    ]
    inside += [at(net, 3, 1179), at(net, 2, 200 + 0.9 * W), shapely.Point(0, W * 0.9)]
    assert shapely.contains(area, inside).all()
    outside = [
        at(net, 1, 350),  # mid-gap of B-C: 150 m from both reached pieces
        at(net, 2, 200 + W + 1),  # B-E just beyond the buffer of its reached part
        at(net, 3, 220 - W - 1),  # D-H before F2's reach
        at(net, 3, 1180 + W + 1),
        at(net, 4, 100),  # the island
        shapely.Point(150, W + 1),  # beside the street, farther than the buffer
    ]
    assert not shapely.intersects(area, outside).any()
    # A-B with the near ends of B-C and B-E; the far end of B-C; F2's piece of D-H.
    assert area.is_valid and area.geom_type == "MultiPolygon" and len(area.geoms) == 3


def test_area_of_one_straight_piece():
    net, fac, nodes = hand_case()
    # F2 alone reaches D-H: one straight piece of 960 m, isolated from everything else.
    polygon = service_areas_by_facility(net, nodes, fac, 500, W)[1]
    length = 960.0
    exact = 2 * W * length + math.pi * W**2
    # GEOS draws each round end with 2 * Q segments whose vertices lie on the circle:
    # together the two ends make a regular 4Q-gon inscribed in the circle.
    inscribed = 2 * W * length + 2 * Q * math.sin(math.pi / (2 * Q)) * W**2
    assert polygon.area == pytest.approx(inscribed, rel=1e-12)
    assert abs(polygon.area - exact) <= (math.pi - 2 * Q * math.sin(math.pi / (2 * Q))) * W**2 + 1e-6
    assert 0 < exact - polygon.area < 0.03 * math.pi * W**2


def test_bands_nest_and_agree_with_single_band_areas():
    net, fac, nodes = hand_case()
    limits = [700, 300, 500]  # any order; results come back in this order
    areas = service_areas(net, nodes, fac, limits, W)
    by_size = [areas[1], areas[2], areas[0]]
    for inner, outer in itertools.pairwise(by_size):
        assert inner.area < outer.area
        assert shapely.difference(inner, outer).area < 1e-6
    for limit, polygon in zip(limits, areas, strict=True):
        single = service_area(net, nodes, fac, limit, W)
        assert shapely.symmetric_difference(single, polygon).area < 1e-3 * polygon.area


def test_by_facility_polygons_cover_the_band_and_follow_the_nearest_facility():
    net, fac, nodes = hand_case()
    by_fac = service_areas_by_facility(net, nodes, fac, 700, W)
    assert [p.is_empty for p in by_fac] == [False, False, False]
    assert shapely.contains(by_fac[0], [at(net, 1, 300), at(net, 2, 399)]).all()
    assert shapely.contains(by_fac[2], at(net, 1, 410)) and not shapely.intersects(by_fac[2], at(net, 1, 290))
    whole = service_area(net, nodes, fac, 700, W)
    assert shapely.symmetric_difference(shapely.union_all(by_fac), whole).area < 1e-3 * whole.area


def test_nothing_reached_and_bad_arguments():
    net, fac, nodes = hand_case(limit_m=500)
    unattached = Snapped(np.array([-1]), np.array([0.0]), np.array([np.nan]))
    none = search(net.travel_graph, unattached)
    assert reached_pieces(net, none, unattached, 500)[0].size == 0
    assert service_area(net, none, unattached, 500, W).is_empty
    assert service_areas_by_facility(net, none, unattached, 500, W)[0].is_empty
    with pytest.raises(InputError, match="search cut off at 500 m"):
        service_area(net, nodes, fac, 750, W)
    with pytest.raises(InputError, match="positive width"):
        service_areas(net, nodes, fac, [300], 0)


def test_piece_lines_end_exactly_on_nodes():
    net, _, _ = hand_case()
    lines = piece_lines(net, np.array([1, 1]), np.array([0.0, 123.4]), np.array([123.4, 1000.0]))
    coords = shapely.get_coordinates(lines)
    assert tuple(coords[0]) == NODES["B"] and tuple(coords[3]) == NODES["C"]
    assert tuple(coords[1]) == tuple(coords[2])


@st.composite
def random_case(draw):
    n = draw(st.integers(2, 20))
    coord = st.integers(0, 1000)
    xy = np.array([[draw(coord), draw(coord)] for _ in range(n)], dtype=float)
    idx = st.integers(0, n - 1)
    edges = [(draw(idx), draw(idx)) for _ in range(draw(st.integers(1, 3 * n)))]
    fac = draw(st.lists(st.tuples(st.floats(-50, 1050), st.floats(-50, 1050)), min_size=1, max_size=6))
    limit_m = draw(st.floats(20, 1500))
    buffer_m = draw(st.sampled_from([5.0, 25.0, 50.0]))
    return xy, edges, np.array(fac), limit_m, buffer_m


EPS_M = 1e-6


@settings(max_examples=150, deadline=None)
@given(random_case())
def test_polygon_is_the_buffer_of_exactly_the_reached_network(case):
    xy, edges, fac_xy, limit_m, buffer_m = case
    if all(a == b for a, b in edges):
        return
    net = WalkNetwork.from_arrays(xy, [a for a, _ in edges], [b for _, b in edges], UTM)
    fac = net.snap(fac_xy, max_access_leg_m=300)
    nodes = search(net.travel_graph, fac)
    pieces = reached_pieces(net, nodes, fac, limit_m)
    area = service_areas(net, nodes, fac, [limit_m / 2, limit_m], buffer_m)[1]

    # Sample every edge densely; the engine's own formula gives each sample's exact distance.
    # (Edges between two nodes at one spot have no extent to draw; they are skipped.)
    frac = np.linspace(0.0, 1.0, 41)
    edge = np.repeat(np.flatnonzero(net.edge_length_m > 0), frac.size)
    along = np.tile(frac, edge.size // frac.size) * net.edge_length_m[edge]
    dist = point_costs(nodes, fac, Snapped(edge, along, np.zeros(edge.size))).cost
    e, s, t = pieces
    on_piece = np.zeros(edge.size, bool)
    for k in range(e.size):
        on_piece |= (edge == e[k]) & (along >= s[k] - EPS_M) & (along <= t[k] + EPS_M)
    # The pieces are exactly the reached parts of the network.
    assert (dist[on_piece] <= limit_m + EPS_M).all()
    assert (dist[~on_piece] > limit_m - EPS_M).all()

    points = at_many(net, edge, along)
    if e.size:
        assert shapely.contains(area, points[on_piece]).all()
        lines = shapely.union_all(piece_lines(net, e, s, t))
        far = (dist > limit_m + EPS_M) & (shapely.distance(lines, points) > buffer_m + EPS_M)
        assert not shapely.intersects(area, points[far]).any()
    else:
        assert area.is_empty

    # The catchments split the same pieces among the facilities.
    fe, fs, ft, owner = reached_pieces_by_facility(net, nodes, fac, limit_m)
    assert set(owner.tolist()) <= set(np.flatnonzero(fac.attached).tolist())
    per_edge = np.bincount(fe, weights=ft - fs, minlength=net.n_edges)
    np.testing.assert_allclose(per_edge, np.bincount(e, weights=t - s, minlength=net.n_edges), atol=1e-6)
    # Each sample belongs to the facility nearest to it, found by one search per facility.
    samples = Snapped(edge, along, np.zeros(edge.size))
    alone = np.full((len(fac), edge.size), np.inf)
    for i in np.flatnonzero(fac.attached):
        only = Snapped(np.where(np.arange(len(fac)) == i, fac.edge, -1), fac.along_m, fac.access_leg_m)
        alone[i] = point_costs(search(net.travel_graph, only), only, samples).cost
    ranked = np.sort(np.vstack([alone, np.full(edge.size, np.inf)]), axis=0)
    clear = on_piece & (ranked[1] > ranked[0] + 1e-6) & (dist < limit_m - 1e-6)
    for k in np.flatnonzero(clear):
        holder = (fe == edge[k]) & (fs <= along[k]) & (along[k] <= ft)
        assert set(owner[holder].tolist()) == {int(np.argmin(alone[:, k]))}


def at_many(net, edge, along_m):
    a, b = net.node_xy[net.edge_u[edge]], net.node_xy[net.edge_v[edge]]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(net.edge_length_m[edge] > 0, along_m / net.edge_length_m[edge], 0.0)
    return shapely.points(a + (b - a) * t[:, None])


def test_paths_run_through_crossings_and_keep_every_point():
    from circles.area_paths import _piece_paths

    # A plus (one crossing), a closed triangle, and a T, each its own group.
    xy = [(0, 0), (100, 0), (200, 0), (100, -100), (100, 100)]
    xy += [(500, 0), (600, 0), (600, 100)]
    xy += [(0, 500), (100, 500), (200, 500), (100, 600)]
    edges = [(0, 1), (1, 2), (3, 1), (1, 4), (5, 6), (6, 7), (7, 5), (8, 9), (9, 10), (9, 11)]
    net = WalkNetwork.from_arrays(np.array(xy, float), *zip(*edges, strict=True), UTM)
    edge = np.arange(net.n_edges)
    group = np.where(net.edge_u < 5, 0, np.where(net.edge_u < 8, 1, 2))
    order = np.argsort(group, kind="stable")
    edge, group = edge[order], group[order]
    # The whole plus and triangle, and the T with its stem cut short in the middle.
    start = np.zeros(edge.size)
    end = net.edge_length_m[edge].copy()
    stem = edge[(net.edge_u[edge] == 9) & (net.edge_v[edge] == 11)][0]
    end[edge == stem] = 60.0
    paths, path_group = _piece_paths(net, edge, start, end, group)
    assert path_group.tolist() == [0, 0, 1, 2, 2]
    # The crossing becomes two straight paths and the triangle one closed path. Of the T's
    # three ends (sorted by direction: east, north, west) the first two pair up.
    expected = sorted([200, 200, 200 + 100 * 2**0.5, 100 + 60, 100])
    assert sorted(shapely.length(paths).tolist()) == pytest.approx(expected)
    assert shapely.is_closed(paths[path_group == 1]).all()
    lines = piece_lines(net, edge, start, end)
    for g in range(3):
        assert shapely.equals(shapely.union_all(paths[path_group == g]), shapely.union_all(lines[group == g]))


def test_threads_never_change_the_polygons_and_slices_only_within_the_arc_tolerance():
    # A 12 x 12 grid of 100 m blocks with three clinics.
    side = 12
    row, col = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.column_stack([col.ravel(), row.ravel()]) * 100.0
    node = np.arange(side * side).reshape(side, side)
    u = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    v = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    net = WalkNetwork.from_arrays(xy, u, v, UTM)
    fac = net.snap(np.array([[130.0, 220.0], [820.0, 400.0], [510.0, 1010.0]]), max_access_leg_m=250)
    nodes = search(net.travel_graph, fac)
    limits = [150, 300, 450]
    one = service_areas(net, nodes, fac, limits, 30, workers=1)
    two = service_areas(net, nodes, fac, limits, 30, workers=2)
    assert all(shapely.equals_exact(a, b, tolerance=0) for a, b in zip(one, two, strict=True))
    whole = service_areas(net, nodes, fac, limits, 30, parts=1)
    four = service_areas(net, nodes, fac, limits, 30, parts=4)
    for a, b in zip(whole, four, strict=True):
        # Where slices meet, two round ends replace a straight run: at most the
        # sliver between an inscribed 16-gon and its circle, per cut street.
        assert shapely.symmetric_difference(a, b).area < 0.01 * a.area
    for inner, outer in itertools.pairwise(four):
        assert shapely.difference(inner, outer).area < 1e-6


@pytest.mark.slow
@pytest.mark.e2e
def test_bench_areas_quick_on_helsinki(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[1] / "bench" / "areas.py"
    out = tmp_path / "areas.json"
    proc = subprocess.run(
        [sys.executable, str(bench), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "helsinki" in proc.stdout and "osmnx-buffer" in proc.stdout
    (row,) = json.loads(out.read_text())["rows"]
    assert (row["graph"], row["clinics"], row["edges"]) == ("helsinki", 10, 6910)
    areas = row["areas"]
    # The previous per-piece union draws the same area as circles, up to the arcs' approximation.
    assert areas["naive"]["symdiff_vs_circles_pct"] < 0.5
    assert areas["catchments"]["symdiff_vs_circles_pct"] < 0.5


@settings(max_examples=100, deadline=None)
@given(random_case())
def test_edges_without_facilities_give_exactly_the_rows_of_the_sweep(case):
    # Edges with no facility on them are cut without sorting; the rows must be the very ones
    # the general sweep over every interval gives (same values, same order).
    from circles.area_pieces import _reach_from_ends, _union_intervals

    xy, edges, fac_xy, limit_m, _ = case
    if all(a == b for a, b in edges):
        return
    net = WalkNetwork.from_arrays(xy, [a for a, _ in edges], [b for _, b in edges], UTM)
    fac = net.snap(fac_xy, max_access_leg_m=300)
    nodes = search(net.travel_graph, fac)
    from_u, from_v = _reach_from_ends(net, nodes, limit_m)
    length = net.edge_length_m
    f = np.flatnonzero(fac.attached)
    reach = limit_m - fac.access_leg_m[f]
    on = reach > 0
    f_edge, f_along, reach = fac.edge[f][on], fac.along_m[f][on], reach[on]
    all_edges = np.arange(net.n_edges)
    expected = _union_intervals(
        np.concatenate([all_edges, all_edges, f_edge]),
        np.concatenate([np.zeros(net.n_edges), length - from_v, np.clip(f_along - reach, 0.0, None)]),
        np.concatenate([from_u, length, np.minimum(f_along + reach, length[f_edge])]),
    )
    got = reached_pieces(net, nodes, fac, limit_m)
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    # By facility: every (edge, facility) interval set is merged, in (edge, facility, start) order.
    e, s, t, owner = reached_pieces_by_facility(net, nodes, fac, limit_m)
    key = e * (len(fac) + 1) + owner
    assert (np.diff(key) >= 0).all() and ((np.diff(key) > 0) | (s[1:] > t[:-1])).all()
    per_edge = np.bincount(e, weights=t - s, minlength=net.n_edges)
    np.testing.assert_allclose(per_edge, np.bincount(got[0], weights=got[2] - got[1], minlength=net.n_edges))
