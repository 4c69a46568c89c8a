"""Folium rendering of one study result: bands, homes (or hexagons) by walking time, gaps, facilities.

With ``offline=True`` the map is built from the classes of the ``offlinefolium`` package
(folium-offline, a copy of folium with every JavaScript and CSS resource embedded), so
the saved page draws its layers with no internet; only the base-map tiles still come
from the tile server.
"""

from __future__ import annotations

import html
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from circles.coverage import UNREACHABLE, band_labels
from circles.errors import InputError, OutputError

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from circles.pipeline import StudyResult

#: Fill colours of the service-area bands, shortest first (green to yellow).
BAND_AREA_COLOURS = ("#1a9850", "#66bd63", "#a6d96a", "#d9ef8b", "#fee08b")
#: Colour for homes beyond the threshold (the gaps) and unreachable homes.
GAP_COLOUR = "#d73027"
UNREACHABLE_COLOUR = "#5e3c99"
FACILITY_COLOUR = "#2166ac"
DETACHED_FACILITY_COLOUR = "#969696"
PROPOSED_SITE_COLOUR = "#e7298a"
#: Hexagon classes by the share of residents within the threshold: (lowest share, label, colour).
HEX_SHARE_CLASSES = (
    (1.0, "all", "#1a9850"),
    (0.75, "75-99%", "#91cf60"),
    (0.5, "50-74%", "#fee08b"),
    (0.25, "25-49%", "#fc8d59"),
    (0.0, "under 25%", GAP_COLOUR),
)
NO_RESIDENTS_COLOUR = "#bdbdbd"
#: H3 resolutions tried for the hexagon grid, finest first (about 130 m to 8 km across).
HEX_RESOLUTIONS = (10, 9, 8, 7, 6, 5)
#: Page resources the map uses: Leaflet, and jQuery for folium's popups. Folium's other defaults
#: (Bootstrap, Font Awesome, glyphicons, awesome-markers; about 1.2 MB when inlined) are dropped.
MAP_RESOURCES = frozenset({"leaflet", "jquery", "leaflet_css"})
#: Rounding of drawn coordinates, degrees (about 0.1 m).
DRAW_GRID_DEG = 1e-6

LAYER_HOMES = "Homes by walking time"
LAYER_GAPS = "Homes beyond the threshold (gaps)"
LAYER_FACILITIES = "Facilities"
LAYER_PROPOSED = "Proposed sites"
LAYER_BOUNDARY = "Study area"


def band_colours(labels: list[str], threshold_min: float | None = None) -> dict[str, str]:
    """Colour per band label: greens for bands within the threshold, red beyond, purple unreachable.

    Parameters
    ----------
    labels : list of str
        Band labels from :func:`circles.coverage.band_labels`; the last one is beyond the longest band.
    threshold_min : float, optional
        The coverage threshold; rings above it are gaps (red). Default: the longest band.

    Returns
    -------
    dict
        Hex colour per label, plus ``"unreachable"``.

    """
    colours = {}
    for i, lab in enumerate(labels[:-1]):
        upper = float(lab.split("-")[1])
        within = threshold_min is None or upper <= threshold_min
        colours[lab] = BAND_AREA_COLOURS[min(i, len(BAND_AREA_COLOURS) - 1)] if within else GAP_COLOUR
    colours[labels[-1]] = GAP_COLOUR
    colours[UNREACHABLE] = UNREACHABLE_COLOUR
    return colours


def hex_layer_name(threshold_min: float) -> str:
    """Name of the hexagon layer, e.g. ``"Residents within 15 min (hexagons)"``."""
    return f"Residents within {threshold_min:g} min (hexagons)"


def aggregate_hexes(homes: gpd.GeoDataFrame, *, max_cells: int) -> gpd.GeoDataFrame:
    """Sum homes into H3 hexagons, at the finest resolution giving at most ``max_cells`` cells.

    Parameters
    ----------
    homes : GeoDataFrame
        Homes in any CRS with ``covered`` (bool) and ``population`` columns; polygons
        count at a point on their surface.
    max_cells : int
        Largest number of hexagons wanted; resolutions 10 (about 130 m across) to 5
        (about 17 km) are tried, finest first, and the coarsest is used if none fits.

    Returns
    -------
    GeoDataFrame
        One row per occupied hexagon, sorted by cell id, in WGS-84: ``h3_cell``,
        ``resolution``, ``homes``, ``population``, ``covered_homes``,
        ``covered_population``, ``covered_share`` (population-weighted; NaN where the
        hexagon has no residents) and the hexagon polygon.

    """
    import h3

    wgs = homes.to_crs("EPSG:4326") if homes.crs is not None else homes
    pts = _surface_points(wgs.geometry)
    finest = HEX_RESOLUTIONS[0]
    lon_lat = zip(pts.x.tolist(), pts.y.tolist(), strict=True)
    fine = np.array([h3.latlng_to_cell(lat, lon, finest) for lon, lat in lon_lat], dtype=object)
    cells, home_cell = np.unique(fine.astype(str), return_inverse=True)
    resolution = finest
    for resolution in HEX_RESOLUTIONS:
        if resolution != finest:
            parents = np.array([h3.cell_to_parent(c, resolution) for c in cells.tolist()])
            cells, parent_of = np.unique(parents, return_inverse=True)
            home_cell = parent_of[home_cell]
        if len(cells) <= max_cells:
            break
    pop = np.asarray(wgs["population"], dtype=float)
    covered = np.asarray(wgs["covered"], dtype=bool)
    n = len(cells)
    table = pd.DataFrame(
        {
            "h3_cell": cells,
            "homes": np.bincount(home_cell, minlength=n),
            "population": np.bincount(home_cell, weights=pop, minlength=n),
            "covered_homes": np.bincount(home_cell, weights=covered, minlength=n).astype(int),
            "covered_population": np.bincount(home_cell, weights=np.where(covered, pop, 0.0), minlength=n),
        }
    )
    table.insert(1, "resolution", resolution)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["covered_share"] = np.where(
            table["population"] > 0, table["covered_population"] / table["population"], np.nan
        )
    polygons = [
        shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in table["h3_cell"]
    ]
    return gpd.GeoDataFrame(table, geometry=polygons, crs="EPSG:4326")


def build_map(
    result: StudyResult,
    *,
    offline: bool = False,
    tiles: str | None = "OpenStreetMap",
    max_home_features: int = 3000,
    proposed_sites: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Draw a study result as a Folium map.

    Layers: study-area outline, one service area per band, homes coloured by walking
    time (or, above ``max_home_features`` homes, H3 hexagons coloured by the share of
    residents within the threshold), the gaps (homes beyond the threshold or
    unreachable) in red, facilities with popups, proposed sites; a legend and a layer
    control.

    Parameters
    ----------
    result : StudyResult
    offline : bool
        Build with ``offlinefolium`` so every script and style sheet is inlined in the
        page (about 0.26 MB more) instead of linked from public CDNs.
    tiles : str or None
        Folium tile layer name or URL template; ``None`` for no base map.
    max_home_features : int
        Most homes drawn one by one. Above it homes are drawn as hexagons; the gaps
        stay individual homes unless they too exceed it, then they become red hexagons.
    proposed_sites : GeoDataFrame, optional
        Points with optional ``name``, ``rank`` and ``gain_population`` (residents newly
        within the threshold) columns, drawn as numbered squares.

    Returns
    -------
    folium.Map

    Raises
    ------
    InputError
        If ``max_home_features`` is not positive or ``proposed_sites`` are not points.

    """
    if max_home_features < 1:
        raise InputError(f"max_home_features must be at least 1, got {max_home_features}")
    fm = _folium_module(offline)
    settings = result.settings
    labels = band_labels(tuple(settings.bands_min or ()))
    colours = band_colours(labels, settings.threshold_min)
    threshold_min = settings.threshold_min
    sites = _proposed_sites_wgs84(proposed_sites)

    m = fm.Map(tiles=tiles, control_scale=True, prefer_canvas=True, font_size="12px")
    m.default_js = [(name, url) for name, url in m.default_js if name in MAP_RESOURCES]
    m.default_css = [(name, url) for name, url in m.default_css if name in MAP_RESOURCES]
    m.get_root().title = _text(f"{result.name}: {threshold_min:g}-minute walk to care")
    m.fit_bounds(_bounds(result))
    if result.boundary is not None and len(result.boundary):
        fm.GeoJson(
            _drawable(result.boundary[["geometry"]].to_crs("EPSG:4326")),
            name=LAYER_BOUNDARY,
            style_function=lambda _f: {"color": "#333333", "weight": 2, "fill": False, "dashArray": "6 4"},
            interactive=False,
        ).add_to(m)
    _add_service_areas(fm, m, result.service_areas)

    homes = _home_table(result, colours)
    covered = homes["covered"].to_numpy()
    aggregate = len(homes) > max_home_features
    if aggregate:
        _add_hexes(fm, m, aggregate_hexes(homes, max_cells=max_home_features), threshold_min)
    elif covered.any():
        _add_homes(fm, m, homes[covered], LAYER_HOMES)
    gaps = homes[~covered]
    if len(gaps) > max_home_features:
        _add_gap_hexes(fm, m, aggregate_hexes(gaps, max_cells=max_home_features))
    elif len(gaps):
        _add_homes(fm, m, gaps, LAYER_GAPS)

    _add_facilities(fm, m, result.facilities, threshold_min)
    if sites is not None and len(sites):
        _add_proposed_sites(fm, m, sites, threshold_min)
    m.get_root().html.add_child(
        fm.Element(_legend_html(result, labels, colours, hexes=aggregate, sites=sites is not None))
    )
    _add_tiers(fm, m, result)
    fm.LayerControl(collapsed=False).add_to(m)
    return m


def _add_tiers(fm: ModuleType, m: folium.Map, result: StudyResult) -> None:
    """The facility tiers' layers (:mod:`circles.tier_maps`), when the study has tiers."""
    from circles.tier_maps import add_tier_layers

    add_tier_layers(fm, m, result)


def save_map(result: StudyResult, path: str | Path, *, offline: bool = False, **options) -> Path:
    """Write the map of a study result to an HTML file (UTF-8).

    Parameters
    ----------
    result : StudyResult
    path : str or Path
        Output ``.html`` file.
    offline : bool
        Inline every script and style sheet (see :func:`build_map`).
    **options
        ``tiles``, ``max_home_features``, ``proposed_sites``: see :func:`build_map`.

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
    page = build_map(result, offline=offline, **options).get_root().render()
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot write the map ({exc.strerror}); check free space and permissions"
        ) from None
    return path


def _folium_module(offline: bool) -> ModuleType:
    if offline:
        import offlinefolium

        return offlinefolium
    import folium

    return folium


def _text(value: object) -> str:
    """Escape text for HTML that folium also places inside JavaScript template literals."""
    escaped = html.escape(str(value), quote=True)
    return escaped.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _surface_points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    pts = np.where(geoms.geom_type == "Point", geoms.values, geoms.representative_point().values)
    return gpd.GeoSeries(pts, crs=geoms.crs)


def _drawable(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Frame with coordinates rounded to about 0.1 m and a plain 0..n-1 index (feature ids)."""
    out = frame.reset_index(drop=True)
    out.geometry = shapely.set_precision(out.geometry.values, DRAW_GRID_DEG)
    return out[~out.geometry.is_empty]


def _bounds(result: StudyResult) -> list[list[float]]:
    frames = [result.homes, result.facilities, result.service_areas]
    if result.boundary is not None and len(result.boundary):
        frames.append(result.boundary.to_crs("EPSG:4326"))
    boxes = np.array([f.total_bounds for f in frames if len(f) and not f.geometry.is_empty.all()])
    minx, miny = np.nanmin(boxes[:, 0]), np.nanmin(boxes[:, 1])
    maxx, maxy = np.nanmax(boxes[:, 2]), np.nanmax(boxes[:, 3])
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def _add_service_areas(fm: ModuleType, m: folium.Map, areas: gpd.GeoDataFrame) -> None:
    bands = areas.sort_values("band_min", ascending=False).reset_index(drop=True)
    for i, row in bands.iterrows():
        if row.geometry is None or row.geometry.is_empty:
            continue
        colour = BAND_AREA_COLOURS[min(len(bands) - 1 - i, len(BAND_AREA_COLOURS) - 1)]
        frame = _drawable(
            gpd.GeoDataFrame({"band_min": [row.band_min]}, geometry=[row.geometry], crs=areas.crs)
        )
        fm.GeoJson(
            frame,
            name=f"Within {row.band_min:g} min walk",
            style_function=lambda _f, c=colour: {
                "color": c,
                "weight": 1,
                "fillColor": c,
                "fillOpacity": 0.25,
            },
            tooltip=f"within {row.band_min:g} min walk",
        ).add_to(m)


def _home_table(result: StudyResult, colours: dict[str, str]) -> gpd.GeoDataFrame:
    """Homes with display columns, all text pre-escaped (folium's tooltips insert raw HTML)."""
    homes = result.homes
    names = _facility_names(result.facilities)
    walk = homes["walk_time_min"].to_numpy(dtype=float)
    reason = (
        homes["unreachable_reason"] if "unreachable_reason" in homes else pd.Series("", index=homes.index)
    )
    table = gpd.GeoDataFrame(
        {
            "band": homes["band"].astype(str).map(_text).to_numpy(),
            "walk_min": np.where(np.isnan(walk), "unreachable", np.char.mod("%.1f", np.nan_to_num(walk))),
            "residents": np.char.mod("%.0f", homes["population"].to_numpy(dtype=float)),
            "nearest": [
                _text(names.get(f, "")) if isinstance(f, str) else "" for f in homes["nearest_facility"]
            ],
            "note": reason.fillna("").astype(str).map(_text).to_numpy(),
            "colour": homes["band"].map(colours).fillna(UNREACHABLE_COLOUR).to_numpy(),
            "covered": homes["covered"].to_numpy(dtype=bool),
            "population": homes["population"].to_numpy(dtype=float),
        },
        geometry=homes.geometry.to_crs("EPSG:4326").values,
        crs="EPSG:4326",
    )
    return table


def _facility_names(facilities: gpd.GeoDataFrame) -> dict[str, str]:
    names = facilities["name"] if "name" in facilities else pd.Series(None, index=facilities.index)
    return {
        str(fid): (name if isinstance(name, str) and name.strip() else str(fid))
        for fid, name in zip(facilities["facility_id"], names, strict=True)
    }


def _add_homes(fm: ModuleType, m: folium.Map, homes: gpd.GeoDataFrame, layer: str) -> None:
    fields, aliases = (
        ["band", "walk_min", "residents", "nearest"],
        ["band (min)", "walk (min)", "residents", "nearest"],
    )
    if (homes["note"] != "").any():
        fields, aliases = [*fields, "note"], [*aliases, "note"]
    fm.GeoJson(
        _drawable(homes[[*fields, "colour", "geometry"]]),
        name=layer,
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "weight": 2,
            "fill": True,
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.85,
        },
        marker=fm.CircleMarker(radius=4),
        tooltip=fm.GeoJsonTooltip(fields=fields, aliases=aliases),
    ).add_to(m)


def _hex_colour(share: float) -> str:
    if np.isnan(share):
        return NO_RESIDENTS_COLOUR
    for lowest, _label, colour in HEX_SHARE_CLASSES:
        if share >= lowest - 1e-9:
            return colour
    return HEX_SHARE_CLASSES[-1][2]  # pragma: no cover - shares are never negative


def _add_hexes(fm: ModuleType, m: folium.Map, hexes: gpd.GeoDataFrame, threshold_min: float) -> None:
    share = hexes["covered_share"].to_numpy(dtype=float)
    table = gpd.GeoDataFrame(
        {
            "homes": hexes["homes"].astype(str),
            "residents": np.char.mod("%.0f", hexes["population"].to_numpy(dtype=float)),
            "share": np.where(
                np.isnan(share), "no residents", np.char.mod("%.0f%%", 100 * np.nan_to_num(share))
            ),
            "colour": [_hex_colour(s) for s in share],
        },
        geometry=hexes.geometry.values,
        crs=hexes.crs,
    )
    fm.GeoJson(
        _drawable(table),
        name=hex_layer_name(threshold_min),
        style_function=lambda f: {
            "color": "#ffffff",
            "weight": 0.5,
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.7,
        },
        tooltip=fm.GeoJsonTooltip(
            fields=["homes", "residents", "share"],
            aliases=["homes", "residents", f"within {threshold_min:g} min"],
        ),
    ).add_to(m)


def _add_gap_hexes(fm: ModuleType, m: folium.Map, hexes: gpd.GeoDataFrame) -> None:
    table = gpd.GeoDataFrame(
        {
            "homes": hexes["homes"].astype(str),
            "residents": np.char.mod("%.0f", hexes["population"].to_numpy(dtype=float)),
        },
        geometry=hexes.geometry.values,
        crs=hexes.crs,
    )
    fm.GeoJson(
        _drawable(table),
        name=LAYER_GAPS,
        style_function=lambda _f: {
            "color": GAP_COLOUR,
            "weight": 1.5,
            "fillColor": GAP_COLOUR,
            "fillOpacity": 0.6,
        },
        tooltip=fm.GeoJsonTooltip(
            fields=["homes", "residents"], aliases=["homes beyond", "residents beyond"]
        ),
    ).add_to(m)


def _facility_popup(f: pd.Series, name: str, threshold_min: float) -> str:
    popup = (
        f"<b>{_text(name)}</b><br>"
        f"nearest facility for {int(f['catchment_homes']):,} homes, "
        f"{float(f['catchment_population']):,.0f} residents"
    )
    capacity = pd.to_numeric(pd.Series([f.get("capacity")]), errors="coerce").iloc[0]
    if np.isfinite(capacity):
        popup += f"<br>capacity: {capacity:g}"
    if not bool(f["attached"]):
        popup += (
            "<br><i>not on the walk network: no walkable street within reach, "
            f"so it serves nobody within {threshold_min:g} min</i>"
        )
    return popup


def _add_facilities(
    fm: ModuleType, m: folium.Map, facilities: gpd.GeoDataFrame, threshold_min: float
) -> None:
    layer = fm.FeatureGroup(name=LAYER_FACILITIES)
    names = _facility_names(facilities)
    pts = _surface_points(facilities.geometry.to_crs("EPSG:4326"))
    for (_, f), pt in zip(facilities.iterrows(), pts, strict=True):
        name = names[str(f["facility_id"])]
        attached = bool(f["attached"])
        fm.CircleMarker(
            [pt.y, pt.x],
            radius=8,
            color="white" if attached else "#525252",
            weight=2,
            fill=True,
            fill_color=FACILITY_COLOUR if attached else DETACHED_FACILITY_COLOUR,
            fill_opacity=1.0,
            popup=fm.Popup(_facility_popup(f, name, threshold_min), max_width=300),
            tooltip=_text(name),
        ).add_to(layer)
    layer.add_to(m)


def _proposed_sites_wgs84(sites: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if sites is None:
        return None
    if not isinstance(sites, gpd.GeoDataFrame) or not sites.geometry.geom_type.isin(["Point"]).all():
        raise InputError("proposed_sites must be a GeoDataFrame of points (name, rank, gain_population)")
    if sites.crs is None:
        raise InputError("proposed_sites has no CRS; set one, e.g. sites.set_crs('EPSG:4326')")
    return sites.to_crs("EPSG:4326").reset_index(drop=True)


def _add_proposed_sites(fm: ModuleType, m: folium.Map, sites: gpd.GeoDataFrame, threshold_min: float) -> None:
    layer = fm.FeatureGroup(name=LAYER_PROPOSED)
    for i, site in sites.iterrows():
        rank = site.get("rank", i + 1)
        rank = i + 1 if pd.isna(rank) else rank
        name = site.get("name")
        name = name if isinstance(name, str) and name.strip() else f"site {rank}"
        popup = f"<b>Proposed site {_text(rank)}: {_text(name)}</b>"
        gain = pd.to_numeric(pd.Series([site.get("gain_population")]), errors="coerce").iloc[0]
        if np.isfinite(gain):
            popup += f"<br>brings {gain:,.0f} more residents within {threshold_min:g} min"
        fm.Marker(
            [site.geometry.y, site.geometry.x],
            icon=fm.DivIcon(
                html=f'<div class="circles-site">{_text(rank)}</div>',
                icon_size=(22, 22),
                icon_anchor=(11, 11),
                class_name="circles-site-icon",
            ),
            popup=fm.Popup(popup, max_width=300),
            tooltip=_text(f"proposed: {name}"),
        ).add_to(layer)
    layer.add_to(m)


def _swatch(colour: str, label: str, *, round_: bool = False, border: str = "#666") -> str:
    radius = "border-radius:50%;" if round_ else ""
    return f'<div><span style="background:{colour};{radius}border-color:{border}"></span>{label}</div>'


def _legend_html(
    result: StudyResult, labels: list[str], colours: dict[str, str], *, hexes: bool, sites: bool
) -> str:
    s = result.summary
    threshold = result.settings.threshold_min
    rows = "".join(_swatch(colours[lab], f"{_text(lab)} min") for lab in labels[:-1])
    rows += _swatch(GAP_COLOUR, f"{_text(labels[-1])} min (gap)")
    rows += _swatch(UNREACHABLE_COLOUR, "unreachable")
    if hexes:
        rows += f'<div style="margin-top:4px"><b>hexagons: residents within {threshold:g} min</b></div>'
        rows += "".join(_swatch(colour, label) for _low, label, colour in HEX_SHARE_CLASSES)
        rows += _swatch(NO_RESIDENTS_COLOUR, "no residents")
    rows += '<div style="margin-top:4px"></div>'
    rows += _swatch(FACILITY_COLOUR, "facility", round_=True)
    if s.facilities.unattached:
        rows += _swatch(DETACHED_FACILITY_COLOUR, "facility not on the walk network", round_=True)
    if sites:
        rows += _swatch(PROPOSED_SITE_COLOUR, "proposed site")
    share = s.coverage.covered_share
    who = "estimated residents" if s.population.estimated else "residents"
    headline = "" if share is None else f"{100 * share:.0f}% of {who} within {threshold:g} min"
    if s.partial:
        headline += " (PARTIAL: the network covers only part of the area)"
    return f"""
<div id="circles-legend" style="position:fixed;bottom:28px;right:10px;z-index:9999;background:white;
 padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px/1.4 sans-serif;max-height:70vh;
 overflow:auto">
 <b>{_text(result.name)}</b><br>{_text(headline)}<br>
 <i>walk at {result.settings.speed_kmh:g} km/h; areas shaded, homes solid</i>
 <style>#circles-legend span{{display:inline-block;width:12px;height:12px;margin-right:6px;
 vertical-align:middle;border:1px solid #666}}
 .circles-site{{width:20px;height:20px;background:{PROPOSED_SITE_COLOUR};color:white;border:1px solid white;
 font:bold 12px/20px sans-serif;text-align:center;box-shadow:0 0 2px #000}}</style>
 {rows}
 <div style="color:#666;margin-top:4px">Data &copy; OpenStreetMap contributors, ODbL</div>
</div>"""
