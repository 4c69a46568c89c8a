"""Basemaps: which tiles a map shows, whether they are drawn in GCJ-02, and who to credit.

``tiles`` names a provider (``"osm"``, ``"amap"``, ``"tencent"``, ``"tianditu"``), ``"none"``,
a URL template of a planner's own tile server (``https://tiles.example/{z}/{x}/{y}.png``), or a
local ``.mbtiles`` file (its tiles around the study area are copied next to ``map.html``; see
:mod:`circles.maps.mbtiles`). OpenStreetMap and Amap (Gaode) come from ``xyzservices``, the
registry folium itself uses; it has no Tencent or Tianditu entry, so those two are defined here
in the same :class:`xyzservices.TileProvider` form.

Amap and Tencent draw their maps in GCJ-02, so every overlay is shifted to GCJ-02 for display
on them; Tianditu's ``_w`` layers are Web Mercator on CGCS2000, which matches WGS-84 to well
under a metre, so nothing is shifted.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import xyzservices

from circles.errors import InputError

#: Environment variable holding a Tianditu key when ``tiles_key`` is not given.
TIANDITU_KEY_ENV = "CIRCLES_TIANDITU_KEY"
PROVIDERS = ("osm", "none", "amap", "tencent", "tianditu")
OSM_DATA_CREDIT = "Data &copy; OpenStreetMap contributors, ODbL"

TENCENT = xyzservices.TileProvider(
    name="Tencent.Normal",
    url="https://rt{s}.map.gtimg.com/tile?z={z}&x={x}&y={y}&styleid=1000&scene=0&version=347",
    subdomains="0123",
    max_zoom=18,
    attribution="(C) Tencent Map",
    html_attribution='&copy; <a href="https://map.qq.com/">腾讯地图 Tencent</a>',
)
TIANDITU = xyzservices.TileProvider(
    name="Tianditu.Normal",
    url="https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk={key}",
    subdomains="01234567",
    max_zoom=18,
    key="<insert your Tianditu key here>",
    attribution="(C) Tianditu",
    html_attribution='&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>',
)
TIANDITU_LABELS = TIANDITU.copy()
TIANDITU_LABELS.update(
    name="Tianditu.Labels", url="https://t{s}.tianditu.gov.cn/DataServer?T=cva_w&x={x}&y={y}&l={z}&tk={key}"
)


@dataclass(frozen=True)
class TileSource:
    """One basemap as the page draws it.

    Attributes
    ----------
    name : str
        Name in the layer control.
    url : str
        Leaflet URL template (``{s}``, ``{z}``, ``{x}``, ``{y}``).
    attribution : str
        HTML credit shown in the map's corner.
    gcj02 : bool
        The tiles are drawn in GCJ-02: overlays are shifted to match.
    subdomains : str
    max_zoom, max_native_zoom : int
    tms : bool
        Rows numbered from the south (Tencent).
    overlay_urls : tuple of str
        Label tiles drawn over the base (Tianditu's annotation layer).
    mbtiles : Path, optional
        A local tile file whose tiles are copied next to the page.
    """

    name: str
    url: str
    attribution: str
    gcj02: bool = False
    subdomains: str = "abc"
    max_zoom: int = 19
    max_native_zoom: int = 19
    tms: bool = False
    overlay_urls: tuple[str, ...] = ()
    mbtiles: Path | None = None


def _from_provider(provider: xyzservices.TileProvider, name: str, *, gcj02: bool = False) -> TileSource:
    zoom = int(provider.get("max_zoom", 19))
    return TileSource(
        name=name,
        url=provider.build_url(fill_subdomain=False),
        attribution=provider.html_attribution,
        gcj02=gcj02,
        subdomains=str(provider.get("subdomains", "abc")),
        max_zoom=zoom,
        max_native_zoom=zoom,
    )


def tile_source(tiles: str | None, *, tiles_key: str | None = None) -> TileSource | None:
    """The basemap named by ``tiles`` (see the module docstring); None for ``"none"``.

    Parameters
    ----------
    tiles : str or None
        ``"osm"``, ``"none"``, ``"amap"``, ``"tencent"``, ``"tianditu"``, an http(s) URL
        template with ``{z}``, ``{x}`` and ``{y}``, or a ``.mbtiles`` file.
    tiles_key : str, optional
        The Tianditu key (default: the ``CIRCLES_TIANDITU_KEY`` environment variable).

    Returns
    -------
    TileSource or None

    Raises
    ------
    InputError
        Unknown provider, a template without ``{z}``/``{x}``/``{y}``, a missing
        ``.mbtiles`` file, or Tianditu without a key.
    """
    spec = "none" if tiles is None else str(tiles).strip()
    key = spec.lower()
    if key == "none":
        return None
    if key in ("osm", "openstreetmap"):
        return _from_provider(xyzservices.providers.OpenStreetMap.Mapnik, "OpenStreetMap")
    if key in ("amap", "gaode"):
        return _from_provider(xyzservices.providers.Gaode.Normal, "Amap (Gaode), GCJ-02", gcj02=True)
    if key == "tencent":
        return TileSource(
            name="Tencent, GCJ-02",
            url=TENCENT.url,
            attribution=TENCENT.html_attribution,
            gcj02=True,
            subdomains=TENCENT.subdomains,
            max_zoom=18,
            max_native_zoom=18,
            tms=True,
        )
    if key == "tianditu":
        return _tianditu(tiles_key)
    if key.startswith(("http://", "https://")):
        return _template(spec)
    if key.endswith(".mbtiles"):
        return _mbtiles(Path(spec))
    raise InputError(
        f"unknown basemap {spec[:80]!r}",
        parameter="tiles",
        fix="choose osm, none, amap, tencent, tianditu, an http(s) URL template with {z}/{x}/{y}, "
        "or a .mbtiles file for `tiles`",
    )


def _tianditu(tiles_key: str | None) -> TileSource:
    key = (tiles_key or os.environ.get(TIANDITU_KEY_ENV, "")).strip()
    if not key:
        raise InputError(
            "Tianditu tiles need a key",
            parameter="tiles_key",
            fix=f"get one at console.tianditu.gov.cn and pass it as `tiles_key` or set {TIANDITU_KEY_ENV}",
        )
    if not key.isalnum() or len(key) > 64:
        raise InputError("the Tianditu key should be letters and digits", parameter="tiles_key")
    base = TIANDITU.copy()
    base["key"] = key
    labels = TIANDITU_LABELS.copy()
    labels["key"] = key
    return TileSource(
        name="Tianditu",
        url=base.build_url(fill_subdomain=False),
        attribution=TIANDITU.html_attribution,
        subdomains=TIANDITU.subdomains,
        max_zoom=18,
        max_native_zoom=18,
        overlay_urls=(labels.build_url(fill_subdomain=False),),
    )


def _template(url: str) -> TileSource:
    missing = [p for p in ("{z}", "{x}") if p not in url]
    if "{y}" not in url and "{-y}" not in url:
        missing.append("{y}")
    if missing or len(url) > 2000 or any(c in url for c in "\"'<> \n"):
        raise InputError(
            f"the tile URL template {url[:80]!r} "
            + (f"lacks {', '.join(missing)}" if missing else "has characters a URL cannot hold"),
            parameter="tiles",
            fix="give a template like https://tiles.example/{z}/{x}/{y}.png for `tiles`",
        )
    host = urlsplit(url).hostname or "tile server"
    return TileSource(name=f"Tiles from {host}", url=url, attribution=f"Tiles: {html.escape(host)}")


def _mbtiles(path: Path) -> TileSource:
    from circles.maps.mbtiles import read_metadata

    meta = read_metadata(path)
    credit = html.escape(meta.attribution or path.name)
    return TileSource(
        name=f"Local tiles ({html.escape(path.name[:60])})",
        url="tiles/{z}/{x}/{y}." + meta.extension,
        attribution=credit,
        max_zoom=max(19, meta.max_zoom),
        max_native_zoom=meta.max_zoom,
        mbtiles=path,
    )
