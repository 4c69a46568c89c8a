"""Polygons on the page: study area, sub-areas with their coverage, service areas, catchments."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from circles.maps.encode import Display, encode_polygons
from circles.maps.style import (
    BOUNDARY_COLOUR,
    CATCHMENT_COLOURS,
    SUBAREA_COLOUR,
    band_area_colour,
)
from circles.result import StudyResult
from circles.sources.limits import bound_text

#: Simplification of drawn area outlines, degrees (about 1.5 m).
SIMPLIFY_DEG = 1.5e-5


def _simplified(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = frame.to_crs("EPSG:4326").geometry.values
    return shapely.simplify(np.asarray(geoms, dtype=object), SIMPLIFY_DEG, preserve_topology=True)


def area_km2(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Area of each polygon in km2, measured in its local UTM zone.

    Parameters
    ----------
    frame : GeoDataFrame
        Polygons in any CRS.
    """
    if len(frame) == 0:
        return np.zeros(0)
    return frame.to_crs(frame.to_crs("EPSG:4326").estimate_utm_crs()).area.to_numpy() / 1e6


def boundary_spec(boundary: gpd.GeoDataFrame, display: Display) -> dict:
    """The study-area outline: dashed, not filled, not clickable.

    Parameters
    ----------
    boundary : GeoDataFrame
        The study area.
    display : Display
        WGS-84 or GCJ-02 coordinates.
    """
    return {
        "id": "boundary",
        "pane": "points",
        "kind": "polygon",
        "geom": encode_polygons(_simplified(boundary), display),
        "style": {
            "color": BOUNDARY_COLOUR,
            "weight": 2,
            "fill": False,
            "dashArray": "6 4",
            "interactive": False,
        },
    }


def service_area_specs(result: StudyResult, display: Display) -> list[tuple[float, dict]]:
    """One layer per band, longest first (drawn below the shorter ones), with area and residents.

    Parameters
    ----------
    result : StudyResult
    display : Display
    """
    areas = result.service_areas.sort_values("band_min", ascending=False).reset_index(drop=True)
    residents = {w.minutes: w.population for w in result.summary.coverage.within}
    km2 = area_km2(areas)
    geoms = _simplified(areas)
    out = []
    for i, row in areas.iterrows():
        if row.geometry is None or row.geometry.is_empty:
            continue
        colour = band_area_colour(len(areas) - 1 - i)
        band = float(row.band_min)
        spec = {
            "id": "area",
            "pane": "areas",
            "kind": "polygon",
            "geom": encode_polygons(geoms[i : i + 1], display),
            "style": {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.25},
            "props": {
                "band_min": [band],
                "t": [f"within {band:g} min walk"],
                "km2": [round(float(km2[i]), 3)],
                "res": [residents.get(band)],
            },
            "popup": {
                "title": ["", "t", "text"],
                "rows": [["area", "km2", "km2"], ["residents", "res", "int"]],
            },
        }
        out.append((band, spec))
    return out


def catchment_spec(result: StudyResult, display: Display) -> dict | None:
    """Each facility's catchment (the streets it reaches first, buffered), in cycled colours.

    Parameters
    ----------
    result : StudyResult
    display : Display
    """
    frame = result.catchment_areas
    if frame is None or len(frame) == 0:
        return None
    index = {str(f): i for i, f in enumerate(result.facilities["facility_id"])}
    fac = [index.get(str(f), -1) for f in frame["facility_id"]]
    colour = [i % len(CATCHMENT_COLOURS) if i >= 0 else 0 for i in fac]
    return {
        "id": "catchments",
        "pane": "areas",
        "kind": "polygon",
        "geom": encode_polygons(_simplified(frame), display),
        "style": {"weight": 1, "fillOpacity": 0.3},
        "colourBy": "c",
        "colours": list(CATCHMENT_COLOURS),
        "props": {
            "i": fac,
            "c": colour,
            "h": frame["catchment_homes"].astype(int).tolist(),
            "p": np.rint(frame["catchment_population"].to_numpy(dtype=float)).astype(int).tolist(),
        },
        "popup": {
            "title": ["catchment of ", "i", "name"],
            "rows": [["homes", "h", "int"], ["residents", "p", "int"]],
        },
    }


def subarea_spec(result: StudyResult, subareas: gpd.GeoDataFrame, display: Display) -> dict:
    """Sub-area outlines, each with a popup of its coverage (matched to the summary by order).

    Parameters
    ----------
    result : StudyResult
        With its sub-area figures in ``summary.subareas``.
    subareas : GeoDataFrame
        The sub-area polygons, in the summary's order.
    display : Display
    """
    figures = [s for s in result.summary.subareas if s.name != "(outside sub-areas)"]
    names = [str(bound_text(str(n))) for n in subareas["name"]] if "name" in subareas else []
    rows = {"t": [], "homes": [], "res": [], "pct": [], "unc": [], "fac": []}
    for i in range(len(subareas)):
        fig = figures[i] if i < len(figures) else None
        c = fig.coverage if fig is not None else None
        rows["t"].append(names[i] if i < len(names) else f"sub-area {i + 1}")
        rows["homes"].append(None if c is None else c.homes)
        rows["res"].append(None if c is None else round(c.population))
        share = None if c is None or c.covered_share is None else round(100 * c.covered_share, 1)
        rows["pct"].append(share)
        rows["unc"].append(None if c is None else round(c.uncovered_population))
        rows["fac"].append(None if fig is None else fig.facilities.inside)
    threshold = result.settings.threshold_min
    return {
        "id": "subareas",
        "pane": "areas",
        "kind": "polygon",
        "geom": encode_polygons(_simplified(subareas), display),
        "style": {"color": SUBAREA_COLOUR, "weight": 1.5, "fillOpacity": 0, "fill": True},
        "props": rows,
        "popup": {
            "title": ["", "t", "text"],
            "rows": [
                ["homes", "homes", "int"],
                ["residents", "res", "int"],
                [f"within {threshold:g} min", "pct", "pct"],
                [f"residents beyond {threshold:g} min", "unc", "int"],
                ["facilities inside", "fac", "int"],
            ],
        },
    }
