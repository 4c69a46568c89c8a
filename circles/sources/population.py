"""Residents per home: from a column, a population raster, or estimated from floor area.

The raster reader lives in :mod:`circles.sources.raster` (rasterio is an optional extra)
and is re-exported here.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from circles.config import PopulationSettings
from circles.errors import InputError
from circles.sources.problems import columns_text, number_text
from circles.sources.raster import population_from_raster

__all__ = ["estimate_population", "floor_area_m2", "population_from_column", "population_from_raster"]

#: Scope of the errors: the CLI maps ``column``, ``total``, ``raster_path`` of the population input.
SCOPE = "population"


def floor_area_m2(homes: gpd.GeoDataFrame, settings: PopulationSettings) -> NDArray[np.float64]:
    """Gross floor area of each home in m^2: footprint x storeys.

    Storeys come from ``building:levels`` where it is a positive number, else from
    ``settings.default_levels`` by building type, else ``settings.fallback_levels``.
    Point homes (no footprint) count as one ``floor_area_per_person_m2``.

    Parameters
    ----------
    homes : GeoDataFrame
        Homes in a projected (metric) CRS.
    settings : PopulationSettings

    Returns
    -------
    ndarray of float64

    """
    if homes.crs is None or not homes.crs.is_projected:
        raise InputError("floor areas need homes in a projected CRS (metres)")
    footprint = homes.geometry.area.to_numpy(dtype=float)
    kinds = homes["building"] if "building" in homes else pd.Series("", index=homes.index)
    default = kinds.map(settings.default_levels).fillna(settings.fallback_levels).to_numpy(float)
    if "building:levels" in homes:
        given = pd.to_numeric(homes["building:levels"], errors="coerce").to_numpy(float)
        levels = np.where(np.isfinite(given) & (given > 0), given, default)
    else:
        levels = default
    area = footprint * levels
    return np.where(footprint > 0, area, settings.floor_area_per_person_m2)


def estimate_population(
    homes: gpd.GeoDataFrame,
    settings: PopulationSettings,
    *,
    total: float | None = None,
) -> tuple[NDArray[np.float64], str]:
    """Residents per home from floor area.

    Parameters
    ----------
    homes : GeoDataFrame
        Homes in a projected CRS.
    settings : PopulationSettings
    total : float, optional
        A known population of the study area, spread in proportion to floor area.
        Without it each home gets ``floor area / floor_area_per_person_m2``.

    Returns
    -------
    (ndarray, str)
        Residents per home, and a sentence stating the method for the summary.

    """
    area = floor_area_m2(homes, settings)
    if total is not None:
        if not 0 <= total < math.inf:
            raise InputError(
                f"population total must be a non-negative finite number, got {number_text(total)}",
                parameter="total",
                scope=SCOPE,
            )
        share = area / area.sum() if area.sum() > 0 else np.full(area.size, 1 / max(area.size, 1))
        return total * share, f"total of {total:g} spread by floor area (footprint x storeys)"
    per_person = settings.floor_area_per_person_m2
    return area / per_person, f"floor area (footprint x storeys) / {per_person:g} m2 per resident"


def population_from_column(homes: gpd.GeoDataFrame, column: str) -> NDArray[np.float64]:
    """Residents per home from a numeric column; a bad value names its row."""
    if column not in homes:
        columns = [c for c in homes.columns if c != homes.geometry.name]
        raise InputError(
            f"population column {column!r} not found; the homes have: {columns_text(columns)}",
            parameter="column",
            scope=SCOPE,
        )
    values = pd.to_numeric(homes[column], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        shown = str(homes[column].iloc[bad[0]])[:40]
        more = f" (and {bad.size - 1} more rows)" if bad.size > 1 else ""
        raise InputError(
            f"population column {column!r}, row {int(bad[0]) + 1}: {shown!r} is not a non-negative "
            f"number{more}",
            parameter="column",
            fix="fix or remove those rows",
            scope=SCOPE,
        )
    return values
