"""Inputs at fault give a clean CirclesError, never a crash or a blow-up (issue 11: 19, 21, 25, 27).

Real files written here: workbooks with DTDs and numbers beyond the float range, CSVs with
thousands of columns or a 30 MB cell, GeoJSON with unclosed rings, broken GraphML,
population rasters without people; and the CLI run on them (exit 2, one line).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from circles.errors import CirclesError, InputError, InputFileError
from circles.sources.boundaries import read_boundary
from circles.sources.files import read_homes, read_points
from circles.sources.graphml import read_graphml_walkways
from circles.sources.limits import MAX_TEXT_CHARS, TRUNCATION_MARKER

HELSINKI = "24.9450,60.1690"


def circles(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600
    )


def assert_clean_exit_2(proc: subprocess.CompletedProcess, expected: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert lines[-1].startswith("circles: error: ") and expected in lines[-1], proc.stderr


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def _rewrite_part(source: Path, target: Path, part: str, edit) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            out.writestr(item, edit(data) if item.filename == part else data)
    return target


SHEET = "xl/worksheets/sheet1.xml"
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode() for i in range(1, 10)
    )
    + b"]>"
)
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]>'


@pytest.fixture
def clinics_xlsx(tmp_path):
    return _workbook(tmp_path / "clinics.xlsx", [["name", "lon", "lat", "gps"], ["A", 24.945, 60.169, 5]])


# ---------------------------------------------------------------------------------------------
# 21: workbooks


def test_openpyxl_parses_with_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML  # the dependency is installed and used


@pytest.mark.parametrize(("prolog", "entity"), [(LAUGHS, b"&lol9;"), (XXE, b"&x;")], ids=["laughs", "xxe"])
def test_xlsx_with_a_dtd_is_refused(clinics_xlsx, tmp_path, prolog, entity):
    bad = _rewrite_part(
        clinics_xlsx,
        tmp_path / "bad.xlsx",
        SHEET,
        lambda d: prolog + d.replace(b"<t>A</t>", b"<t>" + entity + b"</t>"),
    )
    with pytest.raises(InputFileError) as info:
        read_points(bad)
    assert str(info.value) == (
        f"{bad}: part {SHEET} declares an XML document type (DTD); Excel never writes one and it can hide "
        "entity-expansion or external-entity attacks, so it is refused; open the workbook in Excel and "
        "save it again, or export the sheet as CSV"
    )


@pytest.mark.parametrize("number", [b"9" * 400, b"1e999", b"-1e999"])
def test_xlsx_number_beyond_float_range(clinics_xlsx, tmp_path, number):
    bad = _rewrite_part(
        clinics_xlsx,
        tmp_path / "big.xlsx",
        SHEET,
        lambda d: d.replace(b"<v>5</v>", b"<v>" + number + b"</v>"),
    )
    with pytest.raises(InputFileError) as info:
        read_points(bad)
    assert str(info.value) == (
        f"{bad}: sheet 'Sheet', cell D2 holds a number beyond the range of a 64-bit float (about ±1.8e308); "
        "correct that cell (or format the column as text if it is an identifier)"
    )


def test_xlsx_that_unpacks_too_large_is_refused(clinics_xlsx, tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(clinics_xlsx) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            out.writestr(item, src.read(item.filename))
        with out.open("xl/media/padding.xml", "w") as part:  # 260 MiB of spaces, a few hundred KB packed
            block = b" " * 2**20
            for _ in range(260):
                part.write(block)
    with pytest.raises(
        InputFileError, match=r"bomb.xlsx: the unpacked workbook is 260 MiB, more than the 256 MiB"
    ):
        read_points(bomb)


# ---------------------------------------------------------------------------------------------
# 21: tables and geometry files


def test_csv_with_thousands_of_columns(tmp_path):
    header = ["name", "lon", "lat"] + [f"c{i}" for i in range(2100)]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(header) + "\n" + ",".join(["A", "24.945", "60.169"] + ["1"] * 2100) + "\n")
    with pytest.raises(InputFileError) as info:
        read_points(path)
    assert str(info.value) == (
        f"{path}: has 2,103 columns, more than the 1,000 circles reads; delete the columns not needed "
        "(keep coordinates, name, kind, capacity, population)"
    )


def _unclosed(path: Path, n_features: int = 2) -> Path:
    ring = [[24.94, 60.16], [24.95, 60.16], [24.95, 60.17], [24.94, 60.17]]  # last point != first
    closed = [*ring, ring[0]]
    features = [
        {"type": "Feature", "properties": {"name": f"f{i}"},
         "geometry": {"type": "Polygon", "coordinates": [closed if i == 0 else ring]}}
        for i in range(n_features)
    ]  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_unclosed_polygon_ring(tmp_path):
    path = _unclosed(tmp_path / "unclosed.geojson", 3)
    expected = (
        "features 2 and 3: invalid geometry (Points of LinearRing do not form a closed linestring); "
        "close each polygon ring (its last point must equal its first) or repair the file in a GIS"
    )
    for reader in (read_points, read_homes, read_boundary):
        with pytest.raises(InputError) as info:
            reader(path)
        assert str(info.value) == f"{path}: {expected}"


def test_bad_inputs_through_the_cli(helsinki_pbf, tmp_path, clinics_xlsx):
    unclosed = _unclosed(tmp_path / "unclosed.geojson")
    laughs = _rewrite_part(clinics_xlsx, tmp_path / "laughs.xlsx", SHEET, lambda d: LAUGHS + d)
    big = _rewrite_part(
        clinics_xlsx, tmp_path / "big.xlsx", SHEET, lambda d: d.replace(b"<v>5</v>", b"<v>1e999</v>")
    )
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["lon", "lat"] + [f"c{i}" for i in range(2000)]) + "\n")
    garbage = tmp_path / "garbage.graphml"
    garbage.write_bytes(b"\x00\x01 not xml" * 50)
    pbf = str(helsinki_pbf)
    cases = [
        (["--pbf", pbf, "--facilities", str(unclosed)], "feature 2: invalid geometry"),
        (["--pbf", pbf, "--boundary", str(unclosed)], "feature 2: invalid geometry"),
        (["--pbf", pbf, "--facilities", str(laughs)], "declares an XML document type (DTD)"),
        (["--pbf", pbf, "--facilities", str(big)], "cell D2 holds a number beyond the range"),
        (["--pbf", pbf, "--facilities", str(wide)], "has 2,002 columns, more than the 1,000"),
        (["--graphml", str(garbage), "--facilities", str(clinics_xlsx), "--homes", str(clinics_xlsx)],
         "garbage.graphml: cannot be read as an OSMnx GraphML file"),
        (["--graphml", str(tmp_path), "--facilities", str(clinics_xlsx), "--homes", str(clinics_xlsx)],
         "is a folder, not a GraphML file"),
    ]  # fmt: skip
    for args, expected in cases:
        out = tmp_path / "out"
        assert_clean_exit_2(circles("run", *args, "--out", str(out)), expected)
        assert not out.exists()


# ---------------------------------------------------------------------------------------------
# 21: GraphML


H = '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
KEYS = (
    '<key id="g0" for="graph" attr.name="crs" attr.type="string"/>'
    '<key id="d0" for="node" attr.name="x" attr.type="string"/>'
    '<key id="d1" for="node" attr.name="y" attr.type="string"/>'
    '<key id="e0" for="edge" attr.name="highway" attr.type="string"/>'
    '<key id="e1" for="edge" attr.name="geometry" attr.type="string"/>'
)


def _graph(crs: str = "EPSG:4326", geometry: str = "LINESTRING (1 1, 2 1)") -> str:
    nodes = "".join(f'<node id="{i}"><data key="d0">{i}</data><data key="d1">1</data></node>' for i in (1, 2))
    edge = f'<edge source="1" target="2"><data key="e0">footway</data><data key="e1">{geometry}</data></edge>'
    return (
        f'{H}{KEYS}<graph edgedefault="directed"><data key="g0">{crs}</data>{nodes}{edge}</graph></graphml>'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_graph(), None),
        (
            _graph(geometry="LINESTRING (1 1, oops)"),
            "cannot be read as an OSMnx GraphML file (ParseException",
        ),
        (_graph(crs="EPSG:99999"), "cannot be read as an OSMnx GraphML file (Invalid projection: EPSG:99999"),
        (XXE.decode() + _graph()[21:], "declares an XML document type (DTD)"),
        ("\x00garbage", "cannot be read as an OSMnx GraphML file ("),
    ],
    ids=["valid", "bad geometry", "bad crs", "dtd", "garbage"],
)
def test_graphml_failures_are_clean(tmp_path, text, expected):
    path = tmp_path / "g.graphml"
    path.write_text(text, encoding="utf-8")
    if expected is None:
        assert read_graphml_walkways(path)["highway"].tolist() == ["footway"]
        return
    with pytest.raises(InputFileError) as info:
        read_graphml_walkways(path)
    assert str(info.value).startswith(f"{path}: {expected}")
    assert "\n" not in str(info.value)


def test_graphml_folder(tmp_path):
    with pytest.raises(InputFileError) as info:
        read_graphml_walkways(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a folder, not a GraphML file; give the GraphML file inside it"


# ---------------------------------------------------------------------------------------------
# 19: text bounded


def test_long_text_is_cut_with_a_visible_marker(tmp_path):
    path = tmp_path / "huge.csv"
    cell = "长" * (30 * 2**20 // 3)  # a 30 MB cell of Chinese text
    path.write_text(f"name,lon,lat,note\n{'N' * 100_000},24.945,60.169,{cell}\n", encoding="utf-8")
    gdf = read_points(path)
    assert gdf["name"].tolist() == ["N" * MAX_TEXT_CHARS + TRUNCATION_MARKER]
    assert gdf["note"].tolist() == ["长" * MAX_TEXT_CHARS + TRUNCATION_MARKER]
    assert gdf.attrs["warnings"] == [
        f"{path}: 2 text value(s) longer than 500 characters were cut (marked '…[truncated]')"
    ]
    # Column names are bounded too.
    path.write_text(f"lon,lat,{'c' * 2000}\n24.945,60.169,x\n", encoding="utf-8")
    assert list(read_points(path).columns)[2] == "c" * MAX_TEXT_CHARS + TRUNCATION_MARKER


def test_text_files_beyond_the_size_limit_are_refused(tmp_path):
    path = tmp_path / "sparse.csv"
    with path.open("wb") as stream:  # sparse: nothing is written or read
        stream.truncate(300 * 2**20)
    with pytest.raises(InputFileError) as info:
        read_points(path)
    assert str(info.value) == (
        f"{path}: the file is 300 MiB, more than the 256 MiB circles reads; keep only the rows and "
        "columns needed (or split the area) and save it again"
    )


def test_a_100_kb_name_does_not_reach_the_outputs(helsinki_pbf, tmp_path):
    sizes = {}
    for label, name in (("short", "Clinic"), ("long", "X" * 100_000)):
        clinics = tmp_path / f"{label}.csv"
        clinics.write_text(f"name,lon,lat\n{name},{HELSINKI}\n", encoding="utf-8")
        out = tmp_path / label
        proc = circles(
            "run", "--pbf", str(helsinki_pbf), "--facilities", str(clinics), "--out", str(out), "-q"
        )
        assert proc.returncode == 0, proc.stderr
        names = gpd.read_file(out / "facilities.gpkg")["name"].tolist()
        sizes[label] = (out / "map.html").stat().st_size
        if label == "long":
            assert names == ["X" * MAX_TEXT_CHARS + TRUNCATION_MARKER]
            assert "X" * (MAX_TEXT_CHARS + 1) not in (out / "map.html").read_text(encoding="utf-8")
    # The map grows by the cut name repeated in popups, not by the 100 KB name.
    assert sizes["long"] - sizes["short"] < 100 * (MAX_TEXT_CHARS + 20)


# ---------------------------------------------------------------------------------------------
# 25: population rasters without people; rasterio optional


def _raster(path: Path, values, nodata=-99999.0) -> Path:
    import rasterio
    from affine import Affine

    values = np.asarray(values, dtype=np.float32)
    with rasterio.open(
        path, "w", driver="GTiff", height=values.shape[0], width=values.shape[1], count=1, dtype="float32",
        crs="EPSG:32650", transform=Affine(100.0, 0.0, 500_000.0, 0.0, -100.0, 2_490_300.0), nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(values, 1)
    return path


HOMES_UTM = gpd.GeoDataFrame(
    geometry=[
        shapely.box(500_010, 2_490_210, 500_040, 2_490_240),
        shapely.box(500_110, 2_490_110, 500_180, 2_490_180),
    ],
    crs="EPSG:32650",
)


@pytest.mark.parametrize(
    ("values", "counts"),
    [
        (np.full((3, 3), -99999.0), "4 nodata, 0 NaN, 0 negative"),
        (np.full((3, 3), np.nan), "0 nodata, 4 NaN, 0 negative"),
        (np.full((3, 3), -5.0), "0 nodata, 0 NaN, 4 negative"),
        (np.zeros((3, 3)), "0 nodata, 0 NaN, 0 negative"),
    ],
    ids=["nodata", "nan", "negative", "zero"],
)
def test_raster_without_people_is_an_error(tmp_path, values, counts):
    from circles.sources.population import population_from_raster

    path = _raster(tmp_path / "empty.tif", values)
    with pytest.raises(InputError) as info:
        population_from_raster(HOMES_UTM, path)
    assert str(info.value) == (
        f"{path}: the raster holds no people under the homes and study area: all 4 cells there are nodata, "
        f"NaN, zero or negative ({counts}); give a population-count raster (people per cell) that covers "
        "the study area"
    )
    assert (info.value.parameter, info.value.scope) == ("raster_path", "population")


def test_raster_partly_nan_or_negative_says_so(tmp_path):
    from circles.sources.population import population_from_raster

    path = _raster(tmp_path / "part.tif", [[10, np.nan, 1], [-3, 4, 0], [0, 0, 0]])
    people, text = population_from_raster(HOMES_UTM, path)
    assert people.tolist() == [10.0, 4.0]
    assert text.endswith("; 1 NaN and 1 negative cell(s) counted as empty")


def test_raster_folder_and_band(tmp_path):
    from circles.sources.population import population_from_raster

    with pytest.raises(
        InputFileError, match=r"is a folder, not a population raster; give the population raster"
    ):
        population_from_raster(HOMES_UTM, tmp_path)
    path = _raster(tmp_path / "one.tif", np.ones((3, 3)))
    with pytest.raises(InputError, match=r"one.tif: the raster has 1 band\(s\), not band 2"):
        population_from_raster(HOMES_UTM, path, band=2)


BLOCK_RASTERIO = "import sys; sys.modules['rasterio'] = None\n"


def test_without_rasterio_the_raster_reader_names_the_extra(tmp_path, helsinki_pbf):
    raster = _raster(tmp_path / "pop.tif", np.ones((3, 3)))
    code = BLOCK_RASTERIO + (
        "import geopandas as gpd, shapely\n"
        "from circles.errors import CirclesError\n"
        "from circles.sources.population import population_from_raster\n"
        "homes = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=4326)\n"
        "try:\n"
        f"    population_from_raster(homes, {str(raster)!r})\n"
        "except CirclesError as exc:\n"
        "    print(exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip() == (
        "reading a population raster needs rasterio, which is not installed; "
        "install it with pip install 'circles[raster]'"
    ), proc.stderr
    # Through the CLI: one line, exit 2.
    cli = BLOCK_RASTERIO + "from circles.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    proc = subprocess.run(
        [sys.executable, "-c", cli, "run", "--pbf", str(helsinki_pbf), "--population-raster", str(raster),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert_clean_exit_2(proc, "install it with pip install 'circles[raster]'")
    assert "import circles" not in proc.stderr


def test_messages_print_plain_numbers():
    from circles.sources.boundaries import bbox_boundary

    with pytest.raises(CirclesError) as info:
        bbox_boundary(np.float64(200.0), 22.53, 201.0, 22.55)
    assert "np.float64" not in str(info.value)
    assert str(info.value).startswith("bbox (200, 22.53, 201, 22.55) is out of range")


def test_raster_without_people_through_the_cli(helsinki_pbf, tmp_path):
    import rasterio
    from affine import Affine

    path = tmp_path / "helsinki_nodata.tif"
    with rasterio.open(
        path, "w", driver="GTiff", height=200, width=200, count=1, dtype="float32", crs="EPSG:4326",
        transform=Affine(0.001, 0.0, 24.85, 0.0, -0.001, 60.25), nodata=-99999.0,
    ) as dst:  # fmt: skip
        dst.write(np.full((200, 200), -99999.0, dtype=np.float32), 1)
    proc = circles(
        "run", "--pbf", str(helsinki_pbf), "--population-raster", str(path), "--out", str(tmp_path / "o")
    )
    assert_clean_exit_2(
        proc, "helsinki_nodata.tif: the raster holds no people under the homes and study area"
    )
    assert "give a population-count raster (people per cell)" in proc.stderr
    assert not (tmp_path / "o").exists()
