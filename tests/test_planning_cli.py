"""The planning answers through the command line, on the embedded Helsinki extract."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from circles.demo import demo_pbf


def circles(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600
    )


def run_demo(out, *extra: str) -> dict:
    proc = circles("run", "--pbf", str(demo_pbf()), "--minutes", "5", "--out", str(out), *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_recommend_solves_maximal_covering_and_verifies_it(tmp_path):
    summary = run_demo(tmp_path / "mclp", "--recommend", "2")
    run, sites = summary["siting"], summary["proposed_sites"]
    assert run["problem"] == "MCLP" and run["status"] == "optimal" and run["gap"] == 0.0
    assert [s["gain_population"] for s in sites] == [1906.8, 841.2]
    assert run["objective"] == run["bound"] == 2747.97  # proved: no two candidates cover more
    assert run["covered_population_before"] == 3138.0
    assert run["covered_population_after"] == run["verified_covered_population_after"] == 5886.0
    assert run["solver_time_limit_s"] == 60.0 and run["candidates"] > 0
    table = pd.read_csv(tmp_path / "mclp" / "proposed_sites.csv")
    assert table["gain_population"].tolist() == [1906.8, 841.2]
    assert set(table["method"]) <= {"exact (HiGHS)", "greedy", "Lagrangian heuristic"}


def test_full_coverage_finds_the_fewest_sites(tmp_path):
    summary = run_demo(tmp_path / "lscp", "--full-coverage")
    run = summary["siting"]
    assert run["problem"] == "LSCP" and run["status"] == "optimal"
    assert run["objective"] == run["bound"] == len(summary["proposed_sites"]) == 5
    assert run["uncoverable_homes"] == 0
    assert summary["proposed_sites"][-1]["covered_share_after"] == 1.0  # everyone within 5 min
    assert run["verified_covered_population_after"] == run["covered_population_after"] == 6395.1


def test_capacitated_siting_counts_the_clinics_loads(tmp_path):
    summary = run_demo(tmp_path / "cap", "--recommend", "2", "--max-residents-per-facility", "800")
    run, sites = summary["siting"], summary["proposed_sites"]
    assert run["problem"] == "capacitated MCLP" and run["max_residents_per_facility"] == 800
    assert run["served_population_after"] == run["served_population_before"] + run["objective"]
    assert all(s["site_load"] <= 800 for s in sites)
    assert run["objective"] == 1600.0 and run["status"] == "optimal"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--recommend", "2", "--full-coverage"], "--full-coverage finds the fewest sites itself"),
        (["--max-residents-per-facility", "800"], "--max-residents-per-facility caps the residents"),
        (["--recommend", "2", "--max-residents-per-facility", "-5"], "must be a positive number"),
        (["--recommend", "2", "--solver-time-limit", "0"], "--solver-time-limit must be a positive"),
    ],
)
def test_bad_siting_options_are_one_line_and_write_nothing(tmp_path, extra, message):
    out = tmp_path / "bad"
    proc = circles("run", "--pbf", str(demo_pbf()), "--out", str(out), *extra)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert not out.exists()
