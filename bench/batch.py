"""Serial batch vs a local Dask cluster on one city cut into areas: time, memory, bytes per task, cache.

    python bench/batch.py --pbf city.osm.pbf --grid 3x3              # any extract, cut in a grid
    python bench/batch.py --edges 100000 --grid 3x3                   # a SYNTHETIC city (bench/synth.py)
    python bench/batch.py --quick                                     # Helsinki demo, 2x2 (smoke run)

Each mode runs in its own fresh process, so peak memory is that mode's alone:

- ``parse``: ``load_inputs`` (one pyosmium pass + layers), then the cache hit that replaces it;
- ``serial``: ``run_batch`` in one process (no Dask);
- ``dask-N``: ``run_batch`` on a ``LocalCluster`` of N worker processes (one thread each), the
  client writing every area folder; peak RSS of the client and of each worker process.

Bytes shipped per task are counted, not estimated: the pickled task (what the scheduler sends),
the area's extract (GeoParquet files a worker reads from the work folder) and the result (the
files a worker returns). Times are wall-clock on this machine; say how loaded it was.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def grid_areas(inputs, cols: int, rows: int):
    import geopandas as gpd
    import shapely

    minx, miny, maxx, maxy = inputs.homes.total_bounds
    dx, dy = (maxx - minx) / cols, (maxy - miny) / rows
    boxes, names = [], []
    for r in range(rows):
        for c in range(cols):
            boxes.append(shapely.box(minx + c * dx, miny + r * dy, minx + (c + 1) * dx, miny + (r + 1) * dy))
            names.append(f"cell {r}-{c}")
    return gpd.GeoDataFrame({"name": names}, geometry=boxes, crs=4326)


def mode_parse(pbf: Path, cache: Path) -> dict:
    from circles.cache import load_inputs_cached
    from circles.sources.assemble import SourceSpec, load_inputs

    spec = SourceSpec("pbf", pbf)
    t0 = time.perf_counter()
    load_inputs(spec)
    parse_s = time.perf_counter() - t0
    load_inputs_cached(spec, cache_dir=cache)  # miss: parse and store
    t0 = time.perf_counter()
    _, hit = load_inputs_cached(spec, cache_dir=cache)
    hit_s = time.perf_counter() - t0
    assert hit.status == "hit"
    size = sum(p.stat().st_size for p in hit.entry.iterdir())
    return {
        "parse_s": parse_s,
        "cache_hit_s": hit_s,
        "cache_entry_mib": size / 2**20,
        "peak_mib": _peak_mib(),
    }


def mode_batch(pbf: Path, grid: tuple[int, int], workers: int, out: Path, cache: Path) -> dict:
    from circles.batch import run_batch
    from circles.cache import load_inputs_cached
    from circles.sources.assemble import SourceSpec

    inputs, _ = load_inputs_cached(SourceSpec("pbf", pbf), cache_dir=cache)
    areas = grid_areas(inputs, *grid)
    row: dict = {"areas": len(areas)}
    cpu0 = _cpu_s()
    t0 = time.perf_counter()
    if workers == 1:
        outcomes = run_batch(inputs, areas, out)
    else:
        from circles.distributed import dask_client

        with dask_client(None, workers) as client:
            row["cluster_start_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            outcomes = run_batch(inputs, areas, out, scheduler=client)
            peaks = client.run(_peak_mib)
            row["worker_peak_mib"] = sorted(peaks.values())
            row["worker_cpu_s"] = sum(client.run(_cpu_s).values())
    row["batch_s"] = time.perf_counter() - t0
    row["cpu_s"] = _cpu_s() - cpu0 + row.get("worker_cpu_s", 0.0)
    row["done"] = sum(o.status == "done" for o in outcomes)
    row["client_peak_mib"] = _peak_mib()
    row.update(_bytes_per_task(inputs, areas, out))
    return row


def _bytes_per_task(inputs, areas, out: Path) -> dict:
    """Median bytes of a task message, its extract and its result (counted from the real objects)."""
    import numpy as np

    from circles.area_job import BatchOptions
    from circles.config import TravelSettings
    from circles.distributed import AreaTask
    from circles.extracts import area_extract
    from circles.layers_io import layers_to_files, source_extent_of
    from circles.outdir import area_folder_name

    extent = source_extent_of(inputs)
    task_b, extract_b, result_b = [], [], []
    for i, (name, geom) in enumerate(zip(areas["name"], areas.geometry.values, strict=True)):
        files = layers_to_files(area_extract(inputs, geom, TravelSettings(), extent))
        extract_b.append(sum(len(d) for d in files.values()))
        task = AreaTask(
            i, name, area_folder_name(name), "/work/x/000001", areas.iloc[[i]], None, BatchOptions()
        )
        task_b.append(len(pickle.dumps(task)))
        folder = out / area_folder_name(name)
        result_b.append(sum(p.stat().st_size for p in folder.iterdir() if p.is_file()))
    whole = sum(len(d) for d in layers_to_files(inputs).values())
    return {
        "task_kib": float(np.median(task_b)) / 1024,
        "extract_mib": float(np.median(extract_b)) / 2**20,
        "result_mib": float(np.median(result_b)) / 2**20,
        "whole_city_mib": whole / 2**20,
    }


def run_mode(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--_mode", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"mode {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_table(label: str, parse: dict, rows: dict[str, dict]) -> None:
    print(f"\n{label}")
    parse_s, peak = parse["parse_s"], parse["peak_mib"]
    print(f"parse (load_inputs, one pyosmium pass + layers): {parse_s:.1f} s, peak {peak:.0f} MiB")
    print(f"cache hit (GeoParquet, {parse['cache_entry_mib']:.1f} MiB): {parse['cache_hit_s']:.2f} s "
          f"({parse['parse_s'] / parse['cache_hit_s']:.0f}x faster than parsing)")  # fmt: skip
    print("| mode | areas done | batch wall s | CPU s (all processes) | cluster start s | client peak MiB | "
          "worker peak MiB | task KiB | extract MiB | result MiB | whole city MiB |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode, r in rows.items():
        workers = ", ".join(f"{m:.0f}" for m in r.get("worker_peak_mib", [])) or "-"
        start = f"{r['cluster_start_s']:.1f}" if "cluster_start_s" in r else "-"
        cells = [
            mode,
            f"{r['done']}/{r['areas']}",
            f"{r['batch_s']:.1f}",
            f"{r['cpu_s']:.1f}",
            start,
            f"{r['client_peak_mib']:.0f}",
        ]
        cells += [workers, f"{r['task_kib']:.1f}", f"{r['extract_mib']:.2f}", f"{r['result_mib']:.2f}"]
        print("| " + " | ".join([*cells, f"{r['whole_city_mib']:.1f}"]) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pbf", type=Path, help="an .osm.pbf extract")
    p.add_argument("--edges", type=int, help="generate a SYNTHETIC city of about this many walk edges")
    p.add_argument("--grid", default="3x3", help="areas as COLSxROWS cells over the homes' extent")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="Helsinki demo in 2x2 cells")
    p.add_argument("--_mode", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._mode:
        mode, *rest = args._mode
        if mode == "parse":
            row = mode_parse(Path(rest[0]), Path(rest[1]))
        else:
            cols, rows = (int(v) for v in rest[1].split("x"))
            row = mode_batch(Path(rest[0]), (cols, rows), int(rest[2]), Path(rest[3]), Path(rest[4]))
        print(json.dumps(row))
        return
    with tempfile.TemporaryDirectory(prefix="circles-bench-batch-") as tmp:
        tmp_path = Path(tmp)
        if args.quick:
            from circles.demo import demo_pbf

            pbf, label, args.grid = demo_pbf(), "Helsinki demo extract (real)", "2x2"
        elif args.edges:
            pbf = tmp_path / "city.osm.pbf"
            synth = [sys.executable, str(HERE / "synth.py"), "--edges", str(args.edges), "--out", str(pbf)]
            subprocess.run(synth, check=True, stdout=subprocess.DEVNULL)
            label = f"SYNTHETIC city (not a real place), about {args.edges:,} walk edges"
        else:
            pbf, label = args.pbf, f"{args.pbf.name}"
        cache = tmp_path / "cache"
        parse = run_mode(["parse", str(pbf), str(cache)])
        rows = {}
        for workers in (1, args.workers):
            name = "serial" if workers == 1 else f"dask LocalCluster({workers})"
            out = tmp_path / f"out-{workers}"
            rows[name] = run_mode(["batch", str(pbf), args.grid, str(workers), str(out), str(cache)])
        print_table(f"{label}, {args.grid} areas, {os.cpu_count()} cores", parse, rows)


if __name__ == "__main__":
    main()
