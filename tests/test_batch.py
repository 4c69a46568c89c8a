"""`circles run` with a boundary and `circles batch` over several areas, in a subprocess.

Re-runs reuse an area only when what produced it is unchanged (its fingerprint), folders
follow the area's exact name, and killed batches leave no worker processes behind.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from circles.outdir import MARKER_NAME, area_folder_name, read_marker

pytestmark = pytest.mark.e2e  # runs the circles command in a subprocess

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
def helsinki_box(helsinki_pbf) -> tuple[float, float, float, float]:
    from circles.pipeline import osm_inputs

    return tuple(osm_inputs(helsinki_pbf).homes.total_bounds)


@pytest.fixture(scope="module")
def helsinki_areas(tmp_path_factory, helsinki_box):
    """The Helsinki homes' extent cut in West and East halves (in a projected CRS), plus an area at sea."""
    minx, miny, maxx, maxy = helsinki_box
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


@pytest.fixture()
def clinics_csv(tmp_path, helsinki_pbf):
    """The extract's seven clinics as a planner's CSV file."""
    from circles.pipeline import osm_inputs

    fac = osm_inputs(helsinki_pbf).facilities
    table = pd.DataFrame({"name": fac["name"], "lon": fac.geometry.x, "lat": fac.geometry.y})
    path = tmp_path / "clinics.csv"
    table.to_csv(path, index=False)
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
    assert "West: skipped (inputs and parameters unchanged)" in again.stdout
    assert "East: skipped (inputs and parameters unchanged)" in again.stdout
    assert (out / "West" / "summary.json").stat().st_mtime_ns == stamp
    forced = circles(*args, "--areas", "West", "--force", "--out", str(out))
    assert forced.returncode == 0 and "West: recomputed (forced)" in forced.stdout
    assert json.loads((out / "West" / "summary.json").read_text(encoding="utf-8"))["homes"] == west["homes"]


def test_parallel_batch_gives_identical_tables(tmp_path, helsinki_pbf, helsinki_areas):
    args = ["batch", "--pbf", str(helsinki_pbf), "--boundary", str(helsinki_areas), "--name-field", "area"]
    args += ["--areas", "West,East", "-q"]
    serial = circles(*args, "--out", str(tmp_path / "serial"))
    parallel = circles(*args, "--workers", "2", "--out", str(tmp_path / "parallel"))
    assert serial.returncode == 0 and parallel.returncode == 0, serial.stderr + parallel.stderr
    for area in ("West", "East"):
        for name in ("summary.csv", "summary.json"):
            a = (tmp_path / "serial" / area / name).read_bytes()
            assert a == (tmp_path / "parallel" / area / name).read_bytes()
        ha = gpd.read_file(tmp_path / "serial" / area / "homes.gpkg")
        hb = gpd.read_file(tmp_path / "parallel" / area / "homes.gpkg")
        pd.testing.assert_frame_equal(ha.drop(columns="geometry"), hb.drop(columns="geometry"))
    assert (tmp_path / "serial" / "summary.csv").read_bytes() == (
        tmp_path / "parallel" / "summary.csv"
    ).read_bytes()


# --- stale results (issue 11 item 1) ---------------------------------------------------------------


def test_changed_speed_or_facilities_are_recomputed_not_skipped(
    tmp_path, helsinki_pbf, helsinki_areas, clinics_csv
):
    out = tmp_path / "city"
    args = ["batch", "--pbf", str(helsinki_pbf), "--boundary", str(helsinki_areas), "--name-field", "area"]
    args += ["--areas", "West", "--facilities", str(clinics_csv), "--out", str(out)]
    assert circles(*args).returncode == 0
    times = gpd.read_file(out / "West" / "homes.gpkg")["walk_time_min"]

    elderly = circles(*args, "--speed-kmh", "elderly")
    assert elderly.returncode == 0, elderly.stderr
    assert "West: recomputed (inputs changed: travel.speed_kmh)" in elderly.stdout
    after = json.loads((out / "West" / "summary.json").read_text())
    assert after["parameters"]["speed_kmh"] == 3.6
    slower = gpd.read_file(out / "West" / "homes.gpkg")["walk_time_min"]
    assert slower.to_numpy() == pytest.approx(times.to_numpy() * 1.25, abs=1e-3, nan_ok=True)  # 4.5/3.6
    assert after["fingerprint"]["parts"]["travel"]["speed_kmh"] == 3.6
    assert "Walking speed 3.6 km/h" in (out / "index.html").read_text()
    assert pd.read_csv(out / "summary.csv")["reason"].tolist() == ["inputs changed: travel.speed_kmh"]

    same = circles(*args, "--speed-kmh", "elderly")
    assert "West: skipped (inputs and parameters unchanged)" in same.stdout

    clinics_csv.write_text("\n".join(clinics_csv.read_text().splitlines()[:4]) + "\n")  # three clinics
    fewer = circles(*args, "--speed-kmh", "elderly")
    assert "West: recomputed (inputs changed: sources.facilities)" in fewer.stdout
    assert len(gpd.read_file(out / "West" / "facilities.gpkg")) == 3


def test_every_kind_of_change_is_recomputed_and_nothing_else(
    tmp_path, helsinki_pbf, helsinki_box, clinics_csv
):
    """Each input and parameter changed in turn recomputes the area; the unchanged run reuses it."""
    import os
    import shutil

    from circles.batch import run_batch
    from circles.config import PopulationSettings, TravelSettings
    from circles.pipeline import PopulationSpec
    from circles.sources.assemble import SourceSpec, load_inputs

    minx, miny, maxx, maxy = helsinki_box
    box = (minx - 1e-4, miny - 1e-4, maxx + 1e-4, maxy + 1e-4)
    areas = gpd.GeoDataFrame({"name": ["Kluuvi"]}, geometry=[shapely.box(*box)], crs=4326)
    spec = SourceSpec("pbf", helsinki_pbf, facilities=str(clinics_csv))
    base = {"settings": TravelSettings(), "population": PopulationSpec(), "provenance": spec}

    def batch(out, **changes):
        kw = base | {"areas": areas} | changes
        (outcome,) = run_batch(load_inputs(kw["provenance"]), kw.pop("areas"), out, **kw)
        return outcome

    baseline = tmp_path / "baseline"
    assert batch(baseline).status == "done"
    subareas = gpd.GeoDataFrame({"name": ["north"]}, geometry=[shapely.box(*box).buffer(-0.003)], crs=4326)
    changes = {
        "travel.speed_kmh": {"settings": TravelSettings(speed_kmh=4.0)},
        "travel.bands_min": {"settings": TravelSettings(bands_min=(5.0, 15.0))},
        "travel.threshold_min": {"settings": TravelSettings(threshold_min=10.0, bands_min=(5.0, 10.0, 15.0))},
        "travel.max_access_leg_m": {"settings": TravelSettings(max_access_leg_m=200.0)},
        "population.settings.floor_area_per_person_m2": {
            "population": PopulationSpec(settings=PopulationSettings(floor_area_per_person_m2=30.0))
        },
        "area.boundary": {"areas": areas.set_geometry([shapely.box(*box).buffer(-0.0005)])},
        "subareas": {"subareas": subareas},
        "recommend.sites": {"recommend_sites": 1},
        "offline_map": {"offline_map": True},
        "sources.network_path": {
            "provenance": SourceSpec("pbf", tmp_path / "copy.osm.pbf", facilities=spec.facilities)
        },
    }
    shutil.copy(helsinki_pbf, tmp_path / "copy.osm.pbf")
    for part, change in changes.items():
        out = tmp_path / part
        shutil.copytree(baseline, out)
        outcome = batch(out, **change)
        assert (outcome.status, outcome.reason) == ("recomputed", f"inputs changed: {part}"), part
        recorded = json.loads((out / "Kluuvi" / "summary.json").read_text())["fingerprint"]
        assert recorded == read_marker(out / "Kluuvi")["fingerprint"]
        assert recorded["sha256"] != read_marker(baseline / "Kluuvi")["fingerprint"]["sha256"]
        assert batch(out, **change).status == "skipped", part
    assert (tmp_path / "recommend.sites" / "Kluuvi" / "proposed_sites.gpkg").is_file()

    # The facility file: touched (same content, newer time), then edited.
    stamp = (baseline / "Kluuvi" / "summary.json").stat().st_mtime_ns
    assert batch(baseline).status == "skipped"
    assert (baseline / "Kluuvi" / "summary.json").stat().st_mtime_ns == stamp
    st = clinics_csv.stat()
    os.utime(clinics_csv, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert batch(baseline).reason == "inputs changed: sources.facilities"
    clinics_csv.write_text(clinics_csv.read_text().replace("Dextra", "Dextra Kamppi"))
    assert batch(baseline).reason == "inputs changed: sources.facilities"
    # A renamed area is another area: a new folder, the old one left alone.
    renamed = batch(baseline, areas=areas.assign(name=["Kluuvi 2"]))
    assert renamed.status == "done" and renamed.folder == area_folder_name("Kluuvi 2") != "Kluuvi"
    assert (baseline / "Kluuvi" / "summary.json").stat().st_mtime_ns > stamp


# --- folder identity follows the area (issue 11 item 17) --------------------------------------------


def test_folders_follow_the_exact_area_name(tmp_path, helsinki_pbf, helsinki_box):
    minx, miny, maxx, maxy = helsinki_box
    mid = (minx + maxx) / 2
    areas = tmp_path / "areas.geojson"
    write_areas(
        areas,
        {
            "a/b": (minx - 1e-4, miny - 1e-4, mid, maxy + 1e-4),
            "a b": (mid, miny - 1e-4, maxx + 1e-4, maxy + 1e-4),
            "a_b": (minx - 1e-4, miny - 1e-4, maxx + 1e-4, maxy + 1e-4),
        },
    )
    out = tmp_path / "city"
    args = ["batch", "--pbf", str(helsinki_pbf), "--boundary", str(areas), "--name-field", "area"]
    assert circles(*args, "--out", str(out), "-q").returncode == 0
    folders = {n: area_folder_name(n) for n in ("a/b", "a b", "a_b")}
    assert folders["a_b"] == "a_b" and len(set(folders.values())) == 3
    for name, folder in folders.items():
        assert json.loads((out / folder / "summary.json").read_text())["name"] == name
        assert read_marker(out / folder)["name"] == name
    homes = {n: json.loads((out / f / "summary.json").read_text())["homes"] for n, f in folders.items()}
    assert homes["a/b"] + homes["a b"] == homes["a_b"] == 59

    # A later run of one area finds its own folder, whatever else the batch held.
    alone = circles(*args, "--areas", "a_b", "--out", str(out))
    assert alone.returncode == 0 and "a_b: skipped" in alone.stdout
    assert pd.read_csv(out / "summary.csv")["folder"].tolist() == ["a_b"]

    # A folder holding another area's results is never reused nor replaced for this one.
    (out / "a_b").rename(tmp_path / "a_b.saved")
    (out / folders["a/b"]).rename(out / "a_b")
    proc = circles(*args, "--areas", "a_b", "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(
        "holds the results of area 'a/b', not 'a_b'; move it away or choose another --out"
    )
    assert json.loads((out / "a_b" / "summary.json").read_text())["name"] == "a/b"


def test_batch_refuses_folders_it_did_not_write(tmp_path, helsinki_pbf, helsinki_areas):
    args = ["batch", "--pbf", str(helsinki_pbf), "--boundary", str(helsinki_areas), "--name-field", "area"]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "index.html").write_text("my own page")
    proc = circles(*args, "--out", str(mine))
    assert proc.returncode == 2 and "was not written by circles" in proc.stderr
    assert (mine / "index.html").read_text() == "my own page"

    out = tmp_path / "city"
    assert circles(*args, "--areas", "East", "--out", str(out), "-q").returncode == 0
    (out / "West").mkdir()
    (out / "West" / "notes.txt").write_text("keep")
    proc = circles(*args, "--areas", "West,East", "--out", str(out))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "West: the folder exists and was not written by circles" in proc.stderr
    assert (out / "West" / "notes.txt").read_text() == "keep"


# --- CSV cells that would run as formulas (issue 11 item 18) ----------------------------------------

FORMULAS = ['=HYPERLINK("http://example.invalid/x","click")', "+1+1", "@SUM(1,1)", "-2+3", "=1+1\tx"]


def _assert_no_formula_cells(csv_path) -> int:
    """Every cell that starts like a formula must be a plain number (a negative figure); returns the count."""
    import csv

    numbers = 0
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    float(cell)  # raises for text
                    numbers += 1
    return numbers


def test_no_csv_circles_writes_holds_a_formula(tmp_path, helsinki_pbf, helsinki_box):
    minx, miny, maxx, maxy = helsinki_box
    step = (maxx - minx) / len(FORMULAS)
    areas = tmp_path / "areas.geojson"
    write_areas(
        areas,
        {
            n: (minx + i * step, miny - 1e-4, minx + (i + 1) * step, maxy + 1e-4)
            for i, n in enumerate(FORMULAS)
        },
    )
    subs = tmp_path / "subs.geojson"
    write_areas(subs, {"=cmd|' /C calc'!A0": (minx - 1e-4, miny - 1e-4, maxx + 1e-4, maxy + 1e-4)})
    out = tmp_path / "city"
    args = ["batch", "--pbf", str(helsinki_pbf), "--boundary", str(areas), "--name-field", "area"]
    proc = circles(*args, "--subareas", str(subs), "--subarea-name-field", "area", "--out", str(out), "-q")
    assert proc.returncode in (0, 2), proc.stderr  # a thin strip may hold no homes
    table = pd.read_csv(out / "summary.csv")
    assert table["name"].tolist() == ["'" + n for n in FORMULAS]
    csvs = sorted(out.rglob("*.csv"))
    assert len(csvs) >= 2
    for path in csvs:
        _assert_no_formula_cells(path)
    done = [n for n, s in zip(FORMULAS, table["status"], strict=True) if s == "done"]
    assert done
    per_area = pd.read_csv(out / area_folder_name(done[0]) / "summary.csv")
    assert per_area["name"].tolist() == ["'" + done[0], "'=cmd|' /C calc'!A0"]


def test_csv_writer_neutralises_text_and_keeps_numbers(tmp_path):
    from circles.tables import write_csv

    frame = pd.DataFrame(
        {
            "name": ["=1+1", "+A1", "-2+3", "@x", "\tcmd", "\rcmd", "plain", "-"],
            "figure": [-5, -1.5, 0, 1, 2, 3, 4, 5],
            "mixed": ["-7", -7, "ok", None, "=a", 1.5, "", "x"],
        }
    )
    write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert back["name"].tolist() == ["'=1+1", "'+A1", "'-2+3", "'@x", "'\tcmd", "'\rcmd", "plain", "'-"]
    assert back["figure"].tolist() == [-5, -1.5, 0, 1, 2, 3, 4, 5]
    assert back["mixed"].tolist() == ["'-7", "-7", "ok", "", "'=a", "1.5", "", "x"]
    assert _assert_no_formula_cells(tmp_path / "t.csv") == 3  # -5, -1.5 and the number -7


# --- workers die with their parent (issue 11 item 20) ------------------------------------------------


def test_killed_parallel_batch_leaves_no_worker_processes(tmp_path, helsinki_pbf, helsinki_box):
    import psutil

    minx, miny, maxx, maxy = helsinki_box
    areas = tmp_path / "areas.geojson"
    write_areas(
        areas, {f"copy {i}": (minx - (i + 1) * 1e-5, miny - 1e-4, maxx + 1e-4, maxy + 1e-4) for i in range(8)}
    )
    out = tmp_path / "city"
    cmd = [sys.executable, "-m", "circles", "batch", "--pbf", str(helsinki_pbf), "--boundary", str(areas)]
    cmd += ["--name-field", "area", "--workers", "2", "--out", str(out), "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)

    def dask_workers(children: list[psutil.Process]) -> list[psutil.Process]:
        """The LocalCluster's worker processes (started by multiprocessing's spawn)."""
        found = []
        for child in children:
            try:
                if "spawn_main" in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                continue
        return found

    workers: list[psutil.Process] = []
    children: list[psutil.Process] = []
    deadline = time.monotonic() + 120  # a bound on the wait, not a speed requirement
    while proc.poll() is None and len(dask_workers(children)) < 2 and time.monotonic() < deadline:
        try:
            children = parent.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.01)
    workers = children  # every process the batch started: workers, the resource tracker
    assert len(dask_workers(workers)) >= 2, "the batch ended before its Dask workers were seen"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    def alive(p: psutil.Process) -> bool:
        try:
            return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 60  # a bound on the wait, not a speed requirement
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphans = [w for w in workers if alive(w)]
    for w in orphans:  # do not leave them running when the test fails
        w.kill()
    assert not orphans, "workers outlived their killed parent"

    # The next run cleans what the killed workers were writing and finishes the batch.
    again = circles("batch", *cmd[4:])
    assert again.returncode == 0, again.stderr
    assert not list(out.glob(".circles-tmp-*")) and not list(out.glob(".circles-old-*"))
    assert read_marker(out)["kind"] == "batch"
    assert all((out / area_folder_name(f"copy {i}") / MARKER_NAME).is_file() for i in range(8))


# --- real data --------------------------------------------------------------------------------------


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
