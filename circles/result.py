"""What one study area produces: a typed, immutable result and its summary figures.

:class:`StudyResult` is built once, in one place (:func:`circles.pipeline.run_study` or
:func:`circles.analysis.analyse`), and carries its :class:`~circles.config.TravelSettings`
and the provenance of its inputs; nothing downstream reads parameters back out of JSON.
:class:`Summary` holds the headline figures with ``to_dict()``/``to_json()`` for files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from circles._version import __version__
from circles.config import TravelSettings

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from circles.engine import NodeCosts, Snapped
    from circles.network import WalkNetwork
    from circles.plan_result import LoadsSummary, SitingSummary
    from circles.residents import HomePopulation
    from circles.tier_result import TiersSummary
    from circles.what_if_result import WhatIfSummary


@dataclass(frozen=True)
class BandFigure:
    """Homes and residents within (cumulative) or in (one ring) a band."""

    label: str
    minutes: float | None
    homes: int
    population: float
    population_share: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON (``minutes`` for cumulative figures, ``band`` for rings)."""
        key = {"minutes": self.minutes} if self.label == "" else {"band": self.label}
        return {
            **key,
            "homes": self.homes,
            "population": self.population,
            "population_share": self.population_share,
        }


@dataclass(frozen=True)
class Coverage:
    """Coverage figures of a set of homes (a study area or a sub-area)."""

    homes: int
    population: float
    threshold_min: float
    covered_homes: int
    covered_population: float
    covered_share: float | None
    uncovered_population: float
    unreachable_homes: int
    within: tuple[BandFigure, ...]
    bands: tuple[BandFigure, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        return {
            "homes": self.homes,
            "population": self.population,
            "threshold_min": self.threshold_min,
            "covered_homes": self.covered_homes,
            "covered_population": self.covered_population,
            "covered_share": self.covered_share,
            "uncovered_population": self.uncovered_population,
            "unreachable_homes": self.unreachable_homes,
            "within": [w.to_dict() for w in self.within],
            "bands": [b.to_dict() for b in self.bands],
        }


@dataclass(frozen=True)
class FacilityCounts:
    """Which facilities serve an area.

    Attributes
    ----------
    inside : int
        On the network and inside the area: the ones residents-per-facility counts.
    margin_serving : int
        Outside the area (within the walking margin) and nearest to at least one of its homes.
    unattached : int
        Inside the area or its margin but with no walkable street within reach: they serve nobody.
    """

    inside: int
    margin_serving: int
    unattached: int

    def to_dict(self) -> dict[str, int]:
        """Plain counts for JSON."""
        return {"inside": self.inside, "margin_serving": self.margin_serving, "unattached": self.unattached}


@dataclass(frozen=True)
class PopulationInfo:
    """Where the residents per home come from.

    Attributes
    ----------
    method : str
        One sentence naming the method (e.g. ``"floor area (footprint x storeys) / 40 m2 per resident"``).
    estimated : bool
        True unless the residents were counted (a population column, or one per home).
    by_method : dict
        Residents per per-home method (the ``population_method`` column of the homes).
    """

    method: str
    estimated: bool
    by_method: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        return {"method": self.method, "estimated": self.estimated, "by_method": dict(self.by_method)}


@dataclass(frozen=True)
class SubareaSummary:
    """Coverage of one sub-area (e.g. a sub-district, 街道)."""

    name: str
    coverage: Coverage
    facilities: FacilityCounts
    residents_per_facility: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        return {
            "name": self.name,
            **self.coverage.to_dict(),
            "facilities": self.facilities.to_dict(),
            "residents_per_facility": self.residents_per_facility,
        }


@dataclass(frozen=True)
class Summary:
    """The headline figures of a study area and everything needed to read them.

    Attributes
    ----------
    name : str
    coverage : Coverage
    facilities : FacilityCounts
    residents_per_facility : float or None
        Residents per facility inside the area (None without one).
    population : PopulationInfo
    settings : TravelSettings
    network : dict
        Nodes, edges, length in km, CRS of the computation.
    network_coverage_of_area : float or None
        Share of the study area plus its walking margin that the network source covers
        (1.0: all of it); below 0.98 the result is partial.
    facilities_off_network_share : float or None
        Share of the facilities within reach of the area that attach to no street (None:
        no facilities); above 0.2 the result is partial.
    homes_without_street, homes_on_islands_without_facility : int
    capacity : dict
        Total capacity and per 10,000 residents when facilities carry a capacity.
    subareas : tuple of SubareaSummary
    warnings : tuple of str
    sources : dict
        Plain-language description of each input.
    extra : dict
        Further sections (e.g. ``proposed_sites``, ``fingerprint``), written as they are.
    tiers : TiersSummary, optional
        Per-tier figures when the study has facility tiers or a mode other than walking.
    siting : SitingSummary, optional
        Proposed sites and how they were found (written as ``siting`` and ``proposed_sites``).
    loads : LoadsSummary, optional
        Clinic loads against targets and competition-aware access (written as ``loads``).
    what_if : WhatIfSummary, optional
        A changed facility set against the baseline (written as ``what_if``).
    """

    name: str
    coverage: Coverage
    facilities: FacilityCounts
    residents_per_facility: float | None
    population: PopulationInfo
    settings: TravelSettings
    network: dict[str, Any]
    network_coverage_of_area: float | None = None
    facilities_off_network_share: float | None = None
    homes_without_street: int = 0
    homes_on_islands_without_facility: int = 0
    capacity: dict[str, Any] = field(default_factory=dict)
    subareas: tuple[SubareaSummary, ...] = ()
    warnings: tuple[str, ...] = ()
    sources: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    tiers: TiersSummary | None = None
    siting: SitingSummary | None = None
    loads: LoadsSummary | None = None
    what_if: WhatIfSummary | None = None

    @property
    def partial(self) -> bool:
        """True when the network misses part of the area or many facilities attach to no street."""
        return self.partial_reason is not None

    @property
    def partial_reason(self) -> str | None:
        """Why the figures describe only part of the area (None: they describe all of it)."""
        reasons = []
        share = self.network_coverage_of_area
        if share is not None and share < PARTIAL_BELOW:
            reasons.append("the network covers only part of the area")
        off = self.facilities_off_network_share
        if off is not None and off > PARTIAL_FACILITIES_OFF_ABOVE:
            reasons.append(f"{100 * off:.0f}% of the facilities within reach are off the network")
        return "; ".join(reasons) or None

    def with_(self, **changes: Any) -> Summary:
        """A copy with some fields replaced.

        Parameters
        ----------
        **changes : Any
            New values of fields, by field name (``warnings=...``, ``siting=...``);
            the other fields are kept.
        """
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data (the layout of ``summary.json``)."""
        s = self.settings
        return {
            "name": self.name,
            **self.coverage.to_dict(),
            "partial": self.partial,
            "network_coverage_of_area": self.network_coverage_of_area,
            "facilities_off_network_share": self.facilities_off_network_share,
            "facilities": self.facilities.to_dict(),
            "residents_per_facility": self.residents_per_facility,
            "population_method": self.population.to_dict(),
            **({"capacity": self.capacity} if self.capacity else {}),
            "homes_without_street": self.homes_without_street,
            "homes_on_islands_without_facility": self.homes_on_islands_without_facility,
            "subareas": [sub.to_dict() for sub in self.subareas],
            "warnings": list(self.warnings),
            "parameters": {
                "speed_kmh": s.speed_kmh,
                "threshold_min": s.threshold_min,
                "bands_min": list(s.bands_min or ()),
                "max_access_leg_m": s.max_access_leg_m,
                "min_island_m": s.min_island_m,
                "area_buffer_m": s.area_buffer_m,
            },
            "network": dict(self.network),
            "sources": dict(self.sources),
            **({"tiers": self.tiers.to_dict()} if self.tiers is not None else {}),
            **self._planning_dict(),
            **self.extra,
            "tool": {"name": "circles", "version": __version__},
        }

    def _planning_dict(self) -> dict[str, Any]:
        """The planning sections present: ``loads``, ``siting`` and ``proposed_sites``."""
        out: dict[str, Any] = {}
        if self.what_if is not None:
            out["what_if"] = self.what_if.to_dict()
        if self.loads is not None:
            out["loads"] = self.loads.to_dict()
        if self.siting is not None:
            out["siting"] = self.siting.to_dict()
            out["proposed_sites"] = [s.to_dict() for s in self.siting.sites]
        return out

    def to_json(self) -> str:
        """``summary.json``'s text: strict JSON (no NaN or Infinity), UTF-8 names kept."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"

    def headline(self) -> str:
        """One sentence a planner can quote, saying what each figure is."""
        c = self.coverage
        pct = "n/a" if c.covered_share is None else f"{100 * c.covered_share:.0f}%"
        who = "estimated residents" if self.population.estimated else "residents"
        partial = f" [PARTIAL: {self.partial_reason}]" if self.partial else ""
        return (
            f"{self.name}: {pct} of {c.population:,.0f} {who} ({c.covered_homes:,} of {c.homes:,} homes) "
            f"live within {c.threshold_min:g} min walk of {self.facilities.inside:,} facilities "
            "inside the area"
            + (f" (+{self.facilities.margin_serving} nearby)" if self.facilities.margin_serving else "")
            + partial
        )


#: Below this share of the area (plus margin) covered by the network, results are partial.
PARTIAL_BELOW = 0.98
#: Above this share of the facilities within reach attached to no street, results are partial
#: (the share above which circles warns; above half it stops unless partial results are allowed).
PARTIAL_FACILITIES_OFF_ABOVE = 0.2


@dataclass(frozen=True)
class AnalysisContext:
    """The network-side state of an analysis, kept for follow-up questions (new sites, what-if).

    Attributes
    ----------
    network : WalkNetwork
    facilities : Snapped
        The facilities as snapped (same order as ``StudyResult.facilities``).
    homes : Snapped
        The homes as snapped (same order as ``StudyResult.homes``).
    nodes : NodeCosts
        The multi-source search result.
    population : HomePopulation, optional
        The residents per home as found (unrounded), for re-runs (what-if).
    """

    network: WalkNetwork
    facilities: Snapped
    homes: Snapped
    nodes: NodeCosts
    population: HomePopulation | None = None


@dataclass(frozen=True)
class StudyResult:
    """Everything one study area produces, in WGS-84 for output.

    Attributes
    ----------
    name : str
        Study-area name.
    settings : TravelSettings
        Speed, threshold and bands the figures were computed with.
    homes : GeoDataFrame
        One row per home: ``walk_time_min``, ``nearest_facility``, ``covered``, ``band``,
        ``population``, ``population_method``, ``access_leg_m``, ``unreachable_reason``
        and the input's own columns.
    facilities : GeoDataFrame
        One row per facility: ``facility_id``, ``name``, ``inside_area``, ``attached``,
        ``catchment_homes``, ``catchment_population``, ``access_leg_m``.
    service_areas : GeoDataFrame
        One polygon per band: ``band_min``.
    summary : Summary
    boundary : GeoDataFrame, optional
        The study-area outline.
    catchment_areas : GeoDataFrame, optional
        Per facility, the streets it reaches first within the threshold, buffered.
    proposed_sites : GeoDataFrame, optional
        Recommended new facility sites (see :func:`circles.siting.recommend_sites`).
    timings_s : dict
        Seconds spent per stage.
    context : AnalysisContext, optional
        Network, snapped points and node costs, for follow-up questions.
    tier_areas : GeoDataFrame, optional
        Per facility tier, the area within its threshold by its mode: ``tier``,
        ``mode``, ``band_min`` (see :mod:`circles.tier_study`).
    what_if_homes : GeoDataFrame, optional
        In a what-if run, the homes whose walking time or nearest facility changes, with
        both (see :mod:`circles.what_if`).
    """

    name: str
    settings: TravelSettings
    homes: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    summary: Summary
    boundary: gpd.GeoDataFrame | None = None
    catchment_areas: gpd.GeoDataFrame | None = None
    proposed_sites: gpd.GeoDataFrame | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    context: AnalysisContext | None = field(default=None, repr=False)
    tier_areas: gpd.GeoDataFrame | None = None
    what_if_homes: gpd.GeoDataFrame | None = None

    def headline(self) -> str:
        """One sentence, e.g. '78% of 6,395 residents (412 of 530 homes) live within 15 min walk of ...'."""
        return self.summary.headline()

    def with_(self, **changes: Any) -> StudyResult:
        """A copy with some fields replaced (the result itself never changes).

        Parameters
        ----------
        **changes : Any
            New values of fields, by field name (``summary=...``, ``what_if_homes=...``);
            the other fields are kept.
        """
        return replace(self, **changes)
