"""Output folders: only what circles wrote is replaced, atomically, with nothing left behind.

Most cases go through the command line in a subprocess, as a planner meets them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from circles.errors import OutputError
from circles.outdir import MARKER_NAME, area_folder_name, read_marker
from circles.report import write_outputs
from circles.tempdirs import clean_debris, temp_name

OUTPUT_FILES = {
    "map.html",
    "map.png",
    "summary.json",
    "summary.csv",
    "circles.gpkg",
    "homes.gpkg",
    "facilities.gpkg",
    "service_areas.gpkg",
    MARKER_NAME,
}


def circles(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".circles-"))


def assert_refused(proc: subprocess.CompletedProcess, *phrases: str) -> None:
    """Exit 2, one line on stderr naming the problem, no progress lines (refused before any work)."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("circles: error: "), proc.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert proc.stdout == ""


# --- the library: atomic replacement -------------------------------------------------------------


def test_failed_write_keeps_previous_results(helsinki_result, tmp_path, monkeypatch):
    out = tmp_path / "area"
    write_outputs(helsinki_result, out)
    before = (out / "summary.json").read_bytes()

    def broken(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(helsinki_result.homes), "to_file", broken)
    with pytest.raises(OutputError, match="No space left on device"):
        write_outputs(helsinki_result, out)
    assert (out / "summary.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["area"]


def test_outputs_are_deterministic(helsinki_result, tmp_path):
    write_outputs(helsinki_result, tmp_path / "a")
    write_outputs(helsinki_result, tmp_path / "b")
    for name in ("summary.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["tool"]["name"] == "circles"


def test_unwritable_output(helsinki_result, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="is a file; choose a writable `out_dir`"):
        write_outputs(helsinki_result, blocker / "sub" / "out")


def test_marker_lists_what_circles_wrote(helsinki_result, tmp_path):
    out = write_outputs(helsinki_result, tmp_path / "h", fingerprint={"sha256": "abc", "parts": {}})
    marker = read_marker(out)
    assert marker["kind"] == "area" and marker["state"] == "complete" and marker["name"] == "Helsinki"
    assert set(marker["files"]) | {MARKER_NAME} == {p.name for p in out.iterdir()} == OUTPUT_FILES
    assert marker["fingerprint"] == {"sha256": "abc", "parts": {}}
    assert json.loads((out / "summary.json").read_text())["fingerprint"]["sha256"] == "abc"


def test_catchment_polygons_cover_the_longest_band(helsinki_result, tmp_path):
    import geopandas as gpd
    import pyogrio

    out = write_outputs(helsinki_result, tmp_path / "h")
    assert [layer for layer, _ in pyogrio.list_layers(out / "service_areas.gpkg")] == [
        "service_areas",
        "catchments",
    ]
    catch = gpd.read_file(out / "service_areas.gpkg", layer="catchments").to_crs(32635)
    bands = gpd.read_file(out / "service_areas.gpkg", layer="service_areas").to_crs(32635)
    assert len(catch) == 7
    total = helsinki_result.summary.coverage.population
    assert catch["catchment_population"].sum() == pytest.approx(total, abs=1)
    union = catch.union_all()
    assert abs(union.area - bands.geometry.iloc[-1].area) < 1e-6 * union.area


# --- the command line: what may be replaced (issue 11 items 15, 16) -------------------------------


def test_out_on_a_folder_of_inputs_and_notes_is_refused(tmp_path, helsinki_pbf):
    p = tmp_path / "p"
    p.mkdir()
    (p / "city.osm.pbf").write_bytes(Path(helsinki_pbf).read_bytes())
    (p / "notes.txt").write_text("notes\n")
    proc = circles("run", "--pbf", str(p / "city.osm.pbf"), "--out", str(p))
    assert_refused(proc, "was not written by circles", "city.osm.pbf, notes.txt", MARKER_NAME)
    assert sorted(x.name for x in p.iterdir()) == ["city.osm.pbf", "notes.txt"]
    assert (p / "notes.txt").read_text() == "notes\n"
    assert (p / "city.osm.pbf").stat().st_size == Path(helsinki_pbf).stat().st_size


def test_out_on_the_working_directory_is_refused(tmp_path, helsinki_pbf):
    (tmp_path / "report.docx").write_text("draft")
    proc = circles("run", "--pbf", str(helsinki_pbf), "--out", ".", cwd=tmp_path)
    assert_refused(proc, "was not written by circles")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report.docx"]


def test_empty_folder_is_used_and_a_circles_folder_replaced(tmp_path, helsinki_pbf):
    out = tmp_path / "empty"
    out.mkdir()
    first = circles("run", "--pbf", str(helsinki_pbf), "--out", str(out), "-q")
    assert first.returncode == 0, first.stderr
    assert {x.name for x in out.iterdir()} == OUTPUT_FILES
    second = circles("run", "--pbf", str(helsinki_pbf), "--out", str(out), "--speed-kmh", "elderly", "-q")
    assert second.returncode == 0, second.stderr
    assert json.loads((out / "summary.json").read_text())["parameters"]["speed_kmh"] == 3.6
    assert debris(tmp_path) == []


def test_circles_folder_with_a_planners_file_added_is_refused(tmp_path, helsinki_pbf):
    out = tmp_path / "h"
    assert circles("run", "--pbf", str(helsinki_pbf), "--out", str(out), "-q").returncode == 0
    (out / "my_notes.docx").write_text("keep me")
    proc = circles("run", "--pbf", str(helsinki_pbf), "--out", str(out))
    assert_refused(proc, "also holds my_notes.docx")
    assert (out / "my_notes.docx").read_text() == "keep me"


def test_out_naming_a_file_is_refused(tmp_path, helsinki_pbf):
    report = tmp_path / "report.docx"
    report.write_text("the report")
    proc = circles("run", "--pbf", str(helsinki_pbf), "--out", str(report))
    assert_refused(proc, "is a file, not a folder")
    assert report.read_text() == "the report"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["report.docx"]


def test_out_as_a_link_writes_through_it_and_keeps_it(tmp_path, helsinki_pbf):
    real = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)  # dangling at first: created through the link
    for _ in range(2):
        proc = circles("run", "--pbf", str(helsinki_pbf), "--out", str(link), "-q")
        assert proc.returncode == 0, proc.stderr
        assert link.is_symlink() and os.readlink(link) == str(real)
        assert {x.name for x in real.iterdir()} == OUTPUT_FILES
    assert sorted(x.name for x in tmp_path.iterdir()) == ["link", "real"]


def _other_filesystem() -> Path | None:
    for candidate in ("/dev/shm", "/run/user", "/var/tmp"):
        base = Path(candidate)
        writable = base.is_dir() and os.access(base, os.W_OK)
        if writable and base.stat().st_dev != Path(tempfile.gettempdir()).stat().st_dev:
            return base
    return None


def test_out_as_a_link_to_another_file_system(tmp_path, helsinki_pbf):
    base = _other_filesystem()
    if base is None:
        pytest.skip("no writable folder on another file system than the temporary folder")
    elsewhere = Path(tempfile.mkdtemp(dir=base, prefix="circles-test-"))
    try:
        link = tmp_path / "out"
        link.symlink_to(elsewhere, target_is_directory=True)
        for speed in ("4.5", "elderly"):
            proc = circles("run", "--pbf", str(helsinki_pbf), "--out", str(link), "--speed-kmh", speed, "-q")
            assert proc.returncode == 0, proc.stderr
        assert link.is_symlink()
        assert json.loads((elsewhere / "summary.json").read_text())["parameters"]["speed_kmh"] == 3.6
        assert debris(elsewhere.parent) == [] and debris(tmp_path) == []
    finally:
        import shutil

        shutil.rmtree(elsewhere, ignore_errors=True)


def test_run_onto_a_batch_folder_is_refused(tmp_path, helsinki_pbf):
    from circles.outdir import prepare_batch_dir

    batch = prepare_batch_dir(tmp_path / "city")
    proc = circles("run", "--pbf", str(helsinki_pbf), "--out", str(batch))
    assert_refused(proc, "holds a circles batch")


# --- checked before any input is read (issue 11 item 24) -----------------------------------------


def test_output_problems_are_found_before_reading_inputs(tmp_path):
    """A missing network file would fail when read; the output check must come first."""
    missing = str(tmp_path / "missing.osm.pbf")
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    long_name = "卫" * 100  # 300 bytes in UTF-8
    cases = {
        str(blocker / "sub"): "cannot create the folder",
        str(tmp_path / long_name): "is 300 bytes, longer than the file system allows (255)",
        str(tmp_path / "x" / long_name / "y"): "longer than the file system allows",
        "/proc/circles-out": "cannot write in /proc",
    }
    for out, phrase in cases.items():
        assert_refused(circles("run", "--pbf", missing, "--out", out), phrase)
        assert_refused(circles("batch", "--pbf", missing, "--boundary", missing, "--out", out), phrase)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["blocker"]


def test_long_area_name_gets_a_short_safe_folder(tmp_path, helsinki_pbf):
    name = "卫生服务中心" * 17  # 102 characters, 306 bytes
    proc = circles("run", "--pbf", str(helsinki_pbf), "--name", name, "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "out").iterdir()
    assert folder.name == area_folder_name(name)
    assert len(folder.name.encode()) <= 96 + 9 and folder.name.startswith("卫生服务中心")
    assert json.loads((folder / "summary.json").read_text())["name"] == name


def test_folder_names_follow_the_area_name_alone():
    assert area_folder_name("West") == "West"
    assert area_folder_name("罗湖区") == "罗湖区"
    names = ["a/b", "a b", "a_b", "../../a_b"]
    folders = [area_folder_name(n) for n in names]
    assert folders[2] == "a_b" and len(set(folders)) == 4
    assert all(f.startswith("a_b-") and len(f) == 12 for f in (folders[0], folders[1], folders[3]))
    assert area_folder_name("a/b") == folders[0]  # the same name always gives the same folder
    assert area_folder_name("x" * 300) == "x" * 96 + "-" + area_folder_name("x" * 300)[-8:]


# --- killed runs (issue 11 item 26, Standards) ----------------------------------------------------


def test_killed_run_leaves_the_previous_output_and_the_next_run_cleans_up(tmp_path, helsinki_pbf):
    out = tmp_path / "h"
    args = ["run", "--pbf", str(helsinki_pbf), "--out", str(out), "-q"]
    assert circles(*args).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    proc = subprocess.Popen([sys.executable, "-m", "circles", *args], stderr=subprocess.DEVNULL)
    while proc.poll() is None and not any((tmp_path / d / MARKER_NAME).exists() for d in debris(tmp_path)):
        time.sleep(0.002)  # kill as soon as the temporary folder is being written
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    left = debris(tmp_path)
    assert left and all(name.startswith(f".circles-tmp-{proc.pid}-") for name in left)
    # The previous folder is intact (a run killed after its swap would have left identical tables).
    assert read_marker(out)["state"] == "complete"
    assert (out / "summary.json").read_bytes() == before["summary.json"]
    assert (out / "summary.csv").read_bytes() == before["summary.csv"]

    assert circles(*args).returncode == 0
    assert debris(tmp_path) == []
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_clean_up_removes_only_provable_debris_of_dead_runs(tmp_path):
    dead = _dead_pid()
    marker = json.dumps({"tool": {"name": "circles"}, "folder": "area"})

    def make(name: str, files: dict[str, str]) -> Path:
        path = tmp_path / name
        path.mkdir()
        for file, text in files.items():
            (path / file).write_text(text)
        return path

    make(f".circles-tmp-{dead}-1-aa", {MARKER_NAME: marker, "map.html": "x"})  # killed writer: removed
    make(f".circles-tmp-{dead}-1-bb", {})  # killed before its marker: empty, removed
    (tmp_path / f".circles-tmp-{dead}-1-cc.part").write_text("half a file")  # removed
    make(f".circles-tmp-{dead}-1-dd", {"thesis.docx": "x"})  # no marker: not provably ours, kept
    alive = make(temp_name(), {MARKER_NAME: marker})  # this process is alive: kept
    make(".circles-tmp-notes", {"a.txt": "x"})  # not our pattern: kept
    # A writer killed between its two renames (systems without an atomic swap): the old folder is put back.
    make(f".circles-old-{dead}-1-ee", {MARKER_NAME: marker, "summary.json": "old"})
    make(f".circles-tmp-{dead}-1-ee", {MARKER_NAME: marker, "summary.json": "new"})

    cleaned = clean_debris(tmp_path, MARKER_NAME)
    assert len(cleaned) == 4  # aa, bb, cc.part, and the ee pair (one restore)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".circles-tmp-{dead}-1-dd", alive.name, ".circles-tmp-notes", "area"]
    )
    assert (tmp_path / "area" / "summary.json").read_text() == "old"


def test_folders_written_before_markers_existed_are_recognised(tmp_path, helsinki_result):
    """An old circles folder (its files and a summary.json naming circles, no marker) may be replaced."""
    from circles.outdir import check_output_dir

    out = write_outputs(helsinki_result, tmp_path / "old")
    (out / MARKER_NAME).unlink()
    assert check_output_dir(out).marker["legacy"] is True
    write_outputs(helsinki_result, out)
    assert read_marker(out)["state"] == "complete"
    # An old batch folder: an index page, a table and such area folders.
    batch = tmp_path / "batch"
    write_outputs(helsinki_result, batch / "Helsinki")
    (batch / "Helsinki" / MARKER_NAME).unlink()
    (batch / "summary.csv").write_text("name\nHelsinki\n")
    (batch / "index.html").write_text("<html><title>my page</title></html>")
    with pytest.raises(OutputError, match="was not written by circles"):
        check_output_dir(batch, kind="batch")
    (batch / "index.html").write_text("<html><head><title>circles: 15-minute walk coverage</title>")
    assert check_output_dir(batch, kind="batch").marker["kind"] == "batch"
    # A look-alike with a file of the planner's is not.
    (out / MARKER_NAME).unlink()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="was not written by circles"):
        check_output_dir(out)


def test_two_runs_give_byte_identical_tables(tmp_path, helsinki_pbf):
    for name in ("a", "b"):
        proc = circles("run", "--pbf", str(helsinki_pbf), "--out", str(tmp_path / name), "-q")
        assert proc.returncode == 0, proc.stderr
    for table in ("summary.csv", "summary.json"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()
    fingerprint = json.loads((tmp_path / "a" / "summary.json").read_text())["fingerprint"]
    assert fingerprint["parts"]["sources"]["network_path"]["path"] == str(helsinki_pbf)
    assert fingerprint["parts"]["travel"]["speed_kmh"] == 4.5
    assert fingerprint == read_marker(tmp_path / "b")["fingerprint"]
