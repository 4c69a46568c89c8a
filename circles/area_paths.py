"""Reached pieces as geometry: straight lines, and long paths joined end to end through junctions."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, depth_first_order

from circles.network import WalkNetwork


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
