"""circles.gpkg for GIS users: its layers, QGIS styles in layer_styles, street times, GeoParquet."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from shapely.geometry import Point, box

from circles import TravelSettings, analyse
from circles.gis import gis_columns, street_layer
from circles.report import OUTPUT_FILES, write_outputs
from circles.testing import HAND_CRS, SQUARE_FACILITIES_XY, SQUARE_WITH_ISLAND


@pytest.fixture(scope="module")
def helsinki_out(helsinki_result, tmp_path_factory):
    from circles.summary import subarea_summaries

    w, s, e, n = helsinki_result.homes.total_bounds
    mid = (w + e) / 2
    subareas = gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[box(w - 0.01, s - 0.01, mid, n + 0.01), box(mid, s - 0.01, e + 0.01, n + 0.01)],
        crs="EPSG:4326",
    )
    figures = subarea_summaries(
        helsinki_result.homes, helsinki_result.facilities, subareas, helsinki_result.settings
    )
    sites = gpd.GeoDataFrame(
        {"rank": [1], "gain_population": [120.0]}, geometry=[Point(24.945, 60.172)], crs="EPSG:4326"
    )
    result = helsinki_result.with_(
        summary=helsinki_result.summary.with_(subareas=figures), proposed_sites=sites
    )
    out = tmp_path_factory.mktemp("gis") / "helsinki"
    write_outputs(result, out, subareas=subareas, geoparquet=True)
    return out, result


def test_one_geopackage_with_every_layer_and_its_style(helsinki_out):
    out, _ = helsinki_out
    layers = {name: kind for name, kind in pyogrio.list_layers(out / "circles.gpkg")}
    assert layers == {
        "study_area": "Polygon",
        "homes": "MultiPolygon",
        "facilities": "Point",
        "service_areas": "Polygon",
        "catchments": "Polygon",
        "streets": "LineString",
        "sub_areas": "Polygon",
        "proposed_sites": "Point",
        "layer_styles": None,
    }
    styles = pyogrio.read_dataframe(out / "circles.gpkg", layer="layer_styles")
    assert sorted(styles["f_table_name"]) == sorted(k for k in layers if k != "layer_styles")
    assert styles["useAsDefault"].all() and set(styles["f_geometry_column"]) == {"geom"}
    by_layer = styles.set_index("f_table_name")["styleQML"]
    homes = ET.fromstring(by_layer["homes"].split("\n", 1)[1])
    renderer = homes.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "band"
    values = [c.get("value") for c in renderer.iter("category")]
    assert values == ["0-5", "5-10", "10-15", ">15", "unreachable"]
    colours = [o.get("value") for o in renderer.iter("Option") if o.get("name") == "color"]
    assert colours[3] == "215,48,39,255"  # the gaps in the web map's red
    facilities = ET.fromstring(by_layer["facilities"].split("\n", 1)[1])
    assert facilities.get("labelsEnabled") == "1"
    assert facilities.find("labeling/settings/text-style").get("fieldName") == "name"
    con = sqlite3.connect(out / "circles.gpkg")
    kind = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone()
    con.close()
    assert kind == ("attributes",)


def test_layers_hold_the_figures(helsinki_out):
    out, result = helsinki_out
    path = out / "circles.gpkg"
    homes = gpd.read_file(path, layer="homes")
    assert len(homes) == 59 and not [c for c in homes.columns if ":" in c]
    assert "building_levels" in homes.columns and homes.crs.to_epsg() == 4326
    areas = gpd.read_file(path, layer="service_areas").sort_values("band_min")
    assert list(areas["band_min"]) == [5.0, 10.0, 15.0]
    utm = areas.to_crs(areas.estimate_utm_crs())
    assert areas["area_km2"].to_numpy() == pytest.approx(utm.area.to_numpy() / 1e6, rel=1e-3)
    within = result.summary.coverage.within
    assert list(areas["homes"]) == [w.homes for w in within] == [29, 42, 50]
    assert areas["population"].to_numpy() == pytest.approx([w.population for w in within])
    subs = gpd.read_file(path, layer="sub_areas")
    assert list(subs["name"]) == ["West", "East"] and subs["homes"].sum() == 59
    study = gpd.read_file(path, layer="study_area")
    assert study["covered_homes"].iloc[0] == 50 and bool(study["population_estimated"].iloc[0])
    streets = gpd.read_file(path, layer="streets")
    assert len(streets) == result.context.network.n_edges
    assert set(streets["band"]) == {"0-5", "5-10", "10-15", ""}
    assert len(gpd.read_file(path, layer="proposed_sites")) == 1


def test_street_times_on_a_hand_drawn_graph():
    net = SQUARE_WITH_ISLAND.network()
    facilities = gpd.GeoDataFrame(geometry=[Point(xy) for xy in SQUARE_FACILITIES_XY], crs=HAND_CRS)
    homes = gpd.GeoDataFrame({"population": [1.0]}, geometry=[Point(100, -10)], crs=HAND_CRS)
    result = analyse(
        net, facilities, homes, settings=TravelSettings(speed_kmh=4.5, bands_min=(1, 2, 3), threshold_min=3)
    )
    streets = street_layer(result)
    ends = {(int(u), int(v)) for u, v in zip(net.edge_u, net.edge_v, strict=True)}
    assert len(streets) == len(ends) == 6
    # Walking distances: A 100, B 60, C 60, D 0, E 160 m at 75 m/min; X and Y unreached.
    minutes = {"A": 100 / 75, "B": 60 / 75, "C": 60 / 75, "D": 0.0, "E": 160 / 75}
    g = SQUARE_WITH_ISLAND
    for row, u, v in zip(streets.itertuples(), net.edge_u, net.edge_v, strict=True):
        a, b = (list(g.nodes)[i] for i in (u, v))
        if a in minutes:
            assert row.start_min == pytest.approx(round(minutes[a], 2))
            assert row.end_min == pytest.approx(round(minutes[b], 2))
            assert row.walk_time_min == pytest.approx(round(min(minutes[a], minutes[b]), 2))
        else:
            assert np.isnan(row.walk_time_min) and row.band == ""
    # Every street of the square has an end within a minute; the island's are not reached.
    assert list(streets["band"]) == ["0-1"] * 5 + [""]


def test_gis_columns_drop_colons_and_keep_names_apart():
    frame = gpd.GeoDataFrame(
        {"building:levels": [1], "building_levels": [2], "名称": ["x"]}, geometry=[Point(0, 0)], crs=4326
    )
    assert list(gis_columns(frame).columns) == ["building_levels", "building_levels_2", "名称", "geometry"]


def test_geoparquet_on_request(helsinki_out):
    out, _ = helsinki_out
    folder = out / "geoparquet"
    names = sorted(p.stem for p in folder.glob("*.parquet"))
    assert names == sorted(
        [
            "study_area",
            "homes",
            "facilities",
            "service_areas",
            "catchments",
            "streets",
            "sub_areas",
            "proposed_sites",
        ]
    )
    homes = gpd.read_parquet(folder / "homes.parquet")
    assert len(homes) == 59 and homes.crs.to_epsg() == 4326


def test_output_files_are_what_a_run_writes(helsinki_result, tmp_path):
    out = write_outputs(helsinki_result, tmp_path / "plain")
    written = {p.name for p in out.iterdir()} - {".circles-output.json"}
    assert written == set(OUTPUT_FILES)


def test_facility_tiers_get_their_layer(helsinki_result, tmp_path):
    areas = helsinki_result.service_areas
    tier_areas = gpd.GeoDataFrame(
        {"tier": ["village", "county"], "mode": ["walk", "drive"], "band_min": [5.0, 15.0]},
        geometry=list(areas.sort_values("band_min").geometry.values[[0, 2]]),
        crs=areas.crs,
    )
    out = write_outputs(helsinki_result.with_(tier_areas=tier_areas), tmp_path / "tiers")
    tiers = gpd.read_file(out / "circles.gpkg", layer="tier_areas")
    assert list(tiers["tier"]) == ["village", "county"]
    styles = pyogrio.read_dataframe(out / "circles.gpkg", layer="layer_styles")
    assert "tier_areas" in set(styles["f_table_name"])
