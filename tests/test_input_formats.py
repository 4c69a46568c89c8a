"""Facility files planners really have (issue 11, item 9; item 27 on header rows).

Place-search JSON exports of Tencent/Amap/Baidu (several pages per file), workbooks whose
data sit on a second sheet or below a title, UTF-16 text exports, and the suffix registry
that routes a ``facilities`` value to a file or to OSM tags.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from circles.errors import EmptyResultError, InputError, InputFileError
from circles.sources.assemble import facility_source
from circles.sources.coords import bd09_to_wgs84, gcj02_to_wgs84
from circles.sources.files import read_points
from circles.sources.formats import looks_like_file, suffix_of

# ---------------------------------------------------------------------------------------------
# Place-search exports


def _pages(path: Path) -> list[dict]:
    """The JSON objects of a file, one after another (as PROVENANCE.md says to parse them)."""
    text, decoder, i, pages = path.read_text(encoding="utf-8"), json.JSONDecoder(), 0, []
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        page, i = decoder.raw_decode(text, i)
        pages.append(page)
    return pages


AED_COUNTS = {
    "440303": 25,
    "440304": 53,
    "440305": 108,
    "440306": 42,
    "440307": 42,
    "440308": 16,
    "440309": 8,
    "440310": 4,
    "440311": 3,
}


@pytest.mark.shared_data
def test_tencent_aed_pages_all_301_points_converted_from_gcj02(shared_data):
    folder = shared_data / "shenzhen_aed_pois_gcj02"
    ids, total = set(), 0
    for code, count in AED_COUNTS.items():
        path = folder / f"data{code}.json"
        records = [r for page in _pages(path) for r in page["data"]]
        gdf = read_points(path, crs="gcj02")
        assert len(gdf) == count == len(records)
        assert gdf["source_row"].tolist() == list(range(1, count + 1))
        assert gdf["name"].tolist() == [r["title"] for r in records]
        assert gdf["kind"].tolist() == [r["category"] for r in records]
        assert set(gdf["ad_info.adcode"]) == {int(code)}
        lon, lat = gcj02_to_wgs84(
            [r["location"]["lng"] for r in records], [r["location"]["lat"] for r in records]
        )
        np.testing.assert_array_equal(gdf.geometry.x, lon)
        np.testing.assert_array_equal(gdf.geometry.y, lat)
        ids |= set(gdf["id"].astype(str))
        total += len(gdf)
    assert total == 301 and len(ids) == 301
    # In Shenzhen GCJ-02 lies about 500 m off WGS-84: read without crs the points stay where they are.
    raw = read_points(folder / "data440303.json")
    wgs = read_points(folder / "data440303.json", crs="gcj02")
    shift_deg = np.hypot(raw.geometry.x - wgs.geometry.x, raw.geometry.y - wgs.geometry.y)
    assert (shift_deg > 0.004).all() and (shift_deg < 0.007).all()


def test_amap_pois_and_baidu_results(tmp_path):
    kind = "医疗保健服务;诊所"
    first = {"id": "B0FFA", "name": "莲花社区健康服务中心", "type": kind, "location": "114.05,22.55"}
    first |= {"photos": [{"url": "x"}], "biz_ext": {"rating": "4.5"}}
    second = {"id": "B0FFB", "name": "景田社区健康服务站", "type": kind, "location": "114.04,22.56"}
    amap_pages = [{"status": "1", "count": "2", "info": "OK", "pois": [r]} for r in (first, second)]
    amap = tmp_path / "amap.json"
    amap.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in amap_pages), encoding="utf-8")
    gdf = read_points(amap, crs="gcj02")
    assert gdf["name"].tolist() == ["莲花社区健康服务中心", "景田社区健康服务站"]
    assert gdf["kind"].tolist() == ["医疗保健服务;诊所"] * 2
    lon, lat = gcj02_to_wgs84([114.05, 114.04], [22.55, 22.56])
    np.testing.assert_array_equal(gdf.geometry.x, lon)
    np.testing.assert_array_equal(gdf.geometry.y, lat)
    assert gdf.loc[0, "photos"] == '[{"url": "x"}]'  # nested lists kept as JSON text

    baidu = tmp_path / "baidu.json"
    page = {"status": 0, "results": [{"name": "北京站", "location": {"lat": 39.90851, "lng": 116.43351}}]}
    baidu.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    gdf = read_points(baidu, crs="bd09")
    lon, lat = bd09_to_wgs84(116.43351, 39.90851)
    assert (gdf.geometry.x[0], gdf.geometry.y[0]) == (float(lon), float(lat))

    bare = tmp_path / "records.json"
    bare.write_text(json.dumps([{"title": "a", "lng": 114.0, "lat": 22.5}]), encoding="utf-8")
    assert read_points(bare)["name"].tolist() == ["a"]

    empty = tmp_path / "empty_pages.json"
    empty.write_text('{"status": 0, "data": []}{"status": 0, "data": []}', encoding="utf-8")
    with pytest.raises(
        EmptyResultError, match=r"empty_pages.json: the 2 place-search page\(s\) hold no records"
    ):
        read_points(empty)


# ---------------------------------------------------------------------------------------------
# Workbooks


def test_xlsx_data_on_second_sheet(tmp_path):
    path = tmp_path / "clinics.xlsx"
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "说明"
    notes.append(["本表为社区卫生服务中心名录, 坐标为高德坐标"])
    data = workbook.create_sheet("数据")
    data.append(["名称", "经度", "纬度"])
    data.append(["甲", 114.05, 22.55])
    data.append(["乙", 114.06, 22.54])
    workbook.save(path)
    with pytest.raises(InputError) as info:
        read_points(path)
    assert str(info.value) == (
        f"{path}: the first sheet '说明' has no longitude/latitude columns; the sheets are '说明', '数据', "
        "and '数据' has them; choose the sheet with `layer` (here '数据')"
    )
    assert info.value.parameter == "layer"
    gdf = read_points(path, layer="数据")
    assert gdf["name"].tolist() == ["甲", "乙"]
    assert read_points(path, layer=1)["name"].tolist() == ["甲", "乙"]
    with pytest.raises(InputError, match=r"no sheet 'data'; the sheets are '说明', '数据'; choose one"):
        read_points(path, layer="data")


def test_header_below_a_title_row(tmp_path):
    path = tmp_path / "titled.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["深圳市社区健康服务中心名录 (2024)"])
    sheet.append([])
    sheet.append(["名称", "经度", "纬度", "全科医生数"])
    sheet.append(["甲", 114.05, 22.55, 6])
    sheet.append(["乙", 114.06, 22.54, 3])
    workbook.save(path)
    gdf = read_points(path)
    assert gdf["name"].tolist() == ["甲", "乙"]
    assert gdf["capacity"].tolist() == [6.0, 3.0]
    assert gdf["source_row"].tolist() == [1, 2]
    assert gdf.geometry.x.tolist() == [114.05, 114.06]
    # Named columns find the header the same way.
    assert len(read_points(path, lon_column="经度", lat_column="纬度")) == 2
    # A text table with a title line above its header.
    csv = tmp_path / "titled.csv"
    csv.write_text("社区健康服务中心名录\n\nname,lon,lat\nA,114.05,22.55\n", encoding="utf-8")
    assert read_points(csv)["name"].tolist() == ["A"]


# ---------------------------------------------------------------------------------------------
# UTF-16 text exports


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-16", b""), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-16-le", b"")],
    ids=["utf-16 (BOM)", "LE with BOM", "BE with BOM", "LE without BOM"],
)
def test_utf16_text_exports(tmp_path, encoding, bom):
    text = "名称\t经度\t纬度\n莲花社区健康服务中心\t114.05\t22.55\n景田站\t114.04\t22.56\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(bom + text.encode(encoding))
    gdf = read_points(path)
    assert gdf["name"].tolist() == ["莲花社区健康服务中心", "景田站"]
    assert gdf.geometry.x.tolist() == [114.05, 114.04]
    assert gdf.geometry.y.tolist() == [22.55, 22.56]


def test_utf16_named_and_broken(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes("name,lon,lat\nA,114.05,22.55\n".encode("utf-16-le"))
    assert read_points(path, encoding="utf-16-le")["name"].tolist() == ["A"]
    broken = tmp_path / "odd.csv"
    broken.write_bytes(b"\xff\xfe" + "name,lon,lat\n".encode("utf-16-le") + b"\x00\xd8")  # lone surrogate
    with pytest.raises(InputFileError, match=r"odd.csv: the text is not valid UTF-16 .*; save it as UTF-8"):
        read_points(broken)


# ---------------------------------------------------------------------------------------------
# One suffix registry


def test_suffix_registry_routes_files_and_tags(tmp_path):
    assert suffix_of("a/b/city.OSM.PBF") == ".osm.pbf"
    assert suffix_of("clinics.tsv") == ".tsv"
    for spec in ("missing.tsv", "x.xlsx", "dir/list", "old.xls", "extract.osm.pbf"):
        assert looks_like_file(spec), spec
    for spec in ("primary-care", "amenity=clinic", "shop=chemist,shop=pharmacy", "name=St. Mary"):
        assert not looks_like_file(spec), spec
    assert facility_source("missing.tsv") == ("file", Path("missing.tsv"))
    kind, preset = facility_source("shop=chemist")
    assert kind == "osm" and preset.tags == (("shop", "chemist"),)


def test_missing_tsv_is_a_missing_file_through_the_cli(helsinki_pbf, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "circles", "run", "--pbf", str(helsinki_pbf), "--facilities",
         str(tmp_path / "missing.tsv"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"circles: error: {tmp_path / 'missing.tsv'}: no such file; check the path"
    )
