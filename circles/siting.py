"""Where the next clinics should go: greedy maximal covering on exact walking times.

Demand is every home beyond the threshold (or unreached) that is attached to a street,
weighted by its residents. A candidate site covers a home when the exact network walk
between them (plus the home's access leg) is within the threshold; the coverage matrix
comes from the engine (:func:`circles.engine.pair_costs`). Sites are chosen one at a
time, each adding the most still-uncovered residents: the classic greedy heuristic for
the maximal covering location problem, which guarantees at least (1 - 1/e) of the
optimum and yields a ranked list a planner can cut at any budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray

from circles.config import TravelSettings
from circles.crs import WGS84
from circles.engine import Snapped, pair_costs, search
from circles.errors import InputError
from circles.network import WalkNetwork

if TYPE_CHECKING:  # pragma: no cover
    from circles.analysis import Measured
    from circles.result import AnalysisContext, StudyResult


@dataclass(frozen=True)
class SitingResult:
    """Recommended sites (WGS-84 points, in order of choice) and notes on what limited them."""

    sites: gpd.GeoDataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    def records(self) -> list[dict]:
        """The sites as plain rows for ``summary.json`` (longitude/latitude in WGS-84)."""
        table = self.sites.drop(columns=self.sites.geometry.name)
        table = table.assign(
            lon_wgs84=self.sites.geometry.x.round(6), lat_wgs84=self.sites.geometry.y.round(6)
        )
        return json.loads(table.to_json(orient="records", force_ascii=False))


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


def coverage_matrix(network: WalkNetwork, sites: Snapped, homes: Snapped, limit: float) -> sp.csr_matrix:
    """Which site covers which home: exact travel (plus both access legs) within ``limit``.

    Returns
    -------
    scipy.sparse.csr_matrix of bool, shape (n_sites, n_homes)
    """
    return pair_costs(network.travel_graph, sites, homes, limit).covers()


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


def _candidate_sites(
    context: AnalysisContext,
    demand: Snapped,
    limit: float,
    settings: TravelSettings,
    boundary: gpd.GeoDataFrame | None,
    candidates: gpd.GeoDataFrame | None,
    spacing_m: float,
    max_candidates: int,
) -> tuple[Snapped, np.ndarray, gpd.GeoDataFrame | None]:
    """Candidate sites snapped onto the network, their coordinates, and the candidate file's columns."""
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


def _site_table(
    chosen: np.ndarray, gain: np.ndarray, cover: sp.csr_matrix, covered_before: float, total: float
) -> dict[str, np.ndarray]:
    """Rank, gains and coverage after each chosen site."""
    remaining = np.ones(cover.shape[1], dtype=bool)
    gain_homes = []
    for j in chosen:
        hit = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
        gain_homes.append(int(remaining[hit].sum()))
        remaining[hit] = False
    after = covered_before + np.cumsum(gain)
    return {
        "rank": np.arange(1, chosen.size + 1),
        "name": np.array([f"proposed site {k}" for k in range(1, chosen.size + 1)], dtype=object),
        "gain_population": np.round(gain, 1),
        "gain_homes": np.array(gain_homes, dtype=np.int64),
        "covered_population_after": np.round(after, 1),
        "covered_share_after": np.round(after / total, 4) if total > 0 else np.full(chosen.size, np.nan),
        "method": np.full(chosen.size, "greedy", dtype=object),
    }


def choose_sites(
    measured: Measured,
    settings: TravelSettings,
    boundary: gpd.GeoDataFrame | None,
    *,
    n_sites: int = 5,
    candidates: gpd.GeoDataFrame | None = None,
    spacing_m: float = 100.0,
    max_candidates: int = 3000,
) -> SitingResult:
    """New sites for a measured study (see :func:`recommend_sites`), with notes when fewer are found."""
    if n_sites < 1:
        raise InputError(f"number of sites must be at least 1, got {n_sites}", parameter="recommend_sites")
    from circles.analysis import cost_per_min

    context, homes_table = measured.context, measured.homes
    network = context.network
    limit = settings.threshold_min * cost_per_min(network, settings)
    t = homes_table["walk_time_min"].to_numpy(float)
    demand_idx = np.flatnonzero(~(t <= settings.threshold_min) & context.homes.attached)
    weight = homes_table["population"].to_numpy(float)[demand_idx]
    demand = context.homes.subset(demand_idx)
    sites, site_xy, extra = _candidate_sites(
        context, demand, limit, settings, boundary, candidates, spacing_m, max_candidates
    )
    cover = coverage_matrix(network, sites, demand, limit)
    chosen, gain = greedy_max_cover(cover, weight, n_sites)
    total = float(homes_table["population"].sum())
    covered_before = float(homes_table["population"].to_numpy(float)[t <= settings.threshold_min].sum())
    table = _site_table(chosen, gain, cover, covered_before, total)
    out = gpd.GeoDataFrame(
        table, geometry=gpd.GeoSeries(shapely.points(site_xy[chosen]), crs=network.crs)
    ).to_crs(WGS84)
    if extra is not None:
        for col in extra.columns:
            if col not in out:
                out[col] = extra[col].to_numpy()[chosen]
    notes = _shortfall_notes(n_sites, chosen.size, demand_idx.size, len(sites), settings)
    return SitingResult(out, notes)


def _shortfall_notes(
    asked: int, found: int, demand: int, candidates: int, settings: TravelSettings
) -> tuple[str, ...]:
    if found >= asked:
        return ()
    if demand == 0:
        why = f"every home reachable over the network is already within {settings.threshold_min:g} min"
    elif candidates == 0:
        why = "no candidate site lies on the network within reach of the uncovered homes"
    else:
        why = (
            f"after {found} site(s) no candidate brings any further uncovered resident within "
            f"{settings.threshold_min:g} min (the rest are unreachable from every candidate)"
        )
    return (f"asked for {asked} new sites, recommended {found}: {why}",)


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
        ``covered_share_after``, ``method``; plus the candidate file's columns when given.
        ``attrs["notes"]`` says why fewer sites than asked were found.
    """
    from circles.analysis import Measured

    if n_sites < 1:
        raise InputError(f"number of sites must be at least 1, got {n_sites}", parameter="n_sites")
    if result.context is None:
        raise InputError("this result carries no network context; run the analysis again to recommend sites")
    measured = Measured(
        result.context, result.homes, result.facilities, result.service_areas, result.catchment_areas
    )
    siting = choose_sites(
        measured,
        result.settings,
        result.boundary,
        n_sites=n_sites,
        candidates=candidates,
        spacing_m=spacing_m,
        max_candidates=max_candidates,
    )
    siting.sites.attrs["notes"] = list(siting.notes)
    return siting.sites
