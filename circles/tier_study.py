"""A study with facility tiers: one :func:`~circles.analysis.measure` per tier, combined.

Each tier of a :class:`~circles.tiers.TierPlan` is measured on its own mode's network,
from its own facilities, against its own threshold. The results join the study's:

- the homes gain ``time_min_<tier>`` (NaN: unreachable), ``nearest_<tier>`` (facility
  id), ``covered_<tier>`` and ``covered_all_tiers`` (within every tier's threshold);
- the facilities gain ``tier``, and ``tier_attached``, ``tier_catchment_homes`` and
  ``tier_catchment_population`` on their tier's network;
- :class:`~circles.tier_result.TiersSummary` gives the figures per tier, the share
  meeting all tiers at once and, with sub-areas, per unit and tier: residents,
  facilities inside, residents per facility against the target;
- one service-area polygon per tier (``StudyResult.tier_areas``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.analysis import facility_ids, measure, points_xy
from circles.config import TravelSettings
from circles.coverage import residents_per_facility, summarize
from circles.crs import WGS84
from circles.engine import SearchPlan
from circles.errors import EmptyResultError
from circles.modes import TravelMode, mode_network, top_speed_kmh, travel_mode
from circles.network import WalkNetwork
from circles.residents import HomePopulation
from circles.result import BandFigure
from circles.tier_result import TierFigure, TiersSummary, TierUnitFigure
from circles.tiers import Tier, TierPlan, classify


@dataclass(frozen=True)
class TierRun:
    """What the tiers add to a study (see the module docstring)."""

    home_columns: pd.DataFrame
    facility_columns: pd.DataFrame
    areas: gpd.GeoDataFrame
    summary: TiersSummary
    timings_s: dict = field(default_factory=dict)


def tier_settings(tier: Tier, mode: TravelMode, settings: TravelSettings) -> TravelSettings:
    """The settings one tier is measured with: its threshold as the only band, its walking speed.

    Parameters
    ----------
    tier : Tier
    mode : TravelMode
    settings : TravelSettings
        The study's settings (access legs, islands, buffer).

    Returns
    -------
    TravelSettings
    """
    return TravelSettings(
        speed_kmh=mode.speed_kmh if mode.walks else mode.access_speed_kmh,
        threshold_min=tier.threshold_min,
        bands_min=(tier.threshold_min,),
        max_access_leg_m=settings.max_access_leg_m,
        min_island_m=settings.min_island_m,
        area_buffer_m=settings.area_buffer_m,
    )


def tier_modes(plan: TierPlan, settings: TravelSettings) -> dict[str, TravelMode]:
    """The travel mode of each tier, by tier name.

    Parameters
    ----------
    plan : TierPlan
    settings : TravelSettings
        Its walking speed walks every access leg.

    Returns
    -------
    dict
    """
    return {t.name: travel_mode(t.mode, plan.modes, walk_speed_kmh=settings.speed_kmh) for t in plan.tiers}


def tier_margin_m(ways: gpd.GeoDataFrame, plan: TierPlan, settings: TravelSettings) -> float:
    """How far beyond the study area inputs must reach: the farthest any tier's mode gets, plus two legs.

    Parameters
    ----------
    ways : GeoDataFrame
        Region-wide ways with ``net_<network>`` flags.
    plan : TierPlan
    settings : TravelSettings

    Returns
    -------
    float
        Metres.
    """
    modes = tier_modes(plan, settings)
    reach = max(t.threshold_min / 60 * top_speed_kmh(ways, modes[t.name]) * 1000 for t in plan.tiers)
    return reach + 2 * settings.max_access_leg_m


def run_tiers(
    ways: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    population: HomePopulation,
    settings: TravelSettings,
    plan: TierPlan,
    *,
    inside_area: np.ndarray | None = None,
    subareas: gpd.GeoDataFrame | None = None,
    walk_network: WalkNetwork | None = None,
    search_plan: SearchPlan | None = None,
    progress: Callable[[str], None] | None = None,
) -> TierRun:
    """Measure every tier and combine the results.

    Parameters
    ----------
    ways : GeoDataFrame
        The ways read for the plan's networks (``net_<network>`` columns), WGS-84.
    facilities, homes : GeoDataFrame
        Clipped study inputs (WGS-84); facilities in the same order as the study's table.
    population : HomePopulation
    settings : TravelSettings
        Access-leg cap, island size, area buffer and walking speed.
    plan : TierPlan
    inside_area : ndarray of bool, optional
        Per facility: inside the study area.
    subareas : GeoDataFrame, optional
        Administrative units (``name`` column) to report per tier.
    walk_network : WalkNetwork, optional
        The study's walk network, reused by walking tiers at the same speed.
    search_plan : SearchPlan, optional
    progress : callable, optional

    Returns
    -------
    TierRun
    """
    step = progress or (lambda _stage: None)
    modes = tier_modes(plan, settings)
    tier_of = classify(facilities, plan)
    inside = np.ones(len(facilities), bool) if inside_area is None else np.asarray(inside_area, bool)
    ids = facility_ids(facilities)
    networks: dict[str, WalkNetwork] = {}
    cols: dict[str, np.ndarray] = {}
    fac_cols = _facility_frame(tier_of)
    figures, areas, warnings = [], [], []
    timings: dict[str, float] = {}
    for tier in plan.tiers:
        t0 = time.perf_counter()
        mode = modes[tier.name]
        step(f"tier {tier.name}: {mode.name} network and times")
        if mode.name not in networks:
            reuse = walk_network is not None and mode.walks and mode.speed_kmh == settings.speed_kmh
            networks[mode.name] = walk_network if reuse else mode_network(ways, mode)
        sel = np.flatnonzero(tier_of == tier.name)
        figure, area, warning = _one_tier(
            tier,
            mode,
            networks[mode.name],
            facilities,
            ids,
            sel,
            inside,
            homes,
            population,
            settings,
            search_plan,
            cols,
            fac_cols,
        )
        figures.append(figure)
        warnings += warning
        if area is not None:
            areas.append(area)
        timings[f"tier_{tier.name}"] = time.perf_counter() - t0
    covered_all = np.logical_and.reduce([cols[f"covered_{t.name}"] for t in plan.tiers])
    cols["covered_all_tiers"] = covered_all
    pop = np.asarray(population.residents, float)
    units = (
        ()
        if subareas is None
        else _unit_figures(homes, facilities, tier_of, fac_cols, cols, pop, subareas, plan)
    )
    summary = TiersSummary(
        tiers=tuple(figures),
        all_tiers=_all_tiers(covered_all, pop),
        unclassified_facilities=int(np.isin(tier_of, [t.name for t in plan.tiers], invert=True).sum()),
        units=units,
        access_legs=_access_text(modes, settings),
        warnings=tuple(warnings),
    )
    area_frame = (
        gpd.GeoDataFrame(pd.concat(areas, ignore_index=True), crs=WGS84)
        if areas
        else gpd.GeoDataFrame({"tier": [], "mode": [], "band_min": []}, geometry=[], crs=WGS84)
    )
    return TierRun(pd.DataFrame(cols, index=homes.index), fac_cols, area_frame, summary, timings)


def _facility_frame(tier_of: np.ndarray) -> pd.DataFrame:
    n = tier_of.shape[0]
    return pd.DataFrame(
        {
            "tier": tier_of,
            "tier_attached": np.zeros(n, bool),
            "tier_catchment_homes": np.zeros(n, np.int64),
            "tier_catchment_population": np.zeros(n, float),
        }
    )


def _one_tier(
    tier: Tier,
    mode: TravelMode,
    network: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    ids: np.ndarray,
    sel: np.ndarray,
    inside: np.ndarray,
    homes: gpd.GeoDataFrame,
    population: HomePopulation,
    settings: TravelSettings,
    search_plan: SearchPlan | None,
    cols: dict[str, np.ndarray],
    fac_cols: pd.DataFrame,
) -> tuple[TierFigure, gpd.GeoDataFrame | None, list[str]]:
    """Measure one tier; fill its home and facility columns; its figure, area and warnings."""
    own = tier_settings(tier, mode, settings)
    n = len(homes)
    time_min, nearest = np.full(n, np.nan), np.full(n, None, dtype=object)
    warnings: list[str] = []
    area = measured = None
    if sel.size == 0:
        warnings.append(
            f"tier {tier.name}: no facility is classified as {tier.label()}; every home counts as not covered"
        )
    else:
        subset = facilities.iloc[sel].assign(facility_id=ids[sel])
        try:
            measured = measure(
                network,
                subset,
                homes,
                population,
                own,
                inside_area=inside[sel],
                plan=search_plan,
                catchment_areas=False,
            )
        except EmptyResultError as exc:
            warnings.append(f"tier {tier.name}: {exc.what}; every home counts as not covered")
    if measured is not None:
        time_min = measured.homes["walk_time_min"].to_numpy(float)
        nearest = measured.homes["nearest_facility"].to_numpy(object)
        table = measured.facilities
        fac_cols.loc[sel, "tier_attached"] = table["attached"].to_numpy(bool)
        fac_cols.loc[sel, "tier_catchment_homes"] = table["catchment_homes"].to_numpy()
        fac_cols.loc[sel, "tier_catchment_population"] = table["catchment_population"].to_numpy(float)
        area = measured.service_areas.assign(tier=tier.name, mode=mode.name)[
            ["tier", "mode", "band_min", "geometry"]
        ]
    cols[f"time_min_{tier.name}"] = time_min
    cols[f"nearest_{tier.name}"] = nearest
    cols[f"covered_{tier.name}"] = time_min <= tier.threshold_min  # NaN compares False
    coverage = summarize(time_min, population.residents, own)
    from circles.summary import facility_counts

    counts = (
        facility_counts(measured.facilities) if measured is not None else facility_counts(_no_facilities())
    )
    figure = TierFigure(
        name=tier.name,
        label=tier.label(),
        mode=mode.name,
        mode_description=mode.describe(),
        coverage=coverage,
        facilities=counts,
        classified=int(sel.size),
        residents_per_facility=residents_per_facility(coverage.population, counts.inside),
        target_residents_per_facility=tier.target_residents_per_facility,
    )
    return figure, area, warnings


def _no_facilities() -> pd.DataFrame:
    return pd.DataFrame({"inside_area": [], "attached": [], "catchment_homes": []})


def _all_tiers(covered_all: np.ndarray, pop: np.ndarray) -> BandFigure:
    total = float(pop.sum())
    part = float(pop[covered_all].sum())
    share = round(part / total, 4) if total > 0 else None
    return BandFigure("all tiers", None, int(covered_all.sum()), round(part, 1), share)


def _access_text(modes: dict[str, TravelMode], settings: TravelSettings) -> str:
    from circles.modes import MODES

    used = {m.name for m in modes.values() if not m.walks}
    riding = [m for m in MODES if m in used]
    text = (
        f"homes and facilities join their nearest road by a straight access leg of at most "
        f"{settings.max_access_leg_m:g} m"
    )
    if not riding:
        return text + ", walked at the tier's walking speed"
    walked = f"walked at {settings.speed_kmh:g} km/h, never ridden or driven"
    who = riding[0] if len(riding) == 1 else f"{', '.join(riding[:-1])} and {riding[-1]}"
    return text + f"; for {who} that leg is {walked}"


def _unit_figures(
    homes: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    tier_of: np.ndarray,
    fac_cols: pd.DataFrame,
    cols: dict[str, np.ndarray],
    pop: np.ndarray,
    subareas: gpd.GeoDataFrame,
    plan: TierPlan,
) -> tuple[TierUnitFigure, ...]:
    """Per (unit, tier): residents, facilities of the tier inside on its network, ratio, coverage."""
    from circles.summary import subarea_owner

    units = subareas.to_crs(WGS84)
    owner = subarea_owner(homes, units)
    fac_points = shapely.points(points_xy(facilities, WGS84))
    attached = fac_cols["tier_attached"].to_numpy(bool)
    out = []
    for i, unit in enumerate(units["name"].astype(str)):
        here = owner == i
        residents = float(pop[here].sum())
        in_unit = shapely.intersects(units.geometry.values[i], fac_points)
        for tier in plan.tiers:
            count = int((in_unit & attached & (tier_of == tier.name)).sum())
            covered = float(pop[here & cols[f"covered_{tier.name}"]].sum())
            out.append(
                TierUnitFigure(
                    unit=unit,
                    tier=tier.name,
                    residents=round(residents, 1),
                    facilities_inside=count,
                    residents_per_facility=residents_per_facility(residents, count),
                    target_residents_per_facility=tier.target_residents_per_facility,
                    covered_share=round(covered / residents, 4) if residents > 0 else None,
                )
            )
    return tuple(out)


def with_tier_columns(measured, run: TierRun):
    """The measured study (:class:`circles.analysis.Measured`) with the tiers' home and facility columns.

    Parameters
    ----------
    measured : Measured
    run : TierRun

    Returns
    -------
    Measured
    """
    from dataclasses import replace

    homes = measured.homes.copy()
    for column in run.home_columns.columns:
        homes[column] = run.home_columns[column].to_numpy()
    facilities = measured.facilities.copy()
    for column in run.facility_columns.columns:
        facilities[column] = run.facility_columns[column].to_numpy()
    return replace(measured, homes=homes, facilities=facilities)
