"""The tables ``pipeline.py`` prints: per-stage breakdown, side-by-side comparison, growth, targets."""

from __future__ import annotations

import numpy as np
from _stages import STAGE_ROWS

INTRO = """
Whole-pipeline benchmark: `circles run --pbf FILE --facilities osm:primary-care --out DIR` from the
file to every output, against the straightforward pyrosm + networkx and OSMnx graph_from_xml
pipelines doing the same job (homes, clinics, walk times, service areas, map.html, map.png,
GeoPackages). Each run is its own process: wall seconds include interpreter start-up and exit;
peak GiB is that process's peak resident memory (its VmHWM); per-stage peaks are the
process's peak RSS while the stage ran (VmHWM reset at the stage's start). SYNTHETIC cities are
generated (bench/synth.py), not real places. Reference runs stop after {budget_s:.0f} s or at
{mem:g} GiB. Machine: {cores} cores, 1-min load average {load:.1f} at the start.
""".strip()

ANALYSIS_STAGES = ("snap", "search", "service areas", "catchment areas", "analyse-other")


def _s(x: float | None, width: int = 8) -> str:
    if x is None:
        return f"{'-':>{width}}"
    return f"{x:>{width}.3g}" if x < 100 else f"{x:>{width},.0f}"


def _print_stages(row: dict) -> None:
    run, entry = row["circles_run"], row["tools"]["circles"]
    steps = entry["steps"]
    wall = entry["wall_s"]
    print(f"   {'circles stage':<40} {'seconds':>8} {'share':>6} {'peak_GiB':>9}")
    for label, name in STAGE_ROWS:
        sec = steps.get(name)
        peak = run["stages"].get({"read-filter": "read"}.get(name, name), {}).get("peak_kib")
        share = f"{100 * sec / wall:5.1f}%" if sec is not None else "     -"
        print(f"   {label:<40} {_s(sec)} {share} {_s(None if peak is None else peak / 1024**2, 9)}")
    print(f"   {'total (wall, own process)':<40} {_s(wall)} 100.0% {_s(entry['peak_gib'], 9)}")
    walls = ", ".join(f"{w:.2f}" for w in run["all_walls_s"])
    own = ", ".join(f"{k} {v:.2f}" for k, v in (run.get("timings_s") or {}).items())
    print(f"   circles' own timings_s (s): {own}; runs (wall s): {walls}")
    if run["missing_stages"]:
        print(
            "   not found in this version (their time falls under 'other'): "
            + ", ".join(run["missing_stages"])
        )


def _print_reference(row: dict, kind: str) -> None:
    entry = row["tools"][kind]
    title = {"pyrosm": "pyrosm + networkx", "osmnx": "OSMnx graph_from_xml"}[kind]
    if entry["status"] != "ok":
        print(f"   {title}: {entry['status']}")
        return
    ours = row["tools"].get("circles", {}).get("wall_s")
    ratio = f" = {entry['wall_s'] / ours:.2f}x circles" if ours else ""
    steps = ", ".join(f"{k} {v:.2f}" for k, v in entry["steps"].items())
    print(f"   {title}: {entry['wall_s']:.2f} s{ratio}, peak {entry['peak_gib']:.2f} GiB; steps (s): {steps}")
    a = row["agreement"].get(kind)
    if a:
        n_cells = a["homes_circles_landuse_cells"]
        cells = f", {n_cells:,} of them cells of residential land without mapped buildings" if n_cells else ""
        print(
            f"     agreement: homes {a['homes_circles']:,} (circles{cells}) / {a['homes_ref']:,} ({kind}), "
            f"{a['homes_matched']:,} matched by OSM id; walk time circles - {kind}: median "
            f"{a['median_diff_min']:+.2f} min, 95th percentile of |difference| "
            f"{a['p95_abs_diff_min']:.2f} min (without circles' access legs: median "
            f"{a['median_diff_without_legs_min']:+.2f}, 95th percentile "
            f"{a['p95_abs_diff_without_legs_min']:.2f}); "
            f"homes within 15 min: circles {100 * a['covered_share_circles']:.1f}%, "
            f"{kind} {100 * a['covered_share_ref']:.1f}%"
        )


def print_dataset(row: dict) -> None:
    """The stage table and comparison lines of one file."""
    if row["bare_pass_s"] is not None:
        print(
            f"   bare pyosmium pass (count ways, node locations): {row['bare_pass_s']:.2f} s, "
            f"{row['bare_ways']:,} ways"
        )
    entry = row["tools"].get("circles")
    if entry and entry["status"] == "ok":
        c = entry["counts"]
        print(
            f"   circles network: {c.get('edges', 0):,} edges, {c.get('nodes', 0):,} nodes; "
            f"{c['homes']:,} homes, {c['clinics']} facilities on the network"
        )
        _print_stages(row)
        if row["bare_pass_s"]:
            read_s = row["circles_run"]["stages"].get("read", {}).get("seconds", 0.0)
            print(
                f"   circles end to end = {entry['wall_s'] / row['bare_pass_s']:.1f}x the bare pass; "
                f"its read stage = {read_s / row['bare_pass_s']:.1f}x"
            )
    elif entry:
        print(f"   circles: {entry['status']}")
    for kind in ("pyrosm", "osmnx"):
        if kind in row["tools"]:
            _print_reference(row, kind)
    print(f"   load average: {row['load_1min']:.1f} before, {row['load_1min_after']:.1f} after", flush=True)


def _fit(edges: list[float], values: list[float]) -> float | None:
    """Exponent ``a`` of ``value ~ edges ** a`` (least squares on logs), or None below two points."""
    pairs = [(e, v) for e, v in zip(edges, values, strict=True) if v and v > 0]
    if len(pairs) < 2:
        return None
    x, y = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
    return float(np.polyfit(x, y, 1)[0])


def _growth(rows: list[dict]) -> dict:
    synth = [r for r in rows if r.get("synthetic") and r["tools"].get("circles", {}).get("status") == "ok"]
    if len(synth) < 2:
        return {}
    edges = [r["walk_edges"] for r in synth]
    fits = {
        "circles_wall": _fit(edges, [r["tools"]["circles"]["wall_s"] for r in synth]),
        "circles_peak": _fit(edges, [r["tools"]["circles"]["peak_gib"] for r in synth]),
    }
    for kind in ("pyrosm", "osmnx"):
        ok = [r for r in synth if r["tools"].get(kind, {}).get("status") == "ok"]
        fits[f"{kind}_wall"] = _fit([r["walk_edges"] for r in ok], [r["tools"][kind]["wall_s"] for r in ok])
    for _, name in STAGE_ROWS:
        values = [r["tools"]["circles"]["steps"].get(name) for r in synth]
        if all(v is not None and v > 0.05 for v in values):
            fits[f"stage {name}"] = _fit(edges, values)
    print(
        f"\nGrowth with size over the SYNTHETIC cities ({', '.join(f'{e:,}' for e in edges)} walk edges): "
        "exponent a of time or memory ~ edges^a (least squares on logs; 1 = linear)"
    )
    for key, a in fits.items():
        if a is not None:
            print(f"   {key:<28} {a:5.2f}")
    return fits


def _summary_table(rows: list[dict]) -> None:
    print("\nSummary (wall seconds and peak GiB of each whole process)")
    print(
        f"   {'data':<18} {'edges':>10} {'homes':>8} {'bare_s':>7} {'circles_s':>9} {'x_bare':>6} "
        f"{'GiB':>5} {'pyrosm_s':>9} {'GiB':>5} {'x':>6} {'osmnx_s':>8} {'GiB':>5} {'x':>6} {'load':>5}"
    )
    for r in rows:
        c = r["tools"].get("circles") or {}
        cw = c.get("wall_s")
        cells = []
        for kind in ("pyrosm", "osmnx"):
            e = r["tools"].get(kind) or {}
            w = e.get("wall_s")
            cells.append(
                f"{_s(w, 9)} {_s(e.get('peak_gib'), 5)} "
                f"{(f'{w / cw:.2f}x' if w and cw else ('-' if not e else 'n/f')):>6}"
            )
        x_bare = f"{cw / r['bare_pass_s']:.1f}" if cw and r["bare_pass_s"] else "-"
        edges = r.get("walk_edges") or (c.get("counts") or {}).get("edges")
        homes = (c.get("counts") or {}).get("homes")
        print(
            f"   {r['key']:<18} {edges or 0:>10,} {homes or 0:>8,} {_s(r['bare_pass_s'], 7)} {_s(cw, 9)} "
            f"{x_bare:>6} {_s(c.get('peak_gib'), 5)} {cells[0]} {cells[1]} {r['load_1min']:>5.1f}"
        )
    print("   n/f: did not finish within the budget or memory limit (see the dataset's lines above)")


def _targets(rows: list[dict]) -> None:
    print("\nTargets (issue 14, this 2-core machine)")
    by_key = {r["key"]: r for r in rows}
    for key, limit_s, limit_gib in (
        ("synthetic-1000k", 60, 3),
        ("synthetic-100k", 8, None),
        ("yuba", 5, None),
    ):
        c = by_key.get(key, {}).get("tools", {}).get("circles")
        if c and c["status"] == "ok":
            ok = c["wall_s"] < limit_s and (limit_gib is None or c["peak_gib"] < limit_gib)
            mem = f", {c['peak_gib']:.2f} GiB (< {limit_gib} GiB)" if limit_gib else ""
            print(f"   {key}: {c['wall_s']:.1f} s (< {limit_s} s){mem}  {'PASS' if ok else 'FAIL'}")
    for r in rows:
        c, p = r["tools"].get("circles"), r["tools"].get("pyrosm")
        if c and p and c["status"] == p["status"] == "ok":
            x = p["wall_s"] / c["wall_s"]
            print(
                f"   {r['key']}: pyrosm pipeline / circles = {x:.2f}x (target >= 5x)  "
                + ("PASS" if x >= 5 else "FAIL")
            )
        if c and c["status"] == "ok":
            png, analysis = c["steps"]["map.png"], sum(c["steps"][k] or 0 for k in ANALYSIS_STAGES)
            verdict = "PASS" if png is not None and png <= analysis else "FAIL"
            print(
                f"   {r['key']}: map.png {png:.2f} s <= analysis (snap to summaries) "
                f"{analysis:.2f} s  {verdict}"
            )


def print_summary(rows: list[dict]) -> dict:
    """Summary table, growth exponents and the issue's targets; returns the exponents."""
    if not rows:
        return {}
    _summary_table(rows)
    fits = _growth(rows)
    _targets(rows)
    return fits
