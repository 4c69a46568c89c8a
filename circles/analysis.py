"""From a network, facilities, homes and population to walking times, coverage and service areas.

The steps, each a function a reader can follow on its own:

1. :func:`snap` homes and facilities onto the streets;
2. :func:`search_times`: one multi-source search, every home's time to its nearest facility;
3. :func:`home_table` and :func:`facility_table`: the per-home and per-facility outputs;
4. :func:`draw_areas`: service areas per band and each facility's catchment;
5. the summary (:func:`circles.summary.build_summary`).

:func:`measure` runs steps 1-4; :func:`analyse` is the public entry point for data a
notebook already holds, and :func:`circles.pipeline.run_study` the one for files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely

from circles.config import TravelSettings
from circles.coverage import assign_bands, catchments
from circles.engine import NodeCosts, PointCosts, SearchPlan, Snapped, nearest_facility
from circles.errors import EmptyResultError, InputError
from circles.network import WalkNetwork
from circles.residents import HomePopulation, population_of
from circles.result import AnalysisContext, StudyResult, Summary

NO_STREET = "no walkable street within {:g} m"
NO_PATH = "no facility reachable over the walk network (network island)"


@dataclass(frozen=True)
class Measured:
    """Steps 1-4 of an analysis: snapped points, the search, the tables and the polygons."""

    context: AnalysisContext
    homes: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    catchment_areas: gpd.GeoDataFrame | None
    timings_s: dict = field(default_factory=dict)

    def result(
        self,
        name: str,
        settings: TravelSettings,
        summary: Summary,
        *,
        boundary: gpd.GeoDataFrame | None = None,
        proposed_sites: gpd.GeoDataFrame | None = None,
        timings_s: dict | None = None,
    ) -> StudyResult:
        """The study result these measurements make, with its summary (the one place it is built).

        Parameters
        ----------
        name : str
        settings : TravelSettings
        summary : Summary
        boundary : GeoDataFrame, optional
        proposed_sites : GeoDataFrame, optional
        timings_s : dict, optional
            Seconds per stage; default the measuring stages'.

        Returns
        -------
        StudyResult
        """
        return StudyResult(
            name=name,
            settings=settings,
            homes=self.homes,
            facilities=self.facilities,
            service_areas=self.service_areas,
            summary=summary,
            boundary=boundary,
            catchment_areas=self.catchment_areas,
            proposed_sites=proposed_sites,
            timings_s=self.timings_s if timings_s is None else timings_s,
            context=self.context,
        )


def points_xy(frame: gpd.GeoDataFrame, crs) -> np.ndarray:
    """Coordinates in ``crs`` of each feature's point (points as they are, shapes: a point inside).

    Parameters
    ----------
    frame : GeoDataFrame
        Features in any CRS.
    crs : pyproj.CRS or str
        The CRS the coordinates are wanted in.

    Returns
    -------
    ndarray of float64, shape (n, 2)
    """
    return surface_xy(frame.to_crs(crs).geometry.values)


def surface_xy(geoms: np.ndarray) -> np.ndarray:
    """``(n, 2)`` coordinates of each geometry's point: points as they are, shapes a point inside them.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
        Already in the CRS the coordinates are wanted in.

    Returns
    -------
    ndarray of float64
    """
    pts = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    return np.column_stack([shapely.get_x(pts), shapely.get_y(pts)]).reshape(-1, 2)


def snap(
    network: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    settings: TravelSettings,
    *,
    home_xy: np.ndarray | None = None,
) -> tuple[Snapped, Snapped]:
    """Step 1: attach facilities and homes to the nearest street-level edge within the access-leg cap.

    Parameters
    ----------
    network : WalkNetwork
    facilities, homes : GeoDataFrame
        Any CRS; shapes attach at a point on their surface.
    settings : TravelSettings
        The access-leg cap and the smallest island snapped onto.
    home_xy : ndarray, optional
        The homes' :func:`points_xy` in the network's CRS, when the caller has them.

    Returns
    -------
    (Snapped, Snapped)
        The facilities' and the homes' attachments.
    """
    options = {"max_access_leg_m": settings.max_access_leg_m, "min_island_m": settings.min_island_m}
    fac = network.snap(points_xy(facilities, network.crs), **options)
    home = network.snap(points_xy(homes, network.crs) if home_xy is None else home_xy, **options)
    return fac, home


def search_times(
    network: WalkNetwork, fac: Snapped, home: Snapped, settings: TravelSettings, plan: SearchPlan | None
) -> tuple[NodeCosts, PointCosts, np.ndarray]:
    """Step 2: the multi-source search and every home's walking time in minutes (NaN: unreachable).

    The search is not bounded: every reachable home gets its time, however far.
    Times are rounded to 0.001 min once here; coverage and bands derive from the rounded
    value so that every table agrees.

    Parameters
    ----------
    network : WalkNetwork
        The area's network.
    fac, home : Snapped
        The facilities' and homes' attachments (:func:`snap`).
    settings : TravelSettings
        The speed that turns costs (metres or seconds) into minutes.
    plan : SearchPlan or None
        How the search runs (the result does not depend on it).

    Returns
    -------
    tuple of (NodeCosts, PointCosts, ndarray)
        Cost and nearest facility per node, per home, and each home's minutes (NaN: unreachable).
    """
    nodes, pts = nearest_facility(network.travel_graph, fac, home, plan=plan)
    per_min = cost_per_min(network, settings)
    walk_time_min = np.round(np.where(np.isfinite(pts.cost), pts.cost / per_min, np.nan), 3)
    return nodes, pts, walk_time_min


def cost_per_min(network: WalkNetwork, settings: TravelSettings) -> float:
    """The network's cost units per minute of travel: the walking speed in m/min, or 60 for seconds.

    Parameters
    ----------
    network : WalkNetwork
        Its ``cost_unit`` is ``"m"`` (walk networks) or ``"s"`` (other modes).
    settings : TravelSettings
        The walking speed (km/h).

    Returns
    -------
    float
    """
    return settings.speed_m_per_min if network.cost_unit == "m" else 60.0


def facility_ids(facilities: gpd.GeoDataFrame) -> np.ndarray:
    """Stable facility ids: OSM ids where known, else ``F1, F2, ...`` in input order.

    Parameters
    ----------
    facilities : GeoDataFrame
        With a ``facility_id`` or ``osm_id`` column when the source has one.

    Returns
    -------
    ndarray of str
    """
    if "facility_id" in facilities:
        return facilities["facility_id"].astype(str).to_numpy()
    if "osm_id" in facilities:
        return facilities["osm_id"].astype(str).to_numpy()
    return np.array([f"F{i + 1}" for i in range(len(facilities))], dtype=object)


def home_table(
    homes: gpd.GeoDataFrame,
    home: Snapped,
    pts: PointCosts,
    walk_time_min: np.ndarray,
    fac_ids: np.ndarray,
    population: HomePopulation,
    settings: TravelSettings,
) -> gpd.GeoDataFrame:
    """Step 3a: one row per home (WGS-84) with its time, nearest facility, band and residents.

    Parameters
    ----------
    homes : GeoDataFrame
        The homes, any CRS.
    home : Snapped
        Their attachments (access legs in metres).
    pts : PointCosts
        Their nearest facility (row index, -1: none).
    walk_time_min : ndarray
        Their minutes to it (NaN: unreachable).
    fac_ids : ndarray of str
        The facilities' ids (:func:`facility_ids`).
    population : HomePopulation
        Residents per home and how each was found.
    settings : TravelSettings
        Threshold, bands and the access-leg cap (named in the reason of unattached homes).

    Returns
    -------
    GeoDataFrame
    """
    reason = np.where(
        ~home.attached,
        NO_STREET.format(settings.max_access_leg_m),
        np.where(np.isnan(walk_time_min), NO_PATH, ""),
    )
    out = homes.to_crs("EPSG:4326").copy()
    out["walk_time_min"] = walk_time_min
    out["nearest_facility"] = np.where(pts.facility >= 0, fac_ids[np.clip(pts.facility, 0, None)], None)
    out["covered"] = walk_time_min <= settings.threshold_min
    out["band"] = assign_bands(walk_time_min, settings.bands_min or ())
    out["population"] = np.round(population.residents, 2)
    out["population_method"] = population.method_per_home
    out["access_leg_m"] = np.round(home.access_leg_m, 1)
    out["unreachable_reason"] = reason
    return out


def facility_table(
    facilities: gpd.GeoDataFrame,
    fac: Snapped,
    pts: PointCosts,
    fac_ids: np.ndarray,
    population: np.ndarray,
    inside_area: np.ndarray,
) -> gpd.GeoDataFrame:
    """Step 3b: one row per facility (WGS-84): inside the area? on the network? its catchment.

    Parameters
    ----------
    facilities : GeoDataFrame
        The facilities, any CRS.
    fac : Snapped
        Their attachments.
    pts : PointCosts
        Each home's nearest facility (the catchments).
    fac_ids : ndarray of str
        The facilities' ids.
    population : ndarray
        Residents per home.
    inside_area : ndarray of bool
        Which facilities lie inside the study area.

    Returns
    -------
    GeoDataFrame
    """
    catch = catchments(pts.facility, np.asarray(population, float), len(facilities))
    out = facilities.to_crs("EPSG:4326").copy()
    if "facility_id" in out:
        out = out.drop(columns="facility_id")
    out.insert(0, "facility_id", fac_ids)
    out["inside_area"] = np.asarray(inside_area, dtype=bool)
    out["attached"] = fac.attached
    out["catchment_homes"] = catch["catchment_homes"].to_numpy()
    out["catchment_population"] = catch["catchment_population"].to_numpy()
    out["access_leg_m"] = np.round(fac.access_leg_m, 1)
    from circles.summary import capacity_figures

    _, per_catchment = capacity_figures(out, float(np.sum(population)))
    if per_catchment is not None:
        out["capacity_per_10k_catchment"] = per_catchment
    return out


def draw_areas(
    network: WalkNetwork,
    nodes: NodeCosts,
    fac: Snapped,
    fac_table: gpd.GeoDataFrame,
    settings: TravelSettings,
    *,
    catchments: bool = True,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Step 4: one service-area polygon per band (nested), and each facility's catchment polygon.

    Bands are converted to the network's cost units (metres walked, or seconds);
    ``catchments=False`` skips the per-facility polygons (None).

    Parameters
    ----------
    network : WalkNetwork
        The area's network.
    nodes : NodeCosts
        Cost and nearest facility per node.
    fac : Snapped
        The facilities' attachments (the searches' sources).
    fac_table : GeoDataFrame
        The facility table (:func:`facility_table`), for the catchments' columns.
    settings : TravelSettings
        Bands, threshold and the width of the drawn streets (metres).
    catchments : bool
        Also draw each facility's catchment polygon.

    Returns
    -------
    tuple of (GeoDataFrame, GeoDataFrame or None)
        Service areas per band and catchments per facility (WGS-84).
    """
    from circles.areas import service_areas, service_areas_by_facility

    bands = settings.bands_min or ()
    per_min = cost_per_min(network, settings)
    polygons = service_areas(network, nodes, fac, [b * per_min for b in bands], settings.area_buffer_m)
    areas = gpd.GeoDataFrame(
        {"band_min": list(bands)}, geometry=gpd.GeoSeries(polygons, crs=network.crs)
    ).to_crs("EPSG:4326")
    if not catchments:
        return areas, None
    threshold = settings.threshold_min * per_min
    own = service_areas_by_facility(network, nodes, fac, threshold, settings.area_buffer_m)
    columns = ["facility_id", "catchment_homes", "catchment_population"]
    catchment = gpd.GeoDataFrame(
        fac_table[columns].assign(name=fac_table.get("name"), band_min=settings.threshold_min),
        geometry=gpd.GeoSeries(own, crs=network.crs),
    ).to_crs("EPSG:4326")
    return areas, catchment


def measure(
    network: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    population: HomePopulation,
    settings: TravelSettings,
    *,
    inside_area: np.ndarray | None = None,
    plan: SearchPlan | None = None,
    progress: Callable[[str], None] | None = None,
    catchment_areas: bool = True,
    home_xy: np.ndarray | None = None,
) -> Measured:
    """Steps 1-4: snap, search, tables and polygons.

    Parameters
    ----------
    network : WalkNetwork
    facilities, homes : GeoDataFrame
        Any CRS; shapes are represented by a point on their surface.
    population : HomePopulation
        Residents per home and how they were found.
    settings : TravelSettings
    inside_area : ndarray of bool, optional
        Per facility: inside the study area (default: all).
    plan : SearchPlan, optional
    progress : callable, optional
        Called with the name of each stage as it starts.
    catchment_areas : bool
        Draw each facility's catchment polygon (``Measured.catchment_areas``; None when False).
    home_xy : ndarray, optional
        The homes' points in the network's CRS (:func:`points_xy`), when already computed.

    Returns
    -------
    Measured
    """
    step = progress or (lambda _stage: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    step("snapping homes and facilities to streets")
    fac, home = snap(network, facilities, homes, settings, home_xy=home_xy)
    if not fac.attached.any():
        raise EmptyResultError(
            f"none of the {len(facilities)} facilities lies within {settings.max_access_leg_m:g} m of a "
            "walkable street",
            parameter="max_access_leg_m",
            fix="check their coordinates (swapped longitude/latitude? another coordinate system?) "
            "or raise `max_access_leg_m`",
        )
    timings["snap"] = time.perf_counter() - t0
    step("searching walking times")
    t0 = time.perf_counter()
    nodes, pts, walk_time_min = search_times(network, fac, home, settings, plan)
    timings["search"] = time.perf_counter() - t0
    ids = facility_ids(facilities)
    inside = np.ones(len(facilities), dtype=bool) if inside_area is None else inside_area
    homes_out = home_table(homes, home, pts, walk_time_min, ids, population, settings)
    fac_out = facility_table(facilities, fac, pts, ids, population.residents, inside)
    step("drawing service areas")
    t0 = time.perf_counter()
    areas, catchment = draw_areas(network, nodes, fac, fac_out, settings, catchments=catchment_areas)
    timings["service_areas"] = time.perf_counter() - t0
    context = AnalysisContext(network, fac, home, nodes, population)
    return Measured(context, homes_out, fac_out, areas, catchment, timings)


def as_network(network: object, settings: TravelSettings) -> WalkNetwork:
    """A :class:`WalkNetwork` from a WalkNetwork, an OSMnx/networkx graph or walkway lines.

    Parameters
    ----------
    network : WalkNetwork, networkx graph, GeoDataFrame or GeoSeries
        The network as the caller has it (lines need a CRS).
    settings : TravelSettings
        The study's settings.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    InputError
        For anything else, naming the types accepted.
    """
    if isinstance(network, WalkNetwork):
        return network
    if hasattr(network, "edges") and hasattr(network, "nodes") and hasattr(network, "graph"):
        return WalkNetwork.from_graph(network)
    if isinstance(network, gpd.GeoDataFrame | gpd.GeoSeries):
        lines = network.geometry if isinstance(network, gpd.GeoDataFrame) else network
        if network.crs is None:
            raise InputError(
                "the walkway lines have no CRS", parameter="network", fix="set one (e.g. EPSG:4326)"
            )
        return WalkNetwork.from_lines(lines.values, network.crs)
    raise InputError(
        f"cannot use a {type(network).__name__} as the network",
        parameter="network",
        fix="pass a circles.WalkNetwork, an OSMnx/networkx graph, or a GeoDataFrame of walkway lines",
    )


def _check_frame(frame: object, parameter: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(
            f"`{parameter}` must be a GeoDataFrame, got {type(frame).__name__}",
            parameter=parameter,
            fix="build one with geopandas (e.g. gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), "
            "crs='EPSG:4326'))",
        )
    if frame.crs is None:
        raise InputError(
            f"`{parameter}` has no CRS", parameter=parameter, fix="set one, e.g. .set_crs('EPSG:4326')"
        )
    if len(frame) == 0:
        raise EmptyResultError(f"`{parameter}` is empty", parameter=parameter)
    return frame


def analyse(
    network: object,
    facilities: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    *,
    population: str | np.ndarray | None = "population",
    settings: TravelSettings | None = None,
    name: str = "study area",
    boundary: gpd.GeoDataFrame | None = None,
    plan: SearchPlan | None = None,
) -> StudyResult:
    """Walking times, coverage, catchments and service areas for data already in memory.

    Parameters
    ----------
    network : WalkNetwork, networkx.MultiDiGraph or GeoDataFrame
        A :class:`WalkNetwork`, an OSMnx graph (walked both ways in metres; for a
        weighted graph build ``WalkNetwork.from_graph(G, weight="travel_time")``), or
        walkway lines.
    facilities, homes : GeoDataFrame
        Any CRS; shapes are represented by a point on their surface. ``facilities``
        may carry ``name`` and ``capacity`` columns.
    population : str, array_like or None
        Residents per home: a column of ``homes``, an array aligned with it, or None for
        one resident per home. The default uses a ``population`` column when there is
        one, and one resident per home (said in the summary) when there is not.
    settings : TravelSettings, optional
    name : str
        Study-area name used in outputs.
    boundary : GeoDataFrame, optional
        Study-area outline; facilities outside it are counted as "nearby", not inside.
    plan : SearchPlan, optional
        How bounded searches run (the result does not depend on it).

    Returns
    -------
    StudyResult
    """
    from circles.summary import build_summary

    settings = settings or TravelSettings()
    facilities = _check_frame(facilities, "facilities")
    homes = _check_frame(homes, "homes")
    net = as_network(network, settings)
    pop = population_of(homes, population)
    inside = None
    if boundary is not None:
        area = shapely.union_all(boundary.to_crs("EPSG:4326").geometry.values)
        inside = shapely.intersects(area, shapely.points(points_xy(facilities, "EPSG:4326")))
    measured = measure(net, facilities, homes, pop, settings, inside_area=inside, plan=plan)
    return measured.result(name, settings, build_summary(name, measured, pop, settings), boundary=boundary)
