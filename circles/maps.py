"""Folium rendering of one study result: bands, homes by walking time, facilities."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from circles.coverage import UNREACHABLE

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from circles.pipeline import StudyResult

#: Fill colours of the service-area bands, shortest first (green to yellow).
BAND_AREA_COLOURS = ("#1a9850", "#66bd63", "#a6d96a", "#d9ef8b", "#fee08b")
#: Colour for homes beyond the threshold (the gaps) and unreachable homes.
GAP_COLOUR = "#d73027"
UNREACHABLE_COLOUR = "#5e3c99"
FACILITY_COLOUR = "#2166ac"


def band_colours(labels: list[str]) -> dict[str, str]:
    """Colour per band label: greens for covered bands, red beyond, purple unreachable."""
    covered = labels[:-1]
    colours = {lab: BAND_AREA_COLOURS[min(i, len(BAND_AREA_COLOURS) - 1)] for i, lab in enumerate(covered)}
    colours[labels[-1]] = GAP_COLOUR
    colours[UNREACHABLE] = UNREACHABLE_COLOUR
    return colours


def build_map(result: StudyResult, *, tiles: str = "OpenStreetMap") -> folium.Map:
    """Draw a study result as a Folium map.

    Parameters
    ----------
    result : StudyResult
    tiles : str
        Folium tile layer name.

    Returns
    -------
    folium.Map

    """
    import folium

    from circles.coverage import band_labels

    labels = band_labels(result.summary["parameters"]["bands_min"])
    colours = band_colours(labels)
    minx, miny, maxx, maxy = result.homes.total_bounds
    fminx, fminy, fmaxx, fmaxy = result.facilities.total_bounds
    bounds = [[min(miny, fminy), min(minx, fminx)], [max(maxy, fmaxy), max(maxx, fmaxx)]]
    m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=True)
    m.fit_bounds(bounds)

    if result.boundary is not None and len(result.boundary):
        folium.GeoJson(
            result.boundary[["geometry"]],
            name="Study area",
            style_function=lambda _f: {"color": "#333333", "weight": 2, "fill": False, "dashArray": "6 4"},
        ).add_to(m)

    bands = result.service_areas.sort_values("band_min", ascending=False)
    for i, (_, row) in enumerate(bands.iterrows()):
        colour = BAND_AREA_COLOURS[min(len(bands) - 1 - i, len(BAND_AREA_COLOURS) - 1)]
        if row.geometry is None or row.geometry.is_empty:
            continue
        folium.GeoJson(
            {
                "type": "Feature",
                "properties": {"band_min": row.band_min},
                "geometry": row.geometry.__geo_interface__,
            },
            name=f"Within {row.band_min:g} min walk",
            style_function=lambda _f, c=colour: {
                "color": c,
                "weight": 1,
                "fillColor": c,
                "fillOpacity": 0.25,
            },
            tooltip=f"within {row.band_min:g} min walk",
        ).add_to(m)

    homes = result.homes[["band", "walk_time_min", "population", "geometry"]].copy()
    homes["walk_time_min"] = homes["walk_time_min"].round(1)
    homes["population"] = homes["population"].round(0)
    homes["colour"] = homes["band"].map(colours)
    covered = homes[homes["band"].isin(labels[:-1])]
    gaps = homes[~homes["band"].isin(labels[:-1])]
    for frame, layer in ((covered, "Homes by walking time"), (gaps, "Homes beyond the threshold (gaps)")):
        if len(frame) == 0:
            continue
        folium.GeoJson(
            frame,
            name=layer,
            style_function=lambda f: {
                "color": f["properties"]["colour"],
                "weight": 1,
                "fillColor": f["properties"]["colour"],
                "fillOpacity": 0.8,
            },
            marker=folium.CircleMarker(radius=4),
            tooltip=folium.GeoJsonTooltip(
                fields=["band", "walk_time_min", "population"],
                aliases=["band (min)", "walk (min)", "residents"],
            ),
        ).add_to(m)

    fac_layer = folium.FeatureGroup(name="Facilities")
    for _, f in result.facilities.iterrows():
        name = f.get("name") if isinstance(f.get("name"), str) else f["facility_id"]
        popup = (
            f"<b>{html.escape(str(name))}</b><br>"
            f"nearest facility for {f['catchment_homes']} homes, "
            f"{f['catchment_population']:,.0f} residents"
        )
        if "capacity" in f and np.isfinite(f.get("capacity", np.nan)):
            popup += f"<br>capacity: {f['capacity']:g}"
        if not f["attached"]:
            popup += "<br><i>not within reach of a walkable street</i>"
        folium.CircleMarker(
            [f.geometry.y, f.geometry.x],
            radius=8,
            color="white",
            weight=2,
            fill=True,
            fill_color=FACILITY_COLOUR,
            fill_opacity=1.0,
            popup=folium.Popup(popup, max_width=300),
            tooltip=html.escape(str(name)),
        ).add_to(fac_layer)
    fac_layer.add_to(m)

    m.get_root().html.add_child(folium.Element(_legend_html(result, labels, colours)))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _legend_html(result: StudyResult, labels: list[str], colours: dict[str, str]) -> str:
    s = result.summary
    rows = "".join(
        f'<div><span style="background:{colours[lab]}"></span>{html.escape(lab)} min</div>' for lab in labels
    )
    rows += f'<div><span style="background:{colours[UNREACHABLE]}"></span>unreachable</div>'
    rows += f'<div><span style="background:{FACILITY_COLOUR};border-radius:50%"></span>facility</div>'
    share = s["covered_share"]
    headline = "" if share is None else f"{100 * share:.0f}% of residents within {s['threshold_min']:g} min"
    return f"""
<div id="circles-legend" style="position:fixed;bottom:24px;left:12px;z-index:9999;background:white;
 padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px/1.4 sans-serif;">
 <b>{html.escape(result.name)}</b><br>{html.escape(headline)}<br>
 <i>walk at {s["parameters"]["speed_kmh"]:g} km/h</i>
 <style>#circles-legend span{{display:inline-block;width:12px;height:12px;margin-right:6px;
 vertical-align:middle;border:1px solid #666}}</style>
 {rows}
 <div style="color:#666;margin-top:4px">Data &copy; OpenStreetMap contributors, ODbL</div>
</div>"""
