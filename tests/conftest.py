"""Shared fixtures: the embedded Helsinki extract and ../shared/data when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("CIRCLES_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    from circles.demo import demo_pbf

    return demo_pbf()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real-data test: {SHARED_DATA} is absent (set CIRCLES_SHARED_DATA to run it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def helsinki_result(helsinki_pbf):
    from circles import run_osm

    return run_osm(helsinki_pbf, name="Helsinki")


@pytest.fixture(scope="session", autouse=True)
def _private_cache_home(tmp_path_factory):
    """Runs of `circles batch` in tests cache parsed inputs in a temporary folder, not the user's cache."""
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old
