"""Homes, facilities and proposed sites as the page's layers, with repeated text stored once.

A home's popup names its nearest facility by an index into the page's table of names
(``circles_tables.names``), so a name is written once however many homes it serves.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from circles.coverage import UNREACHABLE, band_labels
from circles.errors import InputError
from circles.maps.cells import surface_points
from circles.maps.encode import STEP_DEG, Display, encode_points, encode_polygons
from circles.maps.style import (
    DETACHED_FACILITY_COLOUR,
    FACILITY_COLOUR,
    UNREACHABLE_COLOUR,
    band_colours,
)
from circles.result import StudyResult
from circles.sources.limits import bound_text


def facility_names(facilities: gpd.GeoDataFrame) -> list[str]:
    """Display name per facility row: its name, or its id when it has none.

    Parameters
    ----------
    facilities : GeoDataFrame
        The facilities, with ``facility_id`` and optionally ``name``.
    """
    names = facilities["name"] if "name" in facilities else pd.Series(None, index=facilities.index)
    return [
        str(bound_text(name)) if isinstance(name, str) and name.strip() else str(fid)
        for fid, name in zip(facilities["facility_id"], names, strict=True)
    ]


def band_table(result: StudyResult) -> tuple[list[str], list[str]]:
    """Band labels as shown (``"0-5 min"``, ..., ``"unreachable"``) and their colours.

    Parameters
    ----------
    result : StudyResult
        The study whose bands (minutes) and threshold are shown.
    """
    labels = band_labels(tuple(result.settings.bands_min or ()))
    colours = band_colours(labels, result.settings.threshold_min)
    shown = [f"{lab} min" for lab in labels] + [UNREACHABLE]
    return shown, [colours[lab] for lab in labels] + [UNREACHABLE_COLOUR]


def home_props(result: StudyResult, notes: list[str]) -> dict[str, list]:
    """Per home: band, walk time, residents, nearest facility and note, as small integers.

    Walk times are in tenths of a minute (-1: unreachable); the nearest facility and the
    note are indexes into the page's tables (-1: none). ``notes`` is extended in place.

    Parameters
    ----------
    result : StudyResult
        The study whose homes are drawn.
    notes : list of str
        The page's table of notes, extended in place.
    """
    homes = result.homes
    labels = [*band_labels(tuple(result.settings.bands_min or ())), UNREACHABLE]
    band = pd.Categorical(homes["band"].astype(str), categories=labels).codes
    walk = homes["walk_time_min"].to_numpy(dtype=float)
    ids = pd.Index(result.facilities["facility_id"].astype(str))
    nearest = homes["nearest_facility"]
    near_idx = ids.get_indexer(nearest.where(nearest.notna(), None).astype(str))
    reason = (
        homes["unreachable_reason"] if "unreachable_reason" in homes else pd.Series("", index=homes.index)
    )
    reason = reason.fillna("").astype(str).map(bound_text)
    text = reason.to_numpy(dtype=object)
    codes, uniques = pd.factorize(np.where(text == "", None, text))
    offset = len(notes)
    notes.extend(str(u) for u in uniques)
    note_idx = np.where(codes < 0, -1, codes + offset)
    props = {
        "b": np.where(band < 0, len(labels) - 1, band).astype(int).tolist(),
        "w": np.where(np.isnan(walk), -1, np.rint(10 * np.nan_to_num(walk))).astype(int).tolist(),
        "r": np.rint(homes["population"].to_numpy(dtype=float)).astype(int).tolist(),
        "n": near_idx.astype(int).tolist(),
        "note": note_idx.astype(int).tolist(),
    }
    if (note_idx < 0).all():
        del props["note"]  # no home has a note: nothing to store
    return props


def _subset(props: dict[str, list], sel: np.ndarray) -> dict[str, list]:
    return {k: np.asarray(v)[sel].tolist() for k, v in props.items()}


def home_specs(
    result: StudyResult,
    props: dict[str, list],
    colours: list[str],
    display: Display,
    *,
    points: gpd.GeoSeries | None,
    min_zoom: int | None,
) -> tuple[dict | None, dict | None]:
    """The covered homes' layer and the gaps' layer (None when empty).

    Parameters
    ----------
    result : StudyResult
        The study whose homes are drawn.
    props : dict
        From :func:`home_props`.
    colours : list of str
        Colour per band index.
    display : Display
        WGS-84 or GCJ-02 coordinates (for Chinese basemaps).
    points : GeoSeries, optional
        A point per home (WGS-84): draw the homes as dots there (many homes) instead of
        their footprints.
    min_zoom : int, optional
        Show the layers only from this zoom level on.

    Returns
    -------
    (dict or None, dict or None)
    """
    homes = result.homes.to_crs("EPSG:4326")
    covered = homes["covered"].to_numpy(dtype=bool)
    polygonal = homes.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    rows = [["band", "b", "band"], ["walk", "w", "min"], ["residents", "r", "int"]]
    rows += [["nearest facility", "n", "name"], ["note", "note", "note"]]
    out = []
    for sel, layer_id in ((covered, "homes"), (~covered, "gaps")):
        if not sel.any():
            out.append(None)
            continue
        geoms = homes.geometry.values[sel]
        if points is not None or not polygonal:
            dots = points[sel] if points is not None else surface_points(gpd.GeoSeries(geoms, crs=homes.crs))
            geom = encode_points(_xy(dots), display, STEP_DEG)
            kind, style = "point", {"radius": 4, "weight": 1, "color": "#ffffff", "fillOpacity": 0.9}
        else:
            geom = encode_polygons(geoms, display)
            kind, style = "polygon", {"weight": 1, "color": "#333333", "fillOpacity": 0.9}
        spec = {
            "id": layer_id,
            "kind": kind,
            "pane": "homes",
            "geom": geom,
            "style": style,
            "colours": colours,
        }
        spec.update(colourBy="b", props=_subset(props, sel), popup={"rows": rows})
        spec["keepStroke"] = True
        if min_zoom:
            spec["minZoom"] = min_zoom
        out.append(spec)
    return out[0], out[1]


def _xy(points: gpd.GeoSeries) -> np.ndarray:
    return np.column_stack([points.x.to_numpy(), points.y.to_numpy()])


#: The popup note of a clinic over its resident target or below its supply target.
OVER_TARGET_NOTE = (
    "OVER TARGET: its catchment exceeds the residents-per-clinic target, or its supply per "
    "10,000 catchment residents is below the target"
)


def facility_specs(
    result: StudyResult, display: Display, label_min_zoom: int | None, radius_px: int = 8
) -> tuple[dict, dict]:
    """The facilities' layer (popups: catchment, capacity) and their name labels' layer.

    Parameters
    ----------
    result : StudyResult
        The study whose facilities and catchments are drawn.
    display : Display
        WGS-84 or GCJ-02 coordinates (for Chinese basemaps).
    label_min_zoom : int, optional
        Show names only from this zoom on.
    radius_px : int
        Marker radius.
    """
    fac = result.facilities
    threshold = result.settings.threshold_min
    xy = _xy(surface_points(fac.geometry.to_crs("EPSG:4326")))
    attached = fac["attached"].to_numpy(dtype=bool)
    capacity = pd.to_numeric(fac["capacity"], errors="coerce") if "capacity" in fac else None
    props = {
        "i": list(range(len(fac))),
        "a": attached.astype(int).tolist(),
        "detached": (~attached).astype(int).tolist(),
        "h": fac["catchment_homes"].astype(int).tolist(),
        "p": np.rint(fac["catchment_population"].to_numpy(dtype=float)).astype(int).tolist(),
        "cap": [None] * len(fac)
        if capacity is None
        else [None if pd.isna(c) else float(c) for c in capacity],
        "over": fac["overloaded"].astype(int).tolist() if "overloaded" in fac else [0] * len(fac),
    }
    geom = encode_points(xy, display)
    note = (
        "not on the walk network: no walkable street within reach, "
        f"so it serves nobody within {threshold:g} min"
    )
    facilities = {
        "id": "facilities",
        "kind": "point",
        "pane": "points",
        "geom": geom,
        "style": {"radius": radius_px, "weight": 2, "color": "#ffffff", "fillOpacity": 1.0},
        "keepStroke": True,
        "colourBy": "a",
        "colours": [DETACHED_FACILITY_COLOUR, FACILITY_COLOUR],
        "props": props,
        "popup": {
            "title": ["", "i", "name"],
            "rows": [
                ["nearest facility for {} homes", "h", "int"],
                ["{} residents in its catchment", "p", "int"],
                ["capacity", "cap", "num"],
            ],
            "notes": [["detached", note], ["over", OVER_TARGET_NOTE]],
        },
    }
    labels = {
        "id": "labels",
        "kind": "label",
        "geom": geom,
        "props": {"i": props["i"]},
        "label": ["i", "short"],
    }
    if label_min_zoom:
        labels["minZoom"] = label_min_zoom
    return facilities, labels


def proposed_sites_wgs84(sites: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Proposed sites checked (points with a CRS) and in WGS-84.

    Parameters
    ----------
    sites : GeoDataFrame, optional
        The caller's proposed sites, in any CRS; None for none.
    """
    if sites is None:
        return None
    if not isinstance(sites, gpd.GeoDataFrame) or not sites.geometry.geom_type.isin(["Point"]).all():
        raise InputError("proposed_sites must be a GeoDataFrame of points (name, rank, gain_population)")
    if sites.crs is None:
        raise InputError("proposed_sites has no CRS; set one, e.g. sites.set_crs('EPSG:4326')")
    return sites.to_crs("EPSG:4326").reset_index(drop=True)


def site_spec(sites: gpd.GeoDataFrame, threshold_min: float, display: Display) -> dict:
    """Proposed sites as numbered squares with popups naming the residents each brings within reach.

    Parameters
    ----------
    sites : GeoDataFrame
        WGS-84 points.
    threshold_min : float
        The coverage threshold in minutes, named in the popups.
    display : Display
        WGS-84 or GCJ-02 coordinates (for Chinese basemaps).
    """
    ranks, titles, gains = [], [], []
    for i, site in sites.iterrows():
        rank = site.get("rank", i + 1)
        rank = int(i + 1) if pd.isna(rank) else int(rank)
        name = site.get("name")
        name = str(bound_text(name)) if isinstance(name, str) and name.strip() else f"site {rank}"
        gain = pd.to_numeric(pd.Series([site.get("gain_population")]), errors="coerce").iloc[0]
        ranks.append(rank)
        titles.append(f"Proposed site {rank}: {name}")
        gains.append(None if not np.isfinite(gain) else round(float(gain)))
    return {
        "id": "sites",
        "kind": "point",
        "icon": "rank",
        "geom": encode_points(_xy(sites.geometry), display),
        "style": {},
        "props": {"rank": ranks, "t": titles, "g": gains},
        "popup": {
            "title": ["", "t", "text"],
            "rows": [[f"brings {{}} more residents within {threshold_min:g} min", "g", "int"]],
        },
    }
