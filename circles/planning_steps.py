"""The planning steps of one study run: a what-if scenario, clinic loads, new sites.

:func:`circles.pipeline.run_study` calls :func:`scenario_step` right after the baseline is
measured (the rest of the run describes the scenario) and :func:`loads_and_sites` once the
study is complete; :class:`Planned` attaches what they found to the summary and the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd

from circles.config import TravelSettings
from circles.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from circles.analysis import Measured
    from circles.engine import SearchPlan
    from circles.plan_result import CapacityOptions, LoadsSummary, SitingOptions
    from circles.residents import HomePopulation
    from circles.result import StudyResult, Summary
    from circles.siting import SitingResult
    from circles.what_if_result import WhatIfOptions, WhatIfSummary


@dataclass(frozen=True)
class Planned:
    """What the planning steps found, to attach to the summary and the result."""

    measured: Measured
    what_if: WhatIfSummary | None = None
    what_if_homes: gpd.GeoDataFrame | None = None
    loads: LoadsSummary | None = None
    siting: SitingResult | None = None
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def notes(self) -> tuple[str, ...]:
        """Warnings of the steps (the siting's)."""
        return () if self.siting is None else self.siting.notes

    @property
    def sites(self) -> gpd.GeoDataFrame | None:
        """The proposed sites, when asked for."""
        return None if self.siting is None else self.siting.sites

    def summary(self, summary: Summary) -> Summary:
        """``summary`` with the steps' sections.

        Parameters
        ----------
        summary : Summary
            The run's summary, to which the what-if, loads and siting sections are added.
        """
        return summary.with_(
            what_if=self.what_if,
            loads=self.loads,
            siting=None if self.siting is None else self.siting.summary,
        )

    def result(self, result: StudyResult) -> StudyResult:
        """``result`` with the what-if homes.

        Parameters
        ----------
        result : StudyResult
            The run's result; returned unchanged when no scenario was measured.
        """
        return result if self.what_if_homes is None else result.with_(what_if_homes=self.what_if_homes)


def scenario_step(
    measured: Measured,
    facilities: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    population: HomePopulation,
    settings: TravelSettings,
    options: WhatIfOptions | None,
    *,
    area=None,
    subareas: gpd.GeoDataFrame | None = None,
    plan: SearchPlan | None = None,
    with_tiers: bool = False,
    step: Callable[[str], None] = lambda _stage: None,
) -> Planned:
    """The what-if scenario measured (the baseline unchanged when none is asked).

    Parameters
    ----------
    measured : Measured
        The baseline analysis.
    facilities : GeoDataFrame
        The facilities the baseline was measured from.
    homes : GeoDataFrame
        The homes the baseline was measured from.
    population : HomePopulation
        Residents per home of the baseline.
    settings : TravelSettings
        Speed, threshold and bands of the run.
    options : WhatIfOptions or None
        The facilities to add and remove; None (or nothing asked) keeps the baseline.
    area : shapely geometry, optional
        The study area (WGS-84); facilities outside it count as nearby.
    subareas : GeoDataFrame, optional
        Sub-areas to compare the scenario in (a ``name`` column).
    plan : SearchPlan, optional
        How the network search is bounded (never changes the times found).
    with_tiers : bool
        Whether the run has facility tiers; a scenario is refused with them.
    step : callable
        Called with a description of each stage as it starts (progress reporting).
    """
    if options is None or not options.asked:
        return Planned(measured)
    if with_tiers:
        raise InputError(
            "what-if scenarios compare the walking analysis; they do not take facility tiers",
            parameter="tiers",
            fix="leave out the tiers, or run the scenario without `add_facilities`/`remove_facilities`",
        )
    from circles.what_if import run_scenario

    step("measuring the what-if scenario")
    t0 = time.perf_counter()
    scenario, summary, changed = run_scenario(
        measured, facilities, homes, population, settings, options, area=area, subareas=subareas, plan=plan
    )
    return Planned(scenario, summary, changed, timings_s={"what_if": time.perf_counter() - t0})


def loads_and_sites(
    planned: Planned,
    measured: Measured,
    settings: TravelSettings,
    *,
    boundary: gpd.GeoDataFrame | None = None,
    subareas: gpd.GeoDataFrame | None = None,
    capacity: CapacityOptions | None = None,
    siting: SitingOptions | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    step: Callable[[str], None] = lambda _stage: None,
) -> Planned:
    """Clinic loads (with ``capacity`` or a supply column) and new sites (when asked) of ``measured``.

    Parameters
    ----------
    planned : Planned
        What :func:`scenario_step` found; its loads, siting and timings are replaced.
    measured : Measured
        The analysis to measure loads and choose sites on (the scenario's, when there is one).
    settings : TravelSettings
        Speed, threshold and bands of the run.
    boundary : GeoDataFrame, optional
        The study area; default candidate sites lie inside it.
    subareas : GeoDataFrame, optional
        Sub-areas to summarise the loads in (a ``name`` column).
    capacity : CapacityOptions, optional
        Resident and supply targets and the access decay; loads are measured when it is
        given or the facilities carry a ``capacity`` column.
    siting : SitingOptions, optional
        How many new sites to propose and how; no sites when None or nothing is asked.
    candidates : GeoDataFrame, optional
        The planner's candidate sites; None for network nodes near the homes.
    step : callable
        Called with a description of each stage as it starts (progress reporting).
    """
    from dataclasses import replace

    timings = dict(planned.timings_s)
    loads = chosen = None
    if capacity is not None or "capacity" in measured.facilities:
        from circles.loads import measure_loads

        step("measuring clinic loads and access")
        t0 = time.perf_counter()
        measured, loads = measure_loads(measured, settings, capacity, subareas=subareas)
        timings["loads"] = time.perf_counter() - t0
    if siting is not None and siting.asked:
        from circles.siting import with_sites

        step("choosing new sites")
        t0 = time.perf_counter()
        measured, chosen = with_sites(measured, settings, boundary, siting, candidates)
        timings["siting"] = time.perf_counter() - t0
    return replace(planned, measured=measured, loads=loads, siting=chosen, timings_s=timings)
