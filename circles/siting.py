"""Where the next clinics should go: greedy maximal covering on exact walking distances.

Demand is every home beyond the threshold (or unreached) that is attached to a street,
weighted by its residents. A candidate site covers a home when the exact network walk
from the site to the home (plus the home's access leg) is within the threshold. Sites
are chosen one at a time, each adding the most still-uncovered residents: the classic
greedy heuristic for the maximal covering location problem, which guarantees at least
(1 - 1/e) of the optimum and yields a ranked list ("site 1 adds 4,200 residents, site 2
adds ...") a planner can cut at any budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from circles.analysis import StudyResult
from circles.crs import WGS84
from circles.errors import InputError
from circles.network import Snapped, WalkNetwork


@dataclass(frozen=True)
class Demand:
    """Homes to cover: indices into the study's homes, and residents per home."""

    home: NDArray[np.int64]
    population: NDArray[np.float64]


def uncovered_demand(result: StudyResult, threshold_min: float) -> Demand:
    """Homes attached to a street but beyond ``threshold_min`` (or unreached), with residents."""
    ctx = _context(result)
    t = result.homes["walk_time_min"].to_numpy(float)
    beyond = ~(t <= threshold_min) & ctx.homes.attached
    idx = np.flatnonzero(beyond)
    return Demand(idx, result.homes["population"].to_numpy(float)[idx])


def _context(result: StudyResult):
    if result.context is None:
        raise InputError("this result carries no network context; run the analysis again to recommend sites")
    return result.context


def _subset(s: Snapped, idx: NDArray[np.int64]) -> Snapped:
    return Snapped(s.edge[idx], s.along_m[idx], s.access_leg_m[idx])


def _sources_from_points(
    network: WalkNetwork, pts: Snapped
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    e = pts.edge
    return e, pts.along_m + pts.access_leg_m, network.edge_length_m[e] - pts.along_m + pts.access_leg_m


def node_sites(network: WalkNetwork, nodes: NDArray[np.int64]) -> Snapped:
    """Candidate sites at network nodes, expressed as points on an incident edge."""
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
    limit_m: float,
    *,
    spacing_m: float = 100.0,
    max_candidates: int = 3000,
    area_local: shapely.Geometry | None = None,
) -> NDArray[np.int64]:
    """Network nodes from which at least one demand home is within ``limit_m``, thinned.

    Parameters
    ----------
    network : WalkNetwork
    homes : Snapped
        The demand homes (attached).
    limit_m : float
        Coverage distance in metres.
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
    edge, to_u, to_v = _sources_from_points(network, homes)
    graph = network.adjacency_with_sources(edge, to_u, to_v)
    src = network.n_nodes + np.arange(len(homes))
    dist = dijkstra(graph, directed=True, indices=src, min_only=True, limit=limit_m)[: network.n_nodes]
    nodes = np.flatnonzero(np.isfinite(dist))
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


def coverage_matrix(
    network: WalkNetwork, sites: Snapped, homes: Snapped, limit_m: float, *, chunk: int | None = None
) -> sp.csr_matrix:
    """Which site covers which home: exact walk (plus both access legs) within ``limit_m``.

    Parameters
    ----------
    network : WalkNetwork
    sites : Snapped
        Candidate sites (attached).
    homes : Snapped
        Demand homes (attached).
    limit_m : float
        Coverage distance in metres.
    chunk : int, optional
        Sites per Dijkstra call (bounds memory: chunk x n_nodes floats).

    Returns
    -------
    scipy.sparse.csr_matrix of bool, shape (n_sites, n_homes)
    """
    n = network.n_nodes
    chunk = chunk or max(1, min(512, int(2e7 // max(n, 1))))
    h_edge = homes.edge
    h_u, h_v = network.edge_u[h_edge], network.edge_v[h_edge]
    h_along = homes.along_m
    h_rest = network.edge_length_m[h_edge] - h_along
    rows, cols = [], []
    for start in range(0, len(sites), chunk):
        part = _subset(sites, np.arange(start, min(start + chunk, len(sites))))
        edge, to_u, to_v = _sources_from_points(network, part)
        graph = network.adjacency_with_sources(edge, to_u, to_v)
        src = n + np.arange(len(part))
        dist = dijkstra(graph, directed=True, indices=src, limit=limit_m)[:, :n]
        d = np.minimum(dist[:, h_u] + h_along, dist[:, h_v] + h_rest) + homes.access_leg_m
        r, c = np.nonzero(d <= limit_m)
        rows.append(r + start)
        cols.append(c)
    # A site and a home on the same edge reach each other along it directly.
    pairs = pd.DataFrame({"edge": sites.edge, "site": np.arange(len(sites))}).merge(
        pd.DataFrame({"edge": homes.edge, "home": np.arange(len(homes))}), on="edge"
    )
    same_site, same_home = pairs["site"].to_numpy(), pairs["home"].to_numpy()
    direct = (
        np.abs(sites.along_m[same_site] - homes.along_m[same_home])
        + sites.access_leg_m[same_site]
        + homes.access_leg_m[same_home]
    )
    ok = direct <= limit_m
    rows.append(same_site[ok])
    cols.append(same_home[ok])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    m = sp.csr_matrix((np.ones(r.size, dtype=bool), (r, c)), shape=(len(sites), len(homes)))
    m.sum_duplicates()
    return m


def greedy_max_cover(
    cover: sp.csr_matrix, weight: NDArray[np.float64], n_sites: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Pick sites one by one, each covering the most still-uncovered weight.

    Parameters
    ----------
    cover : csr_matrix of bool, shape (sites, demand)
    weight : ndarray
        Weight (residents) per demand point.
    n_sites : int
        How many sites at most; stops early when no site adds anything.

    Returns
    -------
    (chosen, gain)
        Site indices in order of choice, and the weight each adds. Ties go to the
        lowest site index.
    """
    remaining = np.asarray(weight, dtype=float).copy()
    cover = cover.astype(np.float64).tocsr()
    chosen, gains = [], []
    for _ in range(n_sites):
        gain = cover @ remaining
        if gain.size == 0:
            break
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        gains.append(float(gain[best]))
        remaining[cover.indices[cover.indptr[best] : cover.indptr[best + 1]]] = 0.0
    return np.array(chosen, dtype=np.int64), np.array(gains)


def recommend_sites(
    result: StudyResult,
    *,
    n_sites: int = 5,
    candidates: gpd.GeoDataFrame | None = None,
    spacing_m: float = 100.0,
    max_candidates: int = 3000,
) -> gpd.GeoDataFrame:
    """Recommend new facility sites that bring the most uncovered residents within reach.

    Parameters
    ----------
    result : StudyResult
        A finished analysis (with its network context).
    n_sites : int
        How many sites to recommend.
    candidates : GeoDataFrame, optional
        The planner's candidate sites (e.g. vacant plots), any CRS; by default network
        nodes inside the study area near uncovered homes, one per ``spacing_m`` square.
    spacing_m, max_candidates : float, int
        Thinning of the default candidates.

    Returns
    -------
    GeoDataFrame
        One row per recommended site in order (WGS-84 points): ``rank``, ``name``,
        ``gain_population``, ``gain_homes``, ``covered_population_after``,
        ``covered_share_after``; plus the candidate file's columns when given.
    """
    if n_sites < 1:
        raise InputError(f"number of sites must be at least 1, got {n_sites}")
    ctx = _context(result)
    params = result.summary["parameters"]
    limit_m = params["bands_min"][-1] * params["speed_kmh"] * 1000 / 60
    demand = uncovered_demand(result, params["bands_min"][-1])
    homes = _subset(ctx.homes, demand.home)
    network = ctx.network
    if candidates is not None:
        cand_local = candidates.to_crs(network.crs)
        pts = shapely.point_on_surface(cand_local.geometry.values)
        xy = shapely.get_coordinates(pts)
        sites = network.snap(
            xy, max_access_leg_m=params["max_access_leg_m"], min_island_m=params["min_island_m"]
        )
        keep = np.flatnonzero(sites.attached)
        sites = _subset(sites, keep)
        site_xy = xy[keep]
        extra = candidates.iloc[keep].drop(columns=candidates.geometry.name).reset_index(drop=True)
    else:
        area = None
        if result.boundary is not None and len(result.boundary):
            area = shapely.union_all(result.boundary.to_crs(network.crs).geometry.values)
        nodes = candidate_nodes(
            network, homes, limit_m, spacing_m=spacing_m, max_candidates=max_candidates, area_local=area
        )
        sites = node_sites(network, nodes)
        site_xy = network.node_xy[nodes]
        extra = None
    cover = coverage_matrix(network, sites, homes, limit_m)
    chosen, gain = greedy_max_cover(cover, demand.population, n_sites)
    total = float(result.homes["population"].sum())
    covered_before = float(result.summary["covered_population"])
    remaining = np.ones(len(homes), dtype=bool)
    gain_homes = []
    for j in chosen:
        hit = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
        gain_homes.append(int(remaining[hit].sum()))
        remaining[hit] = False
    after = covered_before + np.cumsum(gain)
    table = {
        "rank": np.arange(1, chosen.size + 1),
        "name": [f"proposed site {k}" for k in range(1, chosen.size + 1)],
        "gain_population": np.round(gain, 1),
        "gain_homes": np.array(gain_homes, dtype=np.int64),
        "covered_population_after": np.round(after, 1),
        "covered_share_after": np.round(after / total, 4) if total > 0 else np.full(chosen.size, np.nan),
    }
    out = gpd.GeoDataFrame(
        table, geometry=gpd.GeoSeries(shapely.points(site_xy[chosen]), crs=network.crs)
    ).to_crs(WGS84)
    if extra is not None:
        for col in extra.columns:
            if col not in out:
                out[col] = extra[col].to_numpy()[chosen]
    return out
