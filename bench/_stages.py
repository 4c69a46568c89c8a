"""Time and peak memory of each stage of a circles run, measured from outside the code.

The functions that make up a stage are wrapped (in every loaded module that refers to them)
by timers; nothing in ``circles`` is changed. Stages nest: a stage's seconds include the
stages inside it, and the report subtracts them to show what is left ("other").

Peak memory per stage is the process's peak resident set size while the stage ran: the
kernel's peak counter (VmHWM) is reset when a stage starts (``echo 5 > /proc/self/clear_refs``)
and read when it ends; a stage inside another passes its peak on to the outer one.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def _status_kib(field_name: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


@dataclass
class StageRecord:
    """Wall seconds, calls and peak RSS (KiB, None when not measured) of one stage."""

    seconds: float = 0.0
    calls: int = 0
    peak_kib: int | None = None


@dataclass
class StageRecorder:
    """Wrap functions as named stages; ``records`` holds each stage's totals."""

    records: dict[str, StageRecord] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    _stack: list[int] = field(default_factory=list)
    _peak_ok: bool = field(default_factory=_reset_peak)

    def _enter(self) -> None:
        if not self._peak_ok:
            return
        if self._stack:  # the enclosing stage keeps its peak so far before the counter is reset
            self._stack[-1] = max(self._stack[-1], _status_kib("VmHWM"))
        _reset_peak()
        self._stack.append(_status_kib("VmRSS"))

    def _exit(self, name: str, seconds: float, *, memory: bool) -> None:
        rec = self.records.setdefault(name, StageRecord())
        rec.seconds += seconds
        rec.calls += 1
        if not (memory and self._peak_ok):
            return
        peak = max(self._stack.pop(), _status_kib("VmHWM"))
        rec.peak_kib = max(rec.peak_kib or 0, peak)
        if self._stack:
            self._stack[-1] = max(self._stack[-1], peak)

    def timed(self, name: str, func: Callable, *, memory: bool = True) -> Callable:
        """``func`` wrapped as stage ``name``; ``memory=False`` for functions called per row."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if memory:
                self._enter()
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self._exit(name, time.perf_counter() - t0, memory=memory)

        return wrapper

    def patch_function(self, module: str, attr: str, name: str, *, memory: bool = True) -> None:
        """Wrap ``module.attr`` and every loaded circles module's reference to the same function."""
        mod = sys.modules.get(module)
        original = getattr(mod, attr, None) if mod else None
        if original is None:
            self.missing.append(f"{module}.{attr} ({name})")
            return
        wrapped = self.timed(name, original, memory=memory)
        for other in list(sys.modules.values()):
            if (
                getattr(other, "__name__", "").startswith("circles")
                and getattr(other, attr, None) is original
            ):
                setattr(other, attr, wrapped)

    def patch_method(self, cls: type, attr: str, name: str, *, memory: bool = True) -> None:
        """Wrap a method or classmethod of ``cls``."""
        raw = cls.__dict__.get(attr)
        if raw is None:
            self.missing.append(f"{cls.__name__}.{attr} ({name})")
            return
        if isinstance(raw, classmethod):
            setattr(cls, attr, classmethod(self.timed(name, raw.__func__, memory=memory)))
        else:
            setattr(cls, attr, self.timed(name, raw, memory=memory))

    def as_dict(self) -> dict[str, dict]:
        return {
            k: {"seconds": r.seconds, "calls": r.calls, "peak_kib": r.peak_kib}
            for k, r in self.records.items()
        }


#: (module, function, stage name, with memory): the stages of ``circles run`` from an OSM file.
FUNCTION_STAGES = (
    ("circles.sources.assemble", "load_inputs", "inputs", True),
    ("circles.sources.osm", "read_osm", "read", True),
    ("circles.sources.walk_filter", "is_walkable", "filter", False),
    ("circles.sources.walk_filter", "is_street_level", "filter", False),
    ("circles.sources.osm", "residential_homes", "homes", True),
    ("circles.pipeline", "run_study", "study", True),
    ("circles.pipeline", "home_population", "population", True),
    ("circles.pipeline", "coordinate_warnings", "warnings", True),
    ("circles.analysis", "measure", "analyse", True),
    ("circles.analysis", "nearest_facility", "search", True),
    ("circles.areas", "service_areas", "service areas", True),
    ("circles.areas", "service_areas_by_facility", "catchment areas", True),
    ("circles.report", "write_outputs", "write", True),
    ("circles.maps", "save_map", "map.html", True),
    ("circles.static_map", "render_png", "map.png", True),
)


def install(recorder: StageRecorder) -> None:
    """Import circles' modules and wrap every stage of a run (see ``FUNCTION_STAGES``)."""
    import importlib

    import geopandas as gpd

    from circles.network import WalkNetwork

    for module in {m for m, *_ in FUNCTION_STAGES} | {"circles.cli"}:
        importlib.import_module(module)
    for module, attr, name, memory in FUNCTION_STAGES:
        recorder.patch_function(module, attr, name, memory=memory)
    recorder.patch_method(WalkNetwork, "from_lines", "build arrays")
    recorder.patch_method(WalkNetwork, "snap", "snap")
    recorder.patch_method(gpd.GeoDataFrame, "to_file", "GeoPackages")


#: (row label, stage name or a derived row): the stage table, in pipeline order.
STAGE_ROWS = (
    ("read: pyosmium pass + geometries", "read-filter"),
    ("  walk filter (tag tests, inside read)", "filter"),
    ("homes from buildings", "homes"),
    ("other input assembly", "inputs-other"),
    ("build arrays (WalkNetwork)", "build arrays"),
    ("population estimate", "population"),
    ("snap homes + facilities", "snap"),
    ("search", "search"),
    ("service areas (bands)", "service areas"),
    ("catchment areas (per facility)", "catchment areas"),
    ("summaries, tables (rest of analyse)", "analyse-other"),
    ("other study work (clip, warnings)", "study-other"),
    ("map.html", "map.html"),
    ("map.png", "map.png"),
    ("GeoPackages", "GeoPackages"),
    ("other writing (json, csv, folder)", "write-other"),
    ("start-up, CLI, exit", "startup"),
)


def stage_seconds(run: dict, wall_s: float) -> dict[str, float | None]:
    """Seconds per row of ``STAGE_ROWS``: measured stages, and what is left of their parents."""
    rec = {k: v["seconds"] for k, v in run["stages"].items()}
    get = rec.get
    out = {name: get(name) for _, name in STAGE_ROWS}
    out["read-filter"] = get("read", 0.0) - get("filter", 0.0)
    out["inputs-other"] = get("inputs", 0.0) - get("read", 0.0) - get("homes", 0.0)
    inner = ("snap", "search", "service areas", "catchment areas")
    out["analyse-other"] = get("analyse", 0.0) - sum(get(k, 0.0) for k in inner)
    out["study-other"] = get("study", 0.0) - sum(
        get(k, 0.0) for k in ("build arrays", "population", "analyse")
    )
    out["write-other"] = get("write", 0.0) - sum(get(k, 0.0) for k in ("map.html", "map.png", "GeoPackages"))
    out["startup"] = wall_s - get("inputs", 0.0) - get("study", 0.0) - get("write", 0.0)
    return out
