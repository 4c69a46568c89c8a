"""Candidate sites for new facilities: network nodes near the demand, or the planner's own file.

Default candidates are the network nodes within reach of at least one demand home
(inside the study area when it has a boundary), thinned to one per ``spacing_m`` square;
a planner's file (vacant plots, leased premises) is snapped onto the streets like the
facilities, and candidates that attach to no street are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from circles.config import TravelSettings
from circles.engine import Snapped, search
from circles.network import WalkNetwork

if TYPE_CHECKING:  # pragma: no cover
    from circles.result import AnalysisContext


def node_sites(network: WalkNetwork, nodes: NDArray[np.int64]) -> Snapped:
    """Candidate sites at network nodes, expressed as points on an incident edge.

    Parameters
    ----------
    network : WalkNetwork
        The network the nodes belong to.
    nodes : ndarray of int64
        Node indices; each site is placed at the node's end of its first incident edge.
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    first_u = np.full(network.n_nodes, -1, dtype=np.int64)
    first_v = np.full(network.n_nodes, -1, dtype=np.int64)
    edges = np.arange(network.n_edges)
    first_u[network.edge_u[::-1]] = edges[::-1]
    first_v[network.edge_v[::-1]] = edges[::-1]
    use_u = first_u[nodes] >= 0
    edge = np.where(use_u, first_u[nodes], first_v[nodes])
    along = np.where(use_u, 0.0, network.edge_length_m[np.clip(edge, 0, None)])
    return Snapped(edge, along, np.zeros(nodes.size))


def candidate_nodes(
    network: WalkNetwork,
    homes: Snapped,
    limit: float,
    *,
    spacing_m: float = 100.0,
    max_candidates: int = 3000,
    area_local: shapely.Geometry | None = None,
) -> NDArray[np.int64]:
    """Network nodes within ``limit`` of at least one demand home, thinned to one per square.

    Parameters
    ----------
    network : WalkNetwork
        The network to search.
    homes : Snapped
        The demand homes (attached).
    limit : float
        Coverage cost (metres for walking).
    spacing_m : float
        Keep one node per square of this size (the lowest node index), doubling the
        spacing until at most ``max_candidates`` remain.
    max_candidates : int
        Upper bound on candidates.
    area_local : shapely geometry, optional
        Keep only nodes inside this area (network CRS).

    Returns
    -------
    ndarray of int64
        Node indices, ascending.
    """
    if len(homes) == 0:
        return np.empty(0, dtype=np.int64)
    reach = search(network.travel_graph, homes, limit=limit, towards=False)
    nodes = np.flatnonzero(np.isfinite(reach.cost))
    if area_local is not None and nodes.size:
        inside = shapely.contains_xy(area_local, network.node_xy[nodes, 0], network.node_xy[nodes, 1])
        nodes = nodes[inside]
    spacing = spacing_m
    while True:
        cell = np.floor(network.node_xy[nodes] / spacing).astype(np.int64)
        _, first = np.unique(cell, axis=0, return_index=True)
        thinned = np.sort(nodes[first])
        if thinned.size <= max_candidates:
            return thinned
        spacing *= 2


def candidate_sites(
    context: AnalysisContext,
    demand: Snapped,
    limit: float,
    settings: TravelSettings,
    boundary: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame | None,
    spacing_m: float,
    max_candidates: int,
) -> tuple[Snapped, np.ndarray, gpd.GeoDataFrame | None]:
    """Candidate sites snapped onto the network, their local coordinates and the candidate file's columns.

    Parameters
    ----------
    context : AnalysisContext
        The measured study's network and attached points.
    demand : Snapped
        The demand homes (attached); default candidates are the nodes within ``limit`` of them.
    limit : float
        Coverage cost, in the network's cost unit (metres for walking).
    settings : TravelSettings
        Its ``max_access_leg_m`` and ``min_island_m`` (metres) snap the planner's candidates.
    boundary : GeoDataFrame or None
        The study area; default candidates lie inside it (all nodes when None).
    candidates : GeoDataFrame or None
        The planner's candidate sites (any CRS); None for default candidates at network nodes.
    spacing_m : float
        Default candidates: one node per square of this size in metres (see :func:`candidate_nodes`).
    max_candidates : int
        Default candidates: at most this many.

    Returns
    -------
    (Snapped, ndarray, DataFrame or None)
        The attached candidates, their coordinates in the network's CRS, and the columns
        of the planner's file for them (None for default candidates).
    """
    network = context.network
    if candidates is not None:
        from circles.analysis import points_xy

        xy = points_xy(candidates, network.crs)
        sites = network.snap(
            xy, max_access_leg_m=settings.max_access_leg_m, min_island_m=settings.min_island_m
        )
        keep = np.flatnonzero(sites.attached)
        extra = candidates.iloc[keep].drop(columns=candidates.geometry.name).reset_index(drop=True)
        return sites.subset(keep), xy[keep], extra
    area = None
    if boundary is not None and len(boundary):
        area = shapely.union_all(boundary.to_crs(network.crs).geometry.values)
    nodes = candidate_nodes(
        network, demand, limit, spacing_m=spacing_m, max_candidates=max_candidates, area_local=area
    )
    return node_sites(network, nodes), network.node_xy[nodes], None
