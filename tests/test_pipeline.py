"""End-to-end results on the embedded Helsinki extract, checked independently."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from circles import TravelSettings, run_osm
from circles.config import FACILITY_PRESETS
from circles.network import WalkNetwork
from circles.sources.osm import read_osm
from circles.testing import reference_distances


def test_helsinki_headline(helsinki_result):
    s = helsinki_result.summary.to_dict()
    assert (s["homes"], s["facilities"]) == (59, {"inside": 7, "margin_serving": 0, "unattached": 0})
    assert s["covered_homes"] == 50
    assert s["unreachable_homes"] == 0
    assert helsinki_result.headline().startswith(
        "Helsinki: 84% of 6,395 estimated residents (50 of 59 homes) live within 15 min walk of 7 facilities"
    )
    assert [w["homes"] for w in s["within"]] == [29, 42, 50]


def assert_agrees_with_networkx(pbf, result, preset: str = "primary-care") -> None:
    """Every home's time equals a networkx run on the graph split at the snapped points."""
    layers = read_osm(pbf, FACILITY_PRESETS[preset])
    net = WalkNetwork.from_lines(
        layers.walkways.geometry.values, street_level=layers.walkways["street_level"].to_numpy()
    )
    homes = result.homes.to_crs(net.crs)
    fac = layers.facilities.to_crs(net.crs)
    home_pts = homes.geometry.representative_point()
    fac_snap = net.snap(
        np.column_stack([fac.geometry.x, fac.geometry.y]), max_access_leg_m=250, min_island_m=300
    )
    home_snap = net.snap(np.column_stack([home_pts.x, home_pts.y]), max_access_leg_m=250, min_island_m=300)
    expected_min = reference_distances(net, fac_snap, home_snap) / 75.0
    got = result.homes["walk_time_min"].to_numpy(float)
    np.testing.assert_allclose(np.nan_to_num(got, nan=np.inf), expected_min, atol=1e-3)
    # Shares recomputed from the reference times (rounded to 0.001 min, as reported) and the population.
    pop = result.homes["population"].to_numpy()
    for w in result.summary.to_dict()["within"]:
        share = pop[np.round(expected_min, 3) <= w["minutes"]].sum() / pop.sum()
        assert w["population_share"] == pytest.approx(share, abs=1e-3)


def test_helsinki_times_agree_with_networkx(helsinki_pbf, helsinki_result):
    assert_agrees_with_networkx(helsinki_pbf, helsinki_result)


@pytest.mark.shared_data
def test_nanjing_times_agree_with_networkx(shared_data):
    pbf = shared_data / "nanjing_xuanwu_osm" / "nanjing_xuanwu_osmwebwizard.osm.pbf"
    result = run_osm(pbf, facilities="hospital")
    assert result.summary.to_dict()["homes"] == 529 and result.summary.to_dict()["facilities"]["inside"] == 4
    assert_agrees_with_networkx(pbf, result, "hospital")


def test_per_home_columns(helsinki_result):
    h = helsinki_result.homes
    for col in ("osm_id", "walk_time_min", "nearest_facility", "covered", "band", "population"):
        assert col in h
    assert set(h["band"]) <= {"0-5", "5-10", "10-15", ">15", "unreachable"}
    assert (h["covered"] == (h["walk_time_min"] <= 15)).all()
    assert h.loc[h["covered"], "nearest_facility"].str.startswith("node/").all()
    f = helsinki_result.facilities
    assert f["catchment_homes"].sum() == 59
    assert f["catchment_population"].sum() == pytest.approx(h["population"].sum(), abs=1)


def test_service_areas_nest_and_contain_covered_homes(helsinki_result):
    areas = helsinki_result.service_areas.to_crs(32635).sort_values("band_min")
    geoms = list(areas.geometry)
    for inner, outer in itertools.pairwise(geoms):
        assert inner.area < outer.area
        assert inner.difference(outer).area < 1e-6 * inner.area
    homes = helsinki_result.homes.to_crs(32635)
    covered = homes[homes["covered"]].geometry.representative_point()
    # A covered home's access leg is under 50 m here, so it lies in the 15-minute buffer.
    near = homes.loc[homes["covered"], "access_leg_m"] < 50
    assert covered[near].within(geoms[-1]).all()


def test_elderly_speed_lowers_coverage(helsinki_pbf, helsinki_result):
    slow = run_osm(helsinki_pbf, settings=TravelSettings(speed_kmh=3.6))
    assert slow.summary.to_dict()["covered_homes"] < helsinki_result.summary.to_dict()["covered_homes"]
    ratio = slow.homes["walk_time_min"] / helsinki_result.homes["walk_time_min"]
    np.testing.assert_allclose(ratio, 4.5 / 3.6, rtol=1e-3)


def test_capacity_per_10k_residents(helsinki_pbf):
    from circles.pipeline import osm_inputs, run_study
    from circles.report import summary_rows

    inputs = osm_inputs(helsinki_pbf)
    inputs.facilities["capacity"] = [3, 0, 5, 2, 4, 1, 6]  # e.g. GPs per clinic, all 7 on the network
    result = run_study(inputs, name="Helsinki")
    pop = result.summary.to_dict()["population"]
    expected_capacity = {"total": 21.0, "per_10k_residents": round(21 / pop * 10_000, 2)}
    assert result.summary.to_dict()["capacity"] == expected_capacity
    f = result.facilities
    expected = np.where(
        f["catchment_population"] > 0, f["capacity"] / f["catchment_population"] * 1e4, np.nan
    )
    np.testing.assert_allclose(f["capacity_per_10k_catchment"], expected, atol=0.01)
    assert (
        summary_rows(result.summary.to_dict())["capacity_per_10k_residents"][0]
        == result.summary.to_dict()["capacity"]["per_10k_residents"]
    )


@pytest.mark.shared_data
def test_estimate_on_unmapped_residential_land_is_flagged(shared_data):
    from circles.pipeline import PopulationSpec

    pbf = shared_data / "shenzhen_nanshan_hightech_osm" / "shenzhen_nanshan_hightech_overpass_2021.osm.pbf"
    # No clinics are mapped there: schools stand in as facilities.
    estimated = run_osm(pbf, facilities="amenity=school")
    assert (estimated.homes["building"] == "landuse").sum() == 310
    assert len(estimated.summary.warnings) == 1
    assert "live on residential land with no mapped buildings" in estimated.summary.to_dict()["warnings"][0]
    given = run_osm(pbf, facilities="amenity=school", population=PopulationSpec(total=100_000))
    assert given.summary.to_dict()["population"] == pytest.approx(100_000, abs=1)
    assert "spread by floor area" in given.summary.to_dict()["sources"]["population"]
    assert given.summary.to_dict()["warnings"] == []
