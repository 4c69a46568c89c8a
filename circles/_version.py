"""The installed version of circles (kept apart so that any module can read it without a cycle)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("circles")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
