"""The command line, run in a subprocess as `circles` and `python -m circles`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest

pytestmark = pytest.mark.e2e  # runs the circles command in a subprocess

CIRCLES = shutil.which("circles", path=str(Path(sys.executable).parent))


def run(*args: str, module: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "circles", *args] if module else [CIRCLES, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(CIRCLES is None, reason="the circles console script is not installed (pip install -e .)")
def test_demo_writes_outputs_and_headline(tmp_path):
    out = tmp_path / "demo"
    proc = run("demo", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "84% of 6,395 estimated residents (50 of 59 homes)" in proc.stdout
    for name in (
        "map.html",
        "summary.json",
        "summary.csv",
        "homes.gpkg",
        "facilities.gpkg",
        "service_areas.gpkg",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["covered_homes"] == 50 and summary["parameters"]["speed_kmh"] == 4.5
    homes = gpd.read_file(out / "homes.gpkg")
    assert len(homes) == 59 and homes.crs.to_epsg() == 4326
    assert not list(tmp_path.glob(".demo.*")), "temporary folders left behind"


def test_module_run_with_elderly_speed(tmp_path, helsinki_pbf):
    out = tmp_path / "run"
    proc = run(
        "run",
        "--pbf",
        str(helsinki_pbf),
        "--speed-kmh",
        "elderly",
        "--bands",
        "5,10,15",
        "--minutes",
        "15",
        "--out",
        str(out),
        "--name",
        "Kluuvi",
        module=True,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["speed_kmh"] == 3.6
    assert summary["parameters"]["bands_min"] == [5.0, 10.0, 15.0]
    assert summary["name"] == "Kluuvi"
    assert summary["covered_homes"] < 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--pbf", "missing.osm.pbf"], "missing.osm.pbf: no such OSM file"),
        (["run", "--pbf", "{helsinki}", "--speed-kmh", "fast"], "walking speed 'fast'"),
        (["run", "--pbf", "{helsinki}", "--bands", "10,5"], "bands must be positive and strictly ascending"),
        (["run", "--pbf", "{helsinki}", "--facilities", "amenity=nothing_here"], "no facilities tagged"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, helsinki_pbf, args, message):
    out = tmp_path / "out"
    args = [a.replace("{helsinki}", str(helsinki_pbf)) for a in args]
    proc = run(*args, "--out", str(out), "-q", module=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("circles: error: ") and message in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_usage_error_exits_2():
    proc = run("run", "--out", "x", module=True)
    assert (
        proc.returncode == 2
        and "one of the arguments --pbf --osm --graphml --place is required" in proc.stderr
    )


def test_run_recommends_sites(tmp_path, helsinki_pbf):
    out = tmp_path / "sites"
    proc = run(
        "run",
        "--pbf",
        str(helsinki_pbf),
        "--minutes",
        "5",
        "--recommend",
        "2",
        "--out",
        str(out),
        module=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "proposed site 1 at" in proc.stdout and "proposed site 2 at" in proc.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    sites = summary["proposed_sites"]
    assert [s["rank"] for s in sites] == [1, 2]
    assert sites[0]["gain_population"] >= sites[1]["gain_population"] > 0
    assert len(gpd.read_file(out / "proposed_sites.gpkg")) == 2
    assert "proposed site 1" in (out / "map.html").read_text(encoding="utf-8")


def test_example_clinic_file_from_data_folder(tmp_path, helsinki_pbf):
    example = Path(__file__).resolve().parents[1] / "data" / "example_clinics.csv"
    out = tmp_path / "example"
    proc = run(
        "run",
        "--pbf",
        str(helsinki_pbf),
        "--facilities",
        str(example),
        "--capacity-column",
        "gps",
        "--out",
        str(out),
        module=True,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["facilities"] == {"inside": 3, "margin_serving": 0, "unattached": 0}
    assert summary["capacity"]["total"] == 15.0
    facilities = gpd.read_file(out / "facilities.gpkg")
    assert facilities["name"].tolist() == [
        "Kamppi community clinic",
        "Kruununhaka community clinic",
        "Kaartinkaupunki community clinic",
    ]
