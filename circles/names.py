"""Folder names from study-area names: safe on every file system, and following the name alone."""

from __future__ import annotations

import hashlib
import re

#: Longest readable part of a folder name made from an area name, in UTF-8 bytes.
MAX_SAFE_NAME_BYTES = 96


def safe_name(name: str) -> str:
    """A name with no path separators, dots or control characters (letters of any script kept).

    ``"罗湖区"`` stays ``"罗湖区"``; ``"../../x"`` becomes ``"x"``; nothing left gives ``"area"``.
    """
    cleaned = re.sub(r"[^\w\-]+", "_", name, flags=re.UNICODE).strip("._-")
    return cleaned or "area"


def area_folder_name(name: str) -> str:
    """The folder of an area, from its name alone.

    The name itself when it is already safe and short; otherwise its safe form cut to
    :data:`MAX_SAFE_NAME_BYTES` plus the first 8 hex digits of the SHA-256 of the exact
    name, so that ``"a/b"``, ``"a b"`` and ``"a_b"`` get three different folders
    (``a_b-…``, ``a_b-…``, ``a_b``) whatever else is in the batch.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    safe = safe_name(name)
    if safe == name and len(name.encode("utf-8")) <= MAX_SAFE_NAME_BYTES:
        return name
    return f"{_cut_utf8(safe, MAX_SAFE_NAME_BYTES)}-{name_hash(name)}"


def area_folder_names(names: list[str]) -> list[str]:
    """:func:`area_folder_name` for each name; names whose folders differ only in letter case get hashes.

    Case-insensitive file systems (macOS, Windows) would put ``West`` and ``west`` in one folder.
    """
    folders = [area_folder_name(n) for n in names]
    counts: dict[str, int] = {}
    for f in folders:
        counts[f.casefold()] = counts.get(f.casefold(), 0) + 1
    return [
        f"{f}-{name_hash(n)}" if counts[f.casefold()] > 1 and f == n else f
        for f, n in zip(folders, names, strict=True)
    ]


def name_hash(name: str) -> str:
    """First 8 hex digits of the SHA-256 of a name (UTF-8)."""
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _cut_utf8(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
