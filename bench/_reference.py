"""The straightforward pipelines circles is compared with, doing the same job on the same file.

Both read the network, residential buildings and clinics, snap homes and clinics to the nearest
graph node (no access legs), run one networkx multi-source Dijkstra from the clinics, turn
distances into minutes at 75 m/min, draw 5/10/15-minute service areas (edges whose both ends
are reached, buffered by 50 m and dissolved), write a Folium map (``folium.GeoJson`` layers, every
home a dot), a static PNG (GeoPandas ``plot``) and three GeoPackages. This is the code an analyst would write
with the libraries' defaults (graphs simplified, as both libraries do by default; islands kept so
that every home can be reached, as circles does):

* ``pyrosm``: ``OSM(pbf).get_network("walking", nodes=True)``, ``get_buildings``, ``get_landuse``,
  ``get_pois``, then ``to_graph(..., graph_type="networkx", retain_all=True)``;
* ``osmnx``: ``graph_from_xml(walk.osm, bidirectional=True, retain_all=True)`` and one
  ``features_from_xml(all.osm, tags=...)``. OSMnx reads OSM XML only and makes a graph of
  every way in the file, so the PBF is first written as XML twice (walkable ways with their
  nodes, and everything); that conversion is timed apart and not counted.

Homes follow circles' rule (residential building types anywhere, ``building=yes`` inside
``landuse=residential``), clinics its ``primary-care`` preset, so the three agree on what is
counted and differ in how it is measured.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

SPEED_M_PER_MIN = 75.0
BANDS_MIN = (5.0, 10.0, 15.0)
BUFFER_M = 50.0
CLINIC_TAGS = {"amenity": ["clinic", "doctors"], "healthcare": ["centre", "clinic", "doctor"]}


class Timer:
    """Seconds per named step, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


def _homes(buildings, landuse):
    """circles' rule: residential types anywhere, generic buildings inside residential land use."""
    import geopandas as gpd

    from circles.config import GENERIC_BUILDINGS, RESIDENTIAL_BUILDINGS

    kind = buildings["building"].fillna("")
    homes = kind.isin(RESIDENTIAL_BUILDINGS).to_numpy().copy()
    generic = kind.isin(GENERIC_BUILDINGS).to_numpy()
    if generic.any() and len(landuse):
        centres = gpd.GeoDataFrame(geometry=buildings.geometry.values[generic].representative_point())
        inside = gpd.sjoin(centres, landuse[["geometry"]].reset_index(drop=True), predicate="within")
        homes[np.flatnonzero(generic)[np.unique(inside.index.to_numpy())]] = True
    return buildings[homes]


BAND_COLOURS = {"0-5": "#1a9850", "5-10": "#91cf60", "10-15": "#fee08b", ">15": "#d73027"}


def _folium_map(areas, homes, clinics, path: Path) -> None:
    """Service areas, every home as a dot coloured by band, clinics: plain ``folium.GeoJson`` layers."""
    import folium
    import geopandas as gpd

    west, south, east, north = homes.total_bounds
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=13, tiles="OpenStreetMap")
    green = ["#1a9850", "#66bd63", "#a6d96a"]
    for i, row in areas.iloc[::-1].reset_index(drop=True).iterrows():
        style = {"fillColor": green[2 - i], "color": green[2 - i], "weight": 1, "fillOpacity": 0.25}
        folium.GeoJson(
            row.geometry, style_function=lambda _f, s=style: s, name=f"{row.band_min:g} min"
        ).add_to(m)
    points = gpd.GeoDataFrame(homes.drop(columns="geometry"), geometry=homes.representative_point().values)
    folium.GeoJson(
        points,
        marker=folium.CircleMarker(radius=3, fill=True, fill_opacity=0.8, weight=0),
        style_function=lambda f: {"fillColor": BAND_COLOURS.get(f["properties"]["band"], "#5e3c99")},
        tooltip=folium.GeoJsonTooltip(fields=["walk_time_min", "band"]),
        name="homes",
    ).add_to(m)
    folium.GeoJson(
        gpd.GeoDataFrame(clinics[["osm_id"]], geometry=clinics.representative_point().values),
        marker=folium.CircleMarker(radius=7, fill=True, color="#2166ac"),
        name="clinics",
    ).add_to(m)
    folium.LayerControl().add_to(m)
    m.save(str(path))


def _analyse(graph, homes, clinics, out: Path, timer: Timer) -> dict:
    """Snap, search, service areas, map, picture and files: the part both pipelines share."""
    import geopandas as gpd
    import networkx as nx
    import osmnx as ox
    import shapely

    with timer("project & snap"):
        crs = homes.estimate_utm_crs()
        graph = ox.project_graph(graph, to_crs=crs)
        home_pts = homes.to_crs(crs).representative_point()
        clinic_pts = clinics.to_crs(crs).representative_point()
        home_node = ox.distance.nearest_nodes(graph, home_pts.x.to_numpy(), home_pts.y.to_numpy())
        clinic_node = ox.distance.nearest_nodes(graph, clinic_pts.x.to_numpy(), clinic_pts.y.to_numpy())
    with timer("search"):
        dist = nx.multi_source_dijkstra_path_length(graph, set(clinic_node.tolist()), weight="length")
        walk_m = np.array([dist.get(n, np.nan) for n in home_node.tolist()])
        minutes = np.round(walk_m / SPEED_M_PER_MIN, 3)
        labels = np.array(["0-5", "5-10", "10-15", ">15", "unreachable"], dtype=object)
        band = labels[np.where(np.isnan(minutes), 4, np.searchsorted(BANDS_MIN, minutes, side="left"))]
    with timer("service areas"):
        edges = ox.graph_to_gdfs(graph, nodes=False)
        u, v = edges.index.get_level_values(0), edges.index.get_level_values(1)
        du = np.array([dist.get(n, np.inf) for n in u.tolist()])
        dv = np.array([dist.get(n, np.inf) for n in v.tolist()])
        polygons = []
        for b in BANDS_MIN:
            reached = (du <= b * SPEED_M_PER_MIN) & (dv <= b * SPEED_M_PER_MIN)
            polygons.append(shapely.union_all(edges.geometry.values[reached].buffer(BUFFER_M)))
        areas = gpd.GeoDataFrame({"band_min": list(BANDS_MIN)}, geometry=polygons, crs=crs).to_crs(4326)
    homes = homes.assign(walk_time_min=minutes, band=band)[["osm_id", "walk_time_min", "band", "geometry"]]
    clinics = clinics[["osm_id", "geometry"]]
    with timer("map.html"):
        _folium_map(areas, homes, clinics, out / "map.html")
    with timer("map.png"):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 8))
        areas.iloc[::-1].plot(ax=ax, column="band_min", cmap="RdYlGn_r", alpha=0.3)
        homes.plot(ax=ax, column="band", legend=True)
        clinics.representative_point().plot(ax=ax, color="blue", markersize=40)
        fig.savefig(out / "map.png", dpi=150)
        plt.close(fig)
    with timer("GeoPackages"):
        homes.to_file(out / "homes.gpkg", driver="GPKG")
        clinics.to_file(out / "facilities.gpkg", driver="GPKG")
        areas.to_file(out / "service_areas.gpkg", driver="GPKG")
    return {
        "homes": len(homes),
        "clinics": len(clinics),
        "graph_nodes": len(graph),
        "graph_edges": len(edges),
    }


def run_pyrosm(pbf: Path, out: Path) -> tuple[dict, dict[str, float]]:
    """The pyrosm + networkx pipeline; returns counts and seconds per step."""
    timer = Timer()
    with timer("read"):
        import pyrosm

        osm = pyrosm.OSM(str(pbf))
        nodes, edges = osm.get_network(network_type="walking", nodes=True)
        buildings = osm.get_buildings()
        landuse = osm.get_landuse(custom_filter={"landuse": ["residential"]})
        clinics = osm.get_pois(custom_filter=CLINIC_TAGS)
    with timer("graph"):
        graph = osm.to_graph(nodes, edges, graph_type="networkx", retain_all=True)
    with timer("homes"):
        buildings = buildings.assign(
            osm_id=buildings["osm_type"].astype(str) + "/" + buildings["id"].astype(str)
        )
        homes = _homes(buildings, landuse if landuse is not None else buildings.iloc[:0])
        clinics = clinics.assign(osm_id=clinics["osm_type"].astype(str) + "/" + clinics["id"].astype(str))
    return _analyse(graph, homes, clinics, out, timer), timer.seconds


def _runs(way) -> list[list[int]]:
    """Node ids of a way, cut where a node is missing from a clipped extract (runs of 2+ nodes)."""
    runs: list[list[int]] = [[]]
    for node in way.nodes:
        if node.location.valid():
            runs[-1].append(node.ref)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if len(r) >= 2]


def write_xml(pbf: Path, walk_xml: Path, all_xml: Path) -> None:
    """The PBF as OSM XML for OSMnx: its walkable ways (circles' walk filter) with their nodes, and all.

    OSMnx needs every node of a way. In a clipped extract, walkable ways are cut to the runs of
    nodes that are in the file (as circles reads them); other ways missing nodes are left out.
    """
    import osmium
    from osmium.osm.mutable import Way

    from circles.sources.walk_filter import is_walkable

    walk_runs: dict[int, list[list[int]]] = {}
    broken: set[int] = set()
    for way in osmium.FileProcessor(str(pbf), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if not way.is_way():
            continue
        if not all(n.location.valid() for n in way.nodes):
            broken.add(way.id)
        if "highway" in way.tags and is_walkable(dict(way.tags)):
            walk_runs[way.id] = _runs(way)
    needed = {ref for runs in walk_runs.values() for run in runs for ref in run}
    with (
        osmium.SimpleWriter(str(walk_xml), overwrite=True) as walk,
        osmium.SimpleWriter(str(all_xml), overwrite=True) as everything,
    ):
        for obj in osmium.FileProcessor(str(pbf)):
            if obj.is_way():
                if obj.id not in broken:
                    everything.add(obj)
                for k, run in enumerate(walk_runs.get(obj.id, [])):
                    new_id = obj.id if len(walk_runs[obj.id]) == 1 else obj.id * 1000 + k
                    walk.add_way(Way(id=new_id, nodes=run, tags=dict(obj.tags), version=1))
                continue
            everything.add(obj)
            if obj.is_node() and obj.id in needed:
                walk.add(obj)


def run_osmnx(walk_xml: Path, all_xml: Path, out: Path) -> tuple[dict, dict[str, float]]:
    """The OSMnx ``graph_from_xml`` pipeline; returns counts and seconds per step."""
    timer = Timer()
    with timer("read"):
        import osmnx as ox

        graph = ox.graph_from_xml(walk_xml, bidirectional=True, retain_all=True)
        tags = {"building": True, "landuse": ["residential"], **CLINIC_TAGS}
        features = ox.features_from_xml(all_xml, tags=tags)
    with timer("homes"):
        features = features.reset_index()
        features["osm_id"] = features["element"].astype(str) + "/" + features["id"].astype(str)
        has = {k: features[k].notna() if k in features else False for k in ("building", "landuse")}
        buildings = features[has["building"]]
        landuse = features[has["landuse"] & (features.get("landuse") == "residential")]
        homes = _homes(buildings, landuse)
        clinic = np.zeros(len(features), bool)
        for key, values in CLINIC_TAGS.items():
            if key in features:
                clinic |= features[key].isin(values).to_numpy()
        clinics = features[clinic]
    return _analyse(graph, homes, clinics, out, timer), timer.seconds
