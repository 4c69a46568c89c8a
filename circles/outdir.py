"""Output folders circles may write, and proof that it wrote them.

Every folder circles writes carries a marker file, :data:`MARKER_NAME`, saying what
kind of folder it is (one area's results or a batch), which area, which files, the
fingerprint of the inputs and parameters, and the tool version. An existing folder is
replaced only when it carries such a marker and holds nothing else, or is empty;
anything else is refused before any work starts (:func:`check_output_dir`).

Results are written into a temporary sibling folder (see :mod:`circles.tempdirs`)
and swapped into place in one step, so a killed run leaves the previous folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from circles.errors import OutputError
from circles.names import area_folder_name, area_folder_names, safe_name
from circles.tempdirs import (
    atomic_write_text,
    clean_debris,
    new_temp_dir,
    remove_circles_dir,
    replace_dir,
    writer_identity,
)

__all__ = [
    "MARKER_NAME",
    "OutputTarget",
    "area_folder_name",
    "area_folder_names",
    "check_output_dir",
    "output_folder",
    "prepare_batch_dir",
    "read_marker",
    "safe_name",
]

#: The marker file inside every folder circles writes.
MARKER_NAME = ".circles-output.json"
#: What an area folder written before markers existed may hold.
LEGACY_AREA_FILES = frozenset(
    {"map.html", "map.png", "summary.json", "summary.csv", "homes.gpkg", "facilities.gpkg"}
    | {"service_areas.gpkg", "proposed_sites.gpkg", "proposed_sites.csv", "circles.gpkg"}
)
#: Room kept for the longest file circles writes inside a folder (and GeoPackage journals).
_INNER_NAME_BYTES = 64


@dataclass(frozen=True)
class OutputTarget:
    """An output location that passed the checks.

    Attributes
    ----------
    requested : Path
        As given.
    path : Path
        Absolute, with symbolic links resolved: the folder actually replaced (a link
        given as ``out_dir`` stays and keeps pointing at it).
    marker : dict or None
        The marker of the circles folder already there; None when there is none yet
        (missing or empty folder).
    """

    requested: Path
    path: Path
    marker: dict | None


def read_marker(folder: Path) -> dict | None:
    """The marker of a folder circles wrote, or None (no marker, unreadable, or not circles')."""
    try:
        marker = json.loads((Path(folder) / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("tool", {}).get("name") != "circles":
        return None
    return marker


def marker_text(*, kind: str, state: str, name: str | None, folder: str, files=(), fingerprint=None) -> str:
    """The JSON text of a marker (see :data:`MARKER_NAME`)."""
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


def check_output_dir(
    out_dir: str | Path, *, kind: str = "area", area_name: str | None = None
) -> OutputTarget:
    """Check that circles may write ``out_dir``, before any work is done.

    Allowed: a folder that does not exist yet and can be created; an empty folder; a
    folder circles wrote (its marker names the same ``kind``, and for ``area_name`` the
    same area) holding only the files it lists. Refused with :class:`OutputError`: a
    file, any other folder, a name longer than the file system allows, a place that
    cannot be written.

    Parameters
    ----------
    out_dir : str or Path
        The output folder (a symbolic link is followed: its target is written).
    kind : {"area", "batch"}
        One area's results, or a batch folder (``index.html``, ``summary.csv``, one
        folder per area).
    area_name : str, optional
        The exact area name an existing folder must have been written for.

    Returns
    -------
    OutputTarget
    """
    requested = Path(out_dir)
    where = str(requested)
    path = Path(os.path.realpath(requested))
    if os.path.lexists(path):  # os.path functions: a name too long to look up counts as new
        if not os.path.isdir(path):
            raise OutputError(
                "is a file, not a folder",
                where=where,
                parameter="out_dir",
                fix="choose a folder for `out_dir`",
            )
        marker = _check_existing(path, where, kind, area_name)
        _check_writable(path.parent, where)
        return OutputTarget(requested, path, marker)
    ancestor = _check_creatable(path, where)
    _check_writable(ancestor, where)
    return OutputTarget(requested, path, None)


def _check_existing(path: Path, where: str, kind: str, area_name: str | None) -> dict | None:
    try:
        entries = set(os.listdir(path))
    except OSError as exc:
        raise OutputError(
            f"cannot read the folder ({exc.strerror})", where=where, parameter="out_dir"
        ) from None
    if not entries:
        return None
    marker = read_marker(path) or _legacy_marker(path, entries)
    if marker is None or marker.get("state") != "complete":
        shown = ", ".join(sorted(entries)[:3]) + (", ..." if len(entries) > 3 else "")
        raise OutputError(
            f"the folder exists and was not written by circles (it holds {shown} and no {MARKER_NAME}); "
            "circles replaces only folders it wrote",
            where=where,
            parameter="out_dir",
            fix="choose a new or empty folder for `out_dir`",
        )
    if marker.get("kind") != kind:
        batch = marker.get("kind") == "batch"
        held = "a circles batch (one folder per area)" if batch else "one area's results"
        raise OutputError(
            f"the folder holds {held}, not {'a batch' if kind == 'batch' else 'one area'}",
            where=where,
            parameter="out_dir",
            fix="choose another folder for `out_dir`",
        )
    if area_name is not None and marker.get("name") != area_name:
        raise OutputError(
            f"the folder holds the results of area {marker.get('name')!r}, not {area_name!r}",
            where=where,
            fix="move it away or choose another `out_dir`",
        )
    if kind == "area":
        foreign = sorted(entries - set(marker.get("files", [])) - {MARKER_NAME})
        if foreign:
            raise OutputError(
                f"the folder was written by circles but now also holds {', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}, which replacing it would delete",
                where=where,
                parameter="out_dir",
                fix="move those files out or choose another `out_dir`",
            )
    return marker


def _legacy_marker(path: Path, entries: set[str]) -> dict | None:
    """A marker for a folder written by circles before markers existed, when it can be shown.

    One area's results: only files circles writes, and a summary.json naming circles as
    its tool. A batch: circles' index page, a summary table and such area folders only. Their
    results carry no fingerprint, so a batch recomputes them.
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
        areas = [
            read_marker(path / f) or _legacy_marker(path / f, set(os.listdir(path / f))) for f in folders
        ]
        if all(a is not None and a.get("kind") == "area" for a in areas):
            return {"kind": "batch", "state": "complete", "name": None, "files": [], "legacy": True}
    return None


def _circles_index(path: Path) -> bool:
    try:
        return "<title>circles: " in path.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False


def _check_creatable(path: Path, where: str) -> Path:
    """The nearest existing ancestor of ``path``, after checking every new name's length."""
    ancestor = path
    new_parts: list[str] = []
    while not os.path.lexists(ancestor):
        new_parts.append(ancestor.name)
        ancestor = ancestor.parent
    if not os.path.isdir(ancestor):
        raise OutputError(
            f"cannot create the folder: {ancestor} is a file",
            where=where,
            parameter="out_dir",
            fix="choose a writable `out_dir`",
        )
    name_max = _pathconf(ancestor, "PC_NAME_MAX", 255)
    for part in new_parts:
        size = len(os.fsencode(part))
        if size > name_max:
            raise OutputError(
                f"the folder name {part[:24]}... is {size} bytes, longer than the file system "
                f"allows ({name_max})",
                where=where,
                parameter="out_dir",
                fix="choose a shorter `out_dir`",
            )
    path_max = _pathconf(ancestor, "PC_PATH_MAX", 4096)
    if len(os.fsencode(path)) + _INNER_NAME_BYTES > path_max:
        raise OutputError(
            f"the path is longer than the file system allows ({path_max} bytes with the file names inside)",
            where=where,
            parameter="out_dir",
            fix="choose a shorter `out_dir`",
        )
    return ancestor


def _pathconf(path: Path, name: str, default: int) -> int:
    try:
        value = os.pathconf(path, name)
    except (OSError, ValueError, AttributeError):
        return default
    return value if value and value > 0 else default


def _check_writable(folder: Path, where: str) -> None:
    """Create and remove a temporary folder in ``folder``: the real test of writability."""
    try:
        probe = new_temp_dir(folder)
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(
            f"cannot write in {folder} ({exc.strerror or exc})",
            where=where,
            parameter="out_dir",
            fix="choose a writable `out_dir`",
        ) from None


@contextmanager
def output_folder(
    out_dir: str | Path, *, name: str, fingerprint: dict | None = None, area_name: str | None = None
) -> Iterator[Path]:
    """Write one area's results into a temporary folder and swap it into place on success.

    Parameters
    ----------
    out_dir : str or Path
        The output folder (checked with :func:`check_output_dir`).
    name : str
        The area's exact name, recorded in the marker.
    fingerprint : dict, optional
        ``Fingerprint.as_dict()``, recorded in the marker.
    area_name : str, optional
        Refuse an existing folder written for another area (batch).

    Yields
    ------
    Path
        The temporary folder to write into. Leaving the block normally publishes it;
        an exception removes it and leaves the previous folder as it was.
    """
    target = check_output_dir(out_dir, kind="area", area_name=area_name)
    where = str(target.requested)
    try:
        target.path.parent.mkdir(parents=True, exist_ok=True)
        clean_debris(target.path.parent, MARKER_NAME)
        tmp = new_temp_dir(target.path.parent)
        marker = {"kind": "area", "name": name, "folder": target.path.name, "fingerprint": fingerprint}
        (tmp / MARKER_NAME).write_text(marker_text(state="writing", **marker), encoding="utf-8")
    except OSError as exc:
        raise OutputError(
            f"cannot create the output folder ({exc.strerror or exc})",
            where=where,
            parameter="out_dir",
            fix="choose a writable `out_dir`",
        ) from None
    try:
        yield tmp
        files = [p for p in os.listdir(tmp) if p != MARKER_NAME]
        (tmp / MARKER_NAME).write_text(marker_text(state="complete", files=files, **marker), encoding="utf-8")
        os.chmod(tmp, 0o777 & ~_umask())
        check_output_dir(target.requested, kind="area", area_name=area_name)  # nothing changed meanwhile
        replace_dir(tmp, target.path, MARKER_NAME)
    except OutputError:  # already says what and where (e.g. from a writer of one file)
        remove_circles_dir(tmp, MARKER_NAME)
        raise
    except OSError as exc:
        remove_circles_dir(tmp, MARKER_NAME)
        raise OutputError(
            f"writing results failed ({exc.strerror or exc})",
            where=where,
            fix="check free space and permissions",
        ) from None
    except BaseException:
        remove_circles_dir(tmp, MARKER_NAME)
        raise


def prepare_batch_dir(out_dir: str | Path) -> Path:
    """Check and create a batch folder, and mark it as circles'; returns its resolved path."""
    target = check_output_dir(out_dir, kind="batch")
    try:
        target.path.mkdir(parents=True, exist_ok=True)
        clean_debris(target.path, MARKER_NAME)
        if target.marker is None or target.marker.get("legacy"):
            text = marker_text(kind="batch", state="complete", name=None, folder=target.path.name)
            atomic_write_text(target.path / MARKER_NAME, text)
    except OSError as exc:
        raise OutputError(
            f"cannot create the batch folder ({exc.strerror or exc})",
            where=str(target.requested),
            parameter="out_dir",
            fix="choose a writable `out_dir`",
        ) from None
    return target.path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
