"""Exact least travel costs from many facilities at once: one compiled multi-source Dijkstra.

``scipy.sparse.csgraph.dijkstra`` with ``min_only=True`` runs over the search graph plus
one virtual source node per facility, joined to both ends of the facility's edge by
the partial costs plus the facility's access leg. A point on edge ``(u, v)`` at
``along`` metres from ``u`` then costs ``min(d[u] + along, d[v] + (L - along))`` (for
walking) from its nearest facility, plus its own access leg; a facility on the very same
edge is reached along it directly.

A search with a finite limit may run on local subgraphs (see :class:`SearchPlan`): the
result is the same, only cheaper on big networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from circles.engine.graph import TravelGraph
from circles.engine.plan import SearchPlan, nearby_groups, node_grid, search_graph, source_discs
from circles.engine.points import (
    Snapped,
    along_edge_costs,
    arrival_costs,
    same_edge_pairs,
    source_arcs,
)


@dataclass(frozen=True)
class NodeCosts:
    """Result of a multi-source search, per network node.

    Attributes
    ----------
    cost : ndarray of float64, shape (n_nodes,)
        Least cost (metres for walking) between each node and its nearest facility,
        the facility's access leg included; ``inf`` where none is within the limit.
    limit : float
        The search cutoff in cost units (``inf`` for none).
    graph : TravelGraph
        The search graph (reversed for travel towards the facilities).
    facility : ndarray of int64, shape (n_nodes,)
        Index (into the facilities searched from) of the nearest facility, -1 where
        unreached. Spread over all nodes on first use.
    """

    cost: NDArray[np.float64]
    limit: float
    graph: TravelGraph = field(repr=False)
    winners: _Winners = field(repr=False)

    @cached_property
    def facility(self) -> NDArray[np.int64]:
        """Nearest facility of every node, -1 where unreached."""
        return self.winners.facilities(self.cost.shape[0])


@dataclass(frozen=True)
class _Winners:
    """The winning source row of each node as scipy reports it, for :attr:`NodeCosts.facility`.

    ``won[j]`` is the row of the virtual source that reached node ``rows[j]`` (node ``j``
    when ``rows`` is None) first, negative where none did; source row
    ``first_source_row + i`` is facility ``facility_index[i]``. With ``facility_index``
    None, ``won`` already holds facility indices (-1: none).
    """

    rows: NDArray[np.int64] | None
    won: NDArray[np.integer]
    first_source_row: int = 0
    facility_index: NDArray[np.int64] | None = None

    def facilities(self, n_nodes: int) -> NDArray[np.int64]:
        """Facility index of every node, -1 where unreached."""
        if self.facility_index is None:
            facility = self.won.astype(np.int64, copy=False)
        else:
            position = self.won - self.first_source_row
            np.maximum(position, -1, out=position)
            facility = np.append(self.facility_index, -1)[position]
        if self.rows is None:
            return facility
        out = np.full(n_nodes, -1, dtype=np.int64)
        out[self.rows] = facility
        return out


@dataclass(frozen=True)
class PointCosts:
    """Least cost between every point and its nearest facility.

    Attributes
    ----------
    cost : ndarray of float64
        Cost units (metres for walking), both access legs included; ``inf`` where
        unreachable (not attached, or no facility within the limit).
    facility : ndarray of int64
        Index of the nearest facility, -1 where unreachable.
    """

    cost: NDArray[np.float64]
    facility: NDArray[np.int64]


def search(
    graph: TravelGraph,
    facilities: Snapped,
    *,
    limit: float = np.inf,
    towards: bool = True,
    plan: SearchPlan | None = None,
) -> NodeCosts:
    """Run one multi-source Dijkstra from all attached facilities.

    Parameters
    ----------
    graph : TravelGraph
        Travel costs over the network (e.g. ``WalkNetwork.walk_graph()``).
    facilities : Snapped
        Facilities snapped onto the network; unattached ones are ignored.
    limit : float
        Stop at this cost (metres for walking); default unlimited.
    towards : bool
        Cost of travel from each node to a facility (a resident going to a clinic; the
        default). False: from the facilities outwards. The same for two-way walking.
    plan : SearchPlan, optional
        How a bounded search is run; the result does not depend on it.

    Returns
    -------
    NodeCosts
    """
    plan = plan or SearchPlan()
    g = search_graph(graph, towards)
    n = g.n_nodes
    fac_idx = np.flatnonzero(facilities.attached)
    if fac_idx.size == 0:
        return NodeCosts(np.full(n, np.inf), float(limit), g, _Winners(None, np.full(n, -1, np.int64)))
    edge, along, leg = facilities.edge, facilities.along_m, facilities.access_leg_m
    if fac_idx.size < edge.shape[0]:
        edge, along, leg = edge[fac_idx], along[fac_idx], leg[fac_idx]
    to_u, to_v = source_arcs(g, edge, along, leg)
    if np.isfinite(limit) and plan.bounded_locally(n):
        local = _local_search(g, plan, fac_idx, edge, along, leg, to_u, to_v, limit)
        if local is not None:
            return local
    dist, won = _dijkstra(g.with_sources(edge, to_u, to_v), n, fac_idx.shape[0], limit)
    return NodeCosts(dist[:n], float(limit), g, _Winners(None, won[:n], n, fac_idx))


def _local_search(
    g: TravelGraph,
    plan: SearchPlan,
    fac_idx: NDArray[np.int64],
    edge: NDArray[np.int64],
    along_m: NDArray[np.float64],
    leg_m: NDArray[np.float64],
    to_u: NDArray[np.float64],
    to_v: NDArray[np.float64],
    limit: float,
) -> NodeCosts | None:
    """The bounded search on local subgraphs, or None when the whole network is cheaper."""
    n = g.n_nodes
    grid = node_grid(g)
    xy, radius_m = source_discs(g, edge, along_m, leg_m, limit)
    big = n > plan.cache_nodes
    max_visits = (plan.max_overlap if big else plan.max_share) * n
    # A few facilities: all on one subgraph, when a guess from the mean node density
    # and then the exact count of nodes to visit say it is small.
    if float(radius_m @ radius_m) * np.pi * n / g.extent_m2 <= plan.tile_nodes:
        cap = int(min(max_visits, 2 * plan.tile_nodes))
        if grid.visit_count(xy, radius_m) <= cap:
            sub, nodes = grid.subgraph_near(xy, radius_m, edge, to_u, to_v)
            s = nodes.shape[0]  # row 0 is the sink, rows 1..s the nodes
            dist, won = _dijkstra(sub, s + 1, fac_idx.shape[0], limit)
            all_dist = np.full(n, np.inf)
            all_dist[nodes] = dist[1 : s + 1]
            return NodeCosts(all_dist, float(limit), g, _Winners(nodes, won[1 : s + 1], s + 1, fac_idx))
    groups = nearby_groups(grid, plan, xy, radius_m, max_visits) if big else None
    if groups is None:
        return None
    all_dist = np.full(n, np.inf)
    all_facility = np.full(n, -1, dtype=np.int64)
    for members in groups:
        sub, nodes = grid.subgraph_near(
            xy[members], radius_m[members], edge[members], to_u[members], to_v[members]
        )
        s = nodes.shape[0]
        dist, won = _dijkstra(sub, s + 1, members.shape[0], limit)
        better = np.flatnonzero(dist[1 : s + 1] < all_dist[nodes])
        all_dist[nodes[better]] = dist[better + 1]
        all_facility[nodes[better]] = fac_idx[members[won[better + 1] - (s + 1)]]
    return NodeCosts(all_dist, float(limit), g, _Winners(None, all_facility))


def _dijkstra(
    graph: csr_matrix, first_source_row: int, n_sources: int, limit: float
) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Costs from the ``n_sources`` virtual rows from ``first_source_row`` on, min over them.

    Returns scipy's cost and winning source row of every row (negative exactly where
    the cost is inf).
    """
    dist, _pred, won = dijkstra(
        graph,
        directed=True,
        indices=np.arange(first_source_row, first_source_row + n_sources),
        min_only=True,
        return_predecessors=True,
        limit=limit,
    )
    return dist, won


def point_costs(nodes: NodeCosts, facilities: Snapped, points: Snapped) -> PointCosts:
    """Least cost between each snapped point and its nearest facility.

    Parameters
    ----------
    nodes : NodeCosts
        Output of :func:`search` for the same facilities.
    facilities : Snapped
        The facilities passed to :func:`search`.
    points : Snapped
        Homes (or any points) snapped onto the same network.

    Returns
    -------
    PointCosts
        Costs beyond ``nodes.limit`` are reported as ``inf``.
    """
    g = nodes.graph
    p = len(points)
    cost = np.full(p, np.inf)
    fac = np.full(p, -1, dtype=np.int64)
    ok = np.flatnonzero(points.attached)
    if ok.size:
        e, along = points.edge[ok], points.along_m[ok]
        via_u, via_v = arrival_costs(g, nodes.cost[g.edge_u[e]], nodes.cost[g.edge_v[e]], e, along)
        use_v = via_v < via_u
        best = np.where(use_v, via_v, via_u)
        best_fac = np.where(use_v, nodes.facility[g.edge_v[e]], nodes.facility[g.edge_u[e]])
        # A facility on the point's own edge is reached along the edge directly.
        f_ok = np.flatnonzero(facilities.attached)
        pt, fi = same_edge_pairs(e, facilities.edge[f_ok])
        if pt.size:
            f = f_ok[fi]
            direct = along_edge_costs(g, e[pt], along[pt], facilities.along_m[f], facilities.access_leg_m[f])
            # Least pair per point (ties: lowest facility index), then compare.
            order = np.lexsort((f, direct, pt))
            pt, f, direct = pt[order], f[order], direct[order]
            first = np.ones(pt.size, dtype=bool)
            first[1:] = pt[1:] != pt[:-1]
            pt, f, direct = pt[first], f[first], direct[first]
            improve = direct < best[pt]
            best[pt[improve]] = direct[improve]
            best_fac[pt[improve]] = f[improve]
        best = best + points.access_leg_m[ok] * g.access_cost_per_m
        reached = best <= nodes.limit
        cost[ok[reached]] = best[reached]
        fac[ok[reached]] = best_fac[reached]
    return PointCosts(cost, fac)


def nearest_facility(
    graph: TravelGraph,
    facilities: Snapped,
    points: Snapped,
    *,
    limit: float = np.inf,
    towards: bool = True,
    plan: SearchPlan | None = None,
) -> tuple[NodeCosts, PointCosts]:
    """Search from all facilities and evaluate every point, in one call.

    Parameters
    ----------
    graph : TravelGraph
    facilities, points : Snapped
        Facilities and homes snapped onto the network.
    limit : float
        Search cutoff in cost units; default unlimited.
    towards : bool
        Travel from the points to the facilities (default); see :func:`search`.
    plan : SearchPlan, optional

    Returns
    -------
    (NodeCosts, PointCosts)
    """
    nodes = search(graph, facilities, limit=limit, towards=towards, plan=plan)
    return nodes, point_costs(nodes, facilities, points)
