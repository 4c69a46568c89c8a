"""Capacity-aware siting: new sites such that no facility serves more than a resident target.

The question it answers: "with at most one clinic per 20,000 residents, where should k
new clinics go so that the most residents have a clinic within 15 minutes *that has
room for them*?" Plain maximal covering counts a resident as served as soon as any
clinic is in reach, however crowded; here each site (new or existing) serves at most
its ``capacity`` residents, and the existing clinics' loads count: residents they
already serve use up their capacity, and a new site may relieve an overloaded one.

Assignment is fractional: a demand point's residents may be split between several
sites in reach (the residents of one block register with different clinics). This
keeps the assignment a linear programme (a transportation problem) and only the site
choice integer; whole-point assignment would make it a generalised assignment problem
while changing the answer by at most one demand point's residents per site.

The mixed-integer programme (``x_j`` = 1 when candidate ``j`` opens, ``a_gs`` the
residents of group ``g`` served by site ``s``, over pairs with ``s`` in reach of ``g``)::

    max sum a_gs  s.t.  sum_s a_gs <= w_g                    (a group is served once)
                        sum_g a_gs <= cap_s                  (existing site s)
                        sum_g a_gs <= cap_s x_s              (candidate site s)
                        a_gs <= w_g x_s                      (only open sites serve)
                        sum_j x_j <= k,  x binary,  0 <= a_gs <= w_g
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from circles.errors import InputError
from circles.planning import _highs
from circles.planning.capacity import DEFAULT_RESIDENTS_PER_FACILITY
from circles.planning.covering import (
    DEFAULT_SOLVER_TIME_LIMIT_S,
    EXACT,
    GREEDY,
    SitingResult,
    _check_options,
)
from circles.planning.greedy import Groups, aggregate, as_cover, as_weight, greedy_max_cover


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


@dataclass(frozen=True, eq=False)
class _Model:
    groups: Groups
    n_existing: int
    n_candidates: int
    pair_site: NDArray[np.int64]
    cost: NDArray[np.float64]
    a: sp.csr_matrix
    rows: tuple[NDArray[np.float64], NDArray[np.float64]]
    cols: tuple[NDArray[np.float64], NDArray[np.float64]]

    def loads(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Residents assigned to each site (existing first) by a solution."""
        a = x[self.n_candidates :]
        return np.bincount(self.pair_site, weights=a, minlength=self.n_existing + self.n_candidates)

    def served(self, open_sites: NDArray[np.int64], time_limit_s: float) -> _highs.Solution:
        """The best assignment with exactly ``open_sites`` open (an LP)."""
        upper = self.cols[1].copy()
        upper[: self.n_candidates] = 0.0
        upper[np.asarray(open_sites, dtype=np.int64)] = 1.0
        lower = np.minimum(self.cols[0], upper)
        lower[np.asarray(open_sites, dtype=np.int64)] = 1.0
        return _highs.solve(
            self.cost, self.a, self.rows, (lower, upper), maximize=True, time_limit_s=time_limit_s
        )


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
        ``"exact"``: the mixed-integer programme with HiGHS, kept when it serves
        more than the greedy sites; ``"greedy"``: the sites plain greedy covering picks for the demand the
        existing facilities leave uncovered, served as well as capacity allows,
        bounded by the LP relaxation.
    solver_time_limit_s, mip_rel_gap : float
        As in :func:`circles.planning.covering.max_cover`.

    Returns
    -------
    CapacitatedResult
    """
    _check_options(n_sites, method, solver_time_limit_s)
    model, uncoverable, w = _build(cover, weight, existing_cover, capacity, existing_capacity, n_sites)
    limit = solver_time_limit_s
    before = model.served(np.empty(0, dtype=np.int64), limit)
    start_sites = _greedy_start(model, n_sites)
    start = model.served(start_sites, limit)
    best_x, used, status, solve_s = start.x, GREEDY, "feasible", 0.0
    integer = np.arange(model.cost.size) < model.n_candidates
    sol = _highs.solve(
        model.cost,
        model.a,
        model.rows,
        model.cols,
        integer=integer if method == "exact" else None,
        maximize=True,
        time_limit_s=solver_time_limit_s,
        mip_rel_gap=mip_rel_gap,
    )
    solve_s = sol.time_s
    total_bound = sol.bound if np.isfinite(sol.bound) else float(model.groups.weight.sum())
    source = (
        ("MIP dual bound" if method == "exact" else "LP relaxation") if np.isfinite(sol.bound) else "total"
    )
    tol = 1e-9 * max(1.0, float(model.groups.weight.sum()))
    if method == "exact" and sol.x is not None:
        mip_sites = np.flatnonzero(sol.x[: model.n_candidates] > 0.5)
        mip = model.served(mip_sites, limit)  # recomputed: HiGHS's own objective is not trusted
        if mip.objective > start.objective + tol:
            best_x, used = mip.x, EXACT
        status = sol.status
    return _finish(model, before, best_x, total_bound, source, used, status, solve_s, uncoverable, w, limit)


def _finish(model, before, best_x, total_bound, source, used, status, solve_s, uncoverable, w, limit):
    tol = 1e-9 * max(1.0, float(model.groups.weight.sum()))
    n_e, n_c = model.n_existing, model.n_candidates
    load = model.loads(best_x)
    picked = np.flatnonzero((best_x[:n_c] > 0.5) & (load[n_e:] > tol))
    order = picked[np.lexsort((picked, -load[n_e + picked]))]
    lps = [before] + [model.served(order[:i], limit) for i in range(1, order.size + 1)]
    final = lps[-1]
    served = [float(lp.objective) for lp in lps]
    if any(lp.status != "optimal" for lp in lps):
        status = "time limit"  # an assignment LP stopped early: loads and gains are lower bounds
    gain = np.diff(np.array(served))
    objective = served[-1] - served[0]
    bound = max(total_bound - served[0], objective)
    if bound - objective <= tol and status != "time limit":
        status = "optimal"
    final_load = model.loads(final.x)
    return CapacitatedResult(
        problem="capacitated MCLP",
        sites=order.astype(np.int64),
        gain=gain,
        covered_before=served[0],
        covered_after=np.array(served[1:]),
        objective=objective,
        bound=bound,
        gap=(bound - objective) / bound if bound > tol else 0.0,
        bound_source=source,
        method=used,
        status=status,
        uncoverable=uncoverable,
        uncoverable_weight=float(w[uncoverable].sum()),
        solve_time_s=float(solve_s),
        site_load=final_load[n_e + order],
        existing_load_before=model.loads(before.x)[:n_e],
        existing_load_after=final_load[:n_e],
        unserved_weight=float(model.groups.weight.sum()) - served[-1],
    )


def _greedy_start(model: _Model, n_sites: int) -> NDArray[np.int64]:
    """Plain greedy covering of the groups no existing facility reaches."""
    g = model.groups
    n_e = model.n_existing
    reached_by_existing = np.asarray(g.sites[:, :n_e].sum(axis=1)).ravel() > 0
    open_weight = np.where(reached_by_existing, 0.0, g.weight)
    return greedy_max_cover(g.sites[:, n_e:].tocsr(), open_weight, n_sites).sites


def _build(cover, weight, existing_cover, capacity, existing_capacity, n_sites):
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
    return _assemble(groups, n_e, n_c, cap_e, cap_c, n_sites), uncoverable, w


def _assemble(groups: Groups, n_e, n_c, cap_e, cap_c, n_sites) -> _Model:
    dm = groups.sites.tocsr()
    n_g, n_s, n_p = groups.n, n_e + n_c, dm.nnz
    pair_group = np.repeat(np.arange(n_g), np.diff(dm.indptr))
    pair_site = dm.indices.astype(np.int64)
    a_col = n_c + np.arange(n_p)
    cand_pair = np.flatnonzero(pair_site >= n_e)
    n_q = cand_pair.size
    link_row = n_g + n_s + np.arange(n_q)
    budget_row = n_g + n_s + n_q
    rows = np.concatenate(
        [
            pair_group,
            n_g + pair_site,
            n_g + n_e + np.arange(n_c),
            link_row,
            link_row,
            np.full(n_c, budget_row),
        ]
    )
    cols = np.concatenate(
        [a_col, a_col, np.arange(n_c), a_col[cand_pair], pair_site[cand_pair] - n_e, np.arange(n_c)]
    )
    vals = np.concatenate(
        [np.ones(2 * n_p), -cap_c, np.ones(n_q), -groups.weight[pair_group[cand_pair]], np.ones(n_c)]
    )
    a = sp.csr_matrix((vals, (rows, cols)), shape=(budget_row + 1, n_c + n_p))
    upper = np.concatenate([groups.weight, cap_e, np.zeros(n_c + n_q), [float(n_sites)]])
    col_upper = np.concatenate([np.ones(n_c), groups.weight[pair_group]])
    return _Model(
        groups=groups,
        n_existing=n_e,
        n_candidates=n_c,
        pair_site=pair_site,
        cost=np.concatenate([np.zeros(n_c), np.ones(n_p)]),
        a=a,
        rows=(np.full(upper.size, -np.inf), upper),
        cols=(np.zeros(n_c + n_p), col_upper),
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
