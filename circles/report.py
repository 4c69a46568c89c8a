"""Writing one study result to its folder: map, static picture, tables and layers.

Where the files may go and how they are published safely is :mod:`circles.outdir`;
the tables and their CSV form are :mod:`circles.tables`; the GIS layers and their QGIS
styles are :mod:`circles.gis`; the web map is :mod:`circles.maps`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from circles.gis import GEOPARQUET_FOLDER, GPKG_NAME
from circles.maps import MapOptions
from circles.outdir import output_folder, safe_name
from circles.result import StudyResult, Summary
from circles.tables import sites_table, summary_rows, write_csv

__all__ = [
    "DEPRECATED_FILES",
    "OPTIONAL_OUTPUTS",
    "OUTPUT_FILES",
    "safe_name",
    "summary_rows",
    "with_fingerprint",
    "write_outputs",
]

#: What every area folder holds.
OUTPUT_FILES = (
    "map.html",
    "map.png",
    "summary.json",
    "summary.csv",
    GPKG_NAME,
    "homes.gpkg",
    "facilities.gpkg",
    "service_areas.gpkg",
)
#: Written only when asked for: proposed sites (``recommend_sites``), a local basemap's tiles
#: (``tiles="....mbtiles"``), GeoParquet (``geoparquet=True``).
OPTIONAL_OUTPUTS = (
    "proposed_sites.gpkg",
    "proposed_sites.csv",
    "what_if_homes.csv",
    "what_if_facilities.csv",
    "tiles",
    GEOPARQUET_FOLDER,
)
#: The one-layer GeoPackages of earlier releases, kept for this release only: every layer is in
#: ``circles.gpkg``.
DEPRECATED_FILES = ("homes.gpkg", "facilities.gpkg", "service_areas.gpkg", "proposed_sites.gpkg")


def with_fingerprint(summary: Summary, fingerprint: dict | None) -> Summary:
    """The summary with its ``fingerprint`` section (what produced it), when known.

    Parameters
    ----------
    summary : Summary
    fingerprint : dict, optional
    """
    if fingerprint is None:
        return summary
    return summary.with_(extra={**summary.extra, "fingerprint": fingerprint})


def write_outputs(
    result: StudyResult,
    out_dir: str | Path,
    *,
    map_options: MapOptions | None = None,
    offline_map: bool = False,
    fingerprint: dict | None = None,
    area_name: str | None = None,
    output_crs: str = "wgs84",
    subareas: gpd.GeoDataFrame | None = None,
    geoparquet: bool = False,
) -> Path:
    """Write map, tables and layers into ``out_dir``, replacing it only on success.

    ``out_dir`` may be new, empty, or a folder circles wrote before (it carries a
    marker, see :func:`circles.outdir.check_output_dir`); anything else is refused
    with :class:`circles.errors.OutputError` before a file is written. Files are
    written into a temporary sibling folder that replaces ``out_dir`` in one step once
    every file is complete.

    Parameters
    ----------
    result : StudyResult
    out_dir : str or Path
        The folder to (re)place; a symbolic link is written through and kept.
    map_options : MapOptions, optional
        How ``map.html`` is made (basemap, self-contained or CDN page, ...).
    offline_map : bool
        Kept for compatibility: the map is self-contained unless ``map_options`` says otherwise.
    fingerprint : dict, optional
        ``Fingerprint.as_dict()`` of the inputs and parameters, recorded in
        ``summary.json`` and the marker.
    area_name : str, optional
        Refuse an existing folder that holds another area's results (batches).
    output_crs : str
        Coordinate system of coordinates in CSV tables (``proposed_sites.csv``):
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``. GeoPackages are always WGS-84.
    subareas : GeoDataFrame, optional
        The sub-area polygons the summary's sub-areas were counted in (drawn on the map
        and written as the ``sub_areas`` layer).
    geoparquet : bool
        Also write every layer as GeoParquet (``geoparquet/<layer>.parquet``; needs pyarrow).

    Returns
    -------
    Path
        The output folder.
    """
    del offline_map  # the default page is self-contained
    with output_folder(out_dir, name=result.name, fingerprint=fingerprint, area_name=area_name) as tmp:
        _write_files(result, tmp, map_options or MapOptions(), fingerprint, output_crs, subareas)
        if geoparquet:
            from circles.gis import write_geoparquet

            write_geoparquet(result, tmp / GEOPARQUET_FOLDER, subareas)
    return Path(out_dir)


def _write_files(
    result: StudyResult,
    tmp: Path,
    map_options: MapOptions,
    fingerprint: dict | None,
    output_crs: str,
    subareas: gpd.GeoDataFrame | None,
) -> None:
    from circles.gis import unsynchronised_sqlite, write_gpkg
    from circles.maps import save_map
    from circles.static_map import render_png

    sites = result.proposed_sites
    save_map(result, tmp / "map.html", options=map_options, proposed_sites=sites, subareas=subareas)
    render_png(result, tmp / "map.png", proposed_sites=sites)
    summary = with_fingerprint(result.summary, fingerprint)
    (tmp / "summary.json").write_text(summary.to_json(), encoding="utf-8")
    write_csv(summary_rows(summary.to_dict()), tmp / "summary.csv")
    write_gpkg(result, tmp / GPKG_NAME, subareas)
    # Deprecated: the same layers one per file, as earlier releases wrote them.
    layers = [
        (result.homes, "homes.gpkg", "homes"),
        (result.facilities, "facilities.gpkg", "facilities"),
        (result.service_areas, "service_areas.gpkg", "service_areas"),
        (result.catchment_areas, "service_areas.gpkg", "catchments"),
        (sites, "proposed_sites.gpkg", "proposed_sites"),
    ]
    with unsynchronised_sqlite():  # in the temporary folder, published only when complete
        for frame, file_name, layer in layers:
            if frame is not None:
                frame.to_file(tmp / file_name, driver="GPKG", layer=layer, engine="pyogrio", use_arrow=True)
    if sites is not None:
        write_csv(sites_table(sites, output_crs), tmp / "proposed_sites.csv")
    _write_tiers(result, tmp)
    _write_what_if(result, tmp, output_crs)


def _write_what_if(result: StudyResult, tmp: Path, output_crs: str) -> None:
    """``what_if_homes.csv`` and ``what_if_facilities.csv``, in a what-if run."""
    if result.what_if_homes is None or result.summary.what_if is None:
        return
    import pandas as pd

    homes = result.what_if_homes.to_crs("EPSG:4326")
    points = homes.set_geometry(homes.geometry.representative_point())  # a point inside each home
    write_csv(sites_table(points, output_crs), tmp / "what_if_homes.csv")
    rows = [f.to_dict() for f in result.summary.what_if.facilities]
    columns = ["facility_id", "name", "catchment_population_before", "catchment_population_after", "change"]
    write_csv(pd.DataFrame(rows, columns=columns), tmp / "what_if_facilities.csv")


def _write_tiers(result: StudyResult, tmp: Path) -> None:
    """``tiers.csv``, ``tier_units.csv`` and the tiers' area layers, when the study has tiers."""
    from circles.tier_report import write_tier_files

    write_tier_files(result, tmp)
