"""Planners' own facility and home lists: CSV/TSV, XLSX, GeoJSON, GeoPackage, Shapefile, JSON exports.

Tables need longitude/latitude columns (found under common names such as ``lon``/``lng``/
``经度`` and ``lat``/``纬度``, or a combined Amap-style ``location`` column ``"lng,lat"``);
geometry files bring their own geometry and CRS; place-search JSON exports of Tencent,
Amap and Baidu (several pages per file) are read as tables. Everything comes back in
WGS-84, with the file's own columns kept and a ``source_row`` column holding the 1-based
data row (tables: the header is not counted) or feature number, so that problems can be
traced back to the file.

Bad input raises one :class:`~circles.errors.InputError` (or ``InputFileError`` for an
unreadable file) naming the file, the rows and the fix; all bad rows are collected first
(:mod:`circles.sources.problems`). Text values longer than
:data:`~circles.sources.limits.MAX_TEXT_CHARS` are cut (:mod:`circles.sources.limits`).
The modules behind the readers: :mod:`~circles.sources.decoding` (encodings, delimiters),
:mod:`~circles.sources.spreadsheet`, :mod:`~circles.sources.placesearch`,
:mod:`~circles.sources.geo`, :mod:`~circles.sources.columns`,
:mod:`~circles.sources.coordinates`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from numpy.typing import NDArray

from circles.crs import WGS84_CODE
from circles.errors import CirclesError, EmptyResultError, InputFileError
from circles.sources.columns import (
    CAPACITY_NAMES,
    KIND_NAMES,
    NAME_NAMES,
    POPULATION_NAMES,
    apply_filters,
    attribute_columns,
    find_column,
    text_values,
)
from circles.sources.coordinates import locate, numeric_column, resolve_crs
from circles.sources.decoding import read_text_table
from circles.sources.formats import (
    GEOMETRY_SUFFIXES,
    POINT_FILE_SUFFIXES,
    SPREADSHEET_SUFFIXES,
    TABLE_SUFFIXES,
    TEXT_TABLE_SUFFIXES,
    UNSUPPORTED_SUFFIXES,
    suffix_of,
)
from circles.sources.geo import check_input_file, read_geo_file
from circles.sources.limits import MAX_TEXT_CHARS, TRUNCATION_MARKER, bound_columns, bound_text_columns
from circles.sources.placesearch import read_place_search
from circles.sources.problems import Problems
from circles.sources.spreadsheet import read_spreadsheet

__all__ = ["GEOMETRY_SUFFIXES", "TABLE_SUFFIXES", "read_homes", "read_points"]


@contextmanager
def _at(path: Path) -> Iterator[None]:
    """Name ``path`` as the place of any error raised inside that names no place."""
    try:
        yield
    except CirclesError as exc:
        if exc.where is None:
            exc.where = str(path)
        raise


def _check_type(path: Path) -> None:
    suffix = suffix_of(path)
    if path.suffix.lower() == ".gdb" or suffix in POINT_FILE_SUFFIXES:
        return
    if suffix in UNSUPPORTED_SUFFIXES:
        raise InputFileError(UNSUPPORTED_SUFFIXES[suffix])
    raise InputFileError(
        f"unknown file type {suffix or '(no extension)'!r}",
        fix="use CSV/TSV, XLSX, GeoJSON, GPKG or Shapefile (.shp)",
    )


def _read_frame(
    path: Path, encoding: str | None, layer: str | int | None, lon: str | None, lat: str | None
) -> pd.DataFrame:
    """The file's rows as a DataFrame, or a GeoDataFrame for geometry files."""
    suffix = path.suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        frame = read_spreadsheet(path, layer, lon_column=lon, lat_column=lat)
    elif suffix in TEXT_TABLE_SUFFIXES:
        frame = read_text_table(path, encoding, lon_column=lon, lat_column=lat)
    else:
        frame = read_place_search(path, encoding) if suffix == ".json" else None
        if frame is None:
            frame = read_geo_file(path, layer=layer, encoding=encoding)
    if len(frame) == 0:
        raise EmptyResultError("the file holds a header but no rows", fix="add rows or export it again")
    return frame.reset_index(drop=True)


def _unique_columns(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as bounded, unique text; ``geometry``/``source_row`` of a table renamed ``*_original``."""
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    others = bound_columns(path, [c for c in frame.columns if c != geometry_name])
    taken = {geometry_name or "geometry", "source_row"}
    names, it = [], iter(others)
    for column in frame.columns:
        if column == geometry_name:
            names.append(column)
            continue
        name = next(it).strip() or "unnamed"
        name = f"{name}_original" if name in ("geometry", "source_row") else name
        unique, n = name, 1
        while unique in taken:
            unique, n = f"{name}.{n}", n + 1
        taken.add(unique)
        names.append(unique)
    frame.columns = names
    return frame


def _load(
    path: str | Path, encoding: str | None, layer: str | int | None, lon: str | None, lat: str | None
) -> tuple[Path, pd.DataFrame, Problems]:
    checked = check_input_file(path, "file", folder_ok=Path(path).suffix.lower() == ".gdb")
    _check_type(checked)
    frame = _unique_columns(checked, _read_frame(checked, encoding, layer, lon, lat))
    problems = Problems(checked)
    cut = bound_text_columns(frame)
    if cut:
        problems.warn(
            f"{cut} text value(s) longer than {MAX_TEXT_CHARS} characters were cut "
            f"(marked {TRUNCATION_MARKER!r})"
        )
    frame["source_row"] = np.arange(1, len(frame) + 1, dtype=np.int64)
    return checked, frame, problems


def _finish(frame: pd.DataFrame, geoms: NDArray[np.object_], warnings: list[str]) -> gpd.GeoDataFrame:
    columns = [*attribute_columns(frame), "source_row"]
    table = pd.DataFrame(frame[columns]).reset_index(drop=True)
    out = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=WGS84_CODE), crs=WGS84_CODE)
    out.attrs["warnings"] = warnings
    return out


def _unit(frame: pd.DataFrame) -> str:
    return "feature" if isinstance(frame, gpd.GeoDataFrame) else "data row"


def read_points(
    path: str | Path,
    *,
    lon_column: str | None = None,
    lat_column: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    name_column: str | None = None,
    kind_column: str | None = None,
    capacity_column: str | None = None,
    name_contains: str | Sequence[str] | None = None,
    name_excludes: str | Sequence[str] | None = None,
    kind_contains: str | Sequence[str] | None = None,
    kind_excludes: str | Sequence[str] | None = None,
    encoding: str | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read a planner's list of facilities (or any points) as WGS-84 points.

    Parameters
    ----------
    path : str or Path
        A CSV/TSV/TXT or XLSX table with coordinate columns; a GeoJSON, GeoPackage,
        Shapefile (``.shp`` or zipped) or FlatGeobuf file with geometry (polygons and
        lines are reduced to a point inside them, ``point_on_surface``); or a
        place-search JSON export (Tencent ``data``, Amap ``pois``, Baidu ``results``;
        several pages in one file are read one after another).
    lon_column, lat_column : str, optional
        Coordinate columns of a table. By default found (case-insensitive) among
        ``lon, lng, long, longitude, x, 经度, location.lng`` and ``lat, latitude, y, 纬度,
        location.lat``; failing those, a combined ``location`` column of ``"lng,lat"``
        text (Amap exports). Given for a geometry file, the columns are used instead of
        the geometry. The header row of a table may stand below a title: the first of
        the first 20 rows naming coordinate columns is taken.
    crs : str, int or pyproj.CRS, optional
        The coordinate system of the coordinates: ``"wgs84"``, ``"gcj02"`` (Amap, Tencent),
        ``"bd09"`` (Baidu) or any CRS pyproj understands (``"EPSG:4490"``, ``"EPSG:32650"``
        for x/y metres). Default: WGS-84 for tables, the file's own CRS for geometry files.
        Given for a geometry file it overrides the declared CRS; ``"gcj02"``/``"bd09"``
        then mean that the longitude/latitude (after unprojecting a projected file) are on
        that datum.
    name_column, kind_column, capacity_column : str, optional
        Columns copied to the normalised ``name``, ``kind`` and ``capacity`` outputs. By
        default found among ``name, 名称, 机构名称, title, ...``; ``kind, category, type,
        类型, 类别, ...``; ``capacity, 容量, gps, doctors, 全科医生数, ...``.
    name_contains, name_excludes, kind_contains, kind_excludes : str or sequence of str, optional
        Row filters on the name and kind columns: plain substrings (not regular
        expressions), case-insensitive. A row is kept when its value contains any of the
        ``*_contains`` strings and none of the ``*_excludes`` strings, e.g.
        ``name_contains="社区卫生服务", kind_excludes="动物医疗"``.
    encoding : str, optional
        Text encoding. By default a byte-order mark decides (UTF-8, UTF-16), then UTF-16
        without one is recognised, then UTF-8 and GB18030 (a superset of GBK) are tried.
    layer : str or int, optional
        Sheet of a workbook or layer of a GeoPackage; required when a GeoPackage holds
        several layers.

    Returns
    -------
    GeoDataFrame
        One WGS-84 point per kept row, in file order, with the file's own columns,
        ``source_row`` (1-based data row after the header, or feature number), and
        ``name`` / ``kind`` (text) and ``capacity`` (float, NaN when blank) when such
        columns were found or named (they replace same-named file columns). Text values
        are at most :data:`~circles.sources.limits.MAX_TEXT_CHARS` characters;
        ``attrs["warnings"]`` says how many were cut.

    Raises
    ------
    InputFileError
        If the file is missing, a folder, empty, too large, of unknown type or cannot
        be parsed.
    InputError
        If coordinate columns cannot be found; if rows have missing, non-numeric,
        out-of-range or swapped coordinates (all such rows are listed); if a named column
        does not exist or capacity is not a non-negative number.
    EmptyResultError
        If the file has no data rows or the filters remove every row.

    """
    with _at(Path(path)):
        _, frame, problems = _load(path, encoding, layer, lon_column, lat_column)
        system = resolve_crs(crs)
        name_col = find_column(frame, name_column, NAME_NAMES, "name_column")
        kind_col = find_column(frame, kind_column, KIND_NAMES, "kind_column")
        capacity_col = find_column(frame, capacity_column, CAPACITY_NAMES, "capacity_column")
        frame = apply_filters(frame, name_col, "name", name_contains, name_excludes)
        frame = apply_filters(frame, kind_col, "kind", kind_contains, kind_excludes)
        geoms = locate(
            problems, frame, system=system, lon_column=lon_column, lat_column=lat_column, keep_shapes=False
        )
        capacity = None
        if capacity_col is not None:
            capacity = numeric_column(problems, frame, capacity_col, "capacity", _unit(frame), required=False)
        out = _finish(frame, geoms, problems.report())
    if name_col is not None:
        out["name"] = text_values(frame[name_col]).to_numpy(dtype=object)
    if kind_col is not None:
        out["kind"] = text_values(frame[kind_col]).to_numpy(dtype=object)
    if capacity is not None:
        out["capacity"] = capacity
    return out


def read_homes(
    path: str | Path,
    *,
    population_column: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    encoding: str | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read a planner's list of homes (buildings, housing estates, grid cells) in WGS-84.

    Parameters
    ----------
    path : str or Path
        A table with coordinate columns (see :func:`read_points`) or a geometry file with
        points or polygons.
    population_column : str, optional
        Residents per row. By default found among ``population, pop, 人口, 人口数,
        居民人数, residents``; without one, no ``population`` column is returned.
    crs : str, int or pyproj.CRS, optional
        Coordinate system, as for :func:`read_points`.
    lon_column, lat_column : str, optional
        Coordinate columns of a table, as for :func:`read_points`.
    encoding : str, optional
        Text encoding, detected by default as for :func:`read_points`.
    layer : str or int, optional
        Workbook sheet or GeoPackage layer.

    Returns
    -------
    GeoDataFrame
        WGS-84 points (tables, point files) or polygons (invalid ones repaired with
        ``make_valid``), the file's columns, ``source_row`` and, when a population column
        was found or named, a float ``population``.

    Raises
    ------
    InputFileError, InputError, EmptyResultError
        As for :func:`read_points`; also for line geometries and for population values
        that are missing, non-numeric or negative.

    """
    with _at(Path(path)):
        _, frame, problems = _load(path, encoding, layer, lon_column, lat_column)
        system = resolve_crs(crs)
        population_col = find_column(frame, population_column, POPULATION_NAMES, "population_column")
        geoms = locate(
            problems, frame, system=system, lon_column=lon_column, lat_column=lat_column, keep_shapes=True
        )
        population = None
        if population_col is not None:
            population = numeric_column(
                problems, frame, population_col, "population", _unit(frame), required=True
            )
        out = _finish(frame, geoms, problems.report())
    if population is not None:
        out["population"] = population
    return out
