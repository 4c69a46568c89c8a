"""The ``circles demo``, ``run`` and ``batch`` commands: read options, delegate, print what was found."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from pathlib import Path

from circles.cli import options
from circles.cli.flags import translate
from circles.cli.planning import capacity_options, print_planning, siting_options, what_if_options
from circles.errors import InputError

log = logging.getLogger("circles")


class Stages:
    """Progress over the stages of one run: a bar on a terminal, log lines with ``-v`` otherwise.

    Parameters
    ----------
    total : int
        How many stages the run has.
    quiet : bool
        Show nothing (``-q``).
    verbose : bool
        Log each stage instead of drawing a bar (``-v``).
    """

    def __init__(self, total: int, quiet: bool, verbose: bool) -> None:
        from tqdm import tqdm

        interactive = sys.stderr.isatty() and not quiet
        self._bar = tqdm(
            total=total,
            file=sys.stderr,
            disable=not interactive,
            leave=False,
            bar_format="{desc:<42} {bar:20} {n_fmt}/{total_fmt} [{elapsed}]",
        )
        self._log = verbose and not quiet
        self._t0 = time.perf_counter()

    def __call__(self, stage: str) -> None:
        """Report that ``stage`` starts."""
        if not self._bar.disable:
            self._bar.set_description_str(stage)
            self._bar.update(1)
        elif self._log:
            log.info("%5.1f s  %s", time.perf_counter() - self._t0, stage)

    def close(self) -> None:
        """Remove the bar."""
        self._bar.close()


def _translated(result):
    """The result with its warnings naming the CLI's flags instead of Python parameters."""
    summary = result.summary
    return result.with_(summary=summary.with_(warnings=tuple(translate(w) for w in summary.warnings)))


def print_result(result, out: Path, seconds: float, system: str) -> None:
    """The headline, the figures per band, the population method, proposed sites and where the files are.

    Parameters
    ----------
    result : StudyResult
        The finished study.
    out : Path
        The folder written.
    seconds : float
        Wall time of the run.
    system : str
        Coordinate system of printed coordinates: ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.
    """
    summary = result.summary
    print(result.headline())
    who = "estimated residents" if summary.population.estimated else "residents"
    for w in summary.coverage.within:
        share = "n/a" if w.population_share is None else f"{100 * w.population_share:.1f}%"
        print(f"  within {w.minutes:>4g} min: {w.population:>10,.0f} {who} ({share}), {w.homes:,} homes")
    print(f"  residents: {summary.population.method}")
    _print_tiers(result)
    print_planning(summary, who, system)
    print(f"wrote {out / 'map.html'}, summary.json, circles.gpkg and more in {out}/ ({seconds:.1f} s)")


def map_options(args: argparse.Namespace):
    """The map options the flags ask for, checked before any work (a bad basemap is refused now).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    MapOptions
    """
    from circles.maps import MapOptions
    from circles.maps.tiles import tile_source

    tile_source(args.tiles, tiles_key=args.tiles_key)
    return MapOptions(self_contained=not args.cdn_map, tiles=args.tiles, tiles_key=args.tiles_key)


def _print_tiers(result) -> None:
    """The facility tiers' lines, when the study has tiers."""
    from circles.tier_report import tier_lines

    for line in tier_lines(result):
        print(line)


def _warn(result) -> None:
    for text in result.summary.warnings:
        log.warning("circles: warning: %s", text)


def cmd_demo(args: argparse.Namespace) -> int:
    """Analyse the embedded central-Helsinki extract.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit code.
    """
    from circles.demo import DEMO_NAME, demo_pbf
    from circles.fingerprint import fingerprint, study_parts
    from circles.outdir import check_output_dir
    from circles.pipeline import run_osm
    from circles.report import write_outputs

    t0 = time.perf_counter()
    check_output_dir(args.out)  # before any work: never replace what circles did not write
    settings = options.travel_settings(args)
    page = map_options(args)
    parts = study_parts(sources=demo_pbf(), settings=settings, population=None, name=DEMO_NAME)
    fp = fingerprint({**parts, "offline_map": args.offline_map, "map": page.fingerprint()}).as_dict()
    stages = Stages(8, args.quiet, args.verbose)
    stages("reading the bundled Helsinki extract")
    result = _translated(run_osm(demo_pbf(), settings=settings, name=DEMO_NAME, progress=stages))
    _warn(result)
    stages("writing map, tables and layers")
    out = write_outputs(result, args.out, map_options=page, fingerprint=fp, geoparquet=args.geoparquet)
    stages.close()
    if not args.quiet:
        print_result(result, out, time.perf_counter() - t0, options.output_crs(args))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Analyse one study area.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit code.
    """
    from circles.outdir import area_folder_name, check_output_dir
    from circles.pipeline import run_study
    from circles.report import write_outputs
    from circles.sources.assemble import load_inputs
    from circles.sources.boundaries import buffer_area
    from circles.study_area import reach_margin_m

    t0 = time.perf_counter()
    settings = options.travel_settings(args)
    system = options.output_crs(args)
    if args.out is not None:
        check_output_dir(args.out)  # before reading any input
    boundary, name = options.run_area(args)
    out_dir = args.out or Path("out") / area_folder_name(name)
    check_output_dir(out_dir)
    subareas = options.subareas(args)
    candidates = options.candidates(args)
    siting = siting_options(args)  # checked before any input is read
    capacity = capacity_options(args)
    what_if = what_if_options(args)
    page = map_options(args)
    spec, population = options.source_spec(args), options.population_spec(args)
    tiers = options.tier_plan(args, settings)
    fp = _run_fingerprint(
        args, spec=spec, settings=settings, population=population, name=name, boundary=boundary,
        subareas=subareas, candidates=candidates, page=page, siting=siting, capacity=capacity,
        what_if=what_if, tiers=tiers,
    )  # fmt: skip
    reach = None if boundary is None else buffer_area(boundary, reach_margin_m(settings))
    stages = Stages(8 + (siting is not None) + (capacity is not None), args.quiet, args.verbose)
    stages("reading inputs")
    inputs = load_inputs(spec, area_wgs84=reach, networks=_networks(tiers))
    result = run_study(
        inputs,
        name=name,
        boundary=boundary,
        subareas=subareas,
        settings=settings,
        population=population,
        candidates=candidates,
        allow_partial=args.allow_partial,
        progress=stages,
        tiers=tiers,
        siting=siting,
        capacity=capacity,
        what_if=what_if,
    )
    result = _translated(result)
    for stage, seconds in result.timings_s.items():
        log.debug("  %-14s %.3f s", stage, seconds)
    _warn(result)
    stages("writing map, tables and layers")
    out = write_outputs(
        result,
        out_dir,
        map_options=page,
        fingerprint=fp,
        output_crs=system,
        subareas=subareas,
        geoparquet=args.geoparquet,
    )
    stages.close()
    if not args.quiet:
        print_result(result, out, time.perf_counter() - t0, system)
    return 0


def _run_fingerprint(
    args: argparse.Namespace, *, spec, settings, population, name, boundary, **planning
) -> dict:
    """What a run's results depend on (the files as they are before they are read), for its marker."""
    from circles.fingerprint import fingerprint, study_parts

    parts = study_parts(
        sources=spec,
        settings=settings,
        population=population,
        name=name,
        boundary=boundary,
        subareas=planning["subareas"],
        recommend_sites=args.recommend,
        candidates=planning["candidates"],
        offline_map=args.offline_map,
    )
    parts = parts | {"map": planning["page"].fingerprint(), "geoparquet": args.geoparquet}
    siting, capacity, what_if = planning["siting"], planning["capacity"], planning["what_if"]
    if siting is not None:
        parts["siting"] = siting
    if capacity is not None:
        parts["capacity"] = capacity
    if what_if is not None:
        parts["what_if"] = {"add": what_if.add_facilities, "remove": what_if.remove_facilities}
    return fingerprint(_with_tiers(parts, planning["tiers"])).as_dict()


def _with_tiers(parts: dict, tiers) -> dict:
    """Fingerprint parts with the tier plan, when there is one (runs without tiers keep their fingerprint)."""
    return parts if tiers is None else {**parts, "tiers": tiers}


def _networks(tiers) -> tuple[str, ...]:
    """The networks to read: walking, and those of the tiers' modes."""
    return ("walk",) if tiers is None else tiers.networks


def cmd_batch(args: argparse.Namespace) -> int:
    """Analyse every area of a boundary file.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line.

    Returns
    -------
    int
        The exit code.
    """
    from circles.batch import check_area_folders
    from circles.fingerprint import Described, describe
    from circles.outdir import check_output_dir
    from circles.sources.boundaries import buffer_area
    from circles.study_area import reach_margin_m

    if args.population_total is not None:
        raise InputError(
            "--population-total is one area's total; in a batch use --population-field or --population-raster"
        )
    if args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    if args.tiles != "osm" or args.cdn_map or args.tiles_key or args.geoparquet:
        raise InputError(
            "--tiles, --tiles-key, --cdn-map and --geoparquet apply to 'circles run' and 'circles demo' only",
            fix="leave them out of a batch (its maps are self-contained, on OpenStreetMap tiles)",
        )
    if args.scheduler and args.workers > 1:
        raise InputError(
            "--scheduler runs the areas on an existing Dask cluster and --workers starts a local one",
            fix="give one of them",
        )
    settings = options.travel_settings(args)
    out = args.out or Path("out") / args.boundary.stem
    check_output_dir(out, kind="batch")  # before reading any input
    names = [n.strip() for n in args.areas.split(",")] if args.areas else None
    areas = options.read_areas(args, names)
    check_area_folders([str(n) for n in areas["name"]], out)  # before reading the network
    subareas = options.subareas(args)
    candidates = options.candidates(args)
    reach = buffer_area(areas, reach_margin_m(settings))
    spec = options.source_spec(args)
    tiers = options.tier_plan(args, settings)
    provenance = Described(describe(spec))  # the files as they are before they are read
    scheduler = args.scheduler or (os.environ.get("DASK_SCHEDULER_ADDRESS") if args.workers == 1 else None)
    with contextlib.ExitStack() as stack:
        if scheduler or args.workers > 1:  # reach or start the cluster before reading inputs
            from circles.distributed import dask_client

            scheduler = stack.enter_context(dask_client(scheduler, args.workers))
        log.debug("reading inputs once for %d areas", len(areas))
        inputs = _batch_inputs(args, spec, reach, _networks(tiers))
        outcomes = _run_areas(
            args, inputs, areas, out, settings, scheduler, provenance, subareas, candidates, tiers
        )
    failed = [o for o in outcomes if o.status == "failed"]
    if not args.quiet:
        for o in outcomes:
            share = o.summary.get("covered_share") if o.summary else None
            estimated = (o.summary or {}).get("population_method", {}).get("estimated")
            who = "estimated residents" if estimated else "residents"
            figure = (
                "" if share is None else f"{100 * share:.1f}% of {who} within {settings.threshold_min:g} min"
            )
            reason = f" ({o.reason})" if o.reason else ""
            print(f"  {o.name}: {o.status}{reason} {figure}".rstrip())
        done = len(outcomes) - len(failed)
        print(f"wrote {out / 'index.html'} and {out / 'summary.csv'} ({done} of {len(outcomes)} areas)")
    return 2 if failed else 0


def _run_areas(
    args, inputs, areas, out, settings, scheduler, provenance, subareas, candidates, tiers
) -> list:
    """Run the batch with a progress bar; returns the outcomes."""
    from tqdm import tqdm

    from circles.batch import run_batch

    bar = tqdm(total=len(areas), unit="area", disable=args.quiet or not sys.stderr.isatty(), file=sys.stderr)

    def progress(outcome) -> None:
        bar.update(1)
        if outcome.status == "failed":
            tqdm.write(f"circles: {outcome.name}: failed: {translate(outcome.error)}", file=sys.stderr)
        elif bar.disable:
            log.debug("%s: %s", outcome.name, outcome.status)

    outcomes = run_batch(
        inputs,
        areas,
        out,
        settings=settings,
        population=options.population_spec(args),
        subareas=subareas,
        workers=args.workers,
        scheduler=scheduler,
        work_dir=args.work_dir,
        force=args.force,
        offline_map=args.offline_map,
        recommend_sites=args.recommend,
        candidates=candidates,
        provenance=provenance,
        progress=progress,
        tiers=tiers,
    )
    bar.close()
    return outcomes


def _batch_inputs(args: argparse.Namespace, spec, reach, networks: tuple[str, ...]):
    """The batch's region-wide inputs: from the cache when the files are unchanged, else parsed."""
    from circles.cache import default_cache_dir, load_inputs_cached

    cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
    inputs, cached = load_inputs_cached(spec, cache_dir=cache_dir, area_wgs84=reach, networks=networks)
    what = {
        "hit": "read from the cache (the files are unchanged)",
        "miss": "parsed and cached",
        "rejected": f"parsed again (the cache entry was not trusted: {cached.reason})",
        "off": "parsed (not cached)",
    }[cached.status]
    log.info("inputs %s%s", what, f": {cached.entry}" if cached.entry else "")
    return inputs
