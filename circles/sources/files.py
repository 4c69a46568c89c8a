"""Planners' own facility and home lists: CSV/TSV, XLSX, GeoJSON, GeoPackage, Shapefile.

Tables need longitude/latitude columns (found under common names such as ``lon``/``lng``/
``经度`` and ``lat``/``纬度``, or a combined Amap-style ``location`` column ``"lng,lat"``);
geometry files bring their own geometry and CRS. Everything comes back in WGS-84, with
the file's own columns kept and a ``source_row`` column holding the 1-based data row
(tables: the header is not counted) or feature number, so that problems can be traced
back to the file.

Bad input raises one :class:`~circles.errors.InputError` (or ``InputFileError`` for an
unreadable file) naming the file, the rows and the fix; all bad rows are collected first.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj
import shapely
from numpy.typing import NDArray

from circles.errors import CirclesError, EmptyResultError, InputError, InputFileError
from circles.sources.coords import (
    BD09,
    GCJ02,
    WGS84,
    frame_to_wgs84,
    parse_coordinate_system,
    to_wgs84_lonlat,
)

__all__ = ["GEOMETRY_SUFFIXES", "TABLE_SUFFIXES", "read_homes", "read_points"]

#: Delimited text and spreadsheet files read as tables of coordinates.
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")
#: Files read with their own geometry (through pyogrio/GDAL).
GEOMETRY_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb")

# Column names recognised when not given, compared after stripping and lower-casing, in order
# of preference.
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
LOCATION_NAMES = ("location", "lnglat", "lonlat", "坐标", "经纬度")
NAME_NAMES = ("name", "名称", "机构名称", "名字", "title", "站点名称", "单位名称", "医院名称")
KIND_NAMES = ("kind", "type", "category", "class", "类型", "类别", "分类", "机构类型")
CAPACITY_NAMES = ("capacity", "容量", "gps", "doctors", "全科医生数", "医生数")
POPULATION_NAMES = ("population", "pop", "人口", "人口数", "居民人数", "residents")

_SHOWN_ROWS = 3
_SHOWN_COLUMNS = 12
_FALLBACK_ENCODING = "gb18030"  # superset of GBK and GB2312, common for Chinese files
_COLUMN_FLAGS = "--lon-column/--lat-column"


# ---------------------------------------------------------------------------------------------
# Messages


def _rows_text(numbers: NDArray[np.int64] | Sequence[int], unit: str) -> str:
    """``"data row 3"``, ``"data rows 3, 7 and 9"``, ``"data rows 3, 7, 9 and 12 more"``."""
    numbers = [int(n) for n in numbers]
    if len(numbers) == 1:
        return f"{unit} {numbers[0]}"
    shown = ", ".join(str(n) for n in numbers[:_SHOWN_ROWS])
    rest = len(numbers) - _SHOWN_ROWS
    if rest > 0:
        return f"{unit}s {shown} and {rest} more"
    head, last = numbers[:-1], numbers[-1]
    return f"{unit}s {', '.join(str(n) for n in head)} and {last}"


def _columns_text(columns: Sequence[str]) -> str:
    if not columns:
        return "(none)"
    shown = ", ".join(repr(c) for c in columns[:_SHOWN_COLUMNS])
    rest = len(columns) - _SHOWN_COLUMNS
    return shown + (f" and {rest} more" if rest > 0 else "")


def _detail(exc: BaseException, path: Path) -> str:
    """A library's error text on one line, without repeating the full path."""
    text = " ".join(str(exc).replace(str(path), path.name).split())
    return text or type(exc).__name__


def _raise_problems(path: Path, problems: list[str]) -> None:
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems))


# ---------------------------------------------------------------------------------------------
# Reading files


def _check_path(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file; check the path")
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise InputFileError(f"{path}: is a folder, not a file; give a CSV, XLSX, GeoJSON, GPKG or SHP file")
    if path.is_file() and path.stat().st_size == 0:
        raise InputFileError(f"{path}: the file is empty; export the list again")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES + GEOMETRY_SUFFIXES:
        if suffix == ".xls":
            raise InputFileError(f"{path}: old Excel .xls files are not read; save it as .xlsx or .csv")
        raise InputFileError(
            f"{path}: unknown file type {suffix or '(no extension)'!r}; use CSV/TSV, XLSX, GeoJSON, "
            "GPKG or Shapefile (.shp)"
        )
    return path


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    if encoding is not None:
        try:
            text = raw.decode(encoding)
        except LookupError as exc:
            raise InputError(
                f"{path}: unknown encoding {encoding!r}; use e.g. utf-8, gb18030 or gbk"
            ) from exc
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{path}: byte {exc.start} cannot be decoded as {encoding}; try another encoding "
                "(utf-8, gb18030) or leave it out to detect UTF-8/GB18030"
            ) from exc
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode(_FALLBACK_ENCODING)
            except UnicodeDecodeError as exc:
                raise InputFileError(
                    f"{path}: the text is neither UTF-8 nor GB18030/GBK (byte {exc.start}); "
                    "save it as UTF-8 or give its encoding (--encoding)"
                ) from exc
    return text.removeprefix("\ufeff")


def _delimiter(path: Path, text: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    header = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {sep: header.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _read_delimited(path: Path, encoding: str | None) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            f"{path}: cannot be read ({exc.strerror or exc}); check its permissions"
        ) from exc
    text = _decode(path, raw, encoding)
    if not text.strip():
        raise EmptyResultError(f"{path}: the file holds no rows; export the list again")
    if "\x00" in text:
        raise InputFileError(f"{path}: holds NUL bytes, so it is not a text table; export it as CSV")
    try:
        return pd.read_csv(io.StringIO(text), sep=_delimiter(path, text), skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise EmptyResultError(f"{path}: the file holds no rows; export the list again") from exc
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise InputFileError(
            f"{path}: cannot be read as a delimited table ({_detail(exc, path)}); "
            "check quotes and the number of fields"
        ) from exc


def _read_xlsx(path: Path, layer: str | int | None) -> pd.DataFrame:
    sheet = 0 if layer is None else layer
    try:
        return pd.read_excel(path, sheet_name=sheet, engine="openpyxl")
    except (ValueError, KeyError, IndexError) as exc:
        if layer is not None and "worksheet" in str(exc).lower():
            raise InputError(
                f"{path}: no sheet {layer!r} ({_detail(exc, path)}); choose one of its sheets (--layer)"
            ) from exc
        raise InputFileError(f"{path}: cannot be read as an Excel workbook ({_detail(exc, path)})") from exc
    except (zipfile.BadZipFile, OSError, TypeError, EOFError) as exc:
        raise InputFileError(
            f"{path}: is not a valid .xlsx workbook ({_detail(exc, path)}); save it again from Excel"
        ) from exc


def _read_geo(path: Path, encoding: str | None, layer: str | int | None) -> pd.DataFrame:
    options: dict[str, object] = {}
    if encoding is not None:
        options["encoding"] = encoding
    try:
        if layer is None:
            layers = pyogrio.list_layers(path)
            if len(layers) > 1:
                names = ", ".join(repr(str(n)) for n in layers[:, 0])
                raise InputError(f"{path}: holds {len(layers)} layers ({names}); choose one (--layer)")
        else:
            options["layer"] = layer
        frame = gpd.read_file(path, engine="pyogrio", **options)
    except CirclesError:
        raise
    except pyogrio.errors.DataLayerError as exc:
        if layer is not None:
            raise InputError(
                f"{path}: no layer {layer!r} ({_detail(exc, path)}); check the layer name (--layer)"
            ) from exc
        raise InputFileError(
            f"{path}: cannot be read ({_detail(exc, path)}); check that the file is complete"
        ) from exc
    except (pyogrio.errors.DataSourceError, RuntimeError, ValueError, OSError, TypeError) as exc:
        raise InputFileError(
            f"{path}: cannot be read as {path.suffix.lstrip('.').upper()} ({_detail(exc, path)}); "
            "check the file"
        ) from exc
    if len(frame) == 0:
        raise EmptyResultError(f"{path}: the file holds no features; export the list again")
    return frame


def _read_frame(path: Path, encoding: str | None, layer: str | int | None) -> pd.DataFrame:
    """The file's rows as a DataFrame, or a GeoDataFrame for geometry files."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path, layer)
    elif suffix in TABLE_SUFFIXES:
        frame = _read_delimited(path, encoding)
    else:
        frame = _read_geo(path, encoding, layer)
    if len(frame) == 0:
        raise EmptyResultError(f"{path}: the file holds a header but no rows; add rows or export it again")
    frame = frame.reset_index(drop=True)
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    taken = {geometry_name, "source_row"} if geometry_name else {"geometry", "source_row"}
    names = []
    for column in frame.columns:
        if column == geometry_name:
            names.append(column)
            continue
        name = str(column).strip() or "unnamed"
        name = f"{name}_original" if name in ("geometry", "source_row") else name
        unique, n = name, 1
        while unique in taken:
            unique, n = f"{name}.{n}", n + 1
        taken.add(unique)
        names.append(unique)
    frame.columns = names
    return frame


# ---------------------------------------------------------------------------------------------
# Columns


def _normalise(name: str) -> str:
    return "".join(str(name).lower().split())


def _attribute_columns(frame: pd.DataFrame) -> list[str]:
    """The file's own columns (not the geometry, not the added ``source_row``)."""
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    return [c for c in frame.columns if c not in (geometry_name, "source_row")]


def _find_column(
    path: Path, frame: pd.DataFrame, given: str | None, candidates: Sequence[str], flag: str
) -> str | None:
    """The column named ``given`` (exact, then case-insensitive), else the first candidate found."""
    columns = _attribute_columns(frame)
    if given is not None:
        if given in columns:
            return given
        by_key = {_normalise(c): c for c in columns}
        if _normalise(given) in by_key:
            return by_key[_normalise(given)]
        raise InputError(f"{path}: no column {given!r} ({flag}); the columns are {_columns_text(columns)}")
    by_key = {}
    for column in columns:
        by_key.setdefault(_normalise(column), column)
    for candidate in candidates:
        if candidate in by_key:
            return by_key[candidate]
    return None


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").str.strip()


def _as_patterns(patterns: str | Sequence[str] | None) -> list[str]:
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


def _apply_filters(
    path: Path,
    frame: pd.DataFrame,
    column: str | None,
    what: str,
    flag: str,
    contains: list[str],
    excludes: list[str],
) -> pd.DataFrame:
    if not contains and not excludes:
        return frame
    if column is None:
        raise InputError(
            f"{path}: cannot filter by {what}: no {what} column found; the columns are "
            f"{_columns_text(_attribute_columns(frame))}; name it with {flag}"
        )
    values = _text(frame[column])
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
            f"{path}: no row's {what} (column {column!r}) {said}, of {len(frame)} rows "
            f"(e.g. {examples}); check the spelling or the filter"
        )
    return frame.loc[keep]


# ---------------------------------------------------------------------------------------------
# Coordinates


def _is_geographic(system: str) -> bool:
    return system in (WGS84, GCJ02, BD09) or pyproj.CRS.from_user_input(system).is_geographic


def _numeric(series: pd.Series) -> NDArray[np.float64]:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = _text(series).str.replace("\u2212", "-", regex=False)  # typographic minus
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _xy_from_location(series: pd.Series) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    parts = _text(series).str.split(",", n=1, expand=True, regex=False)
    if parts.shape[1] < 2:
        nan = np.full(len(series), np.nan)
        return nan, nan.copy()
    return _numeric(parts[0]), _numeric(parts[1])


def _table_xy(
    path: Path,
    frame: pd.DataFrame,
    lon_column: str | None,
    lat_column: str | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    """Raw x/y values from the table, and a description of where they came from."""
    lon_col = _find_column(path, frame, lon_column, LON_NAMES, "--lon-column")
    lat_col = _find_column(path, frame, lat_column, LAT_NAMES, "--lat-column")
    if lon_col is not None and lat_col is not None:
        if lon_col == lat_col:
            raise InputError(f"{path}: longitude and latitude are both column {lon_col!r}; name two columns")
        return _numeric(frame[lon_col]), _numeric(frame[lat_col]), f"columns {lon_col!r}/{lat_col!r}"
    if lon_column is None and lat_column is None:
        location = _find_column(path, frame, None, LOCATION_NAMES, "")
        if location is not None:
            x, y = _xy_from_location(frame[location])
            return x, y, f"column {location!r} ('lng,lat')"
    raise InputError(
        f"{path}: no longitude/latitude columns found; the columns are "
        f"{_columns_text(_attribute_columns(frame))}; name them with {_COLUMN_FLAGS}"
    )


def _coordinate_problems(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    rows: NDArray[np.int64],
    unit: str,
    where: str,
    geographic: bool,
    swap_fix: str = f"use {_COLUMN_FLAGS}",
) -> list[str]:
    """Missing values, out-of-range and swapped longitude/latitude, rows listed."""
    problems = []
    missing = np.isnan(x) | np.isnan(y)
    if missing.any():
        problems.append(
            f"{_rows_text(rows[missing], unit)}: missing or non-numeric coordinate in {where}; "
            "fill in or delete those rows"
        )
    if not geographic:
        return problems
    ok = ~missing
    # Whole-file check: every latitude looks like a Chinese longitude and vice versa.
    if ok.any() and np.all((y[ok] >= 73) & (y[ok] <= 135) & (x[ok] >= 18) & (x[ok] <= 54)):
        problems.append(
            f"latitudes in {where} lie in 73..135 and longitudes in 18..54: looks like longitude "
            f"and latitude are swapped; {swap_fix}"
        )
        return problems
    swapped = ok & (np.abs(y) > 90) & (np.abs(y) <= 180) & (np.abs(x) <= 90)
    if swapped.any():
        problems.append(
            f"{_rows_text(rows[swapped], unit)}: latitude beyond ±90 with longitude within ±90: looks like "
            f"longitude and latitude are swapped; {swap_fix}"
        )
    out_of_range = ok & ~swapped & ((np.abs(y) > 90) | (np.abs(x) > 180))
    if out_of_range.any():
        problems.append(
            f"{_rows_text(rows[out_of_range], unit)}: longitude/latitude out of range (|lon| <= 180, "
            "|lat| <= 90); if the coordinates are projected metres, state the CRS (e.g. EPSG:32650)"
        )
    return problems


def _not_converted(lon: NDArray[np.float64], lat: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray:
    return ~np.isnan(x) & (np.isnan(lon) | np.isnan(lat))


def _finite_geometries(geoms: NDArray[np.object_]) -> NDArray[np.bool_]:
    """True where a geometry exists, is not empty and all its coordinates are finite."""
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = index[~np.isfinite(coords).all(axis=1)]
    ok[bad] = False
    return ok


def _repaired(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Invalid polygons made valid (``make_valid``); points and valid shapes unchanged."""
    out = geoms.copy()
    broken = ~shapely.is_valid(geoms) & (shapely.get_type_id(geoms) != shapely.GeometryType.POINT)
    if broken.any():
        out[broken] = shapely.make_valid(geoms[broken])
    return out


def _representative_points(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Points unchanged; other shapes reduced to a point on their surface."""
    out = geoms.copy()
    shapes = shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if shapes.any():
        out[shapes] = shapely.point_on_surface(geoms[shapes])
    return out


def _resolve_crs(path: Path, crs: str | int | pyproj.CRS | None) -> str | None:
    if crs is None:
        return None
    try:
        return parse_coordinate_system(crs)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# Shared: rows -> WGS-84 geometries


def _locate(
    path: Path,
    frame: pd.DataFrame,
    *,
    system: str | None,
    lon_column: str | None,
    lat_column: str | None,
    keep_shapes: bool,
) -> tuple[NDArray[np.object_], list[str]]:
    """WGS-84 geometries for each row (None where unusable) and the problems found."""
    rows = frame["source_row"].to_numpy(dtype=np.int64)
    unit = "feature" if isinstance(frame, gpd.GeoDataFrame) else "data row"
    use_columns = not isinstance(frame, gpd.GeoDataFrame) or lon_column is not None or lat_column is not None
    if isinstance(frame, gpd.GeoDataFrame) and not use_columns and frame.geometry.isna().all():
        found = _find_column(path, frame, None, LON_NAMES, "") and _find_column(
            path, frame, None, LAT_NAMES, ""
        )
        use_columns = bool(found)
    if use_columns:
        source = system or WGS84
        x, y, where = _table_xy(path, frame, lon_column, lat_column)
        problems = _coordinate_problems(x, y, rows, unit, where, _is_geographic(source))
        lon, lat = to_wgs84_lonlat(x, y, source)
        failed = _not_converted(lon, lat, x)
        if failed.any():
            problems.append(
                f"{_rows_text(rows[failed], unit)}: cannot be converted from {source} to WGS-84; "
                "check the coordinate system"
            )
        geoms = np.where(np.isnan(lon) | np.isnan(lat), None, shapely.points(lon, lat))
        return geoms, problems

    geoms = frame.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    problems = []
    if empty.any():
        problems.append(f"{_rows_text(rows[empty], unit)}: no geometry; fix or delete those features")
    if keep_shapes:
        kinds = shapely.get_type_id(geoms)
        lines = ~empty & np.isin(kinds, [1, 2, 5, 7])  # (Multi)LineString, LinearRing, collections
        if lines.any():
            problems.append(
                f"{_rows_text(rows[lines], unit)}: homes must be points or polygons, not lines or collections"
            )
    if frame.crs is None and system is None:
        declared = gpd.GeoDataFrame(frame[[]], geometry=geoms, crs="EPSG:4326")
    else:
        declared = gpd.GeoDataFrame(frame[[]], geometry=geoms, crs=frame.crs)
    converted = frame_to_wgs84(declared, system).geometry.to_numpy()
    usable = _finite_geometries(converted)
    bad_xy = ~empty & ~usable
    if bad_xy.any():
        problems.append(
            f"{_rows_text(rows[bad_xy], unit)}: cannot be converted to WGS-84; check the coordinate system"
        )
    out = np.full(len(converted), None, dtype=object)
    out[usable] = _repaired(converted[usable])
    points = _representative_points(out[usable])
    if not keep_shapes:
        out[usable] = points
    problems += _coordinate_problems(
        shapely.get_x(points).astype(np.float64),
        shapely.get_y(points).astype(np.float64),
        rows[usable],
        unit,
        "the geometry",
        True,
        swap_fix="export the geometry again with coordinates in x=longitude, y=latitude order",
    )
    return out, problems


def _numeric_column(
    path: Path, frame: pd.DataFrame, column: str, what: str, unit: str, *, required: bool
) -> tuple[NDArray[np.float64], list[str]]:
    rows = frame["source_row"].to_numpy(dtype=np.int64)
    values = _numeric(frame[column])
    blank = (_text(frame[column]) == "").to_numpy(dtype=bool)
    problems = []
    bad = np.isnan(values) & (~blank | required)
    if bad.any():
        fix = (
            "fill in a number (0 if none) or delete those rows" if required else "use numbers or leave blank"
        )
        problems.append(f"{_rows_text(rows[bad], unit)}: {what} in column {column!r} is not a number; {fix}")
    negative = values < 0
    if negative.any():
        problems.append(f"{_rows_text(rows[negative], unit)}: {what} in column {column!r} is negative")
    return values, problems


def _load(path: str | Path, encoding: str | None, layer: str | int | None) -> tuple[Path, pd.DataFrame, str]:
    checked = _check_path(path)
    frame = _read_frame(checked, encoding, layer)
    frame["source_row"] = np.arange(1, len(frame) + 1, dtype=np.int64)
    unit = "feature" if isinstance(frame, gpd.GeoDataFrame) else "data row"
    return checked, frame, unit


def _finish(frame: pd.DataFrame, geoms: NDArray[np.object_]) -> gpd.GeoDataFrame:
    columns = [*_attribute_columns(frame), "source_row"]
    table = pd.DataFrame(frame[columns]).reset_index(drop=True)
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")


# ---------------------------------------------------------------------------------------------
# Public API


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
        A CSV/TSV/TXT or XLSX table with coordinate columns, or a GeoJSON, GeoPackage,
        Shapefile (``.shp`` or zipped) or FlatGeobuf file with geometry. Polygons and lines
        are reduced to a point inside them (``point_on_surface``).
    lon_column, lat_column : str, optional
        Coordinate columns of a table. By default found (case-insensitive) among
        ``lon, lng, long, longitude, x, 经度`` and ``lat, latitude, y, 纬度``; failing those,
        a combined ``location`` column of ``"lng,lat"`` text (Amap exports). Given for a
        geometry file, the columns are used instead of the geometry.
    crs : str, int or pyproj.CRS, optional
        The coordinate system of the coordinates: ``"wgs84"``, ``"gcj02"`` (Amap, Tencent),
        ``"bd09"`` (Baidu) or any CRS pyproj understands (``"EPSG:4490"``, ``"EPSG:32650"``
        for x/y metres). Default: WGS-84 for tables, the file's own CRS for geometry files.
        Given for a geometry file it overrides the declared CRS; ``"gcj02"``/``"bd09"``
        then mean that the longitude/latitude (after unprojecting a projected file) are on
        that datum.
    name_column, kind_column, capacity_column : str, optional
        Columns copied to the normalised ``name``, ``kind`` and ``capacity`` outputs. By
        default found among ``name, 名称, 机构名称, title, ...``; ``kind, type, category,
        类型, 类别, ...``; ``capacity, 容量, gps, doctors, 全科医生数, ...``.
    name_contains, name_excludes, kind_contains, kind_excludes : str or sequence of str, optional
        Row filters on the name and kind columns: plain substrings (not regular
        expressions), case-insensitive. A row is kept when its value contains any of the
        ``*_contains`` strings and none of the ``*_excludes`` strings, e.g.
        ``name_contains="社区卫生服务", kind_excludes="动物医疗"``.
    encoding : str, optional
        Text encoding. By default UTF-8 (with or without BOM), falling back to GB18030
        (a superset of GBK) when the file is not valid UTF-8.
    layer : str or int, optional
        Sheet of a workbook or layer of a GeoPackage; required when a GeoPackage holds
        several layers.

    Returns
    -------
    GeoDataFrame
        One WGS-84 point per kept row, in file order, with the file's own columns,
        ``source_row`` (1-based data row after the header, or feature number), and
        ``name`` / ``kind`` (text) and ``capacity`` (float, NaN when blank) when such
        columns were found or named (they replace same-named file columns).

    Raises
    ------
    InputFileError
        If the file is missing, empty, of unknown type or cannot be parsed.
    InputError
        If coordinate columns cannot be found; if rows have missing, non-numeric,
        out-of-range or swapped coordinates (all such rows are listed); if a named column
        does not exist or capacity is not a non-negative number.
    EmptyResultError
        If the file has no data rows or the filters remove every row.

    """
    checked, frame, unit = _load(path, encoding, layer)
    system = _resolve_crs(checked, crs)
    name_col = _find_column(checked, frame, name_column, NAME_NAMES, "--name-column")
    kind_col = _find_column(checked, frame, kind_column, KIND_NAMES, "--kind-column")
    capacity_col = _find_column(checked, frame, capacity_column, CAPACITY_NAMES, "--capacity-column")
    frame = _apply_filters(
        checked,
        frame,
        name_col,
        "name",
        "--name-column",
        _as_patterns(name_contains),
        _as_patterns(name_excludes),
    )
    frame = _apply_filters(
        checked,
        frame,
        kind_col,
        "kind",
        "--kind-column",
        _as_patterns(kind_contains),
        _as_patterns(kind_excludes),
    )
    geoms, problems = _locate(
        checked, frame, system=system, lon_column=lon_column, lat_column=lat_column, keep_shapes=False
    )
    capacity = None
    if capacity_col is not None:
        capacity, more = _numeric_column(checked, frame, capacity_col, "capacity", unit, required=False)
        problems += more
    _raise_problems(checked, problems)
    out = _finish(frame, geoms)
    if name_col is not None:
        out["name"] = _text(frame[name_col]).to_numpy(dtype=object)
    if kind_col is not None:
        out["kind"] = _text(frame[kind_col]).to_numpy(dtype=object)
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
        Text encoding; UTF-8 then GB18030 by default.
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
    checked, frame, unit = _load(path, encoding, layer)
    system = _resolve_crs(checked, crs)
    population_col = _find_column(checked, frame, population_column, POPULATION_NAMES, "--population-column")
    geoms, problems = _locate(
        checked, frame, system=system, lon_column=lon_column, lat_column=lat_column, keep_shapes=True
    )
    population = None
    if population_col is not None:
        population, more = _numeric_column(checked, frame, population_col, "population", unit, required=True)
        problems += more
    _raise_problems(checked, problems)
    out = _finish(frame, geoms)
    if population is not None:
        out["population"] = population
    return out
