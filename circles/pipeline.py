"""One study area end to end: clip region-wide inputs to the area, check they cover it, analyse.

:func:`run_study` assembles the :class:`~circles.result.StudyResult` in one place, from
the steps of :mod:`circles.analysis`, the checks of :mod:`circles.diagnostics` and, when
asked, new sites from :mod:`circles.siting`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from circles.analysis import Measured, measure, points_xy, surface_xy
from circles.config import TravelSettings
from circles.crs import WGS84
from circles.engine import SearchPlan
from circles.errors import InputError
from circles.network import WalkNetwork
from circles.plan_result import CapacityOptions, SitingOptions
from circles.planning_steps import loads_and_sites, scenario_step
from circles.result import StudyResult
from circles.sources.assemble import Inputs, SourceSpec, load_inputs
from circles.study_area import (
    PopulationSpec,
    clip_inputs,
    home_population,
    reach_margin_m,
)
from circles.study_checks import (
    check_not_empty,
    coordinate_warnings,
    facility_warnings,
    network_coverage,
    population_warnings,
)
from circles.tiers import TierPlan
from circles.what_if_result import WhatIfOptions

__all__ = ["Inputs", "PopulationSpec", "osm_inputs", "reach_margin_m", "run_osm", "run_study"]


def run_study(
    inputs: Inputs,
    *,
    name: str,
    boundary: gpd.GeoDataFrame | None = None,
    subareas: gpd.GeoDataFrame | None = None,
    settings: TravelSettings | None = None,
    population: PopulationSpec | None = None,
    recommend_sites: int = 0,
    candidates: gpd.GeoDataFrame | None = None,
    allow_partial: bool = False,
    plan: SearchPlan | None = None,
    progress: Callable[[str], None] | None = None,
    tiers: TierPlan | None = None,
    siting: SitingOptions | None = None,
    capacity: CapacityOptions | None = None,
    what_if: WhatIfOptions | None = None,
) -> StudyResult:
    """Analyse one study area end to end.

    Parameters
    ----------
    inputs : Inputs
        Region-wide layers (WGS-84); clipped here.
    name : str
        Study-area name for outputs.
    boundary : GeoDataFrame, optional
        The study area (WGS-84, one or more polygons). Without it the whole input is
        the study area.
    subareas : GeoDataFrame, optional
        Smaller areas (e.g. sub-districts, 街道) with a ``name`` column.
    settings : TravelSettings, optional
    population : PopulationSpec, optional
    recommend_sites : int
        Recommend this many new facility sites (0: none): maximal covering, exact with
        HiGHS (shorthand for ``siting=SitingOptions(n_sites=...)``).
    candidates : GeoDataFrame, optional
        The planner's candidate sites; default network nodes near the gaps.
    allow_partial : bool
        Go on when the network covers less than half of the area or most facilities
        within reach are off the network (the result is flagged partial).
    plan : SearchPlan, optional
        How bounded searches run (the result does not depend on it).
    progress : callable, optional
        Called with the name of each stage as it starts.
    tiers : TierPlan, optional
        Facility tiers, each with its threshold and travel mode (see
        :mod:`circles.tier_study`); ``inputs.walkways`` must hold the ways of their modes.
    siting : SitingOptions, optional
        New sites: how many, full coverage (LSCP), a resident cap per facility
        (capacitated), the solver and its time limit (see :func:`circles.siting.choose_sites`).
    capacity : CapacityOptions, optional
        Targets of the clinic loads and the decay of ``access_per_10k`` (see
        :mod:`circles.loads`); measured with these, or the defaults when the facilities
        carry a ``capacity`` column; otherwise not measured.
    what_if : WhatIfOptions, optional
        Facilities added and removed: the result describes the changed set, and
        ``summary.what_if`` / ``what_if_homes`` compare it with the baseline (see
        :mod:`circles.what_if`). Not with ``tiers``.

    Returns
    -------
    StudyResult
    """
    if siting is None and recommend_sites:
        siting = SitingOptions(n_sites=recommend_sites)
    settings = settings or TravelSettings()
    population = population or PopulationSpec()
    step = progress or (lambda _stage: None)
    step("clipping inputs to the study area")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    area = _area_of(boundary, name)
    inputs, _reach, coverage_share, warnings = _within_reach(
        inputs,
        area,
        settings,
        name,
        allow_partial=allow_partial,
        margin_m=_tier_margin(inputs, tiers, settings),
    )
    timings["clip"] = time.perf_counter() - t0
    measured, pop, inside, found, times = _measure_area(inputs, area, population, settings, plan, progress)
    warnings += found
    timings.update(times)
    warnings += facility_warnings(measured, inputs, settings, allow_partial=allow_partial)
    planned = scenario_step(
        measured, inputs.facilities, inputs.homes, pop, settings, what_if,
        area=area, subareas=subareas, plan=plan, with_tiers=tiers is not None, step=step,
    )  # fmt: skip
    measured, tier_run = _measure_tiers(
        planned.measured, inputs, pop, settings, tiers, inside, subareas, plan, progress
    )
    if tier_run is not None:
        warnings += list(tier_run.summary.warnings)
        timings.update(tier_run.timings_s)
    planned = loads_and_sites(
        planned, measured, settings, boundary=boundary, subareas=subareas, capacity=capacity,
        siting=siting, candidates=candidates, step=step,
    )  # fmt: skip
    measured, warnings = planned.measured, warnings + list(planned.notes)
    timings.update(planned.timings_s)
    summary = _summarise(name, measured, pop, settings, coverage_share, subareas, warnings, inputs)
    summary = planned.summary(summary if tier_run is None else summary.with_(tiers=tier_run.summary))
    result = measured.result(
        name, settings, summary, boundary=boundary, proposed_sites=planned.sites, timings_s=timings
    )
    result = planned.result(result)
    return result if tier_run is None else result.with_(tier_areas=tier_run.areas)


def _measure_area(
    inputs: Inputs,
    area,
    population: PopulationSpec,
    settings: TravelSettings,
    plan: SearchPlan | None,
    progress: Callable[[str], None] | None,
) -> tuple[Measured, object, np.ndarray | None, list[str], dict[str, float]]:
    """The area's network, residents per home and every home's trip to its nearest facility.

    Returns the measured study, the population estimate, which facilities lie inside the
    area (None without one), the warnings found on the way and the stages' timings.
    """
    step = progress or (lambda _stage: None)
    step("building the walk network")
    t0 = time.perf_counter()
    network = _network_of(inputs.walkways)
    timings = {"build_network": time.perf_counter() - t0}
    warnings = coordinate_warnings(network, inputs)
    local_homes = inputs.homes.geometry.to_crs(network.crs)  # projected once: floor areas and snapping
    pop = home_population(inputs.homes, population, area, projected=local_homes)
    warnings += population_warnings(inputs.homes, pop.residents, population, area)
    inside = (
        None
        if area is None
        else shapely.intersects(area, shapely.points(points_xy(inputs.facilities, WGS84)))
    )
    measured = measure(
        network,
        inputs.facilities,
        inputs.homes,
        pop,
        settings,
        inside_area=inside,
        plan=plan,
        progress=progress,
        home_xy=surface_xy(local_homes.values),
    )
    timings.update(measured.timings_s)
    return measured, pop, inside, warnings, timings


def _summarise(name, measured: Measured, pop, settings, coverage_share, subareas, warnings, inputs: Inputs):
    """The area's typed summary, with its sub-areas, warnings and sources."""
    from circles.summary import build_summary, subarea_summaries

    subs = (
        () if subareas is None else subarea_summaries(measured.homes, measured.facilities, subareas, settings)
    )
    return build_summary(
        name,
        measured,
        pop,
        settings,
        network_coverage_of_area=coverage_share,
        subareas=subs,
        warnings=tuple(warnings),
        sources={**inputs.sources, "population": pop.info.method},
    )


def _tier_margin(inputs: Inputs, tiers: TierPlan | None, settings: TravelSettings) -> float | None:
    """How far the tiers' modes reach beyond the area, metres (None without tiers)."""
    if tiers is None:
        return None
    from circles.tier_study import tier_margin_m

    return tier_margin_m(inputs.walkways, tiers, settings)


def _measure_tiers(
    measured: Measured,
    inputs: Inputs,
    pop,
    settings: TravelSettings,
    tiers: TierPlan | None,
    inside,
    subareas: gpd.GeoDataFrame | None,
    plan: SearchPlan | None,
    progress: Callable[[str], None] | None,
):
    """The measured study with the tiers' columns added, and the tiers' run (None without tiers)."""
    if tiers is None:
        return measured, None
    from circles.tier_study import run_tiers, with_tier_columns

    run = run_tiers(
        inputs.walkways,
        inputs.facilities,
        inputs.homes,
        pop,
        settings,
        tiers,
        inside_area=inside,
        subareas=subareas,
        walk_network=measured.context.network,
        search_plan=plan,
        progress=progress,
    )
    return with_tier_columns(measured, run), run


def _area_of(boundary: gpd.GeoDataFrame | None, name: str):
    """The study area as one WGS-84 geometry (None: the whole input)."""
    if boundary is None:
        return None
    area = shapely.union_all(boundary.to_crs(WGS84).geometry.values)
    if area.is_empty:
        raise InputError("the study-area boundary is empty", where=name, parameter="boundary")
    return area


def _within_reach(
    inputs: Inputs,
    area,
    settings: TravelSettings,
    name: str,
    *,
    allow_partial: bool,
    margin_m: float | None = None,
) -> tuple[Inputs, object, float | None, list[str]]:
    """Inputs clipped to the area and its margin, checked to be there and to cover it."""
    region, reach = inputs.source_extent or inputs, None  # an extract: the whole source's extents
    if area is not None:
        inputs, reach = clip_inputs(inputs, area, settings, margin_m=margin_m)
    check_not_empty(name, inputs, region, area, settings)
    share, warnings = network_coverage(name, region, area, reach, allow_partial=allow_partial)
    return inputs, reach, share, warnings


def _network_of(walkways: gpd.GeoDataFrame) -> WalkNetwork:
    """The walk network of the clipped walkways (tunnels, bridges and indoor ways not snapped onto)."""
    if "net_walk" in walkways:  # read for more modes than walking: their walkable ways
        walkways = walkways[walkways["net_walk"].to_numpy(bool)]
    level = walkways["street_level"].fillna(True).to_numpy(bool) if "street_level" in walkways else None
    return WalkNetwork.from_lines(walkways.geometry.values, street_level=level)


def osm_inputs(
    osm_path: str | Path, *, facilities: str = "primary-care", networks: tuple[str, ...] = ("walk",)
) -> Inputs:
    """Walkways, tagged facilities and residential homes from one OSM file.

    Parameters
    ----------
    osm_path : str or Path
        ``.osm.pbf`` or ``.osm``/``.xml`` file.
    facilities : str
        Facility preset or ``key=value`` tags.
    networks : tuple of str
        Networks to read ways for (see :func:`circles.sources.osm.read_osm`).

    Returns
    -------
    Inputs
    """
    kind = "osm" if Path(osm_path).suffix.lower() in (".osm", ".xml") else "pbf"
    spec = SourceSpec(network=kind, network_path=Path(osm_path), facilities=f"osm:{facilities}")
    return load_inputs(spec, networks=networks)


def run_osm(
    osm_path: str | Path,
    *,
    facilities: str = "primary-care",
    settings: TravelSettings | None = None,
    population: PopulationSpec | None = None,
    name: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    recommend_sites: int = 0,
    progress: Callable[[str], None] | None = None,
    tiers: TierPlan | None = None,
) -> StudyResult:
    """Analyse an OSM extract: its walk network, tagged facilities and residential buildings.

    Parameters
    ----------
    osm_path : str or Path
        ``.osm.pbf`` or ``.osm``/``.xml`` file.
    facilities : str
        Facility preset name or ``key=value`` tags (see :func:`circles.config.facility_preset`).
    settings : TravelSettings, optional
        Speed, threshold, bands and snapping limits.
    population : PopulationSpec, optional
        How residents per home are found; default a floor-area estimate.
    name : str, optional
        Study-area name; default the file name.
    boundary : GeoDataFrame, optional
        Study area; default the whole extract.
    recommend_sites : int
        Recommend this many new facility sites (0: none); they reach every output.
    progress : callable, optional
        Called with the name of each stage as it starts.
    tiers : TierPlan, optional
        Facility tiers with their thresholds and modes (the ways of their modes are read too).

    Returns
    -------
    StudyResult
    """
    osm_path = Path(osm_path)
    t0 = time.perf_counter()
    inputs = osm_inputs(
        osm_path, facilities=facilities, networks=("walk",) if tiers is None else tiers.networks
    )
    t_read = time.perf_counter() - t0
    result = run_study(
        inputs,
        name=name or osm_path.name.split(".")[0],
        boundary=boundary,
        settings=settings,
        population=population,
        recommend_sites=recommend_sites,
        progress=progress,
        tiers=tiers,
    )
    return result.with_(timings_s={"read_osm": t_read, **result.timings_s})
