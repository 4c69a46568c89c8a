"""The walk network as compact arrays, and snapping of points onto its edges.

Every edge is one straight segment between two nodes in a local projected CRS
(metres). Curved streets are chains of segments, so snapping, partial reach and
service-area pieces are exact with simple vector arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from circles.crs import WGS84, local_utm_crs
from circles.engine import Snapped, TravelGraph
from circles.errors import EmptyResultError
from circles.network_arrays import merged_rates, nearest_within, unique_rows

__all__ = ["Snapped", "WalkNetwork", "unique_rows"]

#: A snapped point closer than this to an edge's end (metres) is placed at the end.
_AT_NODE_M = 1e-6


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """A street network: straight-segment edges between projected nodes, and how to snap onto it.

    Without rates it is a walk network, two-way, costed in metres. A network built from
    a weighted graph (:meth:`from_graph` with ``weight``) carries a cost rate per metre
    in each direction of every edge (``inf``: that direction is not allowed).

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
    rate_uv, rate_vu : ndarray of float64, shape (m,), optional
        Cost per metre from ``u`` to ``v`` and back; None for walking (1 per metre).
    cost_unit : str
        ``"m"`` (walking metres) or the unit of the rates (e.g. ``"s"``).
    access_cost_per_m : float
        Cost of one metre of access leg (1 for metres; seconds per metre walked otherwise).

    """

    crs: pyproj.CRS
    node_xy: NDArray[np.float64]
    edge_u: NDArray[np.int64]
    edge_v: NDArray[np.int64]
    edge_length_m: NDArray[np.float64]
    edge_street_level: NDArray[np.bool_] | None = None
    rate_uv: NDArray[np.float64] | None = None
    rate_vu: NDArray[np.float64] | None = None
    cost_unit: str = "m"
    access_cost_per_m: float = 1.0

    @classmethod
    def from_lines(
        cls,
        lines: ArrayLike,
        crs: pyproj.CRS | str | int = WGS84,
        *,
        projected_crs: pyproj.CRS | None = None,
        street_level: ArrayLike | None = None,
        rate_forward: ArrayLike | None = None,
        rate_backward: ArrayLike | None = None,
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
        rate_forward, rate_backward : array_like of float, optional
            Per line: cost per metre along the line's own direction and against it
            (``inf``: not allowed). Give both or neither (neither: walking metres).

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
        unique_xy, node_of_vertex = unique_rows(coords)
        node_of_vertex = node_of_vertex.reshape(-1)
        same_line = line_index[:-1] == line_index[1:]
        u = node_of_vertex[:-1][same_line]
        v = node_of_vertex[1:][same_line]
        segment_line = line_index[:-1][same_line]

        def _per_segment(values: ArrayLike | None, dtype: type) -> NDArray | None:
            return None if values is None else np.asarray(values, dtype=dtype)[segment_line]

        to_wgs84 = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
        lon, lat = to_wgs84.transform(unique_xy[:, 0], unique_xy[:, 1])
        if projected_crs is None:
            projected_crs = crs if crs.is_projected else local_utm_crs(lon, lat)
        to_local = pyproj.Transformer.from_crs(WGS84, projected_crs, always_xy=True)
        x, y = to_local.transform(lon, lat)
        return cls.from_arrays(
            np.column_stack([x, y]),
            u,
            v,
            projected_crs,
            street_level=_per_segment(street_level, bool),
            rate_forward=_per_segment(rate_forward, np.float64),
            rate_backward=_per_segment(rate_backward, np.float64),
        )

    @classmethod
    def from_arrays(
        cls,
        node_xy: ArrayLike,
        edge_u: ArrayLike,
        edge_v: ArrayLike,
        crs: pyproj.CRS | str | int,
        *,
        street_level: ArrayLike | None = None,
        rate_forward: ArrayLike | None = None,
        rate_backward: ArrayLike | None = None,
        cost_unit: str = "m",
        access_cost_per_m: float = 1.0,
    ) -> WalkNetwork:
        """Build a network from projected node coordinates and edge end indices.

        Self-loops are dropped, both directions of a street are one edge, and
        duplicate edges between the same two nodes are kept once (with the least rate
        each way when rates are given).

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
        rate_forward, rate_backward : array_like of float, optional
            Per input edge: cost per metre from ``edge_u`` to ``edge_v`` and back.
        cost_unit : str
            Unit of the rates' costs (``"s"`` for travel times); ``"m"`` without rates.
        access_cost_per_m : float
            Cost of one metre of access leg, in ``cost_unit``.

        Returns
        -------
        WalkNetwork

        """
        node_xy = np.ascontiguousarray(node_xy, dtype=np.float64)
        u = np.asarray(edge_u, dtype=np.int64)
        v = np.asarray(edge_v, dtype=np.int64)
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        keep = lo != hi
        pairs, which = unique_rows(np.column_stack([lo[keep], hi[keep]]))
        if pairs.shape[0] == 0:
            raise EmptyResultError("the walkable ways form no street segments")
        which = which.reshape(-1)
        level = None
        if street_level is not None:
            flags = np.asarray(street_level, dtype=bool)[keep]
            level = np.bincount(which, weights=flags, minlength=pairs.shape[0]) > 0
        lo, hi = pairs[:, 0], pairs[:, 1]
        length = np.hypot(*(node_xy[hi] - node_xy[lo]).T)
        rates = merged_rates(which, pairs.shape[0], u[keep] < v[keep], rate_forward, rate_backward, keep)
        if rates is None:
            return cls(pyproj.CRS.from_user_input(crs), node_xy, lo, hi, length, level)
        return cls(
            pyproj.CRS.from_user_input(crs),
            node_xy,
            lo,
            hi,
            length,
            level,
            rates[0],
            rates[1],
            cost_unit,
            float(access_cost_per_m),
        )

    @classmethod
    def from_graph(
        cls, graph, *, weight: str | None = None, weight_unit: str = "s", access_speed_kmh: float = 4.5
    ) -> WalkNetwork:
        """Build a network from a networkx/OSMnx graph (see :mod:`circles.network_from_graph`).

        Parameters
        ----------
        graph : networkx.MultiDiGraph or networkx.Graph
            Nodes carry ``x``/``y``; the CRS is ``graph.graph["crs"]`` (WGS-84 when absent).
        weight : str, optional
            Edge attribute costing each edge (e.g. ``"travel_time"``); None walks in metres.
        weight_unit : str
            Unit of ``weight``.
        access_speed_kmh : float
            Walking speed on access legs when ``weight`` is given.

        Returns
        -------
        WalkNetwork
        """
        from circles.network_from_graph import network_from_graph

        return network_from_graph(
            graph, weight=weight, weight_unit=weight_unit, access_speed_kmh=access_speed_kmh
        )

    @cached_property
    def travel_graph(self) -> TravelGraph:
        """The engine's view of the network: travel costs as CSR arrays (built once)."""
        if self.rate_uv is None or self.rate_vu is None:
            return TravelGraph.walking(self.node_xy, self.edge_u, self.edge_v, self.edge_length_m)
        return TravelGraph(
            self.node_xy,
            self.edge_u,
            self.edge_v,
            self.edge_length_m,
            self.rate_uv,
            self.rate_vu,
            access_cost_per_m=self.access_cost_per_m,
            unit=self.cost_unit,
        )

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of (undirected) edges."""
        return int(self.edge_u.shape[0])

    @cached_property
    def component(self) -> NDArray[np.int64]:
        """Connected-component label of every node (ignoring travel directions)."""
        n = self.n_nodes
        links = coo_matrix((np.ones(self.n_edges), (self.edge_u, self.edge_v)), shape=(n, n))
        _, labels = connected_components(links.tocsr(), directed=False)
        return labels.astype(np.int64)

    @cached_property
    def component_length_m(self) -> NDArray[np.float64]:
        """Total street length in metres of each connected component."""
        comp = self.component
        return np.bincount(comp[self.edge_u], weights=self.edge_length_m, minlength=comp.max() + 1)

    def snappable_edges(self, min_island_m: float) -> NDArray[np.bool_]:
        """Edges in components of at least ``min_island_m`` metres (the largest always).

        Parameters
        ----------
        min_island_m : float
            Least total street length of a component whose edges may be snapped onto, metres.

        Returns
        -------
        ndarray of bool, shape (m,)
        """
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

    def _snap_tree(self, min_island_m: float) -> tuple[shapely.STRtree, NDArray[np.int64]]:
        """The STRtree of the edges points may attach to, and their edge indices (kept per island size)."""
        cache = self.__dict__.setdefault("_snap_trees", {})
        if min_island_m not in cache:
            eligible = self.snappable_edges(min_island_m)
            if self.edge_street_level is not None:
                eligible = eligible & self.edge_street_level
            if eligible.all():
                cache[min_island_m] = (self._tree, np.arange(self.n_edges))
            else:
                tree_edges = np.flatnonzero(eligible)
                cache[min_island_m] = (shapely.STRtree(self._segments[tree_edges]), tree_edges)
        return cache[min_island_m]

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
        tree, tree_edges = self._snap_tree(min_island_m)
        pt, hit = nearest_within(tree, shapely.points(xy[finite]), max_access_leg_m)
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
        # Within a micrometre of an end is at that end: float noise must not put a point a
        # hair along a one-way edge's forbidden direction (an infinite cost).
        at = t * length
        along[rows] = np.where(at < _AT_NODE_M, 0.0, np.where(length - at < _AT_NODE_M, length, at))
        leg[rows] = np.hypot(*(xy[rows] - foot).T)
        return Snapped(edge, along, leg)

    def to_local(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
        """Project WGS-84 longitudes/latitudes into the network CRS.

        Parameters
        ----------
        lon, lat : array_like
            Degrees.

        Returns
        -------
        ndarray, shape (p, 2)
        """
        tr = pyproj.Transformer.from_crs(WGS84, self.crs, always_xy=True)
        x, y = tr.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])
