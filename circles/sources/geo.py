"""The one reader of geometry files (GeoJSON, GeoPackage, Shapefile, FlatGeobuf) and input paths.

Facility, home, candidate and boundary files all come through :func:`read_geo_file`, so
a missing file, a folder, a multi-layer GeoPackage, a broken geometry (an unclosed
polygon ring) or an oversized file gives the same one-line error whichever option
named it. Text values are bounded (:mod:`circles.sources.limits`).
"""

from __future__ import annotations

import json
import logging
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyogrio.errors
import shapely

from circles.crs import WGS84_CODE
from circles.errors import CirclesError, EmptyResultError, InputError, InputFileError
from circles.sources.limits import MAX_GEO_FILE_BYTES, bound_columns, bound_text_columns, check_file_size
from circles.sources.problems import columns_text, detail, rows_text

__all__ = ["check_input_file", "read_geo_file"]

_LOG = logging.getLogger("circles.sources")


def check_input_file(path: str | Path, what: str = "file", *, folder_ok: bool = False) -> Path:
    """The path, checked to exist, to be a file (not a folder) and not to be empty.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file is, for the message (``"boundary file"``, ``"GraphML file"``).
    folder_ok : bool
        Accept a folder (a File Geodatabase ``.gdb``).

    Returns
    -------
    Path

    Raises
    ------
    InputFileError
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"no such {what}", where=str(path), fix="check the path")
    if path.is_dir() and not folder_ok:
        raise InputFileError(f"is a folder, not a {what}", where=str(path), fix=f"give the {what} inside it")
    if path.is_file() and path.stat().st_size == 0:
        raise InputFileError("the file is empty", where=str(path), fix="export it again")
    return path


def _size_bytes(path: Path) -> int:
    """Bytes to read: a Shapefile with its sidecar files, a zip unpacked, a folder's files."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    if path.suffix.lower() == ".shp":
        return sum(p.stat().st_size for p in path.parent.glob(path.stem + ".*") if p.is_file())
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return sum(p.file_size for p in archive.infolist())
        except (zipfile.BadZipFile, OSError):
            return path.stat().st_size
    return path.stat().st_size


def _layer_names(path: Path) -> list[str]:
    try:
        return [str(row[0]) for row in pyogrio.list_layers(path)]
    except (pyogrio.errors.DataSourceError, OSError):
        return []


def _invalid_features(path: Path, layer: str | int | None, encoding: str | None) -> str:
    """``"features 2 and 5: invalid geometry (Points of LinearRing do not form a closed linestring)"``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, _, wkb, _ = pyogrio.raw.read(path, layer=layer, encoding=encoding, columns=[])
    parsed = shapely.from_wkb(wkb, on_invalid="ignore")
    bad = np.flatnonzero(np.array([w is not None for w in wkb]) & shapely.is_missing(parsed))
    reason = ""
    if bad.size:
        try:
            shapely.from_wkb(wkb[bad[0]])
        except shapely.errors.GEOSException as exc:
            reason = " (" + str(exc).split(":", 1)[-1].strip() + ")"
    return (rows_text(bad + 1, "feature") if bad.size else "a feature") + ": invalid geometry" + reason


def _lenient_geojson(path: Path) -> gpd.GeoDataFrame | None:
    """Features GDAL skipped in a malformed GeoJSON (e.g. a feature whose ``type`` is wrong).

    Some web exports write ``{"type": "Feature", ..., "type": "GeometryCollection"}``;
    GDAL then sees no features. Reading ``features[*].geometry/properties`` directly
    recovers them; anything else gives None.
    """
    if path.suffix.lower() not in (".json", ".geojson"):
        return None
    try:
        features = json.loads(path.read_text(encoding="utf-8")).get("features")
        lenient = gpd.GeoDataFrame.from_features(features, crs=WGS84_CODE)
    except (
        ValueError,
        TypeError,
        AttributeError,
        KeyError,
        UnicodeDecodeError,
        shapely.errors.GEOSException,
    ):
        return None
    if len(lenient) == 0:
        return None
    _LOG.warning("%s: GDAL read no features; read %d from its 'features' list", path, len(lenient))
    return lenient


def _read(path: Path, layer: str | int | None, encoding: str | None) -> gpd.GeoDataFrame:
    options: dict[str, object] = {} if encoding is None else {"encoding": encoding}
    if layer is None:
        names = _layer_names(path)
        if len(names) > 1:
            raise InputError(
                f"holds {len(names)} layers ({columns_text(names)})",
                parameter="layer",
                fix="choose one with `layer`",
            )
    else:
        options["layer"] = layer
    try:
        with warnings.catch_warnings():
            # GDAL's notes on what it accepted (e.g. "Non closed ring detected"); errors follow below.
            warnings.simplefilter("ignore", RuntimeWarning)
            return gpd.read_file(path, engine="pyogrio", **options)
    except shapely.errors.GEOSException:
        raise InputError(
            _invalid_features(path, layer, encoding),
            fix="close each polygon ring (its last point must equal its first) or repair the file in a GIS",
        ) from None
    except pyogrio.errors.DataLayerError as exc:
        if layer is not None:
            raise InputError(
                f"no layer {layer!r}; the file has layers: {columns_text(_layer_names(path))}",
                parameter="layer",
                fix="check the layer name given as `layer`",
            ) from exc
        raise InputFileError(
            f"cannot be read ({detail(exc, path)})", fix="check that the file is complete"
        ) from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as exc:
        raise _unreadable(path, exc) from exc
    except (RuntimeError, ValueError, OSError, TypeError, OverflowError) as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: BaseException) -> InputFileError:
    """GDAL's failure in plain words (without its advice on driver prefixes)."""
    kind = path.suffix.lstrip(".").upper() or "a geometry file"
    text = detail(exc, path)
    if "not recognized as" in text or "not recognised as" in text:
        return InputFileError(
            f"cannot be read as {kind}: GDAL does not recognise its contents as a GeoJSON, GeoPackage "
            "or Shapefile",
            fix="check that the file is complete and of the type its name says",
        )
    return InputFileError(f"cannot be read as {kind} ({text})", fix="check the file")


def read_geo_file(
    path: str | Path,
    *,
    layer: str | int | None = None,
    encoding: str | None = None,
    what: str = "file",
) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage, Shapefile (``.shp`` or zipped) or FlatGeobuf layer.

    Parameters
    ----------
    path : str or Path
    layer : str or int, optional
        Required when the file holds several layers.
    encoding : str, optional
        Text encoding of the attributes (Shapefiles without a ``.cpg``).
    what : str
        What the file is, for messages (``"boundary file"``).

    Returns
    -------
    GeoDataFrame
        The layer as GDAL reads it (its own CRS, possibly none), column names and text
        values bounded; ``attrs["truncated_values"]`` counts the values cut.

    Raises
    ------
    InputFileError
        If the file is missing, a folder, empty, too large or unreadable.
    InputError
        If a layer must be chosen or does not exist, or a geometry is invalid.
    EmptyResultError
        If the layer holds no features.
    """
    path = check_input_file(path, what, folder_ok=Path(path).suffix.lower() == ".gdb")
    try:
        check_file_size(path, _size_bytes(path), MAX_GEO_FILE_BYTES, "the file")
        frame = _read(path, layer, encoding)
        if len(frame) == 0:
            frame = _lenient_geojson(path)
            if frame is None:
                raise EmptyResultError("the file holds no features", fix="export it again")
    except CirclesError as exc:
        if exc.where is None:
            exc.where = str(path)
        raise
    geometry = frame.geometry.name
    others = [c for c in frame.columns if c != geometry]
    names = bound_columns(path, others)
    frame = frame.rename(columns=dict(zip(others, names, strict=True)))
    frame.attrs["truncated_values"] = bound_text_columns(frame)
    return frame
