"""Which OSM ways cyclists, e-bike riders and drivers may use, and in which direction.

The filters are OSMnx's (2.x) ``bike`` and ``drive`` network types applied to tags, as
:mod:`circles.sources.walk_filter` does for walking: OSMnx selects ``way["highway"]``
with the Overpass conditions of :data:`OVERPASS_FILTERS`, where ``!~`` is an unanchored
regular-expression mismatch (``["access"!~"private"]`` drops ``access=private`` and
``access=private;customers`` alike).

E-bikes (China's 电动自行车 are non-motor vehicles, GB 17761-2018, riding where bicycles
ride) use the bike network, with one rule added: where ``electric_bicycle=*`` is tagged
it replaces ``bicycle=*``. A way closed to bicycles but open to e-bikes
(``bicycle=no`` + ``electric_bicycle=yes``) is added; one open to bicycles but closed to
e-bikes (``electric_bicycle=no``) is dropped.

One-way streets (:func:`oneway_direction`): ``oneway=yes|true|1`` allows travel along the
way's node order only, ``oneway=-1|reverse`` against it, ``no|false|0`` and other values
(``reversible``, ``alternating``: time-dependent) both ways, as OSMnx reads them;
``junction=roundabout`` implies ``oneway=yes`` unless ``oneway`` says otherwise (OSMnx
ignores an explicit ``oneway=no`` there). Bicycles and e-bikes read
``oneway:bicycle`` first (``oneway:electric_bicycle`` before it for e-bikes) and ride
both ways where a contraflow lane is tagged (``cycleway*=opposite*``); OSMnx's bike
network does not read these. Walking is always two-way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_Conditions = tuple[tuple[str, re.Pattern[str]], ...]


def _compile(pairs: tuple[tuple[str, str], ...]) -> _Conditions:
    return tuple((key, re.compile(pattern)) for key, pattern in pairs)


# (tag, pattern): the way is excluded when the tag is present and the pattern is found.
_DRIVE_EXCLUDE = _compile(
    (
        ("area", "yes"),
        ("access", "private"),
        (
            "highway",
            "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|"
            "footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|"
            "services|steps|track",
        ),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "alley|driveway|emergency_access|parking|parking_aisle|private"),
    )
)
_BIKE_HIGHWAY_AND_ACCESS = _compile(
    (
        ("area", "yes"),
        ("access", "private"),
        (
            "highway",
            "abandoned|bus_guideway|construction|corridor|elevator|escalator|footway|motor|no|"
            "planned|platform|proposed|raceway|razed|rest_area|services|steps",
        ),
        ("service", "private"),
    )
)
_NO = re.compile("no")

#: The Overpass filters of OSMnx 2.1 these functions reproduce (``settings.default_access``
#: is ``["access"!~"private"]``).
OVERPASS_FILTERS: dict[str, str] = {
    "drive": '["highway"]["area"!~"yes"]["access"!~"private"]'
    '["highway"!~"abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|'
    "escalator|footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|"
    'service|services|steps|track"]["motor_vehicle"!~"no"]["motorcar"!~"no"]'
    '["service"!~"alley|driveway|emergency_access|parking|parking_aisle|private"]',
    "bike": '["highway"]["area"!~"yes"]["access"!~"private"]'
    '["highway"!~"abandoned|bus_guideway|construction|corridor|elevator|escalator|footway|motor|'
    'no|planned|platform|proposed|raceway|razed|rest_area|services|steps"]'
    '["bicycle"!~"no"]["service"!~"private"]',
}


def _excluded(tags: Mapping[str, str], conditions: _Conditions) -> bool:
    return any(key in tags and pattern.search(tags[key]) for key, pattern in conditions)


def is_drivable(tags: Mapping[str, str]) -> bool:
    """Return True when a way with these tags belongs to OSMnx's ``drive`` network.

    Parameters
    ----------
    tags : mapping
        The way's OSM tags.

    Returns
    -------
    bool
    """
    return "highway" in tags and not _excluded(tags, _DRIVE_EXCLUDE)


def is_bikeable(tags: Mapping[str, str]) -> bool:
    """Return True when a way with these tags belongs to OSMnx's ``bike`` network.

    Parameters
    ----------
    tags : mapping
        The way's OSM tags.

    Returns
    -------
    bool
    """
    if "highway" not in tags or _excluded(tags, _BIKE_HIGHWAY_AND_ACCESS):
        return False
    return "bicycle" not in tags or not _NO.search(tags["bicycle"])


def is_ebikeable(tags: Mapping[str, str]) -> bool:
    """Return True when e-bikes may use the way: the bike network, ``electric_bicycle`` before ``bicycle``.

    Parameters
    ----------
    tags : mapping
        The way's OSM tags.

    Returns
    -------
    bool
    """
    if "highway" not in tags or _excluded(tags, _BIKE_HIGHWAY_AND_ACCESS):
        return False
    value = tags.get("electric_bicycle", tags.get("bicycle"))
    return value is None or not _NO.search(value)


#: ``oneway`` values allowing travel along the node order only, and against it only.
ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
_TWO_WAY = frozenset({"no", "false", "0"})
#: Which keys say whether a way is one-way for each kind of vehicle, most specific first.
ONEWAY_KEYS: dict[str, tuple[str, ...]] = {
    "drive": ("oneway",),
    "bike": ("oneway:bicycle", "oneway"),
    "ebike": ("oneway:electric_bicycle", "oneway:bicycle", "oneway"),
}
_CONTRAFLOW_KEYS = ("cycleway", "cycleway:both", "cycleway:left", "cycleway:right")
#: Every tag :func:`oneway_direction` reads.
ONEWAY_TAGS: tuple[str, ...] = (*ONEWAY_KEYS["ebike"], "junction", *_CONTRAFLOW_KEYS)


def oneway_direction(tags: Mapping[str, str], network: str) -> int:
    """Which directions a vehicle may travel along a way: 1 along its nodes, -1 against them, 0 both.

    Parameters
    ----------
    tags : mapping
        The way's OSM tags.
    network : str
        ``"drive"``, ``"bike"`` or ``"ebike"`` (see :data:`ONEWAY_KEYS`); anything else
        (walking) is two-way.

    Returns
    -------
    int
    """
    keys = ONEWAY_KEYS.get(network)
    if keys is None:
        return 0
    if network != "drive" and any(tags.get(k, "").startswith("opposite") for k in _CONTRAFLOW_KEYS):
        return 0
    for key in keys:
        value = tags.get(key)
        if value is None:
            continue
        if value in ONEWAY_FORWARD:
            return 1
        if value in ONEWAY_BACKWARD:
            return -1
        if value in _TWO_WAY:
            return 0
    return 1 if tags.get("junction") == "roundabout" else 0


def oneway_directions(ways, network: str):
    """:func:`oneway_direction` of every row of a frame of ways (tag columns), vectorised.

    Parameters
    ----------
    ways : DataFrame
        One column per OSM key (missing columns and non-text cells: tag absent).
    network : str

    Returns
    -------
    ndarray of int64
    """
    import numpy as np

    n = len(ways)
    keys = ONEWAY_KEYS.get(network)
    if keys is None:
        return np.zeros(n, np.int64)

    def text(key: str) -> np.ndarray:
        if key not in ways:
            return np.full(n, "", dtype=object)
        values = ways[key].to_numpy(object)
        return np.where([isinstance(v, str) for v in values], values, "")

    out = np.zeros(n, np.int64)
    decided = np.zeros(n, bool)
    if network != "drive":
        for key in _CONTRAFLOW_KEYS:
            decided |= np.char.startswith(text(key).astype(str), "opposite")
    for key in keys:
        value = text(key)
        for values, direction in ((ONEWAY_FORWARD, 1), (ONEWAY_BACKWARD, -1), (_TWO_WAY, 0)):
            hit = ~decided & np.isin(value, list(values))
            out[hit] = direction
            decided |= hit
    out[~decided & (text("junction") == "roundabout")] = 1
    return out


#: Way filter of each network the modes use.
NETWORK_FILTERS = {"bike": is_bikeable, "ebike": is_ebikeable, "drive": is_drivable}


def network_flags(ways, networks: tuple[str, ...] = ("walk", "bike", "ebike", "drive")):
    """A copy of a frame of ways with a boolean ``net_<network>`` column per network, from its tag columns.

    For ways from elsewhere (OSMnx features, pyrosm, a hand-drawn test): the columns
    are the OSM keys (``highway``, ``oneway``, ``maxspeed``, ...); missing ones are absent tags.

    Parameters
    ----------
    ways : DataFrame or GeoDataFrame
    networks : tuple of str

    Returns
    -------
    DataFrame or GeoDataFrame
    """
    from circles.sources.walk_filter import is_walkable

    filters = {"walk": is_walkable, **NETWORK_FILTERS}
    geometry = getattr(ways, "_geometry_column_name", None)
    keys = [c for c in ways.columns if c != geometry]
    records = [{k: v for k, v in r.items() if isinstance(v, str)} for r in ways[keys].to_dict("records")]
    out = ways.copy()
    for network in networks:
        out[f"net_{network}"] = [filters[network](tags) for tags in records]
    return out


#: Tags the filters, one-way rules and speeds read: kept as columns when more than walking is read.
MODE_TAGS: tuple[str, ...] = (
    "access",
    "area",
    "service",
    "motor_vehicle",
    "motorcar",
    "bicycle",
    "electric_bicycle",
    "oneway",
    "oneway:bicycle",
    "oneway:electric_bicycle",
    "junction",
    *_CONTRAFLOW_KEYS,
    "maxspeed",
)

_SPEED = re.compile(r"^([0-9][\.,0-9]*?)(?:[ ]?(km/h|kmh|kph|mph|knots))?$")
_UNIT_KMH = {"mph": 1.609344, "knots": 1.852}


def parse_maxspeed_kmh(value: object) -> float | None:
    """A ``maxspeed`` tag in km/h, or None when it is not a plain number.

    ``"50"``, ``"50 km/h"``, ``"30 mph"`` (x 1.609344) and ``"10 knots"`` (x 1.852) are
    read; per-lane values (``"100|80"``) give their mean, as OSMnx does. Implicit
    values (``"CN:urban"``, ``"walk"``, ``"none"``) give None: the road-class speed
    applies instead.

    Parameters
    ----------
    value : object
        The tag's text (anything else gives None).

    Returns
    -------
    float or None
    """
    if not isinstance(value, str) or not value:
        return None
    speeds = []
    for part in value.split("|"):
        match = _SPEED.match(part.strip())
        if match is None:
            return None
        try:
            number = float(match.group(1).replace(",", "."))
        except ValueError:
            return None
        speeds.append(number * _UNIT_KMH.get(match.group(2) or "", 1.0))
    mean = sum(speeds) / len(speeds)
    return mean if mean > 0 else None
