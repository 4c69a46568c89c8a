"""Capacity-aware siting: new sites such that no facility serves more than a resident target.

The question it answers: "with at most one clinic per 20,000 residents, where should k
new clinics go so that the most residents have a clinic within 15 minutes *that has
room for them*?" Plain maximal covering counts a resident as served as soon as any
clinic is in reach, however crowded; here each site (new or existing) serves at most
its ``capacity`` residents, and the existing clinics' loads count: residents they
already serve use up their capacity, and a new site may relieve an overloaded one.

Assignment is fractional: a demand point's residents may be split between several
sites in reach (the residents of one block register with different clinics). This
keeps the assignment a transportation problem (a maximum flow, see
:mod:`circles.planning._assignment`) and only the site choice integer; whole-point
assignment would make it a generalised assignment problem while changing the answer
by at most one demand point's residents per site.

The mixed-integer programme (``x_j`` = 1 when candidate ``j`` opens, ``a_gs`` the
residents of group ``g`` served by site ``s``, over pairs with ``s`` in reach of ``g``)::

    max sum a_gs  s.t.  sum_s a_gs <= w_g                    (a group is served once)
                        sum_g a_gs <= cap_s                  (existing site s)
                        sum_g a_gs <= cap_s x_s              (candidate site s; closed serves none)
                        sum_j x_j <= k,  x binary,  0 <= a_gs <= w_g

The textbook strengthening ``a_gs <= w_g x_s`` (one row per pair) is left out: on the
benchmark instances (``bench/siting.py``) HiGHS proved the weak form optimal in 7 s
where the strong form, or its per-group sum, had not finished the root in 60 s, with
capacity binding (20,000) and also with capacity 10^9.

The programme has one column per (group, site in reach) pair, so it grows with the
covering pairs, not the demand points; the greedy method needs only maximum flows
and scales much further. See ``bench/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from circles.errors import InputError
from circles.planning import _highs
from circles.planning._assignment import Assignment, Served, lazy_greedy
from circles.planning.capacity import DEFAULT_RESIDENTS_PER_FACILITY
from circles.planning.covering import (
    DEFAULT_SOLVER_TIME_LIMIT_S,
    EXACT,
    GREEDY,
    SitingResult,
    _check_options,
)
from circles.planning.greedy import aggregate, as_cover, as_weight

#: Largest capacitated programme built, in (demand group, site) pairs (about 0.5 kB each in HiGHS).
DEFAULT_MAX_PROGRAMME_PAIRS = 2_000_000


@dataclass(frozen=True, eq=False)
class CapacitatedResult(SitingResult):
    """A :class:`~circles.planning.covering.SitingResult` where "covered" means served within capacity.

    Sites are in order of the residents they serve; ``gain`` is what each adds to the
    sites before it. Loads are one optimal assignment (several may serve as many).

    Attributes
    ----------
    site_load : ndarray
        Residents assigned to each new site.
    existing_load_before, existing_load_after : ndarray
        Residents assigned to each existing facility without and with the new sites.
    unserved_weight : float
        Residents within reach of some site but beyond every site's capacity, after.
    """

    site_load: NDArray[np.float64]
    existing_load_before: NDArray[np.float64]
    existing_load_after: NDArray[np.float64]
    unserved_weight: float


def capacitated_max_cover(
    cover: ArrayLike | sp.spmatrix,
    weight: ArrayLike | None,
    n_sites: int,
    *,
    existing_cover: ArrayLike | sp.spmatrix | None = None,
    capacity: float | ArrayLike = DEFAULT_RESIDENTS_PER_FACILITY,
    existing_capacity: float | ArrayLike | None = None,
    method: str = "exact",
    solver_time_limit_s: float = DEFAULT_SOLVER_TIME_LIMIT_S,
    mip_rel_gap: float = 0.0,
    lp_bound: bool = True,
    max_programme_pairs: int = DEFAULT_MAX_PROGRAMME_PAIRS,
) -> CapacitatedResult:
    """Capacitated maximal covering: ``n_sites`` new sites, no site over its capacity.

    Parameters
    ----------
    cover : sparse or dense bool, shape (n_candidates, n_demand)
        Candidate ``j`` reaches demand point ``i`` within the threshold.
    weight : array_like, shape (n_demand,), optional
        Residents per demand point (1 each when None).
    n_sites : int
        How many new sites at most.
    existing_cover : sparse or dense bool, shape (n_existing, n_demand), optional
        Which existing facility reaches which demand point.
    capacity : float or array_like of shape (n_candidates,)
        Residents a new site may serve (default 20,000).
    existing_capacity : float or array_like of shape (n_existing,), optional
        Residents each existing facility may serve; ``capacity`` when it is a number.
    method : {"exact", "greedy"}
        ``"greedy"``: capacity-aware greedy (each step opens the site serving the most
        extra residents; at least 1 - 1/e of the optimum), bounded by its online
        bound and the LP relaxation. ``"exact"``: also the mixed-integer programme with HiGHS, whose
        sites are kept when they serve more.
    solver_time_limit_s, mip_rel_gap, lp_bound
        As in :func:`circles.planning.covering.max_cover`. Neither programme is
        solved when greedy's online bound already proves its sites optimal.
    max_programme_pairs : int
        Largest programme (in demand-group x site pairs, one column each) that is
        built; beyond it the result is greedy's, with status ``"too large"``. HiGHS
        took 9 GB for the LP of 18 million pairs (``bench/siting.py``, 100,000 points).

    Returns
    -------
    CapacitatedResult
    """
    _check_options(n_sites, method, solver_time_limit_s)
    assign, uncoverable, w = _build(cover, weight, existing_cover, capacity, existing_capacity)
    limit = solver_time_limit_s
    before = assign.served(np.empty(0, dtype=np.int64), limit)
    best, gain_bound = lazy_greedy(assign, n_sites, limit)
    best_value = assign.served(best, limit).value
    tol = 1e-9 * max(1.0, float(assign.weight.sum()))
    used, status, solve_s = GREEDY, "feasible", 0.0
    total_bound, source = before.value + gain_bound, "greedy online bound"
    too_large = assign.pair_site.size > max_programme_pairs
    if too_large and method == "exact":
        status = "too large"
    if not too_large and total_bound - best_value > tol and (method == "exact" or lp_bound):
        sol = _solve_programme(assign, n_sites, method, limit, mip_rel_gap)
        solve_s = sol.time_s
        if np.isfinite(sol.bound) and sol.bound < total_bound:
            total_bound, source = sol.bound, "MIP dual bound" if method == "exact" else "LP relaxation"
        if method == "exact":
            status = sol.status
            if sol.x is not None:
                mip_sites = np.flatnonzero(sol.x[: assign.capacity.size - assign.n_existing] > 0.5)
                mip_value = assign.served(mip_sites, limit).value  # HiGHS's own objective is not trusted
                if mip_value > best_value + tol:
                    best, used = mip_sites, EXACT
    return _finish(assign, before, best, total_bound, source, used, status, solve_s, uncoverable, w, limit)


def _finish(
    assign: Assignment, before: Served, chosen, total_bound, source, used, status, solve_s, uncov, w, limit
):
    n_e = assign.n_existing
    tol = 1e-9 * max(1.0, float(assign.weight.sum()))
    load = assign.served(chosen, limit).load[n_e + chosen]
    picked = chosen[load > tol]
    order = picked[np.lexsort((picked, -load[load > tol]))]
    runs = [before] + [assign.served(order[:i], limit) for i in range(1, order.size + 1)]
    served = np.array([r.value for r in runs])
    objective = float(served[-1] - served[0])
    bound = max(total_bound - served[0], objective)
    if any(r.status != "optimal" for r in runs):
        status = "time limit"  # an assignment LP stopped early: loads and gains are lower bounds
    elif bound - objective <= tol:
        status = "optimal"  # proved, whichever way (also when the programme was too large)
    return CapacitatedResult(
        problem="capacitated MCLP",
        sites=order.astype(np.int64),
        gain=np.diff(served),
        covered_before=float(served[0]),
        covered_after=served[1:],
        objective=objective,
        bound=bound,
        gap=(bound - objective) / bound if bound > tol else 0.0,
        bound_source=source,
        method=used,
        status=status,
        uncoverable=uncov,
        uncoverable_weight=float(w[uncov].sum()),
        solve_time_s=float(solve_s),
        site_load=runs[-1].load[n_e + order],
        existing_load_before=before.load[:n_e],
        existing_load_after=runs[-1].load[:n_e],
        unserved_weight=float(assign.weight.sum() - served[-1]),
    )


def _build(cover, weight, existing_cover, capacity, existing_capacity):
    cand = as_cover(cover)
    n_d = cand.shape[1]
    exist = (
        as_cover(existing_cover, "existing_cover") if existing_cover is not None else sp.csr_matrix((0, n_d))
    )
    if exist.shape[1] != n_d:
        raise InputError(f"`existing_cover` has {exist.shape[1]} demand points, `cover` has {n_d}")
    w = as_weight(weight, n_d)
    n_e, n_c = exist.shape[0], cand.shape[0]
    cap_c = _capacity(capacity, n_c, "capacity")
    if existing_capacity is None and np.ndim(capacity) and n_e:
        raise InputError("give `existing_capacity` when `capacity` is one value per candidate")
    cap_e = _capacity(capacity if existing_capacity is None else existing_capacity, n_e, "existing_capacity")
    sites = sp.vstack([exist.astype(bool), cand]).tocsr()
    reach = np.asarray(sites.sum(axis=0)).ravel() > 0
    uncoverable = np.flatnonzero((w > 0) & ~reach)
    groups = aggregate(sites, w, (w > 0) & reach)
    return Assignment(groups.sites, groups.weight, np.concatenate([cap_e, cap_c]), n_e), uncoverable, w


def _solve_programme(assign: Assignment, n_sites, method, time_limit_s, mip_rel_gap) -> _highs.Solution:
    """The mixed-integer programme of the module docstring (its LP relaxation for greedy)."""
    n_e = assign.n_existing
    n_g, n_s, n_p = assign.weight.size, assign.capacity.size, assign.pair_site.size
    n_c = n_s - n_e
    a_col = n_c + np.arange(n_p)
    budget_row = n_g + n_s
    rows = np.concatenate([assign.pair_group, n_g + assign.pair_site, n_g + n_e + np.arange(n_c)])
    cols = np.concatenate([a_col, a_col, np.arange(n_c)])
    vals = np.concatenate([np.ones(2 * n_p), -assign.capacity[n_e:]])
    rows, cols = np.append(rows, np.full(n_c, budget_row)), np.append(cols, np.arange(n_c))
    vals = np.append(vals, np.ones(n_c))
    a = sp.csr_matrix((vals, (rows, cols)), shape=(budget_row + 1, n_c + n_p))
    upper = np.concatenate([assign.weight, assign.capacity[:n_e], np.zeros(n_c), [float(n_sites)]])
    col_upper = np.concatenate([np.ones(n_c), assign.weight[assign.pair_group]])
    return _highs.solve(
        np.concatenate([np.zeros(n_c), np.ones(n_p)]),
        a,
        (np.full(upper.size, -np.inf), upper),
        (np.zeros(n_c + n_p), col_upper),
        integer=(np.arange(n_c + n_p) < n_c) if method == "exact" else None,
        maximize=True,
        time_limit_s=time_limit_s,
        mip_rel_gap=mip_rel_gap,
        presolve=False,
    )


def _capacity(value: float | ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    cap = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)) if np.ndim(value) == 0 else None
    if cap is None:
        cap = np.asarray(value, dtype=np.float64).ravel()
        if cap.size != n:
            raise InputError(f"`{name}` needs one value per site ({n}), got {cap.size}", parameter=name)
    if not np.all(np.isfinite(cap) & (cap >= 0)):
        raise InputError(f"`{name}` must be finite residents >= 0", parameter=name)
    return np.array(cap, dtype=np.float64)
