"""Points attached to edges: what the engine searches from and evaluates at."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from circles.engine.graph import TravelGraph


@dataclass(frozen=True)
class Snapped:
    """Where points attach to the network.

    Attributes
    ----------
    edge : ndarray of int64
        Index of the edge each point attaches to, -1 where no eligible street lies
        within the access-leg limit.
    along_m : ndarray of float64
        Distance in metres from the edge's ``u`` end to the attachment point.
    access_leg_m : ndarray of float64
        Straight distance in metres from the point to its attachment point
        (NaN where ``edge == -1``).

    """

    edge: NDArray[np.int64]
    along_m: NDArray[np.float64]
    access_leg_m: NDArray[np.float64]

    @property
    def attached(self) -> NDArray[np.bool_]:
        """True for points that attached to a street within the access-leg limit."""
        return self.edge >= 0

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    def subset(self, index: NDArray[np.int64]) -> Snapped:
        """The points at ``index``.

        Parameters
        ----------
        index : ndarray
            An integer or boolean index.

        Returns
        -------
        Snapped
        """
        return Snapped(self.edge[index], self.along_m[index], self.access_leg_m[index])

    @classmethod
    def concat(cls, parts: list[Snapped]) -> Snapped:
        """Points of several sets, in order.

        Parameters
        ----------
        parts : list of Snapped

        Returns
        -------
        Snapped
        """
        return cls(
            np.concatenate([p.edge for p in parts]),
            np.concatenate([p.along_m for p in parts]),
            np.concatenate([p.access_leg_m for p in parts]),
        )


def partial_cost(length_m: NDArray[np.float64], rate: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cost of travelling ``length_m`` metres at ``rate`` per metre; nothing travelled costs 0.

    Parameters
    ----------
    length_m : ndarray of float64
        Metres travelled (a zero length along a forbidden direction costs 0, not ``0 * inf``).
    rate : ndarray of float64
        Cost per metre; ``inf`` where the direction is not allowed.

    Returns
    -------
    ndarray of float64
    """
    with np.errstate(invalid="ignore"):
        return np.where(length_m > 0, length_m * rate, 0.0)


def source_arcs(
    graph: TravelGraph, edge: NDArray[np.int64], along_m: NDArray[np.float64], leg_m: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Costs from sources on edges to their edges' ``u`` and ``v`` ends in the search graph.

    A source ``along_m`` metres from ``u`` reaches ``u`` by travelling ``along_m`` in the
    ``v -> u`` direction and ``v`` by ``L - along_m`` in the ``u -> v`` direction, after its
    access leg. On a walking graph (one unit per metre) this is ``along + leg`` and
    ``L - along + leg`` exactly.

    Parameters
    ----------
    graph : TravelGraph
        The search graph.
    edge : ndarray of int64
        Edge of each source.
    along_m : ndarray of float64
        Metres from the edge's ``u`` end.
    leg_m : ndarray of float64
        Access leg of each source, metres.

    Returns
    -------
    (ndarray, ndarray)
        Costs to the ``u`` and to the ``v`` end.
    """
    access = leg_m * graph.access_cost_per_m
    to_u = partial_cost(along_m, graph.rate_vu[edge]) + access
    to_v = partial_cost(graph.edge_length_m[edge] - along_m, graph.rate_uv[edge]) + access
    return to_u, to_v


def arrival_costs(
    graph: TravelGraph,
    cost_at_u: NDArray[np.float64],
    cost_at_v: NDArray[np.float64],
    edge: NDArray[np.int64],
    along_m: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Costs of reaching points on edges from each end, given the costs at the ends (search graph).

    Parameters
    ----------
    graph : TravelGraph
        The search graph.
    cost_at_u, cost_at_v : ndarray of float64
        The cost at each point's edge's ``u``/``v`` end (any leading axes, e.g. one row
        per source).
    edge : ndarray of int64
        Edge of each point.
    along_m : ndarray of float64
        Metres of each point from its edge's ``u`` end.

    Returns
    -------
    (ndarray, ndarray)
        Costs arriving from the ``u`` end and from the ``v`` end.
    """
    via_u = cost_at_u + partial_cost(along_m, graph.rate_uv[edge])
    via_v = cost_at_v + partial_cost(graph.edge_length_m[edge] - along_m, graph.rate_vu[edge])
    return via_u, via_v


def same_edge_pairs(
    point_edge: NDArray[np.int64], source_edge: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """All (point, source) index pairs that sit on the same edge.

    Parameters
    ----------
    point_edge, source_edge : ndarray of int64
        Edge of each point and of each source.

    Returns
    -------
    (ndarray, ndarray)
        Point and source indices of every pair.
    """
    order = np.argsort(source_edge, kind="stable")
    sorted_edges = source_edge[order]
    lo = np.searchsorted(sorted_edges, point_edge, side="left")
    hi = np.searchsorted(sorted_edges, point_edge, side="right")
    counts = hi - lo
    pt = np.repeat(np.arange(point_edge.size), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return pt, order[np.repeat(lo, counts) + offsets]


def along_edge_costs(
    graph: TravelGraph,
    edge: NDArray[np.int64],
    point_along_m: NDArray[np.float64],
    source_along_m: NDArray[np.float64],
    source_leg_m: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Cost from a source to a point on the same edge, straight along it (search graph).

    Parameters
    ----------
    graph : TravelGraph
        The search graph.
    edge : ndarray of int64
        The shared edge of each pair.
    point_along_m, source_along_m : ndarray of float64
        Metres of the point and of the source from the edge's ``u`` end.
    source_leg_m : ndarray of float64
        The source's access leg, metres.

    Returns
    -------
    ndarray of float64
    """
    ahead = point_along_m >= source_along_m
    rate = np.where(ahead, graph.rate_uv[edge], graph.rate_vu[edge])
    gap_m = np.abs(point_along_m - source_along_m)
    return partial_cost(gap_m, rate) + source_leg_m * graph.access_cost_per_m
