"""Per-home walking times, bands and coverage, and the summary figures."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from circles.config import TravelSettings
from circles.result import BandFigure, Coverage

UNREACHABLE = "unreachable"


def band_labels(bands_min: tuple[float, ...]) -> list[str]:
    """Labels of the walking-time bands, e.g. ``["0-5", "5-10", "10-15", ">15"]``.

    Parameters
    ----------
    bands_min : tuple of float
        Band edges in minutes, ascending.

    Returns
    -------
    list of str
    """
    edges = [0.0, *bands_min]
    labels = [f"{_fmt(a)}-{_fmt(b)}" for a, b in itertools.pairwise(edges)]
    return [*labels, f">{_fmt(bands_min[-1])}"]


def _fmt(x: float) -> str:
    return f"{x:g}"


def assign_bands(walk_time_min: NDArray[np.float64], bands_min: tuple[float, ...]) -> NDArray[np.object_]:
    """Band label per walking time; NaN times are ``"unreachable"``.

    A time exactly on a band edge belongs to the lower band (15.0 min is "10-15").

    Parameters
    ----------
    walk_time_min : ndarray of float64
        Minutes per home, NaN where unreachable.
    bands_min : tuple of float
        Band edges in minutes, ascending.

    Returns
    -------
    ndarray of object
    """
    labels = np.array([*band_labels(bands_min), UNREACHABLE], dtype=object)
    idx = np.searchsorted(np.asarray(bands_min), walk_time_min, side="left")
    idx = np.where(np.isnan(walk_time_min), len(labels) - 1, idx)
    return labels[idx]


def summarize(
    walk_time_min: NDArray[np.float64], population: NDArray[np.float64], settings: TravelSettings
) -> Coverage:
    """Coverage figures of a set of homes.

    Parameters
    ----------
    walk_time_min : ndarray
        Minutes to the nearest facility per home; NaN where unreachable.
    population : ndarray
        Residents per home.
    settings : TravelSettings
        The threshold ("covered") and the reporting bands.

    Returns
    -------
    Coverage
        Homes and residents in total, covered (within the threshold), uncovered,
        unreachable; cumulative figures within each band and per ring.

    """
    pop = np.asarray(population, dtype=float)
    t = np.asarray(walk_time_min, dtype=float)
    total_pop = float(pop.sum())
    bands = settings.bands_min or ()
    labels = assign_bands(t, bands)

    def _figure(sel: NDArray[np.bool_], label: str, minutes: float | None) -> BandFigure:
        part = float(pop[sel].sum())
        return BandFigure(label, minutes, int(sel.sum()), round(part, 1), _share(part, total_pop))

    rings = tuple(_figure(labels == lab, lab, None) for lab in [*band_labels(bands), UNREACHABLE])
    within = tuple(_figure(t <= b, "", b) for b in bands)  # NaN compares False
    covered = t <= settings.threshold_min
    return Coverage(
        homes=int(t.size),
        population=round(total_pop, 1),
        threshold_min=settings.threshold_min,
        covered_homes=int(covered.sum()),
        covered_population=round(float(pop[covered].sum()), 1),
        covered_share=_share(pop[covered].sum(), total_pop),
        uncovered_population=round(float(pop[~covered].sum()), 1),
        unreachable_homes=int(np.isnan(t).sum()),
        within=within,
        bands=rings,
    )


def residents_per_facility(population: float, facilities: int) -> float | None:
    """Residents per facility, rounded to 0.1; None without facilities.

    Parameters
    ----------
    population : float
    facilities : int

    Returns
    -------
    float or None
    """
    return round(population / facilities, 1) if facilities else None


def _share(part: float, total: float) -> float | None:
    return round(float(part) / total, 4) if total > 0 else None


def catchments(
    nearest_facility: NDArray[np.int64], population: NDArray[np.float64], n_facilities: int
) -> pd.DataFrame:
    """Homes and residents for which each facility is the nearest (network Voronoi).

    Parameters
    ----------
    nearest_facility : ndarray of int64
        Nearest facility of each home, -1 where none.
    population : ndarray of float64
        Residents per home.
    n_facilities : int

    Returns
    -------
    DataFrame
        One row per facility: ``catchment_homes``, ``catchment_population``.

    """
    ok = nearest_facility >= 0
    homes = np.bincount(nearest_facility[ok], minlength=n_facilities)
    pop = np.bincount(nearest_facility[ok], weights=population[ok], minlength=n_facilities)
    return pd.DataFrame({"catchment_homes": homes, "catchment_population": np.round(pop, 1)})
