"""Capacity and competition: facility loads against targets, and the E2SFCA score per home.

Two views of "are clinics overloaded":

- :func:`facility_loads`: per facility, the residents whose nearest facility it is
  (its catchment), the residents within the threshold of it (shared with every other
  facility in reach), the catchment's ratio to a resident target (Shenzhen plans one
  community health institution per 20,000 residents) and, given a supply such as
  general practitioners, supply per 10,000 catchment residents against a target
  (China's 3.9 GPs per 10,000 residents for 2025).
- :func:`e2sfca`: the enhanced two-step floating catchment (Luo & Qi 2009), which
  counts competition: each facility's supply is shared among all the residents in
  reach of it, weighted by travel time, R_j = S_j / sum_k P_k W(t_kj); each home then
  sums the ratios of the facilities it can reach, A_i = sum_j R_j W(t_ij). Written
  as ``access_per_10k`` = 10,000 A_i (staff per 10,000 residents when S counts staff).

Notes
-----
Why an in-house sparse computation rather than PySAL ``access``:
``access.Access.enhanced_two_stage_fca`` is the reference implementation and agrees
with :func:`e2sfca` to 1e-9 (``tests/test_planning_capacity.py``), but it works on a
long pandas table of every (home, facility) pair: two ``merge`` + ``groupby`` passes
and a Python call of the weight function per pair (``Series.apply``). At city scale
(500,000 homes x 1,000 clinics, tens of millions of pairs in reach) that is minutes
and several copies of a multi-gigabyte table. Here the pairs are one CSR matrix
(:class:`~circles.planning.traveltimes.TravelTimes`, about 20 bytes a pair), the
weights one vectorised pass over its values, and the two steps two sparse
matrix-vector products; ``bench/e2sfca.py`` measures both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from circles.errors import InputError
from circles.planning.decay import GaussianWeights, SteppedWeights
from circles.planning.traveltimes import TravelTimes

#: Shenzhen's planning norm: one community health institution per 20,000 residents.
DEFAULT_RESIDENTS_PER_FACILITY = 20_000.0
#: China's 2025 target of general practitioners per 10,000 residents.
DEFAULT_SUPPLY_TARGET_PER_10K = 3.9


@dataclass(frozen=True, eq=False)
class FacilityLoads:
    """Per-facility loads (one entry per facility).

    Attributes
    ----------
    catchment_homes, catchment_population : ndarray
        Homes and residents whose nearest facility it is.
    population_within : ndarray
        Residents within the threshold of it (a home counts for every facility in reach).
    catchment_to_target : ndarray
        ``catchment_population / residents_per_facility`` (1.0 = at target).
    over_resident_target : ndarray of bool
        ``catchment_population > residents_per_facility``.
    supply : ndarray
        The facility's supply (1 each when none is given).
    supply_per_10k : ndarray
        ``10,000 supply / catchment_population``; NaN for an empty catchment.
    below_supply_target : ndarray of bool
        ``supply_per_10k < supply_target_per_10k`` (False for an empty catchment).
    residents_per_facility, supply_target_per_10k : float
        The targets used.
    """

    catchment_homes: NDArray[np.int64]
    catchment_population: NDArray[np.float64]
    population_within: NDArray[np.float64]
    catchment_to_target: NDArray[np.float64]
    over_resident_target: NDArray[np.bool_]
    supply: NDArray[np.float64]
    supply_per_10k: NDArray[np.float64]
    below_supply_target: NDArray[np.bool_]
    residents_per_facility: float
    supply_target_per_10k: float

    @property
    def overloaded(self) -> NDArray[np.bool_]:
        """Over the resident target or below the supply target."""
        return self.over_resident_target | self.below_supply_target

    def columns(self) -> dict[str, NDArray]:
        """The per-facility arrays by column name (for a table)."""
        names = [
            "catchment_homes",
            "catchment_population",
            "population_within",
            "catchment_to_target",
            "over_resident_target",
            "supply",
            "supply_per_10k",
            "below_supply_target",
        ]
        return {**{n: getattr(self, n) for n in names}, "overloaded": self.overloaded}


def facility_loads(
    nearest_facility: ArrayLike,
    population: ArrayLike,
    n_facilities: int,
    *,
    times: TravelTimes | None = None,
    threshold_min: float = 15.0,
    supply: ArrayLike | None = None,
    residents_per_facility: float = DEFAULT_RESIDENTS_PER_FACILITY,
    supply_target_per_10k: float = DEFAULT_SUPPLY_TARGET_PER_10K,
) -> FacilityLoads:
    """Catchment residents, residents in reach and supply ratios per facility.

    Parameters
    ----------
    nearest_facility : array_like of int, shape (n_homes,)
        Each home's nearest facility; -1 where none is reachable (counted nowhere).
    population : array_like of float, shape (n_homes,)
        Residents per home.
    n_facilities : int
        Number of facilities.
    times : TravelTimes, optional
        Home-facility travel times; gives ``population_within`` (NaN without it).
    threshold_min : float
        Catchment threshold for ``population_within``.
    supply : array_like of float, shape (n_facilities,), optional
        Supply per facility (e.g. GPs); 1 each by default.
    residents_per_facility : float
        Resident target per facility.
    supply_target_per_10k : float
        Target supply per 10,000 residents.

    Returns
    -------
    FacilityLoads
    """
    pop = _population(population)
    near = np.asarray(nearest_facility, dtype=np.int64).ravel()
    if near.size != pop.size:
        raise InputError(f"need one nearest facility per home ({pop.size}), got {near.size}")
    if near.size and (near.min() < -1 or near.max() >= n_facilities):
        raise InputError(f"nearest facility must be -1 or in 0..{n_facilities - 1}")
    if not residents_per_facility > 0:
        raise InputError(
            f"`residents_per_facility` must be positive, got {residents_per_facility}",
            parameter="residents_per_facility",
        )
    s = _supply(supply, n_facilities)
    ok = near >= 0
    homes = np.bincount(near[ok], minlength=n_facilities)
    catch = np.bincount(near[ok], weights=pop[ok], minlength=n_facilities)
    within = np.full(n_facilities, np.nan)
    if times is not None:
        _check_times(times, pop.size, n_facilities)
        w = times.within(threshold_min)
        within = np.bincount(w.facility, weights=pop[w.home()], minlength=n_facilities).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_10k = np.where(catch > 0, 1e4 * s / catch, np.nan)
    return FacilityLoads(
        catchment_homes=homes,
        catchment_population=catch,
        population_within=within,
        catchment_to_target=catch / residents_per_facility,
        over_resident_target=catch > residents_per_facility,
        supply=s,
        supply_per_10k=per_10k,
        below_supply_target=np.nan_to_num(per_10k, nan=np.inf) < supply_target_per_10k,
        residents_per_facility=float(residents_per_facility),
        supply_target_per_10k=float(supply_target_per_10k),
    )


@dataclass(frozen=True, eq=False)
class E2sfcaResult:
    """The enhanced two-step floating catchment.

    Attributes
    ----------
    access_per_10k : ndarray, shape (n_homes,)
        10,000 A_i per home; 0 where no facility is in reach.
    supply_ratio : ndarray, shape (n_facilities,)
        R_j = S_j / weighted residents in reach; 0 where nobody is in reach.
    weighted_population : ndarray, shape (n_facilities,)
        sum_k P_k W(t_kj), the competition each facility faces.
    reached : ndarray of bool, shape (n_homes,)
        Homes with at least one facility of positive weight in reach.
    """

    access_per_10k: NDArray[np.float64]
    supply_ratio: NDArray[np.float64]
    weighted_population: NDArray[np.float64]
    reached: NDArray[np.bool_]


def e2sfca(
    times: TravelTimes,
    population: ArrayLike,
    supply: ArrayLike | None = None,
    weights: SteppedWeights | GaussianWeights | None = None,
) -> E2sfcaResult:
    """Enhanced two-step floating catchment accessibility (Luo & Qi 2009), sparse.

    Parameters
    ----------
    times : TravelTimes
        Home-facility travel times; pairs beyond the weights' threshold weigh 0.
    population : array_like of float, shape (n_homes,)
        Residents per home (P).
    supply : array_like of float, shape (n_facilities,), optional
        Supply per facility (S), e.g. GPs; 1 each by default.
    weights : SteppedWeights or GaussianWeights, optional
        Distance decay W; Luo & Qi's 1.00 / 0.68 / 0.22 steps for 0-5 / 5-10 / 10-15
        minutes by default.

    Returns
    -------
    E2sfcaResult

    Notes
    -----
    Memory is O(pairs in reach): the weights are one array over the stored pairs and
    both steps are sparse matrix-vector products, so no dense (homes x facilities)
    array is ever made.
    """
    pop = _population(population)
    _check_times(times, pop.size, times.n_facilities)
    s = _supply(supply, times.n_facilities)
    weights = weights if weights is not None else SteppedWeights()
    w = times.matrix(weights(times.time_min))
    demand = np.asarray(w.T @ pop, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, s / demand, 0.0)
    access = np.asarray(w @ ratio, dtype=float)
    reached = np.asarray((w > 0).sum(axis=1)).ravel() > 0
    return E2sfcaResult(1e4 * access, ratio, demand, reached)


def share_below(
    value: ArrayLike, population: ArrayLike, target: float, group: ArrayLike | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Share of residents whose ``value`` (e.g. ``access_per_10k``) is below ``target``.

    Parameters
    ----------
    value, population : array_like, shape (n_homes,)
    target : float
    group : array_like of int, shape (n_homes,), optional
        Group code per home (district, sub-district), >= 0; -1 is left out.

    Returns
    -------
    (codes, share)
        Group codes present and the population-weighted share below the target per group
        (NaN for a group without residents); one overall entry (code 0) without ``group``.
    """
    v = np.asarray(value, dtype=float).ravel()
    pop = _population(population)
    g = np.zeros(v.size, dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64).ravel()
    if not v.size == pop.size == g.size:
        raise InputError("value, population and group need one entry per home")
    ok = g >= 0
    codes, inv = np.unique(g[ok], return_inverse=True)
    total = np.bincount(inv, weights=pop[ok], minlength=codes.size)
    below = np.bincount(inv, weights=pop[ok] * (v[ok] < target), minlength=codes.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        return codes, np.where(total > 0, below / total, np.nan)


def _population(population: ArrayLike) -> NDArray[np.float64]:
    pop = np.asarray(population, dtype=float).ravel()
    if not np.all(np.isfinite(pop) & (pop >= 0)):
        raise InputError("residents per home (`population`) must be finite and >= 0", parameter="population")
    return pop


def _supply(supply: ArrayLike | None, n_facilities: int) -> NDArray[np.float64]:
    if supply is None:
        return np.ones(n_facilities)
    s = np.asarray(supply, dtype=float).ravel()
    if s.size != n_facilities:
        raise InputError(f"need one supply value per facility ({n_facilities}), got {s.size}")
    if not np.all(np.isfinite(s) & (s >= 0)):
        raise InputError(
            "facility supply (`capacity_column`) must be finite and >= 0",
            parameter="capacity_column",
            fix="fill or drop the facilities whose `capacity_column` is empty or negative",
        )
    return s


def _check_times(times: TravelTimes, n_homes: int, n_facilities: int) -> None:
    if times.n_homes != n_homes or times.n_facilities != n_facilities:
        raise InputError(
            f"travel times are {times.n_homes} homes x {times.n_facilities} facilities, "
            f"expected {n_homes} x {n_facilities}"
        )
