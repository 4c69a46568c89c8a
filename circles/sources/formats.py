"""Which reader takes which file: the one registry of input file endings.

Every reader and the code that routes an option to a reader (``facilities`` as a file or
as OSM tags, the network source) ask this module, so a file ending means the same
everywhere: a ``.tsv`` facility list is a table whether it exists or not, and a missing
one is reported as a missing file, never as unknown OSM tags.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "GEOMETRY_SUFFIXES",
    "GRAPHML_SUFFIXES",
    "OSM_SUFFIXES",
    "POINT_FILE_SUFFIXES",
    "RASTER_SUFFIXES",
    "SPREADSHEET_SUFFIXES",
    "TABLE_SUFFIXES",
    "TEXT_TABLE_SUFFIXES",
    "UNSUPPORTED_SUFFIXES",
    "looks_like_file",
    "suffix_of",
]

#: Delimited text read as a table of coordinates.
TEXT_TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
#: Spreadsheets read as a table of coordinates (one sheet, chosen with ``layer``).
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")
#: All tables: coordinates come from columns.
TABLE_SUFFIXES = TEXT_TABLE_SUFFIXES + SPREADSHEET_SUFFIXES
#: Files with their own geometry, read through GDAL (``.json`` may also be a place-search export).
GEOMETRY_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".fgb")
#: A planner's point or polygon list (facilities, homes, candidate sites).
POINT_FILE_SUFFIXES = TABLE_SUFFIXES + GEOMETRY_SUFFIXES
#: OpenStreetMap extracts (network, facilities and homes by tag).
OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".xml", ".osm.xml", ".osm.bz2", ".osm.gz")
#: Street graphs saved by ``osmnx.save_graphml``.
GRAPHML_SUFFIXES = (".graphml",)
#: Population rasters (any GDAL raster is tried; these are the usual ones).
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".asc")
#: Endings a planner may have that are refused, with what to do instead.
UNSUPPORTED_SUFFIXES: dict[str, str] = {
    ".xls": "old Excel .xls files are not read; save it as .xlsx or .csv",
    ".ods": "OpenDocument spreadsheets are not read; save it as .xlsx or .csv",
    ".parquet": "Parquet files are not read; save the table as .csv or the layer as .gpkg",
    ".kml": "KML files are not read; convert it to GeoJSON or GeoPackage",
}


def suffix_of(path: str | Path) -> str:
    """The file's ending in lower case, keeping a double ending (``.osm.pbf``, ``.osm.gz``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        E.g. ``".csv"``, ``".osm.pbf"``, or ``""`` without an ending.
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if len(suffixes) >= 2 and "".join(suffixes[-2:]) in OSM_SUFFIXES:
        return "".join(suffixes[-2:])
    return suffixes[-1] if suffixes else ""


def looks_like_file(spec: str) -> bool:
    """True when an option value names a file rather than OSM tags or a preset.

    A value is a file when it exists, has a file ending this registry knows (a point
    file, an OSM extract or a refused format), or contains a path separator. OSM tag
    lists (``amenity=clinic``) and preset names (``primary-care``) have none of these.

    Parameters
    ----------
    spec : str

    Returns
    -------
    bool
    """
    text = str(spec).strip()
    if not text:
        return False
    path = Path(text)
    if path.exists():
        return True
    if "=" in text and "/" not in text and "\\" not in text:
        return False  # key=value tags (values may contain dots, e.g. name=St. Mary)
    known = (*POINT_FILE_SUFFIXES, *OSM_SUFFIXES, *UNSUPPORTED_SUFFIXES)
    return suffix_of(text) in known or "/" in text or "\\" in text
