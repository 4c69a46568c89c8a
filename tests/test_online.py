"""Online sources against a local server that answers like Overpass and Nominatim.

Nothing here touches the internet: a thread on 127.0.0.1 serves small recorded-style
JSON answers, OSMnx is pointed at it through :class:`OnlineSettings`, and every test
checks that ``osmnx.settings`` is left as it was.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np
import pyproj
import pytest
import shapely

from circles.config import facility_preset
from circles.errors import EmptyResultError, InputError, NetworkUnavailableError
from circles.network import WalkNetwork
from circles.sources.online import (
    OnlineSettings,
    features_online,
    geocode_area,
    osm_layers_online,
    walkways_online,
)

# A 0.001-degree square in Shenzhen with a centre node.
NODES = {
    1: (114.0500, 22.5400),
    2: (114.0510, 22.5400),
    3: (114.0510, 22.5410),
    4: (114.0500, 22.5410),
    5: (114.0505, 22.5405),
}
AREA = shapely.box(114.0490, 22.5390, 114.0520, 22.5420)


def _node(i, lon, lat, **tags):
    element = {"type": "node", "id": i, "lat": lat, "lon": lon}
    if tags:
        element["tags"] = tags
    return element


def _way(i, nodes, **tags):
    return {"type": "way", "id": i, "nodes": nodes, "tags": tags}


def _answer(elements):
    return {"version": 0.6, "generator": "Overpass API (test)", "osm3s": {}, "elements": elements}


WALK = _answer(
    [
        _way(100, [1, 2, 3], highway="residential", name="Square Road"),
        _way(101, [3, 4, 1], highway="footway"),
        _way(102, [1, 5], highway="footway"),
        *[_node(i, *xy) for i, xy in NODES.items() if i != 3],
        _node(3, *NODES[3]),
    ]
)
SHARED_PATH = _answer(
    [_way(200, [5, 3], highway="cycleway", foot="designated"), _node(5, *NODES[5]), _node(3, *NODES[3])]
)
BOX = [(114.0501, 22.5401), (114.0504, 22.5401), (114.0504, 22.5404), (114.0501, 22.5404)]
BOX2 = [(114.0506, 22.5401), (114.0509, 22.5401), (114.0509, 22.5404), (114.0506, 22.5404)]
FEATURES = _answer(
    [
        _node(10, 114.0502, 22.5402, amenity="clinic", name="Square Clinic"),
        _node(11, 114.0507, 22.5407, shop="chemist", name="Square Chemist"),
        *[_node(20 + k, *xy) for k, xy in enumerate(BOX)],
        *[_node(30 + k, *xy) for k, xy in enumerate(BOX2)],
        # the clinic's building, also tagged as clinic: the node inside it is the facility
        _way(300, [20, 21, 22, 23, 20], building="yes", amenity="clinic", name="Square Clinic"),
        _way(301, [30, 31, 32, 33, 30], building="apartments", **{"building:levels": "12"}),
        _way(302, [1, 2, 3, 4, 1], landuse="residential", name="Square Estate"),
        _node(1, *NODES[1]),
        _node(2, *NODES[2]),
        _node(3, *NODES[3]),
        _node(4, *NODES[4]),
    ]
)
PLACES = {
    "Testville": {
        "place_id": 1,
        "licence": "test",
        "osm_type": "relation",
        "osm_id": 42,
        "boundingbox": ["22.539", "22.542", "114.049", "114.052"],
        "lat": "22.5405",
        "lon": "114.0505",
        "display_name": "Testville, Shenzhen, China",
        "class": "boundary",
        "type": "administrative",
        "importance": 0.5,
        "geojson": shapely.geometry.mapping(AREA),
    },
    "Point Town": {
        "place_id": 2,
        "licence": "test",
        "osm_type": "node",
        "osm_id": 43,
        "boundingbox": ["22.54", "22.54", "114.05", "114.05"],
        "lat": "22.54",
        "lon": "114.05",
        "display_name": "Point Town",
        "class": "place",
        "type": "hamlet",
        "importance": 0.4,
        "geojson": {"type": "Point", "coordinates": [114.05, 22.54]},
    },
}
STATUS = (
    "Connected as: 1\nCurrent time: 2024-01-01T00:00:00Z\nAnnounced endpoint: none\n"
    "Rate limit: 2\n2 slots available now.\n"
    "Currently running queries (pid, space limit, time limit, start time):\n"
)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, body: str, content_type: str = "application/json") -> None:
        data = body.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        self.server.requests.append(("GET", url.path))
        if url.path == "/api/status":
            self._send(STATUS, "text/plain")
        elif url.path == "/nominatim/search":
            query = parse_qs(url.query)["q"][0]
            self._send(json.dumps([PLACES[query]] if query in PLACES else []))
        else:
            self.send_error(404)

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        query = parse_qs(self.rfile.read(length).decode("utf-8"))["data"][0]
        self.server.requests.append(("POST", query))
        if 'way["highway"="cycleway"]' in query:
            self._send(json.dumps(self.server.shared_path))
        elif 'way["highway"]' in query:
            self._send(json.dumps(self.server.walk))
        elif "(node[" in query:  # a features query: OSMnx keeps the elements with the asked tags
            self._send(json.dumps(FEATURES))
        else:
            self.send_error(400)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.requests = []
    httpd.walk = WALK
    httpd.shared_path = SHARED_PATH
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def online(server, tmp_path):
    base = f"http://127.0.0.1:{server.server_address[1]}"
    return OnlineSettings(
        overpass_url=f"{base}/api", nominatim_url=f"{base}/nominatim", cache_folder=tmp_path / "cache"
    )


@pytest.fixture(autouse=True)
def osmnx_settings_untouched():
    """Fail a test that leaves osmnx.settings or socket.getaddrinfo changed."""
    import osmnx as ox

    def snapshot():
        return {k: repr(v) for k, v in vars(ox.settings).items() if not k.startswith("_")}

    before, getaddrinfo = snapshot(), socket.getaddrinfo
    yield
    assert snapshot() == before
    assert socket.getaddrinfo is getaddrinfo


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_walkways_online(server, online):
    ways = walkways_online(AREA, online=online)
    assert ways.crs.to_epsg() == 4326
    # Six straight segments: 1-2, 2-3 (road), 3-4, 4-1 (footway), 1-5 (footway), 5-3 (shared path).
    assert sorted(ways["osm_id"]) == ["way/100", "way/100", "way/101", "way/101", "way/102", "way/200"]
    assert set(ways.loc[ways["osm_id"] == "way/100", "name"]) == {"Square Road"}
    geod = pyproj.Geod(ellps="WGS84")
    expected_m = sum(
        geod.inv(*NODES[a], *NODES[b])[2] for a, b in [(1, 2), (2, 3), (3, 4), (4, 1), (1, 5), (5, 3)]
    )
    net = WalkNetwork.from_lines(ways.geometry.values)
    assert (net.n_nodes, net.n_edges) == (5, 6)
    assert net.edge_length_m.sum() == pytest.approx(expected_m, rel=1e-3)
    posts = [r for r in server.requests if r[0] == "POST"]
    assert len(posts) == 2  # one query per walk filter
    assert all(q.startswith("[out:json][timeout:180];(way[") for _, q in posts)

    # The same download again comes from the cache: no further query reaches the server.
    again = walkways_online(AREA, online=online)
    assert len([r for r in server.requests if r[0] == "POST"]) == 2
    assert again.geometry.equals(ways.geometry)


def test_empty_area_online(server, online):
    server.walk = server.shared_path = _answer([])
    with pytest.raises(EmptyResultError, match="no walkable ways in the area"):
        walkways_online(AREA, online=OnlineSettings(**{**vars(online), "use_cache": False}))


def test_features_and_layers_online(server, online):
    found = features_online(AREA, {"amenity": "clinic"}, online=online)
    assert sorted(found["osm_id"]) == ["node/10", "way/300"]

    layers = osm_layers_online(AREA, facility_preset("primary-care"), online=online)
    assert len(layers.walkways) == 6
    # The clinic node lies in its clinic building: counted once, as the node.
    assert layers.facilities["osm_id"].tolist() == ["node/10"]
    assert layers.facilities["name"].tolist() == ["Square Clinic"]
    assert sorted(layers.buildings["osm_id"]) == ["way/300", "way/301"]
    apartments = layers.buildings.set_index("osm_id").loc["way/301"]
    assert apartments["building"] == "apartments"
    assert apartments["building:levels"] == "12"
    assert layers.residential_areas["osm_id"].tolist() == ["way/302"]
    assert layers.residential_areas.geometry.iloc[0].equals(shapely.Polygon([NODES[i] for i in (1, 2, 3, 4)]))
    from circles.sources.osm import residential_homes

    assert sorted(residential_homes(layers)["osm_id"]) == ["way/300", "way/301"]


def test_custom_key_online_is_kept(server, online):
    layers = osm_layers_online(AREA, facility_preset("shop=chemist"), online=online)
    assert layers.facilities["osm_id"].tolist() == ["node/11"]
    assert layers.facilities["shop"].tolist() == ["chemist"]
    assert layers.facilities["name"].tolist() == ["Square Chemist"]
    assert "shop" not in layers.buildings.columns  # other layers keep the usual columns


def test_nothing_found_is_an_empty_frame(server, online):
    found = features_online(AREA, {"amenity": "hospital"}, online=online)
    assert len(found) == 0
    assert found.crs.to_epsg() == 4326


def test_geocode_area(server, online):
    area = geocode_area("Testville", online=online)
    assert area["name"].tolist() == ["Testville"]
    assert area["display_name"].tolist() == ["Testville, Shenzhen, China"]
    assert area["osm_id"].tolist() == ["relation/42"]
    assert area.geometry.iloc[0].equals(AREA)
    assert area.crs.to_epsg() == 4326
    with pytest.raises(InputError, match="place 'Nowhere' was not found by Nominatim; check the spelling"):
        geocode_area("Nowhere", online=online)
    with pytest.raises(InputError, match="is a point or line in Nominatim, not an area"):
        geocode_area("Point Town", online=online)


def test_network_down(tmp_path):
    base = f"http://127.0.0.1:{_closed_port()}"
    down = OnlineSettings(
        overpass_url=f"{base}/api", nominatim_url=f"{base}/nominatim", cache_folder=tmp_path, timeout_s=5
    )
    with pytest.raises(NetworkUnavailableError, match=r"cannot reach 127\.0\.0\.1:\d+ \(ConnectionError\)"):
        walkways_online(AREA, online=down)
    with pytest.raises(NetworkUnavailableError, match=r"use a local \.osm\.pbf extract instead"):
        features_online(AREA, {"building": True}, online=down)
    with pytest.raises(NetworkUnavailableError, match="behind a proxy set HTTPS_PROXY"):
        geocode_area("Testville", online=down)


def test_server_that_never_answers(tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections in the kernel, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api"
        slow = OnlineSettings(overpass_url=url, cache_folder=tmp_path, timeout_s=1)
        with pytest.raises(NetworkUnavailableError, match=r"did not answer within 1 s"):
            walkways_online(AREA, online=slow)


def test_cached_answer_needs_no_network(server, online):
    walkways_online(AREA, online=online)
    server.shutdown()
    server.server_close()
    offline = walkways_online(AREA, online=online)  # served from the cache folder
    assert len(offline) == 6


def test_bad_area():
    with pytest.raises(InputError, match="needs a study-area polygon, got Point"):
        walkways_online(shapely.Point(114.05, 22.54))
    with pytest.raises(InputError, match="not in WGS-84 longitude/latitude"):
        walkways_online(shapely.box(500_000, 2_490_000, 501_000, 2_491_000))


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("CIRCLES_ONLINE") != "1", reason="live internet: set CIRCLES_ONLINE=1")
def test_live_download(tmp_path):
    settings = OnlineSettings(cache_folder=tmp_path)
    area = geocode_area("Lianhua Hill Park, Shenzhen", online=settings)
    ways = walkways_online(area.geometry.iloc[0], online=settings)
    assert len(ways) > 0
    assert np.isfinite(WalkNetwork.from_lines(ways.geometry.values).edge_length_m).all()
