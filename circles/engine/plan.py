"""How a bounded search runs: on the whole network, on one local subgraph, or on groups of them.

Every plan gives the same costs; the plan only decides what is cheapest. A walk is never
shorter than the straight line, so a search bounded at a cost ``c`` only visits nodes
within ``c x metres_per_cost`` metres of its sources: on a big network that is a small
subgraph, and with many sources spread over a city, groups of nearby sources searched on
their own subgraphs keep scipy's per-node arrays in the processor's cache (about three
times cheaper per visited node than one search over a million-node network).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from circles.engine.graph import TravelGraph
from circles.engine.grid import NodeGrid

_TINY = float(np.finfo(np.float64).tiny)


@dataclass(frozen=True)
class SearchPlan:
    """Choices of a bounded search; the costs found never depend on them.

    Parameters
    ----------
    local_min_nodes : int
        Below this many nodes one search over the whole network is cheaper than cutting
        out a subgraph (Yuba County's 90k nodes with 10 clinics: 0.22 ms against 0.29 ms).
        0 forces local subgraphs (tests); a huge value forbids them.
    tile_nodes : int
        Target size of each local subgraph: small enough to stay in the processor's cache.
    max_share : float
        Give up on local subgraphs when together they would hold more than this share of
        the network's nodes, ...
    max_overlap : float
        ... or, on networks above ``cache_nodes`` nodes, more than this many times its nodes.
    cache_nodes : int
        Networks larger than this are split into groups of nearby sources.
    """

    local_min_nodes: int = 150_000
    tile_nodes: int = 65_536
    max_share: float = 0.2
    max_overlap: float = 1.5
    cache_nodes: int = 4 * 65_536

    @classmethod
    def whole_network(cls) -> SearchPlan:
        """A plan that always searches the whole network."""
        return cls(local_min_nodes=2**62)

    def bounded_locally(self, n_nodes: int) -> bool:
        """True when a bounded search on ``n_nodes`` nodes should try local subgraphs.

        Parameters
        ----------
        n_nodes : int

        Returns
        -------
        bool
        """
        return n_nodes >= self.local_min_nodes


def search_graph(graph: TravelGraph, towards: bool) -> TravelGraph:
    """The graph to search from the facilities: reversed for travel towards them.

    Parameters
    ----------
    graph : TravelGraph
    towards : bool
        Travel from each node to the facilities.

    Returns
    -------
    TravelGraph
    """
    return graph.reversed if towards else graph


def node_grid(graph: TravelGraph) -> NodeGrid:
    """The graph's node grid (built once per graph).

    Parameters
    ----------
    graph : TravelGraph

    Returns
    -------
    NodeGrid
    """
    return graph.grid


def source_discs(
    graph: TravelGraph,
    edge: NDArray[np.int64],
    along_m: NDArray[np.float64],
    leg_m: NDArray[np.float64],
    limit: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Attachment points of sources and the straight-line reach (metres) of ``limit`` from each.

    A hair of slack covers rounding.

    Parameters
    ----------
    graph : TravelGraph
    edge : ndarray of int64
    along_m, leg_m : ndarray of float64
        Position along the edge and access leg of each source, metres.
    limit : float
        Cost limit.

    Returns
    -------
    (ndarray, ndarray)
        Points, shape (k, 2), and radii in metres.
    """
    budget = np.maximum(limit - leg_m * graph.access_cost_per_m, 0.0)
    radius_m = budget * graph.metres_per_cost * (1 + 1e-9) + 1e-6
    length = graph.edge_length_m[edge]
    t = along_m / np.maximum(length, _TINY)  # along_m is 0 on a 0 m edge
    a, b = graph.node_xy[graph.edge_u[edge]], graph.node_xy[graph.edge_v[edge]]
    return a + (b - a) * t[:, None], radius_m


def nearby_groups(
    grid: NodeGrid,
    plan: SearchPlan,
    xy: NDArray[np.float64],
    radius_m: NDArray[np.float64],
    max_visits: float,
) -> list[NDArray[np.int64]] | None:
    """Sources split into groups whose subgraphs hold about ``plan.tile_nodes`` nodes.

    The sources are split in two across the longer side of their bounding box, again
    and again, so groups are small where the network is dense and big where it is
    sparse.

    Parameters
    ----------
    grid : NodeGrid
    plan : SearchPlan
    xy : ndarray, shape (k, 2)
        Attachment points of the sources.
    radius_m : ndarray, shape (k,)
        Straight-line reach of each source.
    max_visits : float
        Give up when the groups together would visit more nodes than this.

    Returns
    -------
    list of ndarray or None
        Source indices per group, or None when giving up.
    """
    disc_nodes = grid.count_near(xy, radius_m)
    groups: list[NDArray[np.int64]] = []
    visits = 0
    pending = [np.arange(xy.shape[0])]
    while pending:
        members = pending.pop()
        pts, reach = xy[members], float(radius_m[members].max())
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        size = min(int(disc_nodes[members].sum()), grid.count_in_box(lo - reach, hi + reach))
        if size <= plan.tile_nodes or members.shape[0] == 1:
            groups.append(members)
            visits += size
            if visits > max_visits:
                return None
            continue
        axis = int(np.argmax(hi - lo))
        order = members[np.argsort(pts[:, axis], kind="stable")]
        half = order.shape[0] // 2
        pending += [order[:half], order[half:]]
    return groups
