"""Clinic loads against targets, and access once competition for doctors is counted (E2SFCA).

The adapter between a measured study and :mod:`circles.planning.capacity`:

- per clinic: its catchment (homes whose nearest clinic it is), the residents within the
  threshold of it, the catchment's ratio to the resident target, and with a supply
  column (``capacity``, e.g. GPs) the supply per 10,000 catchment residents against
  the supply target; ``overloaded`` when over either target;
- per home: ``access_per_10k``, the enhanced two-step floating catchment score (Luo & Qi)
  on the engine's exact times (:func:`circles.engine.pair_costs`, the pairs within the
  threshold only, never a dense matrix). With a supply column it is supply per 10,000
  residents; without one every clinic counts as 1 and it reads as clinics per 10,000;
- per area and sub-area: residents per clinic, supply per 10,000 and the share of
  residents whose score is below the access target.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.config import TravelSettings
from circles.engine import pair_costs, point_costs
from circles.plan_result import CapacityOptions, LoadsSummary, UnitLoads

if TYPE_CHECKING:  # pragma: no cover
    from circles.analysis import Measured
    from circles.result import StudyResult

__all__ = ["CapacityOptions", "measure_loads", "with_loads"]


def _times(measured: Measured, settings: TravelSettings):
    """The home-by-clinic travel times within the threshold (minutes, rounded as the tables are)."""
    from circles.analysis import cost_per_min
    from circles.planning.traveltimes import TravelTimes

    ctx = measured.context
    per_min = cost_per_min(ctx.network, settings)
    pairs = pair_costs(ctx.network.travel_graph, ctx.facilities, ctx.homes, settings.threshold_min * per_min)
    return TravelTimes.from_pairs(
        pairs.point,
        pairs.source,
        np.round(pairs.cost / per_min, 3),
        n_homes=len(ctx.homes),
        n_facilities=len(ctx.facilities),
    )


def measure_loads(
    measured: Measured,
    settings: TravelSettings,
    options: CapacityOptions | None = None,
    *,
    subareas: gpd.GeoDataFrame | None = None,
) -> tuple[Measured, LoadsSummary]:
    """Loads per clinic, ``access_per_10k`` per home and the per-area figures.

    Parameters
    ----------
    measured : Measured
    settings : TravelSettings
    options : CapacityOptions, optional
    subareas : GeoDataFrame, optional
        Sub-areas with a ``name`` column (any CRS).

    Returns
    -------
    (Measured, LoadsSummary)
        The study with the new columns in its facilities and homes tables, and the figures.
    """
    from circles.planning.capacity import e2sfca, facility_loads
    from circles.planning.decay import decay_weights

    options = options or CapacityOptions()
    ctx, fac, homes = measured.context, measured.facilities, measured.homes
    has_supply = "capacity" in fac
    supply = pd.to_numeric(fac["capacity"], errors="coerce").to_numpy(float) if has_supply else None
    pop = homes["population"].to_numpy(float)
    times = _times(measured, settings)
    nearest = point_costs(ctx.nodes, ctx.facilities, ctx.homes).facility
    loads = facility_loads(
        nearest,
        pop,
        len(fac),
        times=times,
        threshold_min=settings.threshold_min,
        supply=supply,
        residents_per_facility=options.residents_per_facility,
        supply_target_per_10k=options.supply_target_per_10k,
    )
    access = e2sfca(times, pop, supply, decay_weights(options.access_decay, settings.threshold_min))
    fac = fac.copy()
    fac["population_within_threshold"] = np.round(loads.population_within, 2)
    fac["catchment_to_target"] = np.round(loads.catchment_to_target, 4)
    fac["over_resident_target"] = loads.over_resident_target
    if has_supply:
        fac["supply_per_10k"] = np.round(loads.supply_per_10k, 2)
        fac["below_supply_target"] = loads.below_supply_target
    fac["overloaded"] = loads.overloaded if has_supply else loads.over_resident_target
    homes = homes.copy()
    homes["access_per_10k"] = np.round(access.access_per_10k, 4)
    target = options.supply_target_per_10k if has_supply else 1e4 / options.residents_per_facility
    unit_supply = loads.supply
    summary = LoadsSummary(
        options=options,
        supply_column=has_supply,
        access_target_per_10k=target,
        facilities_over_resident_target=int(loads.over_resident_target.sum()),
        facilities_below_supply_target=int(loads.below_supply_target.sum()) if has_supply else None,
        area=_unit("area", homes, fac, unit_supply, target, homes_in=None, facilities_in=None),
        subareas=_subarea_units(homes, fac, unit_supply, target, subareas),
    )
    return replace(measured, homes=homes, facilities=fac), summary


def _unit(name: str, homes, fac, supply, target: float, *, homes_in, facilities_in) -> UnitLoads:
    """The loads of the homes ``homes_in`` and the clinics ``facilities_in`` (None: all, inside the area)."""
    pop = homes["population"].to_numpy(float)
    access = homes["access_per_10k"].to_numpy(float)
    sel = np.ones(len(homes), dtype=bool) if homes_in is None else homes_in
    serving = fac["attached"].to_numpy(bool).copy()
    serving &= fac["inside_area"].to_numpy(bool) if facilities_in is None else facilities_in
    residents = float(pop[sel].sum())
    n = int(serving.sum())
    total_supply = float(supply[serving].sum())
    below = float(pop[sel & (access < target)].sum())
    return UnitLoads(
        name=name,
        population=residents,
        facilities=n,
        residents_per_facility=residents / n if n else None,
        supply=total_supply,
        supply_per_10k=1e4 * total_supply / residents if residents > 0 else None,
        share_below_access_target=below / residents if residents > 0 else None,
    )


def _subarea_units(homes, fac, supply, target: float, subareas) -> tuple[UnitLoads, ...]:
    """:func:`_unit` for every sub-area, homes by a point on their surface, clinics by their point."""
    if subareas is None:
        return ()
    from circles.summary import subarea_owner

    sub = subareas.to_crs("EPSG:4326")
    owner = subarea_owner(homes, sub)
    points = shapely.point_on_surface(fac.geometry.values)
    return tuple(
        _unit(
            str(name),
            homes,
            fac,
            supply,
            target,
            homes_in=owner == i,
            facilities_in=shapely.intersects(sub.geometry.values[i], points),
        )
        for i, name in enumerate(sub["name"])
    )


def with_loads(
    result: StudyResult, options: CapacityOptions | None = None, *, subareas: gpd.GeoDataFrame | None = None
) -> StudyResult:
    """A finished study with its clinic loads and ``access_per_10k`` (see :func:`measure_loads`).

    Parameters
    ----------
    result : StudyResult
        With its network context.
    options : CapacityOptions, optional
    subareas : GeoDataFrame, optional

    Returns
    -------
    StudyResult
        New ``homes`` and ``facilities`` tables and ``summary.loads``.
    """
    from circles.analysis import Measured
    from circles.errors import InputError

    if result.context is None:
        raise InputError("this result carries no network context; run the analysis again for its loads")
    measured = Measured(
        result.context, result.homes, result.facilities, result.service_areas, result.catchment_areas
    )
    measured, loads = measure_loads(measured, result.settings, options, subareas=subareas)
    return result.with_(
        homes=measured.homes, facilities=measured.facilities, summary=result.summary.with_(loads=loads)
    )
