"""The atomic output folder."""

from __future__ import annotations

import json

import pytest

from circles.errors import OutputError
from circles.report import write_outputs


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
