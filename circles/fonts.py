"""Fonts for Chinese (CJK) names in the static picture, found even when matplotlib's cache is stale.

matplotlib lists the system's fonts once and keeps the list in a cache file; a font installed
later (``make demo``, then ``apt-get install fonts-noto-cjk``, then ``make test``) is not in
it, and Chinese names draw as boxes. :func:`cjk_font_families` therefore asks fontconfig
(``fc-list :lang=zh``) and looks in the usual font folders for CJK font files, registers the
ones matplotlib does not know (``FontManager.addfont``; the cache file is left alone), and
returns the family names to put after DejaVu Sans.
"""

from __future__ import annotations

import functools
import logging
import re
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

#: Families tried after DejaVu Sans, best first, so Chinese names render where one is installed.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Droid Sans Fallback",
)
#: Folders searched when fontconfig is not there (Debian/Ubuntu, Fedora, macOS, Windows).
FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)
#: File names of common CJK fonts (lower case), for the folder search.
_CJK_FILE = re.compile(r"(cjk|wqy|wenquanyi|sourcehansans|notosanssc|droidsansfallback|simhei|msyh|pingfang)")
_CJK_CHAR = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    """True when ``text`` holds Chinese, Japanese or Korean characters."""
    return bool(_CJK_CHAR.search(text))


def _fontconfig_files() -> list[Path]:
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({Path(line.split(":")[0].strip()) for line in out.splitlines() if line.strip()})


def _folder_files() -> list[Path]:
    found: set[Path] = set()
    for folder in map(Path, FONT_DIRS):
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.suffix.lower() in (".ttf", ".ttc", ".otf") and _CJK_FILE.search(path.name.lower()):
                    found.add(path)
    return sorted(found)


def _known_families(manager) -> set[str]:
    return {f.name for f in manager.ttflist}


def _register_missing(manager) -> None:
    """Add CJK font files the manager does not list (its cache predates them)."""
    known_files = {Path(f.fname) for f in manager.ttflist}
    for path in _fontconfig_files() or _folder_files():
        if path.is_file() and path not in known_files:
            try:
                manager.addfont(str(path))
            except (OSError, RuntimeError, ValueError) as exc:  # a broken font file: skip it
                log.debug("circles: cannot use font %s (%s)", path, exc)


@functools.cache
def cjk_font_families() -> tuple[str, ...]:
    """Installed CJK font families matplotlib can draw with, best first (empty when none).

    Found once per process: matplotlib's own list first; when it has none, fontconfig's
    and the usual font folders' CJK files are registered with matplotlib and looked up again.

    Returns
    -------
    tuple of str
        Family names from :data:`CJK_FONTS`, for ``rcParams["font.family"]`` after DejaVu Sans.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    have = _known_families(manager)
    if not have.intersection(CJK_FONTS):
        _register_missing(manager)
        have = _known_families(manager)
    return tuple(name for name in CJK_FONTS if name in have)


@functools.cache
def warn_no_cjk_font() -> None:
    """Say once per process that Chinese names will draw as boxes, and how to fix it."""
    log.warning(
        "circles: warning: no Chinese (CJK) font found, so Chinese names in map.png show as boxes; "
        "install one (e.g. Debian/Ubuntu: apt-get install fonts-noto-cjk) and run again"
    )
