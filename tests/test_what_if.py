"""What-if scenarios: a changed facility set against the baseline, on a drawn street and the demo."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pytest

from circles import TravelSettings
from circles.analysis import analyse
from circles.demo import demo_pbf
from circles.errors import InputError
from circles.tables import write_csv
from circles.testing import HAND_CRS, HandGraph
from circles.what_if import what_if

#: The street of tests/test_loads.py: x = 0..1000 m at 100 m/min, bands 1, 2, 3 min (covered within 3).
#: Clinics A at x = 100 and B at 700; homes h1 x = 100 (100 residents), h2 250 (200), h3 500 (100),
#: h4 900 (50). Baseline: h1 0 min (A), h2 1.5 (A), h3 2.0 (B), h4 2.0 (B): everyone within 2 min.
LINE = HandGraph(nodes={f"n{x}": (float(x), 0.0) for x in range(0, 1001, 100)},
                 edges=tuple((f"n{x}", f"n{x + 100}") for x in range(0, 1000, 100)))  # fmt: skip
THREE_MIN = TravelSettings(speed_kmh=6.0, threshold_min=3.0, bands_min=(1.0, 2.0, 3.0))
HOME_COLUMNS = ["walk_time_min", "nearest_facility", "covered", "band", "population"]


@pytest.fixture(scope="module")
def street():
    homes = gpd.GeoDataFrame(
        {"population": [100.0, 200.0, 100.0, 50.0]},
        geometry=gpd.points_from_xy([100, 250, 500, 900], [0, 0, 0, 0]),
        crs=HAND_CRS,
    )
    clinics = gpd.GeoDataFrame(
        {"name": ["A", "B"], "facility_id": ["a", "b"]},
        geometry=gpd.points_from_xy([100, 700], [0, 0]),
        crs=HAND_CRS,
    )
    return analyse(LINE.network(), clinics, homes, settings=THREE_MIN)


def test_closing_a_clinic_by_hand(street):
    closed = what_if(street, remove_facilities=["B"])  # by name
    w = closed.summary.what_if
    assert w.removed == ("b",) and w.added == ()
    # Without B: h3 walks 4.0 min to A, h4 8.0: both fall out of 2 and 3 minutes.
    assert closed.homes["walk_time_min"].tolist() == [0.0, 1.5, 4.0, 8.0]
    assert [b.to_dict() for b in w.bands] == [
        {
            "minutes": 1.0,
            "gaining_homes": 0,
            "gaining_population": 0.0,
            "losing_homes": 0,
            "losing_population": 0.0,
        },
        {
            "minutes": 2.0,
            "gaining_homes": 0,
            "gaining_population": 0.0,
            "losing_homes": 2,
            "losing_population": 150.0,
        },
        {
            "minutes": 3.0,
            "gaining_homes": 0,
            "gaining_population": 0.0,
            "losing_homes": 2,
            "losing_population": 150.0,
        },
    ]
    assert w.covered_population_before == 450.0 and w.covered_population_after == 300.0
    assert [f.to_dict() for f in w.facilities] == [
        {"facility_id": "a", "name": "A", "catchment_population_before": 300.0,
         "catchment_population_after": 450.0, "change": 150.0},
        {"facility_id": "b", "name": "B", "catchment_population_before": 150.0,
         "catchment_population_after": None, "change": -150.0},
    ]  # fmt: skip
    changed = closed.what_if_homes
    assert changed["change"].tolist() == ["loses coverage", "loses coverage"]
    assert changed["walk_time_min_before"].tolist() == [2.0, 2.0]
    assert changed["walk_time_min_after"].tolist() == [4.0, 8.0]


def test_moving_a_clinic_by_hand(street):
    new = gpd.GeoDataFrame({"name": ["C"]}, geometry=gpd.points_from_xy([500], [0]), crs=HAND_CRS)
    moved = what_if(street, remove_facilities=["b"], add_facilities=new)
    w = moved.summary.what_if
    assert w.added == ("added-1",) and w.removed == ("b",)
    # C at 500: h3 0 min (within 1 now), h4 4.0 min (out of 2 and 3).
    assert moved.homes["walk_time_min"].tolist() == [0.0, 1.5, 0.0, 4.0]
    band1, band2, _ = (b.to_dict() for b in w.bands)
    assert (band1["gaining_population"], band1["losing_population"]) == (100.0, 0.0)
    assert (band2["gaining_population"], band2["losing_population"]) == (0.0, 50.0)
    assert moved.what_if_homes["change"].tolist() == ["faster", "loses coverage"]


def test_removing_and_re_adding_a_clinic_gives_the_baseline_byte_for_byte(street):
    b = street.facilities[street.facilities["facility_id"] == "b"][["facility_id", "name", "geometry"]]
    again = what_if(street, remove_facilities=["b"], add_facilities=b)
    assert write_csv(again.homes[HOME_COLUMNS]) == write_csv(street.homes[HOME_COLUMNS])
    columns = ["facility_id", "name", "catchment_homes", "catchment_population", "attached"]
    assert write_csv(again.facilities[columns]) == write_csv(street.facilities[columns])
    assert again.summary.coverage.to_dict() == street.summary.coverage.to_dict()
    assert again.summary.what_if.homes_changed == 0 and again.summary.what_if.facilities == ()


def test_unknown_facility_is_named(street):
    with pytest.raises(InputError, match="names 'Z', but no facility has that id or name") as err:
        what_if(street, remove_facilities=["Z"])
    assert err.value.parameter == "remove_facilities"


def circles(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600
    )


def test_what_if_through_the_cli_re_adding_gives_the_baseline(tmp_path):
    base_out = tmp_path / "base"
    assert circles("run", "--pbf", str(demo_pbf()), "--out", str(base_out)).returncode == 0
    facilities = gpd.read_file(base_out / "circles.gpkg", layer="facilities")
    clinic = facilities.iloc[[4]][["facility_id", "name", "geometry"]]
    clinic.to_file(tmp_path / "clinic.geojson", driver="GeoJSON")
    fid = str(clinic["facility_id"].iloc[0])
    gone, back = tmp_path / "gone", tmp_path / "back"
    proc = circles("run", "--pbf", str(demo_pbf()), "--remove-facilities", fid, "--out", str(gone))
    assert proc.returncode == 0, proc.stderr
    assert f"what-if (-{fid})" in proc.stdout
    removed = json.loads((gone / "summary.json").read_text(encoding="utf-8"))["what_if"]
    assert removed["removed"] == [fid] and removed["homes_changed"] > 0
    assert {f["facility_id"] for f in removed["facilities"]} >= {fid}
    changed = gpd.read_file(gone / "circles.gpkg", layer="what_if_homes")
    assert (
        len(changed) == removed["homes_changed"]
        and "What-if: homes that change" in (gone / "map.html").read_text()
    )
    proc = circles(
        "run", "--pbf", str(demo_pbf()), "--remove-facilities", fid,
        "--add-facilities", str(tmp_path / "clinic.geojson"), "--out", str(back),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    again = json.loads((back / "summary.json").read_text(encoding="utf-8"))["what_if"]
    assert again["homes_changed"] == 0 and again["facilities"] == []
    assert (back / "summary.csv").read_bytes() == (base_out / "summary.csv").read_bytes()
    homes = [gpd.read_file(d / "circles.gpkg", layer="homes")[HOME_COLUMNS] for d in (base_out, back)]
    assert write_csv(homes[0]) == write_csv(homes[1])


def test_removing_an_unknown_clinic_is_one_line(tmp_path):
    proc = circles(
        "run", "--pbf", str(demo_pbf()), "--remove-facilities", "nowhere", "--out", str(tmp_path / "x")
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().startswith(
        "circles: error: --remove-facilities names 'nowhere', but no facility has that id or name"
    )
    assert not (tmp_path / "x").exists()


def test_changes_per_subarea(street):
    from shapely.geometry import box

    halves = gpd.GeoDataFrame(
        {"name": ["west", "east"]}, geometry=[box(-10, -50, 400, 50), box(400, -50, 1010, 50)], crs=HAND_CRS
    )
    closed = what_if(street, remove_facilities=["b"], subareas=halves)
    (west, west_bands), (east, east_bands) = closed.summary.what_if.subareas
    assert (west, east) == ("west", "east")
    assert all(b.losing_population == 0 for b in west_bands)  # A still serves the west
    assert [b.losing_population for b in east_bands] == [0.0, 150.0, 150.0]
    assert [b.losing_homes for b in east_bands] == [0, 2, 2]
