"""What a what-if run reports against its baseline, typed (built by :mod:`circles.what_if`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from circles.plan_result import _num


@dataclass(frozen=True)
class BandChange:
    """Residents and homes that come within, or fall out of, one band (cumulative: within N min).

    Attributes
    ----------
    minutes : float
    gaining_homes, gaining_population : int, float
        Within the band in the scenario, not in the baseline.
    losing_homes, losing_population : int, float
        Within it in the baseline, not in the scenario.
    """

    minutes: float
    gaining_homes: int
    gaining_population: float
    losing_homes: int
    losing_population: float

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        return {
            "minutes": self.minutes,
            "gaining_homes": self.gaining_homes,
            "gaining_population": _num(self.gaining_population),
            "losing_homes": self.losing_homes,
            "losing_population": _num(self.losing_population),
        }


@dataclass(frozen=True)
class FacilityChange:
    """A clinic whose catchment changes in the scenario (None: not in that set)."""

    facility_id: str
    name: str | None
    catchment_population_before: float | None
    catchment_population_after: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        before, after = self.catchment_population_before, self.catchment_population_after
        return {
            "facility_id": self.facility_id,
            "name": self.name,
            "catchment_population_before": _num(before),
            "catchment_population_after": _num(after),
            "change": _num((after or 0.0) - (before or 0.0)),
        }


@dataclass(frozen=True)
class WhatIfSummary:
    """A changed facility set against the baseline of the same run.

    Attributes
    ----------
    added, removed : tuple of str
        Facility ids added and removed.
    covered_population_before, covered_population_after : float
        Residents within the threshold in the baseline and in the scenario.
    homes_changed : int
        Homes whose walking time or nearest facility changes.
    bands : tuple of BandChange
        Per reporting band (cumulative), for the whole area.
    subareas : tuple of (str, tuple of BandChange)
        The same per sub-area.
    facilities : tuple of FacilityChange
        Clinics whose catchment changes (added and removed ones included).
    """

    added: tuple[str, ...]
    removed: tuple[str, ...]
    covered_population_before: float
    covered_population_after: float
    homes_changed: int
    bands: tuple[BandChange, ...]
    subareas: tuple[tuple[str, tuple[BandChange, ...]], ...] = ()
    facilities: tuple[FacilityChange, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "covered_population_before": _num(self.covered_population_before),
            "covered_population_after": _num(self.covered_population_after),
            "homes_changed": self.homes_changed,
            "bands": [b.to_dict() for b in self.bands],
            "subareas": [{"name": n, "bands": [b.to_dict() for b in bs]} for n, bs in self.subareas],
            "facilities": [f.to_dict() for f in self.facilities],
        }


@dataclass(frozen=True)
class WhatIfOptions:
    """A changed facility set (see :mod:`circles.what_if`).

    Attributes
    ----------
    add_facilities : GeoDataFrame, optional
        Facilities to add (points, any CRS); a ``facility_id`` column keeps their ids, else
        they are ``added-1``, ``added-2``, ...
    remove_facilities : tuple of str
        Ids or names of facilities to remove.
    """

    add_facilities: Any = None
    remove_facilities: tuple[str, ...] = ()

    @property
    def asked(self) -> bool:
        """True when the facility set changes at all."""
        return bool(self.remove_facilities) or (
            self.add_facilities is not None and len(self.add_facilities) > 0
        )
