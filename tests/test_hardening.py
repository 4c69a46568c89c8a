"""Bad input through the CLI: exit code 2, one clear line on stderr, nothing written.

Each case is what a planner could really hand the tool. Cases that are valid but
unusual (a boundary in another CRS, a GBK-encoded CSV, a self-intersecting boundary,
homes far from any street) must work instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

pytestmark = pytest.mark.e2e  # runs the circles command in a subprocess

# Central Helsinki, where the bundled extract's homes are.
HELSINKI_BOX = (24.935, 60.160, 24.955, 60.175)


def circles(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600
    )


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def boundary_file(path: Path, geoms: dict, crs: int = 4326) -> Path:
    gpd.GeoDataFrame({"name": list(geoms)}, geometry=list(geoms.values()), crs=4326).to_crs(crs).to_file(path)
    return path


@pytest.fixture()
def files(tmp_path, helsinki_pbf):
    """Hand-made inputs around the Helsinki extract."""
    d = tmp_path
    ok_box = shapely.box(*HELSINKI_BOX)
    out = {
        "pbf": str(helsinki_pbf),
        "truncated": d / "truncated.osm.pbf",
        "xml": write(d / "broken.osm", "<osm><node id='1'"),
        "areas": boundary_file(d / "areas.geojson", {"Kluuvi": ok_box}),
        "bowtie": boundary_file(
            d / "bowtie.geojson",
            {
                "Bowtie": shapely.Polygon(
                    [(24.935, 60.160), (24.955, 60.175), (24.955, 60.160), (24.935, 60.175)]
                )
            },
        ),
        "empty_csv": write(d / "empty.csv", "name,lon,lat\n"),
        "bad_rows": write(
            d / "bad_rows.csv",
            "name,lon,lat\nA,24.94,60.17\nB,,60.17\nC,east,60.17\nD,24.94,160.0\n",
        ),
        "swapped": write(d / "swapped.csv", "name,lon,lat\nA,60.170,24.940\nB,60.168,24.945\n"),
        "far_clinics": write(d / "far.csv", "name,lon,lat\nTurku,22.27,60.45\nTampere,23.76,61.50\n"),
        "gbk": write(d / "gbk.csv", "名称,经度,纬度\n社区卫生服务中心,24.9450,60.1690\n", encoding="gbk"),
        "out": d / "out",
    }
    out["truncated"].write_bytes(Path(helsinki_pbf).read_bytes()[:150_000])
    return out


BAD = {
    "missing pbf": (["run", "--pbf", "{d}/nope.osm.pbf"], "nope.osm.pbf: no such OSM file"),
    "truncated pbf": (["run", "--pbf", "{truncated}"], "cannot be read as OSM data"),
    "corrupt xml": (["run", "--osm", "{xml}"], "cannot be read as OSM data"),
    "area at sea": (
        ["run", "--pbf", "{pbf}", "--bbox", "24.0,59.0,24.01,59.01"],
        "no walkable streets within reach",
    ),
    "bbox swapped": (
        ["run", "--pbf", "{pbf}", "--bbox", "60.16,24.93,60.17,24.95"],
        "longitude and latitude swapped?",
    ),
    "missing boundary": (
        ["run", "--pbf", "{pbf}", "--boundary", "{d}/none.geojson"],
        "no such boundary file",
    ),
    "unknown district": (
        ["run", "--pbf", "{pbf}", "--boundary", "{areas}", "--name-field", "name", "--district", "Nowhere"],
        "Kluuvi",  # the message lists the names that exist
    ),
    "unknown name field": (
        ["run", "--pbf", "{pbf}", "--boundary", "{areas}", "--name-field", "qh", "--district", "Kluuvi"],
        "'qh'",
    ),
    "empty facility csv": (["run", "--pbf", "{pbf}", "--facilities", "{empty_csv}"], "empty.csv"),
    "bad facility rows": (["run", "--pbf", "{pbf}", "--facilities", "{bad_rows}"], "bad_rows.csv: data rows"),
    "swapped lon/lat": (["run", "--pbf", "{pbf}", "--facilities", "{swapped}"], "swapped"),
    "facilities far away": (
        [
            "run",
            "--pbf",
            "{pbf}",
            "--bbox",
            ",".join(map(str, HELSINKI_BOX)),
            "--facilities",
            "{far_clinics}",
        ],
        "no facilities in or within 15 min of the study area",
    ),
    "missing population column": (
        ["run", "--pbf", "{pbf}", "--population-field", "residents"],
        "'residents'",
    ),
    "zero speed": (["run", "--pbf", "{pbf}", "--speed-kmh", "0"], "walking speed 0 km/h is out of range"),
    "bands not ascending": (["run", "--pbf", "{pbf}", "--bands", "15,10"], "strictly ascending"),
    "negative sites": (["run", "--pbf", "{pbf}", "--recommend", "-1"], "--recommend"),
    "unwritable output": (
        ["run", "--pbf", "{pbf}", "--out", "{empty_csv}/sub/out"],
        "choose a writable --out",
    ),
    "no workers": (["batch", "--pbf", "{pbf}", "--boundary", "{areas}", "--workers", "0"], "--workers"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case, files):
    args, expected = BAD[case]
    mapping = {k: str(v) for k, v in files.items()} | {"d": str(files["out"].parent)}
    args = [a.format(**mapping) for a in args]
    if "--out" not in args:
        args += ["--out", str(files["out"])]
    proc = circles(*args)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert lines and lines[-1].startswith("circles: error: "), proc.stderr
    assert expected in lines[-1]
    assert "Traceback" not in proc.stderr
    errors = [line for line in lines if line.startswith("circles: error")]
    assert len(errors) == 1
    assert not files["out"].exists()
    assert not list(files["out"].parent.glob(".out.*")), "temporary output left behind"


def test_unusual_but_valid_inputs_work(files, tmp_path):
    # A self-intersecting boundary is repaired; a GBK CSV with Chinese headers is read.
    proc = circles(
        "run",
        "--pbf",
        files["pbf"],
        "--boundary",
        str(files["bowtie"]),
        "--facilities",
        str(files["gbk"]),
        "--out",
        str(tmp_path / "ok"),
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "ok" / "summary.json").read_text(encoding="utf-8"))
    assert summary["facilities"]["inside"] + summary["facilities"]["margin_serving"] == 1
    assert summary["homes"] > 0
    facilities = gpd.read_file(tmp_path / "ok" / "facilities.gpkg")
    assert facilities["name"].tolist() == ["社区卫生服务中心"]


def test_homes_far_from_streets_are_reported_not_dropped(files, tmp_path):
    homes = write(
        tmp_path / "homes.csv", "name,lon,lat,residents\nnear,24.9450,60.1690,10\nisland,24.90,60.10,5\n"
    )
    proc = circles(
        "run",
        "--pbf",
        files["pbf"],
        "--homes",
        str(homes),
        "--population-field",
        "residents",
        "--out",
        str(tmp_path / "far"),
    )
    assert proc.returncode == 0, proc.stderr
    out = gpd.read_file(tmp_path / "far" / "homes.gpkg")
    assert out["name"].tolist() == ["near", "island"]
    assert (
        out.loc[1, "band"] == "unreachable"
        and out.loc[1, "unreachable_reason"] == "no walkable street within 250 m"
    )
    summary = json.loads((tmp_path / "far" / "summary.json").read_text(encoding="utf-8"))
    assert summary["homes_without_street"] == 1 and summary["population"] == 15


def test_area_names_cannot_escape_the_output_folder(files, tmp_path, helsinki_pbf):
    areas = boundary_file(tmp_path / "evil.geojson", {"../../escaped": shapely.box(*HELSINKI_BOX)})
    out = tmp_path / "batch"
    proc = circles("batch", "--pbf", str(helsinki_pbf), "--boundary", str(areas), "--out", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    assert folder.name.startswith("escaped-") and (folder / "map.html").is_file()
    assert not (tmp_path.parent / "escaped").exists()
