"""Maps and the batch index in real headless Chromium, with every non-file request blocked.

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

from circles.maps import (
    LAYER_FACILITIES,
    LAYER_GAPS,
    LAYER_HOMES,
    LAYER_STREET_TIMES,
    LAYER_STREETS,
    save_map,
)
from circles.sources.coords import wgs84_to_gcj02
from tests.test_batch_index import batch_folder  # noqa: F401
from tests.test_maps import HOSTILE_NAME, _renamed, helsinki_mbtiles, shenzhen_result  # noqa: F401

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
FACILITY_RGB = (0x21, 0x66, 0xAC)
STREET_RGB = (0x8C, 0x8C, 0x8C)

#: JavaScript: the folium map object.
MAP_JS = "window[document.querySelector('.folium-map').id]"

#: JavaScript: how many shapes each circles layer holds on the map now.
MAP_STATE_JS = f"""() => {{
    const map = {MAP_JS}, out = {{}};
    map.eachLayer(l => {{
        if (l.circlesKind && l.getLayers)
            out[l.circlesKind] = (out[l.circlesKind] || 0) + l.getLayers().length;
    }});
    out.labels = document.querySelectorAll('.circles-label').length;
    out.zoom = map.getZoom();
    return out;
}}"""

#: JavaScript: painted pixels of one pane's canvas, and those within 8 of a colour (opaque enough).
PANE_PIXELS_JS = """([pane, [r, g, b]]) => {
    const c = document.querySelector('.leaflet-' + pane + '-pane canvas');
    if (!c) return {painted: 0, colour: 0, width: 0, height: 0};
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0, colour = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0) painted += 1;
        if (data[i + 3] > 200 && Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8
            && Math.abs(data[i + 2] - b) < 8) colour += 1;
    }
    return {painted, colour, width: c.width, height: c.height};
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


class Opened:
    """A page showing a file, with the requests it tried to send outside and its script errors."""

    def __init__(self, browser, path: Path, *, ready: str = "() => window.circlesDrawnMs"):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport=VIEWPORT)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.route("**/*", self._only_files)
        self.page.goto(path.resolve().as_uri())
        if ready:
            self.page.wait_for_function(ready, timeout=30_000)

    def _only_files(self, route) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def hosts(self) -> set[str]:
        return {urlsplit(u).hostname for u in self.blocked}

    def layer_names(self, kind: str) -> list[str]:
        return [
            s.strip() for s in self.page.locator(f".leaflet-control-layers-{kind} label").all_inner_texts()
        ]

    def pixels(self, pane: str, rgb: tuple[int, int, int]) -> dict:
        return self.page.evaluate(PANE_PIXELS_JS, [pane, list(rgb)])

    def zoom(self, level: int) -> None:
        self.page.evaluate(f"() => {{ {MAP_JS}.setZoom({level}, {{animate: false}}); }}")
        self.page.wait_for_timeout(400)

    def screenshot_rgb(self, path: Path) -> np.ndarray:
        from PIL import Image

        self.page.screenshot(path=str(path))
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB")).astype(int)


def _near(rgb: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int((np.abs(rgb - colour).max(axis=-1) < 8).sum())


def test_default_map_draws_every_layer_without_network(browser, helsinki_result, tmp_path):
    opened = Opened(browser, save_map(helsinki_result, tmp_path / "map.html"))
    page = opened.page
    assert page.evaluate("() => window.L.version") == "1.9.3"
    assert opened.errors == []
    # Only base-map tiles tried the network; every script and style came from the file.
    assert opened.blocked and opened.hosts() == {"tile.openstreetmap.org"}
    assert opened.layer_names("base") == ["OpenStreetMap"]
    assert opened.layer_names("overlays") == [
        "Within 15 min walk",
        "Within 10 min walk",
        "Within 5 min walk",
        "Catchment of each facility",
        LAYER_STREETS,
        LAYER_STREET_TIMES,
        LAYER_HOMES,
        LAYER_GAPS,
        LAYER_FACILITIES,
        "Facility names",
    ]
    state = page.evaluate(MAP_STATE_JS)
    assert (state["area"], state["streets"], state["street_times"]) == (3, 1, 3)
    assert (state["homes"], state["gaps"], state["facilities"], state["labels"]) == (50, 9, 7, 7)
    assert "catchments" not in state  # off until chosen in the layer control

    areas = opened.pixels("areas", (0x1A, 0x98, 0x50))
    assert (areas["width"], areas["height"]) == (1320, 960)  # the view plus 10% padding on each side
    assert areas["painted"] > 0.2 * areas["width"] * areas["height"]  # service areas fill the view
    assert opened.pixels("streets", STREET_RGB)["painted"] > 20_000  # streets as lines, not areas
    assert opened.pixels("homes", GAP_RGB)["colour"] > 100  # the 9 gap buildings in red
    assert opened.pixels("points", FACILITY_RGB)["colour"] > 7 * 100  # 7 clinics, 8 px radius

    legend = page.locator("#circles-legend")
    assert legend.is_visible()
    assert "84% of 6,395 estimated residents within 15 min" in legend.inner_text()
    rgb = opened.screenshot_rgb(tmp_path / "map.png")
    assert rgb.shape == (VIEWPORT["height"], VIEWPORT["width"], 3)
    assert _near(rgb, GAP_RGB) > 100 and _near(rgb, FACILITY_RGB) > 300
    page.close()


def test_popups_show_names_verbatim_from_the_lookup_table(browser, helsinki_result, tmp_path):
    opened = Opened(browser, save_map(_renamed(helsinki_result, HOSTILE_NAME), tmp_path / "map.html"))
    page = opened.page
    assert opened.errors == [] and not page.evaluate("() => window.alerted === true")
    assert page.title().startswith("社区卫生服务中心 `${alert(1)}` </script>")

    def popup(kind: str, index: int) -> str:
        page.evaluate(
            f"""() => {{ const map = {MAP_JS}; map.closePopup(); map.eachLayer(l => {{
                if (l.circlesKind === {kind!r}) l.getLayers()[{index}].openPopup(); }}); }}"""
        )
        return page.locator(".leaflet-popup-content").last.inner_text()

    content = popup("facilities", 0)
    assert content.splitlines()[0] == HOSTILE_NAME
    assert "capacity: 3" in content and "nearest facility for 0 homes" in content
    assert "not on the walk network" in popup("facilities", 1)
    home = popup("gaps", 0)
    assert "band: >15 min" in home and "nearest facility: Vita Lääkäriasema" in home
    assert "walk: 1" in home and " min" in home
    labels = page.locator(".circles-label").all_inner_texts()
    assert HOSTILE_NAME in labels
    page.close()


def test_hexagons_zoomed_out_single_homes_zoomed_in(browser, helsinki_result, tmp_path):
    opened = Opened(browser, save_map(helsinki_result, tmp_path / "map.html", max_home_features=20))
    assert opened.errors == []
    opened.zoom(13)
    state = opened.page.evaluate(MAP_STATE_JS)
    assert state["zoom"] == 13 and "gaps" not in state
    assert opened.pixels("cells", (0x1A, 0x98, 0x50))["painted"] > 1_000
    opened.zoom(16)
    state = opened.page.evaluate(MAP_STATE_JS)
    assert state["gaps"] == 9 and state["homes"] == 50
    assert opened.pixels("cells", (0x1A, 0x98, 0x50))["painted"] == 0  # the hexagons made way
    opened.zoom(12)
    assert "gaps" not in opened.page.evaluate(MAP_STATE_JS)  # gone again when zoomed out
    assert opened.pixels("cells", (0x1A, 0x98, 0x50))["painted"] > 0
    opened.page.close()


def test_amap_basemap_puts_the_clinic_at_its_gcj02_position(browser, shenzhen_result, tmp_path):  # noqa: F811
    opened = Opened(browser, save_map(shenzhen_result, tmp_path / "map.html", tiles="amap"))
    assert opened.errors == []
    assert any(h.endswith("autonavi.com") for h in opened.hosts())
    drawn = opened.page.evaluate(
        f"""() => {{ let ll = null; {MAP_JS}.eachLayer(l => {{
            if (l.circlesKind === 'facilities') ll = l.getLayers()[0].getLatLng(); }});
            return [ll.lng, ll.lat]; }}"""
    )
    fac = shenzhen_result.facilities.geometry.iloc[0]
    lon, lat = wgs84_to_gcj02(fac.x, fac.y)
    assert drawn == pytest.approx([float(lon), float(lat)], abs=1e-6)
    assert "Gaode.com" in opened.page.locator(".leaflet-control-attribution").inner_text()
    opened.page.close()


def test_local_mbtiles_basemap_draws_from_files(browser, helsinki_result, tmp_path):
    tiles = helsinki_mbtiles(tmp_path / "city.mbtiles")
    out = tmp_path / "out"
    out.mkdir()
    opened = Opened(browser, save_map(helsinki_result, out / "map.html", tiles=str(tiles)))
    opened.page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-loaded').length > 0")
    assert opened.errors == [] and opened.blocked == []  # nothing at all left the machine
    opened.page.evaluate(f"() => {MAP_JS}.eachLayer(l => {{ if (l.circlesKind) {MAP_JS}.removeLayer(l); }})")
    rgb = opened.screenshot_rgb(tmp_path / "tiles.png")
    assert _near(rgb, (250, 200, 40)) > 100_000  # the file's yellow tiles
    assert "City survey" in opened.page.locator(".leaflet-control-attribution").inner_text()
    opened.page.close()


def test_cdn_page_needs_the_network(browser, helsinki_result, tmp_path):
    opened = Opened(
        browser, save_map(helsinki_result, tmp_path / "map.html", self_contained=False), ready=None
    )
    opened.page.wait_for_timeout(500)
    assert "cdn.jsdelivr.net" in opened.hosts()
    assert opened.page.evaluate("() => typeof window.L") == "undefined"  # why the default inlines Leaflet
    opened.page.close()


def test_batch_index_overview_draws_and_opens_an_area(browser, batch_folder):  # noqa: F811
    opened = Opened(browser, batch_folder / "index.html")
    page = opened.page
    assert opened.errors == [] and opened.blocked == []  # the overview needs no tiles at all
    green = page.evaluate(
        """() => { const c = document.querySelector('#overview canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 150 && d[i + 1] > d[i] + 60) n += 1;
        return n; }"""
    )
    assert green > 10_000  # both halves, 84% covered: light green (75-99%)
    assert page.locator("tr.totals").inner_text().startswith("all 2 areas")
    box = page.locator("#overview").bounding_box()
    west = page.evaluate(
        """() => { const m = window.circlesOverview; let p = null;
        m.eachLayer(l => { if (l.circlesKind === 'areas')
            p = m.latLngToContainerPoint(l.getLayers()[0].getCenter()); });
        return [p.x, p.y]; }"""
    )
    with page.expect_navigation():
        page.mouse.click(box["x"] + west[0], box["y"] + west[1])
    assert page.url.endswith("/West/map.html")
    page.wait_for_function("() => window.circlesDrawnMs")
    assert "West" in page.locator("#circles-legend").inner_text()
    page.close()
