"""Three tiers on a real extract: Shenzhen Nanshan streets, a tiered facility list, sub-districts as units."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.shared_data

NANSHAN = "shenzhen_nanshan_hightech_osm/shenzhen_nanshan_hightech_overpass_2021.osm.pbf"
UNITS = "shenzhen_subdistrict_boundaries/shenzhen_subdistricts_named_wgs84.geojson"
#: A facility list with a tier column: tier names, a type the rules read (乡镇卫生院), one of no tier.
FACILITIES = """name,lon,lat,级别
桃源村卫生室,113.9444,22.5457,village
大冲村卫生室,113.9523,22.5483,village
白石洲村卫生室,113.9665,22.5518,village
南头村卫生室,113.9300,22.5450,village
粤海街道卫生院,113.9450,22.5480,乡镇卫生院
沙河卫生院,113.9650,22.5500,township
南山区人民医院,113.9550,22.5520,county
科技园药店,113.9500,22.5470,pharmacy
"""
TIERS = ["village:15:walk", "township:15:ebike:50000", "county:30:drive"]


@pytest.fixture(scope="module")
def files(shared_data, tmp_path_factory):
    pbf = shared_data / NANSHAN
    if not pbf.is_file():
        pytest.skip(f"real-data test: {pbf} is absent")
    folder = tmp_path_factory.mktemp("nanshan")
    (folder / "clinics.csv").write_text(FACILITIES, encoding="utf-8")
    return pbf, folder / "clinics.csv", shared_data / UNITS


@pytest.fixture(scope="module")
def study(files):
    from circles.pipeline import run_study
    from circles.sources.assemble import SourceSpec, load_inputs
    from circles.sources.boundaries import read_boundary
    from circles.tiers import TierPlan, parse_tier

    pbf, clinics, units = files
    plan = TierPlan(tuple(parse_tier(t) for t in TIERS), tier_column="级别")
    inputs = load_inputs(SourceSpec("pbf", pbf, facilities=str(clinics)), networks=plan.networks)
    subareas = read_boundary(units, where={"district": ["南山"]})
    return inputs, run_study(inputs, name="nanshan", subareas=subareas, tiers=plan), subareas


def test_each_tier_is_its_own_measure(study):
    from circles.pipeline import run_study

    inputs, result, _ = study
    homes = result.homes
    assert result.facilities["tier"].tolist() == ["village"] * 4 + ["township"] * 2 + ["county", ""]
    # The village tier (walking, 15 min) is exactly a walking study of the village clinics alone.
    villages = inputs.facilities[result.facilities["tier"].to_numpy() == "village"]
    alone = run_study(type(inputs)(inputs.walkways, villages, inputs.homes, inputs.sources), name="v")
    np.testing.assert_array_equal(
        homes["time_min_village"].to_numpy(), alone.homes["walk_time_min"].to_numpy()
    )
    # The extract is 5 km across: every home the drive network reaches is within 30 minutes' drive.
    assert homes["time_min_county"].notna().sum() > 300
    assert (homes["time_min_county"].dropna() <= 30).all()
    every = homes["covered_village"] & homes["covered_township"] & homes["covered_county"]
    assert homes["covered_all_tiers"].tolist() == every.tolist()
    tiers = result.summary.tiers
    pop = homes["population"].to_numpy(float)
    share = pop[every.to_numpy()].sum() / pop.sum()
    assert tiers.all_tiers.population_share == pytest.approx(share, abs=1e-4)
    assert 0 < share < 1
    assert tiers.unclassified_facilities == 1
    assert [t.classified for t in tiers.tiers] == [4, 2, 1]
    units = {u.unit for u in tiers.units}
    assert {"粤海街道", "沙河街道", "南头街道", "西丽街道"} <= units


@pytest.mark.e2e
def test_three_tier_run_through_the_cli(files, tmp_path):
    pbf, clinics, units = files
    out = tmp_path / "out"
    tier_args = [a for t in TIERS for a in ("--tier", t)]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "circles",
            "run",
            "--pbf",
            str(pbf),
            "--facilities",
            str(clinics),
            "--tier-column",
            "级别",
            *tier_args,
            "--subareas",
            str(units),
            "--subarea-where",
            "district=南山",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "tier township (township health centres, 乡镇卫生院): 90.0%" in proc.stdout
    assert "all tiers at once:" in proc.stdout and "(target 50,000: not met)" in proc.stdout
    assert "walked at 4.5 km/h" in proc.stdout
    table = pd.read_csv(out / "tiers.csv")
    assert table["tier"].tolist() == ["village", "township", "county", "(all tiers)"]
    assert table["mode"].tolist()[:3] == ["walk", "ebike", "drive"]
    assert table["facilities_classified"].tolist()[:3] == [4, 2, 1]
    homes = gpd.read_file(out / "homes.gpkg")
    for column in (
        "time_min_county",
        "nearest_township",
        "covered_village",
        "covered_all_tiers",
        "walk_time_min",
    ):
        assert column in homes
    pop = homes["population"].to_numpy(float)
    covered = homes["covered_all_tiers"].to_numpy(bool)
    assert table["covered_share"].iloc[-1] == pytest.approx(pop[covered].sum() / pop.sum(), abs=1e-4)
    units_table = pd.read_csv(out / "tier_units.csv")
    assert set(units_table["tier"]) == {"village", "township", "county"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    without = summary["tiers"]["units_without_facility"]
    assert set(without) == {"village", "township", "county"}
    assert all(len(v) >= 1 for v in without.values())  # Nanshan has sub-districts beyond this extract
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(out / "service_areas.gpkg")}
    assert {"tier_village", "tier_township", "tier_county"} <= layers
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Tier county: within 30 min drive" in page and "Tier township: within 15 min by e-bike" in page


def test_batch_reports_the_tiers_of_every_area(files, tmp_path):
    from circles.batch import run_batch
    from circles.sources.assemble import SourceSpec, load_inputs
    from circles.sources.boundaries import read_boundary
    from circles.tiers import TierPlan, parse_tier

    pbf, clinics, units = files
    plan = TierPlan(tuple(parse_tier(t) for t in TIERS), tier_column="级别")
    inputs = load_inputs(SourceSpec("pbf", pbf, facilities=str(clinics)), networks=plan.networks)
    areas = read_boundary(units, names=["粤海街道", "沙河街道"])
    outcomes = run_batch(inputs, areas, tmp_path / "batch", tiers=plan)
    assert [o.status for o in outcomes] == ["done", "done"], [o.error for o in outcomes]
    table = pd.read_csv(tmp_path / "batch" / "tiers.csv")
    assert sorted(o.name for o in outcomes) == ["沙河街道", "粤海街道"]
    assert table["area"].tolist() == [outcomes[0].name] * 4 + [outcomes[1].name] * 4
    assert table["tier"].tolist() == ["village", "township", "county", "(all tiers)"] * 2
    for outcome in outcomes:
        own = pd.read_csv(tmp_path / "batch" / outcome.folder / "tiers.csv")
        mine = table[table["area"] == outcome.name]
        assert own["covered_share"].tolist() == mine["covered_share"].tolist()
    # A re-run with the same plan reuses both areas; another plan recomputes them.
    again = run_batch(inputs, areas, tmp_path / "batch", tiers=plan)
    assert [o.status for o in again] == ["skipped", "skipped"]
    other = TierPlan(plan.tiers[:2], tier_column="级别")
    changed = run_batch(inputs, areas, tmp_path / "batch", tiers=other)
    assert [o.status for o in changed] == ["recomputed", "recomputed"]
    assert all("tiers" in o.reason for o in changed)
