"""Residents per home as the analysis uses them: the numbers, and how each was found.

Every figure printed says whether it is counted or estimated, so the residents carry
their method per home (``population_method``) and in total (:class:`~circles.result.PopulationInfo`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from circles.errors import InputError
from circles.result import PopulationInfo

ONE_PER_HOME = "one resident per home (no population given)"


@dataclass(frozen=True)
class HomePopulation:
    """Residents per home, the method per home, and the method in total."""

    residents: NDArray[np.float64]
    method_per_home: NDArray[np.object_]
    info: PopulationInfo

    @classmethod
    def uniform(cls, residents: ArrayLike, method: str, *, estimated: bool) -> HomePopulation:
        """Every home's residents found by the same method.

        Parameters
        ----------
        residents : array_like
            Residents per home.
        method : str
            The sentence naming the method.
        estimated : bool

        Returns
        -------
        HomePopulation
        """
        values = np.asarray(residents, dtype=np.float64)
        per_home = np.full(values.shape[0], method, dtype=object)
        return cls(
            values, per_home, PopulationInfo(method, estimated, {method: round(float(values.sum()), 1)})
        )

    @classmethod
    def mixed(
        cls, residents: ArrayLike, per_home: ArrayLike, method: str, *, estimated: bool
    ) -> HomePopulation:
        """Residents whose method differs between homes (e.g. buildings and bare residential land).

        Parameters
        ----------
        residents : array_like
            Residents per home.
        per_home : array_like of str
            The method of each home.
        method : str
            The sentence naming the method in total.
        estimated : bool

        Returns
        -------
        HomePopulation
        """
        values = np.asarray(residents, dtype=np.float64)
        kinds = np.asarray(per_home, dtype=object)
        totals = pd.Series(values).groupby(kinds).sum().round(1)
        return cls(
            values, kinds, PopulationInfo(method, estimated, {str(k): float(v) for k, v in totals.items()})
        )


def check_residents(values: NDArray[np.float64], what: str, parameter: str) -> NDArray[np.float64]:
    """``values`` when all are finite residents >= 0, else an InputError naming the first bad row.

    Parameters
    ----------
    values : ndarray of float64
    what : str
        How to name the values in the message.
    parameter : str
        The parameter they came from.

    Returns
    -------
    ndarray of float64
    """
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise InputError(
            f"{what}, row {int(bad[0]) + 1}: {values[bad[0]]:g} is not a non-negative number of residents",
            parameter=parameter,
            fix="fix or remove that row",
        )
    return values


def population_of(homes: gpd.GeoDataFrame, population: str | ArrayLike | None) -> HomePopulation:
    """Residents per home for :func:`circles.analysis.analyse`.

    Parameters
    ----------
    homes : GeoDataFrame
    population : str, array_like or None
        A column name, an array aligned with ``homes``, or None for one per home. The
        name ``"population"`` when the homes have no such column also means one per home.

    Returns
    -------
    HomePopulation
    """
    if population is None or (
        isinstance(population, str) and population == "population" and "population" not in homes
    ):
        return HomePopulation.uniform(np.ones(len(homes)), ONE_PER_HOME, estimated=False)
    if isinstance(population, str):
        if population not in homes:
            raise InputError(
                f"the homes have no column {population!r}; they have: {', '.join(map(str, homes.columns))}",
                parameter="population",
            )
        values = pd.to_numeric(homes[population], errors="coerce").to_numpy(np.float64)
        values = check_residents(values, f"population column {population!r}", "population")
        return HomePopulation.uniform(values, f"column {population!r} of the homes", estimated=False)
    values = np.asarray(population, dtype=np.float64).reshape(-1)
    if values.shape[0] != len(homes):
        raise InputError(
            f"`population` has {values.shape[0]} values for {len(homes)} homes",
            parameter="population",
            fix="give one value per home, in the homes' order",
        )
    values = check_residents(values, "population", "population")
    return HomePopulation.uniform(values, "residents per home as given", estimated=False)
