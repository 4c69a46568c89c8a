"""The engine benchmark still runs and every float64 tool still agrees with circles (not timed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # runs circles or a bench script in a subprocess

BENCH = Path(__file__).resolve().parents[1] / "bench" / "engine.py"


@pytest.mark.slow
def test_bench_engine_quick_on_helsinki(tmp_path):
    out = tmp_path / "bench.json"
    args = ["--quick", "--graphs", "helsinki", "--facilities", "10", "--json", str(out)]
    proc = subprocess.run(
        [sys.executable, str(BENCH), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    line = re.search(r"agreement helsinki k=10: max \|difference\| vs circles = (\S+) m", proc.stdout)
    assert line, proc.stdout
    assert float(line.group(1)) < 1e-6
    rows = json.loads(out.read_text())["rows"]
    by_tool = {r["tool"]: r for r in rows}
    # Every tool ran (or says plainly that it is not installed), all on the one real extract.
    assert set(by_tool) == {
        "circles",
        "circles-1125",
        "osmnx-ego",
        "networkx",
        "igraph",
        "igraph-super",
        "pandana",
        "cityseer",
    }
    assert all(r["status"] in ("ok", "not installed") for r in rows), [r["status"] for r in rows]
    assert len({r["n_nodes"] for r in rows}) == 1 and rows[0]["n_nodes"] > 5000
    assert by_tool["networkx"]["max_abs_diff_m"] < 1e-6 and by_tool["networkx"]["differ_nodes"] == 0
    assert by_tool["osmnx-ego"]["differ_nodes"] in (0, None)  # None only when extrapolated
