"""The cache of parsed inputs: hits skip parsing, changed sources miss, untrusted entries are rewritten.

Whether parsing happened is counted (the real reader wrapped in a counter), never timed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from circles.cache import file_digest, load_inputs_cached
from circles.sources.assemble import SourceSpec, load_inputs


class CountingLoader:
    """The real :func:`load_inputs`, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, spec, *, area_wgs84=None, networks=("walk",)):
        self.calls += 1
        return load_inputs(spec, area_wgs84=area_wgs84, networks=networks)


@pytest.fixture()
def pbf_copy(tmp_path, helsinki_pbf):
    path = tmp_path / "city.osm.pbf"
    shutil.copy(helsinki_pbf, path)
    return path


def assert_same_inputs(a, b) -> None:
    for layer in ("walkways", "facilities", "homes", "buildings"):
        pd.testing.assert_frame_equal(pd.DataFrame(getattr(a, layer)), pd.DataFrame(getattr(b, layer)))
        assert getattr(a, layer).crs == getattr(b, layer).crs
    assert list(a.sources.items()) == list(b.sources.items())  # order too: it is the summary's
    assert a.declared_crs == b.declared_crs


def test_second_run_skips_parsing_and_returns_the_same_layers(tmp_path, pbf_copy):
    spec = SourceSpec("pbf", pbf_copy, facilities="osm:primary-care")
    loader = CountingLoader()
    first, miss = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    assert (miss.status, miss.parsed, loader.calls) == ("miss", 1, 1)
    second, hit = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    assert (hit.status, hit.parsed, loader.calls) == ("hit", 0, 1)
    assert hit.entry == miss.entry and hit.entry.is_dir()
    assert_same_inputs(first, second)
    assert len(second.homes) == 59 and len(second.facilities) == 7

    # Another facility preset is another entry; no cache folder means no cache.
    _, other = load_inputs_cached(
        SourceSpec("pbf", pbf_copy, facilities="osm:pharmacy"), cache_dir=tmp_path / "cache", loader=loader
    )
    assert other.status == "miss" and other.entry != hit.entry
    _, off = load_inputs_cached(spec, cache_dir=None, loader=loader)
    assert off.status == "off" and loader.calls == 3


def test_a_changed_source_misses_and_a_touched_one_still_hits(tmp_path, pbf_copy):
    import osmium

    spec = SourceSpec("pbf", pbf_copy)
    loader = CountingLoader()
    load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    st = pbf_copy.stat()
    os.utime(pbf_copy, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # same bytes, newer time
    _, touched = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    assert touched.status == "hit" and loader.calls == 1  # the key is the content, not the time

    # The same file name with one clinic node fewer: other bytes, another key.
    fewer = tmp_path / "fewer.osm.pbf"
    clinics = {int(i.split("/")[1]) for i in load_inputs(spec).facilities["osm_id"] if i.startswith("node/")}
    dropped = min(clinics)
    with osmium.SimpleWriter(str(fewer)) as writer:
        for obj in osmium.FileProcessor(str(pbf_copy)):
            if not (obj.is_node() and obj.id == dropped):
                writer.add(obj)
    before = file_digest(pbf_copy)
    os.replace(fewer, pbf_copy)
    assert file_digest(pbf_copy) != before
    changed, miss = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    assert miss.status == "miss" and loader.calls == 2
    assert len(changed.facilities) == 6


def test_another_versions_entry_is_ignored_and_rewritten(tmp_path, pbf_copy):
    spec = SourceSpec("pbf", pbf_copy)
    loader = CountingLoader()
    _, first = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    for name in ("key.json", "layers.json"):
        path = first.entry / name
        record = json.loads(path.read_text())
        record["circles_version"] = "0.0.1"
        path.write_text(json.dumps(record))
    _, again = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    assert again.status == "rejected" and loader.calls == 2
    assert "another circles version" in again.reason
    assert json.loads((first.entry / "key.json").read_text())["circles_version"] != "0.0.1"
    _, hit = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    assert hit.status == "hit" and loader.calls == 2


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("truncate homes.parquet", "homes.parquet is missing or altered"),
        ("delete walkways.parquet", "walkways.parquet is missing or altered"),
        ("garble layers.json", "layers.json is missing or unreadable"),
        ("garble key.json", "key.json is missing or unreadable"),
        ("flip a byte of facilities.parquet", "facilities.parquet is missing or altered"),
    ],
)
def test_a_corrupt_entry_is_recomputed_never_a_crash(tmp_path, pbf_copy, damage, reason):
    spec = SourceSpec("pbf", pbf_copy)
    loader = CountingLoader()
    good, first = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    verb, *_, name = damage.split()
    path = first.entry / name
    if verb == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif verb == "delete":
        path.unlink()
    elif verb == "garble":
        path.write_text("{not json")
    else:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    inputs, again = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    assert (again.status, loader.calls) == ("rejected", 2)
    assert again.reason.startswith(reason)
    assert_same_inputs(good, inputs)
    _, hit = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    assert hit.status == "hit" and loader.calls == 2


def test_an_unwritable_cache_does_not_fail_the_run(tmp_path, pbf_copy):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would be")
    inputs, result = load_inputs_cached(
        SourceSpec("pbf", pbf_copy), cache_dir=blocker, loader=CountingLoader()
    )
    assert result.status == "miss" and "could not be written" in result.reason
    assert len(inputs.homes) == 59


def test_planner_files_are_part_of_the_key(tmp_path, pbf_copy):
    clinics = tmp_path / "clinics.csv"
    clinics.write_text("name,lon,lat\nA,24.9414,60.1699\n", encoding="utf-8")
    spec = SourceSpec("pbf", pbf_copy, facilities=str(clinics))
    loader = CountingLoader()
    load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    clinics.write_text("name,lon,lat\nA,24.9414,60.1699\nB,24.9450,60.1680\n", encoding="utf-8")
    inputs, result = load_inputs_cached(spec, cache_dir=tmp_path / "cache", loader=loader)
    assert result.status == "miss" and len(inputs.facilities) == 2 and loader.calls == 2


@pytest.mark.e2e
def test_the_cli_says_when_inputs_come_from_the_cache(tmp_path, pbf_copy):
    import geopandas as gpd
    import shapely

    minx, miny, maxx, maxy = load_inputs(SourceSpec("pbf", pbf_copy)).homes.total_bounds
    areas = tmp_path / "areas.geojson"
    gpd.GeoDataFrame(
        {"area": ["all"]},
        geometry=[shapely.box(minx - 1e-4, miny - 1e-4, maxx + 1e-4, maxy + 1e-4)],
        crs=4326,
    ).to_file(areas, driver="GeoJSON")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    base = [sys.executable, "-m", "circles", "batch", "--pbf", str(pbf_copy), "--boundary", str(areas)]
    base += ["--name-field", "area"]

    def run(*extra):
        return subprocess.run([*base, *extra], capture_output=True, text=True, env=env, timeout=600)

    first = run("--out", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    assert "inputs parsed and cached" in first.stderr
    assert (tmp_path / "xdg" / "circles" / "inputs").is_dir()  # default: $XDG_CACHE_HOME/circles
    second = run("--out", str(tmp_path / "b"), "--speed-kmh", "elderly")
    assert second.returncode == 0, second.stderr
    assert "inputs read from the cache (the files are unchanged)" in second.stderr
    off = run("--out", str(tmp_path / "c"), "--no-cache", "--cache-dir", str(tmp_path / "unused"))
    assert "inputs parsed (not cached)" in off.stderr and not (tmp_path / "unused").exists()
