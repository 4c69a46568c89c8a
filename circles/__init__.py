"""circles: who lives within a 15-minute trip of a clinic, where the gaps are, where to build next.

The public API is imported lazily (PEP 562): ``import circles`` costs almost nothing, and
``circles.analyse`` loads the analysis stack on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from circles._version import __version__ as __version__

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "CirclesError": "circles.errors",
    "EmptyResultError": "circles.errors",
    "InputError": "circles.errors",
    "InputFileError": "circles.errors",
    "OutputError": "circles.errors",
    "PopulationSettings": "circles.config",
    "TravelSettings": "circles.config",
    "WalkNetwork": "circles.network",
    "StudyResult": "circles.result",
    "Summary": "circles.result",
    "analyse": "circles.analysis",
    "Inputs": "circles.pipeline",
    "PopulationSpec": "circles.pipeline",
    "run_osm": "circles.pipeline",
    "run_study": "circles.pipeline",
    "SitingOptions": "circles.plan_result",
    "CapacityOptions": "circles.plan_result",
    "WhatIfOptions": "circles.what_if_result",
    "recommend_sites": "circles.siting",
    "with_loads": "circles.loads",
    "what_if": "circles.what_if",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'circles' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next access skips __getattr__
    return value


def __dir__() -> list[str]:
    return __all__
