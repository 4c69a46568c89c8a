"""Delimited text tables: encodings, byte-order marks, delimiters and the header line.

Planners' exports come as UTF-8 (with or without a byte-order mark), GBK/GB18030
(Chinese Excel's "CSV"), or UTF-16 (Excel's "Unicode text", WPS, some database tools),
separated by commas, tabs, semicolons or bars, sometimes with a title line above the
header. :func:`read_text_table` reads all of these; what it cannot read is one error
naming the file and the fix.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd

from circles.errors import EmptyResultError, InputError, InputFileError
from circles.sources.columns import HEADER_SEARCH_ROWS, header_row
from circles.sources.limits import MAX_COLUMNS, MAX_TEXT_FILE_BYTES, bound_columns, check_file_size
from circles.sources.problems import detail

__all__ = ["decode_text", "delimiter_of", "read_text_table"]

#: Tried when the text is not UTF-8: a superset of GBK and GB2312, common for Chinese files.
FALLBACK_ENCODING = "gb18030"
_DELIMITERS = (",", "\t", ";", "|")
#: Characters of a line looked at when searching for the header line.
_HEADER_SNIFF_CHARS = 1 << 16
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _utf16_without_bom(raw: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when the bytes look like UTF-16 text without a BOM."""
    head = raw[:4096]
    pairs = len(head) // 2
    if pairs < 4:
        return None
    odd_nul = head[1::2].count(0) / pairs
    even_nul = head[0::2].count(0) / pairs
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _detected(raw: bytes) -> str | None:
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    return _utf16_without_bom(raw)


def decode_text(raw: bytes, encoding: str | None) -> str:
    """Bytes of a text table as text.

    Parameters
    ----------
    raw : bytes
    encoding : str, optional
        The caller's encoding. By default a byte-order mark decides (UTF-8, UTF-16,
        UTF-32), then UTF-16 without a mark is recognised by its NUL bytes, then UTF-8
        and finally GB18030 are tried.

    Returns
    -------
    str
        Without a leading byte-order mark.

    Raises
    ------
    InputError
        If ``encoding`` is not an encoding.
    InputFileError
        If the bytes cannot be decoded.
    """
    if encoding is not None:
        try:
            return raw.decode(encoding).removeprefix("\ufeff")
        except LookupError as exc:
            raise InputError(
                f"unknown encoding {encoding!r}", parameter="encoding", fix="use e.g. utf-8, gb18030 or gbk"
            ) from exc
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"byte {exc.start} cannot be decoded as {encoding}",
                parameter="encoding",
                fix="try another `encoding` (utf-8, gb18030, utf-16) or leave it out to detect it",
            ) from exc
    detected = _detected(raw)
    try:
        if detected is not None:
            return raw.decode(detected).removeprefix("\ufeff")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode(FALLBACK_ENCODING)
    except UnicodeDecodeError as exc:
        said = f"is not valid {detected.upper()}" if detected else "is neither UTF-8 nor GB18030/GBK"
        raise InputFileError(
            f"the text {said} (byte {exc.start})",
            parameter="encoding",
            fix="save it as UTF-8 or give its `encoding`",
        ) from exc


def delimiter_of(line: str, suffix: str) -> str:
    """The delimiter of a header line: tab for ``.tsv``, else the commonest of comma, tab, ``;``, ``|``."""
    if suffix == ".tsv":
        return "\t"
    counts = {sep: line.count(sep) for sep in _DELIMITERS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _cells(line: str, suffix: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter_of(line, suffix)), [])
    except csv.Error:
        return []


def _header_line(lines: list[str], suffix: str, lon_column: str | None, lat_column: str | None) -> int:
    """Index of the header line: the first that names coordinate columns, else the first non-blank."""
    rows = [_cells(line[:_HEADER_SNIFF_CHARS], suffix) for line in lines]
    found = header_row(rows, lon_column, lat_column)
    if found is not None:
        return found
    return next((i for i, line in enumerate(lines) if line.strip()), 0)


def _read_bytes(path: Path) -> bytes:
    check_file_size(path, path.stat().st_size, MAX_TEXT_FILE_BYTES, "the file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            f"cannot be read ({exc.strerror or exc})", where=str(path), fix="check its permissions"
        ) from exc


def read_text_table(
    path: Path,
    encoding: str | None,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
) -> pd.DataFrame:
    """A CSV/TSV/TXT file as a DataFrame of its rows (header not counted).

    Parameters
    ----------
    path : Path
    encoding : str, optional
        See :func:`decode_text`.
    lon_column, lat_column : str, optional
        Used to recognise the header line when a title line stands above it.

    Returns
    -------
    DataFrame

    Raises
    ------
    InputError, InputFileError, EmptyResultError
    """
    text = decode_text(_read_bytes(path), encoding)
    if not text.strip():
        raise EmptyResultError("the file holds no rows", fix="export the list again")
    if "\x00" in text:
        raise InputFileError(
            "holds NUL bytes, so it is not a text table",
            parameter="encoding",
            fix="export it as CSV (or give its `encoding`, e.g. utf-16)",
        )
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    skip = _header_line(lines, path.suffix.lower(), lon_column, lat_column)
    header = lines[skip] if lines else ""
    sep = delimiter_of(header, path.suffix.lower())
    if header.count(sep) >= MAX_COLUMNS:
        bound_columns(path, [None] * (header.count(sep) + 1))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True, skiprows=skip)
    except pd.errors.EmptyDataError as exc:
        raise EmptyResultError("the file holds no rows", fix="export the list again") from exc
    except (pd.errors.ParserError, csv.Error, ValueError, OverflowError) as exc:
        raise InputFileError(
            f"cannot be read as a delimited table ({detail(exc, path)})",
            fix="check quotes and the number of fields",
        ) from exc
    return frame
