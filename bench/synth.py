"""A SYNTHETIC city (not a real place) written as a real ``.osm.pbf`` file, deterministic from a seed.

The city is a perturbed street grid (block corners moved by up to 15 m, every street bent and the
whole plane warped a little), 100 m blocks, each block side drawn as four segments like a mapped
street. Every 10th street is ``primary``, every 5th ``secondary``, every 3rd ``tertiary``, the rest
``residential``; 5% of block sides are missing. Inside the blocks: footways, paths, steps and
pedestrian ways across 30% of them, dead-end ``service`` ways (driveways, parking aisles, some
``access=private``, which are not walkable) into 40%, a ``motorway`` beside every 25th street (not
walkable), residential buildings (``residential``, ``apartments``, ``house``; ``building=yes``
inside ``landuse=residential`` districts) with ``building:levels`` on most, some non-residential
buildings, clinics as nodes (``amenity=clinic`` or ``healthcare=centre``) and as many pharmacies.

Sizes are given in walk edges (straight segments of walkable ways, what ``WalkNetwork`` counts):
about half as many buildings and one clinic per 2,000 edges, as in issue 14's measurements.

    python bench/synth.py --edges 100000 --out /tmp/city.osm.pbf    # prints what it wrote

Everything it writes and prints says SYNTHETIC; names in the file start with "SYNTHETIC".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

#: Bump when the generated city changes, so cached files from an older generator are not reused.
GENERATOR_VERSION = 1
SEED = 20240601
BLOCK_M = 100.0
#: Where the SYNTHETIC city is placed (lon, lat of its south-west corner): UTM zone 50N.
ORIGIN_LONLAT = (113.90, 22.50)
#: Walk edges per block, measured on generated cities (block sides, footways and service ways).
EDGES_PER_BLOCK = 8.94
SEGMENTS_PER_SIDE = 4
BUILDING_TYPES = ("residential", "apartments", "house", "yes", "commercial", "retail", "school")
BUILDING_SHARES = (0.36, 0.30, 0.18, 0.08, 0.04, 0.03, 0.01)
LEVELS_RANGE = {"residential": (2, 8), "apartments": (6, 30), "house": (1, 3), "yes": (1, 6)}


@dataclass(frozen=True)
class CityFacts:
    """What a generated SYNTHETIC city holds (counted while generating, not estimated)."""

    label: str
    seed: int
    side_nodes: int
    walk_edges: int
    ways: int
    nodes: int
    buildings: int
    residential_buildings: int
    clinics: int
    extent_km: float
    generator_version: int = GENERATOR_VERSION


class _Plan:
    """Nodes (metres, local plane) and ways (node indices, tag-table index) of the city."""

    def __init__(self) -> None:
        self.xy: list[np.ndarray] = []
        self.n_nodes = 0
        self.node_tags: dict[int, dict[str, str]] = {}
        self.way_refs: list[np.ndarray] = []
        self.way_tag: list[int] = []
        self.tags: list[dict[str, str]] = []
        self._tag_index: dict[tuple, int] = {}
        self.walk_edges = 0

    def add_nodes(self, xy: np.ndarray) -> np.ndarray:
        """Append nodes; returns their indices (same shape as ``xy`` without the last axis)."""
        first = self.n_nodes
        flat = xy.reshape(-1, 2)
        self.xy.append(flat)
        self.n_nodes += flat.shape[0]
        return np.arange(first, self.n_nodes).reshape(xy.shape[:-1])

    def add_way(self, refs: np.ndarray, tags: dict[str, str], *, walkable: bool) -> None:
        key = tuple(sorted(tags.items()))
        if key not in self._tag_index:
            self._tag_index[key] = len(self.tags)
            self.tags.append(dict(tags))
        self.way_refs.append(np.asarray(refs, dtype=np.int64))
        self.way_tag.append(self._tag_index[key])
        if walkable:
            self.walk_edges += len(refs) - 1


def _street_tags(index: int, axis: str) -> dict[str, str]:
    kind = "residential"
    for every, name in ((10, "primary"), (5, "secondary"), (3, "tertiary")):
        if index % every == 0:
            kind = name
            break
    tags = {"highway": kind, "name": f"SYNTHETIC {axis}{index} Street"}
    if kind in ("primary", "secondary"):
        tags |= {"maxspeed": "50", "lanes": "4" if kind == "primary" else "2", "sidewalk": "both"}
    return tags


def _grid(n: int, rng: np.random.Generator) -> np.ndarray:
    """Block corners, shape (n, n, 2): row i is y, column j is x; moved by up to 15 m."""
    row, col = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    xy = np.stack([col * BLOCK_M, row * BLOCK_M], axis=-1).astype(float)
    return xy + rng.uniform(-15.0, 15.0, xy.shape)


def _side_shape(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The inner vertices of each block side from ``a`` to ``b``: (..., SEGMENTS_PER_SIDE - 1, 2)."""
    t = np.arange(1, SEGMENTS_PER_SIDE) / SEGMENTS_PER_SIDE
    d = b - a
    normal = np.stack([-d[..., 1], d[..., 0]], axis=-1) / np.linalg.norm(d, axis=-1, keepdims=True)
    bend = rng.uniform(-3.0, 3.0, (*a.shape[:-1], t.size, 1))
    return a[..., None, :] + d[..., None, :] * t[:, None] + normal[..., None, :] * bend


def _streets(plan: _Plan, corner_id: np.ndarray, corners: np.ndarray, rng: np.random.Generator) -> tuple:
    """Streets along rows and columns, split into ways of 3-8 blocks and at missing sides.

    Returns the node indices of every side's inner vertices, (rows, cols, k) per direction,
    so that blocks can attach footways and service ways to their sides' midpoints.
    """
    inner = {}
    for axis, ids, xy in (("H", corner_id, corners), ("V", corner_id.T, corners.transpose(1, 0, 2))):
        shape_ids = plan.add_nodes(_side_shape(xy[:, :-1], xy[:, 1:], rng))
        inner[axis] = shape_ids if axis == "H" else shape_ids.transpose(1, 0, 2)
        present = rng.random(shape_ids.shape[:2]) >= 0.05
        for i in range(ids.shape[0]):
            tags = _street_tags(i, axis)
            j = 0
            while j < ids.shape[1] - 1:
                if not present[i, j]:
                    j += 1
                    continue
                stop = min(ids.shape[1] - 1, j + int(rng.integers(3, 9)))
                end = j + int(np.argmin(np.r_[present[i, j:stop], False]))
                refs = np.column_stack([ids[i, j:end], shape_ids[i, j:end]]).ravel()
                plan.add_way(np.r_[refs, ids[i, end]], tags, walkable=True)
                j = end
    return inner["H"], inner["V"]


def _motorways(plan: _Plan, corners: np.ndarray) -> None:
    """A motorway 8 m north of every 25th street (not walkable, not connected)."""
    for i in range(12, corners.shape[0], 25):
        ids = plan.add_nodes(corners[i] + np.array([0.0, 8.0]))
        plan.add_way(ids, {"highway": "motorway", "ref": f"SYNTHETIC M{i}", "oneway": "yes"}, walkable=False)


FOOTWAYS = (({"highway": "footway"}, 0.6), ({"highway": "path"}, 0.2), ({"highway": "pedestrian"}, 0.1))
FOOTWAYS += (({"highway": "steps"}, 0.1),)
SERVICES = (({"highway": "service"}, 0.7), ({"highway": "service", "service": "driveway"}, 0.15))
SERVICES += (({"highway": "service", "service": "parking_aisle"}, 0.1),)
SERVICES += (({"highway": "service", "access": "private"}, 0.05),)


def _pick(options: tuple, count: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(len(options), size=count, p=[p for _, p in options])


def _block_ways(plan: _Plan, corners: np.ndarray, inner_h: np.ndarray, inner_v: np.ndarray, rng) -> None:
    """Footways across 30% of blocks (west to east midpoint), service ways into 40% (from the south)."""
    xy = np.concatenate(plan.xy)
    mid = SEGMENTS_PER_SIDE // 2 - 1
    nb = corners.shape[0] - 1
    bi, bj = np.meshgrid(np.arange(nb), np.arange(nb), indexing="ij")
    bi, bj = bi.ravel(), bj.ravel()
    foot = rng.random(bi.size) < 0.3
    west, east = inner_v[bi[foot], bj[foot], mid], inner_v[bi[foot], bj[foot] + 1, mid]
    centre = plan.add_nodes((xy[west] + xy[east]) / 2.0 + rng.uniform(-8.0, 8.0, (west.size, 2)))
    for w, c, e, k in zip(west, centre, east, _pick(FOOTWAYS, west.size, rng), strict=True):
        plan.add_way(np.array([w, c, e]), FOOTWAYS[k][0], walkable=True)
    serv = rng.random(bi.size) < 0.4
    south = inner_h[bi[serv], bj[serv], mid]
    step = np.column_stack([rng.uniform(-4.0, 4.0, south.size), np.full(south.size, 20.0)])
    ends = plan.add_nodes(np.stack([xy[south] + step, xy[south] + 2 * step], axis=1))
    for s, (a, b), k in zip(south, ends, _pick(SERVICES, south.size, rng), strict=True):
        tags = SERVICES[k][0]
        plan.add_way(np.array([s, a, b]), tags, walkable=tags.get("access") != "private")


def _buildings(plan: _Plan, corners: np.ndarray, count: int, rng: np.random.Generator) -> int:
    """``count`` rectangles set back from the block sides; returns how many are homes.

    Each block side has two slots, a third and two thirds along it (a service way may enter at
    its middle); a block is walked counter-clockwise (SW, SE, NE, NW), so the inward normal of a
    side is its direction turned left. Buildings reach at most 22 m into the block, so those of
    neighbouring sides do not meet at its corners.
    """
    nb = corners.shape[0] - 1
    sw, se = corners[:-1, :-1], corners[:-1, 1:]
    ne, nw = corners[1:, 1:], corners[1:, :-1]
    a = np.stack([sw, se, ne, nw], axis=2).reshape(-1, 2)  # (block * 4 sides, 2)
    b = np.stack([se, ne, nw, sw], axis=2).reshape(-1, 2)
    slot = rng.choice(nb * nb * 8, size=min(count, nb * nb * 8), replace=False)
    slot.sort()
    side, t = slot // 2, np.array([0.34, 0.66])[slot % 2]
    d = b[side] - a[side]
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    normal = np.column_stack([-d[:, 1], d[:, 0]])
    width = rng.uniform(10.0, 18.0, slot.size)[:, None]
    depth = rng.uniform(8.0, 14.0, slot.size)[:, None]
    setback = 6.0 + depth / 2 + rng.uniform(0.0, 2.0, (slot.size, 1))
    centre = a[side] + (b[side] - a[side]) * t[:, None] + normal * setback
    along, across = d * width / 2, normal * depth / 2
    ring = np.stack([centre - along - across, centre + along - across, centre + along + across], axis=1)
    ring = np.concatenate([ring, (centre - along + across)[:, None]], axis=1)
    ids = plan.add_nodes(ring)
    kind = rng.choice(len(BUILDING_TYPES), size=slot.size, p=BUILDING_SHARES)
    levels = rng.random(slot.size)
    homes = 0
    for refs, k, lv in zip(ids, kind, levels, strict=True):
        tags = {"building": BUILDING_TYPES[k]}
        if BUILDING_TYPES[k] in LEVELS_RANGE and lv < 0.85:
            lo, hi = LEVELS_RANGE[BUILDING_TYPES[k]]
            tags["building:levels"] = str(lo + int(lv / 0.85 * (hi - lo + 1)))
        homes += BUILDING_TYPES[k] in LEVELS_RANGE
        plan.add_way(np.r_[refs, refs[0]], tags, walkable=False)
    return homes


def _landuse(plan: _Plan, corners: np.ndarray, district_blocks: int = 10) -> None:
    """One ``landuse=residential`` rectangle per district of 10 x 10 blocks."""
    n = corners.shape[0]
    for i in range(0, n - 1, district_blocks):
        for j in range(0, n - 1, district_blocks):
            i1, j1 = min(i + district_blocks, n - 1), min(j + district_blocks, n - 1)
            box = np.array([corners[i, j], corners[i, j1], corners[i1, j1], corners[i1, j]])
            ids = plan.add_nodes(box)
            tags = {
                "landuse": "residential",
                "name": f"SYNTHETIC district {i // district_blocks}-{j // district_blocks}",
            }
            plan.add_way(np.r_[ids, ids[0]], tags, walkable=False)


def _points_of_interest(plan: _Plan, corners: np.ndarray, clinics: int, rng: np.random.Generator) -> None:
    """Clinics (``amenity=clinic`` or ``healthcare=centre``) and as many pharmacies, as nodes in blocks."""
    nb = corners.shape[0] - 1
    for kind in ("clinic", "pharmacy"):
        block = rng.choice(nb * nb, size=min(clinics, nb * nb), replace=False)
        bi, bj = block // nb, block % nb
        xy = (corners[bi, bj] + corners[bi + 1, bj + 1]) / 2.0 + rng.uniform(-20.0, 20.0, (block.size, 2))
        ids = plan.add_nodes(xy)
        for k, node in enumerate(ids.tolist()):
            if kind == "pharmacy":
                tags = {"amenity": "pharmacy", "name": f"SYNTHETIC pharmacy {k + 1}"}
            elif k % 5 < 3:
                tags = {"amenity": "clinic", "name": f"SYNTHETIC clinic {k + 1}"}
            else:
                tags = {"healthcare": "centre", "name": f"SYNTHETIC health centre {k + 1}"}
            plan.node_tags[node] = tags


def plan_city(walk_edges: int, seed: int = SEED) -> tuple[_Plan, CityFacts]:
    """Lay out a SYNTHETIC city of about ``walk_edges`` walk edges (nothing is written yet)."""
    rng = np.random.default_rng(seed)
    n = max(4, round(math.sqrt(walk_edges / EDGES_PER_BLOCK)) + 1)
    plan = _Plan()
    corners = _grid(n, rng)
    corner_id = plan.add_nodes(corners)
    inner_h, inner_v = _streets(plan, corner_id, corners, rng)
    _block_ways(plan, corners, inner_h, inner_v, rng)
    _motorways(plan, corners)
    n_buildings = max(1, plan.walk_edges // 2)
    homes = _buildings(plan, corners, n_buildings, rng)
    _landuse(plan, corners)
    clinics = max(1, round(plan.walk_edges / 2000))
    _points_of_interest(plan, corners, clinics, rng)
    facts = CityFacts(
        label=f"SYNTHETIC city (not a real place), {plan.walk_edges:,} walk edges, seed {seed}",
        seed=seed,
        side_nodes=n,
        walk_edges=plan.walk_edges,
        ways=len(plan.way_refs),
        nodes=plan.n_nodes,
        buildings=n_buildings,
        residential_buildings=homes,
        clinics=clinics,
        extent_km=round((n - 1) * BLOCK_M / 1000, 2),
    )
    return plan, facts


def _lonlat(xy: np.ndarray) -> np.ndarray:
    """Local metres to WGS-84 after a gentle warp (streets curve a little), about the origin."""
    x = xy[:, 0] + 25.0 * np.sin(2 * np.pi * xy[:, 1] / 1700.0)
    y = xy[:, 1] + 25.0 * np.sin(2 * np.pi * xy[:, 0] / 2300.0)
    lon0, lat0 = ORIGIN_LONLAT
    metres_per_deg = 111_320.0
    return np.column_stack(
        [lon0 + x / (metres_per_deg * math.cos(math.radians(lat0))), lat0 + y / metres_per_deg]
    )


def write_city(plan: _Plan, facts: CityFacts, path: Path) -> Path:
    """Write the plan as an OSM file (``.osm.pbf`` or ``.osm`` XML by suffix), atomically."""
    import osmium
    from osmium.osm.mutable import Node, Way

    lonlat = np.round(_lonlat(np.concatenate(plan.xy)), 7)
    header = osmium.io.Header()
    header.set("generator", f"circles bench/synth.py v{GENERATOR_VERSION}: {facts.label}")
    header.add_box(osmium.osm.Box(*lonlat.min(axis=0), *lonlat.max(axis=0)))
    used = np.zeros(plan.n_nodes, bool)
    used[np.concatenate(plan.way_refs)] = True
    used[list(plan.node_tags)] = True
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{''.join(path.suffixes)}")
    writer = osmium.SimpleWriter(str(tmp), header=header, overwrite=True)
    try:
        for i in np.flatnonzero(used).tolist():
            writer.add_node(
                Node(id=i + 1, location=tuple(lonlat[i]), tags=plan.node_tags.get(i, {}), version=1)
            )
        for w, (refs, tag) in enumerate(zip(plan.way_refs, plan.way_tag, strict=True)):
            writer.add_way(Way(id=w + 1, nodes=(refs + 1).tolist(), tags=plan.tags[tag], version=1))
    finally:
        writer.close()
    os.replace(tmp, path)
    return path


def synthetic_city(walk_edges: int, folder: Path, *, seed: int = SEED) -> tuple[Path, CityFacts]:
    """The SYNTHETIC city's ``.osm.pbf`` in ``folder``, generated once and reused while it matches.

    The file name carries the size, the seed and the generator version; the facts are kept
    beside it as JSON.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"SYNTHETIC_city_{walk_edges}_seed{seed}_v{GENERATOR_VERSION}"
    path, meta = folder / f"{stem}.osm.pbf", folder / f"{stem}.json"
    if path.is_file() and meta.is_file():
        return path, CityFacts(**json.loads(meta.read_text()))
    plan, facts = plan_city(walk_edges, seed)
    write_city(plan, facts, path)
    meta.write_text(json.dumps(asdict(facts), indent=1))
    return path, facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a SYNTHETIC city (not a real place) as .osm.pbf")
    parser.add_argument("--edges", type=int, default=100_000, help="walk edges, about (default 100000)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True, help="output .osm.pbf (or .osm for XML)")
    args = parser.parse_args(argv)
    plan, facts = plan_city(args.edges, args.seed)
    write_city(plan, facts, args.out)
    print(f"wrote {args.out}: {facts.label}")
    for key, value in asdict(facts).items():
        print(
            f"  {key:<22} {value:,}" if isinstance(value, int) and key != "seed" else f"  {key:<22} {value}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
