"""The planning benchmarks still run and their agreement checks still hold (not timed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.slow
def test_bench_siting_quick(tmp_path):
    out = tmp_path / "siting.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "siting.py"), "--quick", "--sizes", "2000", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["run"]: r for r in json.loads(out.read_text())["rows"]}
    assert {"MCLP exact", "MCLP greedy", "LSCP exact", "CMCLP 20k greedy", "spopt MCLP k=2"} <= set(rows)
    assert rows["spopt MCLP k=2"]["objective"] == pytest.approx(rows["MCLP exact k=2"]["objective"])
    assert rows["LSCP exact"]["objective"] <= rows["LSCP greedy"]["objective"]
    assert "spopt's optimum" in proc.stdout and "same" in proc.stdout


@pytest.mark.slow
def test_bench_access_quick():
    proc = subprocess.run(
        [sys.executable, str(BENCH / "e2sfca.py"), "--quick"], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    diffs = [float(d) for d in re.findall(r"on the same (\S+)", proc.stdout)]
    assert diffs and max(diffs) < 1e-9, proc.stdout


def test_planning_core_imports_no_solver():
    code = (
        "import sys, circles.planning.covering, circles.planning.capacitated, circles.planning.capacity; "
        "print('highspy' in sys.modules, 'access' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["False", "False"], proc.stderr
