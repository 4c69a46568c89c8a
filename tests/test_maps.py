"""The web map: layers and their data, hexagon grids per zoom, names stored once, escaping,
self-contained and CDN pages, basemaps (GCJ-02 display, MBTiles), and the static PNG."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import sqlite3

import geopandas as gpd
import h3
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from circles import TravelSettings, analyse
from circles.errors import InputError, InputFileError, OutputError
from circles.maps import (
    LAYER_FACILITIES,
    LAYER_GAPS,
    LAYER_HOMES,
    LAYER_LABELS,
    LAYER_PROPOSED,
    LAYER_STREET_TIMES,
    LAYER_STREETS,
    LAYER_SUBAREAS,
    MapOptions,
    aggregate_hexes,
    build_map,
    hex_layer_name,
    save_map,
)
from circles.maps.cells import hex_levels
from circles.maps.encode import decode_points
from circles.maps.layers import DataLayer, Tables
from circles.maps.tiles import TIANDITU_KEY_ENV, tile_source
from circles.sources.coords import wgs84_to_gcj02
from circles.static_map import render_png

CHINESE_NAME = "社区卫生服务中心"
#: A name that breaks naive HTML and JavaScript embedding.
HOSTILE_NAME = f"{CHINESE_NAME} `${{alert(1)}}` </script><b>&\\u"
GAP = "#d73027"


def _layers(m) -> dict[str, DataLayer]:
    return {c.layer_name: c for c in m._children.values() if isinstance(c, DataLayer)}


def _tables(m) -> dict:
    return next(c for c in m._children.values() if isinstance(c, Tables)).tables


def _count(spec: dict) -> int:
    geom = spec["geom"]
    return len(geom["f"]) if "f" in geom else len(geom["c"]) // 2


def _lines_m(spec: dict, crs) -> np.ndarray:
    """Length in metres of each encoded line feature (decoded as the page decodes it)."""
    geom = spec["geom"]
    pts = decode_points(geom)
    parts = np.split(pts, np.cumsum(geom["n"])[:-1])
    lines = gpd.GeoSeries([LineString(p) for p in parts], crs="EPSG:4326").to_crs(crs)
    owner = np.repeat(np.arange(len(geom["f"])), geom["f"])
    return np.bincount(owner, weights=lines.length.to_numpy(), minlength=len(geom["f"]))


@pytest.fixture(scope="session")
def shenzhen_result():
    """A small street grid in Shenzhen (inside China, so GCJ-02 differs from WGS-84)."""
    lon0, lat0, step = 114.05, 22.54, 0.002
    lines = [LineString([(lon0, lat0 + i * step), (lon0 + 4 * step, lat0 + i * step)]) for i in range(5)]
    lines += [LineString([(lon0 + i * step, lat0), (lon0 + i * step, lat0 + 4 * step)]) for i in range(5)]
    network = gpd.GeoDataFrame(geometry=lines, crs="EPSG:4326")
    facilities = gpd.GeoDataFrame(
        {"name": [CHINESE_NAME]}, geometry=[Point(lon0 + 2 * step, lat0 + 2 * step + 0.0001)], crs="EPSG:4326"
    )
    homes = gpd.GeoDataFrame(
        {"population": [10.0, 20.0, 30.0]},
        geometry=[Point(lon0 + 0.0005, lat0 + 0.0001), Point(lon0 + 0.004, lat0 + 0.0041), Point(lon0, lat0)],
        crs="EPSG:4326",
    )
    return analyse(network, facilities, homes, name="Futian grid", settings=TravelSettings(threshold_min=5))


# --- layers and their data ------------------------------------------------------------------------


def test_map_has_every_layer_legend_and_credit(helsinki_result):
    m = build_map(helsinki_result)
    names = list(_layers(m))
    assert names == [
        "Within 15 min walk",
        "Within 10 min walk",
        "Within 5 min walk",
        "Catchment of each facility",
        LAYER_STREETS,
        LAYER_STREET_TIMES,
        LAYER_HOMES,
        LAYER_GAPS,
        LAYER_FACILITIES,
        LAYER_LABELS,
    ]
    assert not _layers(m)["Catchment of each facility"].show  # off at first, on in the layer control
    html = m.get_root().render()
    assert "circles-legend" in html
    assert "84% of 6,395 estimated residents within 15 min" in html
    assert "walk at 4.5 km/h; covered within 15 min" in html
    assert "residents estimated: floor area" in html
    assert "OpenStreetMap contributors, ODbL" in html and "PARTIAL" not in html


def test_homes_drawn_one_by_one_below_the_limit(helsinki_result):
    m = build_map(helsinki_result)
    layers, tables = _layers(m), _tables(m)
    homes, gaps = layers[LAYER_HOMES].spec, layers[LAYER_GAPS].spec
    # Helsinki: 59 homes, 50 within 15 min, 9 beyond (none unreachable); footprints, at every zoom.
    assert (_count(homes), _count(gaps)) == (50, 9)
    assert homes["kind"] == gaps["kind"] == "polygon" and "minZoom" not in gaps
    assert {gaps["colours"][b] for b in gaps["props"]["b"]} == {GAP}
    assert {tables["bands"][b] for b in gaps["props"]["b"]} == {">15 min"}
    assert min(gaps["props"]["w"]) > 150  # tenths of a minute
    assert hex_layer_name(15) not in layers
    assert _count(layers[LAYER_FACILITIES].spec) == 7


def test_each_facility_name_is_stored_once(helsinki_result):
    m = build_map(helsinki_result)
    page = m.get_root().render()
    # The nearest facility of 22 homes, labelled on the map and named in their popups: written once.
    assert page.count("Vita Lääkäriasema") == 1
    layers, names = _layers(m), _tables(m)["names"]
    homes, gaps = layers[LAYER_HOMES].spec["props"]["n"], layers[LAYER_GAPS].spec["props"]["n"]
    assert (
        sum(names[n] == "Vita Lääkäriasema" for n in homes),
        sum(names[n] == "Vita Lääkäriasema" for n in gaps),
    ) == (13, 9)


def test_many_homes_become_hexagon_grids_and_single_homes_from_zoom_15(helsinki_result):
    m = build_map(helsinki_result, max_home_features=20)
    layers = _layers(m)
    cells = layers[hex_layer_name(15)].spec
    assert cells["kind"] == "levels"
    ranges = [(lv["minZoom"], lv["maxZoom"]) for lv in cells["levels"]]
    assert ranges[0][0] == 0 and ranges[-1][1] == 15
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))  # contiguous
    for level in cells["levels"]:
        assert sum(level["props"]["homes"]) == 59
        assert sum(level["props"]["res"]) == pytest.approx(6395, abs=len(level["props"]["res"]))
    dots = layers["Residents beyond 15 min (per hexagon)"]
    assert not dots.show
    gaps = layers[LAYER_GAPS].spec
    assert gaps["kind"] == "point" and gaps["minZoom"] == 15 and _count(gaps) == 9
    html = m.get_root().render()
    assert "hexagons: residents within 15 min" in html and "zoom in (level 15+) to see each home<" in html
    # Too many covered homes to hold one by one: the gaps still are, and the legend says so.
    few = build_map(helsinki_result, max_home_features=20, max_detail_homes=10)
    assert LAYER_HOMES not in _layers(few) and _count(_layers(few)[LAYER_GAPS].spec) == 9
    assert "to see each home beyond 15 min" in few.get_root().render()


def test_hex_levels_fit_the_screen_at_every_zoom(helsinki_result):
    homes = helsinki_result.homes
    levels = hex_levels(homes, below_zoom=15, max_cells=10_000, target_px=22)
    resolutions = [int(grid["resolution"].iloc[0]) for _lo, _hi, grid in levels]
    assert resolutions == sorted(resolutions) and resolutions[-1] == 10  # finer as one zooms in
    lat = np.radians(60.17)
    for lo, hi, grid in levels:
        width_m = 2 * h3.average_hexagon_edge_length(int(grid["resolution"].iloc[0]), unit="m")
        for z in range(max(lo, 8), hi):  # res 5 is the coarsest: below zoom 8 cells get small
            px = width_m / (156543.03392 * np.cos(lat) / 2**z)
            assert 22 / 1.8 < px < 22 * 1.8, (z, px)
        assert grid["homes"].sum() == 59
    few = hex_levels(homes, below_zoom=15, max_cells=5)
    finest_fitting = int(aggregate_hexes(homes, max_cells=5)["resolution"].iloc[0])
    assert max(int(g["resolution"].iloc[0]) for _lo, _hi, g in few) == finest_fitting < 10


def test_aggregate_hexes_hand_computed():
    lat, lon = 22.5431, 114.0579  # Shenzhen Futian
    cell = h3.latlng_to_cell(lat, lon, 10)
    c_lat, c_lon = h3.cell_to_latlng(cell)
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
    assert by_cell.loc[cell, "homes"] == 3 and by_cell.loc[cell, "population"] == 100.0
    assert by_cell.loc[cell, "covered_homes"] == 2
    assert by_cell.loc[cell, "covered_share"] == pytest.approx(0.4)
    assert by_cell.loc[far, "homes"] == 1 and np.isnan(by_cell.loc[far, "covered_share"])
    assert by_cell.loc[cell].geometry.contains(Point(c_lon, c_lat))
    coarse = aggregate_hexes(homes, max_cells=1)
    assert list(coarse["h3_cell"]) == [parent8]
    assert coarse["covered_share"].iloc[0] == pytest.approx(0.4)


def test_unreachable_homes_and_their_notes(helsinki_result):
    homes = helsinki_result.homes.copy()
    homes.geometry = homes.geometry.representative_point()
    first3 = homes.index[:3]
    homes.loc[first3, ["walk_time_min", "band", "covered"]] = [np.nan, "unreachable", False]
    homes.loc[first3, "unreachable_reason"] = "no walkable street within 250 m"
    homes.loc[first3, "nearest_facility"] = None
    m = build_map(dataclasses.replace(helsinki_result, homes=homes))
    gaps, tables = _layers(m)[LAYER_GAPS].spec, _tables(m)
    # Of the first 3 homes two were covered and one a gap: 9 - 1 + 3 gaps, 50 - 2 covered.
    assert gaps["kind"] == "point" and _count(gaps) == 11
    unreachable = [i for i, b in enumerate(gaps["props"]["b"]) if tables["bands"][b] == "unreachable"]
    assert len(unreachable) == 3
    assert {gaps["props"]["w"][i] for i in unreachable} == {-1}
    assert {gaps["props"]["n"][i] for i in unreachable} == {-1}
    assert {gaps["colours"][gaps["props"]["b"][i]] for i in unreachable} == {"#5e3c99"}
    assert tables["notes"] == ["no walkable street within 250 m"]
    assert {gaps["props"]["note"][i] for i in unreachable} == {0}
    assert _count(_layers(m)[LAYER_HOMES].spec) == 48


def test_streets_and_reached_streets_keep_their_length(helsinki_result):
    net = helsinki_result.context.network
    layers = _layers(build_map(helsinki_result))
    streets = _lines_m(layers[LAYER_STREETS].spec, net.crs)
    # One feature holding every street; simplified by 1 m, so at most a little shorter.
    assert len(streets) == 1
    assert streets[0] == pytest.approx(net.edge_length_m.sum(), rel=0.005)
    assert streets[0] <= net.edge_length_m.sum() * 1.0001
    from circles.areas import reached_pieces

    ctx, speed = helsinki_result.context, helsinki_result.settings.speed_m_per_min
    rings = _lines_m(layers[LAYER_STREET_TIMES].spec, net.crs)
    within = [
        float((e - s).sum())
        for _, s, e in (reached_pieces(net, ctx.nodes, ctx.facilities, b * speed) for b in (5, 10, 15))
    ]
    assert rings == pytest.approx(np.diff([0.0, *within]), rel=0.01)
    assert len(json.dumps(layers[LAYER_STREETS].spec)) < 120_000  # 6.9k edges in a light layer


def test_sub_areas_with_their_coverage(helsinki_result):
    from circles.summary import subarea_summaries

    w, s, e, n = helsinki_result.homes.total_bounds
    mid = (w + e) / 2
    subareas = gpd.GeoDataFrame(
        {"name": ["West 西", "East 东"]},
        geometry=[box(w - 0.01, s - 0.01, mid, n + 0.01), box(mid, s - 0.01, e + 0.01, n + 0.01)],
        crs="EPSG:4326",
    )
    figures = subarea_summaries(
        helsinki_result.homes, helsinki_result.facilities, subareas, helsinki_result.settings
    )
    result = helsinki_result.with_(summary=helsinki_result.summary.with_(subareas=figures))
    spec = _layers(build_map(result, subareas=subareas))[LAYER_SUBAREAS].spec
    props = spec["props"]
    assert props["t"] == ["West 西", "East 东"]
    assert sum(props["homes"]) == 59
    assert props["pct"] == [round(100 * f.coverage.covered_share, 1) for f in figures]
    assert sum(props["unc"]) == pytest.approx(helsinki_result.summary.coverage.uncovered_population, abs=1)
    assert len(spec["geom"]["f"]) == 2


def test_proposed_sites_layer(helsinki_result):
    sites = gpd.GeoDataFrame(
        {"name": ["Kallio 新站", None], "rank": [1, 2], "gain_population": [812.4, np.nan]},
        geometry=[Point(24.945, 60.172), Point(24.93, 60.165)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32635")
    m = build_map(helsinki_result, proposed_sites=sites)
    spec = _layers(m)[LAYER_PROPOSED].spec
    assert spec["props"] == {
        "rank": [1, 2],
        "t": ["Proposed site 1: Kallio 新站", "Proposed site 2: site 2"],
        "g": [812, None],
    }
    assert spec["popup"]["rows"][0][0] == "brings {} more residents within 15 min"
    assert decode_points(spec["geom"]) == pytest.approx(
        np.array([[24.945, 60.172], [24.93, 60.165]]), abs=1e-6
    )
    assert LAYER_PROPOSED not in _layers(build_map(helsinki_result))


def _renamed(result, name: str):
    fac = result.facilities.copy()
    fac.loc[0, "name"] = name
    fac.loc[1, "attached"] = False
    fac["capacity"] = [3, None, 5, 1, 2, 4, 6]
    counts = dataclasses.replace(result.summary.facilities, unattached=1)
    return result.with_(facilities=fac, summary=result.summary.with_(facilities=counts), name=name)


def test_chinese_and_hostile_names_cannot_break_out(helsinki_result, tmp_path):
    path = save_map(_renamed(helsinki_result, HOSTILE_NAME), tmp_path / "map.html")
    raw = path.read_bytes()
    page = raw.decode("utf-8")
    assert 'charset=UTF-8"' in page and CHINESE_NAME.encode("utf-8") in raw
    # In the data the name is JSON text with "</" broken up; in the title and legend HTML-escaped.
    assert json.dumps(HOSTILE_NAME, ensure_ascii=False).replace("</", "<\\/") in page
    assert "<title>" + f"{CHINESE_NAME} &#96;&#36;{{alert(1)}}&#96; &lt;/script&gt;" in page
    assert HOSTILE_NAME not in page and "</script><b>" not in page
    spec = _layers(build_map(_renamed(helsinki_result, HOSTILE_NAME)))[LAYER_FACILITIES].spec
    assert spec["props"]["cap"] == [3.0, None, 5.0, 1.0, 2.0, 4.0, 6.0]
    assert spec["props"]["detached"] == [0, 1, 0, 0, 0, 0, 0]
    assert "facility not on the walk network" in page


def test_partial_and_counted_residents_in_the_legend(helsinki_result):
    summary = helsinki_result.summary.with_(
        network_coverage_of_area=0.5,
        population=dataclasses.replace(
            helsinki_result.summary.population, estimated=False, method="a column"
        ),
    )
    html = build_map(helsinki_result.with_(summary=summary)).get_root().render()
    assert "PARTIAL: the network covers only part of the area" in html
    assert "84% of 6,395 residents (counted) within 15 min" in html and "residents counted: a column" in html


# --- self-contained and CDN pages -----------------------------------------------------------------


def test_default_page_is_self_contained(helsinki_result, tmp_path):
    page = save_map(helsinki_result, tmp_path / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\shref\s*=", page, re.IGNORECASE)
    assert "Leaflet 1.9.3, a JS library for interactive maps" in page  # Leaflet itself, from XStatic-Leaflet
    assert "sourceMappingURL" not in page and "url(images/" not in page  # nothing else to fetch
    assert (
        "jquery" not in page.lower() and "bootstrap" not in page.lower() and "fontawesome" not in page.lower()
    )
    assert len(page.encode("utf-8")) < 400_000


def test_cdn_page_links_the_same_leaflet(helsinki_result, tmp_path):
    inline = save_map(helsinki_result, tmp_path / "a.html").stat().st_size
    cdn = save_map(helsinki_result, tmp_path / "b.html", self_contained=False)
    page = cdn.read_text(encoding="utf-8")
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>' in page
    assert "Leaflet 1.9.3, a JS library" not in page
    assert inline - cdn.stat().st_size > 140_000
    # The old name of the default still means the self-contained page.
    assert save_map(helsinki_result, tmp_path / "c.html", offline=True).stat().st_size == inline


# --- basemaps -------------------------------------------------------------------------------------


def test_tile_providers(monkeypatch):
    osm = tile_source("osm")
    assert "tile.openstreetmap.org" in osm.url and "OpenStreetMap" in osm.attribution and not osm.gcj02
    amap = tile_source("amap")
    assert "autonavi.com" in amap.url and amap.gcj02 and "Gaode" in amap.attribution
    tencent = tile_source("tencent")
    assert (
        "map.gtimg.com" in tencent.url and tencent.gcj02 and tencent.tms and "Tencent" in tencent.attribution
    )
    assert tile_source("none") is None and tile_source(None) is None
    monkeypatch.delenv(TIANDITU_KEY_ENV, raising=False)
    with pytest.raises(InputError, match="Tianditu tiles need a key") as err:
        tile_source("tianditu")
    assert err.value.parameter == "tiles_key"
    monkeypatch.setenv(TIANDITU_KEY_ENV, "abc123")
    tdt = tile_source("tianditu")
    assert "tk=abc123" in tdt.url and "T=vec_w" in tdt.url and not tdt.gcj02
    assert "T=cva_w" in tdt.overlay_urls[0] and "天地图" in tdt.attribution
    assert "tk=k9" in tile_source("tianditu", tiles_key="k9").url
    own = tile_source("https://tiles.example.gov.cn/{z}/{x}/{y}.png")
    assert own.url.endswith("/{z}/{x}/{y}.png") and "tiles.example.gov.cn" in own.attribution


@pytest.mark.parametrize(
    ("tiles", "message"),
    [
        ("googel", "unknown basemap 'googel'"),
        ("https://tiles.example/{z}/{x}.png", r"lacks \{y\}"),
        ('https://tiles.example/{z}/{x}/{y}.png"><script>', "characters a URL cannot hold"),
    ],
)
def test_bad_tiles(helsinki_result, tiles, message):
    with pytest.raises(InputError, match=message):
        build_map(helsinki_result, tiles=tiles)


def test_no_basemap(helsinki_result):
    html = build_map(helsinki_result, tiles="none").get_root().render()
    assert "L.tileLayer" not in html and "openstreetmap.org/" not in html


def test_gcj02_basemap_draws_overlays_in_gcj02(shenzhen_result):
    fac = shenzhen_result.facilities.geometry.iloc[0]
    m = build_map(shenzhen_result, tiles="amap")
    drawn = decode_points(_layers(m)[LAYER_FACILITIES].spec["geom"])[0]
    lon, lat = wgs84_to_gcj02(fac.x, fac.y)
    assert drawn == pytest.approx([float(lon), float(lat)], abs=1e-6)
    assert np.hypot(drawn[0] - fac.x, drawn[1] - fac.y) > 0.003  # about 500 m in Shenzhen
    plain = decode_points(_layers(build_map(shenzhen_result, tiles="osm"))[LAYER_FACILITIES].spec["geom"])[0]
    assert plain == pytest.approx([fac.x, fac.y], abs=1e-6)
    html = m.get_root().render()
    assert "overlays shifted to GCJ-02 to match the basemap" in html and "Gaode.com" in html


def _mbtiles(path, tiles: dict, fmt: str = "png"):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)"
    )
    con.executemany(
        "INSERT INTO metadata VALUES (?, ?)", [("format", fmt), ("attribution", "City survey <b>2024</b>")]
    )
    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", [(z, x, y, d) for (z, x, y), d in tiles.items()])
    con.commit()
    con.close()
    return path


def _png(rgb) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), rgb).save(buf, format="PNG")
    return buf.getvalue()


def helsinki_mbtiles(path):
    """An MBTiles file with one tile covering central Helsinki at zooms 12-14, and one far away."""
    from circles.maps.mbtiles import tile_range

    tiles = {}
    for z in (12, 13, 14):
        x0, x1, y0, y1 = tile_range((24.92, 60.16, 24.96, 60.18), z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                tiles[(z, x, 2**z - 1 - y)] = _png((250, 200, 40))
    tiles[(12, 0, 0)] = _png((0, 0, 0))  # the other side of the world: not copied
    return _mbtiles(path, tiles)


def test_mbtiles_are_copied_next_to_the_page(helsinki_result, tmp_path):
    source = helsinki_mbtiles(tmp_path / "city.mbtiles")
    out = tmp_path / "out"
    out.mkdir()
    page = save_map(helsinki_result, out / "map.html", tiles=str(source)).read_text(encoding="utf-8")
    assert '"tiles/{z}/{x}/{y}.png"' in page and "City survey &lt;b&gt;2024&lt;/b&gt;" in page
    copied = sorted(p.relative_to(out / "tiles").as_posix() for p in (out / "tiles").rglob("*.png"))
    assert copied and all(p.split("/")[0] in {"12", "13", "14"} for p in copied)
    assert "12/0/4095.png" not in copied
    from circles.maps.mbtiles import tile_range

    x0, _x1, y0, _y1 = tile_range((24.94, 60.17, 24.94, 60.17), 14)
    assert f"14/{x0}/{y0}.png" in copied  # XYZ rows (the file counts them from the south)


def test_bad_mbtiles(tmp_path, helsinki_result):
    with pytest.raises(InputFileError, match="no such tile file"):
        tile_source(str(tmp_path / "missing.mbtiles"))
    (tmp_path / "junk.mbtiles").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(InputFileError, match="not a readable MBTiles file"):
        tile_source(str(tmp_path / "junk.mbtiles"))
    vector = _mbtiles(tmp_path / "vector.mbtiles", {(1, 0, 0): b"\x1a\x00"}, fmt="pbf")
    with pytest.raises(InputError, match="holds pbf tiles; a web page can draw only raster tiles"):
        build_map(helsinki_result, tiles=str(vector))


# --- options and errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_home_features": 0}, "max_home_features must be at least 1"),
        ({"colour": "red"}, "unknown map option 'colour'"),
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


def test_options_fingerprint_leaves_out_the_key():
    fp = MapOptions(tiles="tianditu", tiles_key="secret").fingerprint()
    assert fp["tiles"] == "tianditu" and "tiles_key" not in fp and "secret" not in json.dumps(fp)


def test_unwritable_map_path(helsinki_result, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write the map"):
        save_map(helsinki_result, blocker / "map.html")


def test_map_with_no_covered_home_renders(helsinki_result):
    homes = helsinki_result.homes.copy()
    homes["covered"] = False
    homes["band"] = "unreachable"
    homes["walk_time_min"] = np.nan
    layers = _layers(build_map(dataclasses.replace(helsinki_result, homes=homes)))
    assert LAYER_GAPS in layers and LAYER_HOMES not in layers


def test_map_without_analysis_context_has_no_streets(helsinki_result):
    layers = _layers(build_map(helsinki_result.with_(context=None)))
    assert LAYER_STREETS not in layers and LAYER_FACILITIES in layers


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


def test_png_draws_the_streets(helsinki_result, tmp_path):
    with_streets = _pixels(render_png(helsinki_result, tmp_path / "a.png", dpi=60))
    without = _pixels(render_png(helsinki_result.with_(context=None), tmp_path / "b.png", dpi=60))
    changed = (with_streets != without).any(axis=-1)
    # 6,910 street segments drawn as a thin grey line: a good share of the 480 x 480 picture changes.
    assert changed.sum() > 10_000
    # Grey lines over light fills: where anything changed it got darker (anti-aliased lines blend).
    darker = with_streets.astype(int).sum(axis=-1) < without.astype(int).sum(axis=-1)
    assert darker[changed].mean() > 0.95
