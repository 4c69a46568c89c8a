"""The exactly reached pieces of a walk network's edges within a walking distance.

For a limit of ``limit`` metres, an edge ``(u, v)`` of length ``L`` is reached from
``u`` for ``clip(limit - d[u], 0, L)`` metres and from ``v`` for
``clip(limit - d[v], 0, L)``; a facility on the edge reaches ``limit - leg`` metres
either way along it. Intervals of one edge are merged exactly (no arithmetic on the
positions): edges without a facility on them (nearly all) by comparing their two end
pieces, the few with facilities by a sweep over their intervals' ends.

On a network costed in seconds (cycling, driving) the limit and costs are seconds, and
a reach is ``(limit - cost) / rate`` metres at the edge's cost per metre in the search
graph's direction (``nodes.graph``); a forbidden direction (``inf``) reaches nothing.
Walking costs 1 per metre, so its pieces are bit-for-bit the metre arithmetic above.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from circles.engine import NodeCosts, Snapped
from circles.errors import InputError
from circles.network import WalkNetwork

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
    """Metres of each edge reached from its ``u`` end and from its ``v`` end: cost left / cost per metre."""
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


def _two_end_pieces(
    edge: NDArray[np.int64],
    length: NDArray[np.float64],
    a_end: NDArray[np.float64],
    b_start: NDArray[np.float64],
    owner_a: NDArray[np.int64],
    owner_b: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Pieces ``[0, a_end]`` and ``[b_start, length]`` of edges with no facility on them.

    The same rows as :func:`_union_intervals` over the two intervals keyed by (edge,
    owner), without sorting: pieces of positive length with an owner (>= 0), the two
    merged into ``[0, length]`` where they meet or overlap with one owner, in order of
    (edge, owner, start). ``edge`` must be ascending.
    """
    has_a = (a_end > 0) & (owner_a >= 0)
    has_b = (length > b_start) & (owner_b >= 0)
    merged = has_a & has_b & (b_start <= a_end) & (owner_a == owner_b)
    has_b &= ~merged
    rank_a = (has_a & has_b & (owner_b < owner_a)).astype(np.int64)
    at_a = 2 * np.arange(edge.size) + rank_a
    at_b = 2 * np.arange(edge.size) + 1 - rank_a
    start, end = np.empty(2 * edge.size), np.empty(2 * edge.size)
    owner, valid = np.empty(2 * edge.size, np.int64), np.zeros(2 * edge.size, bool)
    start[at_a], end[at_a], owner[at_a], valid[at_a] = 0.0, np.where(merged, length, a_end), owner_a, has_a
    start[at_b], end[at_b], owner[at_b], valid[at_b] = b_start, length, owner_b, has_b
    return np.repeat(edge, 2)[valid], start[valid], end[valid], owner[valid]


def _merge_by_edge(*parts: tuple[NDArray, ...]) -> tuple[NDArray, ...]:
    """Concatenate row sets that each hold whole edges in order, ordered by edge (stable)."""
    joined = [np.concatenate(columns) for columns in zip(*parts, strict=True)]
    order = np.argsort(joined[0], kind="stable")
    return tuple(column[order] for column in joined)


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
    # Edges without a facility on them: at most a piece from each end (no sorting needed).
    plain = np.ones(network.n_edges, bool)
    plain[f_edge] = False
    e = np.flatnonzero(plain & ((from_u > 0) | (from_v > 0)))
    zero = np.zeros(e.size, np.int64)
    pe, ps, pt, _ = _two_end_pieces(e, length[e], from_u[e], length[e] - from_v[e], zero, zero)
    # Edges with facilities on them: every interval, merged by a sweep.
    fe = np.unique(f_edge)
    edges = np.concatenate([fe, fe, f_edge])
    fe_pieces = _union_intervals(
        edges,
        np.concatenate([np.zeros(fe.size), length[fe] - from_v[fe], np.clip(f_along - behind, 0.0, None)]),
        np.concatenate([from_u[fe], length[fe], np.minimum(f_along + ahead, length[f_edge])]),
    )
    return _merge_by_edge((pe, ps, pt), fe_pieces)


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
    # Where the trips from both ends meet (du + x a = dv + (L - x) b; walking: a = b = 1); a
    # forbidden direction reaches nothing, so the other end owns the edge. inf - inf cannot
    # occur since the edge is reached.
    with np.errstate(invalid="ignore"):
        meet = np.where(np.isinf(b), le, np.where(np.isinf(a), 0.0, (dv + le * b - du) / (a + b)))
        meet = np.clip(np.nan_to_num(meet, nan=0.0), 0.0, le)
    plain_pieces = _two_end_pieces(
        e,
        le,
        np.minimum(from_u[e], meet),
        np.maximum(le - from_v[e], meet),
        nodes.facility[network.edge_u[e]],
        nodes.facility[network.edge_v[e]],
    )
    edge: list[NDArray] = [np.empty(0, np.int64)]
    start: list[NDArray] = [np.empty(0)]
    end: list[NDArray] = [np.empty(0)]
    owner: list[NDArray] = [np.empty(0, np.int64)]
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
    return _merge_by_edge(plain_pieces, (key // (n_fac + 1), s, t, key % (n_fac + 1)))


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
    ``cost + (position - x) b`` behind it (``rates = (a, b)``, cost per metre towards
    ``v`` and towards ``u``; 1 and 1 when walking); the winner changes only at pairwise
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
