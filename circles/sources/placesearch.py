"""Place-search exports of Chinese map services (Tencent, Amap, Baidu) saved as JSON.

A planner who collects clinics through a map service's place-search API saves its
answers as they come: one JSON object per page, often several pages one after another
in one file (not one JSON document, so GDAL cannot read it). Each page holds its
records under ``data`` (Tencent LBS), ``pois`` (Amap) or ``results`` (Baidu); a record
has a name (``title``/``name``), a kind (``category``/``type``) and a location, either
``{"lat": .., "lng": ..}`` (Tencent, Baidu) or ``"lng,lat"`` text (Amap). The records
become a table (nested fields flattened as ``location.lat``, ``ad_info.adcode``) read
like any other: their coordinates are GCJ-02 (Tencent, Amap) or BD-09 (Baidu), so the
caller states ``crs``.

GeoJSON is recognised first and left to GDAL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from circles.errors import EmptyResultError
from circles.sources.decoding import decode_text
from circles.sources.limits import MAX_TEXT_FILE_BYTES, check_file_size

__all__ = ["read_place_search", "records_of"]

#: Keys under which a page holds its records, in the order tried.
RECORD_KEYS = ("data", "pois", "results", "records", "items")
_GEOJSON = re.compile(rb'"type"\s*:\s*"(FeatureCollection|Feature|Point|MultiPoint|Polygon|MultiPolygon)"')
_HEAD_BYTES = 1 << 16


def _values(text: str) -> list[object]:
    """Every JSON value in ``text``, one after another (a document, concatenated pages, JSON Lines)."""
    decoder = json.JSONDecoder()
    values, i, n = [], 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n:
            return values
        value, i = decoder.raw_decode(text, i)
        values.append(value)


def records_of(value: object) -> list[dict] | None:
    """The records of one place-search answer, or None when ``value`` is not one."""
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            nested = [records_of(v) for v in value]
            if all(r is not None for r in nested):
                return [r for page in nested for r in page]  # a list of pages
            return value  # a bare list of records
        return None
    if isinstance(value, dict):
        for key in RECORD_KEYS:
            if isinstance(value.get(key), list) and all(isinstance(r, dict) for r in value[key]):
                return value[key]
    return None


def _flat_cell(value: object) -> object:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def read_place_search(path: Path, encoding: str | None) -> pd.DataFrame | None:
    """The records of a place-search JSON file as a table, or None when it is not one.

    Parameters
    ----------
    path : Path
        A ``.json`` file.
    encoding : str, optional
        Text encoding (detected by default, as for tables).

    Returns
    -------
    DataFrame or None
        One row per record, nested fields flattened with ``.``; None for GeoJSON or
        JSON that holds no records (left to the geometry reader and its messages).

    Raises
    ------
    EmptyResultError
        If the pages hold no records at all.
    """
    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(_HEAD_BYTES)
    if _GEOJSON.search(head) or not head.lstrip().startswith((b"{", b"[", b"\xef\xbb\xbf")):
        return None
    check_file_size(path, size, MAX_TEXT_FILE_BYTES, "the file")
    try:
        values = _values(decode_text(path.read_bytes(), encoding))
    except (ValueError, RecursionError):
        return None
    pages = [records_of(v) for v in values]
    if not pages or any(p is None for p in pages):
        return None
    records = [r for page in pages for r in page]
    if not records:
        raise EmptyResultError(
            f"the {len(pages)} place-search page(s) hold no records", fix="run the search again"
        )
    frame = pd.json_normalize(records, max_level=2)
    return frame.apply(lambda column: column.map(_flat_cell)).infer_objects()
