"""Travel modes on hand-drawn ways: one-way streets, speeds, the walked access leg, the OSM filters."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from circles import TravelSettings, analyse
from circles.engine import nearest_facility, pair_costs
from circles.errors import InputError
from circles.modes import DRIVE_SPEEDS_KMH, ModeOptions, class_speeds_kmh, mode_network, travel_mode
from circles.sources.way_filters import (
    OVERPASS_FILTERS,
    is_bikeable,
    is_drivable,
    is_ebikeable,
    oneway_direction,
    parse_maxspeed_kmh,
)
from circles.testing import HAND_CRS, one_way_streets

UTM = HAND_CRS
hand_ways = one_way_streets


A, B, C, D = (0.0, 0.0), (1000.0, 0.0), (2000.0, 0.0), (1000.0, -1000.0)
W4_M = 1000 * 2**0.5


def times_s(mode_name: str, facility, homes, *, towards: bool = True, ways=None, options=None) -> np.ndarray:
    net = mode_network(hand_ways() if ways is None else ways, travel_mode(mode_name, options))
    fac = net.snap(np.array([facility]), max_access_leg_m=50)
    pts = net.snap(np.array(homes), max_access_leg_m=50)
    _, costs = nearest_facility(net.travel_graph, fac, pts, towards=towards)
    return costs.cost


def test_drive_times_exact_in_both_directions():
    # Towards the clinic at C: A->B 60 s (60 km/h tagged) + B->C 60 s (primary, 60 km/h by class).
    # D cannot drive to C: w3 allows B->D only, w4 C->D only.
    np.testing.assert_allclose(times_s("drive", C, [A, B, D]), [120.0, 60.0, np.inf], atol=1e-6)
    # From C outwards: only C->D (1414.2 m at 30 km/h); C->B is against w2's one way.
    out = times_s("drive", C, [A, B, D], towards=False)
    np.testing.assert_allclose(out, [np.inf, np.inf, W4_M * 3.6 / 30], atol=1e-6)
    # The same pairs from the pair search (siting, capacity) on the directed graph.
    net = mode_network(hand_ways(), travel_mode("drive"))
    fac = net.snap(np.array([C]), max_access_leg_m=50)
    pts = net.snap(np.array([A, B, D]), max_access_leg_m=50)
    pairs = pair_costs(net.travel_graph, fac, pts, 200.0)
    assert pairs.point.tolist() == [0, 1]
    np.testing.assert_allclose(pairs.cost, [120.0, 60.0], atol=1e-6)


def test_the_access_leg_is_walked():
    # A home 10 m off w1, halfway: 10 m walked at 4.5 km/h (8 s), 500 m driven (30 s), then B->C (60 s).
    np.testing.assert_allclose(times_s("drive", C, [(500.0, 10.0)]), [8.0 + 30.0 + 60.0], atol=1e-6)
    net = mode_network(hand_ways(), travel_mode("drive"))
    assert net.cost_unit == "s" and net.access_cost_per_m == pytest.approx(0.8)


def test_ebike_speed_capped_by_maxspeed():
    # E-bike 20 km/h: w1 (maxspeed 60) at 20 km/h, 180 s; w3 (maxspeed 10) at 10 km/h, 360 s B->D.
    np.testing.assert_allclose(times_s("ebike", D, [A, B]), [180.0 + 360.0, 360.0], atol=1e-6)
    # (Round by C would take the e-bike 180 s + 254.6 s.) A car at w3's 10 km/h would need 360 s,
    # so it drives round: B->C 60 s + C->D 169.7 s. Cycling at 15 km/h is never capped: 240 s direct.
    by_c = 60.0 + W4_M * 3.6 / 30
    np.testing.assert_allclose(times_s("drive", D, [A, B]), [60.0 + by_c, by_c], atol=1e-6)
    np.testing.assert_allclose(times_s("bicycle", D, [A, B]), [480.0, 240.0], atol=1e-6)
    faster = ModeOptions(ebike_speed_kmh=8.0)  # below every cap: 8 km/h throughout
    np.testing.assert_allclose(times_s("ebike", D, [B], options=faster), [450.0], atol=1e-6)


def test_one_way_ridden_the_wrong_way_is_forbidden_for_drive_and_bike_but_walkable():
    # From C to the clinic at B: against w2; and w4 leads to D, whence w3 is one-way away from B.
    for mode in ("drive", "bicycle", "ebike"):
        assert times_s(mode, B, [C]) == [np.inf], mode
    np.testing.assert_allclose(times_s("walk", B, [C]), [1000.0], atol=1e-6)  # walking: metres
    np.testing.assert_allclose(times_s("elderly", B, [C]), [1000.0], atol=1e-6)
    # With a contraflow for cyclists, bicycles ride it (240 s at 15 km/h); cars still may not.
    contraflow = hand_ways(**{"oneway:bicycle": "no"})
    np.testing.assert_allclose(times_s("bicycle", B, [C], ways=contraflow), [240.0], atol=1e-6)
    assert times_s("drive", B, [C], ways=contraflow) == [np.inf]


def test_minutes_and_coverage_through_analyse():
    net = mode_network(hand_ways(), travel_mode("drive"))
    clinic = gpd.GeoDataFrame(geometry=[shapely.Point(C)], crs=UTM)
    homes = gpd.GeoDataFrame(geometry=[shapely.Point(A), shapely.Point(B), shapely.Point(D)], crs=UTM)
    settings = TravelSettings(threshold_min=1.5, bands_min=(1.5,))
    result = analyse(net, clinic, homes, population=None, settings=settings)
    np.testing.assert_allclose(result.homes["walk_time_min"], [2.0, 1.0, np.nan], atol=1e-3)
    assert result.homes["covered"].tolist() == [False, True, False]


def test_oneway_rules():
    assert oneway_direction({"oneway": "yes"}, "drive") == 1
    assert oneway_direction({"oneway": "-1"}, "drive") == -1
    assert oneway_direction({"oneway": "reversible"}, "drive") == 0
    assert oneway_direction({"junction": "roundabout"}, "drive") == 1
    assert oneway_direction({"junction": "roundabout", "oneway": "no"}, "drive") == 0
    assert oneway_direction({"oneway": "yes", "oneway:bicycle": "no"}, "bike") == 0
    assert oneway_direction({"oneway": "yes", "oneway:bicycle": "no"}, "drive") == 1
    assert oneway_direction({"oneway": "yes", "cycleway": "opposite_lane"}, "bike") == 0
    ebike_only_one_way = {"oneway": "yes", "oneway:bicycle": "no", "oneway:electric_bicycle": "yes"}
    assert oneway_direction(ebike_only_one_way, "ebike") == 1
    assert oneway_direction({"oneway": "yes"}, "walk") == 0


def test_oneway_rules_vectorised_on_a_real_extract(helsinki_pbf):
    import pandas as pd

    from circles.config import facility_preset
    from circles.sources.osm import read_osm
    from circles.sources.way_filters import ONEWAY_TAGS, oneway_directions

    ways = read_osm(
        helsinki_pbf, facility_preset("primary-care"), networks=("walk", "bike", "drive")
    ).walkways
    cases = pd.DataFrame(
        [
            {"oneway": "yes", "oneway:bicycle": "no"},
            {"oneway": "yes", "cycleway:left": "opposite_track"},
            {"junction": "roundabout", "oneway": "no"},
            {"junction": "roundabout"},
            {"oneway": "reversible"},
            {"oneway": "-1", "oneway:bicycle": "alternating"},
        ]
    )
    for frame in (ways, cases):
        records = pd.DataFrame(frame[[c for c in ONEWAY_TAGS if c in frame]]).to_dict("records")
        for network in ("drive", "bike", "ebike", "walk"):
            one_by_one = [
                oneway_direction({k: v for k, v in r.items() if isinstance(v, str)}, network) for r in records
            ]
            assert oneway_directions(frame, network).tolist() == one_by_one, network
    assert (oneway_directions(ways, "drive") != 0).sum() > 100  # Helsinki has one-way streets


def test_filters_follow_osmnx():
    import osmnx._overpass as overpass

    for network, text in OVERPASS_FILTERS.items():
        assert overpass._get_network_filter(network) == text  # the filters reproduced are OSMnx's own
    assert is_drivable({"highway": "primary"}) and not is_drivable({"highway": "service"})
    assert not is_drivable({"highway": "residential", "motor_vehicle": "no"})
    assert not is_drivable({"highway": "residential", "access": "private"})
    assert is_bikeable({"highway": "cycleway"}) and not is_bikeable({"highway": "footway"})
    assert not is_bikeable({"highway": "motorway"}) and not is_bikeable({"highway": "trunk", "bicycle": "no"})
    # E-bikes: electric_bicycle=* replaces bicycle=* where tagged.
    assert is_ebikeable({"highway": "trunk", "bicycle": "no", "electric_bicycle": "yes"})
    assert not is_ebikeable({"highway": "cycleway", "electric_bicycle": "no"})
    assert not is_ebikeable({"highway": "trunk", "bicycle": "no"})


def test_maxspeed_parsing_and_observed_speeds():
    assert parse_maxspeed_kmh("50") == 50.0
    assert parse_maxspeed_kmh("30 mph") == pytest.approx(48.28032)
    assert parse_maxspeed_kmh("100|80") == 90.0
    assert parse_maxspeed_kmh("CN:urban") is None and parse_maxspeed_kmh("walk") is None
    ways = hand_ways()
    assert class_speeds_kmh(ways, travel_mode("drive")) == DRIVE_SPEEDS_KMH
    observed = class_speeds_kmh(ways, travel_mode("drive", ModeOptions(drive_speeds="observed")))
    # residential: mean of 60 and 30; tertiary 10; primary has none: the mean of the class means.
    assert observed == {"primary": pytest.approx((45 + 10) / 2), "residential": 45.0, "tertiary": 10.0}
    slow = ModeOptions(congestion_factor=0.5)
    np.testing.assert_allclose(times_s("drive", C, [B], options=slow), [120.0], atol=1e-6)


def test_mode_errors_name_the_parameter():
    with pytest.raises(InputError, match="unknown travel mode 'boat'"):
        travel_mode("boat")
    with pytest.raises(InputError, match="`congestion_factor`"):
        ModeOptions(congestion_factor=1.5)
    walk_only = hand_ways().drop(columns=["net_walk", "net_bike", "net_ebike", "net_drive"])
    with pytest.raises(InputError, match="read for walking only"):
        mode_network(walk_only, travel_mode("drive"))


def reached(net, pieces) -> set[tuple[tuple[float, float], tuple[float, float]]]:
    """Reached pieces as pairs of end coordinates (rounded to a millimetre), whatever the edge's direction."""
    edge, start, end = pieces[:3]
    real = end - start > 1e-6  # float noise at a node reached with nothing to spare
    edge, start, end = edge[real], start[real], end[real]
    a, b = net.node_xy[net.edge_u[edge]], net.node_xy[net.edge_v[edge]]
    length = net.edge_length_m[edge][:, None]
    p, q = a + (b - a) * start[:, None] / length, a + (b - a) * end[:, None] / length
    ends = zip(np.round(p, 3).tolist(), np.round(q, 3).tolist(), strict=True)
    return {tuple(sorted((tuple(x), tuple(y)))) for x, y in ends}


def test_service_area_pieces_follow_one_way_streets():
    from circles.areas import reached_pieces, reached_pieces_by_facility
    from circles.engine import search

    net = mode_network(hand_ways(), travel_mode("drive"))
    clinic = net.snap(np.array([C]), max_access_leg_m=50)
    nodes = search(net.travel_graph, clinic)
    # Within 90 s of driving to C: all of w2 (60 s), and w1 from 500 m short of B (30 s left at B,
    # 0.06 s/m); nothing of w3 or w4, whose one-ways lead away from C.
    want = {((1000.0, 0.0), (2000.0, 0.0)), ((500.0, 0.0), (1000.0, 0.0))}
    assert reached(net, reached_pieces(net, nodes, clinic, 90.0)) == want
    assert reached(net, reached_pieces_by_facility(net, nodes, clinic, 90.0)) == want
    # A clinic halfway along the one-way w2: 30 s reach 500 m behind it (towards B), nothing ahead.
    mid = net.snap(np.array([(1500.0, 0.0)]), max_access_leg_m=50)
    nodes = search(net.travel_graph, mid)
    half = {((1000.0, 0.0), (1500.0, 0.0))}
    assert reached(net, reached_pieces(net, nodes, mid, 30.0)) == half
    assert reached(net, reached_pieces_by_facility(net, nodes, mid, 30.0)) == half
    # Walking (costed in metres) the same 500 m reaches both ways.
    walk = mode_network(hand_ways(), travel_mode("walk"))
    at = walk.snap(np.array([(1500.0, 0.0)]), max_access_leg_m=50)
    pieces = reached_pieces(walk, search(walk.travel_graph, at), at, 500.0)
    assert reached(walk, pieces) == {((1000.0, 0.0), (2000.0, 0.0))}
