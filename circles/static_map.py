"""A static PNG of one study result for reports (matplotlib, no base-map tiles, deterministic).

Drawn so that its cost does not grow with the number of homes faster than the analysis does:

- each layer is one matplotlib artist, never one per home or per polygon: service areas and
  building footprints are single compound paths per band, simplified to the picture's
  pixel size (half a pixel at most, which no one can see);
- homes too small to show their shape (footprints under :data:`VECTOR_MIN_PX` pixels across,
  or more point homes than :data:`MAX_HOME_MARKERS`) are binned into a grid of
  :data:`HOME_CELL_PX`-pixel cells and drawn as one image, each cell in the colour of the
  worst walking-time band among its homes (gaps on top, as in the vector drawing).
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from circles.coverage import band_labels
from circles.errors import OutputError
from circles.fonts import CJK_FONTS, cjk_font_families, has_cjk, warn_no_cjk_font
from circles.maps import (
    BAND_AREA_COLOURS,
    DETACHED_FACILITY_COLOUR,
    FACILITY_COLOUR,
    PROPOSED_SITE_COLOUR,
    STREET_COLOUR,
    band_colours,
)
from circles.static_homes import add_path, draw_homes, home_bounds

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from circles.pipeline import StudyResult

__all__ = ["ATTRIBUTION", "CJK_FONTS", "SIMPLIFY_PX", "build_figure", "render_png"]

ATTRIBUTION = "© OpenStreetMap contributors, ODbL"
#: Service areas and boundaries are simplified by this share of a pixel.
SIMPLIFY_PX = 0.5


def render_png(
    result: StudyResult,
    path: str | Path,
    *,
    dpi: int = 150,
    size_in: tuple[float, float] = (8.0, 8.0),
    proposed_sites: gpd.GeoDataFrame | None = None,
) -> Path:
    """Draw a study result as a PNG: service areas, homes by band, gaps in red, facilities.

    The picture is drawn in the study's local projected CRS (true distances, with a
    scale bar) and needs no internet: there are no base-map tiles. The same inputs give
    a byte-identical file.

    Parameters
    ----------
    result : StudyResult
    path : str or Path
        Output ``.png`` file.
    dpi : int
        Dots per inch; the image is ``size_in * dpi`` pixels.
    size_in : tuple of float
        Width and height in inches.
    proposed_sites : GeoDataFrame, optional
        Points with optional ``rank``, drawn as numbered pink squares.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OutputError
        If the file cannot be written.

    """
    path = Path(path)
    fig = build_figure(result, dpi=dpi, size_in=size_in, proposed_sites=proposed_sites)
    with warnings.catch_warnings():
        # Without a CJK font, Chinese names draw as boxes (said once, see circles.fonts);
        # matplotlib's per-glyph warnings would only clutter a planner's terminal.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        try:
            fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
        except OSError as exc:
            raise OutputError(
                f"{path}: cannot write the picture ({exc.strerror}); check free space and permissions"
            ) from None
    return path


def build_figure(
    result: StudyResult,
    *,
    dpi: int = 150,
    size_in: tuple[float, float] = (8.0, 8.0),
    proposed_sites: gpd.GeoDataFrame | None = None,
) -> Figure:
    """The matplotlib figure :func:`render_png` saves (parameters as there), not yet drawn."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    title = _title(result, size_in[0])
    # CJK fonts are large: they are looked up and loaded only when some text needs them.
    families: tuple[str, ...] = ()
    if has_cjk(title) or _names_have_cjk(result):
        families = cjk_font_families()
        if not families:
            warn_no_cjk_font()
    with rc_context({"font.family": ["DejaVu Sans", *families]}):
        fig = Figure(figsize=size_in, dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.02, 0.02, 0.96, 0.86))
        _draw(ax, result, _local_crs(result), proposed_sites)
        fig.suptitle(title, x=0.02, y=0.985, ha="left", va="top", fontsize=11)
        fig.text(0.98, 0.005, ATTRIBUTION, ha="right", va="bottom", fontsize=7, color="#555555")
    return fig


def _names_have_cjk(result: StudyResult) -> bool:
    sites = result.proposed_sites
    return sites is not None and "name" in sites and any(has_cjk(str(n)) for n in sites["name"])


def _local_crs(result: StudyResult):
    if result.context is not None:
        return result.context.network.crs
    return result.homes.estimate_utm_crs()


def _title(result: StudyResult, width_in: float) -> str:
    return "\n".join(textwrap.wrap(result.headline(), width=max(40, int(width_in * 10.5))))


def _extent(layers: list[gpd.GeoDataFrame | None], home_bounds: np.ndarray) -> np.ndarray:
    """Bounds (x0, y0, x1, y1) of everything drawn, in the local CRS."""
    boxes = [f.total_bounds for f in layers if f is not None and len(f)] + [home_bounds]
    boxes = np.array([b for b in boxes if np.isfinite(b).all()])
    if boxes.size == 0:
        return np.array([0.0, 0.0, 1.0, 1.0])
    return np.r_[boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)]


def _frame_view(ax: Axes, extent: np.ndarray) -> float:
    """Limits around ``extent`` (5% margins) at one scale in x and y; returns metres per pixel.

    The limits are widened to the axes' own width-to-height ratio, so the picture is to
    scale without matplotlib adjusting anything later.
    """
    x0, y0, x1, y1 = extent
    pad_x, pad_y = max((x1 - x0) * 0.05, 1.0), max((y1 - y0) * 0.05, 1.0)
    box = ax.get_window_extent()
    width_m, height_m = x1 - x0 + 2 * pad_x, y1 - y0 + 2 * pad_y
    pixel_m = max(width_m / box.width, height_m / box.height)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax.set_xlim(cx - box.width * pixel_m / 2, cx + box.width * pixel_m / 2)
    ax.set_ylim(cy - box.height * pixel_m / 2, cy + box.height * pixel_m / 2)
    return pixel_m


def _draw(ax: Axes, result: StudyResult, crs, proposed_sites: gpd.GeoDataFrame | None) -> None:
    settings = result.settings
    labels = band_labels(tuple(settings.bands_min or ()))
    boundary = result.boundary.to_crs(crs) if result.boundary is not None and len(result.boundary) else None
    areas = result.service_areas.to_crs(crs)
    facilities = result.facilities.to_crs(crs)
    sites = proposed_sites.to_crs(crs) if proposed_sites is not None and len(proposed_sites) else None
    extent = _extent([boundary, areas, facilities, sites], home_bounds(result.homes, crs))
    pixel_m = _frame_view(ax, extent)
    tolerance_m = pixel_m * SIMPLIFY_PX
    handles: list = []
    if boundary is not None:
        _draw_boundary(ax, boundary, tolerance_m, handles)
    _draw_service_areas(ax, areas, tolerance_m, handles)
    _draw_streets(ax, result, crs, handles)
    handles += draw_homes(
        ax, result.homes, crs, labels, band_colours(labels, settings.threshold_min), pixel_m
    )
    _draw_facilities(ax, facilities, handles)
    if sites is not None:
        _draw_proposed_sites(ax, sites, handles)
    ax.set_axis_off()
    _scale_bar(ax)
    ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.9)


def _draw_boundary(ax: Axes, boundary: gpd.GeoDataFrame, tolerance_m: float, handles: list) -> None:
    from matplotlib.lines import Line2D

    lines = shapely.simplify(boundary.boundary.values, tolerance_m, preserve_topology=False)
    add_path(ax, lines, closed=False, edgecolor="#333333", linewidth=1.2, linestyle="--", zorder=2.5)
    handles.append(Line2D([], [], color="#333333", linestyle="--", label="study area"))


def _draw_streets(ax: Axes, result: StudyResult, crs, handles: list) -> None:
    """The walk network as one thin grey path over the service areas, under the homes."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    if result.context is None or result.context.network.crs != crs:
        return
    net = result.context.network
    segments = np.stack([net.node_xy[net.edge_u], net.node_xy[net.edge_v]], axis=1)
    style = {"colors": STREET_COLOUR, "linewidths": 0.35, "alpha": 0.8, "zorder": 1.5}
    ax.add_collection(LineCollection(segments, **style), autolim=False)  # the view is already framed
    handles.append(Line2D([], [], color=STREET_COLOUR, linewidth=0.8, label="street"))


def _draw_service_areas(ax: Axes, areas: gpd.GeoDataFrame, tolerance_m: float, handles: list) -> None:
    """Largest band first, each one path simplified to the pixel size, lighter as bands grow."""
    from matplotlib.patches import Patch

    areas = areas.sort_values("band_min", ascending=False).reset_index(drop=True)
    simplified = shapely.simplify(areas.geometry.values, tolerance_m, preserve_topology=False)
    for i, geom in enumerate(simplified):
        colour = BAND_AREA_COLOURS[min(len(areas) - 1 - i, len(BAND_AREA_COLOURS) - 1)]
        if geom is not None and not geom.is_empty:
            style = {"facecolor": colour, "edgecolor": colour, "alpha": 0.25, "linewidth": 0.6}
            add_path(ax, np.array([geom], dtype=object), zorder=1.0 + i / 100, **style)
    for i, band in enumerate(sorted(areas["band_min"])):
        colour = BAND_AREA_COLOURS[min(i, len(BAND_AREA_COLOURS) - 1)]
        handles.append(Patch(facecolor=colour, alpha=0.35, edgecolor=colour, label=f"within {band:g} min"))


def _dot(colour: str, label: str, *, marker: str = "o"):
    from matplotlib.lines import Line2D

    style = {"marker": marker, "linestyle": "", "markersize": 8, "markeredgecolor": "white"}
    return Line2D([], [], markerfacecolor=colour, label=label, **style)


def _draw_facilities(ax: Axes, fac: gpd.GeoDataFrame, handles: list) -> None:
    geoms = fac.geometry.values
    pts = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    attached = fac["attached"].to_numpy(dtype=bool)
    style = {"s": 70, "zorder": 3.0}
    ax.scatter(x[attached], y[attached], c=FACILITY_COLOUR, edgecolors="white", linewidths=1.5, **style)
    handles.append(_dot(FACILITY_COLOUR, "facility"))
    if (~attached).any():
        ax.scatter(x[~attached], y[~attached], c=DETACHED_FACILITY_COLOUR, edgecolors="#525252", **style)
        handles.append(_dot(DETACHED_FACILITY_COLOUR, "facility not on the walk network"))


def _draw_proposed_sites(ax: Axes, sites: gpd.GeoDataFrame, handles: list) -> None:
    sites = sites.reset_index(drop=True)
    x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    ax.scatter(x, y, s=160, marker="s", c=PROPOSED_SITE_COLOUR, edgecolors="white", zorder=3.1)
    ranks = sites["rank"] if "rank" in sites else range(1, len(sites) + 1)
    for xi, yi, rank in zip(x, y, ranks, strict=True):
        style = {"fontsize": 7, "color": "white", "fontweight": "bold", "zorder": 3.2}
        ax.text(xi, yi, f"{rank}", ha="center", va="center", **style)
    handles.append(_dot(PROPOSED_SITE_COLOUR, "proposed site", marker="s"))


def _scale_bar(ax: Axes) -> None:
    """A round-length scale bar (local CRS units are metres) in the lower left."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    x0, x1 = ax.get_xlim()
    target = (x1 - x0) / 5
    steps = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
    length_m = max((s for s in steps if s <= target), default=steps[0])
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    ax.add_artist(
        AnchoredSizeBar(ax.transData, length_m, label, "lower left", pad=0.5, frameon=False, size_vertical=0)
    )
