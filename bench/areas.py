"""Benchmark: service-area polygons for 5/10/15-minute bands, circles against the alternatives.

For each graph (Helsinki extract, Nanjing Xuanwu, Yuba County, and two SYNTHETIC district grids)
and each clinic count (10, 100 nodes chosen with a fixed seed), after one multi-source search,
this times building the three band polygons (375, 750 and 1,125 m at 75 m/min, 50 m buffer):

* ``circles``        ``circles.areas.service_areas``: exact reached pieces joined into long paths,
  buffered, dissolved; each band built on the previous one; two spatial slices dissolved on
  two threads (``circles-1t``: the same on one thread);
* ``catchments``     ``circles.areas.service_areas_by_facility`` for the 15-minute band: one
  polygon per clinic, the streets it reaches first (an extra product, not a band polygon);
* ``naive``          the previous implementation: every reached piece buffered on its own
  (``quad_segs=4``), then ``shapely.union_all`` per band;
* ``osmnx-hull``     the OSMnx isochrone notebook: for each clinic and band
  ``networkx.ego_graph(G, clinic, radius, distance="length")`` and the convex hull of its nodes,
  then the union of the clinics' hulls per band;
* ``osmnx-buffer``   the notebook's "better" variant (``make_iso_polys``): nodes and edges of each
  ego graph buffered (here both by 50 m, the width circles uses) and unioned, then the clinics'
  polygons unioned per band.

The last two neither follow partly reached edges nor exclude the unreached middle of an edge
whose two ends are reached; the hull also swallows everything between streets. The second table
shows the 15-minute area each method draws and how far it is from circles' (symmetric difference
as a share of circles' area). Slow OSMnx rows stop after ``--budget-s`` seconds and extrapolate
linearly from the clinic-bands done (marked ``~``).

Seconds are the best of ``--repeat`` runs (wall clock; the JSON also has CPU seconds and the load
average, as other processes on the machine slow wall-clock figures down). Graphs read from
../shared/data are skipped with a message when absent. Run ``python bench/areas.py`` (about
10 minutes) or ``--quick`` for a smoke run; ``--json PATH`` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

if TYPE_CHECKING:
    import networkx as nx

    from circles.engine import NodeCosts, Snapped
from circles.network import WalkNetwork

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import GRAPHS, SEED, choose_facilities, load_osm_network, osm_path

BANDS_MIN = (5.0, 10.0, 15.0)
SPEED_M_PER_MIN = 75.0
BANDS_M = tuple(b * SPEED_M_PER_MIN for b in BANDS_MIN)
BUFFER_M = 50.0
METHODS = ("circles", "circles-1t", "catchments", "naive", "osmnx-hull", "osmnx-buffer")

# Two SYNTHETIC districts (not real cities): a jittered grid of blocks whose sides are drawn,
# like OSM ways, as several slightly bent straight segments, 10% of block sides removed.
SYNTHETIC = {
    # ~51k straight segments (~6.4k block sides): 60 x 60 nodes, 150 m blocks, 8 segments a side.
    "synthetic": dict(side=60, block_m=150.0, segments=8, label="SYNTHETIC district, 51k segments"),
    # ~51k block sides (what OSMnx would count as edges), 3 segments each: ~153k segments.
    "synthetic-xl": dict(
        side=160, block_m=100.0, segments=3, label="SYNTHETIC district, 51k OSMnx-style edges"
    ),
}


def synthetic_district(side: int, block_m: float, segments: int, seed: int = SEED) -> WalkNetwork:
    """A SYNTHETIC district: ``side x side`` jittered block corners, bent multi-segment block sides."""
    from circles.network import WalkNetwork

    rng = np.random.default_rng(seed)
    row, col = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    corner = np.column_stack([col.ravel(), row.ravel()]) * block_m
    corner += rng.normal(0.0, 0.1 * block_m, corner.shape) + np.array([500_000.0, 3_500_000.0])
    node = np.arange(side * side).reshape(side, side)
    a = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    b = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    keep = rng.random(a.size) >= 0.1
    a, b = a[keep], b[keep]
    step = np.arange(1, segments) / segments
    d = corner[b] - corner[a]
    normal = np.column_stack([-d[:, 1], d[:, 0]]) / np.hypot(d[:, 0], d[:, 1])[:, None]
    bend = rng.normal(0.0, 2.0, (a.size, segments - 1))
    inner = corner[a][:, None] + step[None, :, None] * d[:, None] + bend[..., None] * normal[:, None]
    inner_id = side * side + np.arange(a.size * (segments - 1)).reshape(a.size, segments - 1)
    chain = np.column_stack([a, inner_id, b])
    xy = np.vstack([corner, inner.reshape(-1, 2)])
    return WalkNetwork.from_arrays(xy, chain[:, :-1].ravel(), chain[:, 1:].ravel(), "EPSG:32650")


@dataclass
class Case:
    """One graph with one clinic set, searched once."""

    graph: str
    network: WalkNetwork
    clinic_nodes: np.ndarray
    facilities: Snapped
    nodes: NodeCosts
    nx_graph: nx.Graph


@dataclass
class Timing:
    seconds: float
    cpu_seconds: float
    done_share: float = 1.0
    polygons: list = field(default_factory=list)  # one per band (empty when extrapolated)


def to_networkx(network: WalkNetwork) -> nx.Graph:
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(network.n_nodes))
    g.add_weighted_edges_from(
        zip(network.edge_u.tolist(), network.edge_v.tolist(), network.edge_length_m.tolist(), strict=True),
        weight="length",
    )
    return g


def make_case(graph: str, network: WalkNetwork, n_clinics: int, nx_graph: nx.Graph) -> Case:
    from circles.engine import search

    clinic_nodes = choose_facilities(network, n_clinics)
    facilities = network.snap(network.node_xy[clinic_nodes], max_access_leg_m=250.0)
    nodes = search(network.travel_graph, facilities, limit=BANDS_M[-1])
    return Case(graph, network, clinic_nodes, facilities, nodes, nx_graph)


def timed(func: Callable[[], list], repeat: int) -> Timing:
    best: Timing | None = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        polygons = func()
        run = Timing(time.perf_counter() - t0, time.process_time() - c0, 1.0, polygons)
        if best is None or run.seconds < best.seconds:
            best = run
    assert best is not None
    return best


# --- the methods ------------------------------------------------------------------------------------


def circles_bands(case: Case, workers: int) -> list:
    from circles.areas import service_areas

    return service_areas(case.network, case.nodes, case.facilities, BANDS_M, BUFFER_M, workers=workers)


def circles_catchments(case: Case) -> list:
    from circles.areas import service_areas_by_facility

    return list(service_areas_by_facility(case.network, case.nodes, case.facilities, BANDS_M[-1], BUFFER_M))


def naive_bands(case: Case) -> list:
    from circles.areas import piece_lines, reached_pieces

    out = []
    for limit_m in BANDS_M:
        lines = piece_lines(case.network, *reached_pieces(case.network, case.nodes, case.facilities, limit_m))
        out.append(shapely.union_all(shapely.buffer(lines, BUFFER_M, quad_segs=4)))
    return out


def osmnx_notebook(case: Case, variant: str, budget_s: float) -> Timing:
    """The OSMnx isochrone notebook, clinic by clinic and band by band, stopping at the budget."""
    import networkx as nx

    xy = case.network.node_xy
    jobs = [(band, int(c)) for band in range(len(BANDS_M)) for c in case.clinic_nodes]
    per_band: list[list] = [[] for _ in BANDS_M]
    t0, c0 = time.perf_counter(), time.process_time()
    for done, (band, clinic) in enumerate(jobs, start=1):
        sub = nx.ego_graph(case.nx_graph, clinic, radius=BANDS_M[band], distance="length")
        reached = np.fromiter(sub.nodes, dtype=np.int64)
        if variant == "hull":
            polygon = shapely.multipoints(xy[reached]).convex_hull
        else:
            ends = np.array(list(sub.edges), dtype=np.int64).reshape(-1, 2)
            lines = shapely.linestrings(np.stack([xy[ends[:, 0]], xy[ends[:, 1]]], axis=1))
            points = shapely.points(xy[reached])
            polygon = shapely.union_all(
                np.concatenate([shapely.buffer(points, BUFFER_M), shapely.buffer(lines, BUFFER_M)])
            )
        per_band[band].append(polygon)
        if time.perf_counter() - t0 > budget_s and done < len(jobs):
            share = done / len(jobs)
            return Timing((time.perf_counter() - t0) / share, (time.process_time() - c0) / share, share)
    polygons = [shapely.union_all(p) for p in per_band]
    return Timing(time.perf_counter() - t0, time.process_time() - c0, 1.0, polygons)


def run_case(case: Case, repeat: int, budget_s: float, methods: tuple[str, ...]) -> dict[str, Timing]:
    runs: dict[str, Callable[[], Timing]] = {
        "circles": lambda: timed(lambda: circles_bands(case, workers=2), repeat),
        "circles-1t": lambda: timed(lambda: circles_bands(case, workers=1), repeat),
        "catchments": lambda: timed(lambda: circles_catchments(case), repeat),
        "naive": lambda: timed(lambda: naive_bands(case), repeat),
        "osmnx-hull": lambda: osmnx_notebook(case, "hull", budget_s),
        "osmnx-buffer": lambda: osmnx_notebook(case, "buffer", budget_s),
    }
    out = {m: runs[m]() for m in methods}
    if "catchments" in out:  # for the area table only: the clinics' polygons together (untimed)
        out["catchments"].polygons = [shapely.union_all(out["catchments"].polygons)]
    return out


# --- driver -------------------------------------------------------------------------------------------


def load_graph(key: str) -> tuple[WalkNetwork, str] | None:
    if key in SYNTHETIC:
        spec = SYNTHETIC[key]
        net = synthetic_district(int(spec["side"]), float(spec["block_m"]), int(spec["segments"]))
        return net, str(spec["label"])
    spec = GRAPHS[key]
    path = osm_path(spec)
    if path is None:
        print(f"skipping {key}: {spec.source} is not in the shared data folder", file=sys.stderr)
        return None
    net, _ = load_osm_network(path)
    return net, spec.label


def fmt_seconds(t: Timing | None) -> str:
    if t is None:
        return "-"
    return f"~{t.seconds:.0f}" if t.done_share < 1 else f"{t.seconds:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", default="helsinki,nanjing,yuba,synthetic,synthetic-xl")
    parser.add_argument("--clinics", default="10,100")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=60.0, help="stop an OSMnx row after this long")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--quick", action="store_true", help="smoke run: Helsinki, 10 clinics, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.graphs, args.clinics, args.repeat, args.budget_s = "helsinki", "10", 1, 2.0
    methods = tuple(m for m in args.methods.split(",") if m)
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from {', '.join(METHODS)}")

    load_before = os.getloadavg()
    rows = []
    for key in args.graphs.split(","):
        loaded = load_graph(key)
        if loaded is None:
            continue
        network, label = loaded
        nx_graph = to_networkx(network) if {"osmnx-hull", "osmnx-buffer"} & set(methods) else None
        for k in (int(c) for c in args.clinics.split(",")):
            case = make_case(key, network, k, nx_graph)
            timings = run_case(case, args.repeat, args.budget_s, methods)
            ref = timings.get("circles") or timings.get("circles-1t")
            ref_15 = ref.polygons[-1] if ref is not None and ref.polygons else None
            areas = {}
            for m, t in timings.items():
                p = t.polygons[-1] if t.polygons else None
                off = None
                if p is not None and ref_15 is not None:
                    off = 100 * shapely.symmetric_difference(p, ref_15).area / ref_15.area
                areas[m] = {
                    "area_15min_km2": None if p is None else p.area / 1e6,
                    "symdiff_vs_circles_pct": off,
                }
            row = {
                "graph": key,
                "label": label,
                "nodes": network.n_nodes,
                "edges": network.n_edges,
                "length_km": float(network.edge_length_m.sum() / 1000),
                "clinics": k,
                "seconds": {m: t.seconds for m, t in timings.items()},
                "cpu_seconds": {m: t.cpu_seconds for m, t in timings.items()},
                "done_share": {m: t.done_share for m, t in timings.items()},
                **{"areas": areas},
            }
            rows.append(row)
            print(
                f"{key:13s} {k:4d} clinics: "
                + "  ".join(f"{m} {fmt_seconds(t)}" for m, t in timings.items()),
                file=sys.stderr,
                flush=True,
            )
    load_after = os.getloadavg()
    sys.stderr.flush()

    bands = ", ".join(f"{b:g}" for b in BANDS_M)
    bands = ", ".join(f"{b:g}" for b in BANDS_M)
    print(f"\nService areas, {len(BANDS_M)} bands ({bands} m), buffer {BUFFER_M:g} m.")
    print(f"Best of {args.repeat} runs; ~ = extrapolated after {args.budget_s:g} s. Load average", end=" ")
    print(f"{load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} CPUs.\n")
    tables = (("Wall-clock seconds", "seconds"), ("CPU seconds (all threads)", "cpu_seconds"))
    for title, field_name in tables:
        header = f"{'graph':14s}{'edges':>8s}{'clinics':>8s}" + "".join(f"{m:>13s}" for m in methods)
        print(f"{title}:")
        print(header)
        print("-" * len(header))
        for r in rows:
            cells = ""
            for m in methods:
                value, extrapolated = r[field_name][m], r["done_share"][m] < 1
                cells += f"{f'~{value:.0f}' if extrapolated else f'{value:.3f}':>13s}"
            print(f"{r['graph']:14s}{r['edges']:8d}{r['clinics']:8d}{cells}")
        print()
    print("15-minute area, km2 (and symmetric difference from circles, % of its area):")
    print(f"{'graph':14s}{'clinics':>8s}" + "".join(f"{m:>20s}" for m in methods))
    for r in rows:
        cells = ""
        for m in methods:
            a = r["areas"][m]
            cell = "-" if a["area_15min_km2"] is None else f"{a['area_15min_km2']:.3f}"
            if a["symdiff_vs_circles_pct"] is not None and m not in ("circles", "circles-1t"):
                cell += f" ({a['symdiff_vs_circles_pct']:.1f}%)"
            cells += f"{cell:>20s}"
        print(f"{r['graph']:14s}{r['clinics']:8d}{cells}")
    print()
    for key in {r["graph"] for r in rows} & set(SYNTHETIC):
        print(f"{key}: {SYNTHETIC[key]['label']} (not a real city)")
    if args.json:
        payload = {
            "bands_m": BANDS_M,
            "buffer_m": BUFFER_M,
            "repeat": args.repeat,
            "budget_s": args.budget_s,
            "cpu_count": os.cpu_count(),
            "load_average_before_after": [load_before, load_after],
            "shapely": shapely.__version__,
            "geos": ".".join(map(str, shapely.geos_version)),
            "rows": rows,
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
