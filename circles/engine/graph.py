"""Travel costs over a network's edges, held as the CSR arrays ``scipy.sparse.csgraph`` searches.

A :class:`TravelGraph` is the engine's view of a network for one way of travelling: the
edges' end nodes and lengths (metres), and for each edge a cost rate per metre in each
direction (``inf`` where that direction is not allowed, e.g. against a one-way street).
Walking costs one unit per metre both ways, so walking costs are metres and every
result is bit-for-bit the plain metre arithmetic. Other modes cost seconds.

The graph searched is always the *search graph*: for times from every node to the
nearest facility (a resident travelling to a clinic) it is the reversed graph, searched
from the clinics; for walking, which is two-way, the two are the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix

if TYPE_CHECKING:  # pragma: no cover
    from circles.engine.grid import NodeGrid

_INT32_MAX = int(np.iinfo(np.int32).max)


def index_dtype(max_value: int) -> type[np.signedinteger]:
    """int32 while every index and offset fits, as ``scipy.sparse.csgraph`` expects.

    Parameters
    ----------
    max_value : int
        The largest index or offset to hold.

    Returns
    -------
    type
        ``numpy.int32`` or ``numpy.int64``.
    """
    return np.int32 if max_value < _INT32_MAX else np.int64


def square_csr(
    data: NDArray[np.float64],
    indices: NDArray[np.integer[Any]],
    indptr: NDArray[np.integer[Any]],
    *,
    sorted_indices: bool = True,
) -> csr_matrix:
    """A square CSR matrix over the arrays as they are, without copying.

    Parameters
    ----------
    data, indices, indptr : ndarray
        CSR arrays.
    sorted_indices : bool
        Whether columns are sorted within rows (scipy is told, so it does not check).

    Returns
    -------
    scipy.sparse.csr_matrix
    """
    size = indptr.shape[0] - 1
    graph = csr_matrix((data, indices, indptr), shape=(size, size), copy=False)
    graph.has_sorted_indices = sorted_indices
    return graph


def _frozen(*arrays: NDArray[Any]) -> None:
    for array in arrays:
        array.flags.writeable = False


@dataclass(frozen=True, eq=False)
class TravelGraph:
    """Directed travel costs over the straight-segment edges of a network.

    Attributes
    ----------
    node_xy : ndarray, shape (n, 2)
        Node coordinates in a projected CRS, metres (used to bound searches in space).
    edge_u, edge_v : ndarray of int64, shape (m,)
        End nodes of each edge.
    edge_length_m : ndarray of float64, shape (m,)
        Length of each edge in metres.
    rate_uv, rate_vu : ndarray of float64, shape (m,)
        Cost per metre travelled along the edge from ``u`` to ``v`` and from ``v`` to
        ``u``; ``inf`` where that direction is not allowed.
    cost_per_min : float
        Cost units per minute of travel (walking in metres: the speed in m/min;
        modes costed in seconds: 60).
    access_cost_per_m : float
        Cost of one metre of the straight access leg between a point and its street.
    unit : str
        The cost unit, ``"m"`` or ``"s"``.
    """

    node_xy: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    rate_uv: NDArray[np.float64]
    rate_vu: NDArray[np.float64]
    cost_per_min: float = 1.0
    access_cost_per_m: float = 1.0
    unit: str = "m"

    @classmethod
    def walking(
        cls,
        node_xy: ArrayLike,
        edge_u: ArrayLike,
        edge_v: ArrayLike,
        edge_length_m: ArrayLike,
        *,
        speed_m_per_min: float = 1.0,
    ) -> TravelGraph:
        """Two-way travel costed in metres: one unit per metre along edges and access legs.

        Parameters
        ----------
        node_xy : array_like, shape (n, 2)
        edge_u, edge_v : array_like of int
        edge_length_m : array_like of float
        speed_m_per_min : float
            Converts metres to minutes (:attr:`cost_per_min`); it changes no distance.

        Returns
        -------
        TravelGraph
        """
        length = np.asarray(edge_length_m, dtype=np.float64)
        ones = np.ones(length.shape[0])
        _frozen(ones)
        return cls(
            np.asarray(node_xy, dtype=np.float64),
            np.asarray(edge_u, dtype=np.int64),
            np.asarray(edge_v, dtype=np.int64),
            length,
            ones,
            ones,
            cost_per_min=float(speed_m_per_min),
            access_cost_per_m=1.0,
            unit="m",
        )

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.edge_u.shape[0])

    @cached_property
    def two_way(self) -> bool:
        """True when every edge costs the same both ways (then the graph is its own reverse)."""
        return self.rate_uv is self.rate_vu or bool(np.array_equal(self.rate_uv, self.rate_vu))

    @cached_property
    def reversed(self) -> TravelGraph:
        """The same edges with the directions swapped (itself when two-way)."""
        if self.two_way:
            return self
        return TravelGraph(
            self.node_xy,
            self.edge_u,
            self.edge_v,
            self.edge_length_m,
            self.rate_vu,
            self.rate_uv,
            self.cost_per_min,
            self.access_cost_per_m,
            self.unit,
        )

    @cached_property
    def cost_uv(self) -> NDArray[np.float64]:
        """Cost of traversing each edge from ``u`` to ``v``."""
        return self.edge_length_m * self.rate_uv

    @cached_property
    def cost_vu(self) -> NDArray[np.float64]:
        """Cost of traversing each edge from ``v`` to ``u``."""
        return self.edge_length_m * self.rate_vu

    @cached_property
    def metres_per_cost(self) -> float:
        """The most metres one cost unit can cover: bounds how far a cost limit reaches in space."""
        rates = np.concatenate([self.rate_uv, self.rate_vu])
        rates = rates[np.isfinite(rates) & (rates > 0)]
        return 1.0 / float(rates.min()) if rates.size else 1.0

    @cached_property
    def csr_arrays(self) -> tuple[NDArray[np.integer[Any]], NDArray[np.integer[Any]], NDArray[np.float64]]:
        """``(indptr, indices, data)`` of the arcs, rows sorted by node, columns within rows.

        Arcs not allowed (infinite cost) are left out. Indices are int32 (what
        ``scipy.sparse.csgraph`` works in) unless the graph is near 2**31 arcs.
        """
        n = self.n_nodes
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        data = np.concatenate([self.cost_uv, self.cost_vu])
        allowed = np.isfinite(data)
        if not allowed.all():
            rows, cols, data = rows[allowed], cols[allowed], data[allowed]
        order = np.lexsort((cols, rows))
        dtype = index_dtype(n + 2 * rows.shape[0])
        indices = cols[order].astype(dtype)
        data = data[order]
        indptr = np.zeros(n + 1, dtype=dtype)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        _frozen(indptr, indices, data)
        return indptr, indices, data

    @cached_property
    def extent_m2(self) -> float:
        """Area of the nodes' bounding box in square metres (at least 1)."""
        span = self.node_xy.max(axis=0) - self.node_xy.min(axis=0)
        return max(float(span[0] * span[1]), 1.0)

    @cached_property
    def grid(self) -> NodeGrid:  # lazy import: grid builds on this module
        """The nodes in square cells, for cutting local subgraphs (built on first use)."""
        from circles.engine.grid import NodeGrid

        return NodeGrid(self)

    @cached_property
    def adjacency(self) -> csr_matrix:
        """CSR matrix of arc costs (row: from, column: to)."""
        indptr, indices, data = self.csr_arrays
        return square_csr(data, indices, indptr)

    def with_sources(
        self, source_edge: NDArray[np.int64], to_u: NDArray[np.float64], to_v: NDArray[np.float64]
    ) -> csr_matrix:
        """CSR matrix of the graph plus one virtual source row per source.

        Virtual node ``n_nodes + i`` has two arcs: to ``edge_u[source_edge[i]]`` costing
        ``to_u[i]`` and to ``edge_v[...]`` costing ``to_v[i]`` (an infinite cost is kept as
        an arc scipy never relaxes through). The virtual rows are appended after the
        cached rows, so a call costs one copy of the arrays, never a re-sort.

        Parameters
        ----------
        source_edge : ndarray of int64
        to_u, to_v : ndarray of float64
            Arc costs from each virtual source to its edge's two ends.

        Returns
        -------
        scipy.sparse.csr_matrix
            Shape ``(n + k, n + k)``; explicit zeros are real arcs.
        """
        indptr, indices, data = self.csr_arrays
        n, k = self.n_nodes, int(np.shape(source_edge)[0])
        dtype = index_dtype(n + k + indices.shape[0] + 2 * k)
        if dtype != indices.dtype:  # only for graphs near 2**31 arcs
            indptr, indices = indptr.astype(dtype), indices.astype(dtype)
        cols = np.empty(2 * k, dtype=dtype)
        cols[0::2] = self.edge_u[source_edge]
        cols[1::2] = self.edge_v[source_edge]
        costs = np.empty(2 * k, dtype=np.float64)
        costs[0::2] = to_u
        costs[1::2] = to_v
        order = np.argsort(cols.reshape(-1, 2), axis=1, kind="stable") + 2 * np.arange(k)[:, None]
        all_indptr = np.empty(n + k + 1, dtype=dtype)
        all_indptr[: n + 1] = indptr
        all_indptr[n + 1 :] = indptr[-1] + 2 * np.arange(1, k + 1, dtype=dtype)
        return square_csr(
            np.concatenate([data, costs[order.ravel()]]),
            np.concatenate([indices, cols[order.ravel()]]),
            all_indptr,
        )
