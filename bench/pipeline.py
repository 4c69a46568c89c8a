"""Benchmark: the whole ``circles run`` from an OSM file to every output, stage by stage, at city scale.

For SYNTHETIC cities of about 100k, 300k and 1M walk edges (``synth.py``; not real places) and the
real Yuba County extract (skipped with a message when ../shared/data is absent) this measures, each
run in its own process:

* one bare pyosmium pass over the file (a handler counting ways, with node locations): what
  reading the file costs at least;
* ``circles run --pbf FILE --facilities osm:primary-care --out DIR``, with the time and peak
  resident memory of every stage (read, walk filter, homes, build arrays, population, snap,
  search, service areas, catchment areas, summaries, map.html, map.png, GeoPackages, other
  writing, start-up and exit), timed from outside by wrapping circles' functions (``_stages.py``);
* the straightforward pyrosm + networkx pipeline and the OSMnx ``graph_from_xml`` pipeline doing
  the same job on the same file (``_reference.py``), while they finish within ``--budget-s``
  and ``--mem-limit-gib``;

then how circles' time and memory grow with size (least-squares exponents over the synthetic
cities), and how the walk times agree (per home, matched by OSM id). Run it as::

    python bench/pipeline.py                 # 100k, 300k, 1M SYNTHETIC cities and Yuba (~30 min)
    python bench/pipeline.py --quick         # a 10k-edge SYNTHETIC city, all three tools (~1 min)
    python bench/pipeline.py --sizes 100000 --tools circles --repeats 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SHARED_DATA
from _stages import STAGE_ROWS, stage_seconds
from _workers import Spawned, spawn, worker_main

YUBA = SHARED_DATA / "benchmark_yuba_county_pbf" / "yuba_county_ca.osm.pbf"
FULL_SIZES, QUICK_SIZES = (100_000, 300_000, 1_000_000), (10_000,)
TOOLS = ("circles", "pyrosm", "osmnx")
SPEED_M_PER_MIN = 75.0  # circles' default, 4.5 km/h
GIB = 1024**2  # KiB per GiB
TOOL_KEYS = ("status", "wall_s", "peak_gib", "steps", "counts")


def _tool_entry(spawned: Spawned | None, steps: dict | None = None, counts: dict | None = None) -> dict:
    """One tool's result; every entry has the same keys (None where nothing was measured)."""
    entry = dict.fromkeys(TOOL_KEYS)
    if spawned is not None:
        entry["status"] = spawned.status
        if spawned.status == "ok":
            entry |= {
                "wall_s": spawned.wall_s,
                "peak_gib": spawned.peak_kib / GIB,
                "steps": steps,
                "counts": counts,
            }
    return entry


def _run_circles(path: Path, work: Path, args: argparse.Namespace) -> tuple[dict, dict | None]:
    """``--repeats`` runs of circles; the run with the median wall time is the one reported."""
    runs = []
    for _ in range(args.repeats):
        s = spawn(
            "circles",
            ["--file", str(path), "--out", str(work / "circles")],
            work,
            budget_s=1e9,
            mem_limit_gib=args.mem_limit_gib,
        )
        if s.status != "ok":
            return _tool_entry(s), None
        runs.append(s)
    runs.sort(key=lambda s: s.wall_s)
    chosen = runs[(len(runs) - 1) // 2]
    steps = stage_seconds(chosen.result, chosen.wall_s)
    entry = _tool_entry(chosen, steps, {"homes": chosen.result["summary"]["homes"]})
    entry["counts"] |= {"clinics": chosen.result["summary"]["facilities"], **(chosen.result["network"] or {})}
    chosen.result["all_walls_s"] = [s.wall_s for s in runs]
    return entry, chosen.result


def _run_reference(kind: str, path: Path, work: Path, args: argparse.Namespace) -> dict:
    extra = []
    if kind == "osmnx":
        walk_xml, all_xml = work / "walk.osm", work / "all.osm"
        if not all_xml.exists():
            import _reference

            _reference.write_xml(path, walk_xml, all_xml)
        extra = ["--xml", str(walk_xml), str(all_xml)]
    s = spawn(
        kind,
        ["--file", str(path), "--out", str(work / kind), *extra],
        work,
        budget_s=args.budget_s,
        mem_limit_gib=args.mem_limit_gib,
    )
    return _tool_entry(s, *((s.result["steps"], s.result["counts"]) if s.status == "ok" else ()))


def agreement(circles_dir: Path, ref_dir: Path) -> dict:
    """Walk times per home, matched by OSM id: how circles' differ from a reference's (minutes)."""
    import pyogrio

    cols = ["osm_id", "walk_time_min"]
    read = pyogrio.read_dataframe
    ours = read(circles_dir / "homes.gpkg", columns=[*cols, "building"], read_geometry=False)
    theirs = pyogrio.read_dataframe(ref_dir / "homes.gpkg", columns=cols, read_geometry=False)
    both = ours.merge(theirs, on="osm_id", suffixes=("_circles", "_ref"))
    a, b = both["walk_time_min_circles"].to_numpy(float), both["walk_time_min_ref"].to_numpy(float)
    ok = np.isfinite(a) & np.isfinite(b)
    diff = a[ok] - b[ok]
    # The references have no access legs: circles' time less its home's and its clinic's legs.
    fac = pyogrio.read_dataframe(circles_dir / "facilities.gpkg", read_geometry=False)
    home = (
        pyogrio.read_dataframe(
            circles_dir / "homes.gpkg",
            columns=["osm_id", "access_leg_m", "nearest_facility"],
            read_geometry=False,
        )
        .set_index("osm_id")
        .loc[both["osm_id"]]
    )
    legs_m = home["access_leg_m"].to_numpy(float) + home["nearest_facility"].map(
        dict(zip(fac["facility_id"], fac["access_leg_m"], strict=True))
    ).to_numpy(float)
    bare = (a - legs_m / SPEED_M_PER_MIN)[ok] - b[ok]
    return {
        "homes_circles": len(ours),
        "homes_circles_landuse_cells": int((ours["building"] == "landuse").sum()),
        "homes_ref": len(theirs),
        "homes_matched": len(both),
        "median_diff_min": float(np.median(diff)) if diff.size else None,
        "p95_abs_diff_min": float(np.percentile(np.abs(diff), 95)) if diff.size else None,
        "median_diff_without_legs_min": float(np.median(bare)) if bare.size else None,
        "p95_abs_diff_without_legs_min": float(np.percentile(np.abs(bare), 95)) if bare.size else None,
        "covered_share_circles": float(np.mean(a <= 15.0)),
        "covered_share_ref": float(np.mean(b <= 15.0)),
    }


def bench_dataset(key: str, label: str, path: Path, facts: dict, args, work: Path) -> dict:
    """Every tool on one file; prints the stage table and the comparison."""
    work.mkdir(parents=True, exist_ok=True)
    bare = [
        spawn("bare", ["--file", str(path)], work, budget_s=1e9, mem_limit_gib=args.mem_limit_gib)
        for _ in range(2)
    ]
    bare_s = min(b.result["seconds"] for b in bare) if all(b.status == "ok" for b in bare) else None
    row = {
        "key": key,
        "label": label,
        "file": str(path),
        "size_mb": path.stat().st_size / 1e6,
        **facts,
        "bare_pass_s": bare_s,
        "bare_ways": bare[0].result["ways"] if bare_s else None,
        "load_1min": os.getloadavg()[0],
        "tools": {},
        "agreement": {},
        "circles_run": None,
    }
    tools = args.tools.split(",")
    if "circles" in tools:
        row["tools"]["circles"], row["circles_run"] = _run_circles(path, work, args)
    for kind in ("pyrosm", "osmnx"):
        if kind in tools:
            row["tools"][kind] = _run_reference(kind, path, work, args)
            if row["tools"][kind]["status"] == "ok" and row["circles_run"]:
                row["agreement"][kind] = agreement(work / "circles", work / kind)
    row["load_1min_after"] = os.getloadavg()[0]
    from _pipeline_report import print_dataset

    print_dataset(row)
    return row


def _datasets(args: argparse.Namespace, data_dir: Path):
    from synth import synthetic_city

    for edges in args.sizes:
        path, facts = synthetic_city(edges, data_dir)
        yield f"synthetic-{edges // 1000}k", facts.label, path, {"synthetic": True, **vars(facts)}
    if args.real:
        if YUBA.is_file():
            yield "yuba", "Yuba County, CA (real OSM extract)", YUBA, {"synthetic": False}
        else:
            print(f"\n== yuba: skipped, {YUBA} is not there (set CIRCLES_SHARED_DATA)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 10k-edge SYNTHETIC city only, 1 run")
    parser.add_argument("--sizes", default=None, help="walk edges of SYNTHETIC cities (comma list, or none)")
    parser.add_argument("--no-real", dest="real", action="store_false", help="skip the Yuba extract")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma list of circles, pyrosm, osmnx")
    parser.add_argument("--repeats", type=int, default=1, help="circles runs per file (median reported)")
    parser.add_argument("--budget-s", type=float, default=None, help="seconds a reference run may take")
    parser.add_argument("--mem-limit-gib", type=float, default=10.0, help="stop a run above this RSS")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "circles-bench-cities")
    parser.add_argument("--work-dir", type=Path, default=None, help="keep every run's outputs here")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure as JSON here")
    for hidden in ("--worker", "--file", "--out", "--result"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--xml", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.worker, Path(args.file), Path(args.out or "."), Path(args.result), args.xml)
    if args.sizes == "none":
        args.sizes = []
    elif args.sizes:
        args.sizes = [int(x) for x in args.sizes.split(",")]
    else:
        args.sizes = list(QUICK_SIZES if args.quick else FULL_SIZES)
    args.real = args.real and not args.quick
    args.budget_s = args.budget_s or (300.0 if args.quick else 900.0)
    from _pipeline_report import INTRO, print_summary

    print(
        INTRO.format(
            budget_s=args.budget_s, mem=args.mem_limit_gib, cores=os.cpu_count(), load=os.getloadavg()[0]
        )
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="circles-bench-pipeline-") as tmp:
        work = args.work_dir or Path(tmp)
        for key, label, path, facts in _datasets(args, args.data_dir):
            print(f"\n== {key}: {label}\n   {path} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
            rows.append(bench_dataset(key, label, path, facts, args, work / key))
    fits = print_summary(rows)
    if args.json:
        args.json.write_text(json.dumps({"datasets": rows, "fits": fits, "stage_rows": STAGE_ROWS}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
