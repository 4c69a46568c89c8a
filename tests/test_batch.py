"""`circles run` with a boundary and `circles batch` over several areas, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
import shapely

NANJING = "nanjing_xuanwu_osm/nanjing_xuanwu_osmwebwizard.osm.pbf"


def circles(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600
    )


def write_areas(path, boxes: dict[str, tuple[float, float, float, float]], crs: int = 4326) -> None:
    frame = gpd.GeoDataFrame(
        {"area": list(boxes)}, geometry=[shapely.box(*b) for b in boxes.values()], crs=4326
    )
    frame.to_crs(crs).to_file(path, driver="GeoJSON")


@pytest.fixture(scope="module")
def helsinki_areas(tmp_path_factory, helsinki_pbf):
    """The Helsinki homes' extent cut in West and East halves (in a projected CRS), plus an area at sea."""
    from circles.pipeline import osm_inputs

    minx, miny, maxx, maxy = osm_inputs(helsinki_pbf).homes.total_bounds
    mid = (minx + maxx) / 2
    path = tmp_path_factory.mktemp("areas") / "areas.geojson"
    write_areas(
        path,
        {
            "West": (minx - 1e-4, miny - 1e-4, mid, maxy + 1e-4),
            "East": (mid, miny - 1e-4, maxx + 1e-4, maxy + 1e-4),
            "Sea": (24.0, 59.0, 24.01, 59.01),
        },
        crs=3067,  # ETRS-TM35FIN: a boundary in another CRS must simply work
    )
    return path


def test_batch_runs_every_area_and_survives_a_broken_one(tmp_path, helsinki_pbf, helsinki_areas):
    out = tmp_path / "city"
    args = ["batch", "--pbf", str(helsinki_pbf), "--boundary", str(helsinki_areas), "--name-field", "area"]
    proc = circles(*args, "--out", str(out))
    assert proc.returncode == 2, proc.stderr  # one area failed
    assert "Sea: failed: Sea: no walkable streets within reach" in proc.stderr
    table = pd.read_csv(out / "summary.csv")
    assert table["name"].tolist() == ["West", "East", "Sea"]
    assert table["status"].tolist() == ["done", "done", "failed"]
    assert table.loc[:1, "homes"].sum() == 59  # the halves partition the 59 homes
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="West/map.html"' in index and 'href="East/map.html"' in index
    assert 'href="Sea/map.html"' not in index
    assert not (out / "Sea").exists()
    west = json.loads((out / "West" / "summary.json").read_text(encoding="utf-8"))
    stamp = (out / "West" / "summary.json").stat().st_mtime_ns

    # Re-running skips the finished areas and retries only the failed one.
    again = circles(*args, "--areas", "West,East", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert "West: skipped" in again.stdout and "East: skipped" in again.stdout
    assert (out / "West" / "summary.json").stat().st_mtime_ns == stamp
    forced = circles(*args, "--areas", "West", "--force", "--out", str(out))
    assert forced.returncode == 0 and "West: done" in forced.stdout
    assert json.loads((out / "West" / "summary.json").read_text(encoding="utf-8"))["homes"] == west["homes"]


def test_parallel_batch_gives_identical_tables(tmp_path, helsinki_pbf, helsinki_areas):
    args = ["batch", "--pbf", str(helsinki_pbf), "--boundary", str(helsinki_areas), "--name-field", "area"]
    args += ["--areas", "West,East", "-q"]
    serial = circles(*args, "--out", str(tmp_path / "serial"))
    parallel = circles(*args, "--workers", "2", "--out", str(tmp_path / "parallel"))
    assert serial.returncode == 0 and parallel.returncode == 0, serial.stderr + parallel.stderr
    for area in ("West", "East"):
        a = (tmp_path / "serial" / area / "summary.csv").read_bytes()
        b = (tmp_path / "parallel" / area / "summary.csv").read_bytes()
        assert a == b
        ha = gpd.read_file(tmp_path / "serial" / area / "homes.gpkg")
        hb = gpd.read_file(tmp_path / "parallel" / area / "homes.gpkg")
        pd.testing.assert_frame_equal(ha.drop(columns="geometry"), hb.drop(columns="geometry"))
    assert (tmp_path / "serial" / "summary.csv").read_bytes() == (
        tmp_path / "parallel" / "summary.csv"
    ).read_bytes()


@pytest.mark.shared_data
def test_nanjing_run_and_batch(tmp_path, shared_data):
    pbf = shared_data / NANJING
    areas = tmp_path / "nanjing.geojson"
    write_areas(
        areas, {"玄武西": (118.765, 32.033, 118.787, 32.052), "玄武东": (118.787, 32.033, 118.798, 32.052)}
    )
    run = circles(
        "run",
        "--pbf",
        str(pbf),
        "--boundary",
        str(areas),
        "--name-field",
        "area",
        "--district",
        "玄武西",
        "--facilities",
        "osm:hospital",
        "--out",
        str(tmp_path / "north"),
    )
    assert run.returncode == 0, run.stderr
    north = json.loads((tmp_path / "north" / "summary.json").read_text(encoding="utf-8"))
    assert north["name"] == "玄武西" and north["homes"] > 100 and north["facilities"]["inside"] >= 3
    assert pd.read_csv(tmp_path / "north" / "summary.csv")["homes"][0] == north["homes"]
    batch = circles(
        "batch",
        "--pbf",
        str(pbf),
        "--boundary",
        str(areas),
        "--name-field",
        "area",
        "--facilities",
        "osm:hospital",
        "--out",
        str(tmp_path / "city"),
    )
    assert batch.returncode == 0, batch.stderr
    table = pd.read_csv(tmp_path / "city" / "summary.csv")
    assert table["status"].tolist() == ["done", "done"]
    # The same area gives the same figures from `run` and from `batch`.
    assert table.loc[0, "covered_population"] == pytest.approx(north["covered_population"])
    index = (tmp_path / "city" / "index.html").read_text(encoding="utf-8")
    assert 'href="玄武西/map.html"' in index and 'href="玄武东/map.html"' in index


@pytest.mark.shared_data
def test_nanshan_by_subdistrict(tmp_path, shared_data):
    """Nanshan's high-tech park with the planner's 街道 file: the table splits the area by sub-district."""
    pbf = shared_data / "shenzhen_nanshan_hightech_osm" / "shenzhen_nanshan_hightech_overpass_2021.osm.pbf"
    subs = shared_data / "shenzhen_subdistrict_boundaries" / "shenzhen_subdistricts_named_wgs84.geojson"
    proc = circles(
        "run",
        "--pbf",
        str(pbf),
        "--facilities",
        "osm:amenity=school",
        "--subareas",
        str(subs),
        "--subarea-where",
        "district=南山",
        "--population-total",
        "100000",
        "--out",
        str(tmp_path / "ns"),
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "ns" / "summary.json").read_text(encoding="utf-8"))
    rows = summary["subareas"]
    names = [r["name"] for r in rows]
    assert "粤海街道" in names  # the high-tech park lies in Yuehai
    assert sum(r["homes"] for r in rows) == summary["homes"]
    assert sum(r["population"] for r in rows) == pytest.approx(100_000, abs=1)
    table = pd.read_csv(tmp_path / "ns" / "summary.csv")
    assert table["level"].tolist() == ["area"] + ["subarea"] * len(rows)
    assert table["name"].tolist()[1:] == names
