"""Nodes bucketed into square cells, and subgraphs cut out around points by cell runs.

A bounded search only needs the nodes within the limit's reach in a straight line of
its sources (travel is never shorter than the straight line). :class:`NodeGrid` finds
them as runs of consecutive rows of a grid-ordered copy of the adjacency, so a
subgraph is cut by slicing, not by testing every node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix

from circles.engine.graph import TravelGraph, index_dtype, square_csr

IntArray = NDArray[np.integer[Any]]

#: Coarsest cell of the node grid on a clustered network, metres.
GRID_MAX_CELL_M = 100.0


def concat_ranges(start: NDArray[np.integer], count: NDArray[np.integer]) -> NDArray[np.int64]:
    """``start[i], start[i] + 1, .., start[i] + count[i] - 1`` for every ``i``, concatenated.

    Parameters
    ----------
    start, count : ndarray of int
        First value and length of each run.

    Returns
    -------
    ndarray of int64
    """
    run_start = np.cumsum(count, dtype=np.int64) - count
    total = int(run_start[-1] + count[-1]) if count.shape[0] else 0
    return np.arange(total) + np.repeat(start.astype(np.int64) - run_start, count)


def ranks_within(counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """``0, 1, .., c - 1`` for each ``c`` in ``counts``, concatenated.

    Parameters
    ----------
    counts : ndarray of int64

    Returns
    -------
    ndarray of int64
    """
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


@dataclass(frozen=True)
class _Cells:
    """The grid's geometry and the nodes sorted by cell (row-major)."""

    x0: float
    y0: float
    cell_m: float
    n_cols: int
    n_rows: int
    order: NDArray[np.int64]  # node indices sorted by cell
    cell_start: NDArray[np.int64]  # order[cell_start[c]:cell_start[c + 1]] are the nodes of cell c

    @classmethod
    def build(cls, node_xy: NDArray[np.float64]) -> _Cells:
        n = max(node_xy.shape[0], 1)
        lo, hi = node_xy.min(axis=0), node_xy.max(axis=0)
        span = hi - lo
        area_m2 = max(float(span[0] * span[1]), 1.0)
        # About four nodes per cell where the network is uniform, but no coarser than
        # GRID_MAX_CELL_M where it is clustered (towns in a county), as long as there
        # are at most four cells per node.
        cell = max(min(math.sqrt(area_m2 * 4 / n), GRID_MAX_CELL_M), math.sqrt(area_m2 / (4 * n)))
        cell = max(cell, 4 * float(span.max()) / n, 1.0)
        n_cols, n_rows = (int(x) + 1 for x in span // cell)
        col = np.minimum(((node_xy[:, 0] - lo[0]) // cell).astype(np.int64), n_cols - 1)
        row = np.minimum(((node_xy[:, 1] - lo[1]) // cell).astype(np.int64), n_rows - 1)
        cell_id = row * n_cols + col
        cell_start = np.zeros(n_cols * n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell_id, minlength=n_cols * n_rows), out=cell_start[1:])
        order = np.argsort(cell_id, kind="stable")
        return cls(float(lo[0]), float(lo[1]), cell, n_cols, n_rows, order, cell_start)

    def cell_of(self, xy: NDArray[np.float64]) -> tuple[int, int]:
        """``(column, row)`` of the cell holding the point ``xy``, clamped to the grid."""
        col = min(max(math.floor((float(xy[0]) - self.x0) / self.cell_m), 0), self.n_cols - 1)
        row = min(max(math.floor((float(xy[1]) - self.y0) / self.cell_m), 0), self.n_rows - 1)
        return col, row


class NodeGrid:
    """A graph's nodes in square cells, with a grid-ordered adjacency for cutting subgraphs.

    Parameters
    ----------
    graph : TravelGraph
        The search graph (its arcs are the subgraphs' arcs).
    """

    def __init__(self, graph: TravelGraph) -> None:
        self.graph = graph
        self.cells = _Cells.build(graph.node_xy)

    @cached_property
    def _grid_csr(
        self,
    ) -> tuple[IntArray, IntArray, NDArray[np.float64], IntArray, NDArray[np.int64]]:
        """``(indptr, indices, data, degree, grid_position)`` with rows in the grid's order.

        Row ``p`` is node ``cells.order[p]`` and ``grid_position[v]`` is the row of node
        ``v``: the nodes of a run of grid cells are consecutive rows, and so are their arcs.
        """
        base_indptr, base_indices, base_data = self.graph.csr_arrays
        order = self.cells.order
        n = self.graph.n_nodes
        grid_position = np.empty(n, dtype=np.int64)
        grid_position[order] = np.arange(n)
        degree = np.diff(base_indptr)[order]
        arc = concat_ranges(base_indptr[order], degree)
        indptr = np.zeros(n + 1, dtype=base_indptr.dtype)
        np.cumsum(degree, out=indptr[1:])
        indices = grid_position[base_indices[arc]].astype(base_indices.dtype)
        data = base_data[arc]
        for array in (indptr, indices, data, degree, grid_position):
            array.flags.writeable = False
        return indptr, indices, data, degree, grid_position

    def cell_runs(
        self, xy: ArrayLike, radius_m: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Runs of ``cells.order`` covering discs: ``(start, count, point of the run)``.

        Each row of cells meets a disc in one run of cells (the chord at the row's
        nearest y); runs may be empty.

        Parameters
        ----------
        xy : array_like, shape (p, 2)
            Disc centres, metres.
        radius_m : float or array_like of shape (p,)

        Returns
        -------
        (ndarray, ndarray, ndarray)
        """
        grid = self.cells
        g = (np.asarray(xy, dtype=np.float64).reshape(-1, 2) - (grid.x0, grid.y0)) / grid.cell_m
        r = np.asarray(radius_m, dtype=np.float64) / grid.cell_m
        if r.shape != g.shape[:1]:
            r = np.broadcast_to(r, g.shape[:1])
        row_lo = np.maximum(np.floor(g[:, 1] - r), 0).astype(np.int64)
        row_hi = np.minimum(np.floor(g[:, 1] + r), grid.n_rows - 1).astype(np.int64)
        rows_per_point = np.maximum(row_hi - row_lo + 1, 0)
        point = np.repeat(np.arange(g.shape[0]), rows_per_point)
        row = row_lo[point] + ranks_within(rows_per_point)
        x, y, rr = g[point, 0], g[point, 1], r[point]
        dy = np.maximum(np.maximum(row - y, y - (row + 1)), 0.0)
        half = np.sqrt(np.maximum(rr * rr - dy * dy, 0.0))
        # col_lo in 0..n_cols and col_hi in -1..n_cols - 1: an empty run where the disc
        # passes beside the grid.
        col_lo = np.minimum(np.maximum(np.floor(x - half), 0), grid.n_cols).astype(np.int64)
        col_hi = np.minimum(np.maximum(np.floor(x + half), -1), grid.n_cols - 1).astype(np.int64)
        first_cell = row * grid.n_cols
        start = grid.cell_start[first_cell + col_lo]
        count = np.maximum(grid.cell_start[first_cell + col_hi + 1] - start, 0)
        return start, count, point

    def visit_count(self, xy: ArrayLike, radius_m: ArrayLike) -> int:
        """How many nodes :meth:`subgraph_near` visits for these discs, counting overlaps.

        Parameters
        ----------
        xy : array_like, shape (p, 2)
        radius_m : float or array_like of shape (p,)

        Returns
        -------
        int
        """
        return int(self.cell_runs(xy, radius_m)[1].sum())

    def count_near(self, xy: ArrayLike, radius_m: ArrayLike) -> NDArray[np.int64]:
        """How many nodes :meth:`subgraph_near` would visit for each disc on its own.

        Parameters
        ----------
        xy : array_like, shape (p, 2)
        radius_m : float or array_like of shape (p,)

        Returns
        -------
        ndarray of int64, shape (p,)
        """
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        _start, count, point = self.cell_runs(xy, radius_m)
        return np.bincount(point, weights=count, minlength=xy.shape[0]).astype(np.int64)

    def count_in_box(self, lo: ArrayLike, hi: ArrayLike) -> int:
        """Nodes in the grid cells that meet the box ``lo``..``hi``: at least those inside it.

        Parameters
        ----------
        lo, hi : array_like, shape (2,)
            Lower-left and upper-right corners, metres.

        Returns
        -------
        int
        """
        grid = self.cells
        col_lo, row_lo = grid.cell_of(np.asarray(lo, dtype=np.float64))
        col_hi, row_hi = grid.cell_of(np.asarray(hi, dtype=np.float64))
        row = np.arange(row_lo, row_hi + 1) * grid.n_cols
        return int(np.sum(grid.cell_start[row + col_hi + 1] - grid.cell_start[row + col_lo]))

    def subgraph_near(
        self,
        xy: ArrayLike,
        radius_m: ArrayLike,
        source_edge: NDArray[np.int64],
        to_u: NDArray[np.float64],
        to_v: NDArray[np.float64],
    ) -> tuple[csr_matrix, NDArray[np.int64]]:
        """The subgraph of the nodes near some points, plus one virtual source row per source.

        Every node within ``radius_m`` of a point is in it, with some a little farther
        (those sharing a cell with the disc's edge). Row 0 is a sink: every arc to a node
        outside the subgraph leads there and it has no arcs, so costs are those of the
        subgraph alone. Rows ``1..s`` are the ``s`` nodes; row ``s + 1 + i`` is source ``i``
        (arcs as in :meth:`TravelGraph.with_sources`).

        Parameters
        ----------
        xy : array_like, shape (p, 2)
            Disc centres, metres.
        radius_m : float or array_like of shape (p,)
        source_edge : ndarray of int64
        to_u, to_v : ndarray of float64
            Arc costs from each virtual source to its edge's ends.

        Returns
        -------
        (scipy.sparse.csr_matrix, ndarray of int64)
            The graph and the node of each node row (row ``j + 1`` is ``nodes[j]``).
        """
        start, count, _point = self.cell_runs(xy, radius_m)
        run_start, run_count = _merge_runs(start, start + count)
        grid_rows = concat_ranges(run_start, run_count)
        indptr, cols, data, degree, grid_position = self._grid_csr
        s, k = grid_rows.shape[0], int(np.shape(source_edge)[0])
        dtype = index_dtype(cols.shape[0] + 3 * k + 2)
        local = np.zeros(self.graph.n_nodes, dtype=dtype)  # subgraph row per grid row, 0: the sink
        local[grid_rows] = np.arange(1, s + 1, dtype=dtype)
        arc = concat_ranges(indptr[run_start], indptr[run_start + run_count] - indptr[run_start])
        new_indptr = np.empty(s + k + 2, dtype=dtype)
        new_indptr[:2] = 0
        np.cumsum(degree[grid_rows], out=new_indptr[2 : s + 2])
        new_indptr[s + 2 :] = new_indptr[s + 1] + 2 * np.arange(1, k + 1, dtype=dtype)
        ends = np.empty(2 * k, dtype=dtype)
        ends[0::2] = local[grid_position[self.graph.edge_u[source_edge]]]
        ends[1::2] = local[grid_position[self.graph.edge_v[source_edge]]]
        costs = np.empty(2 * k)
        costs[0::2] = to_u
        costs[1::2] = to_v
        graph = square_csr(
            np.concatenate([data[arc], costs]),
            np.concatenate([local[cols[arc]], ends]),
            new_indptr,
            sorted_indices=False,
        )
        return graph, self.cells.order[grid_rows]


def _merge_runs(
    start: NDArray[np.int64], end: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Runs ``[start, end)`` merged where they overlap: ``(start, count)`` sorted by start."""
    if start.shape[0] > 1:
        by_start = np.argsort(start, kind="stable")
        start, end = start[by_start], end[by_start]
        reach = np.maximum.accumulate(end)
        opens = np.empty(start.shape[0], dtype=bool)
        opens[0] = True
        np.greater(start[1:], reach[:-1], out=opens[1:])
        start, end = start[opens], reach[np.append(opens[1:], True)]
    return start, end - start
