"""`circles batch` on real Dask clusters: byte-identical tables, lost workers, separate scheduler processes.

Every cluster here is real: a ``LocalCluster`` of worker processes, or ``dask scheduler``
and ``dask worker`` started as their own processes on 127.0.0.1. Waits are bounded by
generous timeouts; nothing depends on how fast the machine is.
"""

from __future__ import annotations

import filecmp
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

pytest.importorskip("distributed")

NANJING = "nanjing_xuanwu_osm/nanjing_xuanwu_osmwebwizard.osm.pbf"
TIMEOUT_S = 300  # a bound on every wait, not a speed requirement


def area_frame(boxes: dict[str, tuple[float, float, float, float]]) -> gpd.GeoDataFrame:
    geoms = [shapely.box(*b) for b in boxes.values()]
    return gpd.GeoDataFrame({"name": list(boxes)}, geometry=geoms, crs=4326)


@pytest.fixture(scope="module")
def helsinki_inputs(helsinki_pbf):
    from circles.pipeline import osm_inputs

    return osm_inputs(helsinki_pbf)


@pytest.fixture(scope="module")
def helsinki_areas(helsinki_inputs) -> gpd.GeoDataFrame:
    """The demo's homes cut in three strips, and an area at sea (which fails)."""
    minx, miny, maxx, maxy = helsinki_inputs.homes.total_bounds
    xs = [minx + (maxx - minx) * k / 3 for k in range(4)]
    boxes = {f"strip {k}": (xs[k] - 1e-4, miny - 1e-4, xs[k + 1], maxy + 1e-4) for k in range(3)}
    boxes["Sea"] = (24.0, 59.0, 24.01, 59.01)
    return area_frame(boxes)


@pytest.fixture(scope="module")
def serial_helsinki(tmp_path_factory, helsinki_inputs, helsinki_areas) -> Path:
    from circles.batch import run_batch

    out = tmp_path_factory.mktemp("serial") / "city"
    outcomes = run_batch(helsinki_inputs, helsinki_areas, out)
    assert [o.status for o in outcomes] == ["done"] * 3 + ["failed"]
    return out


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        c.wait_for_workers(2, timeout=TIMEOUT_S)
        yield c


def table_files(out: Path) -> list[Path]:
    """The batch's tables: the combined summary.csv and each area's summary.json and summary.csv."""
    files = [Path("summary.csv")]
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        files += [folder.relative_to(out) / "summary.json", folder.relative_to(out) / "summary.csv"]
    return files


def assert_same_tables(a: Path, b: Path) -> None:
    files = table_files(a)
    assert files == table_files(b)
    assert len(files) > 1
    for f in files:
        assert filecmp.cmp(a / f, b / f, shallow=False), f"{f} differs"


def test_local_cluster_gives_the_serial_tables_byte_for_byte(
    tmp_path, client, helsinki_inputs, helsinki_areas, serial_helsinki
):
    from circles.batch import run_batch

    out = tmp_path / "city"
    outcomes = run_batch(helsinki_inputs, helsinki_areas, out, scheduler=client)
    assert [o.name for o in outcomes] == helsinki_areas["name"].tolist()
    assert [o.status for o in outcomes] == ["done"] * 3 + ["failed"]
    # The failed area names the whole source's extent, as a serial run and `circles run` do.
    assert "the network source covers lon 24.9352 to 24.9534" in outcomes[-1].error
    assert_same_tables(serial_helsinki, out)
    from circles.outdir import area_folder_name

    for name in ("strip 0", "strip 2"):
        names = {p.name for p in (out / area_folder_name(name)).iterdir()}
        assert {"map.html", "map.png", "homes.gpkg", "service_areas.gpkg", ".circles-output.json"} <= names
    assert not list(out.glob(".circles-tmp-*")), "the work folder of extracts is removed"

    # A second run reuses every finished area without any task.
    again = run_batch(helsinki_inputs, helsinki_areas, out, scheduler=client)
    assert [o.status for o in again] == ["skipped"] * 3 + ["failed"]


def test_tasks_carry_only_their_own_area(helsinki_inputs, helsinki_areas):
    """An extract holds the area's homes, and streets and clinics within reach: never the whole city."""
    from circles.config import TravelSettings
    from circles.extracts import area_extract
    from circles.layers_io import layers_from_files, layers_to_files, source_extent_of

    extent = source_extent_of(helsinki_inputs)
    counts = []
    for geom in helsinki_areas.geometry.values[:3]:
        extract = area_extract(helsinki_inputs, geom, TravelSettings(), extent)
        back = layers_from_files(layers_to_files(extract))
        assert back.source_extent is not None
        assert shapely.intersects(geom, shapely.point_on_surface(back.homes.geometry.values)).all()
        assert len(back.walkways) <= len(helsinki_inputs.walkways)
        counts.append(len(back.homes))
    assert sum(counts) == len(helsinki_inputs.homes) == 59  # the strips partition the homes


def test_tasks_are_submitted_a_few_at_a_time(client, helsinki_inputs):
    """A long batch keeps only a few tasks (and so extracts) in flight, and every product comes back."""
    from circles.area_job import BatchOptions
    from circles.config import TravelSettings
    from circles.distributed import AreaTask, in_flight_limit, run_tasks
    from circles.extracts import area_extract
    from circles.layers_io import layers_to_files, source_extent_of

    sea = shapely.box(24.0, 59.0, 24.01, 59.01)  # fails at once: no streets within reach
    files = layers_to_files(
        area_extract(helsinki_inputs, sea, TravelSettings(), source_extent_of(helsinki_inputs))
    )
    made: list[int] = []
    published: list[tuple[int, str, str]] = []
    most = 0

    def tasks():
        nonlocal most
        for i in range(12):
            made.append(i)
            most = max(most, len(made) - len(published))
            boundary = gpd.GeoDataFrame({"name": [f"sea {i}"]}, geometry=[sea], crs=4326)
            yield AreaTask(i, f"sea {i}", f"sea-{i}", files, boundary, None, BatchOptions())

    run_tasks(
        client, tasks(), lambda task, product: published.append((task.index, product.status, product.error))
    )
    assert sorted(i for i, *_ in published) == list(range(12))
    assert all(status == "failed" and "no walkable streets" in error for _, status, error in published)
    assert 1 <= most <= in_flight_limit(client) < 12


def _kill_a_busy_worker(client, pids: dict[str, int], done: set, record: dict, stop: threading.Event) -> None:
    """SIGKILL the first worker seen computing an area that has not finished yet."""
    deadline = time.monotonic() + TIMEOUT_S
    while not stop.is_set() and time.monotonic() < deadline:
        for address, keys in client.processing().items():
            ours = [str(k) for k in keys if str(k).startswith("circles-area-")]
            busy = [k for k in ours if int(k.split("-")[-1]) not in done]
            if busy and address in pids:
                os.kill(pids[address], signal.SIGKILL)
                record.update(address=address, pid=pids[address], keys=busy)
                return
        time.sleep(0.02)


@pytest.mark.e2e
def test_a_worker_killed_mid_task_is_replaced_and_the_tables_are_the_same(
    tmp_path, client, helsinki_inputs, helsinki_areas, serial_helsinki
):
    from circles.batch import run_batch

    pids = client.run(os.getpid)
    done: set[int] = set()
    names = helsinki_areas["name"].tolist()
    record: dict = {}
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_busy_worker, args=(client, pids, done, record, stop))
    killer.start()
    try:
        outcomes = run_batch(
            helsinki_inputs,
            helsinki_areas,
            tmp_path / "city",
            scheduler=client,
            progress=lambda o: done.add(names.index(o.name)),
        )
    finally:
        stop.set()
        killer.join(TIMEOUT_S)
    assert record, "no worker was seen computing an area"
    assert record["pid"] not in client.run(os.getpid).values()  # that process is gone
    assert [o.status for o in outcomes] == ["done"] * 3 + ["failed"]
    assert_same_tables(serial_helsinki, tmp_path / "city")
    client.wait_for_workers(2, timeout=TIMEOUT_S)  # the nanny replaced it


@pytest.mark.e2e
@pytest.mark.shared_data
def test_nanjing_on_a_local_cluster_equals_serial(tmp_path, shared_data, client):
    from circles.batch import run_batch
    from circles.pipeline import osm_inputs

    inputs = osm_inputs(shared_data / NANJING, facilities="hospital")
    areas = area_frame(
        {
            "玄武西": (118.765, 32.033, 118.787, 32.052),
            "玄武东": (118.787, 32.033, 118.798, 32.052),
            "玄武": (118.765, 32.033, 118.798, 32.052),
        }
    )
    serial = run_batch(inputs, areas, tmp_path / "serial")
    assert [o.status for o in serial] == ["done"] * 3
    dask = run_batch(inputs, areas, tmp_path / "dask", scheduler=client, work_dir=tmp_path / "work")
    assert [o.status for o in dask] == ["done"] * 3
    assert_same_tables(tmp_path / "serial", tmp_path / "dask")
    assert sum(o.summary["homes"] for o in dask) > 500
    assert [p.name for p in (tmp_path / "work").iterdir()] == []  # the private work folder is removed


# --- a scheduler and workers started as their own processes -----------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dask_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("dask")), *args]


@pytest.fixture()
def scheduler_process(tmp_path):
    """``dask scheduler`` and ``dask worker`` (2 processes) on 127.0.0.1, stopped at the end."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "dask.log", "w")  # noqa: SIM115 - closed below
    procs = [
        subprocess.Popen(
            dask_command(
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
                "--scheduler-file",
                str(tmp_path / "scheduler.json"),
            ),
            stdout=log,
            stderr=log,
        )
    ]
    try:
        procs.append(
            subprocess.Popen(
                dask_command(
                    "worker",
                    address,
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--death-timeout",
                    "60",
                ),
                stdout=log,
                stderr=log,
            )
        )
        with Client(address, timeout=TIMEOUT_S) as c:
            c.wait_for_workers(2, timeout=TIMEOUT_S)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


def circles(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "circles", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
    )


@pytest.mark.e2e
def test_batch_against_a_separate_scheduler_process_equals_serial(
    tmp_path, helsinki_pbf, helsinki_areas, scheduler_process
):
    areas = tmp_path / "areas.geojson"
    helsinki_areas.rename(columns={"name": "area"}).to_file(areas, driver="GeoJSON")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    base = ["batch", "--pbf", str(helsinki_pbf), "--boundary", str(areas), "--name-field", "area"]
    base += ["--areas", "strip 0,Sea"]
    serial = circles(*base, "--out", str(tmp_path / "serial"), env=env)
    assert serial.returncode == 2, serial.stderr  # the area at sea fails
    # --scheduler without --work-dir: the extracts travel with the tasks.
    remote = circles(*base, "--scheduler", scheduler_process, "--out", str(tmp_path / "remote"), env=env)
    assert remote.returncode == 2, remote.stderr
    assert "Sea: failed" in remote.stderr
    assert_same_tables(tmp_path / "serial", tmp_path / "remote")
    # The scheduler from DASK_SCHEDULER_ADDRESS, extracts in a shared work folder.
    env_run = circles(
        *base,
        "--work-dir",
        str(tmp_path / "work"),
        "--out",
        str(tmp_path / "env"),
        env={**env, "DASK_SCHEDULER_ADDRESS": scheduler_process},
    )
    assert env_run.returncode == 2, env_run.stderr
    assert_same_tables(tmp_path / "serial", tmp_path / "env")
    assert list((tmp_path / "work").iterdir()) == []
    # A scheduler file names the same cluster.
    from circles.distributed import dask_client

    with dask_client(str(tmp_path / "scheduler.json")) as client:
        assert client.scheduler.address == scheduler_process
        assert len(client.scheduler_info()["workers"]) == 2


@pytest.mark.e2e
def test_an_unreachable_scheduler_is_one_line(tmp_path, helsinki_pbf, helsinki_areas):
    areas = tmp_path / "areas.geojson"
    helsinki_areas.rename(columns={"name": "area"}).to_file(areas, driver="GeoJSON")
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    proc = circles(
        "batch", "--pbf", str(helsinki_pbf), "--boundary", str(areas), "--name-field", "area",
        "--areas", "strip 0", "--scheduler", address, "--no-cache", "--out", str(tmp_path / "out"),
        env={**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith(f"circles: error: cannot reach the Dask scheduler at {address}")
    assert lines[-1].endswith("start the scheduler or check the address in --scheduler")


def test_scheduler_and_workers_together_are_refused_before_any_work(tmp_path, helsinki_pbf):
    proc = circles(
        "batch", "--pbf", str(helsinki_pbf), "--boundary", str(tmp_path / "missing.geojson"),
        "--scheduler", "tcp://127.0.0.1:1", "--workers", "2", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (
        "circles: error: --scheduler runs the areas on an existing Dask cluster and --workers starts a "
        "local one; give one of them"
    )
    assert not (tmp_path / "out").exists()
