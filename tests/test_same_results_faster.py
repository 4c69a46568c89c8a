"""Shortcuts taken for speed give exactly what the plain computation gives.

Each test sets the faster path beside the straightforward one on real data or on hand-made
cases and asserts equality (values and geometries byte for byte), never timings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from circles.config import facility_preset
from circles.crs import local_utm_crs
from circles.diagnostics import hull_of_points
from circles.network import WalkNetwork
from circles.sources.limits import MAX_TEXT_CHARS, TRUNCATION_MARKER, bound_text, bound_text_columns
from circles.sources.osm import read_osm, residential_homes
from circles.study_area import PopulationSpec, home_population


def test_hull_of_points_is_the_multipoint_hull():
    rng = np.random.default_rng(7)
    cases = [
        rng.normal(size=(500, 2)),
        np.round(rng.uniform(0, 3, size=(200, 2))),  # many repeated and collinear points
        np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]),  # collinear: a line
        np.array([[0.0, 0.0], [0.0, 0.0]]),  # one point twice
        np.array([[5.0, 6.0]]),
    ]
    for coords in cases:
        expected = shapely.convex_hull(shapely.multipoints(coords))
        assert shapely.to_wkb(hull_of_points(coords)) == shapely.to_wkb(expected)
    assert hull_of_points(np.empty((0, 2))).is_empty


def test_floor_areas_from_the_network_projection_equal_a_projection_of_their_own(helsinki_pbf):
    layers = read_osm(helsinki_pbf, facility_preset("primary-care"))
    homes = residential_homes(layers)
    network = WalkNetwork.from_lines(layers.walkways.geometry.values)
    plain = home_population(homes, PopulationSpec())
    shared = home_population(homes, PopulationSpec(), projected=homes.geometry.to_crs(network.crs))
    lon, lat = shapely.get_coordinates(shapely.point_on_surface(homes.geometry.values)).T
    assert network.crs == local_utm_crs(lon, lat)  # the case the shortcut serves
    np.testing.assert_array_equal(shared.residents, plain.residents)
    assert list(shared.method_per_home) == list(plain.method_per_home)
    # In another CRS the given projection is not used: still the same figures.
    other = home_population(homes, PopulationSpec(), projected=homes.geometry.to_crs("EPSG:3857"))
    np.testing.assert_array_equal(other.residents, plain.residents)


def test_bound_text_columns_cuts_string_and_object_columns_alike():
    long = "x" * (MAX_TEXT_CHARS + 3)
    values = ["short", long, None, "y" * MAX_TEXT_CHARS]
    frame = pd.DataFrame(
        {"text": pd.Series(values, dtype="str"), "mixed": pd.Series([*values[:3], 4], dtype=object)}
    )
    assert bound_text_columns(frame) == 2
    assert frame["text"].dtype == "str"
    assert frame["text"].tolist()[1] == bound_text(long) == "x" * MAX_TEXT_CHARS + TRUNCATION_MARKER
    assert frame["text"].tolist()[3] == "y" * MAX_TEXT_CHARS  # at the limit: kept
    assert frame["text"].isna().tolist() == [False, False, True, False]
    assert frame["mixed"].tolist() == ["short", bound_text(long), None, 4]


def test_hexagons_built_at_once_equal_one_polygon_per_cell():
    import h3

    from circles.maps.cells import _hexagons

    cells = list(h3.grid_disk(h3.latlng_to_cell(22.54, 114.05, 10), 4))
    cells += list(h3.grid_disk(h3.get_pentagons(8)[3], 2))  # a pentagon and its distorted neighbours
    expected = [shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in cells]
    assert {len(h3.cell_to_boundary(c)) for c in cells} > {6}  # not only hexagons
    assert (
        shapely.to_wkb(_hexagons(cells)).tolist() == shapely.to_wkb(np.array(expected, dtype=object)).tolist()
    )
    assert _hexagons([]).size == 0


def test_street_layer_projects_each_node_once_to_the_same_lines(helsinki_pbf):
    import pyproj

    from circles.crs import WGS84
    from circles.gis import street_layer
    from circles.pipeline import run_osm

    result = run_osm(helsinki_pbf)
    layer = street_layer(result)
    net = result.context.network
    lines = shapely.linestrings(np.stack([net.node_xy[net.edge_u], net.node_xy[net.edge_v]], axis=1))
    to_wgs84 = pyproj.Transformer.from_crs(net.crs, WGS84, always_xy=True)
    expected = shapely.transform(lines, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])))
    assert layer.crs == WGS84 and len(layer) == net.n_edges
    assert shapely.to_wkb(layer.geometry.values).tolist() == shapely.to_wkb(expected).tolist()


def _one_root_walk(a, b, heads, m):
    """The plain walk: one virtual root joined to every head, scipy's depth-first order."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import depth_first_order

    rows, cols = np.r_[a, b, np.full(heads.size, m)], np.r_[b, a, heads]
    walk = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(m + 1, m + 1)).tocsr()
    order, pred = depth_first_order(walk, m, directed=True, return_predecessors=True)
    return order[1:], pred[order[1:]]


def test_chain_walk_through_helper_nodes_equals_one_root_walk():
    from circles.area_paths import _chain_order

    rng = np.random.default_rng(3)
    for m in (1, 2, 7, 500, 5000):
        pieces = rng.permutation(m)
        cuts = np.sort(rng.choice(np.arange(1, m), size=min(m - 1, rng.integers(0, m)), replace=False))
        chains = np.split(pieces, cuts)
        a = np.concatenate([c[:-1] for c in chains]).astype(np.int64)
        b = np.concatenate([c[1:] for c in chains]).astype(np.int64)
        heads = rng.permutation(np.array([c[0] for c in chains], dtype=np.int64))
        order, before = _chain_order(a, b, heads, m)
        expected_order, expected_before = _one_root_walk(a, b, heads, m)
        np.testing.assert_array_equal(order, expected_order)
        np.testing.assert_array_equal(before, expected_before)
        assert sorted(order.tolist()) == list(range(m))  # every piece once


def test_street_paths_are_unchanged_on_a_real_network(helsinki_pbf):
    from circles.area_paths import _piece_paths

    layers = read_osm(helsinki_pbf, facility_preset("primary-care"))
    net = WalkNetwork.from_lines(layers.walkways.geometry.values)
    edge = np.arange(net.n_edges)
    paths, _ = _piece_paths(net, edge, np.zeros(edge.size), net.edge_length_m, np.zeros(edge.size, np.int64))
    # Each piece exactly once: the paths' segments are the network's edges.
    from collections import Counter

    coords, which = shapely.get_coordinates(paths, return_index=True)
    same = which[1:] == which[:-1]

    def segments(p, q):
        return Counter(
            tuple(sorted([tuple(x), tuple(y)])) for x, y in zip(p.tolist(), q.tolist(), strict=True)
        )

    got = segments(coords[:-1][same], coords[1:][same])
    assert got == segments(net.node_xy[net.edge_u], net.node_xy[net.edge_v])
    assert sum(got.values()) == net.n_edges


def test_unique_rows_equals_numpy_unique_by_rows(helsinki_pbf):
    from circles.network import unique_rows

    layers = read_osm(helsinki_pbf, facility_preset("primary-care"))
    coords = shapely.get_coordinates(layers.walkways.geometry.values)  # shared vertices repeat
    rng = np.random.default_rng(5)
    for rows in (coords, rng.integers(0, 30, size=(5000, 2)), np.round(rng.normal(size=(3000, 2)), 1)):
        expected, expected_inverse = np.unique(rows, axis=0, return_inverse=True)
        got, inverse = unique_rows(rows)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(inverse, expected_inverse.reshape(-1))
    assert len(unique_rows(coords)[0]) < len(coords)


def test_posted_speeds_parsed_once_per_text_equal_a_parse_per_way():
    from circles.mode_speeds import posted_kmh
    from circles.sources.way_filters import parse_maxspeed_kmh

    values = ["50", None, np.nan, "30 mph", "CN:urban", "50", "", "100|80", 7, "10 knots", "0", "walk"]
    expected = np.array([parse_maxspeed_kmh(v) for v in values], dtype=float)
    assert np.array_equal(posted_kmh(values), expected, equal_nan=True)
    assert posted_kmh([]).shape == (0,)
