"""Brute-force reference: split edges at snapped points and run networkx."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np


def reference_distances(net, fac, homes):
    """Split every edge at the snapped points and run networkx from a super source."""
    g = nx.Graph()
    extra: dict[int, list[tuple[float, object]]] = {}
    for i in np.flatnonzero(fac.attached):
        extra.setdefault(int(fac.edge[i]), []).append((float(fac.along_m[i]), ("f", int(i))))
    for i in np.flatnonzero(homes.attached):
        extra.setdefault(int(homes.edge[i]), []).append((float(homes.along_m[i]), ("h", int(i))))
    for e in range(net.n_edges):
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length_m[e])
        stops = [(0.0, u), *sorted(extra.get(e, []), key=lambda s: s[0]), (length, v)]
        for (a0, n0), (a1, n1) in itertools.pairwise(stops):
            w = a1 - a0
            if g.has_edge(n0, n1):
                w = min(w, g[n0][n1]["weight"])
            g.add_edge(n0, n1, weight=w)
    dg = g.to_directed()
    for i in np.flatnonzero(fac.attached):
        dg.add_edge("S", ("f", int(i)), weight=float(fac.access_leg_m[i]))
    dist = nx.single_source_dijkstra_path_length(dg, "S", weight="weight") if "S" in dg else {}
    out = np.full(len(homes), np.inf)
    for i in np.flatnonzero(homes.attached):
        d = dist.get(("h", int(i)))
        if d is not None:
            out[i] = d + homes.access_leg_m[i]
    return out
