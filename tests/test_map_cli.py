"""The map flags on the command line: --tiles, --tiles-key, --cdn-map, --geoparquet."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def circles(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600, env=env
    )


def test_demo_with_cdn_page_no_tiles_and_geoparquet(tmp_path):
    out = tmp_path / "demo"
    proc = circles("demo", "--cdn-map", "--tiles", "none", "--geoparquet", "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in page and "L.tileLayer" not in page
    assert (out / "geoparquet" / "homes.parquet").is_file() and (out / "circles.gpkg").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--tiles", "googel"], "unknown basemap 'googel'"),
        (
            ["run", "--tiles", "tianditu"],
            "Tianditu tiles need a key; get one at console.tianditu.gov.cn and pass it as --tiles-key",
        ),
        (["run", "--tiles", "missing.mbtiles"], "missing.mbtiles: no such tile file"),
        (
            ["batch", "--boundary", "areas.geojson", "--tiles", "amap"],
            "--tiles, --tiles-key, --cdn-map and --geoparquet apply to",
        ),
    ],
)
def test_bad_map_flags_are_refused_before_any_work(tmp_path, helsinki_pbf, args, message):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != "CIRCLES_TIANDITU_KEY"}
    proc = circles(*args[:1], "--pbf", str(helsinki_pbf), *args[1:], "--out", str(out), env=env)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()
