"""Exact shortest walking distances from many facilities at once.

One compiled multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra`` with
``min_only=True``) over the network plus one virtual source node per facility,
joined to both ends of the facility's edge by the partial lengths plus the
facility's own access leg. A point on edge ``(u, v)`` at ``along`` metres from
``u`` is then ``min(d[u] + along, d[v] + (L - along))`` from its nearest facility,
plus its own access leg; a facility on the very same edge is reached directly.

The engine works in metres and knows nothing about files or GeoDataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from circles.network import Snapped, WalkNetwork


@dataclass(frozen=True)
class NodeDistances:
    """Result of the multi-source search, per network node.

    Attributes
    ----------
    dist_m : ndarray of float64, shape (n_nodes,)
        Walking distance in metres from the nearest facility (its access leg
        included); ``inf`` where no facility reaches the node within the limit.
    facility : ndarray of int64, shape (n_nodes,)
        Index (into the facilities passed to :func:`search`) of the nearest facility,
        -1 where unreached.
    limit_m : float
        The search cutoff in metres (``inf`` for none).

    """

    dist_m: NDArray[np.float64]
    facility: NDArray[np.int64]
    limit_m: float


@dataclass(frozen=True)
class PointDistances:
    """Walking distance from every point to its nearest facility.

    Attributes
    ----------
    dist_m : ndarray of float64
        Metres, both access legs included; ``inf`` where unreachable (not attached
        to a street, or no facility reachable within the limit).
    facility : ndarray of int64
        Index of the nearest facility, -1 where unreachable.

    """

    dist_m: NDArray[np.float64]
    facility: NDArray[np.int64]


#: A bounded search runs on the subgraph near the facilities when that holds at most this
#: share of all nodes; beyond it one search over the whole network is cheaper.
_LOCAL_SEARCH_MAX_SHARE = 0.2
#: Below this many nodes a search over the whole network takes well under a millisecond.
_LOCAL_SEARCH_MIN_NODES = 50_000


def search(network: WalkNetwork, facilities: Snapped, *, limit_m: float = np.inf) -> NodeDistances:
    """Run one multi-source Dijkstra from all attached facilities.

    With a finite ``limit_m`` and facilities whose reach covers a small part of the
    network (a few clinics in a county), the search runs on the subgraph of nodes
    within ``limit_m`` in a straight line of a facility: a walk is never shorter than
    the straight line, so every node within the limit and every node on its shortest
    path is in that subgraph, and the result is the same as on the whole network.

    Parameters
    ----------
    network : WalkNetwork
        The walk network.
    facilities : Snapped
        Facilities snapped onto the network; unattached ones are ignored.
    limit_m : float
        Stop the search at this distance in metres; default unlimited.

    Returns
    -------
    NodeDistances

    """
    n = network.n_nodes
    fac_idx = np.flatnonzero(facilities.attached)
    if fac_idx.size == 0:
        return NodeDistances(np.full(n, np.inf), np.full(n, -1, dtype=np.int64), float(limit_m))
    edge = facilities.edge[fac_idx]
    along = facilities.along_m[fac_idx]
    leg = facilities.access_leg_m[fac_idx]
    to_u_m, to_v_m = along + leg, network.edge_length_m[edge] - along + leg
    nodes = _nodes_in_reach(network, edge, along, leg, limit_m)
    graph = network.adjacency_with_sources(edge, to_u_m, to_v_m, nodes=nodes)
    s = n if nodes is None else nodes.shape[0]
    dist, _pred, won = dijkstra(
        graph,
        directed=True,
        indices=s + np.arange(fac_idx.size),
        min_only=True,
        return_predecessors=True,
        limit=limit_m,
    )
    # ``won`` holds the winning virtual node (s + i) of every reached node and a negative
    # sentinel exactly where ``dist`` is inf. Shift it so that unreached nodes map to slot 0
    # of a lookup table holding -1, and facility i to slot i + 1: three passes over s.
    slot = won[:s] - (s - 1)
    np.maximum(slot, 0, out=slot)
    facility = np.concatenate([[-1], fac_idx])[slot]
    if nodes is None:
        return NodeDistances(dist[:n], facility, float(limit_m))
    all_dist = np.full(n, np.inf)
    all_dist[nodes] = dist[:s]
    all_facility = np.full(n, -1, dtype=np.int64)
    all_facility[nodes] = facility
    return NodeDistances(all_dist, all_facility, float(limit_m))


def _nodes_in_reach(
    network: WalkNetwork,
    edge: NDArray[np.int64],
    along_m: NDArray[np.float64],
    leg_m: NDArray[np.float64],
    limit_m: float,
) -> NDArray[np.int64] | None:
    """Nodes a bounded search can reach, or None when searching the whole network is cheaper."""
    n = network.n_nodes
    if not np.isfinite(limit_m) or n < _LOCAL_SEARCH_MIN_NODES:
        return None
    # Straight-line reach from each attachment point, with a hair of slack for rounding.
    radius_m = np.maximum(limit_m - leg_m, 0.0) * (1 + 1e-9) + 1e-6
    # First a guess from the mean node density, then the exact count of nodes to visit.
    if n / network.extent_m2 * float(np.sum(np.pi * radius_m**2)) > _LOCAL_SEARCH_MAX_SHARE * n:
        return None
    length = network.edge_length_m[edge]
    t = np.divide(along_m, length, out=np.zeros_like(along_m), where=length > 0)
    a, b = network.node_xy[network.edge_u[edge]], network.node_xy[network.edge_v[edge]]
    max_nodes = int(_LOCAL_SEARCH_MAX_SHARE * n)
    return network.nodes_near(a + (b - a) * t[:, None], radius_m, max_nodes=max_nodes)


def _same_edge_pairs(
    point_edge: NDArray[np.int64], fac_edge: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """All (point, facility) index pairs that sit on the same edge."""
    order = np.argsort(fac_edge, kind="stable")
    sorted_edges = fac_edge[order]
    lo = np.searchsorted(sorted_edges, point_edge, side="left")
    hi = np.searchsorted(sorted_edges, point_edge, side="right")
    counts = hi - lo
    pt = np.repeat(np.arange(point_edge.size), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return pt, order[np.repeat(lo, counts) + offsets]


def point_distances(
    network: WalkNetwork, nodes: NodeDistances, facilities: Snapped, points: Snapped
) -> PointDistances:
    """Walking distance from each snapped point to its nearest facility.

    Parameters
    ----------
    network : WalkNetwork
    nodes : NodeDistances
        Output of :func:`search` for the same facilities.
    facilities : Snapped
        The facilities passed to :func:`search`.
    points : Snapped
        Homes (or any points) snapped onto the same network.

    Returns
    -------
    PointDistances
        Distances beyond ``nodes.limit_m`` are reported as ``inf``.

    """
    p = len(points)
    dist = np.full(p, np.inf)
    fac = np.full(p, -1, dtype=np.int64)
    ok = np.flatnonzero(points.attached)
    if ok.size:
        e = points.edge[ok]
        along = points.along_m[ok]
        u, v = network.edge_u[e], network.edge_v[e]
        via_u = nodes.dist_m[u] + along
        via_v = nodes.dist_m[v] + (network.edge_length_m[e] - along)
        use_v = via_v < via_u
        best = np.where(use_v, via_v, via_u)
        best_fac = np.where(use_v, nodes.facility[v], nodes.facility[u])
        # A facility on the point's own edge is reached along the edge directly.
        f_ok = np.flatnonzero(facilities.attached)
        pt, fi = _same_edge_pairs(e, facilities.edge[f_ok])
        if pt.size:
            f = f_ok[fi]
            direct = np.abs(along[pt] - facilities.along_m[f]) + facilities.access_leg_m[f]
            # Shortest pair per point (ties: lowest facility index), then compare.
            order = np.lexsort((f, direct, pt))
            pt, f, direct = pt[order], f[order], direct[order]
            first = np.ones(pt.size, dtype=bool)
            first[1:] = pt[1:] != pt[:-1]
            pt, f, direct = pt[first], f[first], direct[first]
            improve = direct < best[pt]
            best[pt[improve]] = direct[improve]
            best_fac[pt[improve]] = f[improve]
        best = best + points.access_leg_m[ok]
        reached = best <= nodes.limit_m
        dist[ok[reached]] = best[reached]
        fac[ok[reached]] = best_fac[reached]
    return PointDistances(dist, fac)


def nearest_facility(
    network: WalkNetwork,
    facilities: Snapped,
    points: Snapped,
    *,
    limit_m: float = np.inf,
) -> tuple[NodeDistances, PointDistances]:
    """Search from all facilities and evaluate every point, in one call.

    Parameters
    ----------
    network : WalkNetwork
    facilities, points : Snapped
        Facilities and homes snapped onto ``network``.
    limit_m : float
        Search cutoff in metres; default unlimited.

    Returns
    -------
    (NodeDistances, PointDistances)

    """
    nodes = search(network, facilities, limit_m=limit_m)
    return nodes, point_distances(network, nodes, facilities, points)
