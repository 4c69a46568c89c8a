"""From parsed command-line options to the library's objects: settings, sources, areas."""

from __future__ import annotations

import argparse

from circles.cli.parser import where_mapping
from circles.config import (
    DEFAULT_BANDS_MIN,
    DEFAULT_THRESHOLD_MIN,
    TravelSettings,
    default_bands_for,
    parse_speed_kmh,
)
from circles.errors import InputError, error_scope


def travel_settings(args: argparse.Namespace) -> TravelSettings:
    """Speed, threshold and bands from the options.

    ``--minutes`` alone adapts the default bands to it; ``--bands`` alone keeps the
    15-minute threshold; both must agree (the threshold is one of the bands).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    """
    threshold = DEFAULT_THRESHOLD_MIN if args.minutes is None else args.minutes
    if args.bands is None:
        bands = DEFAULT_BANDS_MIN if args.minutes is None else default_bands_for(threshold)
    else:
        bands = args.bands
    if args.speed_kmh is not None:
        speed = parse_speed_kmh(args.speed_kmh)
    else:
        speed = parse_speed_kmh("elderly" if getattr(args, "mode", "walk") == "elderly" else "adult")
    return TravelSettings(
        speed_kmh=speed,
        threshold_min=threshold,
        bands_min=bands,
        max_access_leg_m=args.max_access_leg_m,
        min_island_m=args.min_island_m,
        area_buffer_m=args.area_buffer_m,
    )


def source_spec(args: argparse.Namespace):
    """Where the network, facilities and homes come from (a :class:`~circles.sources.assemble.SourceSpec`).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    """
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
        crs=args.homes_crs,
        lon_column=args.lon_column,
        lat_column=args.lat_column,
        encoding=args.encoding,
        layer=args.homes_layer,
    )
    return SourceSpec(network, network_path, place, args.facilities, fac, args.homes, homes)


def population_spec(args: argparse.Namespace):
    """Where residents per home come from.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    """
    from circles.study_area import PopulationSpec

    return PopulationSpec(
        column=args.population_field,
        raster=args.population_raster,
        total=getattr(args, "population_total", None),
    )


def read_areas(args: argparse.Namespace, names: list[str] | None):
    """The study areas of ``--boundary`` (all, or those named).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    names : list of str or None
        The area names to keep (values of ``--name-field``); None keeps every area.
    """
    from circles.sources.boundaries import read_boundary

    with error_scope("boundary"):
        return read_boundary(
            args.boundary,
            name_field=args.name_field,
            names=names,
            crs=args.boundary_crs,
            layer=args.boundary_layer,
            where=where_mapping(args.where),
        )


def candidates(args: argparse.Namespace):
    """The planner's candidate sites, or None (streets near the gaps).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    """
    if args.recommend < 0:
        raise InputError(f"--recommend takes a number of sites >= 0, got {args.recommend}")
    if args.candidates is None:
        return None
    from circles.sources.files import read_points

    with error_scope("candidates"):
        return read_points(
            args.candidates, crs=args.candidate_crs, encoding=args.encoding, layer=args.candidate_layer
        )


def subareas(args: argparse.Namespace):
    """Sub-areas to summarise, or None.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    """
    if args.subareas is None:
        return None
    from circles.sources.boundaries import read_boundary

    with error_scope("subareas"):
        return read_boundary(
            args.subareas,
            name_field=args.subarea_name_field,
            crs=args.subarea_crs,
            layer=args.subarea_layer,
            where=where_mapping(args.subarea_where),
        )


def run_area(args: argparse.Namespace):
    """Boundary (or None) and name of a ``run``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    """
    if args.boundary is not None:
        if args.district and not args.name_field:
            raise InputError("--district needs --name-field naming the boundary field that holds area names")
        boundary = read_areas(args, [args.district] if args.district else None)
        return boundary, args.name or args.district or args.boundary.stem
    if args.bbox is not None:
        from circles.sources.boundaries import bbox_boundary

        with error_scope("bbox"):
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


def output_crs(args: argparse.Namespace) -> str:
    """The coordinate system of printed coordinates and CSV tables: ``wgs84``, ``gcj02`` or ``bd09``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    """
    from circles.sources.coords import BD09, GCJ02, WGS84, parse_coordinate_system

    given = getattr(args, "output_crs", None)
    if given is None:
        facility_crs = getattr(args, "facility_crs", None)
        try:
            declared = parse_coordinate_system(facility_crs) if facility_crs else WGS84
        except InputError:
            declared = WGS84
        return declared if declared in (GCJ02, BD09) else WGS84
    system = parse_coordinate_system(given)
    if system not in (WGS84, GCJ02, BD09):
        raise InputError(f"--output-crs {given!r} is not wgs84, gcj02 or bd09")
    return system


def tier_plan(args: argparse.Namespace, settings: TravelSettings):
    """The facility tiers of ``--tier``/``--tier-plan``, a one-mode plan for ``--mode``, or None.

    Speed flags override a plan file's ``[modes]``; ``--mode elderly`` alone only slows the walk.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    settings : TravelSettings
        Its threshold is the one-mode plan's.

    Returns
    -------
    TierPlan or None
    """
    from dataclasses import fields, replace

    from circles.modes import ModeOptions, mode_name
    from circles.tiers import Tier, TierPlan, parse_tier, read_plan

    mode = mode_name(args.mode)
    overrides = {
        f.name: getattr(args, f.name) for f in fields(ModeOptions) if getattr(args, f.name, None) is not None
    }
    if args.tier_plan is not None:
        if args.tier:
            raise InputError("give tiers either with --tier or in --tier-plan, not both")
        plan = read_plan(args.tier_plan)
        column = args.tier_column or plan.tier_column
        return replace(plan, tier_column=column, modes=replace(plan.modes, **overrides))
    if args.tier:
        tiers = tuple(parse_tier(spec, default_mode=mode) for spec in args.tier)
        return TierPlan(tiers, args.tier_column, ModeOptions(**overrides))
    if args.tier_column:
        raise InputError(
            "--tier-column names the facilities' tier: give the tiers with --tier or --tier-plan"
        )
    if mode in ("walk", "elderly"):
        return None
    only = Tier(mode, settings.threshold_min, mode, all_facilities=True)
    return TierPlan((only,), None, ModeOptions(**overrides))
