"""The static PNG at city scale: a handful of artists whatever the number of homes, every layer shown.

Results are drawn from hand-made layers whose pixels can be predicted: gaps in the west half,
covered homes by band in the east half, nested service areas, facilities. Nothing is timed.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import subprocess
import sys
import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from circles.config import TravelSettings
from circles.coverage import summarize
from circles.maps import GAP_COLOUR, band_colours
from circles.result import FacilityCounts, PopulationInfo, StudyResult, Summary
from circles.static_homes import MAX_HOME_MARKERS, compound_path
from circles.static_map import build_figure, render_png

UTM = "EPSG:32650"
X0, Y0 = 500_000.0, 2_500_000.0
BANDS = (5.0, 10.0, 15.0)
COLOURS = band_colours(["0-5", "5-10", "10-15", ">15"])


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _result(
    homes_local: gpd.GeoSeries, *, name: str = "SYNTHETIC test area", areas_local=None
) -> StudyResult:
    """A result over the given homes: west of the middle gaps, east thirds 0-5, 5-10, 10-15 min."""
    x = shapely.get_x(shapely.centroid(homes_local.values))
    x0, x1 = x.min(), x.max() + 1e-9
    third = np.clip(((x - (x0 + x1) / 2) / ((x1 - x0) / 2) * 3).astype(int), 0, 2)
    west = x < (x0 + x1) / 2
    band = np.where(west, ">15", np.array(["0-5", "5-10", "10-15"])[third])
    minutes = np.where(west, 20.0, (third + 0.5) * 5)
    homes = gpd.GeoDataFrame(
        {"band": band, "covered": ~west, "walk_time_min": minutes, "population": 1.0},
        geometry=homes_local,
        crs=UTM,
    ).to_crs(4326)
    b = homes_local.total_bounds
    fac_local = gpd.GeoSeries(
        [shapely.Point(b[2] - 50, (b[1] + b[3]) / 2), shapely.Point(b[0] + 50, b[1] + 50)], crs=UTM
    )
    facilities = gpd.GeoDataFrame({"attached": [True, False]}, geometry=fac_local).to_crs(4326)
    if areas_local is None:
        middle = (b[0] + b[2]) / 2
        areas_local = [
            shapely.box(middle + (2 - k) * (b[2] - middle) / 3, b[1], b[2], b[3]) for k in range(3)
        ]
    areas = gpd.GeoDataFrame({"band_min": list(BANDS)}, geometry=areas_local, crs=UTM).to_crs(4326)
    settings = TravelSettings(bands_min=BANDS)
    summary = Summary(
        name=name,
        coverage=summarize(minutes, np.ones(len(homes)), settings),
        facilities=FacilityCounts(inside=1, margin_serving=0, unattached=1),
        residents_per_facility=float(len(homes)),
        population=PopulationInfo("counted: one resident per home", estimated=False),
        settings=settings,
        network={"crs": UTM},
    )
    return StudyResult(name, settings, homes, facilities, areas, summary)


def _grid_homes(side: int, spacing_m: float, footprint_m: float | None) -> gpd.GeoSeries:
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x, y = X0 + j.ravel() * spacing_m, Y0 + i.ravel() * spacing_m
    if footprint_m is None:
        return gpd.GeoSeries(shapely.points(x, y), crs=UTM)
    h = footprint_m / 2
    return gpd.GeoSeries(shapely.box(x - h, y - h, x + h, y + h), crs=UTM)


def _drawn(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3]


def _count(pixels: np.ndarray, colour: str) -> int:
    return int((pixels == _rgb(colour)).all(axis=-1).sum())


def _columns(pixels: np.ndarray, colour: str) -> np.ndarray:
    return np.nonzero((pixels == _rgb(colour)).all(axis=-1))[1]


def test_ninety_thousand_homes_are_one_image_and_every_layer_shows():
    result = _result(_grid_homes(300, 20.0, 12.0))  # 90,000 footprints of 12 m in 6 km: ~2 px each
    fig = build_figure(result, dpi=100)
    ax = fig.axes[0]
    assert len(ax.images) == 1  # the homes
    assert len(ax.patches) == 3  # one path per service-area band
    assert len(ax.collections) == 2  # facilities on and off the network
    pixels = _drawn(fig)
    for label in ("0-5", "5-10", "10-15"):
        assert _count(pixels, COLOURS[label]) > 1000, label
    # Gaps (west) are drawn in red and lie west of every covered band.
    gaps, near = _columns(pixels, GAP_COLOUR), _columns(pixels, COLOURS["0-5"])
    assert gaps.size > 50_000 and np.median(gaps) < np.median(near)
    assert np.median(_columns(pixels, COLOURS["0-5"])) < np.median(_columns(pixels, COLOURS["10-15"]))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "within 5 min",
        "within 10 min",
        "within 15 min",
        "home, 0-5 min",
        "home, 5-10 min",
        "home, 10-15 min",
        "home, >15 min (gap)",
        "facility",
        "facility not on the walk network",
    ]
    assert fig.get_suptitle().startswith("SYNTHETIC test area: 50% of 90,000 residents")


def test_a_gap_is_never_hidden_by_a_covered_home_in_the_same_cell():
    homes = _grid_homes(200, 20.0, 10.0)
    result = _result(homes)
    # Every home is also drawn covered 0-5 min at the same spot, listed first: the gap must win.
    covered = result.homes.assign(band="0-5", covered=True)
    both = dataclasses.replace(result, homes=gpd.GeoDataFrame(pd.concat([covered, result.homes]), crs=4326))
    west_red = _columns(_drawn(build_figure(both, dpi=100)), GAP_COLOUR).size
    assert west_red == _columns(_drawn(build_figure(result, dpi=100)), GAP_COLOUR).size > 0


def test_large_footprints_are_drawn_as_their_shapes_with_courtyards_open():
    side, spacing = 4, 150.0
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    cx, cy = X0 + j.ravel() * spacing, Y0 + i.ravel() * spacing
    outer = shapely.box(cx - 50, cy - 50, cx + 50, cy + 50)
    courtyards = shapely.polygons(shapely.get_exterior_ring(shapely.box(cx - 20, cy - 20, cx + 20, cy + 20)))
    buildings = shapely.difference(outer, courtyards)
    result = _result(gpd.GeoSeries(buildings, crs=UTM), areas_local=[shapely.Polygon()] * 3)
    fig = build_figure(result, dpi=100)
    ax = fig.axes[0]
    assert not ax.images  # 100 m buildings in a 600 m picture: shapes, not cells
    pixels = _drawn(fig)
    height = pixels.shape[0]
    legend = ax.get_legend().get_window_extent()
    checked = 0
    for k, (x, y) in enumerate(zip(cx, cy, strict=True)):
        band = result.homes["band"].iloc[k]
        colour = _rgb(GAP_COLOUR if band == ">15" else COLOURS[band])
        for dx, open_ in ((0.0, True), (35.0, False)):  # the courtyard, then the building's ring
            px, py = ax.transData.transform((x + dx, y))
            if legend.contains(px, py):
                continue
            value = tuple(pixels[round(height - py), round(px)])
            assert (value == colour) != open_, (k, dx, value)
            checked += 1
    assert checked > 20


@pytest.mark.parametrize(("count_side", "markers"), [(20, True), (180, False)])
def test_point_homes_are_markers_while_few_and_cells_when_many(count_side, markers):
    assert (count_side**2 <= MAX_HOME_MARKERS) == markers
    result = _result(_grid_homes(count_side, 30.0, None))
    ax = build_figure(result, dpi=80).axes[0]
    assert bool(ax.images) != markers
    # Facilities (2 scatters) plus, for markers, one scatter per band drawn (4).
    assert len(ax.collections) == 2 + (4 if markers else 0)


def test_service_areas_are_simplified_to_half_a_pixel():
    homes = _grid_homes(50, 40.0, 5.0)
    centre = shapely.Point(X0 + 1000, Y0 + 1000)
    discs = [shapely.buffer(centre, r, quad_segs=512) for r in (300.0, 600.0, 900.0)]
    result = _result(homes, areas_local=discs)
    fig = build_figure(result, dpi=100)
    ax = fig.axes[0]
    (x0, x1), width_px = ax.get_xlim(), ax.get_window_extent().width
    half_pixel_m = (x1 - x0) / width_px / 2
    drawn = sorted(ax.patches, key=lambda p: -len(p.get_path().vertices))
    for patch, disc in zip(drawn, sorted(discs, key=lambda d: -d.area), strict=True):
        vertices = patch.get_path().vertices
        assert len(vertices) < len(shapely.get_coordinates(disc)) / 4
        ring = shapely.Polygon(vertices[:-1])
        assert shapely.hausdorff_distance(ring.exterior, disc.exterior) <= half_pixel_m * 1.01


def test_compound_path_keeps_holes_open_whatever_their_orientation():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch

    hole = [(3, 3), (3, 7), (7, 7), (7, 3)]
    for ring in (hole, hole[::-1]):
        for polygon in (shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [ring]),):
            for exterior_cw in (False, True):
                shape = shapely.orient_polygons(polygon, exterior_cw=exterior_cw)
                fig = Figure(figsize=(2, 2), dpi=50)
                FigureCanvasAgg(fig)
                ax = fig.add_axes((0, 0, 1, 1))
                ax.add_patch(PathPatch(compound_path(np.array([shape], dtype=object)), facecolor="black"))
                ax.set_xlim(0, 10)
                ax.set_ylim(0, 10)
                pixels = _drawn(fig)
                assert tuple(pixels[50, 50]) == (255, 255, 255)  # the hole (centre of the picture)
                assert tuple(pixels[10, 10]) == (0, 0, 0)  # the polygon


def test_big_picture_is_deterministic(tmp_path):
    result = _result(_grid_homes(200, 20.0, 12.0))
    a = render_png(result, tmp_path / "a.png", dpi=60).read_bytes()
    b = render_png(result, tmp_path / "b.png", dpi=60).read_bytes()
    assert a == b


# --- Chinese names when matplotlib's font cache predates the CJK font (issue 11, item 12) ------------

_STALE_CACHE = """
import matplotlib.font_manager as fm
from circles.fonts import CJK_FONTS
import os, matplotlib
known = fm.fontManager.ttflist
fm.fontManager.ttflist = [f for f in known if "CJK" not in f.name and f.name not in CJK_FONTS]
cache = os.path.join(matplotlib.get_cachedir(), f"fontlist-v{fm.FontManager.__version__}.json")
fm.json_dump(fm.fontManager, cache)
"""
_RENDER = """
import pickle, sys
import matplotlib.font_manager as fm
from circles.fonts import CJK_FONTS
print("known before:", any(f.name in CJK_FONTS for f in fm.fontManager.ttflist))
from circles.static_map import render_png
render_png(pickle.load(open(sys.argv[1], "rb")), sys.argv[2], dpi=60)
"""


def _python(code: str, config_dir, *args) -> str:
    env = os.environ | {"MPLCONFIGDIR": str(config_dir)}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_chinese_names_render_when_the_font_cache_is_stale(tmp_path):
    from circles.fonts import cjk_font_families

    if not cjk_font_families():
        pytest.skip("no CJK font is installed here (e.g. apt-get install fonts-noto-cjk)")
    result = _result(_grid_homes(10, 50.0, 10.0), name="南山区 社区卫生服务中心")
    other = result.with_(
        name="福田区 社区健康服务中心", summary=result.summary.with_(name="福田区 社区健康服务中心")
    )
    for r, name in ((result, "a.pkl"), (other, "b.pkl")):
        (tmp_path / name).write_bytes(pickle.dumps(r))
    fresh, stale = tmp_path / "fresh", tmp_path / "stale"
    _python(_STALE_CACHE, stale)  # a cache that lists no CJK font, as if built before it was installed
    assert "known before: False" in _python(_RENDER, stale, tmp_path / "a.pkl", tmp_path / "stale_a.png")
    _python(_RENDER, stale, tmp_path / "b.pkl", tmp_path / "stale_b.png")
    assert "known before: True" in _python(_RENDER, fresh, tmp_path / "a.pkl", tmp_path / "fresh_a.png")
    # The stale cache draws the same picture as a fresh one, and other names draw other glyphs
    # (boxes would be the same for both names).
    assert (tmp_path / "stale_a.png").read_bytes() == (tmp_path / "fresh_a.png").read_bytes()
    assert (tmp_path / "stale_a.png").read_bytes() != (tmp_path / "stale_b.png").read_bytes()


def test_no_cjk_font_is_said_once_in_plain_words(caplog, monkeypatch):
    import circles.fonts as fonts
    import circles.static_map as static_map

    monkeypatch.setattr(static_map, "cjk_font_families", lambda: ())
    fonts.warn_no_cjk_font.cache_clear()
    result = _result(_grid_homes(5, 50.0, 10.0), name="南山区")
    with caplog.at_level("WARNING", logger="circles"):
        build_figure(result, dpi=40)
        build_figure(result, dpi=40)
    said = [r.getMessage() for r in caplog.records if "CJK" in r.getMessage()]
    assert len(said) == 1 and "fonts-noto-cjk" in said[0] and "boxes" in said[0]
    fonts.warn_no_cjk_font.cache_clear()
