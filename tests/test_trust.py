"""Numbers a planner can publish: no partial, stale or unqualified figure (issue 11), through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pytest
import shapely

pytestmark = pytest.mark.e2e

NANSHAN = "shenzhen_nanshan_hightech_osm/shenzhen_nanshan_hightech_overpass_2021.osm.pbf"
DISTRICTS = "shenzhen_district_boundaries/shenzhen_districts_wgs84.geojson"
YUBA = "benchmark_yuba_county_pbf/yuba_county_ca.osm.pbf"
NANJING = "nanjing_xuanwu_osm/nanjing_xuanwu_osmwebwizard.osm.pbf"


def circles(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args], capture_output=True, text=True, timeout=600
    )


def strict_json(path):
    """summary.json parsed by a strict parser: NaN or Infinity anywhere fails."""

    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def one_error_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("circles"), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


# -- 2. a network that covers only part of the study area ---------------------------------------


@pytest.mark.shared_data
def test_extract_covering_a_corner_of_the_district_stops_or_is_flagged_partial(tmp_path, shared_data):
    args = ["run", "--pbf", str(shared_data / NANSHAN), "--boundary", str(shared_data / DISTRICTS)]
    args += ["--name-field", "qh", "--district", "南山", "--facilities", "osm:amenity=school"]
    stopped = circles(*args, "--out", str(tmp_path / "stopped"))
    line = one_error_line(stopped)
    assert "南山: the network source covers only" in line and "--allow-partial" in line
    assert not (tmp_path / "stopped").exists()

    partial = circles(*args, "--allow-partial", "--out", str(tmp_path / "partial"))
    assert partial.returncode == 0, partial.stderr
    assert "PARTIAL" in partial.stdout.splitlines()[0]
    assert "PARTIAL RESULT: the network source covers" in partial.stderr
    summary = strict_json(tmp_path / "partial" / "summary.json")
    assert summary["partial"] is True and summary["network_coverage_of_area"] < 0.2
    assert any(w.startswith("PARTIAL RESULT") for w in summary["warnings"])
    assert "PARTIAL" in (tmp_path / "partial" / "map.html").read_text(encoding="utf-8")


def test_whole_extract_as_study_area_is_not_partial(tmp_path, helsinki_pbf):
    proc = circles("run", "--pbf", str(helsinki_pbf), "--out", str(tmp_path / "all"))
    assert proc.returncode == 0, proc.stderr
    summary = strict_json(tmp_path / "all" / "summary.json")
    assert summary["partial"] is False and summary["network_coverage_of_area"] is None


# -- 3. bands are reporting rings; the threshold is what "covered" means -------------------------


def test_bands_beyond_the_threshold_are_reported_without_moving_it(tmp_path, helsinki_pbf):
    proc = circles("run", "--pbf", str(helsinki_pbf), "--bands", "5,10,15,20", "--out", str(tmp_path / "a"))
    assert proc.returncode == 0, proc.stderr
    assert "live within 15 min walk" in proc.stdout.splitlines()[0]
    summary = strict_json(tmp_path / "a" / "summary.json")
    assert summary["threshold_min"] == 15 and summary["parameters"]["bands_min"] == [5, 10, 15, 20]
    assert [w["minutes"] for w in summary["within"]] == [5, 10, 15, 20]
    assert summary["covered_homes"] == 50  # the 15-minute figure, as with the default bands
    assert [b["band"] for b in summary["bands"]] == ["0-5", "5-10", "10-15", "15-20", ">20", "unreachable"]

    wide = circles(
        "run",
        "--pbf",
        str(helsinki_pbf),
        "--bands",
        "5,10,15,20,30",
        "--minutes",
        "20",
        "--out",
        str(tmp_path / "b"),
    )
    assert wide.returncode == 0, wide.stderr
    summary = strict_json(tmp_path / "b" / "summary.json")
    assert summary["threshold_min"] == 20 and summary["parameters"]["bands_min"] == [5, 10, 15, 20, 30]
    assert "live within 20 min walk" in wide.stdout.splitlines()[0]


def test_threshold_missing_from_the_bands_is_a_one_line_error(tmp_path, helsinki_pbf):
    proc = circles(
        "run", "--pbf", str(helsinki_pbf), "--bands", "5,10", "--minutes", "15", "--out", str(tmp_path / "x")
    )
    line = one_error_line(proc)
    assert "15 min is not one of the bands 5, 10" in line and "--bands" in line and "--minutes" in line
    assert not (tmp_path / "x").exists()


def test_minutes_alone_adapts_the_default_bands(tmp_path, helsinki_pbf):
    proc = circles("run", "--pbf", str(helsinki_pbf), "--minutes", "12", "--out", str(tmp_path / "m"))
    assert proc.returncode == 0, proc.stderr
    summary = strict_json(tmp_path / "m" / "summary.json")
    assert summary["parameters"]["bands_min"] == [5, 10, 12] and summary["threshold_min"] == 12


# -- 4. estimated population says so -------------------------------------------------------------


@pytest.mark.shared_data
def test_yuba_estimate_reads_as_an_estimate_with_the_fix(tmp_path, shared_data):
    proc = circles("run", "--pbf", str(shared_data / YUBA), "--out", str(tmp_path / "yuba"))
    assert proc.returncode == 0, proc.stderr
    headline = proc.stdout.splitlines()[0]
    assert "of 888,893 estimated residents" in headline
    assert "99% of the estimated residents live on residential land" in proc.stderr
    assert "--population-total" in proc.stderr and "--population-raster" in proc.stderr
    summary = strict_json(tmp_path / "yuba" / "summary.json")
    method = summary["population_method"]
    assert method["estimated"] is True and method["method"].startswith("estimated: floor area")
    by = method["by_method"]
    assert (
        by["estimated: residential land without mapped buildings (plot ratio)"] > 0.98 * summary["population"]
    )
    homes = gpd.read_file(tmp_path / "yuba" / "homes.gpkg")
    assert set(homes["population_method"]) <= set(by)
    assert "estimated residents" in (tmp_path / "yuba" / "map.html").read_text(encoding="utf-8")


def test_counted_population_is_not_called_estimated(tmp_path, helsinki_pbf):
    homes = tmp_path / "homes.csv"
    from circles.pipeline import osm_inputs

    pts = shapely.point_on_surface(osm_inputs(helsinki_pbf).homes.geometry.values)
    rows = ["lon,lat,population"] + [f"{p.x},{p.y},{10 + i}" for i, p in enumerate(pts)]
    homes.write_text("\n".join(rows) + "\n", encoding="utf-8")
    proc = circles(
        "run",
        "--pbf",
        str(helsinki_pbf),
        "--homes",
        str(homes),
        "--population-field",
        "population",
        "--out",
        str(tmp_path / "counted"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "estimated" not in proc.stdout.splitlines()[0]
    summary = strict_json(tmp_path / "counted" / "summary.json")
    assert summary["population_method"]["estimated"] is False
    assert summary["population"] == sum(10 + i for i in range(len(pts)))


def test_implausible_density_is_a_warning():
    from circles.diagnostics import density_warning

    assert density_warning(50_000, 2.0, estimated=True) is None
    text = density_warning(888_893, 4.0, estimated=True)
    assert text and "888,893 estimated residents on 4.0 km2 is 222,223 per km2" in text
    assert "`population.total`" in text


# -- 5. facilities serving an area are counted apart ---------------------------------------------


def test_facilities_inside_nearby_and_off_network_are_counted_apart(tmp_path, helsinki_pbf):
    from circles.pipeline import osm_inputs, run_study

    inputs = osm_inputs(helsinki_pbf)
    minx, miny, maxx, maxy = inputs.homes.total_bounds
    mid = (minx + maxx) / 2
    east = gpd.GeoDataFrame(
        {"name": ["East"]}, geometry=[shapely.box(mid, miny - 1e-4, maxx + 1e-4, maxy + 1e-4)], crs=4326
    )
    result = run_study(inputs, name="East", boundary=east)
    fac = result.facilities
    inside = shapely.intersects(east.geometry[0], fac.geometry.values)
    serving = fac["catchment_homes"].to_numpy() > 0
    counts = result.summary.facilities
    assert counts.inside == int((inside & fac["attached"]).sum()) > 0
    assert counts.margin_serving == int((~inside & serving).sum()) > 0
    assert counts.inside + counts.margin_serving < len(fac)  # some clinics in the margin serve no East home
    assert result.summary.residents_per_facility == pytest.approx(
        result.summary.coverage.population / counts.inside, abs=0.1
    )
    assert (
        f"of {counts.inside} facilities inside the area (+{counts.margin_serving} nearby)"
        in result.headline()
    )


def test_many_facilities_off_the_network_stop_or_mark_the_headline_partial(tmp_path, helsinki_pbf):
    """Two of three clinics lie 600 m beyond the extract's last street: exit 2, or PARTIAL everywhere."""
    clinics = tmp_path / "clinics.csv"
    clinics.write_text("name,lon,lat\nOn the streets,24.9445,60.1699\nEast 1,24.9645,60.1700\n"
                       "East 2,24.9650,60.1720\n", encoding="utf-8")  # fmt: skip
    args = ["run", "--pbf", str(helsinki_pbf), "--facilities", str(clinics)]
    stopped = circles(*args, "--out", str(tmp_path / "stopped"))
    line = one_error_line(stopped)
    assert "2 of the 3 facilities" in line and "--allow-partial" in line
    assert not (tmp_path / "stopped").exists()

    partial = circles(*args, "--allow-partial", "--out", str(tmp_path / "partial"))
    assert partial.returncode == 0, partial.stderr
    headline = partial.stdout.splitlines()[0]
    assert headline.endswith("[PARTIAL: 67% of the facilities within reach are off the network]"), headline
    summary = strict_json(tmp_path / "partial" / "summary.json")
    assert summary["partial"] is True and summary["facilities_off_network_share"] == 0.6667
    assert summary["facilities"] == {"inside": 1, "margin_serving": 0, "unattached": 2}
    assert "67% of the facilities within reach are off the network" in (
        tmp_path / "partial" / "map.html"
    ).read_text(encoding="utf-8")


def test_few_facilities_off_the_network_are_not_partial(tmp_path, helsinki_pbf):
    whole = circles("run", "--pbf", str(helsinki_pbf), "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    summary = strict_json(tmp_path / "whole" / "summary.json")
    assert summary["facilities_off_network_share"] == 0.0 and summary["partial"] is False
    assert "PARTIAL" not in whole.stdout


# -- 6. recommended sites reach every output -----------------------------------------------------


def test_batch_recommend_writes_sites_per_area(tmp_path, helsinki_pbf):
    from circles.pipeline import osm_inputs

    minx, miny, maxx, maxy = osm_inputs(helsinki_pbf).homes.total_bounds
    areas = tmp_path / "areas.geojson"
    gpd.GeoDataFrame({"name": ["All"]}, geometry=[shapely.box(minx, miny, maxx, maxy)], crs=4326).to_file(
        areas
    )
    proc = circles(
        "batch",
        "--pbf",
        str(helsinki_pbf),
        "--boundary",
        str(areas),
        "--minutes",
        "5",
        "--recommend",
        "2",
        "--out",
        str(tmp_path / "city"),
    )
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "city" / "All"
    summary = strict_json(folder / "summary.json")
    assert [s["rank"] for s in summary["proposed_sites"]] == [1, 2]
    assert len(gpd.read_file(folder / "proposed_sites.gpkg")) == 2


def test_fewer_sites_than_asked_say_why(tmp_path, helsinki_pbf):
    proc = circles(
        "run", "--pbf", str(helsinki_pbf), "--minutes", "5", "--recommend", "60", "--out", str(tmp_path / "s")
    )
    assert proc.returncode == 0, proc.stderr
    summary = strict_json(tmp_path / "s" / "summary.json")
    found = len(summary["proposed_sites"])
    assert 0 < found < 60
    assert f"asked for 60 new sites, recommended {found}:" in proc.stderr
    assert any(w.startswith(f"asked for 60 new sites, recommended {found}") for w in summary["warnings"])


# -- 8. study areas west of Greenwich ------------------------------------------------------------


@pytest.mark.shared_data
def test_bbox_with_negative_longitudes(tmp_path, shared_data):
    args = [
        "run",
        "--pbf",
        str(shared_data / YUBA),
        "--bbox",
        "-121.6,39.12,-121.54,39.16",
        "--allow-partial",
    ]
    proc = circles(*args, "--out", str(tmp_path / "marysville"))
    assert proc.returncode == 0, proc.stderr
    assert strict_json(tmp_path / "marysville" / "summary.json")["homes"] > 0


def test_malformed_bbox_is_one_line_with_help_pointer(tmp_path, helsinki_pbf):
    proc = circles("run", "--pbf", str(helsinki_pbf), "--bbox", "-121.6,39.12", "--out", str(tmp_path / "x"))
    line = one_error_line(proc)
    assert "must be four numbers W,S,E,N" in line and "circles run --help" in line


# -- 11. coordinates say their system, and come out in the planner's -----------------------------


@pytest.mark.shared_data
def test_proposed_sites_printed_in_the_input_coordinate_system(tmp_path, shared_data):
    from circles.sources import coords

    clinics = tmp_path / "clinics_gcj02.csv"
    lon, lat = coords.wgs84_to_gcj02(np.array([118.7801]), np.array([32.0432]))
    clinics.write_text(f"name,lon,lat\nA,{lon[0]:.6f},{lat[0]:.6f}\n", encoding="utf-8")
    args = [
        "run",
        "--pbf",
        str(shared_data / NANJING),
        "--facilities",
        str(clinics),
        "--facility-crs",
        "gcj02",
    ]
    args += ["--recommend", "1"]
    proc = circles(*args, "--out", str(tmp_path / "nj"))
    assert proc.returncode == 0, proc.stderr
    site = strict_json(tmp_path / "nj" / "summary.json")["proposed_sites"][0]
    glon, glat = coords.wgs84_to_gcj02(np.array([site["lon_wgs84"]]), np.array([site["lat_wgs84"]]))
    line = next(x for x in proc.stdout.splitlines() if "proposed site 1" in x)
    assert f"lon {glon[0]:.6f}, lat {glat[0]:.6f} (GCJ-02" in line
    csv = (tmp_path / "nj" / "proposed_sites.csv").read_text(encoding="utf-8").splitlines()
    assert csv[0].split(",")[-2:] == ["lon_gcj02", "lat_gcj02"]
    wgs = circles(*args, "--output-crs", "wgs84", "--out", str(tmp_path / "nj84"))
    line = next(x for x in wgs.stdout.splitlines() if "proposed site 1" in x)
    assert f"lon {site['lon_wgs84']:.6f}, lat {site['lat_wgs84']:.6f} (WGS-84)" in line


# -- 13, 22. the public API, and no NaN or infinity anywhere --------------------------------------


def test_star_import_gives_every_public_name():
    namespace: dict = {}
    exec("from circles import *", namespace)
    import circles

    assert set(circles.__all__) <= set(namespace)
    assert {"analyse", "run_study", "StudyResult", "TravelSettings", "WalkNetwork"} <= set(namespace)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--minutes", "inf"),
        ("--max-access-leg-m", "nan"),
        ("--population-total", "inf"),
        ("--bands", "5,nan,15"),
    ],
)
def test_non_finite_numbers_are_refused(tmp_path, helsinki_pbf, option, value):
    proc = circles("run", "--pbf", str(helsinki_pbf), f"{option}={value}", "--out", str(tmp_path / "x"))
    line = one_error_line(proc)
    assert option in line
    assert not (tmp_path / "x").exists()


def test_python_settings_refuse_non_finite_values():
    from circles import TravelSettings
    from circles.errors import InputError

    for field in ("threshold_min", "max_access_leg_m", "speed_kmh"):
        with pytest.raises(InputError, match=f"`{field}` must be a finite number"):
            TravelSettings(**{field: float("nan")})
