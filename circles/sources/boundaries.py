"""Study-area boundaries: a planner's file, a bounding box, or an admin relation in an OSM file.

Every reader returns a GeoDataFrame in WGS-84 with one row per area: ``name`` and
a (Multi)Polygon geometry. Features sharing a name are dissolved into one area.
Files are read by the one geometry reader (:func:`circles.sources.geo.read_geo_file`);
all features that are not polygons are listed in one error. :func:`bbox_boundary` and
:func:`buffer_area` live in :mod:`circles.sources.extent` and are re-exported here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from circles.crs import WGS84_CODE as WGS84
from circles.errors import CirclesError, EmptyResultError, InputError, InputFileError
from circles.sources.convert import frame_to_wgs84
from circles.sources.coords import parse_coordinate_system
from circles.sources.extent import bbox_boundary, buffer_area
from circles.sources.geo import check_input_file, read_geo_file
from circles.sources.limits import bound_text
from circles.sources.problems import Problems, numbers_text, rows_text

__all__ = ["admin_boundary_from_osm", "bbox_boundary", "buffer_area", "read_boundary"]

_LOG = logging.getLogger(__name__)
_SHOW = 10  # names or fields listed in an error message


def _listing(values: Sequence[object]) -> str:
    shown = ", ".join(str(v) for v in values[:_SHOW])
    return shown + (f" ... and {len(values) - _SHOW} more" if len(values) > _SHOW else "")


def _polygonal(geoms: np.ndarray, path: Path) -> np.ndarray:
    """Every feature as a (Multi)Polygon; all features that are not polygons in one error."""
    problems = Problems(path)
    out = np.empty(len(geoms), dtype=object)
    empty: list[int] = []
    wrong: dict[str, list[int]] = {}
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            empty.append(i + 1)
            continue
        parts = shapely.get_parts(geom) if geom.geom_type == "GeometryCollection" else [geom]
        kinds = {p.geom_type for p in parts}
        if not kinds <= {"Polygon", "MultiPolygon"}:
            kind = geom.geom_type if geom.geom_type != "GeometryCollection" else "/".join(sorted(kinds))
            wrong.setdefault(kind, []).append(i + 1)
            continue
        out[i] = geom if len(parts) == 1 else shapely.union_all(parts)
    if empty:
        problems.add(f"{rows_text(empty, 'feature')} has no geometry", fix="remove it or draw its area")
    for kind, features in wrong.items():
        said = f"is a {kind}, not a polygon" if len(features) == 1 else f"are {kind}s, not polygons"
        problems.add(
            f"{rows_text(features, 'feature')} {said}",
            fix="a boundary must be Polygon or MultiPolygon (remove those features or draw the areas)",
        )
    problems.report()
    return out


def _repair(geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """``shapely.make_valid`` on invalid polygons, keeping only their polygonal parts."""
    bad = np.flatnonzero(~shapely.is_valid(geoms))
    geoms = geoms.copy()
    for i in bad:
        parts = [p for p in shapely.get_parts(shapely.make_valid(geoms[i])) if p.geom_type == "Polygon"]
        geoms[i] = shapely.MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else None)
    return geoms, int(bad.size)


def _in_lonlat_range(frame: gpd.GeoDataFrame) -> bool:
    west, south, east, north = frame.total_bounds
    return bool(-180 <= west <= east <= 180 and -90 <= south <= north <= 90)


def _to_wgs84(frame: gpd.GeoDataFrame, crs: str | int | pyproj.CRS | None) -> gpd.GeoDataFrame:
    fix = "give the boundary's `crs` (e.g. EPSG:32650)"
    if crs is not None:
        try:
            frame = frame_to_wgs84(frame, parse_coordinate_system(crs))
        except InputError as exc:
            raise InputError(exc.what, parameter="crs", fix=exc.fix) from None
    elif frame.crs is None:
        if not _in_lonlat_range(frame):
            raise InputError(
                "the file states no coordinate system and its coordinates are not longitude/latitude",
                parameter="crs",
                fix=fix,
            )
        frame = frame.set_crs(WGS84)
    else:
        frame = frame.to_crs(WGS84)
    if not _in_lonlat_range(frame):
        raise InputError(
            f"coordinates {numbers_text(np.round(frame.total_bounds, 1))} are not longitude/latitude; "
            "the file's coordinate system is wrong or missing",
            parameter="crs",
            fix=fix,
        )
    return frame


def _field(frame: gpd.GeoDataFrame, field: str, what: str, parameter: str) -> pd.Series:
    if field not in frame.columns or field == frame.geometry.name:
        fields = [c for c in frame.columns if c not in (frame.geometry.name, "_feature")]
        raise InputError(
            f"no {what} field {field!r}; the file has fields: {_listing(fields)}", parameter=parameter
        )
    return frame[field].map(lambda v: None if v is None or v != v else str(bound_text(str(v).strip())))


def _select(values: pd.Series, wanted: Sequence[str], field: str, parameter: str) -> np.ndarray:
    """Rows whose value is one of ``wanted`` (exact, then case-insensitive); error naming the missing."""
    exact = values.to_numpy(dtype=object)
    folded = np.array([None if v is None else v.casefold() for v in exact], dtype=object)
    keep = np.zeros(len(values), dtype=bool)
    missing = []
    for name in wanted:
        hit = exact == str(name).strip()
        if not hit.any():
            hit = folded == str(name).strip().casefold()
        if not hit.any():
            missing.append(str(name))
        keep |= hit
    if missing:
        available = list(dict.fromkeys(v for v in exact if v is not None))
        said = ", ".join(repr(m) for m in missing)
        raise InputError(
            f"no feature with {field} = {said}; available: {_listing(available)}", parameter=parameter
        )
    return keep


def _labels(
    frame: gpd.GeoDataFrame, path: Path, name_field: str | None, names: Sequence[str] | None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """The features kept and their area names."""
    if name_field is None and "name" in frame.columns:
        name_field = "name"
    if name_field is None:
        if names is not None:
            raise InputError(
                "has no 'name' field to select areas by", parameter="name_field", fix="give its `name_field`"
            )
        stem = str(bound_text(path.stem))
        return frame, [stem] if len(frame) == 1 else [f"{stem} #{n}" for n in frame["_feature"]]
    labels = _field(frame, name_field, "name", "name_field")
    if names is not None:
        keep = _select(labels, names, name_field, "names")
        frame, labels = frame.loc[keep], labels.loc[keep]
    fallback = [f"{bound_text(path.stem)} #{n}" for n in frame["_feature"]]
    return frame, [lb if isinstance(lb, str) and lb else fb for lb, fb in zip(labels, fallback, strict=True)]


def read_boundary(
    path: str | Path,
    *,
    name_field: str | None = None,
    names: Sequence[str] | None = None,
    crs: str | int | pyproj.CRS | None = None,
    layer: str | int | None = None,
    where: Mapping[str, str | Sequence[str]] | None = None,
) -> gpd.GeoDataFrame:
    """Read study areas from a GeoJSON, GeoPackage or Shapefile in any CRS.

    Parameters
    ----------
    path : str or Path
        The boundary file.
    name_field : str, optional
        Field holding area names. Default ``name`` when the file has it; otherwise each
        feature is named after the file (``<stem>``, or ``<stem> #<n>`` for several).
    names : sequence of str, optional
        Keep only these areas (matched exactly, else ignoring case).
    crs : str, int or pyproj.CRS, optional
        The coordinate system the coordinates are really in, overriding the file's:
        ``"gcj02"``/``"bd09"`` for Amap/DataV or Baidu exports, or any EPSG code.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage).
    where : mapping, optional
        Keep features whose field equals one of the values, e.g. ``{"district": "罗湖"}``
        for Luohu's sub-districts in a city-wide file.

    Returns
    -------
    GeoDataFrame
        ``name`` and a (Multi)Polygon geometry per area in EPSG:4326, in file order;
        features with the same name are dissolved. ``attrs["repaired_features"]``
        counts invalid polygons repaired with ``shapely.make_valid``.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable, or the layer does not exist.
    InputError
        If a feature is not a polygon, a field or name is not found, or the
        coordinates are not in the stated CRS.
    EmptyResultError
        If no feature remains.

    """
    path = Path(path)
    try:
        frame = read_geo_file(path, layer=layer, what="boundary file")
        geoms = _polygonal(frame.geometry.to_numpy(), path)
        frame = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name), geometry=geoms, crs=frame.crs)
        frame["_feature"] = np.arange(1, len(frame) + 1)
        for field, wanted in (where or {}).items():
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            frame = frame.loc[_select(_field(frame, field, "selection", "where"), values, field, "where")]
        frame, labels = _labels(frame, path, name_field, names)
        frame = _to_wgs84(frame, crs)
    except CirclesError as exc:
        if exc.where is None:
            exc.where = str(path)
        raise
    repaired, n_repaired = _repair(frame.geometry.to_numpy())
    if n_repaired:
        _LOG.warning("%s: repaired %d invalid polygon(s) with shapely.make_valid", path, n_repaired)
    parts = pd.DataFrame({"name": labels, "geometry": repaired}).dropna(subset=["geometry"])
    if len(parts) == 0:
        raise EmptyResultError("no area remains after selection and repair", where=str(path))
    areas = parts.groupby("name", sort=False, dropna=False)["geometry"].agg(
        lambda g: g.iloc[0] if len(g) == 1 else shapely.union_all(g.to_numpy())
    )
    result = gpd.GeoDataFrame({"name": areas.index.to_list()}, geometry=list(areas.to_numpy()), crs=WGS84)
    result.attrs["repaired_features"] = n_repaired
    return result


def _matches(tags: Mapping[str, str], name: str) -> bool:
    wanted = name.strip().casefold()
    return any(tags.get(k, "").strip().casefold() == wanted for k in ("name", "name:zh", "name:en"))


def admin_boundary_from_osm(
    path: str | Path, name: str, admin_level: str | int | None = None
) -> gpd.GeoDataFrame:
    """Find a ``boundary=administrative`` relation by name in an OSM file.

    Parameters
    ----------
    path : str or Path
        An ``.osm.pbf`` or ``.osm`` file holding the complete relation (every member
        way; an extract cut at the boundary itself cannot assemble it).
    name : str
        Matched against ``name``, ``name:zh`` and ``name:en``, ignoring case.
    admin_level : str or int, optional
        Required when several relations share the name (e.g. a city and its district).

    Returns
    -------
    GeoDataFrame
        One row: ``name`` (as asked), ``admin_level``, ``osm_id`` (``relation/<id>``)
        and the (Multi)Polygon, EPSG:4326.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputError
        If no complete relation has the name, or several do.

    """
    import osmium

    path = check_input_file(path, "OSM file")
    level = None if admin_level is None else str(admin_level)
    boundary = osmium.filter.TagFilter(("boundary", "administrative"))
    processor = osmium.FileProcessor(str(path)).with_areas(boundary).with_filter(boundary)
    wkb = osmium.geom.WKBFactory()
    found, seen, relations = [], [], []
    try:
        for obj in processor:
            tags = dict(obj.tags)
            label = f"{tags.get('name', '?')} (level {tags.get('admin_level', '?')})"
            if obj.is_relation():
                relations.append((tags, label))
            elif obj.is_area() and not obj.from_way():
                seen.append(label)
                if _matches(tags, name) and (level is None or tags.get("admin_level") == level):
                    geom = shapely.from_wkb(wkb.create_multipolygon(obj))
                    found.append((tags.get("admin_level"), f"relation/{obj.orig_id()}", geom))
    except RuntimeError as exc:
        raise InputFileError(f"cannot be read as OSM data ({exc})", where=str(path)) from None
    if not found:
        incomplete = [label for tags, label in relations if _matches(tags, name) and label not in seen]
        if incomplete:
            raise InputError(
                f"the administrative relation {incomplete[0]} is incomplete in this extract "
                "(its border is cut off)",
                where=str(path),
                fix="read the area from a boundary file instead",
            )
        have = f"the file has: {_listing(seen)}" if seen else "the file has no complete administrative areas"
        at = "" if level is None else f" at admin_level {level}"
        raise InputError(
            f"no administrative boundary named {name!r}{at}; {have}", where=str(path), parameter="name"
        )
    if len(found) > 1:
        levels = ", ".join(f"{osm_id} (level {lvl})" for lvl, osm_id, _ in found)
        raise InputError(
            f"several boundaries are named {name!r}: {levels}",
            where=str(path),
            parameter="admin_level",
            fix="give the `admin_level`",
        )
    lvl, osm_id, geom = found[0]
    return gpd.GeoDataFrame(
        {"name": [name], "admin_level": [lvl], "osm_id": [osm_id]}, geometry=[geom], crs=WGS84
    )
