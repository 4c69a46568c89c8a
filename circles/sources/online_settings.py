"""Settings of online downloads, applied to OSMnx only for the duration of a download.

:func:`osmnx_settings` applies an :class:`OnlineSettings` to ``osmnx.settings`` and
restores every setting afterwards, so importing or calling circles never leaves OSMnx
configured differently.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from circles.sources.graphml import FILTER_TAGS

__all__ = ["OnlineSettings", "default_cache_folder", "osmnx_settings"]


def default_cache_folder() -> Path:
    """``$XDG_CACHE_HOME/circles/osmnx`` (``~/.cache/circles/osmnx`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "circles" / "osmnx"


@dataclass(frozen=True)
class OnlineSettings:
    """Where and how to download.

    Parameters
    ----------
    overpass_url : str, optional
        Overpass API base URL (without ``/interpreter``); OSMnx's default when None.
    nominatim_url : str, optional
        Nominatim base URL; OSMnx's default when None.
    cache_folder : str or Path
        Folder for OSMnx's response cache; a repeated request is answered from it
        without the internet. Default :func:`default_cache_folder`.
    use_cache : bool
        Read and write the cache.
    timeout_s : float
        Seconds to wait for a server's answer, rounded up to whole seconds (Overpass
        queries for a city take long).

    """

    overpass_url: str | None = None
    nominatim_url: str | None = None
    cache_folder: str | Path = field(default_factory=default_cache_folder)
    use_cache: bool = True
    timeout_s: float = 180.0


@contextmanager
def osmnx_settings(online: OnlineSettings | None = None) -> Iterator[None]:
    """Apply ``online`` to ``osmnx.settings`` for the duration of a ``with`` block.

    Every setting touched is restored on exit, as is ``socket.getaddrinfo``, which
    OSMnx rebinds to pin a server's address.

    Parameters
    ----------
    online : OnlineSettings, optional
        Default ``OnlineSettings()``.

    Yields
    ------
    None

    """
    import osmnx as ox

    online = online or OnlineSettings()
    s = ox.settings
    wanted = {
        "cache_folder": str(online.cache_folder),
        "use_cache": online.use_cache,
        # Whole seconds: OSMnx also writes this into the Overpass query, which wants an integer.
        "requests_timeout": max(1, math.ceil(online.timeout_s)),
        "useful_tags_way": list(dict.fromkeys([*s.useful_tags_way, *FILTER_TAGS, "name"])),
    }
    if online.overpass_url is not None:
        wanted["overpass_url"] = online.overpass_url
    if online.nominatim_url is not None:
        wanted["nominatim_url"] = online.nominatim_url
    saved = {name: getattr(s, name) for name in (*wanted, "overpass_rate_limit", "doh_url_template")}
    getaddrinfo = socket.getaddrinfo
    try:
        for name, value in wanted.items():
            setattr(s, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(s, name, value)
        socket.getaddrinfo = getaddrinfo
