"""Service areas: the street pieces reached within each band, buffered and dissolved.

For a band of ``limit`` metres, an edge ``(u, v)`` of length ``L`` is reached from
``u`` for ``clip(limit - d[u], 0, L)`` metres and from ``v`` for
``clip(limit - d[v], 0, L)``; a facility on the edge reaches ``limit - leg`` metres
either way along it. These pieces are exact; the area is the union of their
buffers, never a hull. On a network costed in seconds (cycling, driving) the limit
and costs are seconds and a reach is ``(limit - cost) / rate`` metres, at the edge's
cost per metre in the direction travelled (none along a forbidden direction).

The pieces come from :mod:`circles.area_pieces`, the paths from :mod:`circles.area_paths`.
How the union is made fast (``bench/areas.py`` measures each step):

- the pieces of one edge are first merged into disjoint intervals, and pieces that
  meet end to end are joined into long paths that run on through junctions, so
  GEOS buffers and unions a few hundred polylines instead of tens of thousands of
  segments with overlapping round ends;
- bands share work: a longer band's pieces contain a shorter band's, so only the
  pieces that are new in the longer band are buffered and dissolved, then joined to
  the shorter band's polygon. Each band's polygon is built on the previous one, so
  the bands nest by construction;
- the plane is cut into slices (two by default) dissolved on parallel threads
  (GEOS releases the GIL) and joined at the end.

The polygons are inscribed in the exact buffer: with ``quad_segs=4`` no point of
the exact buffer is missed by more than ``buffer_m * (1 - cos(pi / 16))``, about
1 m for a 50 m buffer, and nothing farther than ``buffer_m`` from a reached piece
is ever included.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from numpy.typing import NDArray

from circles.area_paths import _piece_paths, piece_lines
from circles.area_pieces import (
    Pieces,
    _new_pieces,
    reached_pieces,
    reached_pieces_by_facility,
)
from circles.engine import NodeCosts, Snapped
from circles.errors import InputError
from circles.network import WalkNetwork

__all__ = [
    "DEFAULT_PARTS",
    "DEFAULT_QUAD_SEGS",
    "piece_lines",
    "reached_pieces",
    "reached_pieces_by_facility",
    "service_area",
    "service_areas",
    "service_areas_by_facility",
]

#: Segments per quarter circle of the buffer's round ends and joins. Four keeps the
#: polygon within ``buffer_m * (1 - cos(pi / 16))`` (2 % of the width) of the exact buffer.
DEFAULT_QUAD_SEGS = 4
#: Spatial slices dissolved separately (in parallel threads) and joined at the end.
DEFAULT_PARTS = 2


def _dissolve(network: WalkNetwork, pieces: Pieces, buffer_m: float, quad_segs: int) -> shapely.Geometry:
    """Union of the buffers of edge intervals (an empty Polygon for none)."""
    edge, start, end = pieces
    if edge.size == 0:
        return shapely.Polygon()
    paths, _ = _piece_paths(network, edge, start, end, np.zeros(edge.size, np.int64))
    return shapely.union_all(shapely.buffer(paths, buffer_m, quad_segs=quad_segs))


def _join(a: shapely.Geometry, b: shapely.Geometry) -> shapely.Geometry:
    if a.is_empty:
        return b
    if b.is_empty:
        return a
    return shapely.union(a, b)


def _edge_parts(network: WalkNetwork, edge: NDArray[np.int64], parts: int) -> NDArray[np.int64]:
    """Slice the plane across the longer side of ``edge``'s extent into ``parts`` slices.

    The cuts lie at quantiles of the edge midpoints, so each slice holds about as
    many of the given edges. Returns the slice of every network edge.
    """
    mid = (network.node_xy[network.edge_u] + network.node_xy[network.edge_v]) / 2.0
    slice_of = np.zeros(network.n_edges, np.int64)
    if parts <= 1 or edge.size == 0:
        return slice_of
    axis = int(np.argmax(np.ptp(mid[edge], axis=0)))
    cuts = np.quantile(mid[edge, axis], np.arange(1, parts) / parts)
    return np.searchsorted(cuts, mid[:, axis], side="right").astype(np.int64)


def _thread_map(func: Callable, items: list, workers: int | None) -> list:
    """``map`` over threads; GEOS releases the GIL, so unions of slices run in parallel."""
    if workers is None:
        workers = os.cpu_count() or 1
    workers = min(workers, len(items))
    if workers <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def service_areas(
    network: WalkNetwork,
    nodes: NodeCosts,
    facilities: Snapped,
    limits_m: Sequence[float],
    buffer_m: float,
    *,
    quad_segs: int = DEFAULT_QUAD_SEGS,
    parts: int = DEFAULT_PARTS,
    workers: int | None = None,
) -> list[shapely.Geometry]:
    """Nested service-area polygons, one per walking-distance band.

    Parameters
    ----------
    network : WalkNetwork
    nodes : NodeCosts
        The multi-source search result (its limit must be at least ``max(limits_m)``).
    facilities : Snapped
        The facilities of that search.
    limits_m : sequence of float
        Walking distances in metres, e.g. ``[375, 750, 1125]`` for 5/10/15 minutes
        at 75 m/min; any order.
    buffer_m : float
        Buffer width in metres around reached street pieces.
    quad_segs : int
        Segments per quarter circle of the buffer's round ends and joins.
    parts : int
        Spatial slices (cut across the longer side of the reached streets at
        quantiles) dissolved separately and joined at the end. Paths are cut where
        slices meet, so the polygons depend on it only within the buffer's arc
        approximation.
    workers : int, optional
        Threads dissolving slices at once; default one per CPU, at most ``parts``.
        The result does not depend on it.

    Returns
    -------
    list of shapely Polygon or MultiPolygon
        In the order of ``limits_m``, network CRS; an empty Polygon where nothing is
        reached. Within each slice a longer band's polygon is the shorter band's
        joined with the buffers of the pieces new to it, so the bands nest.

    """
    if not buffer_m > 0:
        raise InputError(f"service-area buffer must be a positive width in metres, got {buffer_m}")
    limits = np.asarray(limits_m, dtype=np.float64)
    order = np.argsort(limits, kind="stable")
    empty: Pieces = (np.empty(0, np.int64), np.empty(0), np.empty(0))
    bands = [reached_pieces(network, nodes, facilities, float(limits[i])) for i in order]
    new = [_new_pieces(inner, outer) for inner, outer in zip([empty, *bands[:-1]], bands, strict=True)]
    slice_of = _edge_parts(network, bands[-1][0] if bands else empty[0], parts)

    def dissolve_slice(part: int) -> list[shapely.Geometry]:
        """One slice's polygon per band, shortest first, each joined with the shorter ones.

        Parameters
        ----------
        part : int
            Index of the spatial slice, ``0 <= part < parts``.
        """
        area, nested = shapely.Polygon(), []
        for edge, start, end in new:
            mine = slice_of[edge] == part
            area = _join(area, _dissolve(network, (edge[mine], start[mine], end[mine]), buffer_m, quad_segs))
            nested.append(area)
        return nested

    by_slice = _thread_map(dissolve_slice, list(range(max(parts, 1))), workers)
    joined = _thread_map(
        lambda k: shapely.union_all([s[k] for s in by_slice if not s[k].is_empty]),
        list(range(len(new))),
        workers,
    )
    out: list[shapely.Geometry] = [shapely.Polygon()] * limits.size
    for k, i in enumerate(order):
        out[i] = shapely.Polygon() if joined[k].is_empty else joined[k]
    return out


def service_area(
    network: WalkNetwork,
    nodes: NodeCosts,
    facilities: Snapped,
    limit_m: float,
    buffer_m: float,
    *,
    quad_segs: int = DEFAULT_QUAD_SEGS,
    parts: int = DEFAULT_PARTS,
    workers: int | None = None,
) -> shapely.Geometry:
    """One dissolved polygon of everything within ``limit_m`` of a facility.

    Parameters
    ----------
    network, nodes, facilities
        As for :func:`reached_pieces`.
    limit_m : float
        Walking distance in metres.
    buffer_m : float
        Buffer width in metres around reached street pieces.
    quad_segs, parts, workers
        As for :func:`service_areas`, which is faster for several bands.

    Returns
    -------
    shapely Polygon or MultiPolygon (empty when nothing is reached), network CRS.

    """
    return service_areas(
        network, nodes, facilities, [limit_m], buffer_m, quad_segs=quad_segs, parts=parts, workers=workers
    )[0]


def service_areas_by_facility(
    network: WalkNetwork,
    nodes: NodeCosts,
    facilities: Snapped,
    limit_m: float,
    buffer_m: float,
    *,
    quad_segs: int = DEFAULT_QUAD_SEGS,
    workers: int | None = None,
) -> NDArray[np.object_]:
    """Catchment polygons: the streets each facility reaches first within ``limit_m``, buffered.

    Parameters
    ----------
    network, nodes, facilities
        As for :func:`reached_pieces`.
    limit_m : float
        Walking distance in metres.
    buffer_m : float
        Buffer width in metres around reached street pieces.
    quad_segs : int
        Segments per quarter circle of the buffer's round ends and joins.
    workers : int, optional
        Threads dissolving facilities at once; default one per CPU.

    Returns
    -------
    ndarray of shapely Polygon or MultiPolygon, shape (len(facilities),)
        Network CRS; an empty Polygon for a facility that reaches nothing first
        (unattached, or out-reached everywhere by others). The street pieces of
        different facilities never overlap, but neighbouring polygons overlap by up
        to the buffer width along their shared boundary; together they cover
        :func:`service_area`.

    """
    edge, start, end, owner = reached_pieces_by_facility(network, nodes, facilities, limit_m)
    out = np.array([shapely.Polygon() for _ in range(len(facilities))], dtype=object)
    if edge.size == 0:
        return out
    order = np.argsort(owner, kind="stable")
    owners, group = np.unique(owner[order], return_inverse=True)
    paths, path_group = _piece_paths(network, edge[order], start[order], end[order], group)
    buffers = shapely.buffer(paths, buffer_m, quad_segs=quad_segs)
    cuts = np.flatnonzero(np.diff(path_group)) + 1
    dissolved = _thread_map(shapely.union_all, np.split(buffers, cuts), workers)
    for f, polygon in zip(owners, dissolved, strict=True):
        out[f] = polygon
    return out
