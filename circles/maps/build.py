"""Build the map of one study result: the folium map, its layers in drawing order, the legend."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from circles.errors import InputError, OutputError
from circles.maps import layers as lay
from circles.maps import style as sty
from circles.maps.areas import boundary_spec, catchment_spec, service_area_specs, subarea_spec
from circles.maps.assets import Raw, use_resources
from circles.maps.cells import hex_levels, level_specs, surface_points
from circles.maps.encode import STEP_DEG, Display, encode_lines
from circles.maps.legend import LEGEND_CSS, LegendParts, legend_html
from circles.maps.points import (
    band_table,
    facility_names,
    facility_specs,
    home_props,
    home_specs,
    proposed_sites_wgs84,
    site_spec,
)
from circles.maps.tiles import OSM_DATA_CREDIT, TileSource, tile_source
from circles.result import StudyResult

if TYPE_CHECKING:  # pragma: no cover
    import folium

#: Above this many facilities their names show only from zoom 14 on.
ALWAYS_LABELLED = 30
#: Most hexagons in one grid of an aggregated map.
MAX_CELLS_PER_GRID = 10_000
#: Most gap homes kept as single homes on an aggregated map.
MAX_DETAIL_GAPS = 250_000


@dataclass(frozen=True)
class MapOptions:
    """How ``map.html`` is made.

    Attributes
    ----------
    self_contained : bool
        Inline Leaflet so the page draws with no internet (default); False links it
        from a CDN (about 150 kB smaller).
    tiles : str or None
        Basemap: ``"osm"``, ``"none"``, ``"amap"``, ``"tencent"``, ``"tianditu"``, a URL
        template or a ``.mbtiles`` file (see :func:`circles.maps.tiles.tile_source`).
    tiles_key : str, optional
        Key for Tianditu (default: the ``CIRCLES_TIANDITU_KEY`` environment variable).
    max_home_features : int
        Most homes drawn one by one at every zoom; above it homes are summed into
        hexagons and drawn one by one only from ``detail_min_zoom`` on.
    detail_min_zoom : int
        Zoom level from which single homes show on an aggregated map.
    max_detail_homes : int
        Most covered homes kept as single homes on an aggregated map (the gaps are
        always kept, up to :data:`MAX_DETAIL_GAPS`).
    streets : bool
        Draw the walk network and the reached streets by walking time.
    """

    self_contained: bool = True
    tiles: str | None = "osm"
    tiles_key: str | None = None
    max_home_features: int = 3000
    detail_min_zoom: int = 15
    max_detail_homes: int = 50_000
    streets: bool = True

    def __post_init__(self) -> None:
        if self.max_home_features < 1:
            raise InputError(f"max_home_features must be at least 1, got {self.max_home_features}")

    def fingerprint(self) -> dict[str, Any]:
        """The options that change the page, for the output fingerprint (no key)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "tiles_key"}


def map_options(options: MapOptions | None = None, **changes: Any) -> MapOptions:
    """``options`` (default :class:`MapOptions`) with ``changes``; ``offline=True`` is the default.

    Parameters
    ----------
    options : MapOptions, optional
        The options to start from; :class:`MapOptions` defaults when None.
    **changes : object
        Fields of :class:`MapOptions`, and ``offline``.
    """
    offline = changes.pop("offline", None)
    if offline:
        changes.setdefault("self_contained", True)
    unknown = set(changes) - {f.name for f in fields(MapOptions)}
    if unknown:
        raise InputError(f"unknown map option {sorted(unknown)[0]!r}", fix="see circles.maps.MapOptions")
    return replace(options or MapOptions(), **changes)


def _bounds(result: StudyResult, display: Display) -> list[list[float]]:
    frames = [result.homes, result.facilities, result.service_areas]
    if result.boundary is not None and len(result.boundary):
        frames.append(result.boundary)
    boxes = np.array(
        [f.to_crs("EPSG:4326").total_bounds for f in frames if len(f) and not f.geometry.is_empty.all()]
    )
    corners = np.array(
        [[np.nanmin(boxes[:, 0]), np.nanmin(boxes[:, 1])], [np.nanmax(boxes[:, 2]), np.nanmax(boxes[:, 3])]]
    )
    (w, s), (e, n) = display.xy(corners)
    return [[float(s), float(w)], [float(n), float(e)]]


def _add_tiles(fm: Any, m: folium.Map, source: TileSource | None) -> None:
    if source is None:
        return
    options = {"subdomains": source.subdomains, "tms": source.tms, "max_native_zoom": source.max_native_zoom}
    fm.TileLayer(
        source.url, attr=source.attribution, name=source.name, max_zoom=source.max_zoom, **options
    ).add_to(m)
    for url in source.overlay_urls:
        fm.TileLayer(
            url, attr=source.attribution, name="labels", overlay=True, control=False, **options
        ).add_to(m)


def _street_layers(m: folium.Map, result: StudyResult, colours: dict[str, str], display: Display) -> bool:
    if result.context is None:
        return False
    from circles.coverage import band_labels
    from circles.maps.streets import reached_street_bands, street_lines

    lines = street_lines(result.context.network)
    style = {"color": sty.STREET_COLOUR, "weight": 1, "opacity": 0.7, "interactive": False}
    geom = encode_lines(np.array([shapely.multilinestrings(lines)], dtype=object), display, STEP_DEG)
    lay.DataLayer(
        {"id": "streets", "kind": "line", "pane": "streets", "geom": geom, "style": style}, sty.LAYER_STREETS
    ).add_to(m)
    labels = band_labels(tuple(result.settings.bands_min or ()))
    paths, band = reached_street_bands(result)
    per_band = [shapely.multilinestrings(paths[band == i]) for i in range(len(labels) - 1)]
    spec = {
        "id": "street_times",
        "kind": "line",
        "pane": "streets",
        "geom": encode_lines(np.array(per_band, dtype=object), display, STEP_DEG),
        "style": {"weight": 2.5, "opacity": 0.95, "interactive": False},
        "colourBy": "b",
        "colours": [colours[lab] for lab in labels[:-1]],
        "props": {"b": list(range(len(per_band)))},
    }
    lay.DataLayer(spec, sty.LAYER_STREET_TIMES).add_to(m)
    return True


def _home_layers(
    m: folium.Map, result: StudyResult, options: MapOptions, display: Display, tables: dict
) -> dict:
    """Cells (above ``max_home_features`` homes), then single homes and gaps; returns legend facts."""
    _, colours = band_table(result)
    props = home_props(result, tables["notes"])
    homes = result.homes
    aggregate = len(homes) > options.max_home_features
    points = surface_points(homes.geometry.to_crs("EPSG:4326")) if aggregate else None
    facts: dict[str, Any] = {"cells": aggregate}
    min_zoom = options.detail_min_zoom if aggregate else None
    if aggregate:
        threshold = result.settings.threshold_min
        levels = hex_levels(
            homes, below_zoom=options.detail_min_zoom, max_cells=MAX_CELLS_PER_GRID, points=points
        )
        cells, dots = level_specs(levels, threshold, display)
        lay.DataLayer(cells, sty.hex_layer_name(threshold)).add_to(m)
        lay.DataLayer(dots, sty.uncovered_layer_name(threshold), show=False).add_to(m)
        facts.update(detail_zoom=options.detail_min_zoom)
    covered, gaps = home_specs(
        result, props, colours, display, points=points if aggregate else None, min_zoom=min_zoom
    )
    n_covered = int(homes["covered"].sum())
    if covered is not None and (not aggregate or n_covered <= options.max_detail_homes):
        lay.DataLayer(covered, sty.LAYER_HOMES).add_to(m)
    elif covered is not None:
        facts["gaps_only"] = True  # too many covered homes to hold one by one: the hexagons show them
    if gaps is not None and len(homes) - n_covered <= MAX_DETAIL_GAPS:
        lay.DataLayer(gaps, sty.LAYER_GAPS).add_to(m)
    return facts


def build_map(
    result: StudyResult,
    *,
    options: MapOptions | None = None,
    proposed_sites: gpd.GeoDataFrame | None = None,
    subareas: gpd.GeoDataFrame | None = None,
    **changes: Any,
) -> folium.Map:
    """Draw a study result as a Folium map.

    Layers, bottom to top: service areas per band, catchments (hidden at first),
    sub-areas with their coverage, the streets and the reached streets by walking
    time, hexagons of the share covered and dots of the residents beyond (many homes
    only), homes by walking time, the gaps in red, the study-area outline,
    facilities and their names, proposed sites; a legend and a layer control.

    Parameters
    ----------
    result : StudyResult
        The study to draw.
    options : MapOptions, optional
        Basemap, layers and offline drawing; :func:`map_options` defaults when None.
    proposed_sites : GeoDataFrame, optional
        Points with optional ``name``, ``rank`` and ``gain_population`` columns.
    subareas : GeoDataFrame, optional
        Sub-area polygons (``name``) in the order the summary lists them.
    **changes
        Fields of :class:`MapOptions` to change (e.g. ``tiles="none"``).

    Returns
    -------
    folium.Map

    Raises
    ------
    InputError
        Bad options, or ``proposed_sites`` that are not points with a CRS.
    """
    import folium as fm

    options = map_options(options, **changes)
    source = tile_source(options.tiles, tiles_key=options.tiles_key)
    display = Display(gcj02=source is not None and source.gcj02)
    sites = proposed_sites_wgs84(proposed_sites)
    m = fm.Map(tiles=None, control_scale=True, prefer_canvas=True, font_size="12px")
    use_resources(m, inline=options.self_contained)
    m.get_root().title = sty.text(f"{result.name}: {result.settings.threshold_min:g}-minute walk to care")
    m.get_root().header.add_child(Raw(f"<style>{LEGEND_CSS}</style>"), name="circles_css")
    _add_tiles(fm, m, source)
    m.fit_bounds(_bounds(result, display))
    shown, colours = band_table(result)
    tables = {"names": facility_names(result.facilities), "notes": [], "bands": shown}
    table_layer = lay.Tables(tables)
    table_layer.add_to(m)
    for band, spec in service_area_specs(result, display):
        lay.DataLayer(spec, f"Within {band:g} min walk").add_to(m)
    catchments = catchment_spec(result, display)
    if catchments is not None:
        lay.DataLayer(catchments, sty.LAYER_CATCHMENTS, show=False).add_to(m)
    if subareas is not None and len(subareas):
        lay.DataLayer(subarea_spec(result, subareas, display), sty.LAYER_SUBAREAS).add_to(m)
    label_colours = dict(zip([s.removesuffix(" min") for s in shown], colours, strict=True))
    streets = options.streets and _street_layers(m, result, label_colours, display)
    facts = _home_layers(m, result, options, display, tables)
    if result.boundary is not None and len(result.boundary):
        lay.DataLayer(boundary_spec(result.boundary, display), sty.LAYER_BOUNDARY).add_to(m)
    n_fac = len(result.facilities)
    radius_px = 8 if n_fac <= ALWAYS_LABELLED else 6 if n_fac <= 300 else 4  # a city's clinics stay apart
    facilities, labels = facility_specs(result, display, 14 if n_fac > ALWAYS_LABELLED else None, radius_px)
    lay.DataLayer(facilities, sty.LAYER_FACILITIES).add_to(m)
    lay.DataLayer(labels, sty.LAYER_LABELS).add_to(m)
    if sites is not None and len(sites):
        lay.DataLayer(site_spec(sites, result.settings.threshold_min, display), sty.LAYER_PROPOSED).add_to(m)
    if result.what_if_homes is not None and len(result.what_if_homes):
        from circles.maps.what_if import LAYER_WHAT_IF, what_if_spec

        lay.DataLayer(what_if_spec(result.what_if_homes, display), LAYER_WHAT_IF).add_to(m)
    credit = OSM_DATA_CREDIT + ("" if source is None else f"; basemap {source.attribution}")
    parts = LegendParts(
        shown, colours, sites=sites is not None, streets=streets, gcj02=display.gcj02, **facts
    )
    m.get_root().html.add_child(Raw(legend_html(result, parts, credit)))
    from circles.tier_maps import add_tier_layers

    add_tier_layers(fm, m, result, display)  # one hidden layer per facility tier, when there are tiers
    fm.LayerControl(collapsed=False).add_to(m)
    lay.Ready().add_to(m)
    return m


def save_map(
    result: StudyResult,
    path: str | Path,
    *,
    options: MapOptions | None = None,
    proposed_sites: gpd.GeoDataFrame | None = None,
    subareas: gpd.GeoDataFrame | None = None,
    **changes: Any,
) -> Path:
    """Write the map of a study result to an HTML file (UTF-8).

    A ``.mbtiles`` basemap's tiles around the area are written to ``tiles/`` beside it.

    Parameters
    ----------
    result : StudyResult
        The study to draw.
    path : str or Path
        Output ``.html`` file.
    options : MapOptions, optional
        Basemap, layers and offline drawing; :func:`map_options` defaults when None.
    proposed_sites, subareas : GeoDataFrame, optional
        See :func:`build_map`.
    **changes
        Fields of :class:`MapOptions` to change.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OutputError
        If the file cannot be written.
    """
    path = Path(path)
    options = map_options(options, **changes)
    m = build_map(result, options=options, proposed_sites=proposed_sites, subareas=subareas)
    page = m.get_root().render()
    source = tile_source(options.tiles, tiles_key=options.tiles_key)
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot write the map ({exc.strerror}); check free space and permissions"
        ) from None
    if source is not None and source.mbtiles is not None:
        from circles.maps.mbtiles import copy_tiles

        (s, w), (n, e) = _bounds(result, Display(gcj02=False))
        copy_tiles(source.mbtiles, (w - 0.01, s - 0.01, e + 0.01, n + 0.01), path.parent / "tiles")
    return path


__all__ = ["MapOptions", "build_map", "map_options", "save_map"]
