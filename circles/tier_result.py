"""The per-tier figures of a study with facility tiers (see :mod:`circles.tier_study`).

:class:`TiersSummary` is the ``tiers`` section of :class:`circles.result.Summary` and of
``summary.json``; it lives here to keep :mod:`circles.result` small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from circles.result import BandFigure, Coverage, FacilityCounts

__all__ = ["TierFigure", "TierUnitFigure", "TiersSummary"]


@dataclass(frozen=True)
class TierFigure:
    """Coverage of one facility tier: its facilities, mode and threshold, and who is within it.

    Attributes
    ----------
    name : str
        The tier (``"village"``), as in the homes' ``time_min_<name>`` column.
    label : str
        What its facilities are, in words.
    mode : str
        Travel mode (``walk``, ``elderly``, ``bicycle``, ``ebike``, ``drive``).
    mode_description : str
        The mode's network and speeds in one sentence (access legs walked, ...).
    coverage : Coverage
        Homes and residents within the tier's threshold (``coverage.threshold_min``).
    facilities : FacilityCounts
        The tier's facilities inside the area, nearby serving it, off the mode's network.
    classified : int
        Facilities classified as this tier within reach of the area.
    residents_per_facility : float or None
        Residents of the area per facility of the tier inside it.
    target_residents_per_facility : float or None
        The plan's target, when it sets one.
    """

    name: str
    label: str
    mode: str
    mode_description: str
    coverage: Coverage
    facilities: FacilityCounts
    classified: int
    residents_per_facility: float | None
    target_residents_per_facility: float | None = None

    @property
    def meets_target(self) -> bool | None:
        """True when residents per facility are at most the target (None: no target, or no facility)."""
        target, actual = self.target_residents_per_facility, self.residents_per_facility
        return None if target is None or actual is None else bool(actual <= target)

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        c = self.coverage
        return {
            "name": self.name,
            "label": self.label,
            "mode": self.mode,
            "mode_description": self.mode_description,
            "threshold_min": c.threshold_min,
            "homes": c.homes,
            "population": c.population,
            "covered_homes": c.covered_homes,
            "covered_population": c.covered_population,
            "covered_share": c.covered_share,
            "uncovered_population": c.uncovered_population,
            "unreachable_homes": c.unreachable_homes,
            "facilities_classified": self.classified,
            "facilities": self.facilities.to_dict(),
            "residents_per_facility": self.residents_per_facility,
            "target_residents_per_facility": self.target_residents_per_facility,
            "meets_target": self.meets_target,
        }


@dataclass(frozen=True)
class TierUnitFigure:
    """One administrative unit (township, village; a sub-area) against one tier.

    Attributes
    ----------
    unit : str
    tier : str
    residents : float
        Residents of the homes inside the unit.
    facilities_inside : int
        Facilities of the tier inside the unit and on the tier's network.
    residents_per_facility : float or None
        None when the unit holds no facility of the tier.
    target_residents_per_facility : float or None
    covered_share : float or None
        Share of the unit's residents within the tier's threshold.
    """

    unit: str
    tier: str
    residents: float
    facilities_inside: int
    residents_per_facility: float | None
    target_residents_per_facility: float | None
    covered_share: float | None

    @property
    def meets_target(self) -> bool | None:
        """Residents per facility at most the target (False for a unit with residents and no facility)."""
        if self.target_residents_per_facility is None:
            return None
        if self.residents_per_facility is None:
            return None if self.residents == 0 else False
        return bool(self.residents_per_facility <= self.target_residents_per_facility)

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        return {
            "unit": self.unit,
            "tier": self.tier,
            "residents": self.residents,
            "facilities_inside": self.facilities_inside,
            "residents_per_facility": self.residents_per_facility,
            "target_residents_per_facility": self.target_residents_per_facility,
            "meets_target": self.meets_target,
            "covered_share": self.covered_share,
        }


@dataclass(frozen=True)
class TiersSummary:
    """Per-tier coverage, the share of residents meeting every tier at once, and per-unit figures.

    Attributes
    ----------
    tiers : tuple of TierFigure
    all_tiers : BandFigure
        Homes and residents within every tier's threshold at once (the
        "county-township-village" full-coverage figure).
    unclassified_facilities : int
        Facilities within reach that no tier of the plan claims (not analysed per tier).
    units : tuple of TierUnitFigure
        One per (sub-area, tier), when sub-areas are given.
    access_legs : str
        How the legs between points and the road were costed.
    warnings : tuple of str
    """

    tiers: tuple[TierFigure, ...]
    all_tiers: BandFigure
    unclassified_facilities: int = 0
    units: tuple[TierUnitFigure, ...] = ()
    access_legs: str = ""
    warnings: tuple[str, ...] = ()

    def units_without(self) -> dict[str, list[str]]:
        """Per tier, the units with residents but no facility of that tier inside.

        Units without any home in the study (e.g. beyond the extract) are not listed.
        """
        out: dict[str, list[str]] = {t.name: [] for t in self.tiers}
        for u in self.units:
            if u.facilities_inside == 0 and u.residents > 0:
                out.setdefault(u.tier, []).append(u.unit)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON (the ``tiers`` section of ``summary.json``)."""
        return {
            "tiers": [t.to_dict() for t in self.tiers],
            "all_tiers": {
                "homes": self.all_tiers.homes,
                "population": self.all_tiers.population,
                "population_share": self.all_tiers.population_share,
            },
            "unclassified_facilities": self.unclassified_facilities,
            "units": [u.to_dict() for u in self.units],
            "units_without_facility": self.units_without() if self.units else {},
            "access_legs": self.access_legs,
            "warnings": list(self.warnings),
        }
