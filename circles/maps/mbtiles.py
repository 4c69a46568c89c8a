"""A local ``.mbtiles`` basemap for a static page: its tiles around the area copied next to the page.

An MBTiles file is an SQLite database of tiles (``tiles``: ``zoom_level``, ``tile_column``,
``tile_row`` counted from the south, ``tile_data``) with a ``metadata`` table. A page opened
from disk cannot query SQLite, so the tiles covering the map's extent are written as
``tiles/{z}/{x}/{y}.png`` beside ``map.html`` and the page loads them by relative URL.
Only raster tiles (PNG, JPEG, WebP) can be drawn by Leaflet; vector tiles are refused.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from circles.errors import InputError, InputFileError, OutputError
from circles.sources.limits import bound_text

#: Most tiles copied next to one page; beyond it the finest zoom levels are left out
#: (Leaflet enlarges the finest copied level instead).
MAX_TILES = 20_000
RASTER_FORMATS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp"}


@dataclass(frozen=True)
class TileFileInfo:
    """What an MBTiles file says about itself."""

    extension: str
    min_zoom: int
    max_zoom: int
    attribution: str


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise InputFileError("no such tile file", where=str(path), parameter="tiles")
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        con.execute("SELECT 1 FROM tiles LIMIT 1").fetchall()
    except sqlite3.Error as exc:
        raise InputFileError(
            f"not a readable MBTiles file ({exc})", where=str(path), parameter="tiles"
        ) from None
    return con


def read_metadata(path: Path) -> TileFileInfo:
    """Format, zoom range and attribution of an MBTiles file.

    Parameters
    ----------
    path : Path

    Returns
    -------
    TileFileInfo

    Raises
    ------
    InputFileError
        Missing or not an MBTiles file.
    InputError
        Vector tiles (``format=pbf``), which a static page cannot draw.
    """
    con = _connect(path)
    try:
        meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
        zooms = con.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
    except sqlite3.Error as exc:
        raise InputFileError(f"not a readable MBTiles file ({exc})", where=str(path)) from None
    finally:
        con.close()
    fmt = str(meta.get("format", "png")).lower()
    if fmt not in RASTER_FORMATS:
        raise InputError(
            f"holds {fmt} tiles; a web page can draw only raster tiles (png, jpg, webp)",
            where=str(path),
            parameter="tiles",
            fix="render the tiles to PNG (e.g. with a tile server) or choose another `tiles`",
        )
    if zooms[0] is None:
        raise InputError("holds no tiles", where=str(path), parameter="tiles")
    attribution = str(bound_text(str(meta.get("attribution") or meta.get("name") or "")))
    return TileFileInfo(RASTER_FORMATS[fmt], int(zooms[0]), int(zooms[1]), attribution)


def _tile_x(lon: float, n: int) -> int:
    return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))


def _tile_y(lat: float, n: int) -> int:
    """Tile row, counted from the north, of a latitude (Web Mercator)."""
    lat = max(-85.0511, min(85.0511, lat))
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return min(n - 1, max(0, int(y)))


def tile_range(bounds: tuple[float, float, float, float], zoom: int) -> tuple[int, int, int, int]:
    """``(x0, x1, y0, y1)`` of the XYZ tiles covering ``(west, south, east, north)`` at ``zoom``.

    Parameters
    ----------
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees.
    zoom : int
    """
    n = 2**zoom
    west, south, east, north = bounds
    return _tile_x(west, n), _tile_x(east, n), _tile_y(north, n), _tile_y(south, n)


def copy_tiles(path: Path, bounds: tuple[float, float, float, float], folder: Path) -> int:
    """Write the tiles of ``path`` covering ``bounds`` as ``folder/{z}/{x}/{y}.ext``.

    Parameters
    ----------
    path : Path
        The MBTiles file.
    bounds : tuple of float
        ``(west, south, east, north)`` in degrees, as the page shows them.
    folder : Path
        Where the ``{z}/{x}/{y}`` tree goes (created).

    Returns
    -------
    int
        The finest zoom level copied (Leaflet enlarges it beyond).
    """
    info = read_metadata(path)
    con = _connect(path)
    written, finest = 0, info.min_zoom
    try:
        for z in range(info.min_zoom, info.max_zoom + 1):
            x0, x1, y0, y1 = tile_range(bounds, z)
            if written + (x1 - x0 + 1) * (y1 - y0 + 1) > MAX_TILES and z > info.min_zoom:
                break
            rows = con.execute(
                "SELECT tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = ? "
                "AND tile_column BETWEEN ? AND ? AND tile_row BETWEEN ? AND ?",
                (z, x0, x1, 2**z - 1 - y1, 2**z - 1 - y0),
            )
            for x, row, data in rows:
                _write_tile(folder / str(z) / str(int(x)) / f"{2**z - 1 - int(row)}.{info.extension}", data)
                written += 1
            finest = z
    except sqlite3.Error as exc:
        raise InputFileError(f"cannot read its tiles ({exc})", where=str(path), parameter="tiles") from None
    finally:
        con.close()
    return finest


def _write_tile(target: Path, data: bytes) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bytes(data))
    except OSError as exc:
        raise OutputError(f"cannot write a basemap tile ({exc.strerror})", where=str(target)) from None
