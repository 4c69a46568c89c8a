"""Facility tiers: classification, plans, and the full-coverage figure worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from circles.config import TravelSettings
from circles.errors import InputError, InputFileError
from circles.residents import HomePopulation
from circles.testing import HAND_CRS, one_way_streets
from circles.tier_study import run_tiers
from circles.tiers import Tier, TierPlan, classify, parse_tier, read_plan

A, B, C, D = (0.0, 0.0), (1000.0, 0.0), (2000.0, 0.0), (1000.0, -1000.0)


def points(xy, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[shapely.Point(p) for p in xy], crs=HAND_CRS)


def test_names_and_tags_give_tiers():
    facilities = gpd.GeoDataFrame(
        {
            "name": [
                "张庄村卫生室",
                "城关镇中心卫生院",
                "人民医院社区卫生服务站",
                "县人民医院",
                "Mercy",
                "诊所",
            ],
            "amenity": [None, None, None, None, "hospital", "doctors"],
        },
        geometry=[shapely.Point(0, 0)] * 6,
        crs=HAND_CRS,
    )
    plan = TierPlan((Tier("village", 15), Tier("township", 15, "ebike"), Tier("hospital", 30, "drive")))
    # A hospital's community station is community (not in the plan), a private clinic nothing.
    assert classify(facilities, plan).tolist() == [
        "village",
        "township",
        "community",
        "hospital",
        "hospital",
        "",
    ]
    own = TierPlan((Tier("clinic", 15, name_contains=("诊所",)),))
    assert classify(facilities, own).tolist()[5] == "clinic"


def test_a_tier_column_names_tiers_or_types():
    facilities = points([A] * 4, name=["a", "b", "c", "d"], level=["county", "乡镇卫生院", None, "?"])
    plan = TierPlan((Tier("county", 30, "drive"), Tier("township", 15, "ebike")), tier_column="level")
    assert classify(facilities, plan).tolist() == ["county", "township", "", ""]
    with pytest.raises(InputError, match="no column 'grade'"):
        classify(facilities, TierPlan(plan.tiers, tier_column="grade"))


def test_tier_specs_and_plan_files(tmp_path):
    assert parse_tier("township:15:ebike:30000") == Tier("township", 15.0, "ebike", 30000.0)
    assert parse_tier("village:15", default_mode="elderly").mode == "elderly"
    assert parse_tier("county:30:car").mode == "drive"
    for bad in ("village", "village:soon", "village:15:boat", "vil lage:15", "village:0", "facility:15"):
        with pytest.raises(InputError):
            parse_tier(bad)
    with pytest.raises(InputError, match="more than once"):
        TierPlan((Tier("a", 5), Tier("a", 10)))
    with pytest.raises(InputError, match="a plan of its own"):
        TierPlan((Tier("all", 5, all_facilities=True), Tier("a", 10)))
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(
        'tier_column = "级别"\n[modes]\nebike_speed_kmh = 18\n'
        '[[tiers]]\nname = "village"\nminutes = 15\nname_contains = ["村医"]\n'
        '[[tiers]]\nname = "county"\nminutes = 30\nmode = "drive"\ntags = ["amenity=hospital"]\n'
        "residents_per_facility = 100000\n",
        encoding="utf-8",
    )
    plan = read_plan(plan_file)
    assert plan.tier_column == "级别" and plan.modes.ebike_speed_kmh == 18
    assert plan.tiers[1] == Tier("county", 30, "drive", 100000, (), (("amenity", "hospital"),))
    assert plan.networks == ("walk", "drive")
    plan_file.write_text("[[tiers]]\nname = 'v'\nminutes = 15\nspeed = 3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"plan\.toml: tier 'v'"):
        read_plan(plan_file)
    plan_file.write_text("[[tiers]\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="not a TOML tier plan"):
        read_plan(plan_file)


def hand_study(subareas=None):
    """Three tiers on :func:`circles.testing.one_way_streets`, homes at A, B, C, D (10, 20, 30, 40 residents).

    village (walk 15 min = 1125 m) at A:   A 0 m, B 1000 m: covered; C 2000 m, D 2000 m: not.
    township (e-bike 15 min) at C:         A 360 s, B 180 s, C 0: covered; D cannot ride out (one-ways).
    hospital (drive 5 min) at D:           A 289.7 s, B 229.7 s (round by C), C 169.7 s, D 0: all covered.
    All three: A and B, 30 of 100 residents.
    """
    facilities = points([A, C, D], name=["A村卫生室", "C镇卫生院", "D县人民医院"])
    homes = points([A, B, C, D])
    population = HomePopulation.uniform(np.array([10.0, 20.0, 30.0, 40.0]), "counted", estimated=False)
    plan = TierPlan(
        (Tier("village", 15, "walk", 50), Tier("township", 15, "ebike"), Tier("hospital", 5, "drive"))
    )
    return run_tiers(
        one_way_streets(), facilities, homes, population, TravelSettings(), plan, subareas=subareas
    )


def test_full_coverage_figure_by_hand():
    run = hand_study()
    cols = run.home_columns
    np.testing.assert_allclose(cols["time_min_village"], [0, 1000 / 75, 2000 / 75, 2000 / 75], atol=1e-3)
    np.testing.assert_allclose(cols["time_min_township"], [6.0, 3.0, 0.0, np.nan], atol=1e-3)
    by_c = (60 + 1000 * 2**0.5 * 3.6 / 30) / 60
    np.testing.assert_allclose(cols["time_min_hospital"], [60 / 60 + by_c, by_c, by_c - 1, 0], atol=1e-3)
    assert cols["covered_village"].tolist() == [True, True, False, False]
    assert cols["covered_township"].tolist() == [True, True, True, False]
    assert cols["covered_hospital"].tolist() == [True, True, True, True]
    assert cols["covered_all_tiers"].tolist() == [True, True, False, False]
    assert cols["nearest_township"].tolist()[:3] == ["F2", "F2", "F2"]
    assert cols["nearest_township"].isna().tolist() == [False, False, False, True]
    tiers = run.summary
    assert [t.coverage.covered_share for t in tiers.tiers] == [0.3, 0.6, 1.0]
    assert tiers.all_tiers.population == 30.0 and tiers.all_tiers.population_share == 0.3
    assert [t.residents_per_facility for t in tiers.tiers] == [100.0, 100.0, 100.0]
    assert [t.meets_target for t in tiers.tiers] == [False, None, None]  # village: 100 residents > 50
    assert "walked at 4.5 km/h" in tiers.access_legs
    assert set(run.areas["tier"]) == {"village", "township", "hospital"}
    assert run.facility_columns["tier"].tolist() == ["village", "township", "hospital"]
    assert run.facility_columns["tier_catchment_population"].tolist() == [100.0, 60.0, 100.0]


def test_units_without_a_facility_of_their_tier():
    west = shapely.box(-100, -1100, 1500, 100)
    east = shapely.box(1500, -1100, 2100, 100)
    units = gpd.GeoDataFrame({"name": ["西乡", "东镇"]}, geometry=[west, east], crs=HAND_CRS)
    tiers = hand_study(units).summary
    rows = {(u.unit, u.tier): u for u in tiers.units}
    assert rows[("西乡", "village")].residents == 70.0 and rows[("西乡", "village")].facilities_inside == 1
    assert rows[("西乡", "village")].residents_per_facility == 70.0
    assert rows[("西乡", "village")].meets_target is False  # 70 > 50
    assert rows[("东镇", "village")].meets_target is False  # residents and no village clinic
    assert (
        rows[("东镇", "township")].covered_share == 1.0 and rows[("西乡", "township")].covered_share == 0.4286
    )
    assert tiers.units_without() == {"village": ["东镇"], "township": ["西乡"], "hospital": ["东镇"]}


def test_a_tier_without_facilities_is_a_warning_not_a_failure():
    facilities = points([A], name=["A村卫生室"])
    homes = points([A, B])
    population = HomePopulation.uniform(np.array([1.0, 1.0]), "counted", estimated=False)
    plan = TierPlan((Tier("village", 15), Tier("township", 15, "ebike")))
    run = run_tiers(one_way_streets(), facilities, homes, population, TravelSettings(), plan)
    assert run.home_columns["covered_township"].tolist() == [False, False]
    assert run.summary.all_tiers.homes == 0
    assert any("no facility is classified as township" in w for w in run.summary.warnings)
