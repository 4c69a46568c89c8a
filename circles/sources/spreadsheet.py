"""Excel workbooks (``.xlsx``/``.xlsm``): the right sheet, the header row, and safe parsing.

A workbook is a zip of XML parts. Before openpyxl parses it, its parts are checked:
their unpacked size is bounded (:data:`~circles.sources.limits.MAX_SPREADSHEET_UNPACKED_BYTES`)
and a part carrying a document type declaration (``<!DOCTYPE``: the vehicle of XML
entity expansion and external-entity attacks, which Excel never writes) is refused.
openpyxl itself parses with ``defusedxml`` (a dependency), the standard guard.

The sheet is the one named by ``layer``, else the first; when the first sheet holds no
coordinate columns but another does (a cover sheet of notes before the data), the
error lists the sheets and names the one to choose. The header row is found within
the first rows when a title stands above it.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from xml.etree.ElementTree import ParseError

import pandas as pd

from circles.errors import InputError, InputFileError
from circles.sources.columns import HEADER_SEARCH_ROWS, header_row
from circles.sources.limits import MAX_SPREADSHEET_UNPACKED_BYTES, check_file_size, xml_declares_dtd
from circles.sources.problems import columns_text, detail

__all__ = ["read_spreadsheet"]

_FIX_INVALID = "save it again from Excel as .xlsx (or export the sheet as CSV)"


def _parse_errors() -> tuple[type[BaseException], ...]:
    """What openpyxl and pandas raise for a broken workbook (defusedxml's refusals are ValueErrors)."""
    return (zipfile.BadZipFile, ParseError, ValueError, KeyError, IndexError, TypeError, OSError, EOFError)


def _check_parts(path: Path) -> None:
    """Refuse a workbook too large unpacked, or one whose XML declares a DTD or entities."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            check_file_size(
                path, sum(p.file_size for p in parts), MAX_SPREADSHEET_UNPACKED_BYTES, "the unpacked workbook"
            )
            for part in parts:
                if part.filename.endswith((".xml", ".rels", ".vml")) and _declares_dtd(archive, part):
                    raise InputFileError(
                        f"part {part.filename} declares an XML document type (DTD); Excel never writes "
                        "one and it can hide entity-expansion or external-entity attacks, so it is refused",
                        where=str(path),
                        fix="open the workbook in Excel and save it again, or export the sheet as CSV",
                    )
    except InputFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise InputFileError(
            f"is not a valid .xlsx workbook ({detail(exc, path)})", where=str(path), fix=_FIX_INVALID
        ) from exc


def _declares_dtd(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> bool:
    with archive.open(part) as stream:
        return xml_declares_dtd(stream)


def _overflowing_cell(path: Path, sheet: str) -> str | None:
    """The first cell holding a number outside the float range (e.g. ``1e999`` or a 400-digit integer)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for row in workbook[sheet].iter_rows():
            for cell in row:
                value = getattr(cell, "value", None)
                if isinstance(value, float) and not math.isfinite(value):
                    return str(cell.coordinate)
                if isinstance(value, int) and abs(value) > 1.7976931348623157e308:
                    return str(cell.coordinate)
    finally:
        workbook.close()
    return None


def _sheet(book: pd.ExcelFile, layer: str | int | None) -> str:
    names = [str(n) for n in book.sheet_names]
    if layer is None:
        return names[0]
    if isinstance(layer, int) and not isinstance(layer, bool) and 0 <= layer < len(names):
        return names[layer]
    if str(layer) in names:
        return str(layer)
    raise InputError(
        f"no sheet {layer!r}; the sheets are {columns_text(names)}",
        parameter="layer",
        fix="choose one of its sheets with `layer` (a name, or 0 for the first)",
    )


def _head(book: pd.ExcelFile, sheet: str) -> list[list[object]]:
    head = pd.read_excel(book, sheet_name=sheet, header=None, nrows=HEADER_SEARCH_ROWS)
    return head.astype(object).where(head.notna(), None).to_numpy().tolist()


def _other_sheet_with_coordinates(book: pd.ExcelFile, first: str, lon: str | None, lat: str | None) -> None:
    """Raise naming the sheets when the first holds no coordinate columns but another does."""
    names = [str(n) for n in book.sheet_names]
    found = [name for name in names[1:] if header_row(_head(book, name), lon, lat) is not None]
    if found:
        raise InputError(
            f"the first sheet {first!r} has no longitude/latitude columns; the sheets are "
            f"{columns_text(names)}, and {columns_text(found)} {'has' if len(found) == 1 else 'have'} them",
            parameter="layer",
            fix=f"choose the sheet with `layer` (here {found[0]!r})",
        )


def read_spreadsheet(
    path: Path,
    layer: str | int | None,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
) -> pd.DataFrame:
    """One sheet of a workbook as a DataFrame of its data rows.

    Parameters
    ----------
    path : Path
    layer : str or int, optional
        Sheet name or 0-based position; default the first sheet.
    lon_column, lat_column : str, optional
        Used to recognise the header row (default: the usual coordinate names).

    Returns
    -------
    DataFrame
        Columns from the header row (the first row naming coordinate columns within
        the first :data:`~circles.sources.columns.HEADER_SEARCH_ROWS` rows, else row 1).

    Raises
    ------
    InputError
        If the sheet does not exist, or the first sheet lacks coordinates another has.
    InputFileError
        If the workbook is invalid, too large, declares a DTD, or holds a number beyond
        the float range.
    """
    _check_parts(path)
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            sheet = _sheet(book, layer)
            try:
                found = header_row(_head(book, sheet), lon_column, lat_column)
                if found is None and layer is None and len(book.sheet_names) > 1:
                    _other_sheet_with_coordinates(book, sheet, lon_column, lat_column)
                return pd.read_excel(book, sheet_name=sheet, header=found or 0)
            except OverflowError:
                raise _overflow(path, sheet) from None
    except (InputError, InputFileError):
        raise
    except _parse_errors() as exc:
        raise InputFileError(
            f"is not a valid .xlsx workbook ({detail(exc, path)})", fix=_FIX_INVALID
        ) from exc


def _overflow(path: Path, sheet: str) -> InputFileError:
    cell = _overflowing_cell(path, sheet)
    at = f"sheet {sheet!r}, cell {cell}" if cell else f"sheet {sheet!r}"
    return InputFileError(
        f"{at} holds a number beyond the range of a 64-bit float (about ±1.8e308)",
        fix="correct that cell (or format the column as text if it is an identifier)",
    )
