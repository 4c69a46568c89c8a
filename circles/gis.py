"""The study's layers for GIS users: one ``circles.gpkg`` styled for QGIS, GeoParquet on request.

Layers (WGS-84): ``study_area`` (with its coverage), ``homes``, ``facilities``,
``service_areas`` (per band: area in km2, homes and residents within), ``catchments``,
``streets`` (every walk segment with the walking time at its ends and its band),
``sub_areas`` (with their coverage), ``proposed_sites`` and ``tier_areas`` (with facility
tiers). Column names hold no colons (``building:levels`` becomes ``building_levels``), which
some GIS tools refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from circles.coverage import assign_bands, band_labels
from circles.crs import WGS84
from circles.errors import InputError, OutputError
from circles.result import StudyResult

GPKG_NAME = "circles.gpkg"
GEOPARQUET_FOLDER = "geoparquet"


def gis_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with ``:`` (and other characters GIS tools dislike) in column names replaced by ``_``.

    Parameters
    ----------
    frame : GeoDataFrame
        A layer about to be written.
    """
    taken: set[str] = set()
    names = {}
    for col in frame.columns:
        if col == frame.geometry.name:
            names[col] = col
            continue
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in str(col)) or "column"
        name, i = base, 2
        while name.lower() in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name.lower())
        names[col] = name
    return frame.rename(columns=names)


def service_area_layer(result: StudyResult) -> gpd.GeoDataFrame:
    """One polygon per band with ``band_min``, ``area_km2``, ``homes`` and ``population`` within it.

    Parameters
    ----------
    result : StudyResult
        The study whose service areas and coverage per band are used.
    """
    from circles.maps.areas import area_km2

    areas = result.service_areas.sort_values("band_min").reset_index(drop=True)
    within = {w.minutes: w for w in result.summary.coverage.within}
    out = areas.copy()
    out["area_km2"] = np.round(area_km2(areas), 4)
    out["homes"] = [within[b].homes if b in within else None for b in areas["band_min"]]
    out["population"] = [within[b].population if b in within else None for b in areas["band_min"]]
    return out


def street_layer(result: StudyResult) -> gpd.GeoDataFrame | None:
    """Every walk segment with its walking times, length and band.

    ``start_min``/``end_min`` are the minutes to its two ends, ``walk_time_min`` the
    nearer end's, ``band`` its band ("" when not reached within the longest band).

    Parameters
    ----------
    result : StudyResult
        The study; its network and node costs give the times (no layer without a context).
    """
    if result.context is None:
        return None
    from circles.analysis import cost_per_min

    net, nodes = result.context.network, result.context.nodes
    per_min = cost_per_min(net, result.settings)
    cost = np.where(np.isfinite(nodes.cost), nodes.cost / per_min, np.nan)
    start, end = cost[net.edge_u], cost[net.edge_v]
    with np.errstate(invalid="ignore"):
        nearest = np.fmin(start, end)
    bands = tuple(result.settings.bands_min or ())
    band = assign_bands(nearest, bands)
    band = np.where(np.isnan(nearest) | (nearest > bands[-1]), "", band)
    # Each node projected once (not once per edge end): the same coordinates.
    transformer = pyproj.Transformer.from_crs(net.crs, WGS84, always_xy=True)
    node_lonlat = np.column_stack(transformer.transform(net.node_xy[:, 0], net.node_xy[:, 1]))
    lines = shapely.linestrings(np.stack([node_lonlat[net.edge_u], node_lonlat[net.edge_v]], axis=1))
    return gpd.GeoDataFrame(
        {
            "start_min": np.round(start, 2),
            "end_min": np.round(end, 2),
            "walk_time_min": np.round(nearest, 2),
            "length_m": np.round(net.edge_length_m, 2),
            "band": band.astype(str),
        },
        geometry=gpd.GeoSeries(lines, crs=WGS84),
    )


def _coverage_columns(coverage) -> dict:
    return {
        "homes": coverage.homes,
        "population": coverage.population,
        "covered_homes": coverage.covered_homes,
        "covered_population": coverage.covered_population,
        "covered_share": coverage.covered_share,
        "uncovered_population": coverage.uncovered_population,
        "unreachable_homes": coverage.unreachable_homes,
    }


def study_area_layer(result: StudyResult) -> gpd.GeoDataFrame:
    """The study area (its boundary, or the hull of its homes) with the headline figures.

    Parameters
    ----------
    result : StudyResult
        The study whose boundary (or homes) and summary are used.
    """
    s = result.summary
    if result.boundary is not None and len(result.boundary):
        shape = shapely.union_all(result.boundary.to_crs(WGS84).geometry.values)
    else:
        from circles.diagnostics import hull_of_points

        shape = hull_of_points(shapely.get_coordinates(result.homes.to_crs(WGS84).geometry.values))
    row = {"name": result.name, **_coverage_columns(s.coverage), "facilities": s.facilities.inside}
    row.update(
        partial=s.partial,
        population_estimated=s.population.estimated,
        threshold_min=result.settings.threshold_min,
    )
    return gpd.GeoDataFrame([row], geometry=[shape], crs=WGS84)


def sub_area_layer(result: StudyResult, subareas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sub-area polygons with their coverage figures (in the summary's order).

    Parameters
    ----------
    result : StudyResult
        The study whose summary holds the figures per sub-area.
    subareas : GeoDataFrame
        The sub-areas the study ran with (any CRS), in the order of its summary.
    """
    figures = [f for f in result.summary.subareas if f.name != "(outside sub-areas)"]
    rows = [
        {"name": f.name, **_coverage_columns(f.coverage), "facilities": f.facilities.inside} for f in figures
    ]
    table = pd.DataFrame(rows, index=range(len(rows)))
    geoms = subareas.to_crs(WGS84).geometry.values[: len(rows)]
    return gpd.GeoDataFrame(table, geometry=list(geoms), crs=WGS84)


def gis_layers(result: StudyResult, subareas: gpd.GeoDataFrame | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of ``circles.gpkg`` by name, in WGS-84, with GIS-safe column names.

    Parameters
    ----------
    result : StudyResult
        The study to write.
    subareas : GeoDataFrame, optional
        The sub-areas the study ran with; adds the ``sub_areas`` layer.
    """
    layers = {
        "study_area": study_area_layer(result),
        "homes": result.homes,
        "facilities": result.facilities,
        "service_areas": service_area_layer(result),
    }
    if result.catchment_areas is not None:
        layers["catchments"] = result.catchment_areas
    streets = street_layer(result)
    if streets is not None:
        layers["streets"] = streets
    if subareas is not None and len(subareas) and result.summary.subareas:
        layers["sub_areas"] = sub_area_layer(result, subareas)
    if result.proposed_sites is not None:
        layers["proposed_sites"] = result.proposed_sites
    if result.what_if_homes is not None:
        layers["what_if_homes"] = result.what_if_homes  # homes whose time or nearest clinic changes
    if result.tier_areas is not None and len(result.tier_areas):
        layers["tier_areas"] = result.tier_areas  # one polygon per facility tier (column ``tier``)
    return {name: gis_columns(frame.to_crs(WGS84)) for name, frame in layers.items()}


def _styles(result: StudyResult, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, tuple[str, str]]:
    from circles.gpkg_styles import default_styles
    from circles.maps.style import band_area_colour, band_colours

    labels = [*band_labels(tuple(result.settings.bands_min or ())), "unreachable"]
    colours = band_colours(labels[:-1], result.settings.threshold_min)
    bands = sorted(float(b) for b in result.service_areas["band_min"])
    qml = default_styles(
        labels, [colours[lab] for lab in labels], bands, [band_area_colour(i) for i in range(len(bands))]
    )
    return {name: ("geom", qml[name]) for name in layers if name in qml}


def write_gpkg(result: StudyResult, path: Path, subareas: gpd.GeoDataFrame | None = None) -> Path:
    """Write ``circles.gpkg``: every layer (:func:`gis_layers`) and their QGIS styles.

    Parameters
    ----------
    result : StudyResult
        The study to write.
    path : Path
        The GeoPackage file to write (layers are added to it).
    subareas : GeoDataFrame, optional
        The sub-areas the study ran with; adds the ``sub_areas`` layer.

    Returns
    -------
    Path
    """
    import pyogrio

    from circles.gpkg_styles import write_styles

    layers = gis_layers(result, subareas)
    with unsynchronised_sqlite():
        for name, frame in layers.items():
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", use_arrow=True)
    write_styles(path, _styles(result, layers))
    return path


@contextmanager
def unsynchronised_sqlite() -> Iterator[None]:
    """GDAL's SQLite writes without waiting for the disk (4x faster here), for this block only.

    The GeoPackage is written in a temporary folder that is published only when complete
    (:mod:`circles.outdir`), so a crash can only lose that temporary copy.
    """
    import pyogrio

    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: before})


def write_geoparquet(result: StudyResult, folder: Path, subareas: gpd.GeoDataFrame | None = None) -> Path:
    """Write every layer as ``folder/<layer>.parquet`` (GeoParquet; needs pyarrow).

    Parameters
    ----------
    result : StudyResult
        The study to write.
    folder : Path
        The folder the ``.parquet`` files go in (created if missing).
    subareas : GeoDataFrame, optional
        The sub-areas the study ran with; adds the ``sub_areas`` layer.

    Returns
    -------
    Path
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(
            "GeoParquet needs pyarrow", parameter="geoparquet", fix="pip install 'circles[parquet]'"
        ) from None
    folder.mkdir(exist_ok=True)
    for name, frame in gis_layers(result, subareas).items():
        try:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        except OSError as exc:
            raise OutputError(f"cannot write GeoParquet ({exc})", where=str(folder / name)) from None
    return folder
