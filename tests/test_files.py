"""Planners' facility and home files: formats, encodings, CRSs, filters and every error case."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circles.errors import CirclesError, EmptyResultError, InputError, InputFileError
from circles.sources.coords import bd09_to_wgs84, gcj02_to_wgs84
from circles.sources.files import read_homes, read_points

DATA = Path(__file__).parent / "data"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------------------------------------
# Formats and encodings


def test_gbk_csv_with_chinese_headers():
    path = DATA / "clinics_gbk.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the fixture really is GBK, not UTF-8
    gdf = read_points(path)
    assert gdf.crs.to_epsg() == 4326
    assert gdf["name"].tolist() == ["莲花社区健康服务中心", "福田口腔诊所", "景田社区健康服务站"]
    assert gdf["kind"].tolist() == ["社区健康服务中心", "诊所", "社区健康服务站"]
    assert gdf["source_row"].tolist() == [1, 2, 3]
    assert gdf.geometry.x.tolist() == [114.05, 114.06, 114.04]
    assert gdf.geometry.y.tolist() == [22.55, 22.54, 22.56]
    # The file's own columns are kept; 全科医生数 is recognised as capacity, blank -> NaN.
    assert {"名称", "经度", "纬度", "类型", "全科医生数"} <= set(gdf.columns)
    np.testing.assert_array_equal(gdf["capacity"].to_numpy(), [6.0, np.nan, 3.0])
    # An explicit encoding gives the same; a wrong one is an error naming the encoding.
    assert read_points(path, encoding="gbk")["name"].tolist() == gdf["name"].tolist()
    with pytest.raises(InputFileError, match="cannot be decoded as utf-8"):
        read_points(path, encoding="utf-8")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        read_points(path, encoding="klingon")


def test_utf8_bom_csv_and_name_filters(tmp_path):
    path = write(
        tmp_path / "pois.csv",
        "\ufeffName,Type,LNG,LAT\n"
        "莲花社区健康服务中心,医疗保健服务;综合医院;卫生院,114.05,22.55\n"
        "宠物医院,医疗保健服务;动物医疗场所;宠物诊所,114.06,22.54\n"
        "Lotus Community Health Station,Clinic,114.04,22.56\n"
        "福田医院,医疗保健服务;综合医院;综合医院,114.03,22.53\n",
    )
    assert read_points(path)["name"].tolist()[0] == "莲花社区健康服务中心"
    kept = read_points(path, name_contains=["社区健康服务", "community health"])
    assert kept["name"].tolist() == ["莲花社区健康服务中心", "Lotus Community Health Station"]
    assert kept["source_row"].tolist() == [1, 3]
    kept = read_points(path, kind_excludes="动物医疗")
    assert kept["source_row"].tolist() == [1, 3, 4]
    kept = read_points(path, kind_contains="医疗保健服务", name_excludes="福田")
    assert kept["source_row"].tolist() == [1, 2]
    # Plain substrings, not regular expressions: "." matches only a literal dot.
    with pytest.raises(EmptyResultError, match=r"no row's name \(column 'Name'\) contains '\.'"):
        read_points(path, name_contains=".")
    with pytest.raises(EmptyResultError, match="of 4 rows"):
        read_points(path, name_contains="社区卫生服务中心")


def test_filter_needs_a_column(tmp_path):
    path = write(tmp_path / "p.csv", "lon,lat\n114.0,22.5\n")
    with pytest.raises(
        InputError, match="no name column found; the columns are 'lon', 'lat'; name it with `name_column`"
    ):
        read_points(path, name_contains="x")
    with pytest.raises(InputError, match="no kind column found"):
        read_points(path, kind_excludes="x")


def test_geojson_in_web_mercator():
    gdf = read_points(DATA / "clinics_3857.geojson")
    assert gdf["name"].tolist() == ["A", "B"]
    assert gdf["source_row"].tolist() == [1, 2]
    np.testing.assert_allclose(gdf.geometry.x, [114.0, 114.1], atol=1e-8)
    np.testing.assert_allclose(gdf.geometry.y, [22.5, 22.6], atol=1e-8)


def test_geojson_declared_wgs84_but_really_gcj02(tmp_path):
    gcj = [(114.0579, 22.5431), (113.9171764808363, 22.540796131694766)]
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"名称": f"p{i}"},
                "geometry": {"type": "Point", "coordinates": c},
            }
            for i, c in enumerate(gcj)
        ],
    }
    path = write(tmp_path / "amap.geojson", json.dumps(fc, ensure_ascii=False))
    plain = read_points(path)
    np.testing.assert_allclose(plain.geometry.x, [c[0] for c in gcj])
    converted = read_points(path, crs="amap")
    lon, lat = gcj02_to_wgs84([c[0] for c in gcj], [c[1] for c in gcj])
    np.testing.assert_allclose(converted.geometry.x, lon, atol=1e-12)
    np.testing.assert_allclose(converted.geometry.y, lat, atol=1e-12)
    # eviltransform's Shenzhen reference point (python/test.py) comes back to WGS-84.
    assert converted.geometry.x[1] == pytest.approx(113.912316, abs=1e-8)
    assert converted.geometry.y[1] == pytest.approx(22.543847, abs=1e-8)
    assert converted["name"].tolist() == ["p0", "p1"]


def test_gpkg_polygons_projected_and_layers(tmp_path):
    utm = gpd.GeoDataFrame(
        {"名称": ["站A", "站B"], "gps": [4, 7]},
        geometry=[shapely.box(500000, 2500000, 500100, 2500100), shapely.Point(500000, 0)],
        crs="EPSG:32650",
    )
    path = tmp_path / "sites.gpkg"
    utm.to_file(path, layer="sites")
    gdf = read_points(path)
    assert gdf["name"].tolist() == ["站A", "站B"]
    assert gdf["capacity"].tolist() == [4.0, 7.0]
    assert gdf.geom_type.tolist() == ["Point", "Point"]
    inside = gpd.GeoSeries([utm.geometry[0]], crs=32650).to_crs(4326)[0]
    assert inside.contains(gdf.geometry[0])
    assert gdf.geometry.x[1] == pytest.approx(117.0, abs=1e-9)
    assert gdf.geometry.y[1] == pytest.approx(0.0, abs=1e-9)
    # A second layer: the reader asks which one.
    utm.iloc[:1].to_file(path, layer="other")
    with pytest.raises(InputError, match=r"holds 2 layers \('sites', 'other'\); choose one with `layer`"):
        read_points(path)
    assert len(read_points(path, layer="other")) == 1
    with pytest.raises(InputError, match="no layer 'nope'"):
        read_points(path, layer="nope")


def test_shapefile(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(121.47, 31.23)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "c.shp")
    out = read_points(tmp_path / "c.shp")
    assert out["name"].tolist() == ["a"]
    assert (out.geometry.x[0], out.geometry.y[0]) == (121.47, 31.23)


def test_xlsx_written_with_pandas(tmp_path):
    path = tmp_path / "clinics.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame(
            {"机构名称": ["甲", "乙"], "Longitude": [114.05, 114.06], "Latitude": [22.55, 22.54]}
        ).to_excel(writer, sheet_name="clinics", index=False)
        pd.DataFrame({"x": [1.0], "y": [2.0]}).to_excel(writer, sheet_name="other", index=False)
    gdf = read_points(path)
    assert gdf["name"].tolist() == ["甲", "乙"]
    assert gdf.geometry.x.tolist() == [114.05, 114.06]
    other = read_points(path, layer="other")
    assert (other.geometry.x[0], other.geometry.y[0]) == (1.0, 2.0)
    with pytest.raises(InputError, match="no sheet 'missing'"):
        read_points(path, layer="missing")


def test_gcj02_and_bd09_tables(tmp_path):
    path = write(tmp_path / "p.csv", "name,lng,lat\nstation,116.42703,39.90245\n")
    gdf = read_points(path, crs="gcj02")
    lon, lat = gcj02_to_wgs84(116.42703, 39.90245)
    assert (gdf.geometry.x[0], gdf.geometry.y[0]) == (float(lon), float(lat))
    path = write(tmp_path / "b.csv", "name,lng,lat\nstation,116.43351,39.90851\n")
    gdf = read_points(path, crs="BD-09")
    lon, lat = bd09_to_wgs84(116.43351, 39.90851)
    assert (gdf.geometry.x[0], gdf.geometry.y[0]) == (float(lon), float(lat))
    # Beijing railway station, geoChina's WGS-84 reading (see test_coords).
    assert gdf.geometry.x[0] == pytest.approx(116.42079, abs=1.5e-5)


def test_amap_location_column_and_projected_xy(tmp_path):
    path = write(tmp_path / "amap.csv", 'name,location\nA,"114.05,22.55"\nB,"114.06, 22.54"\n')
    gdf = read_points(path)
    assert gdf.geometry.x.tolist() == [114.05, 114.06]
    assert gdf.geometry.y.tolist() == [22.55, 22.54]
    path = write(tmp_path / "utm.tsv", "X\tY\n500000\t0\n")
    gdf = read_points(path, crs="EPSG:32650")
    assert gdf.geometry.x[0] == pytest.approx(117.0, abs=1e-9)
    # Semicolon-separated, named columns in any case.
    path = write(tmp_path / "semi.csv", "a;b;c\nq;22.5;114.0\n")
    gdf = read_points(path, lon_column="C", lat_column="b")
    assert (gdf.geometry.x[0], gdf.geometry.y[0]) == (114.0, 22.5)


def test_csv_geometry_column_kept_under_another_name(tmp_path):
    path = write(tmp_path / "g.csv", "geometry,lon,lat\nPOINT (1 2),114.0,22.5\n")
    gdf = read_points(path)
    assert gdf["geometry_original"].tolist() == ["POINT (1 2)"]
    assert gdf.geometry.x[0] == 114.0


# ---------------------------------------------------------------------------------------------
# Errors


def test_missing_empty_and_unknown_files(tmp_path):
    with pytest.raises(InputFileError, match="no such file; check the path"):
        read_points(tmp_path / "nope.csv")
    with pytest.raises(InputFileError, match="the file is empty"):
        read_points(write(tmp_path / "empty.csv", ""))
    with pytest.raises(EmptyResultError, match="holds no rows"):
        read_points(write(tmp_path / "blank.csv", "\n\n  \n"))
    with pytest.raises(EmptyResultError, match="header but no rows"):
        read_points(write(tmp_path / "header.csv", "name,lon,lat\n"))
    with pytest.raises(InputFileError, match=r"unknown file type '\.docx'; use CSV/TSV, XLSX"):
        read_points(write(tmp_path / "a.docx", "x"))
    with pytest.raises(InputFileError, match=r"save it as \.xlsx or \.csv"):
        read_points(write(tmp_path / "a.xls", "x"))
    with pytest.raises(InputFileError, match="is a folder"):
        read_points(tmp_path)
    with pytest.raises(InputFileError, match="cannot be read as GEOJSON"):
        read_points(write(tmp_path / "bad.geojson", "{not json"))
    with pytest.raises(InputFileError, match=r"not a valid \.xlsx workbook"):
        read_points(write(tmp_path / "bad.xlsx", "plain text"))
    with pytest.raises(EmptyResultError, match="holds no features"):
        read_points(write(tmp_path / "none.geojson", '{"type": "FeatureCollection", "features": []}'))


def test_undecodable_text(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"lon,lat\n\xff\xfe\xff,1\n")
    with pytest.raises(InputFileError, match="neither UTF-8 nor GB18030/GBK"):
        read_points(path)


def test_no_coordinate_columns_lists_columns_and_flags(tmp_path):
    path = write(tmp_path / "p.csv", "name,east,north\na,1,2\n")
    with pytest.raises(InputError) as info:
        read_points(path)
    message = str(info.value)
    assert message == (
        f"{path}: no longitude/latitude columns found; the columns are 'name', 'east', 'north'; "
        "name them with `lon_column` and `lat_column`"
    )
    with pytest.raises(InputError, match="no column 'lon_wgs' \\(`lon_column`\\); the columns are 'name'"):
        read_points(path, lon_column="lon_wgs", lat_column="north")


def test_bad_rows_collected_into_one_message(tmp_path):
    lines = ["name,lon,lat"]
    for i in range(1, 21):
        if i in (3, 7, 9, 12, 15):
            lines.append(f"r{i},,22.5")  # missing
        elif i == 5:
            lines.append("r5,abc,22.5")  # non-numeric
        elif i == 8:
            lines.append("r8,114.0,95.0")  # out of range, not a swap (|lon| > 90)
        elif i == 10:
            lines.append("r10,22.5,114.0")  # per-row swap: |lat| > 90, |lon| <= 90
        else:
            lines.append(f"r{i},114.0,22.5")
    path = write(tmp_path / "p.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        read_points(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: data rows 3, 5, 7 and 3 more: missing or non-numeric coordinate")
    assert (
        "data row 10: latitude beyond ±90 with longitude within ±90: looks like longitude and latitude"
        in (message)
    )
    assert "are swapped; name the columns with `lon_column` and `lat_column`" in message
    assert "data row 8: longitude/latitude out of range" in message
    # A name filter that keeps only good rows avoids the error.
    assert len(read_points(path, name_excludes=["r3", "r5", "r7", "r8", "r9", "r10", "r12", "r15"])) == 12


def test_whole_file_swapped_in_china(tmp_path):
    path = write(tmp_path / "p.csv", "name,lat,lon\na,114.05,22.55\nb,121.47,31.23\n")
    with pytest.raises(
        InputError, match="looks like longitude and latitude are swapped; name the columns with `lon_column`"
    ):
        read_points(path)
    gdf = read_points(path, lon_column="lat", lat_column="lon")
    assert gdf.geometry.x.tolist() == [114.05, 121.47]


def test_projected_numbers_declared_as_degrees(tmp_path):
    path = write(tmp_path / "p.csv", "x,y\n500000,2500000\n")
    with pytest.raises(InputError, match=r"out of range .* state the `crs` \(e.g. EPSG:32650\)"):
        read_points(path)


def _points_geojson(path, coordinates):
    features = [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": c}}
        for c in coordinates
    ]
    return write(path, json.dumps({"type": "FeatureCollection", "features": features}))


def test_swapped_geojson(tmp_path):
    path = _points_geojson(tmp_path / "s.geojson", [[22.5, 114.0], [31.2, 121.5]])
    with pytest.raises(
        InputError, match=r"lie in 73\.\.135 .* swapped; export the geometry again with coordinates"
    ):
        read_points(path)
    path = _points_geojson(tmp_path / "t.geojson", [[114.0, 22.5], [31.2, 121.5]])
    with pytest.raises(
        InputError, match=r"feature 2: latitude beyond ±90 .* swapped; export the geometry again"
    ):
        read_points(path)


def test_capacity_and_unknown_crs_errors(tmp_path):
    path = write(tmp_path / "p.csv", "name,lon,lat,gps\na,114,22.5,two\nb,114,22.5,-1\n")
    with pytest.raises(InputError, match="data row 1: capacity in column 'gps' is not a number"):
        read_points(path)
    with pytest.raises(InputError, match="data row 2: capacity in column 'gps' is negative"):
        read_points(path)
    with pytest.raises(InputError, match=r"p.csv: unknown coordinate system 'mars2'"):
        read_points(path, crs="mars2")


def test_geometry_without_features(tmp_path):
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": "a"}, "geometry": None},
            {
                "type": "Feature",
                "properties": {"name": "b"},
                "geometry": {"type": "Point", "coordinates": [1, 2]},
            },
        ],
    }
    path = write(tmp_path / "n.geojson", json.dumps(fc))
    with pytest.raises(InputError, match="feature 1: no geometry; fix or delete those features"):
        read_points(path)
    assert read_points(path, name_contains="b")["source_row"].tolist() == [2]


# ---------------------------------------------------------------------------------------------
# Homes


def test_read_homes_polygons_with_population(tmp_path):
    homes = gpd.GeoDataFrame(
        {"人口": [120, 80]},
        geometry=[
            shapely.box(114.0, 22.5, 114.001, 22.501),
            shapely.Polygon(
                [(114.01, 22.5), (114.011, 22.501), (114.011, 22.5), (114.01, 22.501)]
            ),  # bow-tie
        ],
        crs="EPSG:4326",
    )
    path = tmp_path / "homes.gpkg"
    homes.to_file(path)
    gdf = read_homes(path)
    assert gdf["population"].tolist() == [120.0, 80.0]
    assert gdf.geom_type.tolist()[0] == "Polygon"
    assert gdf.is_valid.all()
    assert gdf.geometry[0].equals(homes.geometry[0])


def test_read_homes_table_and_errors(tmp_path):
    path = write(tmp_path / "h.csv", "lon,lat,居民人数\n114.0,22.5,30\n114.1,22.6,\n114.2,22.7,many\n")
    with pytest.raises(
        InputError, match="data rows 2 and 3: population in column '居民人数' is not a number"
    ):
        read_homes(path)
    path = write(tmp_path / "h2.csv", "lon,lat,residents\n114.0,22.5,30\n")
    gdf = read_homes(path, population_column="RESIDENTS")
    assert gdf["population"].tolist() == [30.0]
    path = write(tmp_path / "h3.csv", "lon,lat\n114.0,22.5\n")
    assert "population" not in read_homes(path).columns
    with pytest.raises(InputError, match="no column 'pop2'"):
        read_homes(path, population_column="pop2")


def test_read_homes_rejects_lines(tmp_path):
    gdf = gpd.GeoDataFrame(geometry=[shapely.LineString([(114, 22.5), (114.1, 22.5)])], crs="EPSG:4326")
    gdf.to_file(tmp_path / "l.geojson")
    with pytest.raises(InputError, match="feature 1: homes must be points or polygons"):
        read_homes(tmp_path / "l.geojson")


# ---------------------------------------------------------------------------------------------
# Real data


@pytest.mark.shared_data
def test_shanghai_amap_pois(shared_data):
    path = shared_data / "shanghai_health_pois_amap" / "shanghai_hospital.csv"
    everything = read_points(path)
    assert len(everything) == 7513
    assert everything["source_row"].tolist() == list(range(1, 7514))
    # Already WGS-84 (see PROVENANCE.md): coordinates come through untouched.
    raw = pd.read_csv(path)
    np.testing.assert_array_equal(everything.geometry.x, raw["lon"])
    np.testing.assert_array_equal(everything.geometry.y, raw["lat"])

    centres = read_points(path, name_contains="社区卫生服务中心")
    assert len(centres) == 600
    stations = read_points(path, name_contains="社区卫生服务站")
    assert len(stations) == 482
    # 69 names contain both (a station run by a centre), so either gives 1,013.
    assert len(read_points(path, name_contains=["社区卫生服务中心", "社区卫生服务站"])) == 1013

    # 381 rows have second-level type 动物医疗场所; one more (上海市动物疫病预防控制中心) lists it as a
    # second type, so a substring filter on 动物医疗 drops 382.
    second_level = raw["type"].str.split(";").str[1]
    assert int((second_level == "动物医疗场所").sum()) == 381
    no_vets = read_points(path, kind_excludes="动物医疗")
    assert len(no_vets) == 7513 - 382
    assert not no_vets["kind"].str.contains("动物医疗").any()
    assert "上海市动物疫病预防控制中心" not in set(no_vets["name"])

    # The shorter substring also catches 23 names like ...社区卫生服务分中心 / 社区卫生服务指导中心.
    primary = read_points(path, name_contains="社区卫生服务", kind_excludes="动物医疗")
    assert len(primary) == 1036
    assert primary.total_bounds.round(3).tolist() == pytest.approx([120.908, 30.713, 121.92, 31.832], abs=0.2)


# ---------------------------------------------------------------------------------------------
# Fuzz: anything a planner might drop in gives a GeoDataFrame or a CirclesError


_cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-400, 400).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    st.sampled_from(["", "NA", "null", '"', '""', "114.05,22.55", "−22.5", "1e400", ";", "\t"]),
)
_header = st.lists(
    st.sampled_from(
        ["lon", "lat", "LNG", "纬度", "经度", "name", "type", "location", "x", "y", "gps", "", "lon"]
    ),
    min_size=0,
    max_size=5,
)


@st.composite
def csv_texts(draw):
    header = draw(_header)
    sep = draw(st.sampled_from([",", "\t", ";"]))
    rows = draw(st.lists(st.lists(_cell, min_size=0, max_size=6), max_size=6))
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines)


@st.composite
def plausible_csv_texts(draw):
    """Mostly-valid tables: coordinate columns in any order, occasional junk cells."""
    lon_name = draw(st.sampled_from(["lon", "LNG", "经度", "Longitude", "x"]))
    lat_name = draw(st.sampled_from(["lat", "LAT", "纬度", "Latitude", "y"]))
    extra = draw(st.lists(st.sampled_from(["name", "type", "gps", "名称", "note", "geometry"]), max_size=3))
    header = draw(st.permutations([lon_name, lat_name, *extra]))
    junk = st.integers(0, 19).map(lambda k: k == 0)  # one cell in 20 is junk

    def maybe_junk(valid):
        return junk.flatmap(lambda is_junk: _cell if is_junk else valid)

    coordinate = {
        lon_name: maybe_junk(st.floats(-180, 180).map(repr)),
        lat_name: maybe_junk(st.floats(-90, 90).map(repr)),
    }
    rows = draw(
        st.lists(
            st.fixed_dictionaries(
                {c: coordinate.get(c, st.text(alphabet='ab社区,;"\t ', max_size=6)) for c in header}
            ),
            min_size=1,
            max_size=8,
        )
    )
    quote = draw(st.booleans())

    def cell(value):
        return '"' + value.replace('"', '""') + '"' if quote else value

    lines = [",".join(header)] + [",".join(cell(r[c]) for c in header) for r in rows]
    return "\n".join(lines)


_geojson_texts = st.one_of(
    st.text(max_size=60),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=5)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
        ),
        max_leaves=20,
    ).map(json.dumps),
    st.builds(
        lambda coords, props: json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": c}}
                    for c in coords
                ],
            }
        ),
        st.lists(
            st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=3), max_size=4
        ),
        st.dictionaries(st.sampled_from(["name", "lon", "type"]), st.text(max_size=5), max_size=3),
    ),
)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # GDAL's notes on malformed GeoJSON coordinates
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.one_of(csv_texts(), plausible_csv_texts(), _geojson_texts),
    suffix=st.sampled_from([".csv", ".geojson", ".tsv"]),
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]),
    name_contains=st.one_of(st.none(), st.just("a")),
)
def test_fuzz_read_points_never_crashes(tmp_path, text, suffix, encoding, name_contains):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        result = read_points(path, name_contains=name_contains)
    except CirclesError as exc:
        assert "\n" not in str(exc)  # one-line messages
        assert str(exc).startswith(f"{path}: ")
        return
    assert isinstance(result, gpd.GeoDataFrame)
    assert result.crs.to_epsg() == 4326
    assert len(result) > 0
    assert np.all(np.abs(result.geometry.x) <= 180)
    assert np.all(np.abs(result.geometry.y) <= 90)
