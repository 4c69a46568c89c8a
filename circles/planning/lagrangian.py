"""Lagrangian relaxations of the covering programmes: cheap bounds, and solutions on the way.

Each iteration of the subgradient method costs one sparse matrix-vector product over the
coverage matrix, so these bounds stay available where HiGHS does not finish even the LP
relaxation within its time limit (100,000 demand points in ``bench/siting.py``). Both run a
fixed number of iterations, so their results do not depend on machine speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from circles.planning.greedy import greedy_set_cover, order_by_gain, rows_of


@dataclass(frozen=True, eq=False)
class Lagrangian:
    """The Lagrangian relaxation's best bound, and the best sites it met on the way."""

    bound: float
    sites: NDArray[np.int64]
    value: float


def max_cover_lagrangian(
    groups: sp.csr_matrix,
    weight: NDArray[np.float64],
    n_sites: int,
    lower: float,
    iterations: int = 300,
) -> Lagrangian:
    """Upper bound (and a heuristic solution) for maximal covering by Lagrangian relaxation.

    Relaxing each group's cover constraint ``y_g <= sum_{j covers g} x_j`` with a
    multiplier ``0 <= lam_g <= w_g`` leaves a problem solved by sorting::

        L(lam) = sum_g (w_g - lam_g) + (sum of the n_sites largest  sum_{g covered by j} lam_g)

    Every ``L(lam)`` is an upper bound on the optimum, and their minimum equals the LP
    relaxation's, so this approaches the LP bound at the cost of one sparse
    matrix-vector product per iteration, where the LP itself may not finish (a
    100,000-point instance in ``bench/siting.py``). Polyak steps towards ``lower`` (a
    known objective, e.g. greedy's), halved after 30 iterations without progress.
    The ``n_sites`` sites picked at each step are also a solution; the best one
    seen is kept (on a 20,000-point instance it was the optimum greedy missed).

    Parameters
    ----------
    groups : csr_matrix of bool, shape (n_groups, n_sites_total)
    weight : ndarray, shape (n_groups,)
    n_sites : int
    lower : float
        The objective of a known solution.
    iterations : int
        Fixed iteration count (the result does not depend on machine speed).

    Returns
    -------
    Lagrangian
    """
    by_site = groups.T.tocsr()
    k = min(n_sites, by_site.shape[0])
    if k == 0 or weight.size == 0:
        return Lagrangian(0.0, np.empty(0, dtype=np.int64), 0.0)
    lam = 0.3 * weight  # a start that converged fastest on the benchmark instances
    best, theta, stall = np.inf, 2.0, 0
    best_sites, best_value = np.empty(0, dtype=np.int64), -np.inf
    tol = 1e-9 * max(1.0, float(weight.sum()))
    for _ in range(iterations):
        c = np.asarray(by_site @ lam).ravel()
        top = np.sort(np.argpartition(c, c.size - k)[c.size - k :])
        value = float((weight - lam).sum() + c[top].sum())
        hits = np.bincount(rows_of(by_site, top), minlength=weight.size)
        covered = float(weight[hits > 0].sum())
        if covered > best_value + tol:
            best_sites, best_value, lower = top, covered, max(lower, covered)
        if value < best - tol:
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 30:
                theta, stall = theta / 2, 0
        if best - lower <= tol or theta < 1e-6:
            break
        step_dir = hits - 1.0
        step_dir[(lam <= 0) & (step_dir > 0)] = 0.0  # moves that would leave [0, w]
        step_dir[(lam >= weight) & (step_dir < 0)] = 0.0
        norm = float(step_dir @ step_dir)
        if norm == 0.0:
            break
        lam = np.clip(lam - theta * (value - lower) / norm * step_dir, 0.0, weight)
    return Lagrangian(best, best_sites, max(best_value, 0.0))


def set_cover_lagrangian(
    groups: sp.csr_matrix, weight: NDArray[np.float64], upper: int, iterations: int = 300
) -> Lagrangian:
    """Lower bound (and a cover) for set covering by Lagrangian relaxation (Beasley 1990).

    Relaxing each group's constraint ``sum_{j covers g} x_j >= 1`` with ``u_g >= 0``::

        L(u) = sum_g u_g + sum_j min(0, 1 - sum_{g covered by j} u_g)

    is a lower bound on the fewest sites for every ``u`` (its maximum is the LP bound).
    Every tenth iteration the sites of negative reduced cost, completed greedily and
    pruned of redundant ones, give a cover; the smallest is kept.

    Parameters
    ----------
    groups : csr_matrix of bool, shape (n_groups, n_sites)
        Every group is covered by at least one site.
    weight : ndarray, shape (n_groups,)
        Used only to prune redundant sites (largest gain first).
    upper : int
        Sites of a known cover (e.g. greedy's).
    iterations : int

    Returns
    -------
    Lagrangian
        ``bound`` is rounded up (site counts are whole); ``value`` is the best cover's size.
    """
    by_site = groups.T.tocsr()
    n_g = groups.shape[0]
    if n_g == 0:
        return Lagrangian(0.0, np.empty(0, dtype=np.int64), 0.0)
    degree = np.diff(groups.indptr).astype(np.float64)
    u = 1.0 / degree
    best, theta, stall = 0.0, 2.0, 0
    best_sites, best_size = np.empty(0, dtype=np.int64), float(upper)
    for it in range(iterations):
        reduced = 1.0 - np.asarray(by_site @ u).ravel()
        chosen = np.flatnonzero(reduced < 0)
        value = float(u.sum() + reduced[chosen].sum())
        if value > best + 1e-9:
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 30:
                theta, stall = theta / 2, 0
        if it % 10 == 0:
            sites = _complete_cover(groups, weight, chosen)
            if sites.size < best_size:
                best_sites, best_size = sites, float(sites.size)
        if np.ceil(best - 1e-6) >= best_size or theta < 1e-6:
            break
        hits = np.bincount(rows_of(by_site, chosen), minlength=n_g) if chosen.size else np.zeros(n_g)
        step_dir = 1.0 - hits
        step_dir[(u <= 0) & (step_dir < 0)] = 0.0
        norm = float(step_dir @ step_dir)
        if norm == 0.0:
            break
        u = np.maximum(0.0, u + theta * (best_size - value) / norm * step_dir)
    return Lagrangian(float(np.ceil(best - 1e-6)), best_sites, best_size)


def _complete_cover(
    groups: sp.csr_matrix, weight: NDArray[np.float64], start: NDArray[np.int64]
) -> NDArray[np.int64]:
    """``start`` plus greedy sites for what it leaves uncovered, redundant sites removed."""
    by_site = groups.T.tocsr()
    hit = np.zeros(groups.shape[0], dtype=bool)
    if start.size:
        hit[rows_of(by_site, start)] = True
    rest = np.flatnonzero(~hit)
    extra = greedy_set_cover(groups[rest], np.ones(rest.size, dtype=np.int64)) if rest.size else start[:0]
    sites, _ = order_by_gain(groups, weight, np.union1d(start, extra))
    return sites
