"""The batch index page: overview map of the areas by share covered, totals row, sortable table."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from circles.batch import AreaOutcome
from circles.batch_index import index_html, write_index
from circles.config import TravelSettings
from circles.report import write_outputs


def halves(result):
    """The Helsinki result cut into a West and an East study area (same figures, own outlines)."""
    w, s, e, n = result.homes.total_bounds
    mid = (w + e) / 2
    out = []
    for name, bounds in (
        ("West", (w - 1e-3, s - 1e-3, mid, n + 1e-3)),
        ("East", (mid, s - 1e-3, e + 1e-3, n + 1e-3)),
    ):
        boundary = gpd.GeoDataFrame({"name": [name]}, geometry=[shapely.box(*bounds)], crs="EPSG:4326")
        out.append(result.with_(name=name, boundary=boundary))
    return out


@pytest.fixture(scope="module")
def batch_folder(helsinki_result, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    outcomes = []
    for area in halves(helsinki_result):
        write_outputs(area, out / area.name)
        summary = json.loads((out / area.name / "summary.json").read_text(encoding="utf-8"))
        outcomes.append(AreaOutcome(area.name, area.name, "done", summary=summary))
    outcomes.append(AreaOutcome("Sea <b>", "Sea", "failed", error="no walkable ways"))
    write_index(outcomes, out, TravelSettings())
    return out


def test_index_has_overview_totals_and_table(batch_folder):
    page = (batch_folder / "index.html").read_text(encoding="utf-8")
    assert "<title>circles: 15-minute walk coverage</title>" in page
    assert not re.search(r"<(script|link)[^>]*\s(src|href)\s*=\s*[\"']?https?:", page)  # nothing to fetch
    spec = json.loads(re.search(r"circles\.layer\(map, (\{.*?\}), \{names", page).group(1))
    assert spec["props"]["t"] == ["West", "East"] and spec["props"]["href"] == [
        "West/map.html",
        "East/map.html",
    ]
    assert spec["props"]["pct"] == [84.2, 84.2]
    totals = re.search(r"<tr class='totals'>(.*?)</tr>", page).group(1)
    cells = re.findall(r"<td>(.*?)</td>", totals)
    assert cells == ["all 2 areas", "1 failed", "118", "12,790", "14", "84.2%", "2,024", "914"]
    assert '<a href="West/map.html">West</a>' in page and "Sea &lt;b&gt;" in page
    assert "failed: no walkable ways" in page and "Residents are estimated in 2 of 2 areas." in page


def test_index_stays_readable_for_100_areas():
    rng = np.random.default_rng(7)
    n = 100
    table = pd.DataFrame(
        {
            "name": [f"街道 {i}" for i in range(n)],
            "folder": [f"area_{i}" for i in range(n)],
            "status": ["done"] * n,
            "error": [""] * n,
            "homes": rng.integers(100, 5000, n),
            "population": rng.integers(1000, 90000, n).astype(float),
            "facilities_inside": rng.integers(1, 30, n),
            "covered_share": rng.random(n),
            "uncovered_population": rng.integers(0, 9000, n).astype(float),
            "residents_per_facility": rng.integers(500, 9000, n).astype(float),
            "covered_population": rng.integers(0, 9000, n).astype(float),
        }
    )
    # A 10 x 10 grid of districts with detailed (1,000-point) outlines.
    shapes = [
        shapely.Point(114 + (i % 10) * 0.05, 22.5 + (i // 10) * 0.05).buffer(0.024, 250) for i in range(n)
    ]
    page = index_html(table, TravelSettings(), shapes)
    assert page.count("<tr><td><a href=") == n
    assert len(page.encode("utf-8")) < 400_000  # outlines simplified for the overview


def test_index_without_any_outline_has_no_map(helsinki_result, tmp_path):
    outcomes = [AreaOutcome("Gone", "Gone", "failed", error="boom")]
    write_index(outcomes, tmp_path, TravelSettings())
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'id="overview"' not in page and "all 0 areas" in page
