"""A cache of parsed input layers, keyed by the content of the source files.

Parsing an OSM extract is the slowest step before the analysis; a second run over the
same data (a what-if with other clinics' speeds or bands) need not repeat it. The
layers that :func:`circles.sources.assemble.load_inputs` returns are stored as
GeoParquet (:mod:`circles.layers_io`) under ``<cache_dir>/inputs/<key>/``.

The key is a SHA-256 over: the BLAKE2b-256 digest of every input file's bytes (the
network file, a facility or homes file), the file names (they appear in the summary),
the reading options of :class:`~circles.sources.assemble.SourceSpec`, the cache layout
and the circles version. BLAKE2b is in the standard library, streams a file in 1 MiB
chunks with constant memory, and is faster than SHA-256 in software (about 1 GB/s on
one core here), so hashing costs a fraction of parsing; content, not modification time,
decides, so a copied or touched file still hits and any changed byte misses.

An entry is trusted only when its ``layers.json`` names this circles version and the
same key, and every file matches its recorded digest. Anything else (another version,
a truncated or edited file, a half-written entry) is ignored and rewritten; the cache
never fails a run: a cache that cannot be written is reported and skipped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from circles.layers_io import LayersUnreadableError, read_layers, write_layers
from circles.sources.assemble import Inputs, SourceSpec, facility_source, load_inputs
from circles.tempdirs import temp_name

__all__ = ["CacheResult", "default_cache_dir", "file_digest", "load_inputs_cached", "source_key"]

log = logging.getLogger(__name__)

#: Bytes read at a time when hashing a file.
CHUNK_BYTES = 1 << 20
KEY_NAME = "key.json"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/circles``, or ``~/.cache/circles`` when the variable is unset.

    Returns
    -------
    Path
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "circles"


def file_digest(path: Path) -> str:
    """BLAKE2b-256 of a file's bytes, read in chunks of :data:`CHUNK_BYTES`.

    Parameters
    ----------
    path : Path

    Returns
    -------
    str
        Hex digest.
    """
    h = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def _file_part(path: Path) -> dict:
    return {"name": Path(path).name, "blake2b": file_digest(Path(path))}


def source_key(spec: SourceSpec) -> dict | None:
    """What decides the parsed layers of ``spec``, or None when they cannot be cached.

    Online downloads (``network="place"``) are not cached here (OSMnx keeps its own
    cache); nor are files that cannot be read (the reader then says why).

    Parameters
    ----------
    spec : SourceSpec

    Returns
    -------
    dict or None
        Plain JSON: file digests and the reading options.
    """
    from circles import __version__
    from circles.layers_io import FORMAT_VERSION

    if spec.network == "place" or spec.network_path is None:
        return None
    try:
        files = {"network": _file_part(spec.network_path)}
        kind, _ = facility_source(spec.facilities)
        if kind == "file":
            files["facilities"] = _file_part(Path(spec.facilities))
        if spec.homes != "osm":
            files["homes"] = _file_part(Path(spec.homes))
    except (OSError, ValueError):
        return None
    options = {
        "network": spec.network,
        "facilities": spec.facilities if kind == "osm" else "file",
        "homes": "osm" if spec.homes == "osm" else "file",
        "facility_options": dataclasses.asdict(spec.facility_options),
        "home_options": dataclasses.asdict(spec.home_options),
    }
    return {"files": files, "options": options, "layout": FORMAT_VERSION, "circles_version": __version__}


def _key_digest(key: dict) -> str:
    text = json.dumps(key, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class CacheResult:
    """How the inputs of a run were obtained.

    Attributes
    ----------
    status : str
        ``"hit"`` (read from the cache, no parsing), ``"miss"`` (parsed, then stored),
        ``"rejected"`` (an entry was there but not trusted: parsed and rewritten) or
        ``"off"`` (not cached: no cache folder, or an online source).
    reason : str
        Why an entry was rejected, or why storing failed.
    entry : Path or None
        The cache entry folder.
    parsed : int
        How many times the sources were parsed for this run (0 on a hit).
    """

    status: str
    reason: str = ""
    entry: Path | None = None
    parsed: int = 0


def _read_entry(entry: Path, key: dict) -> Inputs:
    try:
        recorded = json.loads((entry / KEY_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise LayersUnreadableError(f"{KEY_NAME} is missing or unreadable") from None
    if recorded != key:
        raise LayersUnreadableError("written for other sources or by another circles version")
    return read_layers(entry)


def _write_entry(entry: Path, key: dict, inputs: Inputs) -> None:
    """Write an entry beside its place and swap it in (a reader never sees half an entry)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.parent / temp_name()
    try:
        write_layers(inputs, tmp)
        (tmp / KEY_NAME).write_text(json.dumps(key, sort_keys=True, indent=1), encoding="utf-8")
        if entry.exists():
            shutil.rmtree(entry)
        os.rename(tmp, entry)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def load_inputs_cached(
    spec: SourceSpec,
    *,
    cache_dir: Path | None,
    area_wgs84=None,
    networks: tuple[str, ...] = ("walk",),
    loader: Callable[..., Inputs] = load_inputs,
) -> tuple[Inputs, CacheResult]:
    """:func:`~circles.sources.assemble.load_inputs`, served from the cache when the files are unchanged.

    Parameters
    ----------
    spec : SourceSpec
    cache_dir : Path or None
        The cache folder (None: no cache).
    area_wgs84 : shapely geometry, optional
        Passed to ``loader`` (online sources).
    networks : tuple of str
        The networks to read (walking, and the modes of facility tiers); part of the key.
    loader : callable
        Reads the inputs on a miss (``loader(spec, area_wgs84=..., networks=...)``).

    Returns
    -------
    (Inputs, CacheResult)
    """
    key = None if cache_dir is None else source_key(spec)
    if key is not None and tuple(networks) != ("walk",):
        key = {**key, "networks": list(networks)}
    if key is None:
        return loader(spec, area_wgs84=area_wgs84, networks=networks), CacheResult("off", parsed=1)
    entry = Path(cache_dir) / "inputs" / _key_digest(key)
    status, reason = "miss", ""
    if entry.exists():
        try:
            inputs = _read_entry(entry, key)
            log.debug("cache hit: %s", entry)
            return inputs, CacheResult("hit", entry=entry)
        except LayersUnreadableError as exc:
            status, reason = "rejected", str(exc)
            log.debug("cache entry %s ignored: %s", entry, reason)
    inputs = loader(spec, area_wgs84=area_wgs84, networks=networks)
    try:
        _write_entry(entry, key, inputs)
    except Exception as exc:  # the cache never fails a run (a full disk, a column GeoParquet cannot hold)
        reason = f"the cache could not be written ({getattr(exc, 'strerror', None) or exc})"
        log.warning("circles: warning: %s: %s", entry.parent, reason)
    return inputs, CacheResult(status, reason=reason, entry=entry, parsed=1)
