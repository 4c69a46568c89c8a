"""What every area of a batch shares, and one area's study, wherever it runs.

The serial batch (:mod:`circles.batch`) and the Dask tasks (:mod:`circles.distributed`)
both analyse an area through :func:`study_area` and render it through
:func:`render_area`, from the same :class:`BatchOptions`: a parameter added here reaches
both paths at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from circles.config import TravelSettings
from circles.study_area import PopulationSpec
from circles.tiers import TierPlan

if TYPE_CHECKING:  # pragma: no cover
    from circles.result import StudyResult
    from circles.sources.assemble import Inputs

__all__ = ["BatchOptions", "render_area", "study_area"]


@dataclass(frozen=True)
class BatchOptions:
    """The parameters every area of a batch is analysed and rendered with.

    Attributes
    ----------
    settings : TravelSettings
        Travel settings (speed in km/h, threshold and bands in minutes).
    population : PopulationSpec
        How residents per home are found.
    recommend_sites : int
        New facility sites to recommend in each area (0: none).
    candidates : GeoDataFrame or None
        The planner's candidate sites; None: network nodes near the gaps.
    offline_map : bool
        Whether the map inlines its JavaScript/CSS (kept as a name: it always does).
    tiers : TierPlan or None
        Facility tiers analysed in each area.
    """

    settings: TravelSettings = field(default_factory=TravelSettings)
    population: PopulationSpec = field(default_factory=PopulationSpec)
    recommend_sites: int = 0
    candidates: gpd.GeoDataFrame | None = None
    offline_map: bool = False
    tiers: TierPlan | None = None


def study_area(
    inputs: Inputs,
    *,
    name: str,
    boundary: gpd.GeoDataFrame,
    subareas: gpd.GeoDataFrame | None,
    options: BatchOptions,
) -> StudyResult:
    """Analyse one area of a batch from its share of the inputs.

    Parameters
    ----------
    inputs : Inputs
        The area's layers (its extract, or the region-wide layers; clipped again here).
    name : str
        The exact area name.
    boundary : GeoDataFrame
        The area's own row (``name`` and geometry), WGS-84.
    subareas : GeoDataFrame or None
        The sub-areas that intersect the area.
    options : BatchOptions
        What every area shares.

    Returns
    -------
    StudyResult
    """
    from circles.pipeline import run_study

    return run_study(
        inputs,
        name=name,
        boundary=boundary,
        subareas=subareas,
        settings=options.settings,
        population=options.population,
        recommend_sites=options.recommend_sites,
        candidates=options.candidates,
        tiers=options.tiers,
    )


def render_area(
    result: StudyResult, folder: str | Path, options: BatchOptions, fingerprint: dict | None
) -> Path:
    """Write one area's folder (map, tables, layers, marker) with the batch's options.

    Parameters
    ----------
    result : StudyResult
        The area's study.
    folder : str or Path
        The area folder (replaced only when circles wrote it).
    options : BatchOptions
        What every area shares (the map options).
    fingerprint : dict or None
        ``Fingerprint.as_dict()`` of what produced the area, recorded in its marker.

    Returns
    -------
    Path
        The folder written.
    """
    from circles.report import write_outputs

    return write_outputs(
        result, folder, offline_map=options.offline_map, fingerprint=fingerprint, area_name=result.name
    )
