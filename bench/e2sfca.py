"""Benchmark: E2SFCA accessibility (circles.planning.capacity.e2sfca) against PySAL access, at city scale.

A SYNTHETIC city, not a real one: ``--homes`` homes and ``--clinics`` clinics spread over a square
``--side-km`` on a side (homes 70% in Gaussian neighbourhoods of 400 m, 30% evenly; clinics evenly),
walking time = straight distance x 1.3 (network detour) / 75 m per minute, and only the pairs within
``--threshold-min`` are kept (a sparse travel-time matrix; a dense one would be homes x clinics x 8 bytes).

Rows:

* ``circles``  ``TravelTimes.from_pairs`` (shown apart) + ``e2sfca`` with Luo & Qi's stepped weights;
* ``access``   ``access.Access(...).enhanced_two_stage_fca`` with
  ``weights.step_fn({5: 1, 10: 0.68, 15: 0.22})`` and ``max_cost=15`` on the same pairs as a long
  pandas table, for the first ``n`` homes alone (a smaller city with all their pairs), ``n`` growing
  while a row takes under a quarter of ``--access-budget-s``; the full-city time is then extrapolated
  linearly in pairs and says so. Each row's scores are compared with circles' on the same homes.

Peak memory: ``_common.PeakMemory`` (extra resident memory of the call). Run ``python bench/e2sfca.py``
(~5 min) or ``--quick``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SEED, PeakMemory


def synthetic_pairs(
    args: argparse.Namespace,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(home, clinic, minutes) pairs within the threshold, residents per home, GPs per clinic."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(SEED)
    side_m = args.side_km * 1000.0
    n_near = int(0.7 * args.homes)
    centres = rng.uniform(0, side_m, (max(1, round(args.side_km**2 / 4)), 2))
    homes = centres[rng.integers(0, len(centres), n_near)] + rng.normal(0, 400, (n_near, 2))
    homes = np.clip(np.vstack([homes, rng.uniform(0, side_m, (args.homes - n_near, 2))]), 0, side_m)
    clinics = rng.uniform(0, side_m, (args.clinics, 2))
    radius_m = args.threshold_min * 75.0 / 1.3
    pairs = cKDTree(homes).sparse_distance_matrix(cKDTree(clinics), radius_m, output_type="ndarray")
    minutes = pairs["v"] * 1.3 / 75.0
    residents = rng.poisson(30, args.homes).astype(float)
    gps = rng.integers(1, 12, args.clinics).astype(float)
    return pairs["i"].astype(np.int64), pairs["j"].astype(np.int64), minutes, residents, gps


def run_circles(home, clinic, minutes, residents, gps, args):
    from circles.planning.capacity import e2sfca
    from circles.planning.decay import SteppedWeights
    from circles.planning.traveltimes import TravelTimes

    t0 = time.perf_counter()
    tt = TravelTimes.from_pairs(home, clinic, minutes, n_homes=args.homes, n_facilities=args.clinics)
    build_s = time.perf_counter() - t0
    with PeakMemory() as mem:
        t1 = time.perf_counter()
        res = e2sfca(tt, residents, gps, SteppedWeights())
        run_s = time.perf_counter() - t1
    return res.access_per_10k, build_s, run_s, mem.extra_mib


def run_access(home, clinic, minutes, residents, gps, n_homes):
    import pandas as pd
    from access import Access, weights

    sel = home < n_homes
    cost = pd.DataFrame({"origin": home[sel], "dest": clinic[sel], "cost": minutes[sel]})
    demand = pd.DataFrame({"pop": residents[:n_homes]}, index=pd.RangeIndex(n_homes, name="geoid"))
    supply = pd.DataFrame({"doc": gps}, index=pd.RangeIndex(gps.size, name="geoid"))
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        a = Access(
            demand_df=demand,
            demand_index=True,
            demand_value="pop",
            supply_df=supply,
            supply_index=True,
            supply_value="doc",
            cost_df=cost,
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )
        out = a.enhanced_two_stage_fca(
            name="e2", weight_fn=weights.step_fn({5: 1, 10: 0.68, 15: 0.22}), max_cost=15
        )
        run_s = time.perf_counter() - t0
    return out["e2_doc"].reindex(range(n_homes)).to_numpy(), int(sel.sum()), run_s, mem.extra_mib


def _circles_subset(home, clinic, minutes, residents, gps, n):
    from circles.planning.capacity import e2sfca
    from circles.planning.traveltimes import TravelTimes

    sel = home < n
    tt = TravelTimes.from_pairs(home[sel], clinic[sel], minutes[sel], n_homes=n, n_facilities=gps.size)
    return e2sfca(tt, residents[:n], gps).access_per_10k


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 homes x 100 clinics")
    parser.add_argument("--homes", type=int, default=500_000)
    parser.add_argument("--clinics", type=int, default=1_000)
    parser.add_argument("--side-km", type=float, default=10.0)
    parser.add_argument("--threshold-min", type=float, default=15.0)
    parser.add_argument("--access-budget-s", type=float, default=120.0)
    args = parser.parse_args(argv)
    if args.quick:
        args.homes, args.clinics, args.side_km, args.access_budget_s = 20_000, 100, 4.0, 10.0
    t0 = time.perf_counter()
    home, clinic, minutes, residents, gps = synthetic_pairs(args)
    print("E2SFCA on a SYNTHETIC city (not a real one), Luo & Qi steps 1.00/0.68/0.22 for 0-5/5-10/10-15 min")
    print(
        f"  {args.homes:,} homes x {args.clinics:,} clinics on {args.side_km:g} x {args.side_km:g} km; "
        f"{home.size:,} pairs within {args.threshold_min:g} min "
        f"({home.size / args.homes:.1f} clinics per home); "
        f"a dense float64 matrix would be {args.homes * args.clinics * 8 / 2**30:.1f} GiB; built in "
        f"{time.perf_counter() - t0:.1f} s; load {os.getloadavg()[0]:.1f} (2-core machine)"
    )
    print(f"  peak_MiB: {PeakMemory().method}")
    _, build_s, run_s, mib = run_circles(home, clinic, minutes, residents, gps, args)
    print(f"\n  {'tool':<8} {'homes':>9} {'pairs':>11} {'seconds':>9} {'peak_MiB':>9}  notes")
    print(
        f"  {'circles':<8} {args.homes:>9,} {home.size:>11,} {run_s:>9.2f} {mib:>9.0f}  "
        f"TravelTimes.from_pairs {build_s:.2f} s apart"
    )
    n, last = 1_000, None
    while n <= args.homes:
        ref, pairs, secs, amib = run_access(home, clinic, minutes, residents, gps, n)
        mine = _circles_subset(home, clinic, minutes, residents, gps, n)
        ok = ~np.isnan(ref)
        diff = float(np.max(np.abs(mine[ok] / 1e4 - ref[ok]))) if ok.any() else float("nan")
        print(
            f"  {'access':<8} {n:>9,} {pairs:>11,} {secs:>9.2f} {amib:>9.0f}  "
            f"the first {n:,} homes alone; max |A_i difference| vs circles on the same {diff:.1e}"
        )
        last = (pairs, secs, amib)
        if secs > args.access_budget_s / 4 or n == args.homes:
            break
        n = min(args.homes, n * 4)
    if last and n < args.homes:
        pairs, secs, amib = last
        scale = home.size / pairs
        print(
            f"  {'access':<8} {args.homes:>9,} {home.size:>11,} {secs * scale:>9.0f} {amib * scale:>9.0f}  "
            f"EXTRAPOLATED linearly in pairs from the {pairs:,}-pair row (x{scale:.0f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
