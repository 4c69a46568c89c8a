"""The planning answers of a study, typed: new sites, clinic loads and what-if comparisons.

Each is a frozen dataclass with ``to_dict()`` for ``summary.json``, built once by the
code that computes it (:mod:`circles.siting`, :mod:`circles.loads`, :mod:`circles.what_if`)
and carried by :class:`circles.result.Summary`; nothing reads them back from JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from circles.errors import InputError


def _num(value: float | None, digits: int = 1) -> float | None:
    """A float rounded for JSON, None kept (NaN becomes None: strict JSON)."""
    if value is None or value != value:
        return None
    return round(float(value), digits)


@dataclass(frozen=True)
class SitingOptions:
    """What to ask of the siting step (see :func:`circles.siting.choose_sites`).

    Attributes
    ----------
    n_sites : int
        New sites to choose (maximal covering); 0 with ``full_coverage``.
    full_coverage : bool
        Location set covering: the fewest new sites that bring every reachable home within
        the threshold.
    max_residents_per_facility : float, optional
        Capacitated maximal covering: no facility (new or existing) serves more residents.
    solver_time_limit_s : float
        Time limit of the exact solve (HiGHS); past it the best sites found so far, with
        the solver's bound.
    siting_method : str
        ``"exact"`` (HiGHS, the default) or ``"greedy"`` (with a proved bound).
    spacing_m, max_candidates : float, int
        Thinning of the default candidates (network nodes near the demand).
    """

    n_sites: int = 0
    full_coverage: bool = False
    max_residents_per_facility: float | None = None
    solver_time_limit_s: float = 60.0
    siting_method: str = "exact"
    spacing_m: float = 100.0
    max_candidates: int = 3000

    def __post_init__(self) -> None:
        """Refuse options that cannot be answered, naming the parameter (:class:`InputError`)."""
        if self.n_sites < 0:
            raise InputError(f"number of sites must be at least 0, got {self.n_sites}", parameter="n_sites")
        if self.full_coverage and self.n_sites:
            raise InputError(
                "`full_coverage` finds the fewest sites itself: it takes no number of sites",
                parameter="full_coverage",
                fix="give either `n_sites` or `full_coverage`",
            )
        if self.full_coverage and self.max_residents_per_facility is not None:
            raise InputError(
                "`max_residents_per_facility` applies to a number of new sites, not to `full_coverage`",
                parameter="max_residents_per_facility",
                fix="give `n_sites` with `max_residents_per_facility`",
            )
        cap = self.max_residents_per_facility
        if cap is not None and not (math.isfinite(cap) and cap > 0):
            raise InputError(
                f"`max_residents_per_facility` must be a positive number of residents, got {cap:g}",
                parameter="max_residents_per_facility",
            )
        limit_s = self.solver_time_limit_s
        if not (math.isfinite(limit_s) and limit_s > 0):
            raise InputError(
                f"`solver_time_limit_s` must be a positive number of seconds, got {limit_s:g}",
                parameter="solver_time_limit_s",
            )
        if self.siting_method not in ("exact", "greedy"):
            raise InputError(
                f"`siting_method` must be 'exact' or 'greedy', got {self.siting_method!r}",
                parameter="siting_method",
            )

    @property
    def asked(self) -> bool:
        """True when sites are to be chosen at all."""
        return self.n_sites > 0 or self.full_coverage

    @property
    def problem(self) -> str:
        """``"MCLP"``, ``"LSCP"`` or ``"capacitated MCLP"``."""
        if self.full_coverage:
            return "LSCP"
        return "MCLP" if self.max_residents_per_facility is None else "capacitated MCLP"


@dataclass(frozen=True)
class SiteFigure:
    """One proposed site, in order of choice.

    Attributes
    ----------
    rank : int
    name : str
    lon_wgs84, lat_wgs84 : float
    gain_population : float
        Residents this site adds to the ones before it: covered (MCLP, LSCP) or served
        within capacity (capacitated MCLP). Its marginal gain.
    gain_homes : int
        Homes it brings within the threshold that no earlier site or existing facility reached.
    covered_population_after, covered_share_after : float
        Residents within the threshold of any facility once this and the earlier sites open.
    served_population_after, site_load : float, optional
        Capacitated only: residents served within capacity after it opens, and residents
        assigned to it.
    columns : dict
        The candidate file's own columns for this site.
    """

    rank: int
    name: str
    lon_wgs84: float
    lat_wgs84: float
    gain_population: float
    gain_homes: int
    covered_population_after: float
    covered_share_after: float | None
    method: str
    served_population_after: float | None = None
    site_load: float | None = None
    columns: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        out: dict[str, Any] = {
            "rank": self.rank,
            "name": self.name,
            "gain_population": self.gain_population,
            "gain_homes": self.gain_homes,
            "covered_population_after": self.covered_population_after,
            "covered_share_after": self.covered_share_after,
            "method": self.method,
        }
        if self.served_population_after is not None:
            out["served_population_after"] = self.served_population_after
            out["site_load"] = self.site_load
        return {**self.columns, **out, "lon_wgs84": self.lon_wgs84, "lat_wgs84": self.lat_wgs84}


@dataclass(frozen=True)
class SitingSummary:
    """How the proposed sites were found and how good they are proved to be.

    Attributes
    ----------
    problem : str
        ``"MCLP"`` (k sites, most residents), ``"LSCP"`` (fewest sites, every reachable
        home) or ``"capacitated MCLP"``.
    method : str
        Which method produced the sites: ``"exact (HiGHS)"``, ``"greedy"`` or
        ``"Lagrangian heuristic"``.
    status : str
        ``"optimal"`` (proved), ``"time limit"``, ``"feasible"`` (not proved) or ``"too large"``.
    objective, bound, gap : float
        MCLP: residents the new sites add, the proved upper bound, ``(bound - objective) /
        bound``; LSCP: the number of new sites, the proved lower bound, ``(objective -
        bound) / objective``. Gap 0: optimal.
    bound_source : str
    candidates : int
        Candidate sites on the network.
    demand_homes, demand_population : int, float
        Homes the new sites compete for: beyond the threshold (MCLP, LSCP), or every home
        on the network (capacitated MCLP).
    uncoverable_homes, uncoverable_population : int, float
        Of the demand beyond the threshold, the homes no candidate site reaches.
    covered_population_before, covered_population_after : float
        Residents within the threshold without and with the new sites (the sites' claim).
    verified_covered_population_after : float
        The same, measured by re-running the search with the sites added as facilities.
    served_population_before, served_population_after : float, optional
        Capacitated only: residents served within capacity, without and with the new sites.
    max_residents_per_facility, solver_time_limit_s : float
    sites : tuple of SiteFigure
    """

    problem: str
    method: str
    status: str
    objective: float
    bound: float
    gap: float
    bound_source: str
    candidates: int
    demand_homes: int
    demand_population: float
    uncoverable_homes: int
    uncoverable_population: float
    covered_population_before: float
    covered_population_after: float
    verified_covered_population_after: float
    solver_time_limit_s: float
    max_residents_per_facility: float | None = None
    served_population_before: float | None = None
    served_population_after: float | None = None
    sites: tuple[SiteFigure, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The run's figures for JSON (the sites are written as ``proposed_sites``)."""
        out = {
            "problem": self.problem,
            "method": self.method,
            "status": self.status,
            "objective": _num(self.objective, 2),
            "bound": _num(self.bound, 2),
            "gap": _num(self.gap, 6),
            "bound_source": self.bound_source,
            "candidates": self.candidates,
            "demand_homes": self.demand_homes,
            "demand_population": _num(self.demand_population),
            "uncoverable_homes": self.uncoverable_homes,
            "uncoverable_population": _num(self.uncoverable_population),
            "covered_population_before": _num(self.covered_population_before),
            "covered_population_after": _num(self.covered_population_after),
            "verified_covered_population_after": _num(self.verified_covered_population_after),
            "solver_time_limit_s": self.solver_time_limit_s,
        }
        if self.max_residents_per_facility is not None:
            out["max_residents_per_facility"] = self.max_residents_per_facility
            out["served_population_before"] = _num(self.served_population_before)
            out["served_population_after"] = _num(self.served_population_after)
        return out


@dataclass(frozen=True)
class CapacityOptions:
    """Targets of the clinic-load figures and the access score's decay (see :mod:`circles.loads`).

    Attributes
    ----------
    residents_per_facility : float
        Resident target per clinic (Shenzhen: one community health institution per 20,000).
    supply_target_per_10k : float
        Target supply (e.g. GPs) per 10,000 catchment residents (China 2025: 3.9).
    access_decay : str
        ``"stepped"`` (Luo & Qi's 1.00 / 0.68 / 0.22 over thirds of the threshold) or
        ``"gaussian"`` (sigma = half the threshold).
    """

    residents_per_facility: float = 20_000.0
    supply_target_per_10k: float = 3.9
    access_decay: str = "stepped"

    def __post_init__(self) -> None:
        """Refuse targets that are not positive numbers (:class:`InputError`)."""
        for name in ("residents_per_facility", "supply_target_per_10k"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"`{name}` must be a positive number, got {value:g}", parameter=name)
        if self.access_decay not in ("stepped", "gaussian"):
            raise InputError(
                f"`access_decay` must be 'stepped' or 'gaussian', got {self.access_decay!r}",
                parameter="access_decay",
            )


@dataclass(frozen=True)
class UnitLoads:
    """Clinic loads of one sub-area (or of the whole area).

    Attributes
    ----------
    name : str
    population : float
    facilities : int
        Clinics on the network inside it.
    residents_per_facility : float, optional
    supply : float
        Their supply (one per clinic without a supply column).
    supply_per_10k : float, optional
    share_below_access_target : float, optional
        Share of its residents whose ``access_per_10k`` is below the access target.
    """

    name: str
    population: float
    facilities: int
    residents_per_facility: float | None
    supply: float
    supply_per_10k: float | None
    share_below_access_target: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        return {
            "name": self.name,
            "population": _num(self.population),
            "facilities": self.facilities,
            "residents_per_facility": _num(self.residents_per_facility),
            "supply": _num(self.supply, 2),
            "supply_per_10k": _num(self.supply_per_10k, 2),
            "share_below_access_target": _num(self.share_below_access_target, 4),
        }


@dataclass(frozen=True)
class LoadsSummary:
    """Clinic loads against targets and competition-aware access (E2SFCA).

    Attributes
    ----------
    options : CapacityOptions
    supply_column : bool
        True when the facilities carry a supply (e.g. GPs); otherwise each clinic counts
        as 1 and ``access_per_10k`` is competition-weighted clinics per 10,000 residents.
    access_target_per_10k : float
        The target ``access_per_10k`` is compared with: the supply target with a supply
        column, else ``10,000 / residents_per_facility`` (the resident target per home).
    facilities_over_resident_target, facilities_below_supply_target : int
        Clinics whose catchment exceeds the resident target, and (with a supply column)
        whose supply per 10,000 catchment residents is below the supply target.
    area : UnitLoads
    subareas : tuple of UnitLoads
    """

    options: CapacityOptions
    supply_column: bool
    access_target_per_10k: float
    facilities_over_resident_target: int
    facilities_below_supply_target: int | None
    area: UnitLoads
    subareas: tuple[UnitLoads, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain figures for JSON."""
        return {
            "residents_per_facility_target": self.options.residents_per_facility,
            "supply_target_per_10k": self.options.supply_target_per_10k if self.supply_column else None,
            "access_decay": self.options.access_decay,
            "supply_column": self.supply_column,
            "access_target_per_10k": _num(self.access_target_per_10k, 4),
            "facilities_over_resident_target": self.facilities_over_resident_target,
            "facilities_below_supply_target": self.facilities_below_supply_target,
            **{k: v for k, v in self.area.to_dict().items() if k != "name"},
            "subareas": [u.to_dict() for u in self.subareas],
        }
