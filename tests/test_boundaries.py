"""Study-area boundaries: files in any CRS, names, repairs, bbox, OSM admin relations, buffers."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from circles.errors import EmptyResultError, InputError, InputFileError
from circles.sources.boundaries import (
    admin_boundary_from_osm,
    bbox_boundary,
    buffer_area,
    read_boundary,
)

DISTRICTS = ["罗湖", "福田", "盐田", "宝安", "光明", "坪山", "龙华", "南山", "大鹏", "龙岗"]
LUOHU_SUBDISTRICTS = {"桂园", "黄贝", "东门", "翠竹", "东晓", "南湖", "笋岗", "东湖", "莲塘", "清水河"}


def _iou(a, b) -> float:
    return a.intersection(b).area / a.union(b).area


def _write_geojson(path, features):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
            for props, geom in features
        ],
    }
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


@pytest.fixture
def districts_path(shared_data):
    return shared_data / "shenzhen_district_boundaries" / "shenzhen_districts_wgs84.geojson"


@pytest.mark.shared_data
def test_shenzhen_districts(districts_path):
    areas = read_boundary(districts_path, name_field="qh")
    assert areas["name"].tolist() == DISTRICTS
    assert list(areas.columns) == ["name", "geometry"]
    assert areas.crs.to_epsg() == 4326
    assert areas.attrs["repaired_features"] == 0
    luohu = read_boundary(districts_path, name_field="qh", names=["罗湖"])
    assert luohu["name"].tolist() == ["罗湖"]
    assert luohu.geometry.iloc[0].equals(areas.geometry.iloc[0])
    with pytest.raises(InputError, match="no feature with qh = '罗湖区'; available: 罗湖, 福田, 盐田, 宝安"):
        read_boundary(districts_path, name_field="qh", names=["罗湖区"])
    with pytest.raises(
        InputError, match="no name field 'district'; the file has fields: centroid_x, centroid_y, qh"
    ):
        read_boundary(districts_path, name_field="district")
    with pytest.raises(InputError, match="has no 'name' field to select areas by"):
        read_boundary(districts_path, names=["罗湖"])


@pytest.mark.shared_data
def test_luohu_subdistricts(shared_data):
    path = shared_data / "shenzhen_subdistrict_boundaries" / "shenzhen_subdistricts_named_wgs84.geojson"
    everything = read_boundary(path)  # the "name" field is used by default
    assert len(everything) == 78
    luohu = read_boundary(path, where={"district": "罗湖"})
    assert len(luohu) == 10
    assert {n.removesuffix("街道") for n in luohu["name"]} == LUOHU_SUBDISTRICTS
    two = read_boundary(path, names=["东门街道", "南湖街道"], where={"district": "罗湖"})
    assert two["name"].tolist() == ["东门街道", "南湖街道"]
    with pytest.raises(InputError, match="no feature with name = '福田街道'"):
        read_boundary(path, names=["福田街道"], where={"district": "罗湖"})


@pytest.mark.shared_data
def test_malformed_geojson_is_read_leniently(shared_data):
    # Each feature's "type" is overwritten by "GeometryCollection": GDAL sees none of them.
    path = shared_data / "shenzhen_subdistrict_boundaries" / "luohu_subdistricts_raw.json"
    areas = read_boundary(path)
    assert len(areas) == 10
    assert areas["name"].iloc[3] == "luohu_subdistricts_raw #4"  # the feature without a name


@pytest.mark.shared_data
def test_datav_gcj02_boundary(shared_data, districts_path):
    datav = shared_data / "shenzhen_district_boundaries" / "440300_full_datav_gcj02.json"
    wgs84 = read_boundary(districts_path, name_field="qh", names=["罗湖"]).geometry.iloc[0]
    converted = read_boundary(datav, names=["罗湖区"], crs="gcj02").geometry.iloc[0]
    as_is = read_boundary(datav, names=["罗湖区"]).geometry.iloc[0]
    assert _iou(converted, wgs84) > 0.995
    assert _iou(as_is, wgs84) < 0.81  # the ~550 m GCJ-02 shift


@pytest.mark.shared_data
def test_projected_boundary_files(tmp_path, districts_path):
    original = read_boundary(districts_path, name_field="qh")
    source = gpd.read_file(districts_path)
    mercator = tmp_path / "districts_3857.gpkg"
    source.to_crs("EPSG:3857").to_file(mercator, layer="districts")
    utm = tmp_path / "districts_utm50.shp"
    source.to_crs("EPSG:32650").to_file(utm, encoding="utf-8")
    for path, layer in ((mercator, "districts"), (utm, None)):
        areas = read_boundary(path, name_field="qh", layer=layer)
        assert areas["name"].tolist() == DISTRICTS
        for got, want in zip(areas.geometry, original.geometry, strict=True):
            assert shapely.hausdorff_distance(got, want) < 1e-7
    with pytest.raises(InputError, match="no layer 'roads'; the file has layers: 'districts'"):
        read_boundary(mercator, layer="roads")
    # A UTM file whose CRS is lost: refuse to guess, name the fix.
    no_prj = tmp_path / "no_prj.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        source.to_crs("EPSG:32650").set_crs(None, allow_override=True).to_file(no_prj, encoding="utf-8")
    with pytest.raises(InputError, match=r"states no coordinate system .* give the boundary's `crs`"):
        read_boundary(no_prj, name_field="qh")
    assert read_boundary(no_prj, name_field="qh", crs="EPSG:32650")["name"].tolist() == DISTRICTS


def test_repair_and_reject(tmp_path):
    square = shapely.box(114.0, 22.5, 114.01, 22.51)
    bowtie = shapely.Polygon([(114.02, 22.5), (114.04, 22.52), (114.04, 22.5), (114.02, 22.52)])
    assert not bowtie.is_valid
    path = _write_geojson(tmp_path / "areas.geojson", [({"name": "A"}, square), ({"name": "B"}, bowtie)])
    areas = read_boundary(path)
    assert areas["name"].tolist() == ["A", "B"]
    assert areas.attrs["repaired_features"] == 1
    repaired = areas.geometry.iloc[1]
    assert repaired.is_valid
    assert repaired.geom_type == "MultiPolygon"
    assert repaired.area == pytest.approx(2 * 0.5 * 0.02 * 0.01)  # two triangles
    line = shapely.LineString([(114.0, 22.5), (114.1, 22.6)])
    bad = _write_geojson(
        tmp_path / "bad.geojson", [({"name": "A"}, square), ({"name": "B"}, square), ({}, line)]
    )
    with pytest.raises(InputError, match="feature 3 is a LineString, not a polygon"):
        read_boundary(bad)


def test_names_dissolve_and_defaults(tmp_path):
    a1, a2 = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    path = _write_geojson(tmp_path / "parts.geojson", [({"d": "A"}, a1), ({"d": "B"}, a2), ({"d": "A"}, a2)])
    areas = read_boundary(path, name_field="d")
    assert areas["name"].tolist() == ["A", "B"]
    assert areas.geometry.iloc[0].area == pytest.approx(2.0)  # both features named A, dissolved
    unnamed = read_boundary(path)  # no name field: named after the file
    assert unnamed["name"].tolist() == ["parts #1", "parts #2", "parts #3"]
    one = _write_geojson(tmp_path / "luohu.geojson", [({}, a1)])
    assert read_boundary(one)["name"].tolist() == ["luohu"]
    assert read_boundary(path, name_field="d", names=["a"])["name"].tolist() == ["A"]  # ignoring case


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputFileError, match="no such boundary file"):
        read_boundary(tmp_path / "nothing.geojson")
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputFileError, match="GDAL does not recognise its contents as a GeoJSON, GeoPackage"):
        read_boundary(garbage)
    empty = _write_geojson(tmp_path / "empty.geojson", [])
    with pytest.raises(EmptyResultError, match="holds no features"):
        read_boundary(empty)


def test_bbox_boundary():
    box = bbox_boundary(114.05, 22.53, 114.07, 22.55)
    assert box["name"].tolist() == ["bbox"]
    assert box.geometry.iloc[0].bounds == (114.05, 22.53, 114.07, 22.55)
    assert box.crs.to_epsg() == 4326
    with pytest.raises(InputError, match="latitude and longitude look swapped"):
        bbox_boundary(22.53, 114.05, 22.55, 114.07)
    with pytest.raises(InputError, match="west must be less than east"):
        bbox_boundary(114.07, 22.53, 114.05, 22.55)
    with pytest.raises(InputError, match="is out of range; give west, south, east, north"):
        bbox_boundary(200, 22.53, 201, 22.55)
    with pytest.raises(InputError, match="not a number"):
        bbox_boundary(float("nan"), 22.53, 114.05, 22.55)


TINY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="circles test">
  <node id="1" version="1" lat="22.50" lon="114.00"/>
  <node id="2" version="1" lat="22.50" lon="114.01"/>
  <node id="3" version="1" lat="22.51" lon="114.01"/>
  <node id="4" version="1" lat="22.51" lon="114.00"/>
  <node id="5" version="1" lat="22.49" lon="113.99"/>
  <node id="6" version="1" lat="22.49" lon="114.02"/>
  <node id="7" version="1" lat="22.52" lon="114.02"/>
  <node id="8" version="1" lat="22.52" lon="113.99"/>
  <way id="100" version="1">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  </way>
  <way id="101" version="1">
    <nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  </way>
  <way id="102" version="1">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
    <tag k="boundary" v="administrative"/><tag k="name" v="Way Town"/>
  </way>
  <relation id="10" version="1">
    <member type="way" ref="100" role="outer"/>
    <tag k="type" v="boundary"/><tag k="boundary" v="administrative"/><tag k="admin_level" v="8"/>
    <tag k="name" v="测试镇"/><tag k="name:en" v="Test Town"/>
  </relation>
  <relation id="11" version="1">
    <member type="way" ref="101" role="outer"/>
    <tag k="type" v="boundary"/><tag k="boundary" v="administrative"/><tag k="admin_level" v="6"/>
    <tag k="name" v="Test Town"/>
  </relation>
  <relation id="12" version="1">
    <member type="way" ref="999" role="outer"/>
    <tag k="type" v="boundary"/><tag k="boundary" v="administrative"/><tag k="admin_level" v="9"/>
    <tag k="name" v="Cut Off"/>
  </relation>
</osm>
"""


def test_admin_boundary_from_tiny_osm(tmp_path):
    path = tmp_path / "admin.osm"
    path.write_text(TINY_OSM, encoding="utf-8")
    town = admin_boundary_from_osm(path, "test town", admin_level=8)  # name:en, any case
    assert town[["name", "admin_level", "osm_id"]].to_dict("records") == [
        {"name": "test town", "admin_level": "8", "osm_id": "relation/10"}
    ]
    assert town.geometry.iloc[0].normalize().equals(shapely.box(114.0, 22.5, 114.01, 22.51).normalize())
    assert admin_boundary_from_osm(path, "测试镇")["osm_id"].tolist() == ["relation/10"]
    county = admin_boundary_from_osm(path, "Test Town", admin_level="6")
    assert county.geometry.iloc[0].bounds == (113.99, 22.49, 114.02, 22.52)
    with pytest.raises(
        InputError, match=r"several boundaries are named 'Test Town': relation/1\d \(level \d\)"
    ):
        admin_boundary_from_osm(path, "Test Town")
    with pytest.raises(InputError, match="relation Cut Off \\(level 9\\) is incomplete in this extract"):
        admin_boundary_from_osm(path, "Cut Off")
    with pytest.raises(InputError, match="no administrative boundary named 'Way Town'; the file has: "):
        admin_boundary_from_osm(path, "Way Town")  # a closed way, not a relation
    with pytest.raises(InputFileError, match="no such OSM file"):
        admin_boundary_from_osm(tmp_path / "none.osm.pbf", "Test Town")


@pytest.mark.shared_data
def test_admin_boundary_from_real_pbf(shared_data):
    pbf = shared_data / "benchmark_yuba_county_pbf" / "yuba_county_ca.osm.pbf"
    marysville = admin_boundary_from_osm(pbf, "Marysville")
    assert marysville["osm_id"].tolist() == ["relation/6428269"]
    assert marysville["admin_level"].tolist() == ["8"]
    area_km2 = marysville.to_crs("EPSG:32610").area.iloc[0] / 1e6
    assert area_km2 == pytest.approx(9.28, abs=0.01)  # the city of Marysville, CA: 9.3 km2


def test_buffer_area():
    utm = pyproj.CRS.from_epsg(32650)
    square_utm = shapely.box(500_000, 2_490_000, 501_000, 2_491_000)
    to_wgs = pyproj.Transformer.from_crs(utm, "EPSG:4326", always_xy=True)
    square = shapely.transform(square_utm.segmentize(10), lambda xy: np.column_stack(to_wgs.transform(*xy.T)))
    grown = buffer_area(gpd.GeoDataFrame(geometry=[square], crs="EPSG:4326"), 100)
    back = gpd.GeoSeries([grown], crs="EPSG:4326").to_crs(utm).iloc[0]
    # 1 km square + four 100 m strips + four quarter-circles drawn with 8 segments each.
    corners_m2 = 16 * 100**2 * np.sin(np.pi / 16)
    assert back.area == pytest.approx(1e6 + 4 * 100 * 1000 + corners_m2, rel=1e-5)
    assert buffer_area(square, 0).area == pytest.approx(square.area, rel=1e-9)
    with pytest.raises(InputError, match="non-negative number of metres"):
        buffer_area(square, -5)


def test_buffer_area_for_any_extent():
    from circles.sources.extent import METRES_PER_DEG_LAT_MIN

    # The whole world grown is the whole world (clipped to valid longitude/latitude).
    world = buffer_area(bbox_boundary(-180, -90, 180, 90), 1125)
    assert world.equals(shapely.box(-180, -90, 180, 90))
    # Wider than a UTM zone: buffered in degrees, by at least the distance everywhere.
    wide = buffer_area(bbox_boundary(0, 0, 179, 60), 1125)
    assert wide.contains(shapely.Point(118.79, 32.04))  # Nanjing lies inside
    west, south, east, north = wide.bounds
    # The radius is the degree width of 1,125 m at the highest latitude reached (60 deg + the margin).
    radius = 1125 / (111_320 * np.cos(np.radians(60 + 1125 / METRES_PER_DEG_LAT_MIN)))
    assert (west, south, east, north) == pytest.approx(
        (-radius, -radius, 179 + radius, 60 + radius), rel=1e-9
    )
    geod = pyproj.Geod(ellps="WGS84")
    for lon, lat, azimuth in ((179.0, 60.0, 45.0), (0.0, 0.0, 225.0), (90.0, 60.0, 0.0), (90.0, 0.0, 180.0)):
        x, y, _ = geod.fwd(lon, lat, azimuth, 1124)
        assert wide.contains(shapely.Point(x, y)), (lon, lat, azimuth)
    # Two districts in different UTM zones: each part in its own zone, exactly as alone.
    helsinki, nanjing = shapely.box(24.93, 60.16, 24.95, 60.17), shapely.box(118.78, 32.03, 118.80, 32.05)
    both = buffer_area(gpd.GeoSeries([helsinki, nanjing], crs=4326), 100)
    for part in (helsinki, nanjing):
        alone = buffer_area(part, 100)
        assert both.intersection(alone.envelope).symmetric_difference(alone).area < 1e-12
    with pytest.raises(InputError, match="non-negative number of metres, got nan"):
        buffer_area(helsinki, float("nan"))


def test_near_global_bbox_finds_the_network_through_the_cli(helsinki_pbf, tmp_path):
    import json
    import subprocess
    import sys

    runs = {}
    for label, extra in (("extract", []), ("world", ["--bbox=-180,-90,180,90"])):
        out = tmp_path / label
        args = [sys.executable, "-m", "circles", "run", "--pbf", str(helsinki_pbf), *extra, "--out", str(out)]
        proc = subprocess.run([*args, "-q"], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        runs[label] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in ("homes", "population", "covered_population", "facilities"):
        assert runs["world"][key] == runs["extract"][key], key
