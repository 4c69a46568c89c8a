"""A GCJ-02 (Amap/Tencent) facility list declared as WGS-84 is caught and the fix named."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest

from circles.sources.coords import wgs84_to_gcj02

pytestmark = pytest.mark.e2e  # runs the circles command in a subprocess

NANJING = "nanjing_xuanwu_osm/nanjing_xuanwu_osmwebwizard.osm.pbf"


@pytest.fixture(scope="module")
def amap_style_csv(shared_data, tmp_path_factory):
    """Shops and amenities mapped in OSM in central Nanjing, re-expressed in GCJ-02 as Amap gives them."""
    pbf = shared_data / NANJING
    nodes = osmium.FileProcessor(str(pbf), osmium.osm.NODE).with_filter(
        osmium.filter.KeyFilter("amenity", "shop")
    )
    rows = [(n.tags.get("name", f"poi {n.id}"), n.location.lon, n.location.lat) for n in nodes]
    frame = pd.DataFrame(rows, columns=["名称", "经度", "纬度"])
    inside = frame["经度"].between(118.766, 118.797) & frame["纬度"].between(32.035, 32.052)
    frame = frame[inside].reset_index(drop=True)
    lon, lat = wgs84_to_gcj02(frame["经度"].to_numpy(), frame["纬度"].to_numpy())
    frame["经度"], frame["纬度"] = np.round(lon, 7), np.round(lat, 7)
    path = tmp_path_factory.mktemp("amap") / "pois_gcj02.csv"
    frame.to_csv(path, index=False, encoding="utf-8")
    return pbf, path, len(frame)


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600
    )


@pytest.mark.shared_data
def test_gcj02_list_declared_wgs84_warns_and_gcj02_does_not(amap_style_csv, tmp_path):
    pbf, csv, n = amap_style_csv
    assert n > 100
    wrong = run("run", "--pbf", str(pbf), "--facilities", str(csv), "--out", str(tmp_path / "wrong"))
    assert wrong.returncode == 0, wrong.stderr
    assert "circles: warning: facilities from pois_gcj02.csv" in wrong.stderr
    assert (
        "as gcj02 (Amap, Tencent) they would lie" in wrong.stderr and "--facility-crs gcj02" in wrong.stderr
    )
    right = run(
        "run",
        "--pbf",
        str(pbf),
        "--facilities",
        str(csv),
        "--facility-crs",
        "gcj02",
        "--out",
        str(tmp_path / "right"),
    )
    assert right.returncode == 0, right.stderr
    assert "warning" not in right.stderr
    summaries = [
        json.loads((tmp_path / d / "summary.json").read_text(encoding="utf-8")) for d in ("wrong", "right")
    ]
    assert len(summaries[0]["warnings"]) == 1 and summaries[1]["warnings"] == []
    # Declared right, the clinics sit closer to their streets.
    legs = [
        gpd.read_file(tmp_path / d / "facilities.gpkg")["access_leg_m"].median() for d in ("wrong", "right")
    ]
    assert legs[1] < legs[0]
