"""The offline map in real headless Chromium, with every non-file request blocked.

Skipped when Playwright or Chromium is missing, unless ``CIRCLES_REQUIRE_BROWSER=1``
(set by CI), in which case a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from circles.maps import LAYER_FACILITIES, LAYER_GAPS, LAYER_HOMES, hex_layer_name, save_map
from tests.test_maps import HOSTILE_NAME, _renamed

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CIRCLES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1100, "height": 800}
GAP_RGB = (0xD7, 0x30, 0x27)

#: JavaScript: the folium map object and its vector layers, grouped by what they draw.
MAP_STATE_JS = """() => {
    const map = window[document.querySelector('.folium-map').id];
    const out = {areas: 0, areasDrawn: 0, homes: 0, homesDrawn: 0, hexes: 0, facilities: 0};
    map.eachLayer(l => {
        if (!(l instanceof L.Path)) return;
        const p = l.feature ? l.feature.properties : null;
        const drawn = Array.isArray(l._parts) && l._parts.length > 0;
        if (p && 'band_min' in p) { out.areas += 1; out.areasDrawn += drawn; }
        else if (p && 'walk_min' in p) { out.homes += 1; out.homesDrawn += drawn; }
        else if (p && 'share' in p) { out.hexes += 1; }
        else if (!p && l instanceof L.CircleMarker) { out.facilities += 1; }
    });
    out.canvases = document.querySelectorAll('.leaflet-overlay-pane canvas').length;
    return out;
}"""

#: JavaScript: painted and gap-coloured pixels of the vector canvas.
CANVAS_PIXELS_JS = """([r, g, b]) => {
    const c = document.querySelector('.leaflet-overlay-pane canvas');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0, gap = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0) painted += 1;
        if (data[i + 3] === 255 && Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8
            && Math.abs(data[i + 2] - b) < 8) gap += 1;
    }
    return {painted, gap, width: c.width, height: c.height};
}"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CIRCLES_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (CIRCLES_REQUIRE_BROWSER=1 requires the browser tests)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    if shutil.which(CHROMIUM) is None:
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CIRCLES_CHROMIUM)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class OpenedMap:
    """A page showing a map file, with the requests it tried to send outside and its errors."""

    def __init__(self, browser, path: Path):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport=VIEWPORT)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.route("**/*", self._only_files)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function(
            "() => window.L && document.querySelector('.leaflet-control-layers')", timeout=15_000
        )
        self.page.wait_for_timeout(300)  # let the canvas renderer finish its frame

    def _only_files(self, route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def layer_names(self, kind: str) -> list[str]:
        return [
            s.strip() for s in self.page.locator(f".leaflet-control-layers-{kind} label").all_inner_texts()
        ]


def test_offline_map_draws_without_network(browser, helsinki_result, tmp_path):
    path = save_map(helsinki_result, tmp_path / "map.html", offline=True)
    opened = OpenedMap(browser, path)
    page = opened.page

    assert page.evaluate("() => window.L.version") == "1.9.3"
    assert opened.errors == []
    # Only base-map tiles tried the network; every script and style came from the file.
    assert opened.blocked and {urlsplit(u).hostname for u in opened.blocked} == {"tile.openstreetmap.org"}

    assert opened.layer_names("base") == ["openstreetmap"]
    assert opened.layer_names("overlays") == [
        "Within 15 min walk",
        "Within 10 min walk",
        "Within 5 min walk",
        LAYER_HOMES,
        LAYER_GAPS,
        LAYER_FACILITIES,
    ]
    state = page.evaluate(MAP_STATE_JS)
    # 3 bands, 59 homes (50 + 9 gaps), 7 facilities, all inside the fitted view.
    assert state["canvases"] == 1
    assert (state["areas"], state["areasDrawn"]) == (3, 3)
    assert (state["homes"], state["homesDrawn"]) == (59, 59)
    assert state["facilities"] == 7

    pixels = page.evaluate(CANVAS_PIXELS_JS, list(GAP_RGB))
    # Leaflet's canvas covers the view plus 10% padding on each side.
    assert (pixels["width"], pixels["height"]) == (1320, 960)
    assert pixels["painted"] > 0.2 * pixels["width"] * pixels["height"]  # service areas fill the view
    assert pixels["gap"] > 100  # the 9 gap buildings in red

    legend = page.locator("#circles-legend")
    assert legend.is_visible()
    assert "84% of estimated residents within 15 min" in legend.inner_text()

    shot = tmp_path / "offline_map.png"
    page.screenshot(path=str(shot))
    from PIL import Image

    with Image.open(shot) as im:
        rgb = np.asarray(im.convert("RGB"))
    assert rgb.shape == (VIEWPORT["height"], VIEWPORT["width"], 3)
    assert (np.abs(rgb.astype(int) - GAP_RGB).max(axis=-1) < 8).sum() > 100
    page.close()


def test_hostile_chinese_name_shows_verbatim_in_popup(browser, helsinki_result, tmp_path):
    path = save_map(_renamed(helsinki_result, HOSTILE_NAME), tmp_path / "map.html", offline=True)
    opened = OpenedMap(browser, path)
    page = opened.page
    assert opened.errors == []
    assert not page.evaluate("() => window.alerted === true")
    page.evaluate(
        """() => {
        const map = window[document.querySelector('.folium-map').id];
        let first = null;
        map.eachLayer(l => { if (!first && l instanceof L.CircleMarker && l.getPopup()) first = l; });
        first.openPopup();
    }"""
    )
    content = page.locator(".leaflet-popup-content").inner_text()
    assert content.splitlines()[0] == HOSTILE_NAME
    assert "capacity: 3" in content
    assert page.title() == "Helsinki: 15-minute walk to care"
    page.close()


def test_hexagon_map_in_browser(browser, helsinki_result, tmp_path):
    path = save_map(helsinki_result, tmp_path / "map.html", offline=True, max_home_features=20)
    opened = OpenedMap(browser, path)
    assert opened.errors == []
    assert hex_layer_name(15) in opened.layer_names("overlays")
    assert LAYER_HOMES not in opened.layer_names("overlays")
    state = opened.page.evaluate(MAP_STATE_JS)
    assert state["hexes"] == 13 and state["homes"] == 9
    assert "hexagons: residents within 15 min" in opened.page.locator("#circles-legend").inner_text()
    opened.page.close()
