"""Assemble region-wide inputs (network, facilities, homes) from whatever the planner has.

This is the one place that decides which reader serves which option; the readers
themselves live in the sibling modules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely

from circles.config import TagPreset, facility_preset
from circles.errors import EmptyResultError, InputError, error_scope
from circles.sources.formats import looks_like_file
from circles.sources.osm import OsmLayers, read_osm, residential_homes


@dataclass(frozen=True)
class Inputs:
    """Region-wide source layers in WGS-84, before clipping to a study area.

    Attributes
    ----------
    walkways : GeoDataFrame
        Walkable LineStrings.
    facilities : GeoDataFrame
        Facility points (or polygons), with a ``name`` column where known.
    homes : GeoDataFrame
        Home polygons or points; ``building`` and ``building:levels`` serve floor-area
        population estimates; a planner's file may carry a population column.
    sources : dict
        Plain-language description of each input, copied into the summary.
    declared_crs : dict
        The coordinate system each layer read from a planner's file was declared in
        (``{"facilities": "gcj02"}``), so that a likely mistake can be flagged.
    buildings : GeoDataFrame, optional
        All mapped building footprints (OSM), used to check planner files' coordinates.
    source_extent : Inputs, optional
        For layers cut from a larger source (a batch's per-area extract): stand-ins with
        the whole source's extents (:func:`circles.layers_io.source_extent_of`), which
        the checks and messages of :func:`circles.pipeline.run_study` describe. None
        when these layers are the whole source.
    """

    walkways: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame
    sources: dict = field(default_factory=dict)
    declared_crs: dict = field(default_factory=dict)
    buildings: gpd.GeoDataFrame | None = None
    source_extent: Inputs | None = None


@dataclass(frozen=True)
class PointFileOptions:
    """How to read a planner's point file (see :func:`circles.sources.files.read_points`).

    ``crs`` None means WGS-84 for tables and the file's own CRS for geometry files.
    """

    crs: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None
    name_column: str | None = None
    kind_column: str | None = None
    capacity_column: str | None = None
    name_contains: str | list[str] | None = None
    name_excludes: str | list[str] | None = None
    kind_contains: str | list[str] | None = None
    kind_excludes: str | list[str] | None = None
    encoding: str | None = None
    layer: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    """Where each input comes from.

    Attributes
    ----------
    network : str
        ``"pbf"``, ``"osm"``, ``"graphml"`` or ``"place"``.
    network_path : Path, optional
        The file for ``pbf``/``osm``/``graphml``.
    place : str, optional
        A place name for online downloads.
    facilities : str
        ``"osm"``, ``"osm:<preset>"``, a preset name, ``key=value`` tags, or a file path.
    facility_options : PointFileOptions
        Options for a facility file.
    homes : str
        ``"osm"`` or a file path.
    home_options : PointFileOptions
        Options for a homes file (``crs``, lon/lat columns, ``encoding``, ``layer``).
    """

    network: str
    network_path: Path | None = None
    place: str | None = None
    facilities: str = "osm"
    facility_options: PointFileOptions = field(default_factory=PointFileOptions)
    homes: str = "osm"
    home_options: PointFileOptions = field(default_factory=PointFileOptions)


def facility_source(spec: str) -> tuple[str, TagPreset | Path]:
    """Classify a ``facilities`` value as OSM tags or a planner's file.

    A value that exists, has a file ending of :mod:`circles.sources.formats` or
    contains a path separator is a file (a missing one is then reported as a missing
    file); anything else is a preset name or ``key=value`` tags.

    Parameters
    ----------
    spec : str
        ``"osm"``, ``"osm:hospital"``, ``"primary-care"``, ``"amenity=clinic"``,
        ``"shop=chemist"`` or a path.

    Returns
    -------
    ("osm", TagPreset) or ("file", Path)
    """
    with error_scope("facilities"):
        if spec == "osm":
            return "osm", facility_preset("primary-care")
        if spec.startswith("osm:"):
            return "osm", facility_preset(spec[4:])
        if looks_like_file(spec):
            return "file", Path(spec)
        return "osm", facility_preset(spec)


def _osm_layers(
    spec: SourceSpec, preset: TagPreset, area_wgs84: shapely.Geometry | None, networks: tuple[str, ...]
) -> OsmLayers:
    if spec.network in ("pbf", "osm"):
        return read_osm(spec.network_path, preset, networks=networks)
    if spec.network == "place":
        from circles.sources.online import osm_layers_online

        if area_wgs84 is None:
            raise InputError("an online download needs a study area", parameter="area_wgs84")
        return osm_layers_online(area_wgs84, preset)
    raise InputError(
        f"facilities and homes from OSM tags need an OSM network source (pbf, osm or place), "
        f"not {spec.network}",
        parameter="facilities",
        fix="give files as `facilities` and `homes`",
    )


def _walk_only(spec: SourceSpec, networks: tuple[str, ...]) -> None:
    """An InputError when modes other than walking are asked of a source that holds walkways only."""
    others = [n for n in networks if n != "walk"]
    if others and spec.network not in ("pbf", "osm"):
        raise InputError(
            f"cycling, e-bike and driving networks ({', '.join(others)}) are read from an OSM file "
            f"(.osm.pbf or .osm), not from {spec.network}",
            parameter="networks",
            fix="give an OSM extract as the network source, or analyse walking only (`networks`)",
        )


def _walkways(spec: SourceSpec, layers: OsmLayers | None, sources: dict[str, str]) -> gpd.GeoDataFrame:
    if spec.network == "graphml":
        from circles.sources.graphml import read_graphml_walkways

        walkways = read_graphml_walkways(spec.network_path)
        sources["network"] = Path(spec.network_path).name
    else:
        walkways = layers.walkways
        sources["network"] = (
            f"OSM online: {spec.place}" if spec.network == "place" else Path(spec.network_path).name
        )
    if len(walkways) == 0:
        raise EmptyResultError(
            "no walkable ways", where=sources["network"], fix="check that this is the right extract"
        )
    return walkways


def _facilities(
    spec: SourceSpec, source: TagPreset | Path, layers: OsmLayers | None, sources: dict, declared: dict
) -> gpd.GeoDataFrame:
    if isinstance(source, TagPreset):
        tag_columns = dict.fromkeys(["amenity", "healthcare", *(key for key, _ in source.tags)])
        facilities = layers.facilities[["osm_id", "name", *tag_columns, "located_at", "geometry"]]
        sources["facilities"] = f"OSM {source.name} ({', '.join(f'{k}={v}' for k, v in source.tags)})"
        if len(facilities) == 0:
            raise EmptyResultError(
                f"no facilities tagged {source.name}",
                where=sources["network"],
                parameter="facilities",
                fix="check the tags, or give a facility file as `facilities`",
            )
        return facilities
    from circles.sources.files import read_points

    o = spec.facility_options
    with error_scope("facilities"):
        facilities = read_points(source, **asdict(o))
    sources["facilities"] = f"{Path(source).name} ({o.crs or 'as in the file'})"
    declared["facilities"] = o.crs or "wgs84"
    return facilities


def _homes(spec: SourceSpec, layers: OsmLayers | None, sources: dict, declared: dict) -> gpd.GeoDataFrame:
    if spec.homes == "osm":
        sources["homes"] = "OSM residential buildings"
        return residential_homes(layers)
    from circles.sources.files import read_homes

    o = spec.home_options
    with error_scope("homes"):
        homes = read_homes(
            Path(spec.homes),
            crs=o.crs,
            lon_column=o.lon_column,
            lat_column=o.lat_column,
            encoding=o.encoding,
            layer=o.layer,
        )
    sources["homes"] = f"{Path(spec.homes).name} ({o.crs or 'as in the file'})"
    declared["homes"] = o.crs or "wgs84"
    return homes


def load_inputs(
    spec: SourceSpec, *, area_wgs84: shapely.Geometry | None = None, networks: tuple[str, ...] = ("walk",)
) -> Inputs:
    """Read the network, facilities and homes the spec names.

    Each planner's file is read inside :func:`circles.errors.error_scope` (``"facilities"``,
    ``"homes"``), so an error naming ``crs`` or ``lon_column`` says which input it concerns.

    Parameters
    ----------
    spec : SourceSpec
    area_wgs84 : shapely geometry, optional
        The study area buffered by the longest walk; needed for online downloads.
    networks : tuple of str
        Networks to read ways for (``"walk"``, ``"bike"``, ``"ebike"``, ``"drive"``;
        see :func:`circles.sources.osm.read_osm`); more than walking needs an OSM file.

    Returns
    -------
    Inputs
    """
    kind, fac_source = facility_source(spec.facilities)
    preset = fac_source if kind == "osm" else facility_preset("primary-care")
    needs_osm = kind == "osm" or spec.homes == "osm" or spec.network in ("pbf", "osm", "place")
    _walk_only(spec, networks)
    layers = _osm_layers(spec, preset, area_wgs84, networks) if needs_osm else None
    sources: dict[str, str] = {"attribution": "(c) OpenStreetMap contributors, ODbL"}
    declared: dict[str, str] = {}
    walkways = _walkways(spec, layers, sources)
    facilities = _facilities(spec, fac_source, layers, sources, declared)
    homes = _homes(spec, layers, sources, declared)
    buildings = layers.buildings[["geometry"]] if layers is not None else None
    return Inputs(walkways, facilities, homes, sources, declared, buildings)
