"""A study area's share of region-wide inputs: what lies within reach, and who lives there.

People cross borders: networks and clinics are loaded for the area buffered by the
longest walk, homes are reported only inside the area itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from circles.config import PopulationSettings, TravelSettings
from circles.crs import WGS84, local_utm_crs
from circles.residents import HomePopulation
from circles.sources.assemble import Inputs
from circles.sources.boundaries import buffer_area

#: Per-home methods of the default floor-area estimate.
FLOOR_AREA = "estimated: floor area (footprint x storeys)"
LAND_PLOT_RATIO = "estimated: residential land without mapped buildings (plot ratio)"


@dataclass(frozen=True)
class PopulationSpec:
    """Where residents per home come from; the first option given wins.

    Attributes
    ----------
    column : str, optional
        A numeric column of the homes (counted residents).
    raster : Path, optional
        A people-per-cell GeoTIFF (WorldPop style; modelled, so estimated).
    total : float, optional
        Known residents of the study area, spread by floor area.
    settings : PopulationSettings
        Floor area per resident and default storeys, for estimates.
    """

    column: str | None = None
    raster: Path | None = None
    total: float | None = None
    settings: PopulationSettings = field(default_factory=PopulationSettings)


def reach_margin_m(settings: TravelSettings) -> float:
    """How far beyond a study area inputs are loaded: the longest band's walk plus two access legs.

    Parameters
    ----------
    settings : TravelSettings
        Speed, longest band (minutes) and longest access leg (metres) of the run.
    """
    return settings.longest_band_m + 2 * settings.max_access_leg_m


def _inside(frame: gpd.GeoDataFrame, area: shapely.Geometry, *, by_point: bool) -> np.ndarray:
    geoms = frame.geometry.values
    if by_point:
        geoms = shapely.point_on_surface(geoms)
    return np.asarray(shapely.intersects(area, geoms), dtype=bool)


def clip_inputs(
    inputs: Inputs, area: shapely.Geometry, settings: TravelSettings, *, margin_m: float | None = None
) -> tuple[Inputs, shapely.Geometry]:
    """Keep what a study area needs: homes inside it, streets and clinics within reach.

    Parameters
    ----------
    inputs : Inputs
        Region-wide layers (WGS-84).
    area : shapely geometry
        The study area (WGS-84).
    settings : TravelSettings
        The margin is the longest band's walking distance plus two access legs
        (a home's and a clinic's).
    margin_m : float, optional
        A wider margin in metres (e.g. a drive's reach, :func:`circles.tier_study.tier_margin_m`);
        the walking margin is kept when it is wider.

    Returns
    -------
    (Inputs, shapely geometry)
        The clipped layers and the buffered area they were clipped to.
    """
    reach = buffer_area(area, max(reach_margin_m(settings), margin_m or 0.0))
    shapely.prepare(reach)
    shapely.prepare(area)
    clipped = Inputs(
        walkways=inputs.walkways[_inside(inputs.walkways, reach, by_point=False)],
        facilities=inputs.facilities[_inside(inputs.facilities, reach, by_point=True)],
        homes=inputs.homes[_inside(inputs.homes, area, by_point=True)],
        sources=inputs.sources,
        declared_crs=inputs.declared_crs,
        buildings=None
        if inputs.buildings is None
        else inputs.buildings[_inside(inputs.buildings, reach, by_point=True)],
    )
    return clipped, reach


def extent_text(what: gpd.GeoDataFrame | shapely.Geometry | None) -> str:
    """'lon a to b, lat c to d' of a layer or geometry (WGS-84).

    Parameters
    ----------
    what : GeoDataFrame, shapely geometry or None
        The layer or geometry, in WGS-84 degrees; None for the whole input.
    """
    if what is None:
        return "the whole input"
    bounds = what.total_bounds if isinstance(what, gpd.GeoDataFrame) else shapely.bounds(what)
    if len(bounds) == 0 or not np.isfinite(bounds).all():
        return "no location (the layer is empty)"
    w, s, e, n = (float(b) for b in bounds)
    return f"lon {w:.4f} to {e:.4f}, lat {s:.4f} to {n:.4f}"


def swap_hint(what: gpd.GeoDataFrame | shapely.Geometry | None, walkways: gpd.GeoDataFrame) -> str:
    """A hint when swapping longitude and latitude would put ``what`` onto the network.

    Parameters
    ----------
    what : GeoDataFrame, shapely geometry or None
        The input that misses the network, in WGS-84 degrees; no hint when None.
    walkways : GeoDataFrame
        The network's walkways, in WGS-84.
    """
    if what is None or len(walkways) == 0:
        return ""
    w, s, e, n = what.total_bounds if isinstance(what, gpd.GeoDataFrame) else shapely.bounds(what)
    if not np.isfinite([w, s, e, n]).all():
        return ""
    swapped = shapely.box(s, w, n, e)
    return (
        "; are longitude and latitude swapped?"
        if swapped.intersects(shapely.box(*walkways.total_bounds))
        else ""
    )


def home_population(
    homes: gpd.GeoDataFrame,
    spec: PopulationSpec,
    area_wgs84: shapely.Geometry | None = None,
    *,
    projected: gpd.GeoSeries | None = None,
) -> HomePopulation:
    """Residents per home by the method ``spec`` asks for, with the method per home and in total.

    Parameters
    ----------
    homes : GeoDataFrame
        Homes (WGS-84).
    spec : PopulationSpec
    area_wgs84 : shapely geometry, optional
        The study area, for reporting raster population that falls outside any home.
    projected : GeoSeries, optional
        The homes' geometries already projected (e.g. to the network's CRS): used for
        floor areas when that is the homes' own UTM zone, instead of projecting again.

    Returns
    -------
    HomePopulation
    """
    from circles.sources.population import estimate_population, population_from_column

    if spec.column:
        values = population_from_column(homes, spec.column)
        return HomePopulation.uniform(
            values, f"counted: column {spec.column!r} of the homes", estimated=False
        )
    if spec.raster:
        from circles.sources.population import population_from_raster

        values, text = population_from_raster(homes, spec.raster, study_area_wgs84=area_wgs84)
        return HomePopulation.uniform(values, f"estimated: {text}", estimated=True)
    lon, lat = shapely.get_coordinates(shapely.point_on_surface(homes.geometry.values)).T
    crs = local_utm_crs(lon, lat)
    if projected is not None and projected.crs == crs:
        local = homes.set_geometry(gpd.GeoSeries(projected.values, index=homes.index, crs=crs))
    else:
        local = homes.to_crs(crs)
    values, text = estimate_population(local, spec.settings, total=spec.total)
    on_land = (
        (homes["building"] == "landuse").to_numpy(bool) if "building" in homes else np.zeros(len(homes), bool)
    )
    per_home = np.where(on_land, LAND_PLOT_RATIO, FLOOR_AREA)
    return HomePopulation.mixed(values, per_home, f"estimated: {text}", estimated=True)


def area_km2(area_wgs84: shapely.Geometry) -> float:
    """Surface of a WGS-84 area in km^2 (local UTM zone).

    Parameters
    ----------
    area_wgs84 : shapely geometry
        The area, in WGS-84 degrees.
    """
    lon, lat = shapely.get_coordinates(area_wgs84).T
    local = gpd.GeoSeries([area_wgs84], crs=WGS84).to_crs(local_utm_crs(lon, lat))
    return float(local.area.iloc[0]) / 1e6
