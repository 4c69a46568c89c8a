"""Drive and bicycle times on Yuba County against OSMnx + networkx, home by home, within 1 %.

The reference is built the OSMnx way, independently of circles' filters: the PBF is
written as OSM XML (pyosmium) holding only the ways OSMnx's own Overpass filter for the
network type selects (parsed from ``osmnx._overpass._get_network_filter``), read by
``osmnx.graph_from_xml`` (one-way streets as OSMnx reads them, unsimplified so that every
edge keeps its own way's tags), given speeds by ``add_edge_speeds`` (circles' class
table as ``hwy_speeds``) or a constant 15 km/h, and ``add_edge_travel_times``; networkx
then searches the reversed graph from the clinics.

Every home stands at its nearest OSMnx node (at street level, as circles attaches
points), so both sides answer the same question; the remaining difference is the
length of an edge: OSMnx measures great circles on a sphere, circles the local UTM zone
on the ellipsoid, which differ by up to ~0.3 % with the direction at Yuba's latitude.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from circles.testing import osmnx_network_xml

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

YUBA = Path("benchmark_yuba_county_pbf") / "yuba_county_ca.osm.pbf"
N_CLINICS = 10


@pytest.fixture(scope="module")
def yuba(shared_data):
    from circles.sources.assemble import SourceSpec, load_inputs

    pbf = shared_data / YUBA
    if not pbf.is_file():
        pytest.skip(f"real-data test: {pbf} is absent")
    inputs = load_inputs(
        SourceSpec("pbf", pbf, facilities="osm:primary-care"), networks=("walk", "bike", "drive")
    )
    return pbf, inputs


def osmnx_graph(pbf: Path, network_type: str, folder: Path):
    import osmnx as ox

    from circles.modes import DRIVE_FALLBACK_KMH, DRIVE_SPEEDS_KMH

    xml = folder / f"{network_type}.osm"
    osmnx_network_xml(pbf, network_type, xml)
    graph = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
    if network_type == "drive":
        graph = ox.add_edge_speeds(graph, hwy_speeds=DRIVE_SPEEDS_KMH, fallback=DRIVE_FALLBACK_KMH)
    else:
        nx.set_edge_attributes(graph, 15.0, "speed_kph")
    return ox.add_edge_travel_times(graph)


@pytest.mark.parametrize(("network_type", "mode"), [("drive", "drive"), ("bike", "bicycle")])
def test_times_per_home_agree_with_osmnx(yuba, tmp_path, network_type, mode):
    from scipy.spatial import cKDTree

    from circles.engine import nearest_facility
    from circles.modes import mode_network, travel_mode
    from circles.network_from_graph import street_level_of

    pbf, inputs = yuba
    graph = osmnx_graph(pbf, network_type, tmp_path)
    net = mode_network(inputs.walkways, travel_mode(mode))
    assert net.n_nodes == graph.number_of_nodes()  # the same ways, node for node
    level = [
        n
        for n in graph.nodes
        if all(street_level_of(d) for _, _, d in graph.edges(n, data=True))
        and all(street_level_of(d) for _, _, d in graph.in_edges(n, data=True))
    ]
    xy = net.to_local([graph.nodes[n]["x"] for n in level], [graph.nodes[n]["y"] for n in level])
    homes = shapely.point_on_surface(inputs.homes.geometry.values)
    _, nearest = cKDTree(xy).query(net.to_local(shapely.get_x(homes), shapely.get_y(homes)))
    home_nodes = [level[i] for i in nearest]
    biggest = max(nx.strongly_connected_components(graph), key=len)
    pool = sorted(set(level) & biggest)
    clinic_nodes = [pool[i] for i in np.random.default_rng(7).choice(len(pool), N_CLINICS, replace=False)]

    reference = nx.multi_source_dijkstra_path_length(
        graph.reverse(copy=False), clinic_nodes, weight="travel_time"
    )
    want = np.array([reference.get(n, np.inf) for n in home_nodes])
    at = {n: i for i, n in enumerate(level)}
    clinics = net.snap(xy[[at[n] for n in clinic_nodes]], max_access_leg_m=1)
    points = net.snap(xy[nearest], max_access_leg_m=1)
    assert clinics.attached.all() and points.attached.all()
    _, got = nearest_facility(net.travel_graph, clinics, points)

    assert len(want) == len(inputs.homes) > 4000
    np.testing.assert_array_equal(np.isfinite(got.cost), np.isfinite(want))  # the same homes cut off
    finite = np.isfinite(want)
    assert finite.sum() > 4000
    np.testing.assert_allclose(got.cost[finite], want[finite], rtol=0.01)
    # Sphere against ellipsoid: a few per mille at most, a few per ten thousand typically.
    rel = np.abs(got.cost[finite] - want[finite]) / want[finite]
    assert rel.max() < 0.004 and np.median(rel) < 0.001
