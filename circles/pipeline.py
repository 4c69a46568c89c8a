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
from circles.errors import EmptyResultError, InputError
from circles.network import WalkNetwork
from circles.plan_result import CapacityOptions, SitingOptions
from circles.planning_steps import loads_and_sites, scenario_step
from circles.result import StudyResult
from circles.sources.assemble import Inputs, SourceSpec, load_inputs
from circles.study_area import (
    PopulationSpec,
    area_km2,
    clip_inputs,
    extent_text,
    home_population,
    reach_margin_m,
    swap_hint,
)
from circles.tiers import TierPlan
from circles.what_if_result import WhatIfOptions

__all__ = ["Inputs", "PopulationSpec", "osm_inputs", "reach_margin_m", "run_osm", "run_study"]


def _check_not_empty(name: str, inputs: Inputs, region: Inputs, area, settings: TravelSettings) -> None:
    if len(inputs.walkways) == 0:
        raise EmptyResultError(
            f"no walkable streets within reach of the study area ({extent_text(area)}); the network "
            f"source covers {extent_text(region.walkways)}{swap_hint(area, region.walkways)}",
            where=name,
        )
    if len(inputs.facilities) == 0:
        raise EmptyResultError(
            f"no facilities in or within {settings.longest_band_min:g} min of the study area; the "
            f"facilities lie in {extent_text(region.facilities)}"
            f"{swap_hint(region.facilities, region.walkways)}",
            where=name,
            parameter="facilities",
            fix="check their coordinates and coordinate system",
        )
    if len(inputs.homes) == 0:
        raise EmptyResultError("no homes inside the study area", where=name, parameter="homes")


def network_coverage(
    name: str, region: Inputs, area, reach, *, allow_partial: bool
) -> tuple[float | None, list[str]]:
    """Share of the area plus its margin that the network source covers, with warnings.

    Below 98% of the area with its margin the result is partial (a warning); below 50%
    of the area itself the run stops unless ``allow_partial``.
    """
    from circles.diagnostics import MIN_AREA_COVERED, network_extent, share_covered

    if area is None:
        return None, []
    extent = network_extent(region.walkways.geometry.values)
    of_area = share_covered(extent, area)
    of_reach = share_covered(extent, reach)
    if of_area < MIN_AREA_COVERED and not allow_partial:
        raise InputError(
            f"the network source covers only {100 * of_area:.0f}% of the study area ({extent_text(area)}; "
            f"the network: {extent_text(region.walkways)}), so its figures would describe part of it",
            where=name,
            parameter="allow_partial",
            fix="use an extract that covers the whole area, or accept a partial result with `allow_partial`",
        )
    if of_reach >= 0.98:
        return round(of_reach, 4), []
    return round(of_reach, 4), [
        f"PARTIAL RESULT: the network source covers {100 * of_area:.0f}% of the study area and "
        f"{100 * of_reach:.0f}% of the area with its walking margin; residents and clinics beyond it are "
        "missing, so coverage is understated near its edges: use an extract that covers the area plus "
        "its walking margin"
    ]


def coordinate_warnings(network: WalkNetwork, inputs: Inputs) -> list[str]:
    """Warnings for planner files whose points fit the streets better in another coordinate system."""
    from circles.diagnostics import coordinate_system_warning
    from circles.sources.coords import parse_coordinate_system

    warnings: list[str] = []
    if not inputs.declared_crs:
        return warnings  # no planner's file: nothing to check (and no buildings to project)
    buildings = None if inputs.buildings is None else inputs.buildings.to_crs(network.crs).geometry.values
    parameters = {"facilities": "`facility_options.crs`", "homes": "`home_options.crs`"}
    for layer, declared in (inputs.declared_crs or {}).items():
        frame = getattr(inputs, layer)
        lon, lat = points_xy(frame, WGS84).T
        text = coordinate_system_warning(
            network,
            lon,
            lat,
            declared=parse_coordinate_system(declared),
            what=f"{layer} from {inputs.sources.get(layer, 'file')}",
            buildings_local=buildings,
            parameter=parameters.get(layer, "`crs`"),
        )
        if text:
            warnings.append(text)
    return warnings


def population_warnings(
    homes: gpd.GeoDataFrame, residents: np.ndarray, spec: PopulationSpec, area
) -> list[str]:
    """Warnings when estimated residents are implausible: mostly from bare land, or too dense."""
    from circles.diagnostics import density_warning

    if spec.column or spec.raster or spec.total is not None:
        return []
    out = []
    total = float(np.sum(residents))
    if "building" in homes and total > 0:
        on_land = (homes["building"] == "landuse").to_numpy(bool)
        share = float(np.sum(residents[on_land])) / total
        if share > 0.5:
            ratio = spec.settings.default_levels.get("landuse", spec.settings.fallback_levels)
            out.append(
                f"{100 * share:.0f}% of the estimated residents live on residential land with no mapped "
                f"buildings, where the estimate assumes a plot ratio of {ratio:g}; give `population.total`, "
                "`population.raster` or `population.column` for real figures"
            )
    if area is not None:
        text = density_warning(total, area_km2(area), estimated=True)
        if text:
            out.append(text)
    return out


def facility_warnings(
    measured: Measured, inputs: Inputs, settings: TravelSettings, *, allow_partial: bool
) -> list[str]:
    """A warning (or, when most are off, an error) for facilities within reach that attach to no street."""
    from circles.diagnostics import facilities_off_network_warning

    attached = measured.context.facilities.attached
    text, fatal = facilities_off_network_warning(
        attached, inputs.sources.get("facilities", "facilities"), settings.max_access_leg_m
    )
    if fatal and not allow_partial:
        raise InputError(
            text or "", parameter="allow_partial", fix="or accept a partial result with `allow_partial`"
        )
    return [text] if text else []


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
    from circles.summary import build_summary, subarea_summaries

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
    step("building the walk network")
    t0 = time.perf_counter()
    network = _network_of(inputs.walkways)
    timings["build_network"] = time.perf_counter() - t0
    warnings += coordinate_warnings(network, inputs)
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
    subs = (
        () if subareas is None else subarea_summaries(measured.homes, measured.facilities, subareas, settings)
    )
    summary = build_summary(
        name,
        measured,
        pop,
        settings,
        network_coverage_of_area=coverage_share,
        subareas=subs,
        warnings=tuple(warnings),
        sources={**inputs.sources, "population": pop.info.method},
    )
    summary = planned.summary(summary if tier_run is None else summary.with_(tiers=tier_run.summary))
    result = measured.result(
        name, settings, summary, boundary=boundary, proposed_sites=planned.sites, timings_s=timings
    )
    result = planned.result(result)
    return result if tier_run is None else result.with_(tier_areas=tier_run.areas)


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
    _check_not_empty(name, inputs, region, area, settings)
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
