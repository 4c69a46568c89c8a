"""A :class:`~circles.network.WalkNetwork` from what notebook users already have: an OSMnx graph.

The graph is taken as it is (no walk filter: the user chose it). Without a weight it is
walked both ways in metres along its edge geometries. With a weight (e.g. OSMnx's
``travel_time`` in seconds) each directed edge costs its weight, spread along its
geometry in proportion to length, and only in the directions the graph has.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from circles.crs import WGS84, local_utm_crs
from circles.errors import EmptyResultError, InputError

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from circles.network import WalkNetwork

#: Tags deciding whether homes may attach to an edge (see ``sources.walk_filter.is_street_level``).
_LEVEL_TAGS = ("tunnel", "bridge", "layer", "indoor", "highway")


def _values(value: object) -> list[str]:
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value]
    return [] if value is None or (isinstance(value, float) and np.isnan(value)) else [str(value)]


def street_level_of(data: dict) -> bool:
    """True when every combination of an edge's (maybe list-valued) level tags is at street level.

    Parameters
    ----------
    data : dict
        The edge's attributes (OSMnx lists merged ways' differing values).

    Returns
    -------
    bool
    """
    from circles.sources.walk_filter import is_street_level

    listed = [(k, _values(data.get(k))) for k in _LEVEL_TAGS if _values(data.get(k))]
    keys = [k for k, _ in listed]
    return all(
        is_street_level(dict(zip(keys, combo, strict=True)))
        for combo in itertools.product(*(vals for _, vals in listed))
    )


def _edge_frame(graph: nx.MultiDiGraph | nx.Graph, weight: str | None) -> gpd.GeoDataFrame:
    """One row per edge: its geometry from ``u`` to ``v``, street level and weight."""
    xy = {}
    for node, data in graph.nodes(data=True):
        if "x" not in data or "y" not in data:
            raise InputError(
                f"node {node!r} has no x/y coordinates",
                parameter="network",
                fix="pass a street graph from OSMnx (nodes carry x and y)",
            )
        xy[node] = (float(data["x"]), float(data["y"]))
    edges = graph.edges(data=True)
    geoms, level, weights = [], [], []
    for u, v, data in edges:
        line = data.get("geometry")
        if line is None or line.is_empty:
            line = shapely.LineString([xy[u], xy[v]])
        geoms.append(line)
        level.append(street_level_of(data))
        if weight is not None:
            w = data.get(weight)
            if w is None or not np.isfinite(float(w)) or float(w) < 0:
                raise InputError(
                    f"edge {u!r}-{v!r} has no usable {weight!r} value ({w!r})",
                    parameter="weight",
                    fix="compute it first (e.g. osmnx.add_edge_travel_times) or pass `weight`=None",
                )
            weights.append(float(w))
    crs = graph.graph.get("crs", WGS84)
    frame = gpd.GeoDataFrame({"street_level": level}, geometry=geoms, crs=crs)
    if weight is not None:
        frame["weight"] = weights
    return frame


def network_from_graph(
    graph: nx.MultiDiGraph | nx.Graph,
    *,
    weight: str | None = None,
    weight_unit: str = "s",
    access_speed_kmh: float = 4.5,
) -> WalkNetwork:
    """Build a network from a networkx/OSMnx graph whose nodes carry ``x`` and ``y``.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or networkx.Graph
        E.g. ``osmnx.graph_from_xml(...)``; CRS from ``graph.graph["crs"]`` (WGS-84 when absent).
    weight : str, optional
        Edge attribute holding each edge's cost (e.g. ``"travel_time"``, seconds). None:
        walk the edges both ways, costed in metres.
    weight_unit : str
        Unit of ``weight`` (``"s"`` for seconds).
    access_speed_kmh : float
        Walking speed on the access legs between points and streets when ``weight`` is
        given (the legs are walked).

    Returns
    -------
    WalkNetwork
    """
    from circles.network import WalkNetwork

    if graph.number_of_edges() == 0:
        raise EmptyResultError("the graph has no edges", parameter="network", fix="pass a street graph")
    frame = _edge_frame(graph, weight)
    if frame.crs.is_projected:
        local = frame
    else:
        coords = shapely.get_coordinates(frame.to_crs(WGS84).geometry.values)
        local = frame.to_crs(local_utm_crs(coords[:, 0], coords[:, 1]))
    level = frame["street_level"].to_numpy(bool)
    if weight is None:
        return WalkNetwork.from_lines(local.geometry.values, local.crs, street_level=level)
    length_m = local.geometry.length.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(length_m > 0, frame["weight"].to_numpy() / length_m, 0.0)
    backward = rate if not graph.is_directed() else np.full(rate.shape, np.inf)
    net = WalkNetwork.from_lines(
        local.geometry.values, local.crs, street_level=level, rate_forward=rate, rate_backward=backward
    )
    access = 3600.0 / (access_speed_kmh * 1000.0) if weight_unit == "s" else 1.0
    return WalkNetwork(
        net.crs,
        net.node_xy,
        net.edge_u,
        net.edge_v,
        net.edge_length_m,
        net.edge_street_level,
        net.rate_uv,
        net.rate_vu,
        weight_unit,
        access,
    )
