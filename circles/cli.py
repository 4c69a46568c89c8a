"""Command line: ``circles demo`` and ``circles run``. Parses, sets up logging, delegates.

Exit codes: 0 success, 2 bad usage or bad input (one line on stderr), 1 unexpected error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from circles import __version__
from circles.config import TravelSettings, parse_speed_kmh
from circles.errors import CirclesError
from circles.report import safe_name

log = logging.getLogger("circles")

EPILOG = """examples:
  circles demo                                  # central Helsinki, writes out/demo/map.html
  circles run --pbf nanjing.osm.pbf --out out/nanjing
  circles run --osm area.osm --facilities hospital --speed-kmh elderly --bands 5,10,15
"""


def _bands(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"bands {text!r} must be minutes like 5,10,15") from None


def _add_common(p: argparse.ArgumentParser, default_out: str | None) -> None:
    p.add_argument(
        "--out",
        type=Path,
        default=default_out,
        help=f"output folder, replaced only when the run succeeds (default: {default_out or 'out/<name>'})",
    )
    p.add_argument(
        "--facilities",
        default="primary-care",
        help="OSM facility preset (primary-care, hospital, pharmacy) or key=value tags",
    )
    p.add_argument("--bands", type=_bands, default=None, help="time bands in minutes, e.g. 5,10,15")
    p.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="coverage threshold in minutes (the last band); default 15",
    )
    p.add_argument(
        "--speed-kmh", default="4.5", help="walking speed in km/h, or 'elderly' (3.6) / 'adult' (4.5)"
    )
    p.add_argument(
        "--max-access-leg-m",
        type=float,
        default=250.0,
        help="longest straight walk from a home or clinic to a street, metres",
    )
    p.add_argument(
        "--population-total",
        type=float,
        default=None,
        help="known residents of the area, spread over homes by floor area",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.add_argument("-v", "--verbose", action="store_true", help="more detail; tracebacks on errors")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``circles`` command."""
    parser = argparse.ArgumentParser(
        prog="circles",
        description="Who lives within a 15-minute walk of a clinic: exact network walking "
        "times from OpenStreetMap, coverage tables and a map.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"circles {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="analyse the embedded central-Helsinki extract (no network)")
    _add_common(demo, "out/demo")
    run = sub.add_parser(
        "run",
        help="analyse one study area from an OSM file",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = run.add_mutually_exclusive_group(required=True)
    src.add_argument("--pbf", type=Path, help="OpenStreetMap .osm.pbf extract")
    src.add_argument("--osm", type=Path, help="OpenStreetMap .osm / .xml file")
    run.add_argument("--name", help="study-area name shown in outputs; default the file name")
    _add_common(run, None)
    return parser


def _settings(args: argparse.Namespace) -> TravelSettings:
    bands = args.bands or (5.0, 10.0, 15.0)
    if args.minutes is not None:
        bands = (*tuple(b for b in bands if b < args.minutes), args.minutes)
    return TravelSettings(
        speed_kmh=parse_speed_kmh(args.speed_kmh),
        bands_min=bands,
        max_access_leg_m=args.max_access_leg_m,
    )


def _run(args: argparse.Namespace) -> int:
    from circles.pipeline import PopulationSpec, run_osm
    from circles.report import write_outputs

    settings = _settings(args)
    if args.command == "demo":
        from circles.demo import DEMO_NAME, demo_pbf

        path, name = demo_pbf(), DEMO_NAME
    else:
        path, name = args.pbf or args.osm, args.name
    t0 = time.perf_counter()
    log.info("reading %s", path)
    result = run_osm(
        path,
        facilities=args.facilities,
        settings=settings,
        population=PopulationSpec(total=args.population_total),
        name=name,
    )
    out = write_outputs(result, args.out or Path("out") / safe_name(result.name))
    for stage, seconds in result.timings_s.items():
        log.debug("%-14s %.3f s", stage, seconds)
    if not args.quiet:
        print(result.headline())
        for w in result.summary["within"]:
            share = w["population_share"]
            print(
                f"  within {w['minutes']:>4g} min: {w['population']:>10,.0f} residents "
                f"({'n/a' if share is None else f'{100 * share:.1f}%'}), {w['homes']} homes"
            )
        print(
            f"wrote {out / 'map.html'}, summary.json, homes.gpkg and more in {out}/ "
            f"({time.perf_counter() - t0:.1f} s)"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``circles`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False
    try:
        return _run(args)
    except CirclesError as exc:
        if args.verbose:
            log.exception("error")
        print(f"circles: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("circles: interrupted", file=sys.stderr)
        return 130
    except Exception:
        if args.verbose:
            raise
        print(
            "circles: unexpected error (a bug); run again with -v for the traceback and report it",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
