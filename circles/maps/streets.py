"""The walk network on the map: all streets as context, and the reached street pieces by walking time.

The reached pieces are exact (:func:`circles.areas.reached_pieces`): for every band the
intervals of street within that many minutes of the nearest facility, so the drawn
isochrone is the network's own, not a polygon. For the page, pieces of one band that meet
end to end are merged into longer lines and simplified (Douglas-Peucker, by
:data:`SIMPLIFY_M`), which keeps a district's page light.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from circles.analysis import cost_per_min
from circles.area_paths import _piece_paths
from circles.areas import reached_pieces
from circles.crs import WGS84
from circles.network import WalkNetwork
from circles.result import StudyResult

#: Simplification tolerance of drawn streets, metres (a pixel at zoom 17 is about 1 m).
SIMPLIFY_M = 1.0


def _paths(
    network: WalkNetwork, pieces: tuple, group: NDArray[np.int64], simplify_m: float
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Pieces joined end to end into long paths (through junctions too), simplified; with their group."""
    edge, start, end = pieces
    if edge.size == 0:
        return np.zeros(0, dtype=object), np.zeros(0, np.int64)
    # circles.areas joins pieces this way for the service areas; its helper is reused as it is.
    paths, path_group = _piece_paths(network, edge, start, end, group)
    return shapely.simplify(paths, simplify_m, preserve_topology=False), path_group


def _to_wgs84(geoms: NDArray[np.object_], crs: pyproj.CRS) -> NDArray[np.object_]:
    transformer = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)

    def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, project)


def street_lines(network: WalkNetwork, simplify_m: float = SIMPLIFY_M) -> NDArray[np.object_]:
    """Every street of the network as merged, simplified WGS-84 lines.

    Parameters
    ----------
    network : WalkNetwork
    simplify_m : float
        Douglas-Peucker tolerance in metres.

    Returns
    -------
    ndarray of shapely LineString
    """
    edge = np.arange(network.n_edges, dtype=np.int64)
    pieces = (edge, np.zeros(edge.size), network.edge_length_m.astype(float))
    paths, _ = _paths(network, pieces, np.zeros(edge.size, np.int64), simplify_m)
    return _to_wgs84(paths, network.crs)


def _ring(outer: tuple, inner: tuple) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Intervals of ``outer`` not in ``inner`` (both disjoint and sorted; ``inner`` inside ``outer``)."""
    (oe, os_, oen), (ie, is_, ien) = outer, inner
    edge = np.concatenate([oe, oe, ie, ie])
    pos = np.concatenate([os_, oen, is_, ien])
    step_out = np.concatenate([np.ones(oe.size), -np.ones(oe.size), np.zeros(2 * ie.size)])
    step_in = np.concatenate([np.zeros(2 * oe.size), np.ones(ie.size), -np.ones(ie.size)])
    order = np.lexsort((pos, edge))
    edge, pos = edge[order], pos[order]
    depth_out, depth_in = np.cumsum(step_out[order]), np.cumsum(step_in[order])
    seg = (edge[:-1] == edge[1:]) & (depth_out[:-1] > 0.5) & (depth_in[:-1] < 0.5) & (pos[1:] > pos[:-1])
    i = np.flatnonzero(seg)
    return edge[i], pos[i], pos[i + 1]


def reached_street_bands(
    result: StudyResult, simplify_m: float = SIMPLIFY_M
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """The street pieces reached in each band (0-5, 5-10, ... minutes), as WGS-84 lines.

    Parameters
    ----------
    result : StudyResult
        With its :class:`~circles.result.AnalysisContext` (network, facilities, search).
    simplify_m : float
        Douglas-Peucker tolerance in metres.

    Returns
    -------
    (ndarray of LineString, ndarray of int64)
        The lines, and the index of each line's band in ``settings.bands_min``: band
        ``i`` holds the pieces reached after band ``i - 1``'s minutes and within its own.
    """
    ctx = result.context
    per_min = cost_per_min(ctx.network, result.settings)
    rings, previous = [], (np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    for band in result.settings.bands_min or ():
        pieces = reached_pieces(ctx.network, ctx.nodes, ctx.facilities, band * per_min)
        rings.append(_ring(pieces, previous))
        previous = pieces
    group = np.concatenate([np.full(r[0].size, i, np.int64) for i, r in enumerate(rings)])
    joined = tuple(np.concatenate([r[k] for r in rings]) for k in range(3))
    paths, path_group = _paths(ctx.network, joined, group, simplify_m)
    return _to_wgs84(paths, ctx.network.crs), path_group
