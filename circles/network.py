"""The walk network as compact arrays, and snapping of points onto its edges.

Every edge is one straight segment between two nodes in a local projected CRS
(metres). Curved streets are chains of segments, so snapping, partial reach and
service-area pieces are exact with simple vector arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from circles.crs import WGS84, local_utm_crs
from circles.errors import EmptyResultError

_INT32_MAX = int(np.iinfo(np.int32).max)


def _index_dtype(max_value: int) -> type[np.signedinteger]:
    """int32 while every index and offset fits, as ``scipy.sparse.csgraph`` expects."""
    return np.int32 if max_value < _INT32_MAX else np.int64


def _concat_ranges(start: NDArray[np.integer], count: NDArray[np.integer]) -> NDArray[np.int64]:
    """``start[i], start[i] + 1, .., start[i] + count[i] - 1`` for every ``i``, concatenated."""
    run_start = np.cumsum(count, dtype=np.int64) - count
    return np.arange(int(run_start[-1] + count[-1]) if count.shape[0] else 0) + np.repeat(
        start.astype(np.int64) - run_start, count
    )


def _ranks_within(counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """``0, 1, .., c - 1`` for each ``c`` in ``counts``, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


#: Coarsest cell of the node grid on a clustered network, metres.
_GRID_MAX_CELL_M = 100.0


@dataclass(frozen=True)
class _NodeGrid:
    """Nodes bucketed into square cells for area look-ups (see :meth:`build` for their size)."""

    x0: float
    y0: float
    cell_m: float
    n_cols: int
    n_rows: int
    order: NDArray[np.int64]  # node indices sorted by cell (row-major)
    cell_start: NDArray[np.int64]  # order[cell_start[c]:cell_start[c + 1]] are the nodes of cell c

    @classmethod
    def build(cls, node_xy: NDArray[np.float64]) -> _NodeGrid:
        n = max(node_xy.shape[0], 1)
        lo, hi = node_xy.min(axis=0), node_xy.max(axis=0)
        span = hi - lo
        area_m2 = max(float(span[0] * span[1]), 1.0)
        # About four nodes per cell where the network is uniform, but no coarser than
        # _GRID_MAX_CELL_M where it is clustered (towns in a county), as long as there
        # are at most four cells per node.
        cell = max(min(math.sqrt(area_m2 * 4 / n), _GRID_MAX_CELL_M), math.sqrt(area_m2 / (4 * n)))
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


def _csr(
    data: NDArray[np.float64], indices: NDArray, indptr: NDArray, *, sorted_indices: bool = True
) -> csr_matrix:
    """A square CSR matrix over the arrays as they are (columns sorted within rows, or not)."""
    size = indptr.shape[0] - 1
    graph = csr_matrix((data, indices, indptr), shape=(size, size), copy=False)
    graph.has_sorted_indices = sorted_indices
    return graph


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


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """An undirected walk network: straight-segment edges between projected nodes.

    Attributes
    ----------
    crs : pyproj.CRS
        The projected CRS (metres) of ``node_xy``.
    node_xy : ndarray, shape (n, 2)
        Node coordinates in ``crs``.
    edge_u, edge_v : ndarray of int64, shape (m,)
        End nodes of each edge (``edge_u < edge_v``; no self-loops, no duplicates).
    edge_length_m : ndarray of float64, shape (m,)
        Straight length of each edge in metres.
    edge_street_level : ndarray of bool, shape (m,), optional
        False for edges that homes and clinics must not attach to: tunnels, bridges,
        indoor corridors (they stay in the network for walking through). None: all
        edges are at street level.

    """

    crs: pyproj.CRS
    node_xy: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_street_level: NDArray[np.bool_] | None = None

    @classmethod
    def from_lines(
        cls,
        lines: ArrayLike,
        crs: pyproj.CRS | str | int = WGS84,
        *,
        projected_crs: pyproj.CRS | None = None,
        street_level: ArrayLike | None = None,
    ) -> WalkNetwork:
        """Build a network from walkable line geometries.

        Consecutive vertices of each line become an edge; vertices with identical
        coordinates (in the input CRS) become one node, which is how lines connect.

        Parameters
        ----------
        lines : array_like of shapely LineString
            Walkable ways, e.g. OSM ways or OSMnx edge geometries.
        crs : pyproj.CRS, str or int
            CRS of ``lines``. Default WGS-84.
        projected_crs : pyproj.CRS, optional
            Metric CRS to compute in; default the local UTM zone.
        street_level : array_like of bool, optional
            Per line: may points attach to it? (False for tunnels, bridges, indoor
            ways.) An edge shared by several lines is at street level if any is.

        Returns
        -------
        WalkNetwork

        """
        lines = np.asarray(lines, dtype=object)
        if lines.size == 0:
            raise EmptyResultError("no walkable ways to build a network from")
        coords, line_index = shapely.get_coordinates(lines, return_index=True)
        if coords.shape[0] < 2:
            raise EmptyResultError("the walkable ways hold fewer than two points")
        crs = pyproj.CRS.from_user_input(crs)
        unique_xy, node_of_vertex = np.unique(coords, axis=0, return_inverse=True)
        node_of_vertex = node_of_vertex.reshape(-1)
        same_line = line_index[:-1] == line_index[1:]
        u = node_of_vertex[:-1][same_line]
        v = node_of_vertex[1:][same_line]
        level = None
        if street_level is not None:
            level = np.asarray(street_level, dtype=bool)[line_index[:-1][same_line]]
        to_wgs84 = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
        lon, lat = to_wgs84.transform(unique_xy[:, 0], unique_xy[:, 1])
        if projected_crs is None:
            projected_crs = crs if crs.is_projected else local_utm_crs(lon, lat)
        to_local = pyproj.Transformer.from_crs(WGS84, projected_crs, always_xy=True)
        x, y = to_local.transform(lon, lat)
        return cls.from_arrays(np.column_stack([x, y]), u, v, projected_crs, street_level=level)

    @classmethod
    def from_arrays(
        cls,
        node_xy: ArrayLike,
        edge_u: ArrayLike,
        edge_v: ArrayLike,
        crs: pyproj.CRS | str | int,
        *,
        street_level: ArrayLike | None = None,
    ) -> WalkNetwork:
        """Build a network from projected node coordinates and edge end indices.

        Self-loops are dropped, both directions of a street are one edge, and
        duplicate edges between the same two nodes are kept once.

        Parameters
        ----------
        node_xy : array_like, shape (n, 2)
            Node coordinates in a projected CRS, metres.
        edge_u, edge_v : array_like of int
            Node indices of each edge's ends.
        crs : pyproj.CRS, str or int
            The projected CRS of ``node_xy``.
        street_level : array_like of bool, optional
            Per input edge: may points attach to it? Duplicates combine with OR.

        Returns
        -------
        WalkNetwork

        """
        node_xy = np.ascontiguousarray(node_xy, dtype=np.float64)
        u = np.asarray(edge_u, dtype=np.int64)
        v = np.asarray(edge_v, dtype=np.int64)
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        keep = lo != hi
        pairs, which = np.unique(np.column_stack([lo[keep], hi[keep]]), axis=0, return_inverse=True)
        if pairs.shape[0] == 0:
            raise EmptyResultError("the walkable ways form no street segments")
        level = None
        if street_level is not None:
            flags = np.asarray(street_level, dtype=bool)[keep]
            level = np.bincount(which.reshape(-1), weights=flags, minlength=pairs.shape[0]) > 0
        lo, hi = pairs[:, 0], pairs[:, 1]
        length = np.hypot(*(node_xy[hi] - node_xy[lo]).T)
        return cls(pyproj.CRS.from_user_input(crs), node_xy, lo, hi, length, level)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of (undirected) edges."""
        return int(self.edge_u.shape[0])

    @cached_property
    def _base_csr(self) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]:
        """``(indptr, indices, data)`` of the symmetric adjacency, built once per network.

        Rows are nodes; each row lists its neighbours in ascending order with the edge
        lengths in metres. Indices are int32 (what ``scipy.sparse.csgraph`` works in),
        so no call has to convert or re-sort them.
        """
        n = self.n_nodes
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        order = np.lexsort((cols, rows))
        index_dtype = _index_dtype(n + 2 * rows.shape[0])
        indices = cols[order].astype(index_dtype)
        data = np.concatenate([self.edge_length_m, self.edge_length_m])[order]
        indptr = np.zeros(n + 1, dtype=index_dtype)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        for array in (indptr, indices, data):
            array.flags.writeable = False
        return indptr, indices, data

    @cached_property
    def adjacency(self) -> csr_matrix:
        """Symmetric CSR matrix of edge lengths in metres (both walking directions)."""
        return self.adjacency_with_sources(np.empty(0, np.int64), np.empty(0), np.empty(0))

    def adjacency_with_sources(
        self,
        source_edge: NDArray[np.int64],
        source_to_u_m: NDArray[np.float64],
        source_to_v_m: NDArray[np.float64],
    ) -> csr_matrix:
        """CSR matrix of the network plus one virtual source node per attached point.

        Virtual node ``n_nodes + i`` has two outgoing arcs: to ``edge_u[source_edge[i]]``
        of length ``source_to_u_m[i]`` and to ``edge_v[...]`` of ``source_to_v_m[i]``.
        The virtual rows are appended after the cached rows of the network itself, so
        a call costs one copy of the arrays, never a re-sort.

        Parameters
        ----------
        source_edge : ndarray of int64
            Edge each virtual source attaches to.
        source_to_u_m, source_to_v_m : ndarray of float64
            Arc lengths from each virtual source to the edge's two ends, metres.

        Returns
        -------
        scipy.sparse.csr_matrix
            Shape ``(n + k, n + k)``; explicit zeros are real arcs.

        """
        indptr, indices, data = self._base_csr
        n, k = self.n_nodes, int(np.shape(source_edge)[0])
        index_dtype = _index_dtype(n + k + indices.shape[0] + 2 * k)
        if index_dtype != indices.dtype:  # only for networks near 2**31 arcs
            indptr, indices = indptr.astype(index_dtype), indices.astype(index_dtype)
        # edge_u < edge_v, so each virtual row's two columns are already in order.
        new_cols = np.empty(2 * k, dtype=index_dtype)
        new_cols[0::2] = self.edge_u[source_edge]
        new_cols[1::2] = self.edge_v[source_edge]
        new_data = np.empty(2 * k, dtype=np.float64)
        new_data[0::2] = source_to_u_m
        new_data[1::2] = source_to_v_m
        all_indptr = np.empty(n + k + 1, dtype=index_dtype)
        all_indptr[: n + 1] = indptr
        all_indptr[n + 1 :] = indptr[-1] + 2 * np.arange(1, k + 1, dtype=index_dtype)
        return _csr(np.concatenate([data, new_data]), np.concatenate([indices, new_cols]), all_indptr)

    def subgraph_near(
        self,
        xy: ArrayLike,
        radius_m: ArrayLike,
        source_edge: NDArray[np.int64],
        source_to_u_m: NDArray[np.float64],
        source_to_v_m: NDArray[np.float64],
        *,
        max_nodes: int | None = None,
    ) -> tuple[csr_matrix, NDArray[np.int64]] | None:
        """The subgraph of the nodes near some points, plus one virtual source row per source.

        Every node within ``radius_m`` of a point is in it, together with some a little
        farther away (those sharing a cell of the network's node grid with the disc's
        edge). Row 0 is a sink: every arc to a node outside the subgraph leads there,
        and it has no arcs of its own, so distances are those of the subgraph alone.
        Rows ``1..s`` are the ``s`` nodes, and row ``s + 1 + i`` is virtual source ``i``
        (arcs as in :meth:`adjacency_with_sources`).

        Parameters
        ----------
        xy : array_like, shape (p, 2)
            Points in ``crs``.
        radius_m : float or array_like of shape (p,)
            Radius in metres, one for all points or one per point.
        source_edge : ndarray of int64
            Edge each virtual source attaches to.
        source_to_u_m, source_to_v_m : ndarray of float64
            Arc lengths from each virtual source to the edge's two ends, metres.
        max_nodes : int, optional
            Give up (return None) when the cells to visit hold more than this many
            nodes, counting overlaps: for callers with a cheaper plan for large areas.

        Returns
        -------
        (scipy.sparse.csr_matrix, ndarray of int64) or None
            The graph and the network index of each node row (row ``j + 1`` is node
            ``nodes[j]``; distinct, in the grid's spatial order).

        """
        start, count, _point = self._cell_runs(xy, radius_m)
        if max_nodes is not None and int(count.sum()) > max_nodes:
            return None
        # Rows of the grid-ordered adjacency: the runs, merged where discs overlap.
        end = start + count
        if start.shape[0] > 1:
            by_start = np.argsort(start, kind="stable")
            start, end = start[by_start], end[by_start]
            reach = np.maximum.accumulate(end)
            opens = np.empty(start.shape[0], dtype=bool)
            opens[0] = True
            np.greater(start[1:], reach[:-1], out=opens[1:])
            start, end = start[opens], reach[np.append(opens[1:], True)]
        grid_rows = _concat_ranges(start, end - start)
        indptr, cols, data, degree, grid_position = self._grid_csr
        s, k = grid_rows.shape[0], int(np.shape(source_edge)[0])
        index_dtype = _index_dtype(cols.shape[0] + 3 * k + 2)
        # Subgraph row of each grid row: 1..s, 0 (the sink) for all others.
        local = np.zeros(self.n_nodes, dtype=index_dtype)
        local[grid_rows] = np.arange(1, s + 1, dtype=index_dtype)
        arc = _concat_ranges(indptr[start], indptr[end] - indptr[start])
        new_indptr = np.empty(s + k + 2, dtype=index_dtype)
        new_indptr[:2] = 0
        np.cumsum(degree[grid_rows], out=new_indptr[2 : s + 2])
        new_indptr[s + 2 :] = new_indptr[s + 1] + 2 * np.arange(1, k + 1, dtype=index_dtype)
        ends = np.empty(2 * k, dtype=index_dtype)
        ends[0::2] = local[grid_position[self.edge_u[source_edge]]]
        ends[1::2] = local[grid_position[self.edge_v[source_edge]]]
        lengths = np.empty(2 * k)
        lengths[0::2] = source_to_u_m
        lengths[1::2] = source_to_v_m
        graph = _csr(
            np.concatenate([data[arc], lengths]),
            np.concatenate([local[cols[arc]], ends]),
            new_indptr,
            sorted_indices=False,
        )
        return graph, self._node_grid.order[grid_rows]

    @cached_property
    def _grid_csr(
        self,
    ) -> tuple[
        NDArray[np.integer], NDArray[np.integer], NDArray[np.float64], NDArray[np.integer], NDArray[np.int64]
    ]:
        """The adjacency with rows and columns in the node grid's order, built once per network.

        ``(indptr, indices, data, degree, grid_position)``: row ``p`` is node
        ``_node_grid.order[p]``, and ``grid_position[v]`` is the row of node ``v``. The
        nodes of a run of grid cells are then consecutive rows, and so are their arcs.
        """
        base_indptr, base_indices, base_data = self._base_csr
        order = self._node_grid.order
        grid_position = np.empty(self.n_nodes, dtype=np.int64)
        grid_position[order] = np.arange(self.n_nodes)
        degree = np.diff(base_indptr)[order]
        arc = _concat_ranges(base_indptr[order], degree)
        indptr = np.zeros(self.n_nodes + 1, dtype=base_indptr.dtype)
        np.cumsum(degree, out=indptr[1:])
        indices = grid_position[base_indices[arc]].astype(base_indices.dtype)
        for array in (indptr, indices, degree, grid_position):
            array.flags.writeable = False
        data = base_data[arc]
        data.flags.writeable = False
        return indptr, indices, data, degree, grid_position

    def count_near(self, xy: ArrayLike, radius_m: ArrayLike) -> NDArray[np.int64]:
        """How many nodes :meth:`subgraph_near` would visit for each point on its own.

        Parameters
        ----------
        xy : array_like, shape (p, 2)
            Points in ``crs``.
        radius_m : float or array_like of shape (p,)
            Radius in metres, one for all points or one per point.

        Returns
        -------
        ndarray of int64, shape (p,)

        """
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        _start, count, point = self._cell_runs(xy, radius_m)
        return np.bincount(point, weights=count, minlength=xy.shape[0]).astype(np.int64)

    def count_in_box(self, lo: ArrayLike, hi: ArrayLike) -> int:
        """How many nodes lie in the grid cells that meet the box ``lo``..``hi`` (x, y in ``crs``).

        Parameters
        ----------
        lo, hi : array_like, shape (2,)
            Lower-left and upper-right corners.

        Returns
        -------
        int
            Nodes of the cells the box meets: at least those inside it.

        """
        grid = self._node_grid
        col_lo, row_lo = grid.cell_of(np.asarray(lo, dtype=np.float64))
        col_hi, row_hi = grid.cell_of(np.asarray(hi, dtype=np.float64))
        row = np.arange(row_lo, row_hi + 1) * grid.n_cols
        return int(np.sum(grid.cell_start[row + col_hi + 1] - grid.cell_start[row + col_lo]))

    def _cell_runs(
        self, xy: ArrayLike, radius_m: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Runs of ``_node_grid.order`` covering the discs: ``(start, count, point of the run)``.

        Each row of cells meets a disc in one run of cells (the chord at the row's
        nearest y); runs may be empty.
        """
        grid = self._node_grid
        # In cell units from the grid's corner.
        g = (np.asarray(xy, dtype=np.float64).reshape(-1, 2) - (grid.x0, grid.y0)) / grid.cell_m
        r = np.asarray(radius_m, dtype=np.float64) / grid.cell_m
        if r.shape != g.shape[:1]:
            r = np.broadcast_to(r, g.shape[:1])
        row_lo = np.maximum(np.floor(g[:, 1] - r), 0).astype(np.int64)
        row_hi = np.minimum(np.floor(g[:, 1] + r), grid.n_rows - 1).astype(np.int64)
        rows_per_point = np.maximum(row_hi - row_lo + 1, 0)
        point = np.repeat(np.arange(g.shape[0]), rows_per_point)
        row = row_lo[point] + _ranks_within(rows_per_point)
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

    @cached_property
    def _node_grid(self) -> _NodeGrid:
        return _NodeGrid.build(self.node_xy)

    @cached_property
    def extent_m2(self) -> float:
        """Area of the nodes' bounding box in square metres (at least 1)."""
        span = self.node_xy.max(axis=0) - self.node_xy.min(axis=0)
        return max(float(span[0] * span[1]), 1.0)

    @cached_property
    def component(self) -> NDArray[np.int64]:
        """Connected-component label of every node."""
        _, labels = connected_components(self.adjacency, directed=False)
        return labels.astype(np.int64)

    @cached_property
    def component_length_m(self) -> NDArray[np.float64]:
        """Total street length in metres of each connected component."""
        comp = self.component
        return np.bincount(comp[self.edge_u], weights=self.edge_length_m, minlength=comp.max() + 1)

    def snappable_edges(self, min_island_m: float) -> NDArray[np.bool_]:
        """Edges in components of at least ``min_island_m`` metres (the largest always)."""
        length = self.component_length_m
        keep = length >= min_island_m
        keep[np.argmax(length)] = True
        return keep[self.component[self.edge_u]]

    @cached_property
    def _segments(self) -> NDArray[np.object_]:
        return shapely.linestrings(np.stack([self.node_xy[self.edge_u], self.node_xy[self.edge_v]], axis=1))

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self._segments)

    def edge_lines(self) -> NDArray[np.object_]:
        """Shapely LineStrings of all edges, in ``crs``."""
        return self._segments

    def snap(
        self,
        xy: ArrayLike,
        *,
        max_access_leg_m: float,
        min_island_m: float = 0.0,
    ) -> Snapped:
        """Attach points to the nearest point of the nearest eligible edge.

        Parameters
        ----------
        xy : array_like, shape (p, 2)
            Point coordinates in ``crs``.
        max_access_leg_m : float
            Points farther than this from every eligible edge stay unattached.
        min_island_m : float
            Skip edges of components shorter than this in total (mapping fragments).

        Returns
        -------
        Snapped

        """
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        p = xy.shape[0]
        edge = np.full(p, -1, dtype=np.int64)
        along = np.zeros(p)
        leg = np.full(p, np.nan)
        finite = np.isfinite(xy).all(axis=1)
        if p == 0 or not finite.any():
            return Snapped(edge, along, leg)
        eligible = self.snappable_edges(min_island_m)
        if self.edge_street_level is not None:
            eligible = eligible & self.edge_street_level
        if eligible.all():
            tree, tree_edges = self._tree, np.arange(self.n_edges)
        else:
            tree_edges = np.flatnonzero(eligible)
            tree = shapely.STRtree(self._segments[tree_edges])
        points = shapely.points(xy[finite])
        (pt, hit), _dist = tree.query_nearest(
            points, max_distance=max_access_leg_m, return_distance=True, all_matches=True
        )
        # Ties: keep the lowest edge index per point, so results never depend on tree order.
        cand = tree_edges[hit]
        order = np.lexsort((cand, pt))
        pt, cand = pt[order], cand[order]
        first = np.ones(pt.shape[0], dtype=bool)
        first[1:] = pt[1:] != pt[:-1]
        rows = np.flatnonzero(finite)[pt[first]]
        e = cand[first]
        a = self.node_xy[self.edge_u[e]]
        d = self.node_xy[self.edge_v[e]] - a
        length = self.edge_length_m[e]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.einsum("ij,ij->i", xy[rows] - a, d) / (length * length)
        t = np.clip(np.nan_to_num(t, nan=0.0), 0.0, 1.0)
        foot = a + d * t[:, None]
        edge[rows] = e
        along[rows] = t * length
        leg[rows] = np.hypot(*(xy[rows] - foot).T)
        return Snapped(edge, along, leg)

    def to_local(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
        """Project WGS-84 longitudes/latitudes into the network CRS, shape (p, 2)."""
        tr = pyproj.Transformer.from_crs(WGS84, self.crs, always_xy=True)
        x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])
