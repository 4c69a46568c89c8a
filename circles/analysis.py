"""From a network, facilities, homes and population to walking times, coverage and service areas."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from circles import __version__
from circles.areas import service_areas, service_areas_by_facility
from circles.config import TravelSettings
from circles.coverage import assign_bands, catchments, summarize
from circles.engine import NodeDistances, nearest_facility
from circles.errors import EmptyResultError
from circles.network import Snapped, WalkNetwork

NO_STREET = "no walkable street within {:g} m"
NO_PATH = "no facility reachable over the walk network (network island)"


@dataclass(frozen=True)
class AnalysisContext:
    """The network-side state of an analysis, kept for follow-up questions (new sites).

    Attributes
    ----------
    network : WalkNetwork
    facilities : Snapped
        The facilities as snapped.
    homes : Snapped
        The homes as snapped (same order as ``StudyResult.homes``).
    nodes : NodeDistances
        The multi-source search result.
    """

    network: WalkNetwork
    facilities: Snapped
    homes: Snapped
    nodes: NodeDistances


@dataclass
class StudyResult:
    """Everything one study area produces, in WGS-84 for output.

    Attributes
    ----------
    name : str
        Study-area name.
    homes : GeoDataFrame
        One row per home: ``walk_time_min``, ``nearest_facility``, ``covered``,
        ``band``, ``population``, ``access_leg_m``, ``unreachable_reason`` and the
        input's own columns.
    facilities : GeoDataFrame
        One row per facility: ``facility_id``, ``name``, ``catchment_homes``,
        ``catchment_population``, ``access_leg_m``, ``attached``.
    service_areas : GeoDataFrame
        One polygon per band: ``band_min``.
    summary : dict
        Headline figures and the parameters used.
    boundary : GeoDataFrame, optional
        The study-area outline.
    timings_s : dict
        Seconds spent per stage.
    context : AnalysisContext, optional
        Network, snapped points and node distances, for site recommendations.
    proposed_sites : GeoDataFrame, optional
        Recommended new facility sites (see :func:`circles.siting.recommend_sites`).
    catchment_areas : GeoDataFrame, optional
        Per facility, the streets it reaches first within the threshold, buffered:
        ``facility_id``, ``name``, ``catchment_homes``, ``catchment_population``.

    """

    name: str
    homes: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    summary: dict
    boundary: gpd.GeoDataFrame | None = None
    timings_s: dict = field(default_factory=dict)
    context: AnalysisContext | None = field(default=None, repr=False)
    proposed_sites: gpd.GeoDataFrame | None = None
    catchment_areas: gpd.GeoDataFrame | None = None

    def headline(self) -> str:
        """One sentence, e.g. '78% of residents (412 homes) within 15 min of 6 facilities'."""
        s = self.summary
        share = s["covered_share"]
        pct = "n/a" if share is None else f"{100 * share:.0f}%"
        return (
            f"{self.name}: {pct} of {s['population']:,.0f} residents "
            f"({s['covered_homes']} of {s['homes']} homes) live within "
            f"{s['threshold_min']:g} min walk of {s['facilities']} facilities"
        )


def analyse(
    network: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    *,
    settings: TravelSettings,
    population: np.ndarray,
    name: str,
    sources: dict | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Walking times, coverage, catchments and service areas for given inputs.

    Parameters
    ----------
    network : WalkNetwork
    facilities, homes : GeoDataFrame
        Any CRS; polygons are represented by a point on their surface.
        ``facilities`` should carry a ``name`` column.
    settings : TravelSettings
    population : ndarray
        Residents per home, aligned with ``homes``.
    name : str
        Study-area name used in outputs.
    sources : dict, optional
        Description of inputs, copied into the summary.
    boundary : GeoDataFrame, optional
        Study-area outline, for the map.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    StudyResult

    """
    timings: dict[str, float] = {}
    if len(facilities) == 0:
        raise EmptyResultError(f"{name}: no facilities to measure walking times from")
    if len(homes) == 0:
        raise EmptyResultError(f"{name}: no homes in the study area")
    step = progress or (lambda _stage: None)
    step("snapping homes and facilities to streets")
    t0 = time.perf_counter()
    fac_local = facilities.to_crs(network.crs)
    home_local = homes.to_crs(network.crs)
    fac_xy = _points_xy(fac_local)
    home_xy = _points_xy(home_local)
    fac_snap = network.snap(
        fac_xy, max_access_leg_m=settings.max_access_leg_m, min_island_m=settings.min_island_m
    )
    home_snap = network.snap(
        home_xy, max_access_leg_m=settings.max_access_leg_m, min_island_m=settings.min_island_m
    )
    timings["snap"] = time.perf_counter() - t0
    if not fac_snap.attached.any():
        raise EmptyResultError(
            f"{name}: none of the {len(facilities)} facilities lies within {settings.max_access_leg_m:g} m "
            "of a walkable street; check their coordinates (swapped longitude/latitude? another "
            "coordinate system?) or raise --max-access-leg-m"
        )
    step("searching walking times")
    t0 = time.perf_counter()
    nodes, pts = nearest_facility(network, fac_snap, home_snap)
    timings["search"] = time.perf_counter() - t0

    # Rounded once here; coverage and bands derive from the rounded value so tables agree.
    walk_time_min = np.round(
        np.where(np.isfinite(pts.dist_m), pts.dist_m / settings.speed_m_per_min, np.nan), 3
    )
    reason = np.where(
        ~home_snap.attached,
        NO_STREET.format(settings.max_access_leg_m),
        np.where(np.isnan(walk_time_min), NO_PATH, ""),
    )
    fac_ids = _facility_ids(facilities)
    out_homes = homes.to_crs("EPSG:4326").copy()
    out_homes["walk_time_min"] = walk_time_min
    out_homes["nearest_facility"] = np.where(pts.facility >= 0, fac_ids[np.clip(pts.facility, 0, None)], None)
    out_homes["covered"] = walk_time_min <= settings.threshold_min
    out_homes["band"] = assign_bands(walk_time_min, settings.bands_min)
    out_homes["population"] = np.round(population, 2)
    out_homes["access_leg_m"] = np.round(home_snap.access_leg_m, 1)
    out_homes["unreachable_reason"] = reason

    attached = fac_snap.attached
    catch = catchments(pts.facility, np.asarray(population, float), len(facilities))
    out_fac = facilities.to_crs("EPSG:4326").copy()
    out_fac.insert(0, "facility_id", fac_ids)
    out_fac["catchment_homes"] = catch["catchment_homes"].to_numpy()
    out_fac["catchment_population"] = catch["catchment_population"].to_numpy()
    out_fac["access_leg_m"] = np.round(fac_snap.access_leg_m, 1)
    out_fac["attached"] = attached

    step("drawing service areas")
    t0 = time.perf_counter()
    limits_m = [b * settings.speed_m_per_min for b in settings.bands_min]
    polygons = service_areas(network, nodes, fac_snap, limits_m, settings.area_buffer_m)
    areas = gpd.GeoDataFrame(
        {"band_min": list(settings.bands_min)},
        geometry=gpd.GeoSeries(polygons, crs=network.crs),
    ).to_crs("EPSG:4326")
    own = service_areas_by_facility(network, nodes, fac_snap, limits_m[-1], settings.area_buffer_m)
    catchment_areas = gpd.GeoDataFrame(
        out_fac[["facility_id", "catchment_homes", "catchment_population"]].assign(
            name=out_fac.get("name"), band_min=settings.threshold_min
        ),
        geometry=gpd.GeoSeries(own, crs=network.crs),
    ).to_crs("EPSG:4326")
    timings["service_areas"] = time.perf_counter() - t0

    summary = summarize(walk_time_min, population, int(attached.sum()), settings)
    summary = {
        "name": name,
        **summary,
        "facilities_not_on_network": int((~attached).sum()),
        **capacity_figures(out_fac, float(np.sum(population))),
        "homes_without_street": int((~home_snap.attached).sum()),
        "homes_on_islands_without_facility": int((home_snap.attached & np.isnan(walk_time_min)).sum()),
        "parameters": {
            "speed_kmh": settings.speed_kmh,
            "bands_min": list(settings.bands_min),
            "max_access_leg_m": settings.max_access_leg_m,
            "min_island_m": settings.min_island_m,
            "area_buffer_m": settings.area_buffer_m,
            "crs": network.crs.to_string(),
        },
        "network": {
            "nodes": network.n_nodes,
            "edges": network.n_edges,
            "length_km": round(float(network.edge_length_m.sum()) / 1000, 3),
        },
        "sources": sources or {},
        "tool": {"name": "circles", "version": __version__},
    }
    context = AnalysisContext(network, fac_snap, home_snap, nodes)
    return StudyResult(
        name, out_homes, out_fac, areas, summary, boundary, timings, context, catchment_areas=catchment_areas
    )


def capacity_figures(facilities: gpd.GeoDataFrame, population_total: float) -> dict:
    """Capacity (e.g. general practitioners) against residents, when facilities carry it.

    Parameters
    ----------
    facilities : GeoDataFrame
        Output facilities with ``attached``, ``catchment_population`` and optionally a
        numeric ``capacity`` column; adds ``capacity_per_10k_catchment`` in place.
    population_total : float
        Residents of the study area.

    Returns
    -------
    dict
        ``{"capacity": {"total": ..., "per_10k_residents": ...}}``, or ``{}`` without
        a capacity column.
    """
    if "capacity" not in facilities:
        return {}
    cap = pd.to_numeric(facilities["capacity"], errors="coerce").to_numpy(float)
    catchment = facilities["catchment_population"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_catchment = np.where(catchment > 0, cap / catchment * 10_000, np.nan)
    facilities["capacity_per_10k_catchment"] = np.round(per_catchment, 2)
    total = float(np.nansum(cap[facilities["attached"].to_numpy(bool)]))
    per_10k = round(total / population_total * 10_000, 2) if population_total > 0 else None
    return {"capacity": {"total": total, "per_10k_residents": per_10k}}


def _points_xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = frame.geometry.values
    pts = np.where(geoms.geom_type == "Point", geoms, geoms.representative_point())
    return np.column_stack([gpd.GeoSeries(pts).x, gpd.GeoSeries(pts).y])


def _facility_ids(facilities: gpd.GeoDataFrame) -> np.ndarray:
    if "osm_id" in facilities:
        return facilities["osm_id"].astype(str).to_numpy()
    return np.array([f"F{i + 1}" for i in range(len(facilities))], dtype=object)
