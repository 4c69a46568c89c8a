"""Colours, layer names and text escaping shared by the web map, the PNG and the GIS styles."""

from __future__ import annotations

import html

import numpy as np

from circles.coverage import UNREACHABLE

#: Fill colours of the service-area bands, shortest first (green to yellow).
BAND_AREA_COLOURS = ("#1a9850", "#66bd63", "#a6d96a", "#d9ef8b", "#fee08b")
#: Colour for homes beyond the threshold (the gaps).
GAP_COLOUR = "#d73027"
UNREACHABLE_COLOUR = "#5e3c99"
FACILITY_COLOUR = "#2166ac"
DETACHED_FACILITY_COLOUR = "#969696"
PROPOSED_SITE_COLOUR = "#e7298a"
#: The walk network drawn as context (streets not reached within the longest band).
STREET_COLOUR = "#8c8c8c"
BOUNDARY_COLOUR = "#333333"
SUBAREA_COLOUR = "#4d4d4d"
#: Residents beyond the threshold per cell (a dot whose area grows with their number).
UNCOVERED_DOT_COLOUR = "#a50026"
#: Cell classes by the share of residents within the threshold: (lowest share, label, colour).
HEX_SHARE_CLASSES = (
    (1.0, "all", "#1a9850"),
    (0.75, "75-99%", "#91cf60"),
    (0.5, "50-74%", "#fee08b"),
    (0.25, "25-49%", "#fc8d59"),
    (0.0, "under 25%", GAP_COLOUR),
)
NO_RESIDENTS_COLOUR = "#bdbdbd"
#: Colours of clinics' catchments, cycled (ColorBrewer Set2).
CATCHMENT_COLOURS = ("#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494", "#b3b3b3")

LAYER_STREETS = "Streets (walk network)"
LAYER_STREET_TIMES = "Streets by walking time"
LAYER_HOMES = "Homes by walking time"
LAYER_GAPS = "Homes beyond the threshold (gaps)"
LAYER_FACILITIES = "Facilities"
LAYER_LABELS = "Facility names"
LAYER_PROPOSED = "Proposed sites"
LAYER_BOUNDARY = "Study area"
LAYER_SUBAREAS = "Sub-areas"
LAYER_CATCHMENTS = "Catchment of each facility"


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


def band_area_colour(index: int) -> str:
    """Fill colour of the ``index``-th shortest service-area band.

    Parameters
    ----------
    index : int
    """
    return BAND_AREA_COLOURS[min(index, len(BAND_AREA_COLOURS) - 1)]


def hex_layer_name(threshold_min: float) -> str:
    """Name of the cell layer, e.g. ``"Residents within 15 min (hexagons)"``.

    Parameters
    ----------
    threshold_min : float
    """
    return f"Residents within {threshold_min:g} min (hexagons)"


def uncovered_layer_name(threshold_min: float) -> str:
    """Name of the layer of residents beyond the threshold per cell.

    Parameters
    ----------
    threshold_min : float
    """
    return f"Residents beyond {threshold_min:g} min (per hexagon)"


def share_class(share: np.ndarray) -> np.ndarray:
    """Index into :data:`HEX_SHARE_CLASSES` per share; ``len(HEX_SHARE_CLASSES)`` where NaN.

    Parameters
    ----------
    share : ndarray of float
    """
    share = np.asarray(share, dtype=float)
    out = np.full(share.shape, len(HEX_SHARE_CLASSES), dtype=np.int64)
    for i in range(len(HEX_SHARE_CLASSES) - 1, -1, -1):
        out[share >= HEX_SHARE_CLASSES[i][0] - 1e-9] = i
    return out


def text(value: object) -> str:
    """Escape text for HTML that folium may also place inside JavaScript template literals.

    Parameters
    ----------
    value : object
    """
    escaped = html.escape(str(value), quote=True)
    return escaped.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def rgba(colour: str, alpha: float = 1.0) -> str:
    """``"#1a9850"`` as QGIS's ``"26,152,80,255"``.

    Parameters
    ----------
    colour : str
        ``#rrggbb``.
    alpha : float
    """
    c = colour.lstrip("#")
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"
