"""Drive and bicycle times of circles against OSMnx + networkx on Yuba County, home by home.

    python bench/modes_osmnx.py            # ~1 min

The reference is the OSMnx way: the ways OSMnx's own filter selects, written as OSM XML
(``circles.testing.osmnx_network_xml``), ``graph_from_xml`` (unsimplified), speeds by
``add_edge_speeds(hwy_speeds=circles.modes.DRIVE_SPEEDS_KMH)`` or 15 km/h, travel times,
then networkx from 10 clinics (seeded, at street-level nodes) on the reversed graph.

Two rows per mode:

- *homes at nodes*: each home placed at its nearest street-level OSMnx node, so both
  answer the same question; the gap left is edge length (OSMnx: great circles on a
  sphere; circles: the UTM zone on the ellipsoid);
- *homes as they are*: circles snaps each home onto its nearest road segment and walks
  the access leg at 4.5 km/h; OSMnx's usual way takes the nearest graph node and no leg.
  The gap is mostly that walked leg, which is why circles is slower there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from _common import SHARED_DATA

YUBA = SHARED_DATA / "benchmark_yuba_county_pbf" / "yuba_county_ca.osm.pbf"


def _graph(network_type: str, folder: Path):
    import osmnx as ox

    from circles.modes import DRIVE_FALLBACK_KMH, DRIVE_SPEEDS_KMH
    from circles.testing import osmnx_network_xml

    xml = folder / f"{network_type}.osm"
    osmnx_network_xml(YUBA, network_type, xml)
    graph = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
    if network_type == "drive":
        graph = ox.add_edge_speeds(graph, hwy_speeds=DRIVE_SPEEDS_KMH, fallback=DRIVE_FALLBACK_KMH)
    else:
        nx.set_edge_attributes(graph, 15.0, "speed_kph")
    return ox.add_edge_travel_times(graph)


def _compare(inputs, network_type: str, mode: str, folder: Path) -> list[tuple]:
    from scipy.spatial import cKDTree

    from circles.engine import nearest_facility
    from circles.modes import mode_network, travel_mode
    from circles.network_from_graph import street_level_of

    graph = _graph(network_type, folder)
    net = mode_network(inputs.walkways, travel_mode(mode))
    level = [
        n
        for n in graph.nodes
        if all(street_level_of(d) for _, _, d in graph.edges(n, data=True))
        and all(street_level_of(d) for _, _, d in graph.in_edges(n, data=True))
    ]
    xy = net.to_local([graph.nodes[n]["x"] for n in level], [graph.nodes[n]["y"] for n in level])
    homes = shapely.point_on_surface(inputs.homes.geometry.values)
    home_xy = net.to_local(shapely.get_x(homes), shapely.get_y(homes))
    _, nearest = cKDTree(xy).query(home_xy)
    pool = sorted(set(level) & max(nx.strongly_connected_components(graph), key=len))
    clinic_nodes = [pool[i] for i in np.random.default_rng(7).choice(len(pool), 10, replace=False)]
    reference = nx.multi_source_dijkstra_path_length(
        graph.reverse(copy=False), clinic_nodes, weight="travel_time"
    )
    want = np.array([reference.get(level[i], np.inf) for i in nearest])
    at = {n: i for i, n in enumerate(level)}
    clinics = net.snap(xy[[at[n] for n in clinic_nodes]], max_access_leg_m=1)
    _, at_nodes = nearest_facility(net.travel_graph, clinics, net.snap(xy[nearest], max_access_leg_m=1))
    real = net.snap(home_xy, max_access_leg_m=250, min_island_m=300)
    _, as_they_are = nearest_facility(net.travel_graph, clinics, real)
    rows = []
    for label, got in (("homes at nodes", at_nodes.cost), ("homes as they are", as_they_are.cost)):
        ok = np.isfinite(got) & np.isfinite(want)
        rel = np.abs(got[ok] - want[ok]) / want[ok]
        gap_s = got[ok] - want[ok]
        rows.append(
            (
                mode,
                label,
                int(ok.sum()),
                float(np.median(rel)),
                float(rel.max()),
                float(np.mean(rel <= 0.01)),
                float(np.median(gap_s)),
            )
        )
    legs = real.access_leg_m[np.isfinite(as_they_are.cost)] * 3.6 / 4.5
    rows.append((mode, "  (median walked leg, s)", int(legs.size), None, None, None, float(np.median(legs))))
    return rows


def main() -> None:
    """Print the table."""
    if not YUBA.is_file():
        raise SystemExit(f"{YUBA} is absent (set CIRCLES_SHARED_DATA)")
    from circles.sources.assemble import SourceSpec, load_inputs

    inputs = load_inputs(
        SourceSpec("pbf", YUBA, facilities="osm:primary-care"), networks=("walk", "bike", "drive")
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for network_type, mode in (("drive", "drive"), ("bike", "bicycle")):
            rows += _compare(inputs, network_type, mode, Path(tmp))
    print(f"Yuba County: {len(inputs.homes):,} homes, 10 clinics; circles against OSMnx + networkx")
    print(
        f"{'mode':<8} {'homes':<24} {'compared':>8} {'median rel':>10} {'max rel':>8} {'<=1%':>6} "
        f"{'median gap s':>12}"
    )
    for mode, label, n, med, worst, share, gap in rows:
        cells = [f"{v:>10.4%}" if v is not None else f"{'':>10}" for v in (med,)]
        worst_s = f"{worst:>8.3%}" if worst is not None else f"{'':>8}"
        share_s = f"{share:>6.1%}" if share is not None else f"{'':>6}"
        print(f"{mode:<8} {label:<24} {n:>8,} {cells[0]} {worst_s} {share_s} {gap:>12.1f}")


if __name__ == "__main__":
    main()
