"""Input layers as GeoParquet files: the format of per-area extracts and of the parse cache.

An :class:`~circles.sources.assemble.Inputs` becomes one GeoParquet file per layer
(``walkways``, ``facilities``, ``homes``, ``buildings`` and, for an extract, the two
stand-ins of :func:`source_extent_of`) plus ``layers.json``: the plain-language sources,
declared coordinate systems, the circles version and a BLAKE2b digest and size of every
file. Reading checks each digest, so a truncated or altered file is refused
(:class:`LayersUnreadableError`) instead of being half-trusted. Nothing is pickled: GeoParquet
keeps geometries (WKB), the CRS, column dtypes and the row index as they were.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import geopandas as gpd
import shapely

from circles.crs import WGS84
from circles.sources.assemble import Inputs

__all__ = [
    "FORMAT_VERSION",
    "LayersUnreadableError",
    "layers_from_files",
    "layers_to_files",
    "read_layers",
    "source_extent_of",
    "write_layers",
]

#: Version of this layout; a different one is refused.
FORMAT_VERSION = 1
META_NAME = "layers.json"
_LAYERS = ("walkways", "facilities", "homes", "buildings")
_EXTENT = ("extent_walkways", "extent_facilities")


class LayersUnreadableError(Exception):
    """Stored layers that cannot be trusted: missing, altered, truncated or from another version."""


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def _parquet(frame: gpd.GeoDataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, compression="zstd")
    return buf.getvalue()


def source_extent_of(inputs: Inputs) -> Inputs:
    """Small stand-ins with the whole source's extents, for an extract cut from it.

    :func:`circles.pipeline.run_study` describes the network source in its checks and
    messages by the convex hull and bounds of all walkways and the bounds of all
    facilities. The stand-ins give exactly those: the walkways' hull vertices as one
    multipoint (same hull, same bounds) and the facilities' bounding box.

    Parameters
    ----------
    inputs : Inputs
        The whole source (WGS-84).

    Returns
    -------
    Inputs
        ``walkways`` and ``facilities`` of at most one row each; other layers empty.
    """
    from circles.diagnostics import network_extent

    hull = network_extent(inputs.walkways.geometry.values)
    vertices = shapely.get_coordinates(hull)
    walk = [shapely.multipoints(vertices)] if len(vertices) else []
    fac = inputs.facilities
    box = [shapely.box(*fac.total_bounds)] if len(fac) else []
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=WGS84))
    return Inputs(
        walkways=gpd.GeoDataFrame(geometry=gpd.GeoSeries(walk, crs=WGS84)),
        facilities=gpd.GeoDataFrame(geometry=gpd.GeoSeries(box, crs=WGS84)),
        homes=empty,
        sources=dict(inputs.sources),
    )


def layers_to_files(inputs: Inputs) -> dict[str, bytes]:
    """The files of ``inputs``: ``{file name: bytes}``, ``layers.json`` included.

    Parameters
    ----------
    inputs : Inputs

    Returns
    -------
    dict of str to bytes
    """
    from circles import __version__

    frames = {name: getattr(inputs, name) for name in _LAYERS}
    if inputs.source_extent is not None:
        frames |= {
            "extent_walkways": inputs.source_extent.walkways,
            "extent_facilities": inputs.source_extent.facilities,
        }
    files = {f"{name}.parquet": _parquet(f) for name, f in frames.items() if f is not None}
    meta = {
        "format": FORMAT_VERSION,
        "circles_version": __version__,
        "sources": inputs.sources,
        "declared_crs": inputs.declared_crs,
        "files": {name: {"bytes": len(data), "blake2b": _digest(data)} for name, data in files.items()},
    }
    # Key order kept: the sources' order is the summary's.
    files[META_NAME] = json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8")
    return files


def layers_from_files(files: dict[str, bytes]) -> Inputs:
    """The :class:`Inputs` that :func:`layers_to_files` stored, after checking every file.

    Parameters
    ----------
    files : dict of str to bytes

    Returns
    -------
    Inputs
        Raises :class:`LayersUnreadableError` when a file is missing, differs from its
        recorded digest, cannot be parsed, or was written by another circles version.
    """
    from circles import __version__

    try:
        meta = json.loads(files[META_NAME].decode("utf-8"))
    except (KeyError, ValueError) as exc:
        raise LayersUnreadableError(f"{META_NAME} is missing or unreadable ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        raise LayersUnreadableError("another layout version")
    if meta.get("circles_version") != __version__:
        written = meta.get("circles_version")
        raise LayersUnreadableError(f"written by circles {written}, this is {__version__}")
    frames: dict[str, gpd.GeoDataFrame] = {}
    for name, info in dict(meta.get("files", {})).items():
        data = files.get(name)
        if data is None or len(data) != info.get("bytes") or _digest(data) != info.get("blake2b"):
            raise LayersUnreadableError(f"{name} is missing or altered")
        try:
            frames[name.removesuffix(".parquet")] = gpd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # any parse failure of a checked file: refuse it
            raise LayersUnreadableError(f"{name} cannot be read ({exc})") from None
    if any(name not in frames for name in ("walkways", "facilities", "homes")):
        raise LayersUnreadableError("a layer is missing")
    extent = None
    if all(name in frames for name in _EXTENT):
        empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=WGS84))
        extent = Inputs(frames["extent_walkways"], frames["extent_facilities"], empty, dict(meta["sources"]))
    return Inputs(
        walkways=frames["walkways"],
        facilities=frames["facilities"],
        homes=frames["homes"],
        sources=dict(meta.get("sources", {})),
        declared_crs=dict(meta.get("declared_crs", {})),
        buildings=frames.get("buildings"),
        source_extent=extent,
    )


def write_layers(inputs: Inputs, folder: Path) -> int:
    """Write ``inputs`` into ``folder`` (created; existing files of the same names replaced).

    Parameters
    ----------
    inputs : Inputs
    folder : Path

    Returns
    -------
    int
        Bytes written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = layers_to_files(inputs)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return sum(len(d) for d in files.values())


def read_layers(folder: Path) -> Inputs:
    """Read what :func:`write_layers` wrote (see :func:`layers_from_files` for the checks).

    Parameters
    ----------
    folder : Path

    Returns
    -------
    Inputs
    """
    folder = Path(folder)
    try:
        names = [p.name for p in folder.iterdir() if p.is_file()]
        files = {name: (folder / name).read_bytes() for name in names}
    except OSError as exc:
        raise LayersUnreadableError(f"cannot read {folder} ({exc.strerror or exc})") from None
    return layers_from_files(files)
