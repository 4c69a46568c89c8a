"""GCJ-02 / BD-09 / pyproj conversions to WGS-84: reference pairs, round trips, real data."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from circles.errors import InputError
from circles.sources.convert import frame_to_wgs84, to_wgs84_lonlat, transform_geometries
from circles.sources.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_coordinate_system,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = pyproj.Geod(ellps="WGS84")

# Reference pairs (lon, lat) from googollee/eviltransform, python/test.py (commit 3416646a), the
# test table TESTS (given there as wgsLat, wgsLng, gcjLat, gcjLng): Shanghai, Shenzhen, Beijing.
EVIL_WGS = np.array([[121.5272106, 31.1774276], [113.912316, 22.543847], [116.377817, 39.911954]])
EVIL_GCJ = np.array(
    [
        [121.531541859215, 31.17530398364597],
        [113.9171764808363, 22.540796131694766],
        [116.38404722455657, 39.91334545536069],
    ]
)

# Beijing railway station read off the three maps, 5 decimals, from the R package geoChina by
# Jun Cai (cran/geoChina, R/conv.R, examples of conv()): WGS-84 (39.90105, 116.42079),
# GCJ-02 (39.90245, 116.42703), BD-09 (39.90851, 116.43351) as (lat, lon).
BJS_WGS = (116.42079, 39.90105)
BJS_GCJ = (116.42703, 39.90245)
BJS_BD = (116.43351, 39.90851)

# hujiulong/gcoord, test/fixtures/china-cities.json (commit fedbaa10): 驻马店, 邵阳, 汕尾
# with WGS84, GCJ02 and BD09 coordinates; gcoord asserts them to 4-6 decimals.
GCOORD_WGS = np.array([[114.0164322, 33.0133556], [111.4622119, 27.242124], [115.3702248, 22.7888255]])
GCOORD_GCJ = np.array([[114.022306, 33.0115324], [111.4677938, 27.2388981], [115.3751647, 22.7861903]])
GCOORD_BD = np.array([[114.0287781, 33.0176697], [111.4742271, 27.2451662], [115.3817179, 22.7918527]])


def distance_m(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_wgs84_to_gcj02_matches_eviltransform_reference():
    lon, lat = wgs84_to_gcj02(EVIL_WGS[:, 0], EVIL_WGS[:, 1])
    np.testing.assert_allclose(lon, EVIL_GCJ[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(lat, EVIL_GCJ[:, 1], rtol=0, atol=1e-12)


def test_gcj02_to_wgs84_inverse_is_sub_millimetre_on_reference():
    lon, lat = gcj02_to_wgs84(EVIL_GCJ[:, 0], EVIL_GCJ[:, 1])
    assert np.all(distance_m(lon, lat, EVIL_WGS[:, 0], EVIL_WGS[:, 1]) < 1e-3)


def test_beijing_station_pairs_from_geochina():
    # 5-decimal readings: each conversion lands within rounding (1e-5 deg ~ 1 m).
    assert np.allclose(wgs84_to_gcj02(*BJS_WGS), BJS_GCJ, rtol=0, atol=1e-5)
    assert np.allclose(gcj02_to_wgs84(*BJS_GCJ), BJS_WGS, rtol=0, atol=1e-5)
    assert np.allclose(gcj02_to_bd09(*BJS_GCJ), BJS_BD, rtol=0, atol=1e-5)
    assert np.allclose(bd09_to_gcj02(*BJS_BD), BJS_GCJ, rtol=0, atol=1e-5)
    # Two roundings compound on the way BD-09 -> WGS-84.
    assert np.allclose(bd09_to_wgs84(*BJS_BD), BJS_WGS, rtol=0, atol=1.5e-5)
    assert np.allclose(wgs84_to_bd09(*BJS_WGS), BJS_BD, rtol=0, atol=1.5e-5)


def test_gcoord_city_pairs():
    # GCJ-02 <-> BD-09 agrees to 1e-7 deg; gcoord's WGS-84 column sits a constant ~0.5 m
    # off the published algorithm (gcoord itself only asserts 4 decimals there).
    np.testing.assert_allclose(
        np.column_stack(gcj02_to_bd09(GCOORD_GCJ[:, 0], GCOORD_GCJ[:, 1])), GCOORD_BD, rtol=0, atol=1e-7
    )
    np.testing.assert_allclose(
        np.column_stack(bd09_to_gcj02(GCOORD_BD[:, 0], GCOORD_BD[:, 1])), GCOORD_GCJ, rtol=0, atol=1e-7
    )
    lon, lat = gcj02_to_wgs84(GCOORD_GCJ[:, 0], GCOORD_GCJ[:, 1])
    assert np.all(distance_m(lon, lat, GCOORD_WGS[:, 0], GCOORD_WGS[:, 1]) < 1.0)
    lon, lat = bd09_to_wgs84(GCOORD_BD[:, 0], GCOORD_BD[:, 1])
    assert np.all(distance_m(lon, lat, GCOORD_WGS[:, 0], GCOORD_WGS[:, 1]) < 1.0)


def test_outside_china_unchanged_and_nan_propagates():
    lon = np.array([24.94, -122.4, 183.0, np.nan, 114.05])
    lat = np.array([60.17, 37.77, 45.0, 22.5, np.nan])
    for func in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon[:3], lon[:3])
        np.testing.assert_array_equal(out_lat[:3], lat[:3])
        assert np.isnan(out_lon[3:]).all()
        assert np.isnan(out_lat[3:]).all()


def test_shapes_preserved_and_mismatch_rejected():
    lon = np.full((2, 3), 114.05)
    lat = np.full((2, 3), 22.54)
    out_lon, out_lat = gcj02_to_wgs84(lon, lat)
    assert out_lon.shape == (2, 3)
    assert out_lat.shape == (2, 3)
    with pytest.raises(ValueError, match="shape"):
        gcj02_to_wgs84([1.0, 2.0], [1.0])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(73.7, 135.0), st.floats(3.9, 53.5)),
        min_size=1,
        max_size=50,
    )
)
def test_round_trips_are_exact_to_a_millimetre(points):
    lon, lat = np.array(points).T
    # WGS-84 -> GCJ-02 -> WGS-84 and WGS-84 -> BD-09 -> WGS-84 within 1e-8 deg (~1 mm).
    for forward, inverse in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        back_lon, back_lat = inverse(*forward(lon, lat))
        assert np.max(np.abs(back_lon - lon)) < 1e-8
        assert np.max(np.abs(back_lat - lat)) < 1e-8
    back_lon, back_lat = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert np.max(np.abs(back_lon - lon)) < 1e-9
    assert np.max(np.abs(back_lat - lat)) < 1e-9


def test_gcj_shift_in_shenzhen_is_about_600_m():
    lon, lat = gcj02_to_wgs84(114.0579, 22.5431)  # Futian, GCJ-02
    assert distance_m(114.0579, 22.5431, lon, lat) == pytest.approx(605.97, abs=0.01)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WGS84", "wgs84"),
        ("wgs-84", "wgs84"),
        ("WGS 84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("4326", "wgs84"),
        ("gcj02", "gcj02"),
        ("GCJ-02", "gcj02"),
        ("amap", "gcj02"),
        ("Tencent", "gcj02"),
        ("高德", "gcj02"),
        ("baidu", "bd09"),
        ("BD-09", "bd09"),
        ("bd09", "bd09"),
        ("EPSG:4490", "EPSG:4490"),
        ("epsg:32650", "EPSG:32650"),
        ("32650", "EPSG:32650"),
        ("OGC:CRS84", "wgs84"),
    ],
)
def test_parse_coordinate_system(text, expected):
    assert parse_coordinate_system(text) == expected


@pytest.mark.parametrize("text", ["mercator-ish", "", "EPSG:99999999", "bd09mc"])
def test_parse_coordinate_system_rejects_unknown(text):
    with pytest.raises(InputError, match="gcj02 \\(Amap"):
        parse_coordinate_system(text)


def test_to_wgs84_lonlat_dispatch():
    lon, lat = to_wgs84_lonlat(EVIL_GCJ[:, 0], EVIL_GCJ[:, 1], "GCJ-02")
    assert np.all(distance_m(lon, lat, EVIL_WGS[:, 0], EVIL_WGS[:, 1]) < 1e-3)
    lon, lat = to_wgs84_lonlat(*BJS_BD, "baidu")
    assert np.allclose((lon, lat), BJS_WGS, atol=1.5e-5)
    lon, lat = to_wgs84_lonlat([114.05], [22.54], "wgs84")
    assert lon.tolist() == [114.05]
    assert lat.tolist() == [22.54]
    # UTM 50N: the false easting 500 000 m lies on the central meridian 117 E.
    lon, lat = to_wgs84_lonlat([500000.0], [0.0], "EPSG:32650")
    assert lon[0] == pytest.approx(117.0, abs=1e-9)
    assert lat[0] == pytest.approx(0.0, abs=1e-9)
    # Web Mercator origin.
    lon, lat = to_wgs84_lonlat([0.0], [0.0], "EPSG:3857")
    assert (lon[0], lat[0]) == (0.0, 0.0)


def test_transform_geometries():
    geoms = np.array(
        [
            shapely.Point(*EVIL_GCJ[1]),
            shapely.LineString(EVIL_GCJ[:2]),
            None,
            shapely.Polygon(),
        ],
        dtype=object,
    )
    out = transform_geometries(geoms, "gcj02")
    assert out[2] is None
    assert out[3].is_empty
    assert distance_m(out[0].x, out[0].y, *EVIL_WGS[1]) < 1e-3
    coords = shapely.get_coordinates(out[1])
    assert np.all(distance_m(coords[:, 0], coords[:, 1], EVIL_WGS[:2, 0], EVIL_WGS[:2, 1]) < 1e-3)


def test_frame_to_wgs84_variants():
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(*EVIL_GCJ[1])], crs="EPSG:4326")
    out = frame_to_wgs84(gdf, "gcj02")
    assert out.crs.to_epsg() == 4326
    assert distance_m(out.geometry.x[0], out.geometry.y[0], *EVIL_WGS[1]) < 1e-3
    assert gdf.geometry.x[0] == EVIL_GCJ[1, 0]  # input untouched

    # Web Mercator of GCJ-02 coordinates (how Amap tiles are drawn): unproject, then convert.
    merc = gdf.to_crs(3857)
    out = frame_to_wgs84(merc, "gcj02")
    assert distance_m(out.geometry.x[0], out.geometry.y[0], *EVIL_WGS[1]) < 1e-3

    # None: the frame's own CRS.
    out = frame_to_wgs84(merc)
    assert out.geometry.x[0] == pytest.approx(EVIL_GCJ[1, 0], abs=1e-9)

    # An explicit CRS overrides a wrong declaration.
    utm = gpd.GeoDataFrame(geometry=[shapely.Point(500000.0, 0.0)], crs="EPSG:4326")
    out = frame_to_wgs84(utm, "EPSG:32650")
    assert out.geometry.x[0] == pytest.approx(117.0, abs=1e-9)

    with pytest.raises(InputError, match="no coordinate system"):
        frame_to_wgs84(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))


# ---------------------------------------------------------------------------------------------
# Real data


def _iou(a, b):
    return shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b))


@pytest.mark.shared_data
def test_datav_districts_match_wgs84_districts_after_conversion(shared_data):
    folder = shared_data / "shenzhen_district_boundaries"
    datav = gpd.read_file(folder / "440300_full_datav_gcj02.json")
    wgs = gpd.read_file(folder / "shenzhen_districts_wgs84.geojson")
    assert len(datav) == 9
    assert len(wgs) == 10
    utm = "EPSG:32650"
    converted = frame_to_wgs84(datav, "gcj02").to_crs(utm)
    raw = datav.to_crs(utm)
    reference = wgs.to_crs(utm).set_index("qh").geometry
    # DataV has no 大鹏新区 feature: it is merged into 龙岗区, so compare 龙岗 with 龙岗 ∪ 大鹏.
    reference["龙岗"] = shapely.union(reference["龙岗"], reference.pop("大鹏"))
    names = datav["name"].str.removesuffix("区")
    assert sorted(names) == sorted(reference.index)
    iou_after = {n: _iou(g, reference[n]) for n, g in zip(names, converted.geometry, strict=True)}
    iou_before = {n: _iou(g, reference[n]) for n, g in zip(names, raw.geometry, strict=True)}
    assert min(iou_after.values()) >= 0.99, iou_after
    assert max(iou_before.values()) < 0.9, iou_before
    assert min(iou_before.values()) > 0.75
    assert all(iou_after[n] - iou_before[n] > 0.1 for n in names)


def _read_json_stream(path):
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    objects, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return objects
        obj, pos = decoder.raw_decode(text, pos)
        objects.append(obj)


@pytest.mark.shared_data
def test_shenzhen_aed_pois_gcj_shift(shared_data):
    records = []
    for path in sorted((shared_data / "shenzhen_aed_pois_gcj02").glob("data4403*.json")):
        for page in _read_json_stream(path):
            records.extend(page["data"])
    assert len(records) == 301
    assert len({r["id"] for r in records}) == 301
    lon = np.array([r["location"]["lng"] for r in records])
    lat = np.array([r["location"]["lat"] for r in records])
    wgs_lon, wgs_lat = to_wgs84_lonlat(lon, lat, "gcj02")
    shift_m = distance_m(lon, lat, wgs_lon, wgs_lat)
    # Measured: mean 601.8 m, 579.7-614.9 m across Shenzhen.
    assert shift_m.mean() == pytest.approx(601.76, abs=0.05)
    assert shift_m.min() == pytest.approx(579.70, abs=0.05)
    assert shift_m.max() == pytest.approx(614.87, abs=0.05)
    # The residual of the inverse is below 1e-9 degrees everywhere.
    back_lon, back_lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert np.max(np.abs(back_lon - lon)) < 1e-9
    assert np.max(np.abs(back_lat - lat)) < 1e-9
