"""The Folium map and the atomic output folder."""

from __future__ import annotations

import json

import pytest

from circles.errors import OutputError
from circles.maps import build_map
from circles.report import write_outputs


def test_map_html_has_layers_legend_and_popups(helsinki_result):
    html = build_map(helsinki_result).get_root().render()
    for layer in (
        "Within 5 min walk",
        "Within 10 min walk",
        "Within 15 min walk",
        "Homes by walking time",
        "Homes beyond the threshold (gaps)",
        "Facilities",
    ):
        assert layer in html, layer
    assert "circles-legend" in html and "84% of residents within 15 min" in html
    assert "Diacor Keskusta" in html and "nearest facility for" in html
    assert "OpenStreetMap contributors" in html


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
    with pytest.raises(OutputError, match="choose a writable --out"):
        write_outputs(helsinki_result, blocker / "sub" / "out")
