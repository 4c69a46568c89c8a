"""Fingerprints of everything that produced a result: input files, parameters, areas, tool version.

A fingerprint is a SHA-256 over a canonical JSON description of its parts. The
description is built generically (:func:`describe`): dataclasses field by field,
paths as file identities (absolute path, size in bytes, modification time in
nanoseconds), strings that name an existing file likewise, GeoDataFrames and
geometries by a hash of their well-known binary and attributes. A parameter added
to :class:`circles.config.TravelSettings` or any other settings dataclass is thereby
covered without touching this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Most files listed for a directory given as an input (e.g. a file geodatabase folder).
MAX_DIRECTORY_FILES = 1000


@dataclass(frozen=True)
class Fingerprint:
    """What a result was computed from.

    Attributes
    ----------
    sha256 : str
        Hex digest of the canonical JSON of ``parts``.
    parts : dict
        The plain description: file identities, parameter values, hashes of geometries,
        and ``tool_version``.
    """

    sha256: str
    parts: dict

    def as_dict(self) -> dict:
        """``{"sha256": ..., "parts": ...}`` for summary.json and the output marker."""
        return {"sha256": self.sha256, "parts": self.parts}

    def changes_from(self, recorded: Mapping | None) -> list[str]:
        """Dotted names of the parts that differ from a recorded fingerprint (``as_dict`` form).

        Parameters
        ----------
        recorded : mapping or None
            A fingerprint as stored in a marker or summary.json.

        Returns
        -------
        list of str
            Empty when the digests match; ``["(no fingerprint recorded)"]`` when there is
            none to compare with.
        """
        if not isinstance(recorded, Mapping) or "sha256" not in recorded:
            return ["(no fingerprint recorded)"]
        if recorded["sha256"] == self.sha256:
            return []
        return _diff(recorded.get("parts", {}), self.parts, "") or ["(digest differs)"]


_MISSING = object()


@dataclass(frozen=True)
class Described:
    """A part described once (:func:`describe`) and reused as is, e.g. for every area of a batch."""

    plain: object


def fingerprint(parts: Mapping[str, object]) -> Fingerprint:
    """Fingerprint named parts (settings dataclasses, paths, frames, plain values).

    Parameters
    ----------
    parts : mapping
        E.g. ``{"sources": SourceSpec(...), "travel": TravelSettings(...)}``. The tool
        version is added as ``tool_version``.

    Returns
    -------
    Fingerprint
    """
    from circles import __version__

    plain = {str(k): describe(v) for k, v in parts.items()}
    plain["tool_version"] = __version__
    canonical = json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Fingerprint(hashlib.sha256(canonical.encode("utf-8")).hexdigest(), json.loads(canonical))


def describe(value: object) -> object:
    """A JSON-able description of ``value`` that changes whenever ``value`` would change a result.

    Parameters
    ----------
    value : object
        A dataclass, mapping, sequence, path, GeoDataFrame, shapely geometry, number,
        string or None. Other objects are described by ``repr``.

    Returns
    -------
    object
        Plain JSON values only (non-finite floats as strings).
    """
    if isinstance(value, Described):
        return value.plain
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return _describe_text(value)
    if isinstance(value, os.PathLike):
        return file_identity(Path(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: describe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): describe(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((describe(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [describe(v) for v in value]
    return _describe_other(value)


def _describe_text(text: str) -> object:
    """A string as is, with the file's identity when it names an existing file (e.g. ``--facilities``)."""
    try:
        is_file = len(text) < 4096 and "\0" not in text and Path(text).is_file()
    except OSError:
        is_file = False
    return {"text": text, "file": file_identity(Path(text))} if is_file else text


def _describe_other(value: object) -> object:
    import numpy as np
    import pandas as pd
    import shapely

    if isinstance(value, np.generic):
        return describe(value.item())
    if isinstance(value, pd.DataFrame | pd.Series):
        return frame_digest(value)
    if isinstance(value, shapely.Geometry):
        return {"geometry_wkb_sha256": hashlib.sha256(shapely.to_wkb(value)).hexdigest()}
    if hasattr(value, "to_wkt") and hasattr(value, "to_epsg"):  # a pyproj CRS
        return value.to_string()
    return repr(value)


def file_identity(path: Path) -> dict:
    """Absolute path, size in bytes and modification time in nanoseconds of a file.

    A Shapefile brings its sidecar files (same stem, other endings); a directory lists
    up to :data:`MAX_DIRECTORY_FILES` of its files. A missing path is described as such.

    Parameters
    ----------
    path : Path

    Returns
    -------
    dict
    """
    path = Path(path).absolute()
    try:
        st = path.stat()
    except OSError:
        return {"path": str(path), "exists": False}
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())[:MAX_DIRECTORY_FILES]
        return {"path": str(path), "files": [_stat_identity(p) for p in files]}
    out = _stat_identity(path, st)
    if path.suffix.lower() == ".shp":
        siblings = sorted(p for p in path.parent.glob(f"{path.stem}.*") if p != path and p.is_file())
        out["sidecars"] = [_stat_identity(p) for p in siblings]
    return out


def _stat_identity(path: Path, st: os.stat_result | None = None) -> dict:
    st = st or path.stat()
    return {"path": str(path), "size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def frame_digest(frame) -> dict:
    """Rows, CRS and a SHA-256 of a (Geo)DataFrame's geometry (WKB) and attribute values.

    Parameters
    ----------
    frame : DataFrame, GeoDataFrame or Series

    Returns
    -------
    dict
        ``{"rows": n, "crs": "EPSG:4326" or None, "sha256": hex}``.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in frame.columns], ensure_ascii=False).encode("utf-8"))
    crs = getattr(frame, "crs", None)
    attrs = frame
    if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame:
        for wkb in shapely.to_wkb(frame.geometry.values):
            h.update(b"\0" if wkb is None else len(wkb).to_bytes(8, "little") + wkb)
        attrs = frame.drop(columns=frame.geometry.name)
    for column in attrs.columns:
        values = attrs[column]
        try:
            digest = pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes()
        except TypeError:  # unhashable cells (lists, dicts): their text
            digest = values.astype(str).str.cat(sep="\0").encode("utf-8", "surrogatepass")
        h.update(digest)
    return {"rows": len(frame), "crs": None if crs is None else crs.to_string(), "sha256": h.hexdigest()}


#: Keys of a description that stands for one thing (a file, a frame): compared as a whole.
_IDENTITY_KEYS = frozenset({"text", "file", "path", "size_bytes", "mtime_ns", "files", "sha256", "exists"})


def _diff(old: object, new: object, prefix: str) -> list[str]:
    """Dotted names of the parts that differ, down to a setting or a whole file or frame."""
    if old == new:
        return []
    both = isinstance(old, Mapping) and isinstance(new, Mapping)
    if both and not (_IDENTITY_KEYS & old.keys() or _IDENTITY_KEYS & new.keys()):
        out: list[str] = []
        for key in sorted(old.keys() | new.keys()):
            name = f"{prefix}.{key}" if prefix else str(key)
            out += _diff(old.get(key, _MISSING), new.get(key, _MISSING), name)
        return out
    return [prefix or "(everything)"]


def study_parts(
    *,
    sources: object,
    settings: object,
    population: object,
    name: str,
    boundary: object = None,
    subareas: object = None,
    recommend_sites: int = 0,
    candidates: object = None,
    offline_map: bool = False,
) -> dict:
    """The parts that make one study area's results, named as they appear in the fingerprint.

    Parameters
    ----------
    sources : object
        What the inputs were read from (a ``SourceSpec``, or a :class:`Described`).
    settings : TravelSettings
    population : PopulationSpec
    name : str
        The exact area name.
    boundary : GeoDataFrame, optional
        The area's own geometry (None: the whole input).
    subareas : GeoDataFrame, optional
        The sub-areas summarised in it.
    recommend_sites : int
    candidates : GeoDataFrame, optional
    offline_map : bool

    Returns
    -------
    dict
        For :func:`fingerprint`.
    """
    return {
        "sources": sources,
        "travel": settings,
        "population": population,
        "area": {"name": name, "boundary": boundary},
        "subareas": subareas,
        "recommend": {"sites": recommend_sites, "candidates": candidates},
        "offline_map": offline_map,
    }
