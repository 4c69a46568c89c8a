"""Modes and tiers on the command line: a one-mode run, and bad tier input as one line with exit code 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from circles.cli.parser import build_parser

pytestmark = pytest.mark.e2e
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def circles(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=timeout
    )


def run_flags() -> set[str]:
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return {opt for action in sub.choices["run"]._actions for opt in action.option_strings}


def test_drive_mode_adds_a_tier_of_all_facilities(tmp_path, helsinki_pbf):
    out = tmp_path / "out"
    proc = circles("run", "--pbf", str(helsinki_pbf), "--mode", "drive", "--minutes", "5", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "tier drive (all facilities):" in proc.stdout and "within 5 min drive" in proc.stdout
    assert "all tiers at once" not in proc.stdout  # one tier: nothing to combine
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    tier = summary["tiers"]["tiers"][0]
    assert tier["mode"] == "drive" and tier["threshold_min"] == 5.0
    assert (
        tier["facilities_classified"]
        == summary["facilities"]["inside"] + summary["facilities"]["margin_serving"]
    )
    assert summary["threshold_min"] == 5.0  # the walking study keeps its own figures
    assert (out / "tiers.csv").is_file()


def test_elderly_mode_alone_slows_the_walk(tmp_path, helsinki_pbf):
    out = tmp_path / "out"
    proc = circles("run", "--pbf", str(helsinki_pbf), "--mode", "elderly", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["speed_kmh"] == 3.6 and "tiers" not in summary
    assert not (out / "tiers.csv").exists()


BAD = {
    "spec": (["--tier", "village"], "is not NAME:MINUTES"),
    "mode": (["--mode", "boat"], "unknown travel mode 'boat'"),
    "tier mode": (["--tier", "village:15:boat"], "unknown travel mode 'boat'"),
    "column alone": (["--tier-column", "级别"], "--tier-column names"),
    "column missing": (["--tier", "village:15", "--tier-column", "级别"], "no column '级别'"),
    "plan missing": (["--tier-plan", "{tmp}/nope.toml"], "cannot read the tier plan"),
    "congestion": (["--mode", "drive", "--congestion-factor", "3"], "--congestion-factor"),
    "both": (["--tier", "v:15", "--tier-plan", "{tmp}/nope.toml"], "not both"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_tier_input_is_one_line(tmp_path, helsinki_pbf, case):
    args, expected = BAD[case]
    args = [a.format(tmp=tmp_path) for a in args]
    proc = circles("run", "--pbf", str(helsinki_pbf), *args, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("circles: error: "), proc.stderr
    assert expected in lines[0]
    assert "`" not in lines[0]
    assert set(FLAG.findall(lines[0])) <= run_flags()
    assert not (tmp_path / "o").exists()


def test_modes_other_than_walking_need_an_osm_file(tmp_path, shared_data):
    graphml = shared_data / "shenzhen_futian_walk_graph" / "shenzhen_futian_xiangmihu_all.graphml"
    homes = tmp_path / "homes.csv"
    homes.write_text("lon,lat\n114.02,22.54\n", encoding="utf-8")
    proc = circles(
        "run", "--graphml", str(graphml), "--facilities", str(homes), "--homes", str(homes),
        "--mode", "ebike", "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert proc.returncode == 2
    assert "are read from an OSM file (.osm.pbf or .osm), not from graphml" in proc.stderr
    assert "analyse walking only (--mode/--tier)" in proc.stderr
