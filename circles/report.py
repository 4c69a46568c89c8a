"""Writing one study result to its folder: map, static picture, tables and layers.

Where the files may go and how they are published safely is :mod:`circles.outdir`;
the tables and their CSV form are :mod:`circles.tables`.
"""

from __future__ import annotations

from pathlib import Path

from circles.outdir import output_folder, safe_name
from circles.result import StudyResult, Summary
from circles.tables import sites_table, summary_rows, write_csv

__all__ = ["OUTPUT_FILES", "safe_name", "summary_rows", "with_fingerprint", "write_outputs"]

OUTPUT_FILES = (
    "map.html",
    "map.png",
    "summary.json",
    "summary.csv",
    "homes.gpkg",
    "facilities.gpkg",
    "service_areas.gpkg",
)


def with_fingerprint(summary: Summary, fingerprint: dict | None) -> Summary:
    """The summary with its ``fingerprint`` section (what produced it), when known."""
    if fingerprint is None:
        return summary
    return summary.with_(extra={**summary.extra, "fingerprint": fingerprint})


def write_outputs(
    result: StudyResult,
    out_dir: str | Path,
    *,
    offline_map: bool = False,
    fingerprint: dict | None = None,
    area_name: str | None = None,
    output_crs: str = "wgs84",
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
    offline_map : bool
        Inline the map's JavaScript and CSS so it draws without internet access.
    fingerprint : dict, optional
        ``Fingerprint.as_dict()`` of the inputs and parameters, recorded in
        ``summary.json`` and the marker.
    area_name : str, optional
        Refuse an existing folder that holds another area's results (batches).
    output_crs : str
        Coordinate system of coordinates in CSV tables (``proposed_sites.csv``):
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``. GeoPackages are always WGS-84.

    Returns
    -------
    Path
        The output folder.
    """
    with output_folder(out_dir, name=result.name, fingerprint=fingerprint, area_name=area_name) as tmp:
        _write_files(result, tmp, offline_map, fingerprint, output_crs)
    return Path(out_dir)


def _write_files(
    result: StudyResult, tmp: Path, offline_map: bool, fingerprint: dict | None, output_crs: str
) -> None:
    from circles.maps import save_map
    from circles.static_map import render_png

    save_map(result, tmp / "map.html", offline=offline_map, proposed_sites=result.proposed_sites)
    render_png(result, tmp / "map.png", proposed_sites=result.proposed_sites)
    summary = with_fingerprint(result.summary, fingerprint)
    (tmp / "summary.json").write_text(summary.to_json(), encoding="utf-8")
    write_csv(summary_rows(summary.to_dict()), tmp / "summary.csv")
    result.homes.to_file(tmp / "homes.gpkg", driver="GPKG", layer="homes")
    result.facilities.to_file(tmp / "facilities.gpkg", driver="GPKG", layer="facilities")
    result.service_areas.to_file(tmp / "service_areas.gpkg", driver="GPKG", layer="service_areas")
    if result.catchment_areas is not None:
        result.catchment_areas.to_file(tmp / "service_areas.gpkg", driver="GPKG", layer="catchments")
    if result.proposed_sites is not None:
        result.proposed_sites.to_file(tmp / "proposed_sites.gpkg", driver="GPKG", layer="proposed_sites")
        write_csv(sites_table(result.proposed_sites, output_crs), tmp / "proposed_sites.csv")
    _write_tiers(result, tmp)


def _write_tiers(result: StudyResult, tmp: Path) -> None:
    """``tiers.csv``, ``tier_units.csv`` and the tiers' area layers, when the study has tiers."""
    from circles.tier_report import write_tier_files

    write_tier_files(result, tmp)
