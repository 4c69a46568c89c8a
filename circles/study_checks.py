"""Checks of one study area's inputs: do they cover the area, are the figures plausible.

Each check returns the warnings a planner must read with the result, or stops the run
with one clear error when the result would describe something else than the area
(no streets or facilities within reach, a network covering a corner of it, most clinics
off the network).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from circles.analysis import Measured, points_xy
from circles.config import TravelSettings
from circles.crs import WGS84
from circles.errors import EmptyResultError, InputError
from circles.network import WalkNetwork
from circles.sources.assemble import Inputs
from circles.study_area import PopulationSpec, area_km2, extent_text, swap_hint

__all__ = [
    "check_not_empty",
    "coordinate_warnings",
    "facility_warnings",
    "network_coverage",
    "population_warnings",
]


def check_not_empty(name: str, inputs: Inputs, region: Inputs, area, settings: TravelSettings) -> None:
    """Stop with a clear error when the area's share of the inputs has no streets, facilities or homes.

    Parameters
    ----------
    name : str
        The study area's name (where the error is).
    inputs : Inputs
        The layers clipped to the area and its walking margin.
    region : Inputs
        The region-wide layers they were clipped from (their extent is named in the error).
    area : shapely geometry or None
        The study area (WGS-84).
    settings : TravelSettings
        The longest band sets the walking margin named in the error.
    """
    if len(inputs.walkways) == 0:
        raise EmptyResultError(
            f"no walkable streets within reach of the study area ({extent_text(area)}); the network "
            f"source covers {extent_text(region.walkways)}{swap_hint(area, region.walkways)}",
            where=name,
        )
    if len(inputs.facilities) == 0:
        raise EmptyResultError(
            f"no facilities in or within {settings.longest_band_min:g} min of the study area; the "
            f"facilities lie in {extent_text(region.facilities)}"
            f"{swap_hint(region.facilities, region.walkways)}",
            where=name,
            parameter="facilities",
            fix="check their coordinates and coordinate system",
        )
    if len(inputs.homes) == 0:
        raise EmptyResultError("no homes inside the study area", where=name, parameter="homes")


def network_coverage(
    name: str, region: Inputs, area, reach, *, allow_partial: bool
) -> tuple[float | None, list[str]]:
    """Share of the area plus its margin that the network source covers, with warnings.

    Below 98% of the area with its margin the result is partial (a warning); below 50%
    of the area itself the run stops unless ``allow_partial``.

    Parameters
    ----------
    name : str
        The study area's name.
    region : Inputs
        The region-wide layers (WGS-84); their walkways give the network's extent.
    area : shapely geometry or None
        The study area (WGS-84); None: the whole input, nothing to check.
    reach : shapely geometry
        The area with its walking margin (WGS-84).
    allow_partial : bool
        Go on (flagged partial) when less than half the area is covered.

    Returns
    -------
    tuple of (float or None, list of str)
        The share of the area with its margin covered (None without an area), and the warnings.
    """
    from circles.diagnostics import MIN_AREA_COVERED, network_extent, share_covered

    if area is None:
        return None, []
    extent = network_extent(region.walkways.geometry.values)
    of_area = share_covered(extent, area)
    of_reach = share_covered(extent, reach)
    if of_area < MIN_AREA_COVERED and not allow_partial:
        raise InputError(
            f"the network source covers only {100 * of_area:.0f}% of the study area ({extent_text(area)}; "
            f"the network: {extent_text(region.walkways)}), so its figures would describe part of it",
            where=name,
            parameter="allow_partial",
            fix="use an extract that covers the whole area, or accept a partial result with `allow_partial`",
        )
    if of_reach >= 0.98:
        return round(of_reach, 4), []
    return round(of_reach, 4), [
        f"PARTIAL RESULT: the network source covers {100 * of_area:.0f}% of the study area and "
        f"{100 * of_reach:.0f}% of the area with its walking margin; residents and clinics beyond it are "
        "missing, so coverage is understated near its edges: use an extract that covers the area plus "
        "its walking margin"
    ]


def coordinate_warnings(network: WalkNetwork, inputs: Inputs) -> list[str]:
    """Warnings for planner files whose points fit the streets better in another coordinate system.

    Parameters
    ----------
    network : WalkNetwork
        The area's network (its CRS is the local projection).
    inputs : Inputs
        The clipped layers, with ``declared_crs`` naming the coordinate system of each planner's file.

    Returns
    -------
    list of str
    """
    from circles.diagnostics import coordinate_system_warning
    from circles.sources.coords import parse_coordinate_system

    warnings: list[str] = []
    if not inputs.declared_crs:
        return warnings  # no planner's file: nothing to check (and no buildings to project)
    buildings = None if inputs.buildings is None else inputs.buildings.to_crs(network.crs).geometry.values
    parameters = {"facilities": "`facility_options.crs`", "homes": "`home_options.crs`"}
    for layer, declared in (inputs.declared_crs or {}).items():
        frame = getattr(inputs, layer)
        lon, lat = points_xy(frame, WGS84).T
        text = coordinate_system_warning(
            network,
            lon,
            lat,
            declared=parse_coordinate_system(declared),
            what=f"{layer} from {inputs.sources.get(layer, 'file')}",
            buildings_local=buildings,
            parameter=parameters.get(layer, "`crs`"),
        )
        if text:
            warnings.append(text)
    return warnings


def population_warnings(
    homes: gpd.GeoDataFrame, residents: np.ndarray, spec: PopulationSpec, area
) -> list[str]:
    """Warnings when estimated residents are implausible: mostly from bare land, or too dense.

    Parameters
    ----------
    homes : GeoDataFrame
        The area's homes (a ``building`` of ``"landuse"`` marks residential land without buildings).
    residents : numpy.ndarray
        Residents per home.
    spec : PopulationSpec
        How residents were found; only floor-area estimates are checked.
    area : shapely geometry or None
        The study area (WGS-84), for the density check.

    Returns
    -------
    list of str
    """
    from circles.diagnostics import density_warning

    if spec.column or spec.raster or spec.total is not None:
        return []
    out = []
    total = float(np.sum(residents))
    if "building" in homes and total > 0:
        on_land = (homes["building"] == "landuse").to_numpy(bool)
        share = float(np.sum(residents[on_land])) / total
        if share > 0.5:
            ratio = spec.settings.default_levels.get("landuse", spec.settings.fallback_levels)
            out.append(
                f"{100 * share:.0f}% of the estimated residents live on residential land with no mapped "
                f"buildings, where the estimate assumes a plot ratio of {ratio:g}; give `population.total`, "
                "`population.raster` or `population.column` for real figures"
            )
    if area is not None:
        text = density_warning(total, area_km2(area), estimated=True)
        if text:
            out.append(text)
    return out


def facility_warnings(
    measured: Measured, inputs: Inputs, settings: TravelSettings, *, allow_partial: bool
) -> list[str]:
    """A warning (or, when most are off, an error) for facilities within reach that attach to no street.

    Parameters
    ----------
    measured : Measured
        The measured study (which facilities attached).
    inputs : Inputs
        The clipped layers (the facilities' source is named).
    settings : TravelSettings
        Its ``max_access_leg_m`` is named in the message.
    allow_partial : bool
        Go on with a warning when most facilities are off the network.

    Returns
    -------
    list of str
    """
    from circles.diagnostics import facilities_off_network_warning

    attached = measured.context.facilities.attached
    text, fatal = facilities_off_network_warning(
        attached, inputs.sources.get("facilities", "facilities"), settings.max_access_leg_m
    )
    if fatal and not allow_partial:
        raise InputError(
            text or "", parameter="allow_partial", fix="or accept a partial result with `allow_partial`"
        )
    return [text] if text else []
