"""Clinic loads and competition-aware access (E2SFCA) through the product, computed by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest

from circles import TravelSettings
from circles.analysis import analyse
from circles.demo import demo_pbf
from circles.loads import with_loads
from circles.plan_result import CapacityOptions
from circles.testing import HAND_CRS, HandGraph

#: A straight street x = 0..1000 m, walked at 100 m/min, covered within 3 min, stepped weights over
#: thirds of it: 1.00 (0-1 min], 0.68 (1-2], 0.22 (2-3]. Clinics A at x = 100 (2 GPs), B at 700 (1 GP).
#: Homes on the street: h1 x = 100 (100 residents; A 0 min), h2 250 (200; A 1.5), h3 500 (100; A 4.0,
#: B 2.0), h4 900 (50; B 2.0). Competition: A 100 x 1 + 200 x 0.68 = 236, B (100 + 50) x 0.68 = 102.
#: R_A = 2 / 236, R_B = 1 / 102. Access per 10,000: h1 1e4 x 2/236 = 84.7458, h2 0.68 x that =
#: 57.6271, h3 = h4 = 1e4 x 0.68 / 102 = 66.6667. Catchments: A {h1, h2} = 300, B {h3, h4} = 150.
LINE = HandGraph(nodes={f"n{x}": (float(x), 0.0) for x in range(0, 1001, 100)},
                 edges=tuple((f"n{x}", f"n{x + 100}") for x in range(0, 1000, 100)))  # fmt: skip
THREE_MIN = TravelSettings(speed_kmh=6.0, threshold_min=3.0, bands_min=(1.0, 2.0, 3.0))


@pytest.fixture(scope="module")
def toy():
    homes = gpd.GeoDataFrame(
        {"population": [100.0, 200.0, 100.0, 50.0]},
        geometry=gpd.points_from_xy([100, 250, 500, 900], [0, 0, 0, 0]),
        crs=HAND_CRS,
    )
    clinics = gpd.GeoDataFrame(
        {"name": ["A", "B"], "capacity": [2.0, 1.0]},
        geometry=gpd.points_from_xy([100, 700], [0, 0]),
        crs=HAND_CRS,
    )
    return analyse(LINE.network(), clinics, homes, settings=THREE_MIN)


def test_e2sfca_and_loads_by_hand(toy):
    result = with_loads(toy, CapacityOptions(residents_per_facility=200, supply_target_per_10k=70))
    assert result.homes["access_per_10k"].tolist() == [84.7458, 57.6271, 66.6667, 66.6667]
    fac = result.facilities
    assert fac["catchment_population"].tolist() == [300.0, 150.0]
    assert fac["population_within_threshold"].tolist() == [300.0, 150.0]
    assert fac["catchment_to_target"].tolist() == [1.5, 0.75]
    assert fac["over_resident_target"].tolist() == [True, False]
    assert fac["supply_per_10k"].tolist() == [66.67, 66.67]
    assert fac["below_supply_target"].tolist() == [True, True]
    assert fac["overloaded"].tolist() == [True, True]
    loads = result.summary.loads.to_dict()
    assert loads["facilities_over_resident_target"] == 1 and loads["facilities_below_supply_target"] == 2
    assert loads["residents_per_facility"] == 225.0 and loads["supply_per_10k"] == 66.67
    assert loads["share_below_access_target"] == round(350 / 450, 4)  # all but h1 below 70


def test_without_a_supply_column_each_clinic_counts_once(toy):
    plain = toy.with_(facilities=toy.facilities.drop(columns="capacity"))
    result = with_loads(plain, CapacityOptions(residents_per_facility=200, access_decay="gaussian"))
    # Gaussian, sigma = 1.5 min: W(0) = 1, W(1.5) = exp(-0.5), W(2) = exp(-8/9).
    import math

    r_a = 1 / (100 + 200 * math.exp(-0.5))
    assert result.homes["access_per_10k"].iloc[0] == round(1e4 * r_a, 4)
    loads = result.summary.loads
    assert not loads.supply_column and loads.access_target_per_10k == 50.0  # 1e4 / 200 residents
    assert "supply_per_10k" not in result.facilities and loads.facilities_below_supply_target is None


def circles(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600
    )


def test_loads_through_the_cli_with_a_supply_column(tmp_path):
    example = Path(__file__).resolve().parents[1] / "data" / "example_clinics.csv"
    out = tmp_path / "gps"
    proc = circles(
        "run", "--pbf", str(demo_pbf()), "--facilities", str(example), "--capacity-column", "gps",
        "--capacity-target", "10", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "clinics: 0 over 20,000 catchment residents" in proc.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    loads = summary["loads"]
    assert loads["supply_column"] and loads["supply"] == 15.0 and loads["supply_target_per_10k"] == 10.0
    fac = gpd.read_file(out / "circles.gpkg", layer="facilities")
    # Below the target exactly where the supply per 10,000 catchment residents is below 10.
    assert (fac["below_supply_target"] == (fac["supply_per_10k"].fillna(1e9) < 10)).all()
    assert loads["facilities_below_supply_target"] == int(fac["below_supply_target"].sum())
    homes = gpd.read_file(out / "circles.gpkg", layer="homes")
    assert homes["access_per_10k"].notna().all() and (homes["access_per_10k"] >= 0).all()


def test_bad_capacity_target_is_one_line(tmp_path):
    proc = circles(
        "run", "--pbf", str(demo_pbf()), "--residents-per-facility", "0", "--out", str(tmp_path / "x")
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == "circles: error: --residents-per-facility must be a positive number, got 0"
    assert not (tmp_path / "x").exists()


def test_over_target_clinics_are_flagged_on_the_map(toy):
    from circles.maps import build_map

    def over_flags(result) -> str:
        html = build_map(result).get_root().render().replace(" ", "")
        return html[html.index('"over":') :].split("]")[0] + "]"

    assert over_flags(with_loads(toy, CapacityOptions(residents_per_facility=200))) == '"over":[1,0]'
    assert over_flags(toy) == '"over":[0,0]'  # no loads measured: nothing flagged


def test_loads_per_subarea(toy):
    from shapely.geometry import box

    halves = gpd.GeoDataFrame(
        {"name": ["west", "east"]}, geometry=[box(-10, -50, 400, 50), box(400, -50, 1010, 50)], crs=HAND_CRS
    )
    result = with_loads(
        toy, CapacityOptions(residents_per_facility=200, supply_target_per_10k=70), subareas=halves
    )
    west, east = (u.to_dict() for u in result.summary.loads.subareas)
    assert west == {
        "name": "west", "population": 300.0, "facilities": 1, "residents_per_facility": 300.0, "supply": 2.0,
        "supply_per_10k": 66.67, "share_below_access_target": 0.6667,  # h2 (57.6) below 70, h1 (84.7) not
    }  # fmt: skip
    assert east["population"] == 150.0 and east["supply_per_10k"] == 66.67
    assert east["share_below_access_target"] == 1.0
