"""Walkable streets from an OSMnx graph: a saved GraphML file or a downloaded graph.

The same walk filter as the PBF reader (:func:`circles.sources.walk_filter.is_walkable`)
is applied to each edge's tags. A simplified OSMnx edge is a chain of OSM ways merged
into one; where the merged ways disagree on a tag, OSMnx stores the list of their
distinct values without saying which way had which. Walking the edge means walking
every merged way, so an edge counts as walkable only when every combination of its
listed values is walkable: ``highway=['steps', 'footway']`` is kept,
``highway=['residential', 'motorway_link']`` and ``['service', 'cycleway']`` (without
``foot=yes``) are dropped. This errs toward dropping a short mixed chain rather than
letting a walk cross a motorway ramp.

OSMnx stores a two-way street as two directed edges; each street appears once in the
result (parallel streets between the same two nodes with different geometry are kept).
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from circles.crs import WGS84_CODE as WGS84
from circles.errors import EmptyResultError, InputFileError
from circles.sources.geo import check_input_file
from circles.sources.limits import bound_text, xml_declares_dtd
from circles.sources.problems import detail
from circles.sources.walk_filter import is_street_level, is_walkable

#: Edge attributes the walk filter reads (OSMnx keeps those listed in ``useful_tags_way``).
FILTER_TAGS = (
    "highway",
    "area",
    "access",
    "foot",
    "service",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
)
WALKWAY_COLUMNS = ["osm_id", "highway", "name", "street_level", "geometry"]


def _values(value: object) -> tuple[str, ...]:
    """A tag's value(s) as strings; missing (None/NaN) gives an empty tuple."""
    if isinstance(value, list | tuple | set):
        return tuple(sorted({str(v) for v in value if not _missing(v)}))
    return () if _missing(value) else (str(value),)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


LEVEL_TAGS = ("tunnel", "bridge", "layer", "indoor", "highway")


def _street_level(row: tuple) -> bool:
    """Street level unless any merged part is a tunnel, bridge, off layer 0 or indoors."""
    parts = [_values(v) or (None,) for v in row]
    return all(
        is_street_level({k: v for k, v in zip(LEVEL_TAGS, combo, strict=True) if v is not None})
        for combo in itertools.product(*parts)
    )


@lru_cache(maxsize=4096)
def _walkable(tag_values: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    """True when every combination of the (possibly merged) tag values is walkable."""
    present = [(key, values) for key, values in tag_values if values]
    keys = [key for key, _ in present]
    return any(key == "highway" for key in keys) and all(
        is_walkable(dict(zip(keys, combo, strict=True)))
        for combo in itertools.product(*(values for _, values in present))
    )


def _joined(value: object, prefix: str = "") -> str | None:
    """One value, or merged values in OSMnx's order joined by ``;``; None when missing."""
    if isinstance(value, list | tuple | set):
        items = list(dict.fromkeys(str(v) for v in value if not _missing(v)))
    else:
        items = [] if _missing(value) else [str(value)]
    return bound_text(";".join(f"{prefix}{v}" for v in items)) or None


def walkways_from_graph(graph: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Walkable streets of an OSMnx graph as WGS-84 LineStrings, one per street.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        An OSMnx graph (simplified or not, any CRS in ``graph.graph["crs"]``; WGS-84
        when absent) whose nodes carry ``x``/``y``.

    Returns
    -------
    GeoDataFrame
        Columns ``osm_id`` (``way/<id>``, several joined by ``;`` for a merged edge,
        None when the edge has no ``osmid``), ``highway`` (merged values joined by
        ``;``), ``name``, ``street_level`` (see
        :func:`circles.sources.walk_filter.is_street_level`) and ``geometry`` (the
        edge geometry where present, else the straight segment between its end nodes),
        CRS EPSG:4326.

    Raises
    ------
    InputFileError
        If nodes lack ``x``/``y`` coordinates (not an OSMnx graph).

    """
    import osmnx as ox

    if graph.number_of_edges() == 0:
        return gpd.GeoDataFrame(columns=WALKWAY_COLUMNS, geometry="geometry", crs=WGS84)
    missing_xy = next((n for n, d in graph.nodes(data=True) if "x" not in d or "y" not in d), None)
    if missing_xy is not None:
        raise InputFileError(
            f"node {bound_text(str(missing_xy))} has no x/y coordinates",
            fix="give a street graph saved by osmnx.save_graphml",
        )
    if "crs" not in graph.graph:
        graph = graph.copy()
        graph.graph["crs"] = WGS84
    edges = ox.graph_to_gdfs(graph, nodes=False, edges=True, fill_edge_geometry=True)
    tags = edges.reindex(columns=list(FILTER_TAGS))
    keep = np.fromiter(
        (
            _walkable(tuple((key, _values(value)) for key, value in zip(FILTER_TAGS, row, strict=True)))
            for row in tags.itertuples(index=False, name=None)
        ),
        dtype=bool,
        count=len(tags),
    )
    edges = edges.loc[keep]
    # Each street once: both directions share end nodes and (normalised) geometry.
    u = edges.index.get_level_values("u").to_numpy()
    v = edges.index.get_level_values("v").to_numpy()
    lo, hi = np.where(u <= v, u, v), np.where(u <= v, v, u)
    shape = shapely.to_wkb(shapely.normalize(edges.geometry.values), hex=True)
    once = ~pd.DataFrame({"lo": lo, "hi": hi, "shape": shape}).duplicated().to_numpy()
    edges = edges.loc[once]
    frame = gpd.GeoDataFrame(
        {
            "osm_id": [_joined(x, "way/") for x in edges.get("osmid", pd.Series(None, index=edges.index))],
            "highway": [_joined(x) for x in edges["highway"]],
            "name": [_joined(x) for x in edges.get("name", pd.Series(None, index=edges.index))],
            "street_level": [
                _street_level(row)
                for row in edges.reindex(columns=list(LEVEL_TAGS)).itertuples(index=False, name=None)
            ],
        },
        geometry=edges.geometry.values,
        crs=edges.crs,
    )
    return frame.to_crs(WGS84).reset_index(drop=True)


def read_graphml_walkways(path: str | Path) -> gpd.GeoDataFrame:
    """Read walkable streets from an OSMnx GraphML export.

    Parameters
    ----------
    path : str or Path
        A GraphML file written by ``osmnx.save_graphml`` (any network type; the walk
        filter is applied here, see the module notes on merged edges).

    Returns
    -------
    GeoDataFrame
        See :func:`walkways_from_graph`.

    Raises
    ------
    InputFileError
        If the file is missing, empty or not an OSMnx GraphML file.
    EmptyResultError
        If no edge is walkable.

    """
    path = check_input_file(path, "GraphML file")
    graph = _load(path)
    try:
        walkways = walkways_from_graph(graph)
    except InputFileError as exc:
        exc.where = str(path)
        raise
    except _GRAPH_ERRORS as exc:
        raise _unreadable(path, exc) from None
    if len(walkways) == 0:
        raise EmptyResultError(
            f"none of its {graph.number_of_edges()} edges is walkable",
            where=str(path),
            fix="check that it is a street graph",
        )
    return walkways


#: What a malformed graph raises while being read or turned into streets.
_GRAPH_ERRORS = (
    ET.ParseError,
    nx.NetworkXError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    OverflowError,
    OSError,
    shapely.errors.GEOSException,
    pyproj.exceptions.CRSError,
)


def _unreadable(path: Path, exc: BaseException) -> InputFileError:
    return InputFileError(
        f"cannot be read as an OSMnx GraphML file ({detail(exc, path)})",
        where=str(path),
        fix="export it with osmnx.save_graphml",
    )


def _load(path: Path) -> nx.MultiDiGraph:
    """The graph in the file; no DTD (entity attacks), readable, well-formed."""
    import osmnx as ox

    try:
        with path.open("rb") as stream:
            if xml_declares_dtd(stream):
                raise InputFileError(
                    "declares an XML document type (DTD); osmnx never writes one and it can hide "
                    "entity-expansion or external-entity attacks, so it is refused",
                    where=str(path),
                    fix="export the graph again with osmnx.save_graphml",
                )
        return ox.load_graphml(path)
    except InputFileError:
        raise
    except PermissionError as exc:
        raise InputFileError(
            f"cannot be read ({exc.strerror or exc})", where=str(path), fix="check its permissions"
        ) from None
    except _GRAPH_ERRORS as exc:
        raise _unreadable(path, exc) from None
