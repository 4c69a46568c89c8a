"""Coverage matrices, demand aggregation and the greedy covering heuristics.

The covering solvers work on *groups*: demand points covered by exactly the same set
of candidate sites are interchangeable (whatever is chosen covers all or none of
them), so they are merged into one group whose weight is their sum. On a dense city
layout this removes most rows of the integer programme without changing its optimum.

Greedy maximal covering picks, one at a time, the site adding the most uncovered
weight. Coverage is monotone submodular, so greedy reaches at least (1 - 1/e) of the
optimum, and at every step the optimum is at most the weight covered so far plus the
k largest marginal gains left (Nemhauser, Wolsey & Fisher 1978; the "online bound"
of Leskovec et al. 2007): a free certificate of how far greedy can be from optimal.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from circles.errors import InputError


def as_cover(cover: ArrayLike | sp.spmatrix, what: str = "cover") -> sp.csr_matrix:
    """A (sites x demand) coverage matrix as CSR of bool; stored False entries are dropped.

    Parameters
    ----------
    cover : array_like or sparse matrix, shape (n_sites, n_demand)
        True (or non-zero) where a site covers a demand point.
    what : str
        The parameter's name, as the error message calls it.
    """
    m = sp.csr_matrix(cover) if sp.issparse(cover) else sp.csr_matrix(np.asarray(cover))
    if m.ndim != 2:
        raise InputError(f"`{what}` must be a 2-D (sites x demand points) matrix")
    m = m.astype(bool)
    m.eliminate_zeros()
    m.sum_duplicates()
    m.sort_indices()
    return m


def as_weight(weight: ArrayLike | None, n_demand: int) -> NDArray[np.float64]:
    """Weights per demand point (1 each by default), finite and >= 0.

    Parameters
    ----------
    weight : array_like or None
        Residents per demand point; None weighs each point 1.
    n_demand : int
        Number of demand points (the length ``weight`` must have).
    """
    if weight is None:
        return np.ones(n_demand)
    w = np.asarray(weight, dtype=np.float64).ravel()
    if w.size != n_demand:
        raise InputError(f"`weight` needs one value per demand point ({n_demand}), got {w.size}")
    if not np.all(np.isfinite(w) & (w >= 0)):
        raise InputError("`weight` (residents per demand point) must be finite and >= 0")
    return w


def as_mask(mask: ArrayLike | None, n_demand: int, what: str = "covered") -> NDArray[np.bool_]:
    """A boolean mask per demand point (all False by default).

    Parameters
    ----------
    mask : array_like or None
        One flag per demand point; None for all False.
    n_demand : int
        Number of demand points (the length ``mask`` must have).
    what : str
        The parameter's name, as the error message calls it.
    """
    if mask is None:
        return np.zeros(n_demand, dtype=bool)
    m = np.asarray(mask, dtype=bool).ravel()
    if m.size != n_demand:
        raise InputError(f"`{what}` needs one flag per demand point ({n_demand}), got {m.size}")
    return m


def covered_by(existing_cover: ArrayLike | sp.spmatrix) -> NDArray[np.bool_]:
    """Demand points within reach of at least one existing facility (facilities x demand).

    Parameters
    ----------
    existing_cover : array_like or sparse matrix, shape (n_facilities, n_demand)
        True (or non-zero) where an existing facility covers a demand point.
    """
    m = as_cover(existing_cover, "existing_cover")
    return np.asarray(m.sum(axis=0)).ravel() > 0


@dataclass(frozen=True, eq=False)
class Groups:
    """Demand points merged by identical covering-site sets.

    Attributes
    ----------
    of_point : ndarray of int64, shape (n_demand,)
        Group of each demand point; -1 for points left out.
    members : ndarray of int64
        Demand points per group (a count).
    weight : ndarray of float64
        Summed weight per group.
    sites : csr_matrix of bool, shape (n_groups, n_sites)
        The sites covering each group.
    """

    of_point: NDArray[np.int64]
    members: NDArray[np.int64]
    weight: NDArray[np.float64]
    sites: sp.csr_matrix

    @property
    def n(self) -> int:
        """Number of groups."""
        return self.weight.size


def aggregate(cover: sp.csr_matrix, weight: NDArray[np.float64], keep: NDArray[np.bool_]) -> Groups:
    """Merge the kept demand points with identical covering-site sets (exactly, no hashing).

    Parameters
    ----------
    cover : csr_matrix of bool, shape (n_sites, n_demand)
    weight : ndarray, shape (n_demand,)
    keep : ndarray of bool, shape (n_demand,)
        Points to aggregate; each must be covered by at least one site.
    """
    import pandas as pd

    idx = np.flatnonzero(keep)
    by_point = cover[:, idx].T.tocsr()
    by_point.sort_indices()
    ptr, ind = by_point.indptr, by_point.indices.astype(np.int32)
    keys = [ind[a:b].tobytes() for a, b in itertools.pairwise(ptr.tolist())]
    codes, _ = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    n = int(codes.max()) + 1 if codes.size else 0
    first = np.full(n, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.size - 1, -1, -1)
    of_point = np.full(weight.size, -1, dtype=np.int64)
    of_point[idx] = codes
    return Groups(
        of_point=of_point,
        members=np.bincount(codes, minlength=n),
        weight=np.bincount(codes, weights=weight[idx], minlength=n),
        sites=by_point[first],
    )


@dataclass(frozen=True, eq=False)
class Greedy:
    """A greedy choice: sites in order, what each adds, and the online bound."""

    sites: NDArray[np.int64]
    gain: NDArray[np.float64]
    bound: float


def greedy_max_cover(groups: sp.csr_matrix, weight: NDArray[np.float64], n_sites: int) -> Greedy:
    """Greedy maximal covering over groups, with the online bound on the optimum.

    Parameters
    ----------
    groups : csr_matrix of bool, shape (n_groups, n_sites)
        The sites covering each group.
    weight : ndarray, shape (n_groups,)
    n_sites : int
        Budget; stops early once no site adds anything.

    Returns
    -------
    Greedy
        Ties go to the lowest site index. ``bound`` is an upper bound on the best
        weight any ``n_sites`` sites can cover.
    """
    by_site = groups.T.tocsr()
    gains = np.asarray(by_site @ weight, dtype=np.float64).ravel()
    tol = 1e-9 * max(1.0, float(weight.sum()))
    covered = np.zeros(groups.shape[0], dtype=bool)
    top = min(n_sites, gains.size)
    done, bound = 0.0, np.inf
    chosen, added = [], []
    for _ in range(n_sites):
        bound = min(bound, done + _top_sum(gains, top))
        best = int(np.argmax(gains)) if gains.size else -1
        if best < 0 or gains[best] <= tol:
            break
        new = _newly_covered(by_site, best, covered)
        gain = float(weight[new].sum())
        covered[new] = True
        gains -= _gain_drop(groups, new, weight, gains.size)
        gains[best] = 0.0
        chosen.append(best)
        added.append(gain)
        done += gain
    bound = min(bound, done + _top_sum(np.clip(gains, 0, None), top))
    return Greedy(np.array(chosen, dtype=np.int64), np.array(added, dtype=np.float64), max(bound, done))


def greedy_set_cover(groups: sp.csr_matrix, members: NDArray[np.int64]) -> NDArray[np.int64]:
    """Greedy set covering: repeatedly the site covering the most uncovered demand points.

    Every group must be covered by some site. Ties go to the lowest site index.

    Parameters
    ----------
    groups : csr_matrix of bool, shape (n_groups, n_sites)
        The sites covering each demand group.
    members : ndarray of int64, shape (n_groups,)
        Number of demand points in each group.
    """
    by_site = groups.T.tocsr()
    count = members.astype(np.float64)
    gains = np.asarray(by_site @ count, dtype=np.float64).ravel()
    covered = np.zeros(groups.shape[0], dtype=bool)
    chosen = []
    while not covered.all():
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            raise InputError("a demand group has no covering site; leave uncoverable demand out first")
        new = _newly_covered(by_site, best, covered)
        covered[new] = True
        gains -= _gain_drop(groups, new, count, gains.size)
        gains[best] = 0.0
        chosen.append(best)
    return np.array(chosen, dtype=np.int64)


def order_by_gain(
    groups: sp.csr_matrix, weight: NDArray[np.float64], sites: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Order chosen sites greedily (largest marginal gain first); drop those adding nothing.

    Parameters
    ----------
    groups : csr_matrix of bool, shape (n_groups, n_sites)
        The sites covering each demand group.
    weight : ndarray, shape (n_groups,)
        Weight of each group (its residents, or demand points when unweighted).
    sites : ndarray of int64
        Indices of the chosen sites (columns of ``groups``).
    """
    sites = np.sort(np.asarray(sites, dtype=np.int64))
    if sites.size == 0:
        return sites, np.empty(0)
    g = greedy_max_cover(groups[:, sites].tocsr(), weight, sites.size)
    return sites[g.sites], g.gain


def covered_weight(groups: sp.csr_matrix, weight: NDArray[np.float64], sites: NDArray[np.int64]) -> float:
    """Weight of the groups covered by at least one of ``sites``.

    Parameters
    ----------
    groups : csr_matrix of bool, shape (n_groups, n_sites)
        The sites covering each demand group.
    weight : ndarray, shape (n_groups,)
        Weight of each group (its residents, or demand points when unweighted).
    sites : ndarray of int64
        Indices of the chosen sites (columns of ``groups``).
    """
    if len(sites) == 0:
        return 0.0
    hit = np.asarray(groups[:, np.asarray(sites, dtype=np.int64)].sum(axis=1)).ravel() > 0
    return float(weight[hit].sum())


def _top_sum(gains: NDArray[np.float64], k: int) -> float:
    if k <= 0 or gains.size == 0:
        return 0.0
    return float(np.partition(gains, gains.size - k)[gains.size - k :].sum())


def _newly_covered(by_site: sp.csr_matrix, site: int, covered: NDArray[np.bool_]) -> NDArray[np.int64]:
    hit = by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]
    return hit[~covered[hit]]


def _gain_drop(
    groups: sp.csr_matrix, new: NDArray[np.int64], weight: NDArray[np.float64], n_sites: int
) -> NDArray[np.float64]:
    """How much each site's marginal gain falls once the groups ``new`` are covered."""
    ptr = groups.indptr
    counts = ptr[new + 1] - ptr[new]
    if counts.sum() == 0:
        return np.zeros(n_sites)
    starts = np.repeat(ptr[new] - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return np.bincount(groups.indices[starts], weights=np.repeat(weight[new], counts), minlength=n_sites)


def rows_of(by_site: sp.csr_matrix, sites: NDArray[np.int64]) -> NDArray[np.int64]:
    """The groups covered by each of ``sites``, concatenated (with repeats).

    Parameters
    ----------
    by_site : csr_matrix of bool, shape (n_sites, n_groups)
        The groups each site covers (the transpose of the groups' covering sites).
    sites : ndarray of int64
        Indices of the sites (rows of ``by_site``).
    """
    ptr = by_site.indptr
    counts = ptr[sites + 1] - ptr[sites]
    starts = np.repeat(ptr[sites] - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return by_site.indices[starts]
