"""Homes in the static picture, by walking-time band, in a handful of artists whatever their number.

Each home gets a rank: the covered bands in order, then the gap band (beyond the threshold),
then unreachable; a higher rank is drawn on top. Footprints large enough to show their shape
are drawn as one compound path per rank, point homes as one scatter per rank while there are
few; all other homes are binned into square cells of the picture and drawn as one image whose
cells take the colour of the highest rank among their homes, so a gap is never hidden by a
covered neighbour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from circles.coverage import UNREACHABLE

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: Footprints at least this many pixels across are drawn as their shapes; smaller ones as cells.
VECTOR_MIN_PX = 3.0
#: Side of the cells small homes are binned into, in pixels.
HOME_CELL_PX = 2
#: Up to this many point homes are drawn as markers; more are binned into cells.
MAX_HOME_MARKERS = 20_000
#: Up to this many footprints are drawn as shapes; more are binned into cells.
MAX_HOME_SHAPES = 200_000
#: Footprints are simplified by this share of a pixel.
SIMPLIFY_PX = 0.5


def compound_path(geoms: np.ndarray, *, closed: bool = True):
    """One matplotlib Path of every ring (or line, ``closed=False``) of the (multi)polygons in ``geoms``.

    Exteriors run anticlockwise and holes clockwise, so holes stay open under either fill
    rule; the path is drawn by one artist however many polygons there are.
    """
    from matplotlib.path import Path as MplPath

    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    parts = parts[~shapely.is_empty(parts)]
    if closed:
        parts = shapely.orient_polygons(parts, exterior_cw=False)
        rings = shapely.get_rings(parts)
    else:
        rings = parts
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    if coords.shape[0] == 0:
        return None
    codes = np.full(coords.shape[0], MplPath.LINETO, dtype=MplPath.code_type)
    first = np.r_[True, ring[1:] != ring[:-1]]
    codes[first] = MplPath.MOVETO
    if closed:
        codes[np.r_[first[1:], True]] = MplPath.CLOSEPOLY
    return MplPath(coords, codes)


def add_path(ax: Axes, geoms: np.ndarray, *, closed: bool = True, **style) -> None:
    """Add ``geoms`` (polygons, or lines with ``closed=False``) to ``ax`` as one ``PathPatch``."""
    from matplotlib.patches import PathPatch

    path = compound_path(geoms, closed=closed)
    if path is not None:
        ax.add_patch(PathPatch(path, fill=closed, **style))


def home_bounds(homes: gpd.GeoDataFrame, crs) -> NDArray[np.float64]:
    """Bounds (x0, y0, x1, y1) of the homes in ``crs``, from their own bounds' corners."""
    if len(homes) == 0:
        return np.full(4, np.nan)
    x0, y0, x1, y1 = homes.total_bounds
    to_local = pyproj.Transformer.from_crs(homes.crs, crs, always_xy=True)
    xs, ys = to_local.transform([x0, x1, x0, x1, (x0 + x1) / 2], [y0, y0, y1, y1, y0])
    return np.array([min(xs), min(ys), max(xs), max(ys)])


def home_ranks(homes: gpd.GeoDataFrame, labels: list[str]) -> NDArray[np.int64]:
    """Drawing rank per home: covered bands 0.., gap ``len(labels) - 1``, unreachable next, -1 none."""
    band = homes["band"].to_numpy(dtype=object)
    covered = homes["covered"].to_numpy(dtype=bool)
    rank = np.full(len(homes), -1, dtype=np.int64)
    for i, label in enumerate(labels[:-1]):
        rank[covered & (band == label)] = i
    rank[~covered & (band == labels[-1])] = len(labels) - 1
    rank[~covered & (band == UNREACHABLE)] = len(labels)
    return rank


def _local_centres_and_sizes(homes: gpd.GeoDataFrame, crs) -> tuple[NDArray, NDArray, NDArray]:
    """Centre (x, y) in ``crs`` and footprint size (metres across, 0 for points) per home."""
    geoms = homes.geometry.values
    to_local = pyproj.Transformer.from_crs(homes.crs, crs, always_xy=True)
    centre = shapely.centroid(geoms)
    x, y = to_local.transform(shapely.get_x(centre), shapely.get_y(centre))
    b = shapely.bounds(geoms)
    bx0, by0 = to_local.transform(b[:, 0], b[:, 1])
    bx1, by1 = to_local.transform(b[:, 2], b[:, 3])
    is_area = np.isin(shapely.get_type_id(geoms), (3, 6))
    size_m = np.where(is_area, np.sqrt(np.abs((bx1 - bx0) * (by1 - by0))), 0.0)
    return np.asarray(x), np.asarray(y), size_m


def _rgba(colour: str) -> NDArray[np.uint8]:
    from matplotlib.colors import to_rgba

    return np.round(np.array(to_rgba(colour)) * 255).astype(np.uint8)


def _draw_cells(ax: Axes, x, y, rank, colours: list[str], cell_px: int, zorder: float) -> None:
    """Bin homes into cells of ``cell_px`` pixels over the axes; one image, highest rank per cell."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    box = ax.get_window_extent()
    nx = max(1, int(np.ceil(box.width / cell_px)))
    ny = max(1, int(np.ceil(box.height / cell_px)))
    col = np.floor((x - x0) / (x1 - x0) * nx).astype(np.int64)
    row = np.floor((y - y0) / (y1 - y0) * ny).astype(np.int64)
    inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
    best = np.full(nx * ny, -1, dtype=np.int64)
    np.maximum.at(best, row[inside] * nx + col[inside], rank[inside])
    palette = np.vstack([np.zeros((1, 4), np.uint8), *[_rgba(c)[None] for c in colours]])
    image = palette[best + 1].reshape(ny, nx, 4)
    style = {"origin": "lower", "interpolation": "nearest", "aspect": "auto", "zorder": zorder}
    ax.imshow(image, extent=(x0, x1, y0, y1), **style)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def _draw_shapes(ax: Axes, geoms, rank, colours: list[str], tolerance_m: float, zorder: float) -> None:
    """Footprints: one compound path per rank, simplified to the pixel size."""
    geoms = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    for r in np.unique(rank):
        colour = colours[r]
        style = {"facecolor": colour, "edgecolor": colour, "linewidth": 0.8, "zorder": zorder + r / 100}
        add_path(ax, geoms[rank == r], **style)


def _draw_markers(ax: Axes, x, y, rank, colours: list[str], zorder: float) -> None:
    for r in np.unique(rank):
        sel = rank == r
        ax.scatter(x[sel], y[sel], s=14, c=colours[r], linewidths=0, zorder=zorder + r / 100)


def draw_homes(
    ax: Axes,
    homes: gpd.GeoDataFrame,
    crs,
    labels: list[str],
    colours: dict[str, str],
    pixel_m: float,
) -> list:
    """Draw the homes on axes whose limits are set; returns their legend handles.

    Parameters
    ----------
    ax : Axes
        Axes in ``crs`` with final limits (its pixel size is ``pixel_m``).
    homes : GeoDataFrame
        ``StudyResult.homes`` (any CRS), with ``band`` and ``covered``.
    crs
        The local projected CRS of the axes.
    labels : list of str
        Band labels; the last one is beyond the threshold.
    colours : dict
        Colour per band label and for ``"unreachable"``.
    pixel_m : float
        Metres per pixel of the axes.

    Returns
    -------
    list
        Legend handles: every covered band, then gaps and unreachable homes when there are any.
    """
    rank_colours = [colours[label] for label in labels] + [colours[UNREACHABLE]]
    rank = home_ranks(homes, labels)
    drawn = rank >= 0
    x, y, size_m = _local_centres_and_sizes(homes, crs)
    shape = drawn & (size_m >= VECTOR_MIN_PX * pixel_m)
    if shape.sum() > MAX_HOME_SHAPES:
        shape[:] = False
    marker = drawn & (size_m == 0)
    if marker.sum() > MAX_HOME_MARKERS:
        marker[:] = False
    cells = drawn & ~shape & ~marker
    if cells.any():
        _draw_cells(ax, x[cells], y[cells], rank[cells], rank_colours, HOME_CELL_PX, zorder=2.0)
    if shape.any():
        local = homes.geometry.iloc[np.flatnonzero(shape)].to_crs(crs).values
        _draw_shapes(ax, local, rank[shape], rank_colours, pixel_m * SIMPLIFY_PX, zorder=2.1)
    if marker.any():
        _draw_markers(ax, x[marker], y[marker], rank[marker], rank_colours, zorder=2.2)
    return _legend(labels, colours, rank)


def _legend(labels: list[str], colours: dict[str, str], rank: NDArray[np.int64]) -> list:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colours[label], label=f"home, {label} min") for label in labels[:-1]]
    if (rank == len(labels) - 1).any():
        handles.append(Patch(facecolor=colours[labels[-1]], label=f"home, {labels[-1]} min (gap)"))
    if (rank == len(labels)).any():
        handles.append(Patch(facecolor=colours[UNREACHABLE], label="home, unreachable"))
    return handles
