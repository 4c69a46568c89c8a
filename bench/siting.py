"""Benchmark: new-site solvers (circles.planning) on SYNTHETIC covering instances, and spopt.

Each instance is a SYNTHETIC city, not a real one: demand points (homes; 70% in Gaussian
neighbourhoods of 400 m, 30% spread evenly) at ``--demand-per-km2``, candidate sites spread
uniformly at a tenth of that density, existing clinics at random demand points (one per
``--km2-per-clinic``), and coverage = straight distance within ``--radius-m`` (800 m: a
15-minute walk of 1,125 m at a typical network detour of 1.4). The study area grows with the
demand count, so every size has the same local structure. Residents per demand point: Poisson(20).

For each size it times, with the peak extra resident memory of each call (``_common.PeakMemory``):

* ``MCLP exact``     ``max_cover(..., method="exact")``: greedy, the Lagrangian relaxation (300
  subgradient steps: a bound and the best sites met), then HiGHS on the aggregated integer
  programme unless the optimum is already proved;
* ``MCLP greedy``    plain greedy and its online bound (``lagrangian_iterations=0, lp_bound=False``);
* ``MCLP fast``      ``method="greedy", lp_bound=False``: greedy + the Lagrangian bound and sites;
* ``MCLP fast+LP``   ``method="greedy"``: the same and the LP relaxation (within the time limit);
* ``LSCP exact``, ``LSCP greedy``: ``set_cover``;
* ``CMCLP 20k greedy`` ``capacitated_max_cover(..., method="greedy", lp_bound=False)`` with 20,000
  residents per site (and the other ``--capacities``): capacity-aware greedy on integer maximum
  flows, with its online bound;
* ``CMCLP 20k exact`` the same, then the mixed-integer programme unless greedy is proved optimal or
  the programme exceeds ``max_programme_pairs`` (2 million; status "too large");
* ``spopt MCLP``     ``spopt.locate.MCLP.from_cost_matrix`` with ``predefined_facilities_arr`` and
  pulp's bundled CBC, in a subprocess with a timeout, on the same coverage (a dense cost matrix),
  until a size times out or its dense matrix would exceed ``--spopt-max-cells``; it solves
  ``--spopt-k`` new sites (2), and so does a ``MCLP exact k=2`` row of circles on the same instance.

``--quality N`` also brute-forces N small random instances to count how often greedy is optimal.

Run ``python bench/siting.py`` (~30-40 min) or ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SEED, PeakMemory

FULL_SIZES = (2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
QUICK_SIZES = (1_000, 2_000)


def synthetic_instance(n_demand: int, args: argparse.Namespace, seed: int = SEED) -> dict:
    """A SYNTHETIC covering instance (see the module docstring)."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed + n_demand)
    area_km2 = n_demand / args.demand_per_km2
    side_m = np.sqrt(area_km2) * 1000.0
    n_hoods = max(1, round(area_km2 / 4))
    centres = rng.uniform(0, side_m, (n_hoods, 2))
    n_near = int(0.7 * n_demand)
    pts = centres[rng.integers(0, n_hoods, n_near)] + rng.normal(0, 400, (n_near, 2))
    pts = np.clip(np.vstack([pts, rng.uniform(0, side_m, (n_demand - n_near, 2))]), 0, side_m)
    n_cand = max(1, n_demand // 10)
    cand = rng.uniform(0, side_m, (n_cand, 2))
    n_exist = max(1, round(area_km2 / args.km2_per_clinic))
    exist = pts[rng.choice(n_demand, n_exist, replace=False)]
    tree = cKDTree(pts)
    return {
        "area_km2": area_km2,
        "cover": _ball_cover(tree, cand, args.radius_m, n_demand),
        "existing": _ball_cover(tree, exist, args.radius_m, n_demand),
        "weight": rng.poisson(20, n_demand).astype(float),
    }


def _ball_cover(tree, centres: np.ndarray, radius_m: float, n_demand: int) -> sp.csr_matrix:
    """(sites x demand) bool: demand within ``radius_m`` of each site, built in chunks."""
    ptr, parts = [0], []
    for start in range(0, len(centres), 500):
        lists = tree.query_ball_point(centres[start : start + 500], radius_m)
        parts.extend(np.sort(np.asarray(ids, dtype=np.int32)) for ids in lists)
        ptr.extend(len(ids) for ids in lists)
    ind = np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
    return sp.csr_matrix((np.ones(ind.size, bool), ind, np.cumsum(ptr)), shape=(len(centres), n_demand))


def _row(size: dict, label: str, fn) -> dict:
    load = os.getloadavg()[0]
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        res = fn()
        wall = time.perf_counter() - t0
    return {
        **size,
        "run": label,
        "wall_s": wall,
        "solver_s": res.solve_time_s,
        "peak_MiB": mem.extra_mib,
        "status": res.status,
        "method": res.method,
        "objective": res.objective,
        "bound": res.bound,
        "gap": res.gap,
        "bound_source": res.bound_source,
        "sites": int(res.sites.size),
        "load": load,
    }


def run_size(n_demand: int, args: argparse.Namespace, workdir: Path) -> list[dict]:
    from circles.planning.capacitated import capacitated_max_cover
    from circles.planning.covering import max_cover, set_cover
    from circles.planning.greedy import aggregate, as_cover, covered_by

    t0 = time.perf_counter()
    inst = synthetic_instance(n_demand, args)
    build_s = time.perf_counter() - t0
    cover, existing, w = inst["cover"], inst["existing"], inst["weight"]
    covered = covered_by(existing)
    reach = np.asarray(cover.sum(axis=0)).ravel() > 0
    open_demand = (w > 0) & ~covered & reach
    groups = aggregate(as_cover(cover), w, open_demand)
    size = {
        "demand": n_demand,
        "candidates": cover.shape[0],
        "existing": existing.shape[0],
        "area_km2": inst["area_km2"],
        "nnz": int(cover.nnz),
        "open_demand": int(open_demand.sum()),
        "groups": groups.n,
        "covered_share": float(w[covered].sum() / w.sum()),
        "build_s": build_s,
    }
    _print_size(size)
    k, limit = args.k, args.time_limit_s
    pure = {"method": "greedy", "lagrangian_iterations": 0, "lp_bound": False}
    runs = {
        "MCLP exact": lambda: max_cover(cover, w, k, covered=covered, solver_time_limit_s=limit),
        "MCLP greedy": lambda: max_cover(cover, w, k, covered=covered, **pure),
        "MCLP fast": lambda: max_cover(cover, w, k, covered=covered, method="greedy", lp_bound=False),
        "MCLP fast+LP": lambda: max_cover(
            cover, w, k, covered=covered, method="greedy", solver_time_limit_s=limit
        ),
        "LSCP exact": lambda: set_cover(cover, w, covered=covered, solver_time_limit_s=limit),
        "LSCP greedy": lambda: set_cover(
            cover, w, covered=covered, method="greedy", solver_time_limit_s=limit
        ),
    }
    for cap in args.capacities:
        tag = f"CMCLP {cap / 1000:g}k"
        runs[f"{tag} greedy"] = lambda cap=cap: capacitated_max_cover(
            cover, w, k, existing_cover=existing, capacity=cap, method="greedy", lp_bound=False
        )
        runs[f"{tag} exact"] = lambda cap=cap: capacitated_max_cover(
            cover, w, k, existing_cover=existing, capacity=cap, solver_time_limit_s=limit
        )
    rows = []
    for label, fn in runs.items():
        if args.problems and not any(label.startswith(p) for p in args.problems):
            continue
        rows.append(_row(size, label, fn))
        _print_row(rows[-1])
    if args.spopt and not args.spopt_stopped:
        sk = args.spopt_k
        label = f"MCLP exact k={sk}"
        rows.append(
            _row(size, label, lambda: max_cover(cover, w, sk, covered=covered, solver_time_limit_s=limit))
        )
        _print_row(rows[-1])
        rows.append(_spopt_row(size, inst, args, workdir))
        _print_row(rows[-1])
    return rows


# --- spopt in a subprocess --------------------------------------------------------------------------


def _spopt_row(size: dict, inst: dict, args: argparse.Namespace, workdir: Path) -> dict:
    cells = size["demand"] * (size["candidates"] + size["existing"])
    row = {**size, "run": f"spopt MCLP k={args.spopt_k}", "method": "spopt + CBC", "load": os.getloadavg()[0]}
    if cells > args.spopt_max_cells:
        args.spopt_stopped = True
        gib = cells * 8 / 2**30
        return row | {"status": f"not run: dense cost matrix {gib:.1f} GiB > --spopt-max-cells"}
    npz = workdir / f"inst_{size['demand']}.npz"
    c, e = inst["cover"], inst["existing"]
    np.savez(npz, c_ind=c.indices, c_ptr=c.indptr, e_ind=e.indices, e_ptr=e.indptr, w=inst["weight"])
    out = npz.with_suffix(".json")
    cmd = [sys.executable, __file__, "--spopt-worker", str(npz), "--k", str(args.spopt_k), "--out", str(out)]
    proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        proc.wait(timeout=args.spopt_timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker's session: it and its CBC process
        proc.wait()
        args.spopt_stopped = True
        return row | {"status": f"timeout after {args.spopt_timeout_s:.0f} s (killed)"}
    if proc.returncode != 0 or not out.exists():
        args.spopt_stopped = True
        return row | {"status": f"failed (exit {proc.returncode})"}
    return row | json.loads(out.read_text())


def spopt_worker(npz: Path, k: int, out: Path) -> None:
    import warnings

    import pulp
    from spopt.locate import MCLP

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    d = np.load(npz)
    n_d = d["w"].size
    c = sp.csr_matrix(
        (np.ones(d["c_ind"].size, bool), d["c_ind"], d["c_ptr"]), shape=(d["c_ptr"].size - 1, n_d)
    )
    e = sp.csr_matrix(
        (np.ones(d["e_ind"].size, bool), d["e_ind"], d["e_ptr"]), shape=(d["e_ptr"].size - 1, n_d)
    )
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        cost = np.where(sp.vstack([e, c]).T.toarray(), 0.0, 2.0)
        predefined = np.r_[np.ones(e.shape[0]), np.zeros(c.shape[0])].astype(int)
        model = MCLP.from_cost_matrix(cost, d["w"], 1.0, e.shape[0] + k, predefined_facilities_arr=predefined)
        t1 = time.perf_counter()
        model.solve(pulp.PULP_CBC_CMD(msg=False), results=False)
        t2 = time.perf_counter()
    total = float(pulp.value(model.problem.objective))
    covered_before = float(d["w"][np.asarray(e.sum(axis=0)).ravel() > 0].sum())
    cbc_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out.write_text(
        json.dumps(
            {
                "wall_s": t2 - t0,
                "solver_s": t2 - t1,
                "peak_MiB": mem.extra_mib,
                "cbc_MiB": cbc_mib,
                "status": pulp.LpStatus[model.problem.status].lower(),
                "objective": total - covered_before,
                "notes": f"model build {t1 - t0:.1f} s",
            }
        )
    )


# --- greedy quality on brute-forced instances --------------------------------------------------------


def greedy_quality(n_instances: int) -> dict:
    """How often greedy MCLP is optimal on small random instances (brute force over subsets)."""
    import itertools

    from circles.planning.covering import max_cover

    ratios, bound_gaps = [], []
    for i in range(n_instances):
        rng = np.random.default_rng(SEED + i)
        demand, cand = rng.uniform(0, 10, (40, 2)), rng.uniform(0, 10, (12, 2))
        c = np.linalg.norm(cand[:, None] - demand[None], axis=2) <= rng.uniform(1.2, 2.5)
        w = rng.integers(1, 500, 40).astype(float)
        k = int(rng.integers(2, 5))
        best = max(float(w[c[list(s)].any(axis=0)].sum()) for s in itertools.combinations(range(12), k))
        res = max_cover(c, w, k, method="greedy", lagrangian_iterations=0, lp_bound=False)
        ratios.append(res.objective / best if best else 1.0)
        bound_gaps.append(res.gap)
    r = np.array(ratios)
    return {
        "instances": n_instances,
        "optimal": int(np.isclose(r, 1.0).sum()),
        "worst_ratio": float(r.min()),
        "mean_ratio": float(r.mean()),
        "mean_online_gap": float(np.mean(bound_gaps)),
    }


# --- output ------------------------------------------------------------------------------------------

HEADER = (
    f"  {'run':<17} {'wall_s':>8} {'solver_s':>8} {'peak_MiB':>8} {'status':<13} {'method':<20} "
    f"{'objective':>11} {'bound':>11} {'gap':>8}  {'bound from':<19} {'load':>4}  notes"
)


def _print_size(size: dict) -> None:
    print(
        f"\n== {size['demand']:,} demand points x {size['candidates']:,} candidates, "
        f"{size['existing']} existing clinics; SYNTHETIC {size['area_km2']:.0f} km2; "
        f"{size['nnz']:,} covering pairs; {size['covered_share']:.0%} of residents already covered; "
        f"{size['open_demand']:,} open demand points -> {size['groups']:,} groups; "
        f"built in {size['build_s']:.1f} s"
    )
    print(HEADER)


def _fmt(x, spec: str) -> str:
    width = int("".join(ch for ch in spec.split(".")[0].split(",")[0] if ch.isdigit()) or 0)
    return f"{'-':>{width}}" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)


def _print_row(r: dict) -> None:
    notes = r.get("notes", "")
    if "cbc_MiB" in r:
        notes = f"{notes}; CBC process max RSS {r['cbc_MiB']:.0f} MiB".strip("; ")
    print(
        f"  {r['run']:<17} {_fmt(r.get('wall_s'), '8.2f')} {_fmt(r.get('solver_s'), '8.2f')} "
        f"{_fmt(r.get('peak_MiB'), '8.0f')} {r['status'][:13]:<13} {r.get('method', ''):<20} "
        f"{_fmt(r.get('objective'), '11,.0f')} {_fmt(r.get('bound'), '11,.0f')} "
        f"{_fmt(r.get('gap'), '8.4%')}  "
        f"{r.get('bound_source', '-'):<19} {r['load']:>4.1f}  {notes}",
        flush=True,
    )
    if r["status"].startswith(("timeout", "not run", "failed")):
        print(f"      {r['run']}: {r['status']}")


def _legend(args: argparse.Namespace) -> None:
    print("New sites on SYNTHETIC covering instances (not real cities); circles.planning vs spopt.")
    print(
        f"  k = {args.k} new sites; HiGHS time limit {args.time_limit_s:g} s per solve; "
        f"radius {args.radius_m:g} m;"
    )
    print(
        f"  {args.demand_per_km2:g} demand points/km2, candidates at a tenth of that, "
        f"one clinic per {args.km2_per_clinic:g} km2"
    )
    print("  wall_s    wall seconds of the whole call (aggregation, greedy, model build, solve, ordering)")
    print("  solver_s  seconds inside HiGHS (spopt: inside CBC)")
    print(f"  peak_MiB  {PeakMemory().method} (spopt: Python side; CBC's own RSS in notes)")
    print("  objective MCLP/CMCLP: residents the new sites add; LSCP: new sites. bound: proved best possible")
    print("  gap       |bound - objective| / bound (MCLP) or / objective (LSCP); 0 = proved optimal")
    print("  load      1-min load average of this 2-core machine when the row started")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: two small sizes, 5 s limit")
    parser.add_argument("--sizes", help="demand-point counts, comma-separated")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--time-limit-s", type=float, default=60.0)
    parser.add_argument("--radius-m", type=float, default=800.0)
    parser.add_argument("--demand-per-km2", type=float, default=1000.0)
    parser.add_argument("--km2-per-clinic", type=float, default=4.0)
    parser.add_argument("--problems", help="only these runs (prefixes: MCLP, LSCP, CMCLP)")
    parser.add_argument("--capacities", default="20000,60000", help="residents per site for CMCLP rows")
    parser.add_argument("--no-spopt", dest="spopt", action="store_false")
    parser.add_argument("--spopt-timeout-s", type=float, default=600.0)
    parser.add_argument("--spopt-k", type=int, default=2, help="new sites in the spopt comparison")
    parser.add_argument("--spopt-max-cells", type=float, default=2e8)
    parser.add_argument("--quality", type=int, default=300, help="brute-forced instances for greedy quality")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--replay", type=Path, help="print the tables of an earlier --json run")
    parser.add_argument("--spopt-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.spopt_worker:
        spopt_worker(args.spopt_worker, args.k, args.out)
        return 0
    if args.quick:
        args.time_limit_s, args.quality, args.spopt_timeout_s = 5.0, 20, 60.0
    sizes = (
        [int(s) for s in args.sizes.split(",")] if args.sizes else (QUICK_SIZES if args.quick else FULL_SIZES)
    )
    args.problems = args.problems.split(",") if args.problems else None
    args.capacities = [float(c) for c in args.capacities.split(",")]
    args.spopt_stopped = False
    if args.replay:
        return _replay(args)
    _legend(args)
    rows = []
    with tempfile.TemporaryDirectory(prefix="circles-siting-") as tmp:
        for n in sizes:
            rows.extend(run_size(n, args, Path(tmp)))
    quality = greedy_quality(args.quality) if args.quality else None
    _summary(rows, quality, args)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "quality": quality}, indent=1, default=float))
    return 0


def _replay(args: argparse.Namespace) -> int:
    saved = json.loads(args.replay.read_text())
    _legend(args)
    shown = None
    for row in saved["rows"]:
        if row["demand"] != shown:
            _print_size(row)
            shown = row["demand"]
        _print_row(row)
    _summary(saved["rows"], saved["quality"], args)
    return 0


def _summary(rows: list[dict], quality: dict | None, args: argparse.Namespace) -> None:
    print("\n== Summary")
    solved = [r for r in rows if r["run"] == "MCLP exact" and r["status"] == "optimal"]
    if solved:
        big = max(solved, key=lambda r: r["demand"])
        print(
            f"  largest MCLP the exact solver proved optimal within {args.time_limit_s:g} s: "
            f"{big['demand']:,} demand points x {big['candidates']:,} candidates ({big['wall_s']:.1f} s; "
            f"sites by {big['method']}, bound: {big['bound_source']})"
        )
    by_size = {}
    for r in rows:
        by_size.setdefault(r["demand"], {})[r["run"]] = r
    for n, runs in by_size.items():
        ex, gr = runs.get("MCLP exact"), runs.get("MCLP greedy")
        if ex and gr and ex["status"] == "optimal" and ex["objective"] > 0:
            print(f"  {n:>7,} points: greedy reaches {gr['objective'] / ex['objective']:.4%} of the optimum")
        ex, sp_ = runs.get(f"MCLP exact k={args.spopt_k}"), runs.get(f"spopt MCLP k={args.spopt_k}")
        if ex and sp_ and sp_.get("status") == "optimal" and ex["status"] == "optimal":
            same = abs(sp_["objective"] - ex["objective"]) <= 1e-6 * max(1.0, ex["objective"])
            print(
                f"  {n:>7,} points: spopt's optimum {sp_['objective']:,.0f} vs circles "
                f"{ex['objective']:,.0f}: {'same' if same else 'DIFFERENT'}; "
                f"spopt took {sp_['wall_s']:.1f} s, circles {ex['wall_s']:.1f} s"
            )
    if quality:
        q = quality
        print(
            f"  greedy MCLP on {q['instances']} brute-forced random instances "
            f"(40 points, 12 candidates, k=2-4): "
            f"optimal in {q['optimal']} ({q['optimal'] / q['instances']:.0%}); worst {q['worst_ratio']:.4f} "
            f"of the optimum (guarantee 1 - 1/e = 0.6321); mean {q['mean_ratio']:.4f}; mean online-bound gap "
            f"{q['mean_online_gap']:.2%}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
