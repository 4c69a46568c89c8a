"""Writing a study result to a folder, atomically."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from circles.analysis import StudyResult
from circles.errors import OutputError

OUTPUT_FILES = (
    "map.html",
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


def summary_rows(result: StudyResult) -> pd.DataFrame:
    """The summary as one flat table row (for summary.csv and batch tables)."""
    s = result.summary
    row = {
        "name": s["name"],
        "homes": s["homes"],
        "population": s["population"],
        "facilities": s["facilities"],
        "residents_per_facility": s["residents_per_facility"],
        "covered_population": s["covered_population"],
        "covered_share": s["covered_share"],
        "uncovered_population": s["uncovered_population"],
        "unreachable_homes": s["unreachable_homes"],
    }
    for w in s["within"]:
        row[f"population_within_{w['minutes']:g}_min"] = w["population"]
        row[f"share_within_{w['minutes']:g}_min"] = w["population_share"]
    row["speed_kmh"] = s["parameters"]["speed_kmh"]
    return pd.DataFrame([row])


def write_outputs(result: StudyResult, out_dir: str | Path) -> Path:
    """Write map, tables and layers into ``out_dir``, replacing it only on success.

    Files are first written into a temporary sibling folder; the previous
    ``out_dir`` (if any) is replaced only once every file is complete.

    Parameters
    ----------
    result : StudyResult
    out_dir : str or Path

    Returns
    -------
    Path
        The output folder.

    """
    from circles.maps import build_map

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
        build_map(result).save(str(tmp / "map.html"))
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(result.summary, fh, ensure_ascii=False, indent=2, sort_keys=False)
            fh.write("\n")
        summary_rows(result).to_csv(tmp / "summary.csv", index=False)
        result.homes.to_file(tmp / "homes.gpkg", driver="GPKG", layer="homes")
        result.facilities.to_file(tmp / "facilities.gpkg", driver="GPKG", layer="facilities")
        result.service_areas.to_file(tmp / "service_areas.gpkg", driver="GPKG", layer="service_areas")
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
