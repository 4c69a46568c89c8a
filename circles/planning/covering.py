"""Where new facilities should go: maximal covering (MCLP) and set covering (LSCP).

Both keep the existing facilities: the demand they already cover is taken out (it
counts in ``covered_before``), and only candidate sites are chosen. Inputs follow
spopt's ``from_cost_matrix`` pattern, but sparse: ``cover`` is a boolean
(candidates x demand points) matrix, ``weight`` the residents per demand point.

- :func:`max_cover` (MCLP): ``n_sites`` new sites covering the most uncovered weight.
  Solved exactly as an integer programme with HiGHS after merging demand points with
  identical covering sets (:func:`circles.planning.greedy.aggregate`), and kept only
  when it beats the greedy choice; ``method="greedy"`` keeps the fast path. Either way the result
  carries a proved bound and the gap to it.
- :func:`set_cover` (LSCP): the fewest new sites covering every coverable demand
  point; the points no candidate reaches are reported, not silently dropped.

The integer programmes (``x_j`` = 1 when candidate ``j`` opens, ``y_g`` = group ``g``
is covered)::

    MCLP  max sum_g w_g y_g   s.t.  y_g <= sum_{j covers g} x_j,  sum_j x_j <= k,
                                    x binary, 0 <= y <= 1
    LSCP  min sum_j x_j       s.t.  sum_{j covers g} x_j >= 1,    x binary

(``y`` need not be integer: with ``x`` integer the optimum has ``y_g = min(1, ...)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from circles.errors import InputError
from circles.planning import _highs
from circles.planning.greedy import (
    Groups,
    aggregate,
    as_cover,
    as_mask,
    as_weight,
    covered_weight,
    greedy_max_cover,
    greedy_set_cover,
    order_by_gain,
)
from circles.planning.lagrangian import max_cover_lagrangian, set_cover_lagrangian

#: Default wall-time limit of one exact solve, seconds.
DEFAULT_SOLVER_TIME_LIMIT_S = 60.0
EXACT = "exact (HiGHS)"
GREEDY = "greedy"
LAGRANGIAN = "Lagrangian heuristic"


@dataclass(frozen=True, eq=False)
class SitingResult:
    """New sites, in order, with how good the choice is proved to be.

    Attributes
    ----------
    problem : str
        ``"MCLP"``, ``"LSCP"`` or ``"capacitated MCLP"``.
    sites : ndarray of int64
        Chosen candidate indices, largest marginal gain first.
    gain : ndarray of float64
        Weight (residents) each site adds to the ones before it.
    covered_before : float
        Weight covered (served, when capacitated) by the existing facilities alone.
    covered_after : ndarray of float64
        Weight covered after each site: ``covered_before + cumsum(gain)``.
    objective : float
        MCLP: the weight the new sites add; LSCP: the number of new sites.
    bound : float
        Proved best possible objective: an upper bound on the weight (MCLP), a lower
        bound on the number of sites (LSCP); equal to ``objective`` when optimal.
    gap : float
        ``|bound - objective| / |bound|`` for MCLP, ``/ objective`` for LSCP; 0 = optimal.
    bound_source : str
        Where the bound comes from: ``"MIP dual bound"``, ``"LP relaxation"``,
        ``"Lagrangian bound"`` (approaching the LP's) or ``"greedy online bound"``.
    method : str
        Which method produced the sites: ``"exact (HiGHS)"``, ``"greedy"`` or
        ``"Lagrangian heuristic"`` (the best sites met while computing the Lagrangian bound).
    status : str
        ``"optimal"`` (proved), ``"time limit"`` (the solver stopped at
        ``solver_time_limit_s``), ``"feasible"`` (greedy, not proved optimal) or
        ``"too large"`` (capacitated: the programme was not built; greedy's sites).
    uncoverable : ndarray of int64
        Demand points with weight that no existing facility covers and no candidate reaches.
    uncoverable_weight : float
        Their weight.
    solve_time_s : float
        Wall time spent in HiGHS (0 when it was not run).
    """

    problem: str
    sites: NDArray[np.int64]
    gain: NDArray[np.float64]
    covered_before: float
    covered_after: NDArray[np.float64]
    objective: float
    bound: float
    gap: float
    bound_source: str
    method: str
    status: str
    uncoverable: NDArray[np.int64]
    uncoverable_weight: float
    solve_time_s: float


@dataclass(frozen=True, eq=False)
class _Problem:
    """The demand that new sites can still cover, merged into groups."""

    cover: sp.csr_matrix
    weight: NDArray[np.float64]
    groups: Groups
    covered_before: float
    uncoverable: NDArray[np.int64]


def _prepare(cover, weight, covered) -> _Problem:
    m = as_cover(cover)
    w = as_weight(weight, m.shape[1])
    done = as_mask(covered, m.shape[1])
    reach = np.asarray(m.sum(axis=0)).ravel() > 0
    open_demand = (w > 0) & ~done
    uncoverable = np.flatnonzero(open_demand & ~reach)
    groups = aggregate(m, w, open_demand & reach)
    return _Problem(m, w, groups, float(w[done].sum()), uncoverable)


def max_cover(
    cover: ArrayLike | sp.spmatrix,
    weight: ArrayLike | None,
    n_sites: int,
    *,
    covered: ArrayLike | None = None,
    method: str = "exact",
    solver_time_limit_s: float = DEFAULT_SOLVER_TIME_LIMIT_S,
    mip_rel_gap: float = 0.0,
    lp_bound: bool = True,
    lagrangian_iterations: int = 300,
) -> SitingResult:
    """Maximal covering with the existing facilities kept: ``n_sites`` new sites.

    Parameters
    ----------
    cover : sparse or dense bool, shape (n_candidates, n_demand)
        ``cover[j, i]``: candidate ``j`` reaches demand point ``i`` within the threshold.
    weight : array_like, shape (n_demand,), optional
        Residents per demand point (1 each when None).
    n_sites : int
        How many new sites at most (fewer when no further site adds anything).
    covered : array_like of bool, shape (n_demand,), optional
        Demand already covered by existing facilities (see
        :func:`circles.planning.greedy.covered_by`); weight 0 for the new sites.
    method : {"exact", "greedy"}
        ``"exact"``: the integer programme with HiGHS; its sites are taken when they
        cover more than greedy's (so a solve stopped at the time limit returns the
        better of its incumbent and greedy), with the solver's bound. ``"greedy"``:
        greedy only, bounded by its online bound, the Lagrangian bound and the LP
        relaxation (solved within the same time limit).
    solver_time_limit_s : float
        Time limit of each HiGHS solve, seconds.
    mip_rel_gap : float
        Relative gap at which HiGHS may stop and call the solution optimal (0: prove it).
    lp_bound : bool
        With ``method="greedy"``: also solve the LP relaxation for a bound.
    lagrangian_iterations : int
        Subgradient iterations of :func:`circles.planning.lagrangian.max_cover_lagrangian`, run
        before HiGHS (0: none). Its bound approaches the LP's at one sparse product
        per iteration, and the sites it meets may beat greedy's; when bound and best
        sites meet, the optimum is proved and HiGHS is skipped.

    Returns
    -------
    SitingResult
    """
    _check_options(n_sites, method, solver_time_limit_s)
    p = _prepare(cover, weight, covered)
    g = p.groups
    greedy = greedy_max_cover(g.sites, g.weight, n_sites)
    greedy_value = float(greedy.gain.sum())
    best, bound, source = greedy.sites, greedy.bound, "greedy online bound"
    used, status, solve_s = GREEDY, "feasible", 0.0
    tol = 1e-9 * max(1.0, float(g.weight.sum()))
    best_value = greedy_value
    if g.n and bound - best_value > tol and lagrangian_iterations > 0:
        lag = max_cover_lagrangian(g.sites, g.weight, n_sites, greedy_value, lagrangian_iterations)
        if lag.bound < bound:
            bound, source = lag.bound, "Lagrangian bound"
        if lag.value > best_value + tol:
            best, best_value, used = lag.sites, lag.value, LAGRANGIAN
    if g.n and bound - best_value > tol and (method == "exact" or lp_bound):
        sol = _solve_mclp(g, n_sites, method, solver_time_limit_s, mip_rel_gap)
        solve_s = sol.time_s
        if np.isfinite(sol.bound) and sol.bound < bound:
            bound, source = sol.bound, "MIP dual bound" if method == "exact" else "LP relaxation"
        if method == "exact":
            status = sol.status  # "time limit" even when HiGHS stopped without any solution
            picked = np.flatnonzero(sol.x[: g.sites.shape[1]] > 0.5) if sol.x is not None else best
            if covered_weight(g.sites, g.weight, picked) > best_value + tol:
                best, used = picked, EXACT
    sites, gain = order_by_gain(g.sites, g.weight, best)
    objective = float(gain.sum())
    if bound - objective <= tol:  # proved (to 1e-9 of the total weight)
        bound, status = objective, "optimal"
    gap = (bound - objective) / bound if bound > tol else 0.0
    return _result("MCLP", p, sites, gain, objective, bound, gap, source, used, status, solve_s)


def set_cover(
    cover: ArrayLike | sp.spmatrix,
    weight: ArrayLike | None = None,
    *,
    covered: ArrayLike | None = None,
    method: str = "exact",
    solver_time_limit_s: float = DEFAULT_SOLVER_TIME_LIMIT_S,
    lp_bound: bool = True,
    lagrangian_iterations: int = 300,
) -> SitingResult:
    """Location set covering with the existing facilities kept: the fewest new sites.

    Parameters
    ----------
    cover : sparse or dense bool, shape (n_candidates, n_demand)
    weight : array_like, shape (n_demand,), optional
        Residents per demand point; points of weight 0 need no cover. Gains are
        reported in this weight.
    covered : array_like of bool, shape (n_demand,), optional
        Demand already covered by existing facilities.
    method : {"exact", "greedy"}
        As in :func:`max_cover`; greedy picks the site covering the most uncovered points.
    solver_time_limit_s, lp_bound : float, bool
        As in :func:`max_cover`.
    lagrangian_iterations : int
        Subgradient iterations of :func:`circles.planning.lagrangian.set_cover_lagrangian`
        (a lower bound, and covers found on the way), run before HiGHS (0: none).

    Returns
    -------
    SitingResult
        ``objective`` is the number of new sites; ``uncoverable`` the demand points
        left uncovered because no candidate reaches them.
    """
    _check_options(1, method, solver_time_limit_s)
    p = _prepare(cover, weight, covered)
    g = p.groups
    greedy = greedy_set_cover(g.sites, g.members) if g.n else np.empty(0, dtype=np.int64)
    best, used, status, solve_s = greedy, GREEDY, "feasible", 0.0
    bound, source = _set_cover_fallback_bound(g, greedy.size), "greedy online bound"
    if g.n and bound < best.size and lagrangian_iterations > 0:
        lag = set_cover_lagrangian(g.sites, g.weight, greedy.size, lagrangian_iterations)
        if lag.bound > bound:
            bound, source = lag.bound, "Lagrangian bound"
        if lag.sites.size and lag.value < best.size:
            best, used = lag.sites, LAGRANGIAN
    if g.n and bound < best.size and (method == "exact" or lp_bound):
        sol = _solve_lscp(g, method, solver_time_limit_s)
        solve_s = sol.time_s
        if np.isfinite(sol.bound) and np.ceil(sol.bound - 1e-6) > bound:
            bound = float(np.ceil(sol.bound - 1e-6))
            source = "MIP dual bound" if method == "exact" else "LP relaxation"
        if method == "exact":
            status = sol.status
            picked = np.flatnonzero(sol.x > 0.5) if sol.x is not None else best
            if picked.size < best.size and bool(g.sites[:, picked].sum(axis=1).min() > 0):
                best, used = picked, EXACT
    # Every group has weight > 0, so a site adding nothing after the others is redundant.
    sites, gain = order_by_gain(g.sites, g.weight, best)
    objective = float(sites.size)
    if objective <= bound:
        bound, status = objective, "optimal"
    gap = (objective - bound) / objective if objective > 0 else 0.0
    return _result("LSCP", p, sites, gain, objective, bound, gap, source, used, status, solve_s)


def _solve_mclp(g: Groups, n_sites, method, time_limit_s, mip_rel_gap) -> _highs.Solution:
    n_c, n_g = g.sites.shape[1], g.n
    a = sp.vstack(
        [
            sp.hstack([-g.sites.astype(np.float64), sp.identity(n_g, format="csr")]),
            sp.hstack([np.ones((1, n_c)), sp.csr_matrix((1, n_g))]),
        ]
    )
    rows = (np.full(n_g + 1, -np.inf), np.append(np.zeros(n_g), float(n_sites)))
    cols = (np.zeros(n_c + n_g), np.ones(n_c + n_g))
    cost = np.concatenate([np.zeros(n_c), g.weight])
    integer = np.arange(n_c + n_g) < n_c if method == "exact" else None
    return _highs.solve(
        cost,
        a,
        rows,
        cols,
        integer=integer,
        maximize=True,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        presolve=False,
    )


def _solve_lscp(g: Groups, method, time_limit_s) -> _highs.Solution:
    n_c = g.sites.shape[1]
    return _highs.solve(
        np.ones(n_c),
        g.sites.astype(np.float64),
        (np.ones(g.n), np.full(g.n, np.inf)),
        (np.zeros(n_c), np.ones(n_c)),
        integer=np.ones(n_c, dtype=bool) if method == "exact" else None,
        time_limit_s=time_limit_s,
        presolve=False,
    )


def _set_cover_fallback_bound(g: Groups, n_greedy: int) -> float:
    """A lower bound on the fewest sites from greedy alone: greedy / H(largest site's point count).

    Greedy set cover uses at most H(d) times the optimum, d the most points one site covers.
    """
    if g.n == 0:
        return 0.0
    d = int(np.asarray(g.sites.T.astype(np.float64) @ g.members).max())
    harmonic = float(np.sum(1.0 / np.arange(1, d + 1)))
    return float(max(1.0, np.ceil(n_greedy / harmonic - 1e-9)))


def _result(problem, p: _Problem, sites, gain, objective, bound, gap, source, method, status, solve_s):
    return SitingResult(
        problem=problem,
        sites=np.asarray(sites, dtype=np.int64),
        gain=np.asarray(gain, dtype=np.float64),
        covered_before=p.covered_before,
        covered_after=p.covered_before + np.cumsum(gain),
        objective=float(objective),
        bound=float(bound),
        gap=float(max(0.0, gap)),
        bound_source=source,
        method=method,
        status=status,
        uncoverable=p.uncoverable,
        uncoverable_weight=float(p.weight[p.uncoverable].sum()),
        solve_time_s=float(solve_s),
    )


def _check_options(n_sites: int, method: str, time_limit_s: float) -> None:
    if int(n_sites) != n_sites or n_sites < 1:
        raise InputError(
            f"the number of new sites must be a whole number >= 1, got {n_sites}", parameter="n_sites"
        )
    if method not in ("exact", "greedy"):
        raise InputError(f"unknown siting method {method!r}", fix="use `method` 'exact' or 'greedy'")
    if not time_limit_s > 0:
        raise InputError(
            f"`solver_time_limit_s` must be positive seconds, got {time_limit_s}",
            parameter="solver_time_limit_s",
        )
