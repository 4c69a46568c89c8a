"""Which OSM ways are walkable: OSMnx's ``walk`` network type, applied to tags.

OSMnx (2.x) selects ``way["highway"]`` with the Overpass conditions below, where
``!~`` is an unanchored regular-expression mismatch. Applying the same conditions
to tags read from a PBF or XML file gives the same ways as an online download.

One deliberate addition: a ``highway=cycleway`` that is legally open to walkers
(``foot=yes|designated|permissive``) is walkable. Shared foot-and-cycle paths are
common (e.g. along Helsinki's and Shenzhen's avenues) and dropping them cuts the
network; OSMnx drops them. Roads tagged ``sidewalk=separate`` are excluded as in
OSMnx, because their sidewalks are mapped as separate footways.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# (tag, pattern): the way is excluded when the tag is present and the pattern is found.
_EXCLUDE: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("area", "yes"),
        ("access", "private"),
        (
            "highway",
            "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|"
            "proposed|raceway|razed|rest_area|services",
        ),
        ("foot", "no"),
        ("service", "private"),
        ("sidewalk", "separate"),
        ("sidewalk:both", "separate"),
        ("sidewalk:left", "separate"),
        ("sidewalk:right", "separate"),
    )
)
_FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})

#: Overpass filter strings for an online download that selects the same ways.
OVERPASS_WALK_FILTERS: tuple[str, ...] = (
    '["highway"]["area"!~"yes"]["access"!~"private"]'
    '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|'
    'platform|proposed|raceway|razed|rest_area|services"]'
    '["foot"!~"no"]["service"!~"private"]'
    '["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]'
    '["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]',
    '["highway"="cycleway"]["area"!~"yes"]["access"!~"private"]["foot"~"^(yes|designated|permissive)$"]',
)


def is_walkable(tags: Mapping[str, str]) -> bool:
    """Return True when a way with these tags belongs to the walk network.

    Parameters
    ----------
    tags : mapping
        The way's OSM tags.

    Returns
    -------
    bool

    """
    highway = tags.get("highway")
    if highway is None:
        return False
    shared_path = highway == "cycleway" and tags.get("foot") in _FOOT_ALLOWED
    checks = _EXCLUDE[:2] if shared_path else _EXCLUDE  # a shared path: area and access only
    return not any(key in tags and pattern.search(tags[key]) for key, pattern in checks)


_INDOOR_HIGHWAYS = frozenset({"corridor", "elevator"})


def is_street_level(tags: Mapping[str, str]) -> bool:
    """Return True when homes and clinics may attach to a walkable way with these tags.

    Tunnels (e.g. Helsinki's underground service tunnels, metro passages), bridges and
    other ways off the ground level (``layer`` other than 0) and indoor corridors stay
    in the network for walking through, but a building's door does not open onto them:
    snapping a clinic 12 m "onto" a tunnel four levels down would make it 30 minutes
    away. ``tunnel=building_passage`` and ``covered=yes`` are at street level.

    Parameters
    ----------
    tags : mapping
        The way's OSM tags.

    Returns
    -------
    bool
    """
    tunnel = tags.get("tunnel", "no")
    if tunnel not in ("no", "building_passage"):
        return False
    if tags.get("bridge", "no") not in ("no",):
        return False
    if tags.get("indoor", "no") not in ("no",) or tags.get("highway") in _INDOOR_HIGHWAYS:
        return False
    layer = tags.get("layer", "0").split(";")[0].strip()
    try:
        return float(layer) == 0
    except ValueError:
        return True
