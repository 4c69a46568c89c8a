"""The page's scripts and styles: Leaflet inlined from an installed package, or linked from a CDN.

Leaflet comes from ``XStatic-Leaflet`` (the upstream release files packaged for pip, no
code of its own), the same Leaflet version folium links by default. The self-contained
page inlines it, with the style sheet's few images as data URIs, so the page draws with
every request outside the file blocked. The CDN page links the same version from
jsDelivr and is about 150 kB smaller. Either way the map needs only Leaflet: folium's
other defaults (jQuery, Bootstrap, Font Awesome, awesome-markers) are not used.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib.resources import files
from pathlib import Path

import folium
from folium import Element

#: Where the CDN page loads Leaflet from (``{version}`` is the installed XStatic-Leaflet's).
CDN_JS = "https://cdn.jsdelivr.net/npm/leaflet@{version}/dist/leaflet.js"
CDN_CSS = "https://cdn.jsdelivr.net/npm/leaflet@{version}/dist/leaflet.css"
_SOURCE_MAP = re.compile(r"\n?//# sourceMappingURL=\S+\s*$")
_CSS_IMAGE = re.compile(r"url\((images/[A-Za-z0-9_.-]+\.png)\)")


def leaflet_version() -> str:
    """Version of the installed Leaflet files (XStatic-Leaflet)."""
    import xstatic.pkg.leaflet as leaflet

    return str(leaflet.VERSION)


@cache
def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as leaflet

    return Path(leaflet.BASE_DIR)


@cache
def leaflet_js() -> str:
    """Leaflet's minified script, without its source-map comment (nothing to fetch)."""
    return _SOURCE_MAP.sub("", (_leaflet_dir() / "leaflet.js").read_text(encoding="utf-8"))


def _data_uri(match: re.Match) -> str:
    """The image a ``url(images/...)`` names, as a data URI."""
    data = base64.b64encode((_leaflet_dir() / match.group(1)).read_bytes()).decode("ascii")
    return f"url(data:image/png;base64,{data})"


@cache
def leaflet_css() -> str:
    """Leaflet's style sheet with its images inlined as data URIs."""
    return _CSS_IMAGE.sub(_data_uri, (_leaflet_dir() / "leaflet.css").read_text(encoding="utf-8"))


@cache
def circles_js() -> str:
    """The page's own drawing script (``circles_map.js``)."""
    return files("circles.maps").joinpath("circles_map.js").read_text(encoding="utf-8")


class Raw(Element):
    """Page text placed as it is: not parsed as a Jinja template (Leaflet alone is 150 kB).

    Parameters
    ----------
    text : str
        HTML placed in the page unchanged.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: object) -> str:
        """The text itself.

        Parameters
        ----------
        **kwargs : object
            Ignored (folium passes its render options).
        """
        return self._text


def _script(code: str) -> str:
    return "<script>" + code.replace("</script", "<\\/script") + "</script>"


def use_resources(m: folium.Map, *, inline: bool = True) -> None:
    """Replace folium's default scripts and styles by Leaflet (inlined or linked) and circles' script.

    Parameters
    ----------
    m : folium.Map
    inline : bool
        Inline Leaflet in the page (draws offline); otherwise link it from a CDN.
    """
    m.default_js = []
    m.default_css = []
    header = m.get_root().header
    if inline:
        header.add_child(Raw(f"<style>{leaflet_css()}</style>"), name="leaflet_css")
        header.add_child(Raw(_script(leaflet_js())), name="leaflet")
    else:
        version = leaflet_version()
        header.add_child(
            Raw(f'<link rel="stylesheet" href="{CDN_CSS.format(version=version)}"/>'), name="leaflet_css"
        )
        header.add_child(Raw(f'<script src="{CDN_JS.format(version=version)}"></script>'), name="leaflet")
    header.add_child(Raw(_script(circles_js())), name="circles_js")
