"""Finding the columns of a planner's table: coordinates, name, kind, capacity, population.

Columns are found under common names (English, Chinese, the field names of Amap, Tencent
and Baidu place-search exports), compared after removing spaces and lower-casing, or
named by the caller. The same names find a header row that is not the first row of a
sheet (a title line above the table is common in exported workbooks).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from circles.errors import EmptyResultError, InputError
from circles.sources.problems import columns_text

__all__ = [
    "CAPACITY_NAMES",
    "KIND_NAMES",
    "LAT_NAMES",
    "LOCATION_NAMES",
    "LON_NAMES",
    "NAME_NAMES",
    "POPULATION_NAMES",
    "apply_filters",
    "attribute_columns",
    "find_column",
    "header_row",
    "text_values",
]

# Column names recognised when not given, compared after normalising, in order of preference.
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "location.lng", "location.lon", "point.x")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "location.lat", "point.y")
LOCATION_NAMES = ("location", "lnglat", "lonlat", "坐标", "经纬度")
NAME_NAMES = ("name", "名称", "机构名称", "名字", "title", "站点名称", "单位名称", "医院名称")
KIND_NAMES = ("kind", "category", "type", "class", "类型", "类别", "分类", "机构类型")
CAPACITY_NAMES = ("capacity", "容量", "gps", "doctors", "全科医生数", "医生数")
POPULATION_NAMES = ("population", "pop", "人口", "人口数", "居民人数", "residents")
#: Rows searched for a header when the first row holds no coordinate column names.
HEADER_SEARCH_ROWS = 20


def normalise(name: object) -> str:
    """A column name compared: lower case, without white space."""
    return "".join(str(name).lower().split())


def attribute_columns(frame: pd.DataFrame) -> list[str]:
    """The file's own columns (not the geometry, not the added ``source_row``)."""
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    return [c for c in frame.columns if c not in (geometry_name, "source_row")]


def find_column(
    frame: pd.DataFrame, given: str | None, candidates: Sequence[str], parameter: str
) -> str | None:
    """The column named ``given`` (exact, then ignoring case and spaces), else the first candidate found.

    Parameters
    ----------
    frame : DataFrame
    given : str, optional
        The caller's choice; an error when absent.
    candidates : sequence of str
        Normalised names tried in order when ``given`` is None.
    parameter : str
        The Python parameter that names this column (for the message).

    Returns
    -------
    str or None
        The column, or None when ``given`` is None and no candidate is present.

    Raises
    ------
    InputError
        If ``given`` is not a column.
    """
    columns = attribute_columns(frame)
    if given is not None:
        if given in columns:
            return given
        by_key = {normalise(c): c for c in columns}
        if normalise(given) in by_key:
            return by_key[normalise(given)]
        raise InputError(
            f"no column {given!r} (`{parameter}`); the columns are {columns_text(columns)}",
            parameter=parameter,
        )
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(normalise(column), column)
    return next((by_key[c] for c in candidates if c in by_key), None)


def _names_coordinates(keys: set[str], lon_column: str | None, lat_column: str | None) -> bool:
    lon = {normalise(lon_column)} if lon_column else set(LON_NAMES)
    lat = {normalise(lat_column)} if lat_column else set(LAT_NAMES)
    if keys & lon and keys & lat:
        return True
    return not (lon_column or lat_column) and bool(keys & set(LOCATION_NAMES))


def header_row(
    rows: Sequence[Sequence[object]], lon_column: str | None = None, lat_column: str | None = None
) -> int | None:
    """Index of the first of ``rows`` that names coordinate columns, or None.

    Parameters
    ----------
    rows : sequence of sequences
        The first rows of a sheet or text table, cells as read.
    lon_column, lat_column : str, optional
        Names the caller gave; otherwise the usual names (:data:`LON_NAMES`, ...).

    Returns
    -------
    int or None
    """
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = {normalise(c) for c in row if isinstance(c, str) and c.strip()}
        if _names_coordinates(keys, lon_column, lat_column):
            return i
    return None


def text_values(series: pd.Series) -> pd.Series:
    """A column as stripped text, blanks for missing values."""
    return series.astype("string").fillna("").str.strip()


def as_patterns(patterns: str | Sequence[str] | None) -> list[str]:
    """Filter strings as a list without blanks."""
    if patterns is None:
        return []
    if isinstance(patterns, str):
        patterns = [patterns]
    return [p for p in (str(p).strip() for p in patterns) if p]


def _contains_any(values: pd.Series, patterns: list[str]) -> NDArray[np.bool_]:
    lowered = values.str.lower()
    hit = np.zeros(len(values), dtype=bool)
    for pattern in patterns:
        hit |= lowered.str.contains(pattern.lower(), regex=False).to_numpy(dtype=bool)
    return hit


def apply_filters(
    frame: pd.DataFrame,
    column: str | None,
    what: str,
    contains: str | Sequence[str] | None,
    excludes: str | Sequence[str] | None,
) -> pd.DataFrame:
    """Rows whose ``what`` column contains any of ``contains`` and none of ``excludes``.

    Parameters
    ----------
    frame : DataFrame
    column : str, optional
        The column filtered on (None: not found).
    what : str
        ``"name"`` or ``"kind"``: the filter parameters are ``{what}_contains`` and
        ``{what}_excludes``, the column parameter ``{what}_column``.
    contains, excludes : str or sequence of str, optional
        Plain substrings, compared ignoring case.

    Returns
    -------
    DataFrame

    Raises
    ------
    InputError
        If a filter is given but no column was found.
    EmptyResultError
        If no row is kept.
    """
    contains, excludes = as_patterns(contains), as_patterns(excludes)
    if not contains and not excludes:
        return frame
    if column is None:
        raise InputError(
            f"cannot filter by {what}: no {what} column found; the columns are "
            f"{columns_text(attribute_columns(frame))}",
            parameter=f"{what}_column",
            fix=f"name it with `{what}_column`",
        )
    values = text_values(frame[column])
    keep = np.ones(len(frame), dtype=bool)
    if contains:
        keep &= _contains_any(values, contains)
    if excludes:
        keep &= ~_contains_any(values, excludes)
    if not keep.any():
        examples = ", ".join(repr(v) for v in values.drop_duplicates().head(3))
        said = " and ".join(
            part
            for part in (
                f"contains {' or '.join(map(repr, contains))}" if contains else "",
                f"does not contain {' or '.join(map(repr, excludes))}" if excludes else "",
            )
            if part
        )
        raise EmptyResultError(
            f"no row's {what} (column {column!r}) {said}, of {len(frame)} rows (e.g. {examples})",
            parameter=f"{what}_contains" if contains else f"{what}_excludes",
            fix="check the spelling or the filter",
        )
    return frame.loc[keep]
