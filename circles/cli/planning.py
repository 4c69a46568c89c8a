"""The planning options of ``circles run``: new sites, clinic loads, what-if scenarios."""

from __future__ import annotations

import argparse
from pathlib import Path

from circles.cli.parser import _finite


def add_planning(p: argparse.ArgumentParser) -> None:
    """The flags of the planning answers (``circles run`` only)."""
    add_capacity(p)
    w = p.add_argument_group("what-if: a changed facility set against the baseline")
    w.add_argument(
        "--add-facilities",
        type=Path,
        metavar="FILE",
        help="facilities to add (read like --facilities files, same --facility-crs and columns)",
    )
    w.add_argument(
        "--remove-facilities",
        metavar="NAME_OR_ID[,...]",
        help="facilities to remove, by facility_id or name (comma-separated)",
    )
    n = p.add_argument_group("new sites: how they are chosen (with --recommend N or --full-coverage)")
    n.add_argument(
        "--full-coverage",
        action="store_true",
        help="the fewest new sites that bring every reachable home within the threshold (set covering)",
    )
    n.add_argument(
        "--max-residents-per-facility",
        type=_finite,
        metavar="R",
        help="with --recommend: no clinic, new or existing, serves more than R residents (capacitated)",
    )
    n.add_argument(
        "--solver-time-limit",
        type=_finite,
        default=60.0,
        metavar="SECONDS",
        help="time limit of the exact solve (HiGHS); past it the best sites found and the gap (default 60)",
    )
    n.add_argument(
        "--siting-method",
        choices=("exact", "greedy"),
        default="exact",
        help="exact integer programme (HiGHS, default) or greedy with a proved bound",
    )


def add_capacity(p: argparse.ArgumentParser) -> None:
    """The flags of clinic loads and competition-aware access."""
    c = p.add_argument_group("clinic loads and access (supply from --capacity-column)")
    c.add_argument(
        "--residents-per-facility",
        type=_finite,
        default=None,
        metavar="R",
        help="resident target per clinic: catchments above it are flagged (default 20000)",
    )
    c.add_argument(
        "--capacity-target",
        type=_finite,
        default=None,
        metavar="PER_10K",
        help="target supply (e.g. GPs) per 10,000 catchment residents: below it is flagged (default 3.9)",
    )
    c.add_argument(
        "--access-decay",
        choices=("stepped", "gaussian"),
        default=None,
        help="distance decay of the per-home access score access_per_10k (E2SFCA; default stepped: "
        "1.00/0.68/0.22 for 0-5/5-10/10-15 min)",
    )


def siting_options(args: argparse.Namespace):
    """The :class:`~circles.plan_result.SitingOptions` of the flags, or None when no sites are asked."""
    from circles.errors import InputError
    from circles.plan_result import SitingOptions

    full = bool(getattr(args, "full_coverage", False))
    if not args.recommend and not full:
        if getattr(args, "max_residents_per_facility", None) is not None:
            raise InputError(
                "`max_residents_per_facility` caps the residents of new sites: ask for some",
                parameter="max_residents_per_facility",
                fix="add `n_sites`",
            )
        return None
    return SitingOptions(
        n_sites=args.recommend,
        full_coverage=full,
        max_residents_per_facility=getattr(args, "max_residents_per_facility", None),
        solver_time_limit_s=getattr(args, "solver_time_limit", 60.0),
        siting_method=getattr(args, "siting_method", "exact"),
    )


def capacity_options(args: argparse.Namespace):
    """The :class:`~circles.plan_result.CapacityOptions` of the flags, or None when none is given.

    Without any of them, loads are still measured (with the defaults) when the facilities
    carry a supply column (``--capacity-column``).
    """
    from circles.plan_result import CapacityOptions

    given = {
        "residents_per_facility": getattr(args, "residents_per_facility", None),
        "supply_target_per_10k": getattr(args, "capacity_target", None),
        "access_decay": getattr(args, "access_decay", None),
    }
    if all(v is None for v in given.values()) and getattr(args, "capacity_column", None) is None:
        return None
    return CapacityOptions(**{k: v for k, v in given.items() if v is not None})


def what_if_options(args: argparse.Namespace):
    """The :class:`~circles.what_if_result.WhatIfOptions` of the flags (the file read now), or None."""
    from circles.errors import error_scope
    from circles.what_if_result import WhatIfOptions

    add, remove = getattr(args, "add_facilities", None), getattr(args, "remove_facilities", None)
    if add is None and not remove:
        return None
    tokens = tuple(t.strip() for t in (remove or "").split(",") if t.strip())
    frame = None
    if add is not None:
        from circles.sources.files import read_points

        with error_scope("add_facilities"):
            frame = read_points(
                add,
                crs=args.facility_crs,
                lon_column=args.lon_column,
                lat_column=args.lat_column,
                name_column=args.name_column,
                capacity_column=args.capacity_column,
                encoding=args.encoding,
            )
    return WhatIfOptions(frame, tokens)
