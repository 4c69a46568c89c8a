"""The marker file that proves circles wrote a folder: what it says and how it is read.

Every folder circles writes carries :data:`MARKER_NAME`: what kind of folder it is (one
area's results, a batch, a work folder), which area, which files, the fingerprint of the
inputs and parameters, the tool version and the writer process. Folders written before
markers existed are recognised by their files alone (:func:`legacy_marker`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from circles.tempdirs import writer_identity

__all__ = ["LEGACY_AREA_FILES", "MARKER_NAME", "legacy_marker", "marker_text", "read_marker"]

#: The marker file inside every folder circles writes.
MARKER_NAME = ".circles-output.json"
#: What an area folder written before markers existed may hold.
LEGACY_AREA_FILES = frozenset(
    {"map.html", "map.png", "summary.json", "summary.csv", "homes.gpkg", "facilities.gpkg"}
    | {"service_areas.gpkg", "proposed_sites.gpkg", "proposed_sites.csv", "circles.gpkg"}
)


def read_marker(folder: Path) -> dict | None:
    """The marker of a folder circles wrote, or None (no marker, unreadable, or not circles').

    Parameters
    ----------
    folder : Path
        The folder whose :data:`MARKER_NAME` file is read.

    Returns
    -------
    dict or None
        The marker's JSON object when its ``tool.name`` is ``"circles"``.
    """
    try:
        marker = json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("tool", {}).get("name") != "circles":
        return None
    return marker


def marker_text(*, kind: str, state: str, name: str | None, folder: str, files=(), fingerprint=None) -> str:
    """The JSON text of a marker (see :data:`MARKER_NAME`).

    Parameters
    ----------
    kind : str
        What the folder is: ``"area"``, ``"batch"`` or ``"work"``.
    state : str
        ``"writing"`` while it is being filled, ``"complete"`` once finished.
    name : str or None
        The area's exact name (area folders), None otherwise.
    folder : str
        The folder's own name (no path), to restore it if a swap is interrupted.
    files : iterable of str
        The names of the files circles wrote in it (recorded sorted).
    fingerprint : dict, optional
        ``Fingerprint.as_dict()`` of what produced the results.

    Returns
    -------
    str
        Indented JSON, ending with a newline; it also records circles' version and the writer process.
    """
    from circles import __version__

    marker = {
        "tool": {"name": "circles", "version": __version__},
        "kind": kind,
        "state": state,
        "name": name,
        "folder": folder,
        "files": sorted(files),
        "fingerprint": fingerprint,
        "writer": writer_identity(),
    }
    return json.dumps(marker, ensure_ascii=False, indent=2) + "\n"


def legacy_marker(path: Path, entries: set[str]) -> dict | None:
    """A marker for a folder written by circles before markers existed, when it can be shown.

    One area's results: only files circles writes, and a summary.json naming circles as
    its tool. A batch: circles' index page, a summary table and such area folders only. Their
    results carry no fingerprint, so a batch recomputes them.

    Parameters
    ----------
    path : Path
        The folder.
    entries : set of str
        The names of the files and folders directly in it.
    """
    if MARKER_NAME in entries:
        return None
    if entries <= LEGACY_AREA_FILES and "summary.json" in entries:
        try:
            summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if isinstance(summary, dict) and summary.get("tool", {}).get("name") == "circles":
            name = summary.get("name")
            return {
                "kind": "area",
                "state": "complete",
                "name": name,
                "files": sorted(entries),
                "legacy": True,
            }
        return None
    folders = {e for e in entries if (path / e).is_dir() and not (path / e).is_symlink()}
    if entries - folders == {"index.html", "summary.csv"} and folders and _circles_index(path / "index.html"):
        areas = [read_marker(path / f) or legacy_marker(path / f, set(os.listdir(path / f))) for f in folders]
        if all(a is not None and a.get("kind") == "area" for a in areas):
            return {"kind": "batch", "state": "complete", "name": None, "files": [], "legacy": True}
    return None


def _circles_index(path: Path) -> bool:
    try:
        return "<title>circles: " in path.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False
