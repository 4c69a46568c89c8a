"""Reading an OSM file for one or several travel modes: seconds per read, walk-only first.

The walk-only read is the default path of every run; reading for more modes keeps every
way some requested mode may use, with the tags the modes' filters and speeds need.

    python bench/read_modes.py                     # Yuba county, 7 repeats
    python bench/read_modes.py --repeats 3 --pbf other.osm.pbf

Prints the least and the median wall time of the repeats and the least CPU time (the
machine is shared: the least, and CPU time, are the fairer figures) and the ways kept.
To compare with another checkout, run it from outside this one with
``PYTHONPATH=<checkout>``: a checkout without modes measures the walk-only row only.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import time
from pathlib import Path

from _common import SHARED_DATA

YUBA = SHARED_DATA / "benchmark_yuba_county_pbf" / "yuba_county_ca.osm.pbf"
ROWS = (("walk",), ("walk", "drive"), ("walk", "bike", "ebike", "drive"))


def _read(path: Path, networks: tuple[str, ...]):
    from circles.config import facility_preset
    from circles.sources.osm import read_osm

    preset = facility_preset("primary-care")
    if networks == ("walk",):
        return read_osm(path, preset)
    return read_osm(path, preset, networks=networks)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbf", type=Path, default=YUBA)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if not args.pbf.is_file():
        raise SystemExit(f"{args.pbf} is absent (set CIRCLES_SHARED_DATA)")
    from circles.sources.osm import read_osm

    rows = ROWS if "networks" in inspect.signature(read_osm).parameters else ROWS[:1]
    times: dict[tuple[str, ...], list[float]] = {r: [] for r in rows}
    cpu: dict[tuple[str, ...], list[float]] = {r: [] for r in rows}
    kept: dict[tuple[str, ...], int] = {}
    _read(args.pbf, ("walk",))  # warm the file cache and imports
    for _ in range(args.repeats):  # interleaved, so a busy moment hits every row alike
        for row in rows:
            t0, c0 = time.perf_counter(), time.process_time()
            layers = _read(args.pbf, row)
            times[row].append(time.perf_counter() - t0)
            cpu[row].append(time.process_time() - c0)
            kept[row] = len(layers.walkways)
    import circles

    print(f"{args.pbf.name}, {args.repeats} repeats, circles from {Path(circles.__file__).parent}")
    print(f"{'networks read':<28} {'least s':>8} {'median s':>9} {'least CPU s':>12} {'way pieces':>11}")
    for row in rows:
        label = "+".join(row)
        print(
            f"{label:<28} {min(times[row]):>8.3f} {statistics.median(times[row]):>9.3f} "
            f"{min(cpu[row]):>12.3f} {kept[row]:>11,}"
        )


if __name__ == "__main__":
    main()
