"""Study-area boundaries: a planner's file, a bounding box, or an admin relation in an OSM file.

Every reader returns a GeoDataFrame in WGS-84 with one row per area: ``name`` and
a (Multi)Polygon geometry. Features sharing a name are dissolved into one area.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from circles.crs import WGS84_CODE as WGS84
from circles.errors import EmptyResultError, InputError, InputFileError

_LOG = logging.getLogger(__name__)
_SHOW = 10  # names or fields listed in an error message


def _listing(values: Sequence[object]) -> str:
    shown = ", ".join(str(v) for v in values[:_SHOW])
    return shown + (f" ... and {len(values) - _SHOW} more" if len(values) > _SHOW else "")


def _read(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    import pyogrio

    if not path.exists():
        raise InputFileError(f"{path}: no such boundary file; check the path")
    try:
        frame = gpd.read_file(path, layer=layer)
        return frame if len(frame) else _lenient_geojson(path, frame)
    except pyogrio.errors.DataLayerError:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
        raise InputFileError(f"{path}: no layer {layer!r}; the file has layers: {_listing(layers)}") from None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, pyogrio.errors.GeometryError) as exc:
        raise InputFileError(
            f"{path}: cannot be read as a GeoJSON, GeoPackage or Shapefile ({str(exc).split(';')[0]})"
        ) from None


def _lenient_geojson(path: Path, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Features GDAL skipped in a malformed GeoJSON (e.g. a feature whose ``type`` is wrong).

    Some web exports write ``{"type": "Feature", ..., "type": "GeometryCollection"}``;
    GDAL then sees no features. Reading ``features[*].geometry/properties`` directly
    recovers them; anything else returns the empty frame unchanged.
    """
    if path.suffix.lower() not in (".json", ".geojson"):
        return frame
    try:
        features = json.loads(path.read_text(encoding="utf-8")).get("features")
        lenient = gpd.GeoDataFrame.from_features(features, crs=WGS84)
    except (ValueError, TypeError, AttributeError, KeyError, UnicodeDecodeError):
        return frame
    if len(lenient):
        _LOG.warning("%s: GDAL read no features; read %d from its 'features' list", path, len(lenient))
    return lenient


def _polygonal(geoms: np.ndarray, path: Path) -> np.ndarray:
    """Check every feature is (Multi)Polygon or a collection of polygons; return them as such."""
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            raise InputError(f"{path}: feature {i + 1} has no geometry; remove it or draw its area")
        parts = shapely.get_parts(geom) if geom.geom_type == "GeometryCollection" else [geom]
        kinds = {p.geom_type for p in parts}
        if not kinds <= {"Polygon", "MultiPolygon"}:
            kind = geom.geom_type if geom.geom_type != "GeometryCollection" else "/".join(sorted(kinds))
            raise InputError(
                f"{path}: feature {i + 1} is a {kind}, not a polygon; a boundary must be Polygon or "
                "MultiPolygon (remove that feature or give the area's outline)"
            )
        out[i] = geom if len(parts) == 1 else shapely.union_all(parts)
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


def _to_wgs84(frame: gpd.GeoDataFrame, crs: str | int | pyproj.CRS | None, path: Path) -> gpd.GeoDataFrame:
    from circles.sources.coords import frame_to_wgs84

    if crs is not None:
        frame = frame_to_wgs84(frame, crs)
    elif frame.crs is None:
        if not _in_lonlat_range(frame):
            raise InputError(
                f"{path}: the file states no coordinate system and its coordinates are not "
                "longitude/latitude; give the boundary CRS (e.g. EPSG:32650)"
            )
        frame = frame.set_crs(WGS84)
    else:
        frame = frame.to_crs(WGS84)
    if not _in_lonlat_range(frame):
        raise InputError(
            f"{path}: coordinates {tuple(np.round(frame.total_bounds, 1))} are not longitude/latitude; "
            "the file's coordinate system is wrong or missing: give the boundary CRS (e.g. EPSG:32650)"
        )
    return frame


def _field(frame: gpd.GeoDataFrame, field: str, path: Path, what: str) -> pd.Series:
    if field not in frame.columns or field == frame.geometry.name:
        fields = [c for c in frame.columns if c != frame.geometry.name]
        raise InputError(f"{path}: no {what} field {field!r}; the file has fields: {_listing(fields)}")
    return frame[field].map(lambda v: None if v is None or v != v else str(v).strip())


def _select(values: pd.Series, wanted: Sequence[str], path: Path, field: str) -> np.ndarray:
    """Rows whose value is one of ``wanted`` (exact, then case-insensitive); error naming the missing."""
    exact = values.to_numpy(dtype=object)
    folded = np.array([None if v is None else v.casefold() for v in exact], dtype=object)
    keep = np.zeros(len(values), dtype=bool)
    for name in wanted:
        hit = exact == str(name).strip()
        if not hit.any():
            hit = folded == str(name).strip().casefold()
        if not hit.any():
            available = list(dict.fromkeys(v for v in exact if v is not None))
            raise InputError(f"{path}: no feature with {field} = {name!r}; available: {_listing(available)}")
        keep |= hit
    return keep


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
    frame = _read(path, layer)
    if len(frame) == 0:
        raise EmptyResultError(f"{path}: the file holds no features")
    geoms = _polygonal(frame.geometry.to_numpy(), path)
    frame = gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name), geometry=geoms, crs=frame.crs)
    frame["_feature"] = np.arange(1, len(frame) + 1)
    for field, wanted in (where or {}).items():
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        frame = frame.loc[_select(_field(frame, field, path, "selection"), values, path, field)]
    if name_field is None and "name" in frame.columns:
        name_field = "name"
    if name_field is not None:
        labels = _field(frame, name_field, path, "name")
        if names is not None:
            keep = _select(labels, names, path, name_field)
            frame, labels = frame.loc[keep], labels.loc[keep]
        fallback = [f"{path.stem} #{n}" for n in frame["_feature"]]
        labels = [lb if isinstance(lb, str) and lb else fb for lb, fb in zip(labels, fallback, strict=True)]
    elif names is not None:
        raise InputError(f"{path}: has no 'name' field to select areas by; give the name field")
    else:
        labels = [path.stem] if len(frame) == 1 else [f"{path.stem} #{n}" for n in frame["_feature"]]
    frame = _to_wgs84(frame, crs, path)
    repaired, n_repaired = _repair(frame.geometry.to_numpy())
    if n_repaired:
        _LOG.warning("%s: repaired %d invalid polygon(s) with shapely.make_valid", path, n_repaired)
    parts = pd.DataFrame({"name": labels, "geometry": repaired}).dropna(subset=["geometry"])
    if len(parts) == 0:
        raise EmptyResultError(f"{path}: no area remains after selection and repair")
    areas = parts.groupby("name", sort=False, dropna=False)["geometry"].agg(
        lambda g: g.iloc[0] if len(g) == 1 else shapely.union_all(g.to_numpy())
    )
    result = gpd.GeoDataFrame({"name": areas.index.to_list()}, geometry=list(areas.to_numpy()), crs=WGS84)
    result.attrs["repaired_features"] = n_repaired
    return result


def bbox_boundary(
    west: float, south: float, east: float, north: float, *, name: str = "bbox"
) -> gpd.GeoDataFrame:
    """A rectangular study area from WGS-84 bounds.

    Parameters
    ----------
    west, south, east, north : float
        Longitudes and latitudes in degrees, in this order (as in ``--bbox``).
    name : str
        The area's name.

    Returns
    -------
    GeoDataFrame
        One row: ``name`` and the rectangle, EPSG:4326.

    Raises
    ------
    InputError
        If a value is not finite, out of range, or the bounds are in the wrong order.

    """
    values = np.array([west, south, east, north], dtype=float)
    order = "give west,south,east,north (longitude, latitude, longitude, latitude)"
    if not np.isfinite(values).all():
        raise InputError(f"bbox {tuple(values)} holds a value that is not a number; {order}")
    lon_ok = bool(np.all(np.abs(values[[0, 2]]) <= 180))
    lat_ok = bool(np.all(np.abs(values[[1, 3]]) <= 90))
    if not (lon_ok and lat_ok):
        swapped = bool(np.all(np.abs(values[[0, 2]]) <= 90) and np.all(np.abs(values[[1, 3]]) <= 180))
        hint = "; latitude and longitude look swapped" if swapped else ""
        raise InputError(f"bbox {tuple(values)} is out of range{hint}; {order}")
    if not (west < east and south < north):
        raise InputError(
            f"bbox {tuple(values)}: west must be less than east and south less than north; {order}"
        )
    return gpd.GeoDataFrame({"name": [name]}, geometry=[shapely.box(*values)], crs=WGS84)


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

    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InputFileError(f"{path}: no such OSM file (or it is empty); check the path")
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
        raise InputFileError(f"{path}: cannot be read as OSM data ({exc})") from None
    if not found:
        incomplete = [label for tags, label in relations if _matches(tags, name) and label not in seen]
        if incomplete:
            raise InputError(
                f"{path}: the administrative relation {incomplete[0]} is incomplete in this extract "
                "(its border is cut off); use a boundary file (--boundary) instead"
            )
        have = f"the file has: {_listing(seen)}" if seen else "the file has no complete administrative areas"
        at = "" if level is None else f" at admin_level {level}"
        raise InputError(f"{path}: no administrative boundary named {name!r}{at}; {have}")
    if len(found) > 1:
        levels = ", ".join(f"{osm_id} (level {lvl})" for lvl, osm_id, _ in found)
        raise InputError(f"{path}: several boundaries are named {name!r}: {levels}; give the admin level")
    lvl, osm_id, geom = found[0]
    return gpd.GeoDataFrame(
        {"name": [name], "admin_level": [lvl], "osm_id": [osm_id]}, geometry=[geom], crs=WGS84
    )


def buffer_area(
    boundary_wgs84: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry, distance_m: float
) -> shapely.Geometry:
    """The study area grown by a walking distance, e.g. the longest walk considered.

    Networks and clinics are loaded for this larger area because residents near the
    border walk to clinics beyond it.

    Parameters
    ----------
    boundary_wgs84 : GeoDataFrame, GeoSeries or shapely geometry
        The area(s) in WGS-84; several are united.
    distance_m : float
        Buffer distance in metres (e.g. 15 min x 75 m/min = 1125 m).

    Returns
    -------
    shapely geometry
        The buffered area in WGS-84, computed in the local UTM zone.

    """
    from circles.crs import local_utm_crs

    if not distance_m >= 0:
        raise InputError(f"buffer distance must be a non-negative number of metres, got {distance_m}")
    if isinstance(boundary_wgs84, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = boundary_wgs84.to_crs(WGS84).geometry.to_numpy()
    else:
        geoms = np.array([boundary_wgs84], dtype=object)
    area = shapely.union_all(geoms)
    if area.is_empty:
        raise EmptyResultError("the study area is empty; nothing to buffer")
    lon, lat = shapely.get_coordinates(area).T
    utm = local_utm_crs(lon, lat)
    local = gpd.GeoSeries([area], crs=WGS84).to_crs(utm)
    return local.buffer(distance_m, quad_segs=8).to_crs(WGS84).iloc[0]
