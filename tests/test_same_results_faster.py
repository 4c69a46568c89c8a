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
