"""A static PNG of one study result for reports (matplotlib, no base-map tiles, deterministic)."""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np

from circles.coverage import UNREACHABLE, band_labels
from circles.errors import OutputError
from circles.maps import (
    BAND_AREA_COLOURS,
    DETACHED_FACILITY_COLOUR,
    FACILITY_COLOUR,
    PROPOSED_SITE_COLOUR,
    band_colours,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from circles.pipeline import StudyResult

#: Fonts tried after DejaVu Sans so Chinese names render where such a font is installed.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)
ATTRIBUTION = "© OpenStreetMap contributors, ODbL"


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
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    crs = _local_crs(result)
    # Without a CJK font, Chinese names draw as boxes; matplotlib's per-glyph warnings would
    # only clutter a planner's terminal (the README says which fonts to install).
    with rc_context({"font.family": ["DejaVu Sans", *_installed(CJK_FONTS)]}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig = Figure(figsize=size_in, dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.02, 0.02, 0.96, 0.86))
        _draw(ax, result, crs, proposed_sites)
        fig.suptitle(_title(result, size_in[0]), x=0.02, y=0.985, ha="left", va="top", fontsize=11)
        fig.text(0.98, 0.005, ATTRIBUTION, ha="right", va="bottom", fontsize=7, color="#555555")
        try:
            fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
        except OSError as exc:
            raise OutputError(
                f"{path}: cannot write the picture ({exc.strerror}); check free space and permissions"
            ) from None
    return path


def _installed(names: tuple[str, ...]) -> list[str]:
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    return [n for n in names if n in have]


def _local_crs(result: StudyResult):
    if result.context is not None:
        return result.context.network.crs
    return result.homes.estimate_utm_crs()


def _title(result: StudyResult, width_in: float) -> str:
    return "\n".join(textwrap.wrap(result.headline(), width=max(40, int(width_in * 12))))


def _draw(ax: Axes, result: StudyResult, crs, proposed_sites: gpd.GeoDataFrame | None) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    settings = result.settings
    labels = band_labels(tuple(settings.bands_min or ()))
    colours = band_colours(labels, settings.threshold_min)
    handles = []

    if result.boundary is not None and len(result.boundary):
        result.boundary.to_crs(crs).boundary.plot(ax=ax, color="#333333", linewidth=1.2, linestyle="--")
        handles.append(Line2D([], [], color="#333333", linestyle="--", label="study area"))

    areas = result.service_areas.to_crs(crs).sort_values("band_min", ascending=False).reset_index(drop=True)
    for i, row in areas.iterrows():
        colour = BAND_AREA_COLOURS[min(len(areas) - 1 - i, len(BAND_AREA_COLOURS) - 1)]
        if row.geometry is not None and not row.geometry.is_empty:
            gpd.GeoSeries([row.geometry], crs=crs).plot(
                ax=ax, color=colour, alpha=0.25, edgecolor=colour, linewidth=0.6
            )
    for i, band in enumerate(sorted(areas["band_min"])):
        colour = BAND_AREA_COLOURS[min(i, len(BAND_AREA_COLOURS) - 1)]
        handles.append(Patch(facecolor=colour, alpha=0.35, edgecolor=colour, label=f"within {band:g} min"))

    homes = result.homes.to_crs(crs)
    covered = homes["covered"].to_numpy(dtype=bool)
    for label in labels[:-1]:
        sel = covered & (homes["band"] == label).to_numpy()
        if sel.any():
            _plot_homes(ax, homes[sel], colours[label])
        handles.append(Patch(facecolor=colours[label], label=f"home, {label} min"))
    # The gaps last, on top; in the legend only when there are any.
    for label, text in ((labels[-1], f"home, {labels[-1]} min (gap)"), (UNREACHABLE, "home, unreachable")):
        sel = ~covered & (homes["band"] == label).to_numpy()
        if sel.any():
            _plot_homes(ax, homes[sel], colours[label])
            handles.append(Patch(facecolor=colours[label], label=text))

    fac = result.facilities.to_crs(crs)
    pts = np.where(fac.geom_type == "Point", fac.geometry.values, fac.geometry.representative_point().values)
    pts = gpd.GeoSeries(pts, crs=crs)
    attached = fac["attached"].to_numpy(dtype=bool)
    ax.scatter(pts.x[attached], pts.y[attached], s=70, c=FACILITY_COLOUR, edgecolors="white", linewidths=1.5)
    handles.append(_dot(FACILITY_COLOUR, "facility"))
    if (~attached).any():
        ax.scatter(pts.x[~attached], pts.y[~attached], s=70, c=DETACHED_FACILITY_COLOUR, edgecolors="#525252")
        handles.append(_dot(DETACHED_FACILITY_COLOUR, "facility not on the walk network"))

    if proposed_sites is not None and len(proposed_sites):
        sites = proposed_sites.to_crs(crs).reset_index(drop=True)
        x, y = sites.geometry.x, sites.geometry.y
        ax.scatter(x, y, s=160, marker="s", c=PROPOSED_SITE_COLOUR, edgecolors="white")
        ranks = sites["rank"] if "rank" in sites else range(1, len(sites) + 1)
        for xi, yi, rank in zip(x, y, ranks, strict=True):
            ax.text(xi, yi, f"{rank}", ha="center", va="center", fontsize=7, color="white", fontweight="bold")
        handles.append(_dot(PROPOSED_SITE_COLOUR, "proposed site", marker="s"))

    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()
    _scale_bar(ax)
    ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.9)


def _plot_homes(ax: Axes, homes: gpd.GeoDataFrame, colour: str) -> None:
    """Homes as footprints with a hairline of the same colour, so small ones stay visible."""
    polys = homes[homes.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys):
        polys.plot(ax=ax, color=colour, edgecolor=colour, linewidth=0.8)
    points = homes[~homes.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(points):
        pts = points.geometry.representative_point()
        ax.scatter(pts.x, pts.y, s=14, c=colour, linewidths=0)


def _dot(colour: str, label: str, *, marker: str = "o"):
    from matplotlib.lines import Line2D

    style = {"marker": marker, "linestyle": "", "markersize": 8, "markeredgecolor": "white"}
    return Line2D([], [], markerfacecolor=colour, label=label, **style)


def _scale_bar(ax: Axes) -> None:
    """A round-length scale bar (local CRS units are metres) in the lower left."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    ax.apply_aspect()
    x0, x1 = ax.get_xlim()
    target = (x1 - x0) / 5
    steps = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
    length_m = max((s for s in steps if s <= target), default=steps[0])
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    ax.add_artist(
        AnchoredSizeBar(ax.transData, length_m, label, "lower left", pad=0.5, frameon=False, size_vertical=0)
    )
