"""Small networks drawn by hand, with distances worked out on paper, and a brute-force reference.

Shared by circles' own tests and available to anyone checking circles against their own
numbers (the cityseer habit: a tiny graph in ASCII with hand-computed distances).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from circles.engine import Snapped
from circles.network import WalkNetwork

#: A metric CRS for the hand-drawn graphs (UTM zone 50N; coordinates are plain metres).
HAND_CRS = "EPSG:32650"


@dataclass(frozen=True)
class HandGraph:
    """Nodes at integer metre coordinates and straight edges between them."""

    nodes: dict[str, tuple[float, float]]
    edges: tuple[tuple[str, str], ...]

    def network(self) -> WalkNetwork:
        """The graph as a :class:`~circles.network.WalkNetwork` in :data:`HAND_CRS`."""
        names = list(self.nodes)
        xy = np.array([self.nodes[k] for k in names], dtype=float)
        u = [names.index(a) for a, _ in self.edges]
        v = [names.index(b) for _, b in self.edges]
        return WalkNetwork.from_arrays(xy, u, v, HAND_CRS)

    def index(self, name: str) -> int:
        """The node index of a named node in :meth:`network`.

        Parameters
        ----------
        name : str

        Returns
        -------
        int
        """
        return list(self.nodes).index(name)


#: ::
#:
#:     A(0,0) ----100---- B(100,0) ----100---- C(200,0)
#:      |                                       |
#:     100            F*(150,10) on B-C        100
#:      |                                       |
#:     D(0,-100) -----------200-------------- E(200,-100)        X(1000,0)----400----Y(1400,0)
#:
#: Facilities: F at (150, 10) on edge B-C, 50 m from B, access leg 10 m; G at (0, -100), on D.
#: Walking distances from the nearest facility: B = C = 60 (50 + 10 via F), A = 100 (G via D),
#: D = 0, E = 160; X and Y (an island) are unreached.
SQUARE_WITH_ISLAND = HandGraph(
    nodes={
        "A": (0, 0),
        "B": (100, 0),
        "C": (200, 0),
        "D": (0, -100),
        "E": (200, -100),
        "X": (1000, 0),
        "Y": (1400, 0),
    },
    edges=(("A", "B"), ("B", "C"), ("A", "D"), ("C", "E"), ("D", "E"), ("X", "Y")),
)
SQUARE_FACILITIES_XY = ((150.0, 10.0), (0.0, -100.0))

#: ::
#:
#:     F1                                                        F3
#:     A(0,0) ---300--- B(300,0) -------------1000------------ C(1300,0)
#:                        |
#:                       400
#:                        |
#:                      E(300,-400)
#:
#:     D(0,-800) ----------------------1500---------------------- H(1500,-800)
#:                            F2 (700,-780): on D-H 700 m from D, access leg 20 m
#:
#:     X(2000,500) ---200--- Y(2200,500)        an island without a facility
#:
#: F1 on node A (leg 0), F3 on node C. Distances from the nearest facility: A 0, B 300, C 0,
#: E 700, D 720, H 820; X and Y unreached.
TREE_AND_LINE = HandGraph(
    nodes={
        "A": (0, 0),
        "B": (300, 0),
        "C": (1300, 0),
        "E": (300, -400),
        "D": (0, -800),
        "H": (1500, -800),
        "X": (2000, 500),
        "Y": (2200, 500),
    },
    edges=(("A", "B"), ("B", "C"), ("B", "E"), ("D", "H"), ("X", "Y")),
)
TREE_FACILITIES_XY = ((0.0, 0.0), (700.0, -780.0), (1300.0, 0.0))


def one_way_streets(**extra_w2: str) -> gpd.GeoDataFrame:
    """Four streets with one-way sections, in metres (UTM 50N).

    ::

        A(0,0) --w1-- B(1000,0) ==w2==> C(2000,0)     w2 one-way B->C, primary, no maxspeed (60 km/h)
                       ^                 /
                       w3 (one-way B->D, drawn D->B with oneway=-1; maxspeed 10)
                       |               / w4: one-way C->D, residential, maxspeed 30, 1414.21 m
                      D(1000,-1000) <-

    w1: residential, maxspeed 60, two-way, 1000 m. ``extra_w2`` adds tags to w2 (e.g. a
    contraflow for cyclists, ``**{"oneway:bicycle": "no"}``). Every way is walkable, drivable
    and bikeable (``net_*`` columns from :func:`circles.sources.way_filters.network_flags`).

    Parameters
    ----------
    **extra_w2 : str
        More tags of w2.

    Returns
    -------
    GeoDataFrame
    """
    rows = [
        ({"highway": "residential", "maxspeed": "60"}, [(0, 0), (1000, 0)]),
        ({"highway": "primary", "oneway": "yes", **extra_w2}, [(1000, 0), (2000, 0)]),
        ({"highway": "tertiary", "oneway": "-1", "maxspeed": "10"}, [(1000, -1000), (1000, 0)]),
        ({"highway": "residential", "oneway": "yes", "maxspeed": "30 km/h"}, [(2000, 0), (1000, -1000)]),
    ]
    frame = gpd.GeoDataFrame(
        [{"osm_id": f"way/{i + 1}", **tags} for i, (tags, _) in enumerate(rows)],
        geometry=[shapely.LineString(xy) for _, xy in rows],
        crs=HAND_CRS,
    )
    from circles.sources.way_filters import network_flags

    return network_flags(frame)


def reference_distances(net: WalkNetwork, facilities: Snapped, points: Snapped) -> NDArray[np.float64]:
    """Walking metres from each point to its nearest facility by networkx, the slow obvious way.

    Every edge is split at the snapped facilities and points, a super source joins the
    facilities through their access legs, and networkx's Dijkstra runs on that graph.

    Parameters
    ----------
    net : WalkNetwork
    facilities, points : Snapped
        Snapped onto ``net``.

    Returns
    -------
    ndarray of float64
        Metres, the point's access leg included; ``inf`` where unreachable.
    """
    import networkx as nx

    g = nx.Graph()
    extra: dict[int, list[tuple[float, object]]] = {}
    for i in np.flatnonzero(facilities.attached):
        extra.setdefault(int(facilities.edge[i]), []).append((float(facilities.along_m[i]), ("f", int(i))))
    for i in np.flatnonzero(points.attached):
        extra.setdefault(int(points.edge[i]), []).append((float(points.along_m[i]), ("h", int(i))))
    for e in range(net.n_edges):
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
        stops = [(0.0, u), *sorted(extra.get(e, []), key=lambda s: s[0]), (length, v)]
        for (a0, n0), (a1, n1) in itertools.pairwise(stops):
            w = a1 - a0
            if g.has_edge(n0, n1):
                w = min(w, g[n0][n1]["weight"])
            g.add_edge(n0, n1, weight=w)
    dg = g.to_directed()
    for i in np.flatnonzero(facilities.attached):
        dg.add_edge("S", ("f", int(i)), weight=float(facilities.access_leg_m[i]))
    dist = nx.single_source_dijkstra_path_length(dg, "S", weight="weight") if "S" in dg else {}
    out = np.full(len(points), np.inf)
    for i in np.flatnonzero(points.attached):
        d = dist.get(("h", int(i)))
        if d is not None:
            out[i] = d + points.access_leg_m[i]
    return out


def overpass_predicate(text: str):
    """A tag predicate from an Overpass filter string such as ``["highway"]["access"!~"private"]``.

    ``["k"]`` needs the key, ``["k"!~"re"]`` fails when the key's value matches ``re``
    anywhere, ``["k"~"re"]`` needs a match, ``["k"="v"]`` the exact value.

    Parameters
    ----------
    text : str
        The filter.

    Returns
    -------
    callable
        ``passes(tags) -> bool``.
    """
    conditions = re.findall(r'\["([^"]+)"(?:(!~|~|=)"([^"]*)")?\]', text)

    def passes(tags: dict[str, str]) -> bool:
        """True when ``tags`` meet every condition."""
        for key, op, pattern in conditions:
            present = key in tags
            if not op and not present:
                return False
            if op == "!~" and present and re.search(pattern, tags[key]):
                return False
            if op == "~" and not (present and re.search(pattern, tags[key])):
                return False
            if op == "=" and tags.get(key) != pattern:
                return False
        return True

    return passes


def osmnx_network_xml(pbf: Path, network_type: str, out: Path) -> int:
    """Write the ways OSMnx's own filter selects for ``network_type`` as OSM XML, for ``graph_from_xml``.

    OSMnx filters ways only when it downloads them; this applies its Overpass filter
    (``osmnx._overpass._get_network_filter``, parsed by :func:`overpass_predicate`) to a
    local file instead, independently of circles' own filters. Ways are cut where the
    extract lacks a node, as circles' reader cuts them.

    Parameters
    ----------
    pbf : Path
        Any OSM file pyosmium reads.
    network_type : str
        ``"drive"``, ``"bike"``, ``"walk"``, ...
    out : Path
        The ``.osm`` file to write.

    Returns
    -------
    int
        Ways written.
    """
    import osmium
    from osmnx import _overpass

    passes = overpass_predicate(_overpass._get_network_filter(network_type))
    ways, where = [], {}
    processor = (
        osmium.FileProcessor(str(pbf)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        if not way.is_way() or not passes(dict(way.tags)):
            continue
        runs: list[list[int]] = [[]]
        for node in way.nodes:
            if node.location.valid():
                runs[-1].append(node.ref)
                where[node.ref] = (node.location.lon, node.location.lat)
            elif runs[-1]:
                runs.append([])
        runs = [r for r in runs if len(r) >= 2]
        for k, refs in enumerate(runs):
            ways.append((way.id if len(runs) == 1 else -(way.id * 100 + k), refs, dict(way.tags)))
    with osmium.SimpleWriter(str(out)) as writer:
        for ref in sorted(where):
            writer.add_node(osmium.osm.mutable.Node(id=ref, location=where[ref], version=1))
        for way_id, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags, version=1))
    return len(ways)
