"""The summary of a study area: coverage, facilities serving it, capacity, provenance.

Built once from the measured tables (:class:`circles.analysis.Measured`); sub-areas are
summarised with the same figures (:func:`subarea_summaries`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.config import TravelSettings
from circles.coverage import residents_per_facility, summarize
from circles.errors import InputError
from circles.residents import HomePopulation
from circles.result import FacilityCounts, SubareaSummary, Summary

if TYPE_CHECKING:  # pragma: no cover
    from circles.analysis import Measured

OUTSIDE_SUBAREAS = "(outside sub-areas)"


def facility_counts(facilities: gpd.GeoDataFrame, served: np.ndarray | None = None) -> FacilityCounts:
    """Facilities inside the area (on the network), in its margin serving its homes, and unattached.

    Parameters
    ----------
    facilities : GeoDataFrame
        With ``inside_area``, ``attached`` and ``catchment_homes``.
    served : ndarray of bool, optional
        Per facility: nearest to at least one home of the area (default: ``catchment_homes > 0``).
    """
    inside = facilities["inside_area"].to_numpy(bool)
    attached = facilities["attached"].to_numpy(bool)
    if served is None:
        served = facilities["catchment_homes"].to_numpy() > 0
    return FacilityCounts(
        inside=int((inside & attached).sum()),
        margin_serving=int((~inside & attached & served).sum()),
        unattached=int((~attached).sum()),
    )


def capacity_figures(facilities: gpd.GeoDataFrame, population_total: float) -> tuple[dict, np.ndarray | None]:
    """Capacity (e.g. general practitioners) against residents, when facilities carry it.

    Parameters
    ----------
    facilities : GeoDataFrame
        The measured facilities (``capacity``, ``catchment_population``, ``attached``,
        ``inside_area``); only those on the network inside the area count in the total.
    population_total : float
        Residents of the study area (the denominator of ``per_10k_residents``).

    Returns
    -------
    (dict, ndarray or None)
        ``{"total": ..., "per_10k_residents": ...}`` (empty without a ``capacity``
        column) and the capacity per 10,000 catchment residents of each facility.
    """
    if "capacity" not in facilities:
        return {}, None
    cap = pd.to_numeric(facilities["capacity"], errors="coerce").to_numpy(float)
    catchment = facilities["catchment_population"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_catchment = np.where(catchment > 0, cap / catchment * 10_000, np.nan)
    serving = facilities["attached"].to_numpy(bool) & facilities["inside_area"].to_numpy(bool)
    total = float(np.nansum(cap[serving]))
    per_10k = round(total / population_total * 10_000, 2) if population_total > 0 else None
    return {"total": total, "per_10k_residents": per_10k}, np.round(per_catchment, 2)


def network_figures(measured: Measured) -> dict:
    """Size of the network the times were computed on.

    Parameters
    ----------
    measured : Measured
        The measured study, whose network is described.
    """
    net = measured.context.network
    return {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "length_km": round(float(net.edge_length_m.sum()) / 1000, 3),
        "crs": net.crs.to_string(),
    }


def build_summary(
    name: str,
    measured: Measured,
    population: HomePopulation,
    settings: TravelSettings,
    *,
    network_coverage_of_area: float | None = None,
    subareas: tuple[SubareaSummary, ...] = (),
    warnings: tuple[str, ...] = (),
    sources: dict | None = None,
    extra: dict | None = None,
) -> Summary:
    """The summary of a measured study area.

    Parameters
    ----------
    name : str
    measured : Measured
    population : HomePopulation
    settings : TravelSettings
    network_coverage_of_area : float, optional
        Share of the area plus margin covered by the network source.
    subareas : tuple of SubareaSummary
    warnings : tuple of str
    sources : dict, optional
    extra : dict, optional
        Further sections written as they are (proposed sites, fingerprint).

    Returns
    -------
    Summary
    """
    homes, facilities = measured.homes, measured.facilities
    t = homes["walk_time_min"].to_numpy(float)
    coverage = summarize(t, population.residents, settings)  # unrounded residents: exact totals
    counts = facility_counts(facilities)
    capacity, _per_catchment = capacity_figures(facilities, coverage.population)
    attached = measured.context.homes.attached
    fac_attached = np.asarray(measured.context.facilities.attached, dtype=bool)
    off_share = round(float(np.mean(~fac_attached)), 4) if fac_attached.size else None
    return Summary(
        name=name,
        coverage=coverage,
        facilities=counts,
        residents_per_facility=residents_per_facility(coverage.population, counts.inside),
        population=population.info,
        settings=settings,
        network=network_figures(measured),
        network_coverage_of_area=network_coverage_of_area,
        facilities_off_network_share=off_share,
        homes_without_street=int((~attached).sum()),
        homes_on_islands_without_facility=int((attached & np.isnan(t)).sum()),
        capacity=capacity,
        subareas=subareas,
        warnings=tuple(warnings),
        sources=dict(sources or {}),
        extra=dict(extra or {}),
    )


def subarea_owner(homes: gpd.GeoDataFrame, subareas: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the sub-area holding each home's point on surface (-1: none; ties: the first listed).

    Parameters
    ----------
    homes : GeoDataFrame
        The homes (any CRS).
    subareas : GeoDataFrame
        The sub-areas (any CRS); the index is their position in this frame.
    """
    points = shapely.point_on_surface(homes.to_crs("EPSG:4326").geometry.values)
    tree = shapely.STRtree(subareas.to_crs("EPSG:4326").geometry.values)
    home_idx, sub_idx = tree.query(points, predicate="within")
    owner = np.full(len(homes), -1, dtype=np.int64)
    order = np.lexsort((sub_idx, home_idx))
    home_idx, sub_idx = home_idx[order], sub_idx[order]
    first = np.ones(home_idx.size, dtype=bool)
    first[1:] = home_idx[1:] != home_idx[:-1]
    owner[home_idx[first]] = sub_idx[first]
    return owner


def subarea_summaries(
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    subareas: gpd.GeoDataFrame,
    settings: TravelSettings,
) -> tuple[SubareaSummary, ...]:
    """Coverage per sub-area (e.g. sub-district): homes assigned by a point on their surface.

    Facilities count as inside a sub-area when they lie in it and are on the network;
    as serving it from outside when they are the nearest facility of one of its homes.

    Parameters
    ----------
    homes, facilities : GeoDataFrame
        The study's output tables (WGS-84).
    subareas : GeoDataFrame
        Polygons with a ``name`` column (any CRS).
    settings : TravelSettings

    Returns
    -------
    tuple of SubareaSummary
        In the order of ``subareas``; homes in no sub-area are summarised as
        ``"(outside sub-areas)"`` when there are any.
    """
    if "name" not in subareas:
        raise InputError(
            "sub-areas need a 'name' column",
            parameter="name_field",
            scope="subareas",
            fix="choose it with `name_field`",
        )
    sub = subareas.to_crs("EPSG:4326")
    owner = subarea_owner(homes, sub)
    t = homes["walk_time_min"].to_numpy(float)
    pop = homes["population"].to_numpy(float)
    nearest = homes["nearest_facility"].to_numpy(object)
    fac_points = shapely.point_on_surface(facilities.geometry.values)
    fac_ids = facilities["facility_id"].to_numpy(object)
    attached = facilities["attached"].to_numpy(bool)
    groups = [(str(n), i) for i, n in enumerate(sub["name"])]
    if (owner < 0).any():
        groups.append((OUTSIDE_SUBAREAS, -1))
    out = []
    for sub_name, i in groups:
        sel = owner == i
        inside = (
            shapely.intersects(sub.geometry.values[i], fac_points) if i >= 0 else np.zeros(len(fac_ids), bool)
        )
        served = np.isin(fac_ids, nearest[sel])
        counts = FacilityCounts(
            inside=int((inside & attached).sum()),
            margin_serving=int((~inside & attached & served).sum()),
            unattached=int((inside & ~attached).sum()),
        )
        coverage = summarize(t[sel], pop[sel], settings)
        out.append(
            SubareaSummary(
                sub_name, coverage, counts, residents_per_facility(coverage.population, counts.inside)
            )
        )
    return tuple(out)
