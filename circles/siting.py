"""Where the next clinics should go, proved good: MCLP, LSCP and capacitated MCLP on exact times.

The adapter between a measured study and the numeric core (:mod:`circles.planning`):

1. demand: the homes on the network beyond the threshold (maximal and set covering), or
   every home on the network (capacitated, where the existing clinics' loads count),
   weighted by residents;
2. candidates (:mod:`circles.candidates`): network nodes near the demand or the
   planner's file;
3. the sparse candidate-by-home coverage matrix from the engine's exact times
   (:func:`circles.engine.pair_costs`: the exact walk plus both access legs within the
   threshold), never a second shortest-path code;
4. the solve: exact with HiGHS by default (its incumbent and bound when it stops at
   ``solver_time_limit_s``, never worse than greedy), or greedy with a proved bound;
5. verification: the search is run again with the sites added as facilities, and the
   residents it finds within the threshold are recorded next to the sites' claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray

from circles.candidates import candidate_nodes, candidate_sites, node_sites
from circles.config import TravelSettings
from circles.crs import WGS84
from circles.engine import Snapped, pair_costs
from circles.errors import InputError
from circles.network import WalkNetwork
from circles.plan_result import SiteFigure, SitingOptions, SitingSummary

if TYPE_CHECKING:  # pragma: no cover
    from circles.analysis import Measured
    from circles.planning.covering import SitingResult as CoreResult
    from circles.result import StudyResult

__all__ = [
    "SitingOptions",
    "SitingResult",
    "candidate_nodes",
    "choose_sites",
    "coverage_matrix",
    "node_sites",
    "recommend_sites",
    "with_sites",
]


@dataclass(frozen=True)
class SitingResult:
    """Recommended sites (WGS-84 points, in order of choice), the run's figures and notes.

    Attributes
    ----------
    sites : GeoDataFrame
    summary : SitingSummary
    notes : tuple of str
        Why fewer sites than asked were found, a solver stopped at its limit, homes no
        candidate reaches.
    uncoverable_homes : ndarray of int64
        Indices (into the homes table) of homes beyond the threshold that no candidate reaches.
    """

    sites: gpd.GeoDataFrame
    summary: SitingSummary
    notes: tuple[str, ...] = ()
    uncoverable_homes: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def records(self) -> list[dict]:
        """The sites as plain rows for ``summary.json`` (longitude/latitude in WGS-84)."""
        return [s.to_dict() for s in self.summary.sites]


def coverage_matrix(network: WalkNetwork, sites: Snapped, homes: Snapped, limit: float) -> sp.csr_matrix:
    """Which site covers which home: exact travel (plus both access legs) within ``limit``.

    Parameters
    ----------
    network : WalkNetwork
        The network both sets are attached to.
    sites : Snapped
        The candidate sites, attached to the network.
    homes : Snapped
        The demand homes, attached to the network.
    limit : float
        Longest travel cost that covers, in the network's cost unit (metres for walking).

    Returns
    -------
    scipy.sparse.csr_matrix of bool, shape (n_sites, n_homes)
    """
    return pair_costs(network.travel_graph, sites, homes, limit).covers()


def _solve(options: SitingOptions, cover, weight, existing_cover) -> CoreResult:
    """The numeric core's answer to the problem the options ask."""
    from circles.planning.capacitated import capacitated_max_cover
    from circles.planning.covering import max_cover, set_cover

    common = {"method": options.siting_method, "solver_time_limit_s": options.solver_time_limit_s}
    if options.full_coverage:
        return set_cover(cover, weight, **common)
    if options.max_residents_per_facility is None:
        return max_cover(cover, weight, options.n_sites, **common)
    cap = float(options.max_residents_per_facility)
    return capacitated_max_cover(
        cover, weight, options.n_sites, existing_cover=existing_cover, capacity=cap, **common
    )


def _reach_gains(
    cover: sp.csr_matrix, weight: NDArray[np.float64], reached: NDArray[np.bool_], sites: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Homes and residents each site brings within the threshold that nothing before it reached."""
    reached = reached.copy()
    homes, pop = [], []
    for j in sites:
        hit = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
        new = hit[~reached[hit]]
        homes.append(new.size)
        pop.append(float(weight[new].sum()))
        reached[new] = True
    return np.array(homes, dtype=np.int64), np.array(pop, dtype=float)


def verified_coverage(measured: Measured, settings: TravelSettings, sites: Snapped) -> float:
    """Residents within the threshold when the search runs again with ``sites`` added as facilities.

    Parameters
    ----------
    measured : Measured
        The study the sites are added to (its network, facilities, homes and residents).
    settings : TravelSettings
        Speed and threshold (minutes) of the search.
    sites : Snapped
        The new sites, attached to the study's network.
    """
    from circles.analysis import search_times

    ctx = measured.context
    facilities = Snapped.concat([ctx.facilities, sites])
    _, _, walk_time_min = search_times(ctx.network, facilities, ctx.homes, settings, None)
    pop = measured.homes["population"].to_numpy(float)
    return float(pop[walk_time_min <= settings.threshold_min].sum())


def choose_sites(
    measured: Measured,
    settings: TravelSettings,
    boundary: gpd.GeoDataFrame | None,
    *,
    options: SitingOptions | None = None,
    n_sites: int = 5,
    candidates: gpd.GeoDataFrame | None = None,
) -> SitingResult:
    """New sites for a measured study (see :func:`recommend_sites`), with notes on what limited them.

    Parameters
    ----------
    measured : Measured
    settings : TravelSettings
    boundary : GeoDataFrame, optional
        Default candidates lie inside it.
    options : SitingOptions, optional
        The problem and solver; default ``SitingOptions(n_sites=n_sites)``.
    n_sites : int
        Used without ``options``.
    candidates : GeoDataFrame, optional
        The planner's candidate sites (any CRS).

    Returns
    -------
    SitingResult
    """
    options = options or SitingOptions(n_sites=n_sites)
    if not options.asked:
        raise InputError(f"number of sites must be at least 1, got {options.n_sites}", parameter="n_sites")
    from circles.analysis import cost_per_min

    ctx, homes = measured.context, measured.homes
    limit = settings.threshold_min * cost_per_min(ctx.network, settings)
    pop = homes["population"].to_numpy(float)
    covered = homes["walk_time_min"].to_numpy(float) <= settings.threshold_min
    capacitated = options.problem == "capacitated MCLP"
    demand_idx = np.flatnonzero(ctx.homes.attached & (pop > 0) & (capacitated | ~covered))
    demand, weight = ctx.homes.subset(demand_idx), pop[demand_idx]
    site_options = (options.spacing_m, options.max_candidates)
    sites, site_xy, extra = candidate_sites(ctx, demand, limit, settings, boundary, candidates, *site_options)
    cover = coverage_matrix(ctx.network, sites, demand, limit)
    existing = None
    if capacitated:
        existing = pair_costs(ctx.network.travel_graph, ctx.facilities, demand, limit).covers()
    core = _solve(options, cover, weight, existing)
    gain_homes, gain_reach = _reach_gains(cover, weight, covered[demand_idx], core.sites)
    before = float(pop[covered].sum())
    chosen = sites.subset(core.sites)
    verified = verified_coverage(measured, settings, chosen) if core.sites.size else before
    covered_after = before + np.cumsum(gain_reach)
    figures = _site_figures(core, gain_homes, covered_after, float(pop.sum()))
    out = _site_frame(figures, site_xy[core.sites], ctx.network.crs, extra, core.sites)
    figures = tuple(_with_position(f, out, i) for i, f in enumerate(figures))
    uncoverable = demand_idx[core.uncoverable]
    claimed = float(covered_after[-1]) if covered_after.size else before
    run = _run_summary(
        options, core, len(sites), demand_idx, weight, uncoverable, pop, before, claimed, verified
    )
    summary = SitingSummary(**run, sites=figures)
    notes = _notes(options, summary, settings)
    return SitingResult(out, summary, notes, uncoverable)


def with_sites(
    measured: Measured,
    settings: TravelSettings,
    boundary: gpd.GeoDataFrame | None,
    options: SitingOptions,
    candidates: gpd.GeoDataFrame | None = None,
) -> tuple[Measured, SitingResult]:
    """New sites (:func:`choose_sites`), and the homes table with ``no_candidate_reaches``.

    ``no_candidate_reaches`` is True for homes beyond the threshold that no candidate
    site reaches: no new site among these candidates can serve them.

    Parameters
    ----------
    measured : Measured
        The measured study.
    settings : TravelSettings
        Speed and threshold (minutes) of the study.
    boundary : GeoDataFrame or None
        The study area; default candidates lie inside it.
    options : SitingOptions
        The problem and solver (number of sites, full coverage, capacity, method).
    candidates : GeoDataFrame, optional
        The planner's candidate sites (any CRS); None for network nodes near the homes.
    """
    from dataclasses import replace

    result = choose_sites(measured, settings, boundary, options=options, candidates=candidates)
    homes = measured.homes.copy()
    unreachable = np.zeros(len(homes), dtype=bool)
    unreachable[result.uncoverable_homes] = True
    homes["no_candidate_reaches"] = unreachable
    return replace(measured, homes=homes), result


def _site_figures(core: CoreResult, gain_homes, covered_after, total: float) -> list[SiteFigure]:
    """One :class:`SiteFigure` per chosen site (positions filled in later)."""
    served = getattr(core, "site_load", None)
    out = []
    for k in range(core.sites.size):
        out.append(
            SiteFigure(
                rank=k + 1,
                name=f"proposed site {k + 1}",
                lon_wgs84=0.0,
                lat_wgs84=0.0,
                gain_population=round(float(core.gain[k]), 1),
                gain_homes=int(gain_homes[k]),
                covered_population_after=round(float(covered_after[k]), 1),
                covered_share_after=round(float(covered_after[k]) / total, 4) if total > 0 else None,
                method=core.method,
                served_population_after=None if served is None else round(float(core.covered_after[k]), 1),
                site_load=None if served is None else round(float(served[k]), 1),
            )
        )
    return out


def _site_frame(figures: list[SiteFigure], xy, crs, extra, chosen) -> gpd.GeoDataFrame:
    """The sites as WGS-84 points with their figures and the candidate file's columns."""
    rows = [{k: v for k, v in f.to_dict().items() if k not in ("lon_wgs84", "lat_wgs84")} for f in figures]
    columns = list(rows[0]) if rows else ["rank", "name", "gain_population", "gain_homes", "method"]
    frame = gpd.GeoDataFrame(
        rows, columns=columns, geometry=gpd.GeoSeries(shapely.points(xy.reshape(-1, 2)), crs=crs)
    ).to_crs(WGS84)
    if extra is not None:
        for col in extra.columns:
            if col not in frame:
                frame[col] = extra[col].to_numpy()[chosen]
    return frame


def _with_position(figure: SiteFigure, frame: gpd.GeoDataFrame, i: int) -> SiteFigure:
    """The figure with its WGS-84 position and the candidate file's columns."""
    from dataclasses import replace

    point = frame.geometry.iloc[i]
    own = {c: _plain(frame[c].iloc[i]) for c in frame.columns if c not in (*figure.to_dict(), "geometry")}
    return replace(figure, lon_wgs84=round(point.x, 6), lat_wgs84=round(point.y, 6), columns=own)


def _plain(value):
    """A table cell as a JSON-ready Python value."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _run_summary(
    options, core, n_candidates, demand_idx, weight, uncoverable, pop, before, claimed, verified
):
    """The run-level fields of :class:`SitingSummary`."""
    served_before = served_after = None
    if options.problem == "capacitated MCLP":
        served_before = round(float(core.covered_before), 1)
        served_after = round(float(core.covered_after[-1]) if core.sites.size else core.covered_before, 1)
    return {
        "problem": core.problem,
        "method": core.method,
        "status": core.status,
        "objective": float(core.objective),
        "bound": float(core.bound),
        "gap": float(core.gap),
        "bound_source": core.bound_source,
        "candidates": int(n_candidates),
        "demand_homes": int(demand_idx.size),
        "demand_population": float(weight.sum()),
        "uncoverable_homes": int(uncoverable.size),
        "uncoverable_population": float(pop[uncoverable].sum()),
        "covered_population_before": before,
        "covered_population_after": claimed,
        "verified_covered_population_after": verified,
        "solver_time_limit_s": float(options.solver_time_limit_s),
        "max_residents_per_facility": options.max_residents_per_facility,
        "served_population_before": served_before,
        "served_population_after": served_after,
    }


def _notes(options: SitingOptions, s: SitingSummary, settings: TravelSettings) -> tuple[str, ...]:
    """Plain-language notes: fewer sites than asked, a stopped solver, unreachable homes, a mismatch."""
    notes = []
    found = len(s.sites)
    if not options.full_coverage and found < options.n_sites:
        if s.demand_homes == 0:
            why = f"every home reachable over the network is already within {settings.threshold_min:g} min"
        elif s.candidates == 0:
            why = "no candidate site lies on the network within reach of the uncovered homes"
        else:
            why = (
                f"after {found} site(s) no candidate brings any further uncovered resident within "
                f"{settings.threshold_min:g} min (the rest are unreachable from every candidate)"
            )
        notes.append(f"asked for {options.n_sites} new sites, recommended {found}: {why}")
    if s.status == "time limit":
        notes.append(
            f"the exact siting solve stopped at its time limit of {s.solver_time_limit_s:g} s "
            f"(`solver_time_limit_s`): the sites are the {s.method}'s, within {100 * s.gap:.2f}% of "
            f"the proved bound ({s.bound_source})"
        )
    if options.full_coverage and s.uncoverable_homes:
        notes.append(
            f"{s.uncoverable_homes:,} homes ({s.uncoverable_population:,.0f} residents) beyond "
            f"{settings.threshold_min:g} min cannot be reached from any candidate site"
        )
    if abs(s.verified_covered_population_after - s.covered_population_after) > 0.5:
        notes.append(
            f"re-running the search with the proposed sites added finds "
            f"{s.verified_covered_population_after:,.1f} residents within {settings.threshold_min:g} min, "
            f"the sites claim {s.covered_population_after:,.1f} (times are rounded to 0.001 min)"
        )
    return tuple(notes)


def recommend_sites(
    result: StudyResult,
    *,
    n_sites: int = 5,
    candidates: gpd.GeoDataFrame | None = None,
    full_coverage: bool = False,
    max_residents_per_facility: float | None = None,
    solver_time_limit_s: float = 60.0,
    siting_method: str = "exact",
    spacing_m: float = 100.0,
    max_candidates: int = 3000,
) -> gpd.GeoDataFrame:
    """Recommend new facility sites that bring the most uncovered residents within reach.

    Parameters
    ----------
    result : StudyResult
        A finished analysis (with its network context).
    n_sites : int
        How many sites (maximal covering); ignored with ``full_coverage``.
    candidates : GeoDataFrame, optional
        The planner's candidate sites (e.g. vacant plots), any CRS; by default network
        nodes inside the study area near the demand, one per ``spacing_m`` square.
    full_coverage : bool
        The fewest sites that bring every home any candidate reaches within the threshold.
    max_residents_per_facility : float, optional
        Capacitated: no facility, new or existing, serves more residents.
    solver_time_limit_s : float
        Time limit of the exact solve, seconds.
    siting_method : {"exact", "greedy"}
    spacing_m, max_candidates : float, int
        Thinning of the default candidates.

    Returns
    -------
    GeoDataFrame
        One row per recommended site in order (WGS-84 points): ``rank``, ``name``,
        ``gain_population``, ``gain_homes``, ``covered_population_after``,
        ``covered_share_after``, ``method`` (capacitated: ``served_population_after``,
        ``site_load``); plus the candidate file's columns when given.
        ``attrs["siting"]`` holds the run's :class:`SitingSummary` as a dict and
        ``attrs["notes"]`` the notes.
    """
    from circles.analysis import Measured

    if full_coverage:
        n_sites = 0
    elif n_sites < 1:
        raise InputError(f"number of sites must be at least 1, got {n_sites}", parameter="n_sites")
    if result.context is None:
        raise InputError("this result carries no network context; run the analysis again to recommend sites")
    options = SitingOptions(
        n_sites, full_coverage, max_residents_per_facility, solver_time_limit_s, siting_method,
        spacing_m, max_candidates,
    )  # fmt: skip
    measured = Measured(
        result.context, result.homes, result.facilities, result.service_areas, result.catchment_areas
    )
    siting = choose_sites(measured, result.settings, result.boundary, options=options, candidates=candidates)
    siting.sites.attrs["notes"] = list(siting.notes)
    siting.sites.attrs["siting"] = siting.summary.to_dict()
    return siting.sites
