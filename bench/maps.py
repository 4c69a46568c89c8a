"""map.html at every size: page size, build time and time to first draw in headless Chromium.

For each study area the script runs circles (not timed here: see bench/pipeline.py), writes the
self-contained map (and the CDN page, for its size), opens it in headless Chromium with every
request outside the file blocked (as on a network without CDNs; basemap tiles fail), and
reports when the page had drawn its layers (``window.circlesDrawnMs``: two animation frames
after the last layer was added, counted from navigation start). Screenshots at the opening
view and zoomed in go to ``--shots``.

    python bench/maps.py                              # demo, Nanjing, Yuba (when ../shared/data is there)
    python bench/maps.py --synthetic 300000           # plus a SYNTHETIC city of ~300k walk edges
    python bench/maps.py --pbf city.osm.pbf --shots /tmp/shots

The synthetic city comes from ``bench/synth.py`` (a real .osm.pbf written from a seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import SHARED_DATA  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CASES = {
    "nanjing": ("Nanjing Xuanwu (OSM)", "nanjing_xuanwu_osm/nanjing_xuanwu_osmwebwizard.osm.pbf"),
    "yuba": ("Yuba County, CA (OSM)", "benchmark_yuba_county_pbf/yuba_county_ca.osm.pbf"),
}


def cases(args: argparse.Namespace, work: Path) -> list[tuple[str, str, Path]]:
    from circles.demo import DEMO_NAME, demo_pbf

    out = [("demo", DEMO_NAME, demo_pbf())]
    for key, (label, rel) in CASES.items():
        if (SHARED_DATA / rel).is_file():
            out.append((key, label, SHARED_DATA / rel))
        else:
            print(f"skipping {key}: {SHARED_DATA / rel} is absent")
    if args.synthetic:
        try:
            import synth
        except ImportError:
            print("skipping the SYNTHETIC city: bench/synth.py is not here yet")
        else:
            path, facts = synth.synthetic_city(args.synthetic, work)
            out.append(
                (f"synthetic{args.synthetic // 1000}k", f"SYNTHETIC city, {facts.walk_edges:,} edges", path)
            )
    for pbf in args.pbf:
        out.append((Path(pbf).stem.split(".")[0], Path(pbf).name, Path(pbf)))
    return out


def first_draw(browser, html: Path, shots: Path | None, key: str) -> dict:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(html.resolve().as_uri())
    page.wait_for_function("() => window.circlesDrawnMs", timeout=300_000)
    drawn_ms = page.evaluate("() => window.circlesDrawnMs")
    heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : null")
    if shots is not None:
        page.screenshot(path=str(shots / f"{key}.png"))
        map_js = "window[document.querySelector('.folium-map').id]"
        page.evaluate(
            f"() => {{ {map_js}.setZoom(Math.max({map_js}.getZoom() + 2, 15), {{animate: false}}); }}"
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / f"{key}_zoomed.png"))
    page.close()
    return {
        "first_draw_s": round(drawn_ms / 1000, 2),
        "js_heap_mb": heap and round(heap / 1e6, 1),
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--synthetic", type=int, default=0, help="also a SYNTHETIC city of about N walk edges"
    )
    parser.add_argument("--pbf", action="append", default=[], help="another .osm.pbf to measure")
    parser.add_argument("--work", type=Path, default=Path("/tmp/circles-bench-maps"))
    parser.add_argument("--shots", type=Path, help="write screenshots here")
    parser.add_argument("--json", type=Path, help="write the rows as JSON")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from circles import run_osm
    from circles.maps import save_map

    args.work.mkdir(parents=True, exist_ok=True)
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for key, label, path in cases(args, args.work):
            result = run_osm(path, name=label)
            t0 = time.perf_counter()
            html = save_map(result, args.work / f"{key}.html")
            build_s = time.perf_counter() - t0
            cdn = save_map(result, args.work / f"{key}_cdn.html", self_contained=False)
            row = {
                "area": label,
                "walk_edges": result.context.network.n_edges,
                "homes": len(result.homes),
                "page_mb": round(html.stat().st_size / 1e6, 2),
                "cdn_page_mb": round(cdn.stat().st_size / 1e6, 2),
                "build_s": round(build_s, 2),
                **first_draw(browser, html, args.shots, key),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
        browser.close()
    print()
    print(
        f"{'area':44} {'edges':>9} {'homes':>8} {'page MB':>8} {'CDN MB':>7} {'build s':>8} "
        f"{'first draw s':>12}"
    )
    for r in rows:
        print(
            f"{r['area'][:44]:44} {r['walk_edges']:>9,} {r['homes']:>8,} {r['page_mb']:>8.2f} "
            f"{r['cdn_page_mb']:>7.2f} {r['build_s']:>8.2f} {r['first_draw_s']:>12.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
