"""The Folium map: layers, hexagon aggregation, popups, escaping, offline inlining."""

from __future__ import annotations

import dataclasses
import re

import geopandas as gpd
import h3
import numpy as np
import pytest
from shapely.geometry import Point

from circles.errors import InputError, OutputError
from circles.maps import (
    LAYER_FACILITIES,
    LAYER_GAPS,
    LAYER_HOMES,
    LAYER_PROPOSED,
    aggregate_hexes,
    build_map,
    hex_layer_name,
    save_map,
)
from circles.static_map import render_png

CHINESE_NAME = "社区卫生服务中心"
#: A name that breaks naive HTML and JavaScript template-literal embedding.
HOSTILE_NAME = f"{CHINESE_NAME} `${{alert(1)}}` <b>&\\u"


def _layers(m) -> dict:
    """Overlay name -> folium object, for the map's direct children."""
    return {getattr(c, "layer_name", None): c for c in m._children.values() if getattr(c, "layer_name", None)}


def _features(m, name: str) -> list[dict]:
    return _layers(m)[name].data["features"]


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
    assert "circles-legend" in html and "84% of estimated residents within 15 min" in html
    assert "Diacor Keskusta" in html and "nearest facility for" in html
    assert "OpenStreetMap contributors" in html


def test_homes_drawn_one_by_one_below_the_limit(helsinki_result):
    m = build_map(helsinki_result)
    # Helsinki: 59 homes, 50 within 15 min, 9 beyond (none unreachable).
    assert len(_features(m, LAYER_HOMES)) == 50
    gaps = _features(m, LAYER_GAPS)
    assert len(gaps) == 9
    assert {f["properties"]["colour"] for f in gaps} == {"#d73027"}
    assert {f["properties"]["band"] for f in gaps} == {"&gt;15"}
    assert hex_layer_name(15) not in _layers(m)
    assert len(_layers(m)[LAYER_FACILITIES]._children) == 7


def test_many_homes_become_hexagons_and_gaps_stay_individual(helsinki_result):
    m = build_map(helsinki_result, max_home_features=20)
    layers = _layers(m)
    assert LAYER_HOMES not in layers
    hexes = _features(m, hex_layer_name(15))
    # Finest H3 resolution with at most 20 occupied cells is 9: 13 hexagons.
    assert len(hexes) == 13
    assert sum(int(f["properties"]["homes"]) for f in hexes) == 59
    assert sorted(f["properties"]["share"] for f in hexes).count("100%") == 11
    assert {"0%", "61%"} <= {f["properties"]["share"] for f in hexes}
    assert len(_features(m, LAYER_GAPS)) == 9
    html = m.get_root().render()
    assert "hexagons: residents within 15 min" in html and "75-99%" in html


def test_too_many_gaps_become_red_hexagons(helsinki_result):
    m = build_map(helsinki_result, max_home_features=5)
    gaps = _features(m, LAYER_GAPS)
    # The 9 gap homes fall into 2 res-10 hexagons: 2 and 7 homes.
    assert sorted(int(f["properties"]["homes"]) for f in gaps) == [2, 7]
    assert sum(int(f["properties"]["residents"]) for f in gaps) in (1011, 1012)


def test_point_homes_and_unreachable_homes(helsinki_result):
    homes = helsinki_result.homes.copy()
    homes.geometry = homes.geometry.representative_point()
    first3 = homes.index[:3]
    homes.loc[first3, ["walk_time_min", "band", "covered"]] = [np.nan, "unreachable", False]
    homes.loc[first3, "unreachable_reason"] = "no walkable street within 250 m"
    homes.loc[first3, "nearest_facility"] = None
    m = build_map(dataclasses.replace(helsinki_result, homes=homes))
    gaps = _features(m, LAYER_GAPS)
    unreachable = [f["properties"] for f in gaps if f["properties"]["band"] == "unreachable"]
    # Of the first 3 homes two were covered and one a gap: 9 - 1 + 3 gaps, 50 - 2 covered.
    assert len(gaps) == 11 and len(unreachable) == 3
    assert {p["walk_min"] for p in unreachable} == {"unreachable"}
    assert {p["colour"] for p in unreachable} == {"#5e3c99"}
    assert {p["note"] for p in unreachable} == {"no walkable street within 250 m"}
    assert {f["geometry"]["type"] for f in gaps} == {"Point"}
    assert len(_features(m, LAYER_HOMES)) == 48


def test_aggregate_hexes_hand_computed():
    lat, lon = 22.5431, 114.0579  # Shenzhen Futian
    cell = h3.latlng_to_cell(lat, lon, 10)
    c_lat, c_lon = h3.cell_to_latlng(cell)
    # A res-10 cell of another res-9 parent under the same res-8 parent.
    parent8 = h3.cell_to_parent(cell, 8)
    other9 = next(c for c in sorted(h3.cell_to_children(parent8, 9)) if c != h3.cell_to_parent(cell, 9))
    far = h3.cell_to_center_child(other9, 10)
    f_lat, f_lon = h3.cell_to_latlng(far)
    homes = gpd.GeoDataFrame(
        {"covered": [True, True, False, True], "population": [10.0, 30.0, 60.0, 0.0]},
        geometry=[
            Point(c_lon, c_lat),
            Point(c_lon + 1e-5, c_lat),
            Point(c_lon, c_lat + 1e-5),
            Point(f_lon, f_lat),
        ],
        crs="EPSG:4326",
    )
    fine = aggregate_hexes(homes, max_cells=2)
    assert list(fine["resolution"]) == [10, 10]
    by_cell = fine.set_index("h3_cell")
    assert by_cell.loc[cell, "homes"] == 3
    assert by_cell.loc[cell, "population"] == 100.0
    assert by_cell.loc[cell, "covered_homes"] == 2
    assert by_cell.loc[cell, "covered_share"] == pytest.approx(0.4)
    assert by_cell.loc[far, "homes"] == 1 and np.isnan(by_cell.loc[far, "covered_share"])
    assert by_cell.loc[cell].geometry.contains(Point(c_lon, c_lat))
    coarse = aggregate_hexes(homes, max_cells=1)
    assert list(coarse["h3_cell"]) == [parent8]
    assert coarse["covered_share"].iloc[0] == pytest.approx(0.4)


def _renamed(result, name: str):
    fac = result.facilities.copy()
    fac.loc[0, "name"] = name
    fac.loc[1, "attached"] = False
    fac["capacity"] = [3, None, 5, 1, 2, 4, 6]
    counts = dataclasses.replace(result.summary.facilities, unattached=1)
    return result.with_(facilities=fac, summary=result.summary.with_(facilities=counts))


def test_chinese_and_hostile_names_are_escaped(helsinki_result, tmp_path):
    path = save_map(_renamed(helsinki_result, HOSTILE_NAME), tmp_path / "map.html", offline=True)
    raw = path.read_bytes()
    page = raw.decode("utf-8")
    assert 'charset=UTF-8"' in page
    assert CHINESE_NAME.encode("utf-8") in raw
    assert f"{CHINESE_NAME} &#96;&#36;{{alert(1)}}&#96; &lt;b&gt;&amp;&#92;u" in page
    assert "`${alert" not in page and "<b>&\\u" not in page
    assert "capacity: 3" in page and "capacity: nan" not in page
    assert "not on the walk network" in page and "facility not on the walk network" in page


def test_proposed_sites_layer(helsinki_result):
    sites = gpd.GeoDataFrame(
        {"name": ["Kallio 新站", None], "rank": [1, 2], "gain_population": [812.4, np.nan]},
        geometry=[Point(24.945, 60.172), Point(24.93, 60.165)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32635")
    m = build_map(helsinki_result, proposed_sites=sites)
    assert len(_layers(m)[LAYER_PROPOSED]._children) == 2
    html = m.get_root().render()
    assert "Proposed site 1: Kallio 新站" in html and "brings 812 more residents within 15 min" in html
    assert "Proposed site 2: site 2" in html
    assert LAYER_PROPOSED not in _layers(build_map(helsinki_result))


def test_offline_map_inlines_every_script_and_style(helsinki_result, tmp_path):
    online = save_map(helsinki_result, tmp_path / "online.html").read_text(encoding="utf-8")
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">' in online
    page = save_map(helsinki_result, tmp_path / "offline.html", offline=True).read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\ssrc\s*=\s*[\"']?(https?:)?//", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\shref\s*=\s*[\"']?(https?:)?//", page, re.IGNORECASE)
    assert "<script src=" not in page and "<link " not in page
    assert "Leaflet 1.9.3, a JS library for interactive maps" in page  # Leaflet itself is inlined
    # Only Leaflet and jQuery are inlined: no Bootstrap or Font Awesome (1.2 MB the map does not use).
    assert "fontawesome" not in page.lower() and "getbootstrap" not in page
    assert len(page.encode("utf-8")) < 500_000
    for layer in ("Within 15 min walk", LAYER_HOMES, LAYER_GAPS, LAYER_FACILITIES, "circles-legend"):
        assert layer in page


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_home_features": 0}, "max_home_features must be at least 1"),
        (
            {"proposed_sites": gpd.GeoDataFrame(geometry=[Point(0, 0).buffer(1)], crs="EPSG:4326")},
            "GeoDataFrame of points",
        ),
        ({"proposed_sites": gpd.GeoDataFrame(geometry=[Point(0, 0)])}, "has no CRS"),
    ],
)
def test_bad_map_options(helsinki_result, kwargs, message):
    with pytest.raises(InputError, match=message):
        build_map(helsinki_result, **kwargs)


def test_unwritable_map_path(helsinki_result, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write the map"):
        save_map(helsinki_result, blocker / "map.html")


# --- the static PNG (circles.static_map) ---------------------------------------------------------

GAP_RGB = (0xD7, 0x30, 0x27)  # circles.maps.GAP_COLOUR


def _pixels(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_png_has_requested_size_and_shows_the_gaps(helsinki_result, tmp_path):
    path = render_png(helsinki_result, tmp_path / "map.png", dpi=100, size_in=(6, 4))
    assert path.is_file()
    pixels = _pixels(path)
    assert pixels.shape == (400, 600, 3)
    # The 9 gap buildings are drawn opaque in the gap colour (the legend swatch alone is < 200 px).
    assert (pixels == GAP_RGB).all(axis=-1).sum() > 300
    assert _pixels(render_png(helsinki_result, tmp_path / "default.png")).shape == (1200, 1200, 3)


def test_png_without_gaps_has_no_gap_colour(helsinki_result, tmp_path):
    homes = helsinki_result.homes
    covered_only = dataclasses.replace(helsinki_result, homes=homes[homes["covered"]])
    pixels = _pixels(render_png(covered_only, tmp_path / "map.png", dpi=80))
    assert (pixels == GAP_RGB).all(axis=-1).sum() == 0
    assert (pixels == (0x1A, 0x98, 0x50)).all(axis=-1).sum() > 100  # homes within 5 min


def test_png_is_deterministic(helsinki_result, tmp_path):
    a = render_png(helsinki_result, tmp_path / "a.png", dpi=60).read_bytes()
    b = render_png(helsinki_result, tmp_path / "b.png", dpi=60).read_bytes()
    assert a == b


def test_png_unwritable(helsinki_result, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write the picture"):
        render_png(helsinki_result, blocker / "map.png", dpi=40)


def test_map_with_no_covered_home_renders(helsinki_result):
    import dataclasses

    homes = helsinki_result.homes.copy()
    homes["covered"] = False
    homes["band"] = "unreachable"
    homes["walk_time_min"] = np.nan
    html = build_map(dataclasses.replace(helsinki_result, homes=homes)).get_root().render()
    assert LAYER_GAPS in html and LAYER_HOMES not in html
