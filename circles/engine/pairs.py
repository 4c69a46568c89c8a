"""Every (source, point) pair within a cost limit: the sparse matrices planning is built on.

Siting needs which candidate site covers which home, capacity (E2SFCA) needs the travel
time of every home-clinic pair within the threshold. Both are one bounded search per
source; :func:`pair_costs` runs them in chunks of sources, each on the subgraph within
the limit's straight-line reach of the chunk (or on the whole network when it is small),
and returns only the pairs within the limit, never a dense matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from circles.engine.graph import TravelGraph
from circles.engine.plan import SearchPlan, nearby_groups, search_graph, source_discs
from circles.engine.points import Snapped, along_edge_costs, arrival_costs, same_edge_pairs, source_arcs

#: Most float64 cells of one chunk's cost matrix (sources x subgraph nodes): about 160 MB.
_CHUNK_CELLS = 20_000_000

Pairs = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]


@dataclass(frozen=True)
class PairCosts:
    """Least costs of (source, point) pairs within a limit, sorted by source then point.

    Attributes
    ----------
    source, point : ndarray of int64
        Indices into the sources and the points given.
    cost : ndarray of float64
        Cost units (metres for walking), both access legs included; may be 0.
    n_sources, n_points : int
    """

    source: NDArray[np.int64]
    point: NDArray[np.int64]
    cost: NDArray[np.float64]
    n_sources: int
    n_points: int

    def covers(self) -> sp.csr_matrix:
        """Boolean matrix, shape (n_sources, n_points): True where the pair is within the limit."""
        data = np.ones(self.source.shape[0], dtype=bool)
        return sp.csr_matrix((data, (self.source, self.point)), shape=(self.n_sources, self.n_points))


def pair_costs(
    graph: TravelGraph,
    sources: Snapped,
    points: Snapped,
    limit: float,
    *,
    towards: bool = True,
    plan: SearchPlan | None = None,
) -> PairCosts:
    """Least cost of every (source, point) pair within ``limit``.

    Parameters
    ----------
    graph : TravelGraph
    sources : Snapped
        E.g. candidate sites or clinics; unattached ones have no pairs.
    points : Snapped
        E.g. homes; unattached ones have no pairs.
    limit : float
        Cost cutoff (metres for walking); must be finite.
    towards : bool
        Cost of travel from each point to the source (default), else from the source.
    plan : SearchPlan, optional
        When to search local subgraphs; the pairs do not depend on it.

    Returns
    -------
    PairCosts
    """
    if not np.isfinite(limit):
        raise ValueError("pair_costs needs a finite limit")
    plan = plan or SearchPlan()
    g = search_graph(graph, towards)
    src = np.flatnonzero(sources.attached)
    pts = np.flatnonzero(points.attached)
    parts: list[Pairs] = []
    if src.size and pts.size:
        on_points = points.subset(pts)
        local = plan.bounded_locally(g.n_nodes)
        chunks = (
            _local_chunks(g, plan, sources.subset(src), limit)
            if local
            else _split(np.arange(src.size), g.n_nodes)
        )
        for members in chunks:
            s, p, c = _chunk_pairs(g, sources.subset(src[members]), on_points, limit, local=local)
            parts.append((src[members][s], pts[p], c))
        parts.append(_same_edge(g, sources, points, src, pts, limit))
    return _collect(parts, len(sources), len(points))


def _split(members: NDArray[np.int64], n_cells: int) -> list[NDArray[np.int64]]:
    size = max(1, min(512, _CHUNK_CELLS // max(n_cells, 1)))
    return [members[i : i + size] for i in range(0, members.size, size)]


def _local_chunks(
    g: TravelGraph, plan: SearchPlan, sources: Snapped, limit: float
) -> list[NDArray[np.int64]]:
    """Groups of nearby sources, each small enough for one chunk's cost matrix."""
    xy, radius_m = source_discs(g, sources.edge, sources.along_m, sources.access_leg_m, limit)
    groups = nearby_groups(g.grid, plan, xy, radius_m, max_visits=np.inf) or [np.arange(len(sources))]
    out: list[NDArray[np.int64]] = []
    for members in groups:
        size = int(g.grid.count_near(xy[members], radius_m[members]).sum())
        out += _split(members, min(size, g.n_nodes))
    return out


def _chunk_pairs(
    g: TravelGraph, sources: Snapped, points: Snapped, limit: float, *, local: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Pairs (source, point, cost) of one chunk of sources via the nodes, not along one edge."""
    to_u, to_v = source_arcs(g, sources.edge, sources.along_m, sources.access_leg_m)
    k = len(sources)
    u, v = g.edge_u[points.edge], g.edge_v[points.edge]
    if local:
        xy, radius_m = source_discs(g, sources.edge, sources.along_m, sources.access_leg_m, limit)
        sub, nodes = g.grid.subgraph_near(xy, radius_m, sources.edge, to_u, to_v)
        first_row = nodes.shape[0] + 1
        row_of = np.zeros(g.n_nodes, dtype=np.int64)  # row 0 is the sink: outside the subgraph
        row_of[nodes] = np.arange(1, first_row)
        u, v = row_of[u], row_of[v]
        near = np.flatnonzero((u > 0) | (v > 0))
        u, v = u[near], v[near]
    else:
        sub, first_row = g.with_sources(sources.edge, to_u, to_v), g.n_nodes
        near = np.arange(len(points))
    dist = dijkstra(sub, directed=True, indices=np.arange(first_row, first_row + k), limit=limit)
    if local:
        dist[:, 0] = np.inf  # the sink is not a node
    edge = points.edge[near]
    via_u, via_v = arrival_costs(g, dist[:, u], dist[:, v], edge, points.along_m[near])
    total = np.minimum(via_u, via_v) + points.access_leg_m[near] * g.access_cost_per_m
    s, p = np.nonzero(total <= limit)
    return s, near[p], total[s, p]


def _same_edge(
    g: TravelGraph,
    sources: Snapped,
    points: Snapped,
    src: NDArray[np.int64],
    pts: NDArray[np.int64],
    limit: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Pairs on the same edge, reached along it directly."""
    p, s = same_edge_pairs(points.edge[pts], sources.edge[src])
    p, s = pts[p], src[s]
    direct = along_edge_costs(
        g, points.edge[p], points.along_m[p], sources.along_m[s], sources.access_leg_m[s]
    )
    direct = direct + points.access_leg_m[p] * g.access_cost_per_m
    ok = direct <= limit
    return s[ok], p[ok], direct[ok]


def _collect(parts: list[Pairs], n_sources: int, n_points: int) -> PairCosts:
    """Pairs merged, keeping the least cost of each (source, point), sorted."""
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return PairCosts(empty, empty.copy(), np.empty(0), n_sources, n_points)
    s = np.concatenate([np.asarray(a, dtype=np.int64) for a, _, _ in parts])
    p = np.concatenate([np.asarray(b, dtype=np.int64) for _, b, _ in parts])
    c = np.concatenate([np.asarray(x, dtype=np.float64) for _, _, x in parts])
    order = np.lexsort((c, p, s))
    s, p, c = s[order], p[order], c[order]
    first = np.ones(s.size, dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (p[1:] != p[:-1])
    return PairCosts(s[first], p[first], c[first], n_sources, n_points)
