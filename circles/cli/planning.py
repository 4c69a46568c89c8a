"""The planning options of ``circles run``: new sites, clinic loads, what-if scenarios."""

from __future__ import annotations

import argparse
from pathlib import Path

from circles.cli.parser import _finite


def add_planning(p: argparse.ArgumentParser) -> None:
    """The flags of the planning answers (``circles run`` only).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The ``circles run`` parser the flags are added to.
    """
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
    """The flags of clinic loads and competition-aware access.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The ``circles run`` parser the flags are added to.
    """
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
    """The :class:`~circles.plan_result.SitingOptions` of the flags, or None when no sites are asked.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    """
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

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
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
    """The :class:`~circles.what_if_result.WhatIfOptions` of the flags (the file read now), or None.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options of the command.
    """
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


def print_planning(summary, who: str, system: str) -> None:
    """The planning answers' lines: what-if, loads, sites (those the run has).

    Parameters
    ----------
    summary : Summary
        The run's summary (:class:`circles.result.Summary`); its ``what_if``, ``loads`` and
        ``siting`` parts are printed, each skipped when None.
    who : str
        What the population figures count, as printed: ``"residents"`` or ``"estimated residents"``.
    system : str
        Coordinate system of the printed site coordinates: ``wgs84``, ``gcj02`` or ``bd09``.
    """
    _print_what_if(summary, who)
    _print_loads(summary, who)
    _print_sites(summary, who, system)


def _print_what_if(summary, who: str) -> None:
    """The scenario against the baseline, when facilities were added or removed."""
    w = summary.what_if
    if w is None:
        return
    changed = ", ".join([*(f"+{a}" for a in w.added), *(f"-{r}" for r in w.removed)])
    print(
        f"  what-if ({changed}): {w.covered_population_before:,.0f} -> {w.covered_population_after:,.0f} "
        f"{who} within the threshold; {w.homes_changed:,} homes change"
    )
    for b in w.bands:
        print(
            f"    within {b.minutes:g} min: +{b.gaining_population:,.0f} gaining "
            f"({_homes(b.gaining_homes)}), -{b.losing_population:,.0f} losing ({_homes(b.losing_homes)})"
        )


def _homes(n: int) -> str:
    return f"{n:,} home" if n == 1 else f"{n:,} homes"


def _print_loads(summary, who: str) -> None:
    """Clinics over their targets and residents below the access target, when loads were measured."""
    loads = summary.loads
    if loads is None:
        return
    o, share = loads.options, loads.area.share_below_access_target
    below = "" if loads.facilities_below_supply_target is None else (
        f", {loads.facilities_below_supply_target} below {o.supply_target_per_10k:g} supply per 10,000"
    )  # fmt: skip
    what = "supply" if loads.supply_column else "clinics (each counted once)"
    print(
        f"  clinics: {loads.facilities_over_resident_target} over {o.residents_per_facility:,.0f} catchment "
        f"residents{below}; {100 * (share or 0):.1f}% of {who} below {loads.access_target_per_10k:.3g} "
        f"{what} per 10,000 within reach (access_per_10k, E2SFCA, {o.access_decay} decay)"
    )


def _print_sites(summary, who: str, system: str) -> None:
    """The proposed sites and how they were found, when sites were asked for."""
    siting = summary.siting
    if siting is None:
        return
    for site in siting.sites:
        lon, lat = site_coordinates(site.to_dict(), system)
        served = "" if site.site_load is None else f", serving {site.site_load:,.0f} within capacity"
        print(
            f"  proposed site {site.rank} at lon {lon:.6f}, lat {lat:.6f} ({SYSTEM_NAMES[system]}): "
            f"+{site.gain_population:,.0f} {who}{served} -> {100 * (site.covered_share_after or 0):.1f}% "
            f"covered ({site.method})"
        )
    print(f"  sites: {siting_line(siting, who)}")


def siting_line(siting, who: str = "residents") -> str:
    """One sentence: the problem, the method, the status and the proved gap.

    Parameters
    ----------
    siting : SitingSummary
        The summary of the proposed sites (problem, method, solver status, objective and bound).
    who : str
        What the population figures count: ``"residents"`` or ``"estimated residents"``.

    Returns
    -------
    str
    """
    what = {"MCLP": "maximal covering", "LSCP": "full coverage (fewest sites)"}.get(siting.problem)
    if what is None:
        what = f"capacitated covering (at most {siting.max_residents_per_facility:,.0f} {who} per clinic)"
    unit = "sites" if siting.problem == "LSCP" else who
    return (
        f"{what} by {siting.method}, {siting.status}: objective {siting.objective:,.1f} {unit}, "
        f"bound {siting.bound:,.1f} ({siting.bound_source}), gap {100 * siting.gap:.2f}%; "
        f"{siting.verified_covered_population_after:,.0f} {who} within the threshold after "
        "(verified by re-running the search with the sites added)"
    )


SYSTEM_NAMES = {
    "wgs84": "WGS-84",
    "gcj02": "GCJ-02, as Amap/Tencent show them",
    "bd09": "BD-09, as Baidu shows them",
}


def site_coordinates(site: dict, system: str) -> tuple[float, float]:
    """A site's longitude and latitude in ``system`` (``wgs84``, ``gcj02`` or ``bd09``).

    Parameters
    ----------
    site : dict
        The site's fields, with ``lon_wgs84`` and ``lat_wgs84`` in degrees (WGS-84).
    system : str
        The coordinate system to return: ``wgs84``, ``gcj02`` or ``bd09``.
    """
    from circles.sources import coords

    lon, lat = site["lon_wgs84"], site["lat_wgs84"]
    if system == "gcj02":
        lon, lat = (float(v) for v in coords.wgs84_to_gcj02(lon, lat))
    elif system == "bd09":
        lon, lat = (float(v) for v in coords.wgs84_to_bd09(lon, lat))
    return lon, lat
