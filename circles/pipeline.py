"""One study area end to end: clip region-wide inputs to the area plus a walking margin, then analyse.

People cross borders: networks and clinics are loaded for the area buffered by the
longest walk, homes are reported only inside the area itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from circles.analysis import StudyResult, analyse
from circles.config import PopulationSettings, TravelSettings
from circles.coverage import summarize
from circles.crs import WGS84, local_utm_crs
from circles.errors import EmptyResultError, InputError
from circles.network import WalkNetwork
from circles.sources.assemble import Inputs, SourceSpec, load_inputs
from circles.sources.boundaries import buffer_area
from circles.sources.population import estimate_population, population_from_column


@dataclass(frozen=True)
class PopulationSpec:
    """Where residents per home come from; the first option given wins.

    Attributes
    ----------
    column : str, optional
        A numeric column of the homes.
    raster : Path, optional
        A people-per-cell GeoTIFF (WorldPop style).
    total : float, optional
        Known residents of the study area, spread by floor area.
    settings : PopulationSettings
        Floor area per resident and default storeys, for estimates.
    """

    column: str | None = None
    raster: Path | None = None
    total: float | None = None
    settings: PopulationSettings = field(default_factory=PopulationSettings)


def _inside(frame: gpd.GeoDataFrame, area: shapely.Geometry, *, by_point: bool) -> np.ndarray:
    geoms = frame.geometry.values
    if by_point:
        geoms = shapely.point_on_surface(geoms)
        return np.asarray(shapely.intersects(area, geoms), dtype=bool)
    return np.asarray(shapely.intersects(area, geoms), dtype=bool)


def _extent(what: gpd.GeoDataFrame | shapely.Geometry | None) -> str:
    """'lon a to b, lat c to d' of a layer or geometry (WGS-84)."""
    if what is None:
        return "the whole input"
    bounds = what.total_bounds if isinstance(what, gpd.GeoDataFrame) else shapely.bounds(what)
    if len(bounds) == 0 or not np.isfinite(bounds).all():
        return "nowhere (empty)"
    w, s, e, n = bounds
    return f"lon {w:.4f} to {e:.4f}, lat {s:.4f} to {n:.4f}"


def _swap_hint(what: gpd.GeoDataFrame | shapely.Geometry | None, walkways: gpd.GeoDataFrame) -> str:
    """A hint when swapping longitude and latitude would put ``what`` onto the network."""
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


def reach_margin_m(settings: TravelSettings) -> float:
    """How far beyond a study area inputs are loaded: the longest walk plus two access legs."""
    return settings.threshold_m + 2 * settings.max_access_leg_m


def clip_inputs(
    inputs: Inputs, area: shapely.Geometry, settings: TravelSettings
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

    Returns
    -------
    (Inputs, shapely geometry)
        The clipped layers and the buffered area they were clipped to.
    """
    margin_m = reach_margin_m(settings)
    reach = buffer_area(area, margin_m)
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


def coordinate_warnings(network: WalkNetwork, inputs: Inputs) -> list[str]:
    """Warnings for planner files whose points fit the streets better in another coordinate system."""
    from circles.diagnostics import coordinate_system_warning
    from circles.sources.coords import parse_coordinate_system

    warnings: list[str] = []
    if not inputs.declared_crs:
        return warnings
    buildings = None if inputs.buildings is None else inputs.buildings.to_crs(network.crs).geometry.values
    for layer, declared in inputs.declared_crs.items():
        frame = getattr(inputs, layer)
        pts = shapely.point_on_surface(frame.to_crs(WGS84).geometry.values)
        lon, lat = shapely.get_coordinates(pts).T
        what = f"{layer} from {inputs.sources.get(layer, 'file')}"
        text = coordinate_system_warning(
            network,
            lon,
            lat,
            declared=parse_coordinate_system(declared),
            what=what,
            buildings_local=buildings,
        )
        if text:
            warnings.append(text)
    return warnings


def population_warnings(homes: gpd.GeoDataFrame, population: np.ndarray, spec: PopulationSpec) -> list[str]:
    """Warn when most estimated residents live on residential land without mapped buildings.

    Such cells carry a plot-ratio guess (see :class:`circles.config.PopulationSettings`)
    that suits dense Chinese estates, not every place; real figures need a total or a
    raster.
    """
    if spec.column or spec.raster or spec.total is not None or "building" not in homes:
        return []
    on_land = (homes["building"] == "landuse").to_numpy(bool)
    total = float(np.sum(population))
    share = float(np.sum(population[on_land])) / total if total > 0 else 0.0
    if share <= 0.5:
        return []
    return [
        f"{100 * share:.0f}% of the estimated residents live on residential land with no mapped "
        "buildings, where the estimate assumes a plot ratio of "
        f"{spec.settings.default_levels.get('landuse', spec.settings.fallback_levels):g}; give "
        "--population-total, --population-raster or --population-field for real figures"
    ]


def home_population(
    homes: gpd.GeoDataFrame, spec: PopulationSpec, area_wgs84: shapely.Geometry | None = None
) -> tuple[np.ndarray, str]:
    """Residents per home by the method ``spec`` asks for, and a sentence naming it.

    Parameters
    ----------
    homes : GeoDataFrame
        Homes (WGS-84).
    spec : PopulationSpec
    area_wgs84 : shapely geometry, optional
        The study area, for reporting raster population that falls outside any home.

    Returns
    -------
    (ndarray, str)
    """
    if spec.column:
        return population_from_column(homes, spec.column), f"column {spec.column!r} of the homes"
    if spec.raster:
        from circles.sources.population import population_from_raster

        return population_from_raster(homes, spec.raster, study_area_wgs84=area_wgs84)
    lon, lat = shapely.get_coordinates(shapely.point_on_surface(homes.geometry.values)).T
    local = homes.to_crs(local_utm_crs(lon, lat))
    return estimate_population(local, spec.settings, total=spec.total)


def run_study(
    inputs: Inputs,
    *,
    name: str,
    boundary: gpd.GeoDataFrame | None = None,
    subareas: gpd.GeoDataFrame | None = None,
    settings: TravelSettings | None = None,
    population: PopulationSpec | None = None,
    recommend_sites: int = 0,
    candidates: gpd.GeoDataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Analyse one study area end to end.

    Parameters
    ----------
    inputs : Inputs
        Region-wide layers (WGS-84); clipped here.
    name : str
        Study-area name for outputs.
    boundary : GeoDataFrame, optional
        The study area (WGS-84, one or more polygons). Without it the whole input is
        the study area.
    subareas : GeoDataFrame, optional
        Smaller areas (e.g. sub-districts, 街道) with a ``name`` column; coverage is
        also summarised per sub-area.
    settings : TravelSettings, optional
    population : PopulationSpec, optional
    recommend_sites : int
        Recommend this many new facility sites (0: none).
    candidates : GeoDataFrame, optional
        The planner's candidate sites; default network nodes near the gaps.
    progress : callable, optional
        Called with the name of each stage as it starts (for a progress display).

    Returns
    -------
    StudyResult
    """
    settings = settings or TravelSettings()
    population = population or PopulationSpec()
    step = progress or (lambda _stage: None)
    step("clipping inputs to the study area")
    t0 = time.perf_counter()
    area = None
    region = inputs
    if boundary is not None:
        area = shapely.union_all(boundary.to_crs(WGS84).geometry.values)
        if area.is_empty:
            raise InputError(f"{name}: the study-area boundary is empty")
        inputs, _reach = clip_inputs(inputs, area, settings)
    if len(inputs.walkways) == 0:
        raise EmptyResultError(
            f"{name}: no walkable streets within reach of the study area "
            f"({_extent(area)}); the network source covers {_extent(region.walkways)}"
            f"{_swap_hint(area, region.walkways)}"
        )
    if len(inputs.facilities) == 0:
        raise EmptyResultError(
            f"{name}: no facilities in or within {settings.threshold_min:g} min of the study area; "
            f"the facilities lie in {_extent(region.facilities)}"
            f"{_swap_hint(region.facilities, region.walkways)}; check their coordinates and coordinate system"
        )
    if len(inputs.homes) == 0:
        raise EmptyResultError(f"{name}: no homes inside the study area")
    t_clip = time.perf_counter() - t0
    step("building the walk network")
    t0 = time.perf_counter()
    walkways = inputs.walkways
    level = walkways["street_level"].fillna(True).to_numpy(bool) if "street_level" in walkways else None
    network = WalkNetwork.from_lines(walkways.geometry.values, street_level=level)
    t_net = time.perf_counter() - t0
    warnings = coordinate_warnings(network, inputs)
    pop, method = home_population(inputs.homes, population, area)
    warnings += population_warnings(inputs.homes, pop, population)
    sources = {**inputs.sources, "population": method}
    result = analyse(
        network,
        inputs.facilities,
        inputs.homes,
        settings=settings,
        population=pop,
        name=name,
        sources=sources,
        boundary=boundary,
        progress=progress,
    )
    result.summary["warnings"] = warnings
    if subareas is not None:
        result.summary["subareas"] = subarea_summaries(result, subareas, settings)
    if recommend_sites:
        from circles.siting import recommend_sites as recommend

        step("choosing new sites")
        t0 = time.perf_counter()
        sites = recommend(result, n_sites=recommend_sites, candidates=candidates)
        result.proposed_sites = sites
        table = sites.drop(columns=sites.geometry.name)
        table = table.assign(lon=sites.geometry.x.round(6), lat=sites.geometry.y.round(6))
        result.summary["proposed_sites"] = json.loads(table.to_json(orient="records", force_ascii=False))
        result.timings_s["siting"] = time.perf_counter() - t0
    result.timings_s = {"clip": t_clip, "build_network": t_net, **result.timings_s}
    return result


def subarea_summaries(
    result: StudyResult, subareas: gpd.GeoDataFrame, settings: TravelSettings
) -> list[dict]:
    """Coverage per sub-area (e.g. sub-district): homes assigned by a point on their surface.

    Parameters
    ----------
    result : StudyResult
    subareas : GeoDataFrame
        Polygons with a ``name`` column (any CRS).
    settings : TravelSettings

    Returns
    -------
    list of dict
        One summary per sub-area (same keys as the area summary's figures), in the
        order of ``subareas``; homes in no sub-area are summarised as ``"(outside
        sub-areas)"`` when there are any.
    """
    if "name" not in subareas:
        raise InputError("sub-areas need a 'name' column; choose it with --subarea-name-field")
    sub = subareas.to_crs(WGS84)
    homes = result.homes
    points = shapely.point_on_surface(homes.geometry.values)
    tree = shapely.STRtree(sub.geometry.values)
    home_idx, sub_idx = tree.query(points, predicate="within")
    owner = np.full(len(homes), -1, dtype=np.int64)
    # A home on a shared border goes to the first sub-area listed.
    order = np.lexsort((sub_idx, home_idx))
    home_idx, sub_idx = home_idx[order], sub_idx[order]
    first = np.ones(home_idx.size, dtype=bool)
    first[1:] = home_idx[1:] != home_idx[:-1]
    owner[home_idx[first]] = sub_idx[first]
    t = homes["walk_time_min"].to_numpy(float)
    pop = homes["population"].to_numpy(float)
    fac_points = result.facilities.geometry.values
    groups = [(str(n), i) for i, n in enumerate(sub["name"])]
    if (owner < 0).any():
        groups.append(("(outside sub-areas)", -1))
    out = []
    for sub_name, i in groups:
        sel = owner == i
        n_inside = int(shapely.intersects(sub.geometry.values[i], fac_points).sum()) if i >= 0 else 0
        s = summarize(t[sel], pop[sel], n_inside, settings)
        s["facilities_inside"] = s.pop("facilities")
        s["residents_per_facility_inside"] = s.pop("residents_per_facility")
        out.append({"name": sub_name, **s})
    return out


def osm_inputs(osm_path: str | Path, *, facilities: str = "primary-care") -> Inputs:
    """Walkways, tagged facilities and residential homes from one OSM file.

    Parameters
    ----------
    osm_path : str or Path
        ``.osm.pbf`` or ``.osm``/``.xml`` file.
    facilities : str
        Facility preset or ``key=value`` tags.

    Returns
    -------
    Inputs
    """
    kind = "osm" if Path(osm_path).suffix.lower() in (".osm", ".xml") else "pbf"
    return load_inputs(SourceSpec(network=kind, network_path=Path(osm_path), facilities=f"osm:{facilities}"))


def run_osm(
    osm_path: str | Path,
    *,
    facilities: str = "primary-care",
    settings: TravelSettings | None = None,
    population: PopulationSpec | None = None,
    name: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> StudyResult:
    """Analyse an OSM extract: its walk network, tagged facilities and residential buildings.

    Parameters
    ----------
    osm_path : str or Path
        ``.osm.pbf`` or ``.osm``/``.xml`` file.
    facilities : str
        Facility preset name or ``key=value`` tags (see :func:`circles.config.facility_preset`).
    settings : TravelSettings, optional
        Speed, bands and snapping limits.
    population : PopulationSpec, optional
        How residents per home are found; default a floor-area estimate.
    name : str, optional
        Study-area name; default the file name.
    boundary : GeoDataFrame, optional
        Study area; default the whole extract.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    StudyResult
    """
    osm_path = Path(osm_path)
    t0 = time.perf_counter()
    inputs = osm_inputs(osm_path, facilities=facilities)
    t_read = time.perf_counter() - t0
    result = run_study(
        inputs,
        name=name or osm_path.name.split(".")[0],
        boundary=boundary,
        settings=settings,
        population=population,
        progress=progress,
    )
    result.timings_s = {"read_osm": t_read, **result.timings_s}
    return result
