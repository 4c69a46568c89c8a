"""Writing a study result to a folder, atomically."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from circles.errors import OutputError
from circles.result import StudyResult
from circles.static_map import render_png

OUTPUT_FILES = (
    "map.html",
    "map.png",
    "summary.json",
    "summary.csv",
    "homes.gpkg",
    "facilities.gpkg",
    "service_areas.gpkg",
)


def safe_name(name: str) -> str:
    """A folder name from a study-area name: no path separators, dots or control characters.

    Chinese and other letters are kept (``"罗湖区"`` stays ``"罗湖区"``); ``"../../x"`` becomes ``"x"``.
    """
    cleaned = re.sub(r"[^\w\-]+", "_", name, flags=re.UNICODE).strip("._-")
    return cleaned or "area"


def summary_rows(summary: dict) -> pd.DataFrame:
    """The summary as a flat table: one row for the area, then one per sub-area.

    Parameters
    ----------
    summary : dict
        ``StudyResult.summary.to_dict()`` (the layout of ``summary.json``).

    Returns
    -------
    DataFrame
        Columns ``level`` (``"area"`` or ``"subarea"``), ``name``, homes, residents and
        whether they are estimated, facilities inside / serving from nearby / off the
        network, coverage figures and shares per band, walking speed and threshold.
    """
    params = summary["parameters"]
    estimated = summary.get("population_method", {}).get("estimated")
    rows = [_flat_row(summary, "area", params, estimated)]
    rows += [_flat_row(sub, "subarea", params, estimated) for sub in summary.get("subareas", [])]
    return pd.DataFrame(rows)


def _flat_row(s: dict, level: str, params: dict, estimated: bool | None) -> dict:
    facilities = s.get("facilities", {})
    row = {
        "level": level,
        "name": s["name"],
        "homes": s["homes"],
        "population": s["population"],
        "population_estimated": estimated,
        "facilities_inside": facilities.get("inside"),
        "facilities_nearby_serving": facilities.get("margin_serving"),
        "facilities_off_network": facilities.get("unattached"),
        "residents_per_facility": s.get("residents_per_facility"),
        "covered_population": s["covered_population"],
        "covered_share": s["covered_share"],
        "uncovered_population": s["uncovered_population"],
        "unreachable_homes": s["unreachable_homes"],
    }
    for w in s["within"]:
        row[f"population_within_{w['minutes']:g}_min"] = w["population"]
        row[f"share_within_{w['minutes']:g}_min"] = w["population_share"]
    if "capacity" in s:
        row["capacity_total"] = s["capacity"]["total"]
        row["capacity_per_10k_residents"] = s["capacity"]["per_10k_residents"]
    if level == "area":
        row["partial"] = s.get("partial")
    row["speed_kmh"] = params["speed_kmh"]
    row["threshold_min"] = params["threshold_min"]
    return row


def write_outputs(result: StudyResult, out_dir: str | Path, *, offline_map: bool = False) -> Path:
    """Write map, tables and layers into ``out_dir``, replacing it only on success.

    Files are first written into a temporary sibling folder; the previous
    ``out_dir`` (if any) is replaced only once every file is complete.

    Parameters
    ----------
    result : StudyResult
    out_dir : str or Path
        The folder to (re)place.
    offline_map : bool
        Inline the map's JavaScript and CSS so it draws without internet access.

    Returns
    -------
    Path
        The output folder.

    """
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=parent))
    except OSError as exc:
        raise OutputError(
            f"{out_dir}: cannot create the output folder ({exc.strerror}); choose a writable --out"
        ) from None
    try:
        _save_map(result, tmp / "map.html", offline_map)
        render_png(result, tmp / "map.png", proposed_sites=result.proposed_sites)
        (tmp / "summary.json").write_text(result.summary.to_json(), encoding="utf-8")
        summary_rows(result.summary.to_dict()).to_csv(tmp / "summary.csv", index=False)
        result.homes.to_file(tmp / "homes.gpkg", driver="GPKG", layer="homes")
        result.facilities.to_file(tmp / "facilities.gpkg", driver="GPKG", layer="facilities")
        result.service_areas.to_file(tmp / "service_areas.gpkg", driver="GPKG", layer="service_areas")
        if result.catchment_areas is not None:
            result.catchment_areas.to_file(tmp / "service_areas.gpkg", driver="GPKG", layer="catchments")
        if result.proposed_sites is not None:
            result.proposed_sites.to_file(tmp / "proposed_sites.gpkg", driver="GPKG", layer="proposed_sites")
        os.chmod(tmp, 0o777 & ~_umask())
        _replace_dir(tmp, out_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(
            f"{out_dir}: writing results failed ({exc}); check free space and permissions"
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _save_map(result: StudyResult, path: Path, offline: bool) -> None:
    from circles.maps import save_map

    save_map(result, path, offline=offline, proposed_sites=result.proposed_sites)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace_dir(new: Path, target: Path) -> None:
    """Swap ``new`` into place of ``target``, keeping ``target`` until the swap succeeds."""
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.resolve().parent))
        os.rmdir(old)
        os.rename(target, old)
        try:
            os.rename(new, target)
        except OSError:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)
