"""QGIS styles stored inside ``circles.gpkg``, so QGIS opens every layer styled like the web map.

QGIS reads a layer's default style from the GeoPackage table ``layer_styles`` (the QGIS
GeoPackage styling extension): one row per layer with the style as QML text in
``styleQML`` and ``useAsDefault`` set. The table is created here with sqlite3 on the file
pyogrio wrote, in QGIS's own column layout, and registered in ``gpkg_contents`` as an
attributes table so GDAL (and pyogrio) list and read it.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from circles.maps.style import (
    BOUNDARY_COLOUR,
    FACILITY_COLOUR,
    PROPOSED_SITE_COLOUR,
    STREET_COLOUR,
    SUBAREA_COLOUR,
    rgba,
)

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""
REGISTER = """
INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change)
VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles',
        strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"""


@dataclass(frozen=True)
class Symbol:
    """One QGIS symbol: a fill, line or marker of a colour."""

    kind: str  # "fill", "line" or "marker"
    colour: str
    alpha: float = 1.0
    outline: str = "#ffffff"
    width_mm: float = 0.26
    size_mm: float = 2.4
    shape: str = "circle"
    dashed: bool = False


def _option(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "Option", {"name": name, "type": "QString", "value": value})


def _symbol(parent: ET.Element, name: str, sym: Symbol) -> None:
    el = ET.SubElement(
        parent,
        "symbol",
        {"type": sym.kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    cls = {"fill": "SimpleFill", "line": "SimpleLine", "marker": "SimpleMarker"}[sym.kind]
    layer = ET.SubElement(el, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    opts = ET.SubElement(layer, "Option", {"type": "Map"})
    if sym.kind == "line":
        _option(opts, "line_color", rgba(sym.colour, sym.alpha))
        _option(opts, "line_width", f"{sym.width_mm:g}")
        _option(opts, "line_style", "dash" if sym.dashed else "solid")
        _option(opts, "capstyle", "round")
        return
    _option(opts, "color", rgba(sym.colour, sym.alpha) if sym.colour != "none" else "0,0,0,0")
    _option(opts, "outline_color", rgba(sym.outline))
    _option(opts, "outline_width", f"{sym.width_mm:g}")
    _option(opts, "outline_style", "dash" if sym.dashed else "solid")
    if sym.kind == "fill":
        _option(opts, "style", "no" if sym.colour == "none" else "solid")
    else:
        _option(opts, "name", sym.shape)
        _option(opts, "size", f"{sym.size_mm:g}")


def _labels(root: ET.Element, field: str, colour: str, max_scale: int) -> None:
    root.set("labelsEnabled", "1")
    labeling = ET.SubElement(root, "labeling", {"type": "simple"})
    settings = ET.SubElement(labeling, "settings", {"calloutType": "simple"})
    ET.SubElement(
        settings,
        "text-style",
        {
            "fieldName": field,
            "isExpression": "0",
            "fontSize": "9",
            "textColor": rgba(colour),
            "fontWeight": "75",
        },
    )
    ET.SubElement(
        settings, "text-buffer", {"bufferDraw": "1", "bufferSize": "1", "bufferColor": "255,255,255,255"}
    )
    ET.SubElement(settings, "placement", {"placement": "0", "dist": "1.5"})
    ET.SubElement(
        settings, "rendering", {"scaleVisibility": "1", "scaleMin": "0", "scaleMax": str(max_scale)}
    )


def qml(
    symbols: list[tuple[str | None, str, Symbol]],
    *,
    field: str | None = None,
    label_field: str | None = None,
    label_colour: str = "#000000",
    label_max_scale: int = 50_000,
) -> str:
    """A QML style: one symbol, or one per value of ``field`` (categorised).

    Parameters
    ----------
    symbols : list of (value, label, Symbol)
        One entry (value None) for a single symbol; otherwise one per category.
    field : str, optional
        The attribute the categories are taken from.
    label_field : str, optional
        Attribute drawn as a label next to each feature.
    label_colour : str
    label_max_scale : int
        Labels show at scales larger than 1:``label_max_scale``.

    Returns
    -------
    str
        The QML document.
    """
    root = ET.Element("qgis", {"version": "3.28.0-Firenze", "styleCategories": "Symbology|Labeling"})
    if field is None:
        renderer = ET.SubElement(root, "renderer-v2", {"type": "singleSymbol", "symbollevels": "0"})
        holder = ET.SubElement(renderer, "symbols")
        _symbol(holder, "0", symbols[0][2])
    else:
        renderer = ET.SubElement(
            root, "renderer-v2", {"type": "categorizedSymbol", "attr": field, "symbollevels": "0"}
        )
        cats = ET.SubElement(renderer, "categories")
        holder = ET.SubElement(renderer, "symbols")
        for i, (value, label, sym) in enumerate(symbols):
            ET.SubElement(
                cats, "category", {"symbol": str(i), "value": str(value), "label": label, "render": "true"}
            )
            _symbol(holder, str(i), sym)
    if label_field:
        _labels(root, label_field, label_colour, label_max_scale)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body


def band_symbols(kind: str, labels: list[str], colours: list[str], alpha: float = 1.0) -> list:
    """Categories of a ``band`` column: one symbol per band label.

    Parameters
    ----------
    kind : str
        ``"fill"``, ``"line"`` or ``"marker"``.
    labels : list of str
    colours : list of str
    alpha : float
    """
    outline = "#333333" if kind == "fill" else "#ffffff"
    return [
        (lab, f"{lab} min" if lab != "unreachable" else lab, Symbol(kind, c, alpha, outline))
        for lab, c in zip(labels, colours, strict=True)
    ]


def default_styles(
    labels: list[str], colours: list[str], band_minutes: list[float], area_colours: list[str]
) -> dict[str, str]:
    """The QML of every layer of ``circles.gpkg``, by layer name.

    Parameters
    ----------
    labels, colours : list of str
        Band labels (``"0-5"``, ..., ``">15"``, ``"unreachable"``) and their colours.
    band_minutes : list of float
        The service-area bands, shortest first.
    area_colours : list of str
        Their fill colours.

    Returns
    -------
    dict
    """
    street_cats = band_symbols("line", labels[:-2], colours[:-2])
    street_cats = [(v, t, Symbol("line", s.colour, width_mm=0.6)) for v, t, s in street_cats]
    street_cats.append(("", "not reached", Symbol("line", STREET_COLOUR, 0.8, width_mm=0.2)))
    areas = [
        (f"{b:g}", f"within {b:g} min", Symbol("fill", c, 0.35, c))
        for b, c in zip(band_minutes, area_colours, strict=True)
    ]
    return {
        "homes": qml(band_symbols("fill", labels, colours), field="band"),
        "facilities": qml(
            [(None, "facility", Symbol("marker", FACILITY_COLOUR, size_mm=3.2, width_mm=0.5))],
            label_field="name",
            label_colour=FACILITY_COLOUR,
        ),
        "service_areas": qml(areas, field="band_min"),
        "catchments": qml(
            [(None, "catchment", Symbol("fill", "#8da0cb", 0.3, "#4d4d4d"))], label_field="name"
        ),
        "streets": qml(street_cats, field="band"),
        "sub_areas": qml(
            [(None, "sub-area", Symbol("fill", "none", outline=SUBAREA_COLOUR, width_mm=0.5))],
            label_field="name",
            label_max_scale=200_000,
        ),
        "study_area": qml(
            [(None, "study area", Symbol("fill", "none", outline=BOUNDARY_COLOUR, width_mm=0.6, dashed=True))]
        ),
        "tier_areas": qml(
            [(None, "tier", Symbol("fill", "#7570b3", 0.1, "#7570b3", width_mm=0.5))], label_field="tier"
        ),
        "proposed_sites": qml(
            [(None, "proposed site", Symbol("marker", PROPOSED_SITE_COLOUR, size_mm=4, shape="square"))],
            label_field="rank",
            label_colour=PROPOSED_SITE_COLOUR,
        ),
    }


def write_styles(path: Path, styles: dict[str, tuple[str, str]]) -> None:
    """Store ``{layer: (geometry_column, qml)}`` as the layers' default QGIS styles.

    Parameters
    ----------
    path : Path
        A GeoPackage holding those layers (written by pyogrio).
    styles : dict
    """
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(CREATE_TABLE)
            con.execute(REGISTER)
            con.executemany(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui) "
                "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL)",
                [
                    (layer, geom, f"circles {layer}", text, f"circles default style of {layer}")
                    for layer, (geom, text) in styles.items()
                ],
            )
    finally:
        con.close()
