"""The map's legend: what is shown, at which speed and threshold, and how sure the figures are."""

from __future__ import annotations

from dataclasses import dataclass

from circles.maps.style import (
    BOUNDARY_COLOUR,
    DETACHED_FACILITY_COLOUR,
    FACILITY_COLOUR,
    GAP_COLOUR,
    HEX_SHARE_CLASSES,
    NO_RESIDENTS_COLOUR,
    PROPOSED_SITE_COLOUR,
    STREET_COLOUR,
    UNCOVERED_DOT_COLOUR,
    UNREACHABLE_COLOUR,
    text,
)
from circles.result import StudyResult


@dataclass(frozen=True)
class LegendParts:
    """Which optional parts the map has."""

    band_labels: list[str]
    band_colours: list[str]
    cells: bool = False
    detail_zoom: int | None = None
    sites: bool = False
    streets: bool = False
    gcj02: bool = False
    gaps_only: bool = False


def _swatch(colour: str, label: str, *, shape: str = "box") -> str:
    css = {"box": "", "dot": "border-radius:50%;", "line": "height:3px;border:0;margin-bottom:4px;"}[shape]
    return f'<div><span style="background:{colour};{css}"></span>{label}</div>'


def _headline(result: StudyResult) -> str:
    s = result.summary
    threshold = result.settings.threshold_min
    who = "estimated residents" if s.population.estimated else "residents (counted)"
    share = s.coverage.covered_share
    line = (
        ""
        if share is None
        else f"{100 * share:.0f}% of {s.coverage.population:,.0f} {who} within {threshold:g} min"
    )
    return text(line)


def legend_html(result: StudyResult, parts: LegendParts, attribution: str) -> str:
    """The legend's HTML (fixed in the lower right), every input text escaped.

    Parameters
    ----------
    result : StudyResult
        The study whose settings and figures the legend describes.
    parts : LegendParts
        The band labels and colours, and which optional layers the map has.
    attribution : str
        HTML credit of the basemap and data (already safe).

    Returns
    -------
    str
    """
    s, settings = result.summary, result.settings
    rows = "".join(
        _swatch(c, text(lab) + (" (gap)" if c == GAP_COLOUR and lab != "unreachable" else ""))
        for lab, c in zip(parts.band_labels, parts.band_colours, strict=True)
        if lab != "unreachable"
    )
    rows += _swatch(UNREACHABLE_COLOUR, "unreachable (no walkable route)")
    if parts.streets:
        rows += _swatch(STREET_COLOUR, "street not reached", shape="line")
    if parts.cells:
        rows += f'<div class="circles-h">hexagons: residents within {settings.threshold_min:g} min</div>'
        rows += "".join(_swatch(colour, label) for _low, label, colour in HEX_SHARE_CLASSES)
        rows += _swatch(NO_RESIDENTS_COLOUR, "no residents")
        rows += _swatch(
            UNCOVERED_DOT_COLOUR,
            f"dot area: residents beyond {settings.threshold_min:g} min (layer)",
            shape="dot",
        )
        if parts.detail_zoom:
            which = f"home beyond {settings.threshold_min:g} min" if parts.gaps_only else "home"
            note = f"zoom in (level {parts.detail_zoom}+) to see each {which}"
            rows += f'<div class="circles-note">{note}</div>'
    rows += '<div class="circles-h"></div>'
    rows += _swatch(FACILITY_COLOUR, "facility", shape="dot")
    if s.facilities.unattached:
        rows += _swatch(DETACHED_FACILITY_COLOUR, "facility not on the walk network", shape="dot")
    if parts.sites:
        rows += _swatch(PROPOSED_SITE_COLOUR, "proposed site")
    if result.boundary is not None and len(result.boundary):
        rows += _swatch("transparent", "study area").replace(
            "background:transparent;", f"background:transparent;border:2px dashed {BOUNDARY_COLOUR};"
        )
    partial = ""
    if s.partial:
        partial = f'<div class="circles-partial">PARTIAL: {text(s.partial_reason or "")}</div>'
    pop = "residents estimated" if s.population.estimated else "residents counted"
    shifted = (
        "<div class='circles-note'>overlays shifted to GCJ-02 to match the basemap</div>"
        if parts.gcj02
        else ""
    )
    return f"""
<div id="circles-legend">
 <b>{text(result.name)}</b><br>{_headline(result)}{partial}
 <div class="circles-note">walk at {settings.speed_kmh:g} km/h; covered within {settings.threshold_min:g} min;
 {pop}: {text(s.population.method.removeprefix("estimated: "))}</div>
 {rows}{shifted}
 <div class="circles-credit">{attribution}</div>
</div>"""


LEGEND_CSS = f"""
#circles-legend{{position:fixed;bottom:28px;right:10px;z-index:9999;background:white;
 padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px/1.4 sans-serif;
 max-height:70vh;max-width:300px;overflow:auto}}
#circles-legend span{{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:middle;
 border:1px solid #666}}
#circles-legend .circles-h{{margin-top:4px;font-weight:bold}}
#circles-legend .circles-note{{color:#555;font-style:italic}}
#circles-legend .circles-partial{{color:#b2182b;font-weight:bold}}
#circles-legend .circles-credit{{color:#666;margin-top:4px}}
.circles-site{{width:20px;height:20px;background:{PROPOSED_SITE_COLOUR};color:white;border:1px solid white;
 font:bold 12px/20px sans-serif;text-align:center;box-shadow:0 0 2px #000}}
.circles-label{{background:rgba(255,255,255,0.85);border:0;box-shadow:none;padding:0 3px;
 font:bold 11px sans-serif;color:{FACILITY_COLOUR}}}
.circles-label:before{{display:none}}
"""
