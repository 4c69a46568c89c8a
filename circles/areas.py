"""Service areas: the street pieces reached within each band, buffered and dissolved.

For a band of ``limit`` metres, an edge ``(u, v)`` of length ``L`` is reached from
``u`` for ``clip(limit - d[u], 0, L)`` metres and from ``v`` for
``clip(limit - d[v], 0, L)``; a facility on the edge reaches ``limit - leg`` metres
either way along it. These pieces are exact; the area is the union of their
buffers, never a hull. On a network costed in seconds (cycling, driving) the limit
and costs are seconds and a reach is ``(limit - cost) / rate`` metres, at the edge's
cost per metre in the direction travelled (none along a forbidden direction).

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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, depth_first_order

from circles.engine import NodeCosts, Snapped
from circles.errors import InputError
from circles.network import WalkNetwork

#: Segments per quarter circle of the buffer's round ends and joins. Four keeps the
#: polygon within ``buffer_m * (1 - cos(pi / 16))`` (2 % of the width) of the exact buffer.
DEFAULT_QUAD_SEGS = 4
#: Spatial slices dissolved separately (in parallel threads) and joined at the end.
DEFAULT_PARTS = 2

Pieces = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]


def _check_limit(nodes: NodeCosts, limit_m: float) -> None:
    if not limit_m <= nodes.limit:
        raise InputError(
            f"service area of {limit_m:g} m asked from a search cut off at {nodes.limit:g} m; "
            "search with a limit at least as long as the longest band"
        )


def _reach_from_ends(
    network: WalkNetwork, nodes: NodeCosts, limit_m: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Metres of each edge reached from its ``u`` end and from its ``v`` end.

    ``(limit - cost) / rate`` in the search graph's direction away from that end: the
    cost left over, spent at the edge's cost per metre (1 when walking, so exactly the
    metres left; ``inf`` for a forbidden direction, which reaches nothing).
    """
    length = network.edge_length_m
    g = nodes.graph
    with np.errstate(invalid="ignore", divide="ignore"):
        from_u = np.clip((limit_m - nodes.cost[network.edge_u]) / g.rate_uv, 0.0, length)
        from_v = np.clip((limit_m - nodes.cost[network.edge_v]) / g.rate_vu, 0.0, length)
    return np.nan_to_num(from_u, nan=0.0, neginf=0.0), np.nan_to_num(from_v, nan=0.0, neginf=0.0)


def _on_edge_sources(
    network: WalkNetwork, facilities: Snapped, nodes: NodeCosts
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Attached facilities as sources on their own edge: ``(edge, facility, along_m, cost)``.

    ``cost`` is the access leg's cost (its metres when walking).
    """
    f = np.flatnonzero(facilities.attached)
    cost = facilities.access_leg_m[f] * nodes.graph.access_cost_per_m
    return facilities.edge[f], f, facilities.along_m[f], cost


def _along_reach(
    nodes: NodeCosts, edge: NDArray[np.int64], budget: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Metres a source on an edge reaches towards ``v`` and towards ``u`` with ``budget`` left."""
    g = nodes.graph
    with np.errstate(invalid="ignore", divide="ignore"):
        ahead = np.nan_to_num(budget / g.rate_uv[edge], nan=0.0)
        behind = np.nan_to_num(budget / g.rate_vu[edge], nan=0.0)
    return ahead, behind


def _union_intervals(edge: NDArray[np.int64], start: NDArray[np.float64], end: NDArray[np.float64]) -> Pieces:
    """Merge overlapping or touching intervals of the same edge; sorted by (edge, start).

    Exact: a sweep over +1/-1 events per edge, no arithmetic on the positions.
    """
    keep = end > start
    edge, start, end = edge[keep], start[keep], end[keep]
    if edge.size == 0:
        return edge.astype(np.int64), start, end
    ev_edge = np.concatenate([edge, edge])
    ev_pos = np.concatenate([start, end])
    ev_step = np.concatenate([np.ones(edge.size, np.int64), -np.ones(edge.size, np.int64)])
    # Openings before closings at the same position, so touching intervals merge.
    order = np.lexsort((-ev_step, ev_pos, ev_edge))
    ev_edge, ev_pos, ev_step = ev_edge[order], ev_pos[order], ev_step[order]
    depth = np.cumsum(ev_step)  # every edge's events sum to zero, so depth resets per edge
    opens = (ev_step == 1) & (depth == 1)
    closes = (ev_step == -1) & (depth == 0)
    return ev_edge[opens].astype(np.int64), ev_pos[opens], ev_pos[closes]


def reached_pieces(network: WalkNetwork, nodes: NodeCosts, facilities: Snapped, limit_m: float) -> Pieces:
    """Reached intervals of edges within ``limit_m`` metres.

    Parameters
    ----------
    network : WalkNetwork
    nodes : NodeCosts
        The multi-source search result (its limit must be at least ``limit_m``).
    facilities : Snapped
        The facilities of that search.
    limit_m : float
        Walking distance in metres (access legs of facilities included).

    Returns
    -------
    (edge, start_m, end_m)
        One row per reached interval ``[start_m, end_m]`` in metres from the edge's
        ``u`` end. Intervals are disjoint, of positive length, and sorted by edge,
        then start. A wholly reached edge is one row ``[0, edge_length_m]``.

    """
    _check_limit(nodes, limit_m)
    length = network.edge_length_m
    from_u, from_v = _reach_from_ends(network, nodes, limit_m)
    f_edge, _, f_along, f_cost = _on_edge_sources(network, facilities, nodes)
    reach = limit_m - f_cost
    on = reach > 0
    f_edge, f_along, reach = f_edge[on], f_along[on], reach[on]
    ahead, behind = _along_reach(nodes, f_edge, reach)
    edges = np.arange(network.n_edges, dtype=np.int64)
    return _union_intervals(
        np.concatenate([edges, edges, f_edge]),
        np.concatenate([np.zeros(edges.size), length - from_v, np.clip(f_along - behind, 0.0, None)]),
        np.concatenate([from_u, length, np.minimum(f_along + ahead, length[f_edge])]),
    )


def _new_pieces(inner: Pieces, outer: Pieces) -> Pieces:
    """``outer`` minus ``inner``, where every inner interval lies inside an outer one.

    Both are disjoint sorted interval sets as returned by :func:`reached_pieces`;
    the gaps are cut at the inner intervals' own end points, so no position is
    recomputed.
    """
    (ie, is_, ien), (oe, os_, oen) = inner, outer
    edge = np.concatenate([oe, ie])
    start = np.concatenate([os_, is_])
    end = np.concatenate([oen, ien])
    is_outer = np.concatenate([np.ones(oe.size, bool), np.zeros(ie.size, bool)])
    # Each outer interval, then the inner intervals it contains, in order.
    order = np.lexsort((~is_outer, start, edge))
    edge, start, end, is_outer = edge[order], start[order], end[order], is_outer[order]
    group = np.cumsum(is_outer) - 1
    group_end = end[is_outer][group]
    # The point after which a gap may open: an outer interval's start, an inner one's end.
    after = np.where(is_outer, start, end)
    inner_idx = np.flatnonzero(~is_outer)
    last = np.ones(edge.size, bool)
    last[:-1] = is_outer[1:]
    last_idx = np.flatnonzero(last)
    gap_edge = np.concatenate([edge[inner_idx], edge[last_idx]])
    gap_start = np.concatenate([after[inner_idx - 1], after[last_idx]])
    gap_end = np.concatenate([start[inner_idx], group_end[last_idx]])
    keep = gap_end > gap_start
    order = np.lexsort((gap_start[keep], gap_edge[keep]))
    return gap_edge[keep][order], gap_start[keep][order], gap_end[keep][order]


def reached_pieces_by_facility(
    network: WalkNetwork, nodes: NodeCosts, facilities: Snapped, limit_m: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Reached intervals of edges, each labelled with the facility that reaches it first.

    Along an edge the walking distance is the lower envelope of ``d[u] + x``,
    ``d[v] + (L - x)`` and, for a facility on the edge, ``leg + |x - along|``; each
    reached point belongs to the source of the lowest of these (the network Voronoi
    partition of the streets, cut at the band).

    Parameters
    ----------
    network, nodes, facilities, limit_m
        As for :func:`reached_pieces`.

    Returns
    -------
    (edge, start_m, end_m, facility)
        Disjoint intervals of positive length, sorted by edge, then start;
        ``facility`` indexes ``facilities``. Together they cover exactly the
        intervals of :func:`reached_pieces`.

    """
    _check_limit(nodes, limit_m)
    n_fac = len(facilities)
    length = network.edge_length_m
    from_u, from_v = _reach_from_ends(network, nodes, limit_m)
    f_edge, f_index, f_along, f_cost = _on_edge_sources(network, facilities, nodes)
    plain = np.ones(network.n_edges, bool)
    plain[f_edge] = False
    e = np.flatnonzero(plain & (from_u + from_v > 0))
    du, dv, le = nodes.cost[network.edge_u[e]], nodes.cost[network.edge_v[e]], length[e]
    a, b = nodes.graph.rate_uv[e], nodes.graph.rate_vu[e]
    # Where the trips from both ends meet (du + x a = dv + (L - x) b); a forbidden direction
    # reaches nothing, so the other end owns the edge. inf - inf cannot occur: it is reached.
    with np.errstate(invalid="ignore"):
        meet = np.where(np.isinf(b), le, np.where(np.isinf(a), 0.0, (dv + le * b - du) / (a + b)))
        meet = np.clip(np.nan_to_num(meet, nan=0.0), 0.0, le)
    edge = [e, e]
    start = [np.zeros(e.size), np.maximum(le - from_v[e], meet)]
    end = [np.minimum(from_u[e], meet), le]
    owner = [nodes.facility[network.edge_u[e]], nodes.facility[network.edge_v[e]]]
    for ed in np.unique(f_edge):
        mine = f_edge == ed
        pieces = _envelope_pieces(
            float(length[ed]),
            float(nodes.cost[network.edge_u[ed]]),
            int(nodes.facility[network.edge_u[ed]]),
            float(nodes.cost[network.edge_v[ed]]),
            int(nodes.facility[network.edge_v[ed]]),
            f_along[mine],
            f_cost[mine],
            f_index[mine],
            limit_m,
            (float(nodes.graph.rate_uv[ed]), float(nodes.graph.rate_vu[ed])),
        )
        edge.append(np.full(pieces[0].size, ed, np.int64))
        start.append(pieces[0])
        end.append(pieces[1])
        owner.append(pieces[2])
    edge_a, owner_a = np.concatenate(edge), np.concatenate(owner)
    keep = owner_a >= 0
    key, s, t = _union_intervals(
        edge_a[keep] * (n_fac + 1) + owner_a[keep], np.concatenate(start)[keep], np.concatenate(end)[keep]
    )
    return key // (n_fac + 1), s, t, key % (n_fac + 1)


def _envelope_pieces(
    length_m: float,
    dist_u_m: float,
    owner_u: int,
    dist_v_m: float,
    owner_v: int,
    along_m: NDArray[np.float64],
    cost_m: NDArray[np.float64],
    owner: NDArray[np.int64],
    limit_m: float,
    rates: tuple[float, float] = (1.0, 1.0),
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Reached, owned intervals of one edge with facilities on it.

    Every source is a cone, ``cost + (x - position) a`` ahead of it and
    ``cost + (position - x) b`` behind it (``rates = (a, b)``, per metre towards ``v``
    and towards ``u``; 1 and 1 when walking); the winner changes only at pairwise
    meeting points and reach ends only at ``position + (limit - cost) / a`` and
    ``position - (limit - cost) / b``, so testing the midpoint of each interval between
    those points is exact. (With a direction forbidden every cone has one finite side,
    all parallel: they meet nowhere.)
    """
    a, b = rates
    pos = np.concatenate([[0.0, length_m], along_m])
    cost = np.concatenate([[dist_u_m, dist_v_m], cost_m])
    who = np.concatenate([[owner_u, owner_v], owner]).astype(np.int64)
    ok = np.isfinite(cost) & (who >= 0)
    pos, cost, who = pos[ok], cost[ok], who[ok]
    reach = limit_m - cost
    if np.isfinite(a) and np.isfinite(b):
        meet = ((cost[None, :] - cost[:, None] + pos[:, None] * a + pos[None, :] * b) / (a + b)).ravel()
    else:
        meet = np.empty(0)
    ends = [pos - reach / b if np.isfinite(b) else pos, pos + reach / a if np.isfinite(a) else pos]
    cuts = np.concatenate([[0.0, length_m], pos, *ends, meet])
    cuts = np.unique(np.clip(cuts, 0.0, length_m))
    lo, hi = cuts[:-1], cuts[1:]
    mid = (lo + hi) / 2.0
    gap = mid[:, None] - pos[None, :]  # never 0: every position is a cut
    with np.errstate(invalid="ignore"):
        dist = cost[None, :] + np.where(gap > 0, gap * a, -gap * b)
    best = np.argmin(dist, axis=1)
    reached = dist[np.arange(mid.size), best] <= limit_m
    return lo[reached], hi[reached], who[best[reached]]


def _piece_points(
    network: WalkNetwork, edge: NDArray[np.int64], start_m: NDArray[np.float64], end_m: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Both end points of each interval, and whether they are the edge's end nodes."""
    u, v = network.edge_u[edge], network.edge_v[edge]
    a, b = network.node_xy[u], network.node_xy[v]
    length = network.edge_length_m[edge]
    with np.errstate(invalid="ignore", divide="ignore"):
        t0 = np.where(length > 0, start_m / length, 0.0)[:, None]
        t1 = np.where(length > 0, end_m / length, 0.0)[:, None]
    at_u, at_v = start_m <= 0, end_m >= length
    p0 = np.where(at_u[:, None], a, a + (b - a) * t0)
    p1 = np.where(at_v[:, None], b, a + (b - a) * t1)
    return p0, p1, at_u, at_v


def piece_lines(
    network: WalkNetwork, edge: NDArray[np.int64], start_m: NDArray[np.float64], end_m: NDArray[np.float64]
) -> NDArray[np.object_]:
    """Straight LineStrings of edge intervals, in the network CRS.

    Parameters
    ----------
    network : WalkNetwork
    edge : ndarray of int64
        Edge of each interval.
    start_m, end_m : ndarray of float64
        Interval ends in metres from the edge's ``u`` end.

    Returns
    -------
    ndarray of shapely LineString
        An interval that starts or ends at a node takes that node's exact
        coordinates, so pieces meeting at a node share an end point.

    """
    p0, p1, _, _ = _piece_points(network, edge, start_m, end_m)
    return shapely.linestrings(np.stack([p0, p1], axis=1))


def _pair_ends(
    point: NDArray[np.int64], inward: NDArray[np.float64], group: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Pair up the piece ends that meet at one point, each with the one most nearly opposite.

    Ends are sorted by direction around their point and the ``j``-th of ``k`` is
    paired with the ``j + k // 2``-th (an odd one out stays unpaired): two ends
    make a through street, and a path goes on roughly straight across a crossing.
    Only ends of one group are paired. Returns each end's partner, -1 for none.
    """
    angle = np.arctan2(inward[:, 1], inward[:, 0])
    order = np.lexsort((angle, point, group))
    p, g = point[order], group[order]
    first = np.r_[0, np.flatnonzero((p[1:] != p[:-1]) | (g[1:] != g[:-1])) + 1]
    count = np.diff(np.r_[first, order.size])
    rank = np.arange(order.size) - np.repeat(first, count)
    half = np.repeat(count // 2, count)
    lead = np.flatnonzero(rank < half)
    partner = np.full(order.size, -1, np.int64)
    partner[order[lead]] = order[lead + half[lead]]
    partner[order[lead + half[lead]]] = order[lead]
    return partner


def _piece_paths(
    network: WalkNetwork,
    edge: NDArray[np.int64],
    start_m: NDArray[np.float64],
    end_m: NDArray[np.float64],
    group: NDArray[np.int64],
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Join the pieces of each group end to end into long paths, through junctions too.

    Ends meeting at a node are paired (:func:`_pair_ends`); the pairs link the
    pieces into chains and loops, which one depth-first walk from a virtual root
    puts in order. The paths hold exactly the pieces' points, so their buffers are
    the pieces' buffers, but a crossing costs two overlapping paths instead of four
    round ends, and a street one polyline instead of a segment per edge: GEOS then
    unions a few long polygons instead of many small overlapping ones.

    Returns
    -------
    (paths, path_group)
        LineStrings sorted by group, and the group of each.

    """
    m = edge.size
    p0, p1, at_u, at_v = _piece_points(network, edge, start_m, end_m)
    # End k is piece k's start point, end m + k its end point; an end inside an edge
    # meets nothing and gets a point of its own.
    point = np.concatenate(
        [np.where(at_u, network.edge_u[edge], -1), np.where(at_v, network.edge_v[edge], -1)]
    )
    inside = point < 0
    point[inside] = network.n_nodes + np.arange(inside.sum())
    partner = _pair_ends(point, np.concatenate([p1 - p0, p0 - p1]), np.concatenate([group, group]))
    linked = np.flatnonzero(partner[:m] >= 0)
    linked = np.concatenate([linked, m + np.flatnonzero(partner[m:] >= 0)])
    ends_a = linked[linked < partner[linked]]
    ends_b = partner[ends_a]
    links = coo_matrix((np.ones(ends_a.size), (ends_a % m, ends_b % m)), shape=(m, m))
    n_comp, comp = connected_components(links, directed=False)
    # Each chain starts at its lowest piece with a free end; a loop at its lowest piece,
    # cut open at that piece's end point.
    free_end = (partner[:m] < 0) | (partner[m:] < 0)
    has_free = np.zeros(n_comp, bool)
    has_free[comp[free_end]] = True
    candidate = np.flatnonzero(free_end | ~has_free[comp])
    head = np.full(n_comp, m)
    np.minimum.at(head, comp[candidate], candidate)
    loop_heads = head[~has_free]
    partner[partner[m + loop_heads]] = -1
    partner[m + loop_heads] = -1
    keep = partner[ends_a] >= 0
    a, b = ends_a[keep] % m, ends_b[keep] % m
    root = m
    walk = coo_matrix(
        (np.ones(2 * a.size + n_comp), (np.r_[a, b, np.full(n_comp, root)], np.r_[b, a, head])),
        shape=(m + 1, m + 1),
    ).tocsr()
    order, pred = depth_first_order(walk, root, directed=True, return_predecessors=True)
    order = order[1:]
    before = pred[order]
    is_first = before == root
    start_partner = partner[order]
    # Walk a piece forwards when it is entered at its start point.
    forward = np.where(is_first, start_partner < 0, (start_partner >= 0) & (start_partner % m == before))
    entry = np.where(forward[:, None], p0[order], p1[order])
    leave = np.where(forward[:, None], p1[order], p0[order])
    count = 1 + is_first
    at = np.cumsum(count) - 1
    coords = np.empty((int(count.sum()), 2))
    coords[at] = leave
    coords[at[is_first] - 1] = entry[is_first]
    path = np.cumsum(is_first) - 1
    paths = shapely.linestrings(coords, indices=np.repeat(path, count))
    path_group = group[order[is_first]]
    by_group = np.argsort(path_group, kind="stable")
    return paths[by_group], path_group[by_group]


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
