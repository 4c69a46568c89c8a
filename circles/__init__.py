"""circles: who lives within a 15-minute walk of a clinic, where the gaps are."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("circles")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

from circles.config import PopulationSettings, TravelSettings
from circles.errors import CirclesError, InputError
from circles.network import WalkNetwork
from circles.pipeline import StudyResult, analyse, run_osm

__all__ = [
    "CirclesError",
    "InputError",
    "Inputs",
    "PopulationSettings",
    "PopulationSpec",
    "StudyResult",
    "TravelSettings",
    "WalkNetwork",
    "__version__",
    "analyse",
    "run_osm",
    "run_study",
]
