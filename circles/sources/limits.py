"""Bounds on what an input may bring in: file sizes, columns and text per value.

Text read from any input (a clinic's name, a district's name, any column of a planner's
file, an OSM tag) reaches the map, its popups and the tables, sometimes once per home.
Every value is therefore cut to :data:`MAX_TEXT_CHARS` characters, ending in
:data:`TRUNCATION_MARKER` so the cut is visible; the reader logs how many were cut.
Files are refused above a documented size, so that the text of one file (and the memory
needed to read it) is bounded too:

================================  =========================================
input                             largest accepted
================================  =========================================
CSV / TSV / TXT, JSON exports     :data:`MAX_TEXT_FILE_BYTES` (256 MiB)
XLSX (all its parts unpacked)     :data:`MAX_SPREADSHEET_UNPACKED_BYTES` (256 MiB)
GeoJSON, GPKG, Shapefile, FGB     :data:`MAX_GEO_FILE_BYTES` (2 GiB)
columns of any table or layer     :data:`MAX_COLUMNS` (1,000)
================================  =========================================
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from circles.errors import InputFileError

__all__ = [
    "MAX_COLUMNS",
    "MAX_GEO_FILE_BYTES",
    "MAX_SPREADSHEET_UNPACKED_BYTES",
    "MAX_TEXT_CHARS",
    "MAX_TEXT_FILE_BYTES",
    "TRUNCATION_MARKER",
    "bound_columns",
    "bound_text",
    "bound_text_columns",
    "check_file_size",
    "xml_declares_dtd",
]

#: Longest text value kept from any input, characters (longer ones are cut and marked).
MAX_TEXT_CHARS = 500
#: Appended to a value that was cut.
TRUNCATION_MARKER = "…[truncated]"
#: Largest delimited-text or JSON file read, bytes.
MAX_TEXT_FILE_BYTES = 256 * 2**20
#: Largest total of a workbook's unpacked parts, bytes (guards against zip bombs too).
MAX_SPREADSHEET_UNPACKED_BYTES = 256 * 2**20
#: Largest geometry file (with a Shapefile's sidecar files, or a zip unpacked), bytes.
MAX_GEO_FILE_BYTES = 2 * 2**30
#: Most columns read from a table or layer (GeoPackages hold at most 2,000).
MAX_COLUMNS = 1000


def _mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB" if n_bytes >= 2**20 else f"{n_bytes / 1024:,.0f} KiB"


def check_file_size(path: Path, size_bytes: int, limit_bytes: int, what: str) -> None:
    """Refuse an input larger than the documented limit.

    Parameters
    ----------
    path : Path
        The file (named in the message).
    size_bytes : int
        Its size (or unpacked size) in bytes.
    limit_bytes : int
        The limit for this kind of file.
    what : str
        What the size is, e.g. ``"the file"`` or ``"the unpacked workbook"``.

    Raises
    ------
    InputFileError
    """
    if size_bytes > limit_bytes:
        raise InputFileError(
            f"{what} is {_mib(size_bytes)}, more than the {_mib(limit_bytes)} circles reads",
            where=str(path),
            fix="keep only the rows and columns needed (or split the area) and save it again",
        )


def bound_text(value: object) -> object:
    """``value`` cut to :data:`MAX_TEXT_CHARS` characters (plus the marker) if it is longer text."""
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        return value[:MAX_TEXT_CHARS] + TRUNCATION_MARKER
    return value


def bound_text_columns(frame: pd.DataFrame) -> int:
    """Cut every over-long text value of ``frame`` in place; return how many were cut.

    Parameters
    ----------
    frame : DataFrame
        Text columns may be object or string dtype; other columns are left alone.

    Returns
    -------
    int
        The number of values cut.
    """
    cut = 0
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.CategoricalDtype) or not (
            series.dtype == object or pd.api.types.is_string_dtype(series.dtype)
        ):
            continue
        values = series.to_numpy(dtype=object)
        lengths = np.fromiter(
            (len(v) if isinstance(v, str) else 0 for v in values), dtype=np.int64, count=len(values)
        )
        long = np.flatnonzero(lengths > MAX_TEXT_CHARS)
        if long.size == 0:
            continue
        values = values.copy()
        for i in long:
            values[i] = bound_text(values[i])
        frame[column] = pd.Series(values, index=frame.index, dtype=series.dtype)
        cut += int(long.size)
    return cut


def bound_columns(path: Path, columns: list[object]) -> list[str]:
    """Column names as text cut to :data:`MAX_TEXT_CHARS`; refuse more than :data:`MAX_COLUMNS`.

    Raises
    ------
    InputFileError
        If there are more than :data:`MAX_COLUMNS` columns.
    """
    if len(columns) > MAX_COLUMNS:
        raise InputFileError(
            f"has {len(columns):,} columns, more than the {MAX_COLUMNS:,} circles reads",
            where=str(path),
            fix="delete the columns not needed (keep coordinates, name, kind, capacity, population)",
        )
    return [str(bound_text(str(c))) for c in columns]


_XML_MARKUP = (b"<!DOCTYPE", b"<!ENTITY")
_CHUNK_BYTES = 1 << 20


def xml_declares_dtd(stream: BinaryIO) -> bool:
    """True when an XML stream declares a document type or entities (``<!DOCTYPE``, ``<!ENTITY``).

    Excel and OSMnx never write either; both carry entity-expansion ("billion laughs")
    and external-entity attacks, so readers refuse such files outright. The whole
    stream is scanned in chunks (escaped text cannot contain the markup).
    """
    tail = b""
    while chunk := stream.read(_CHUNK_BYTES):
        window = tail + chunk
        if any(mark in window for mark in _XML_MARKUP):
            return True
        tail = window[-16:]
    return False
