"""Travel modes: walking, elderly walking, cycling, e-bike and driving, each a network and speeds.

A mode says which ways it may use (OSMnx's ``walk``, ``bike`` and ``drive`` network types
applied to tags; see :mod:`circles.sources.way_filters`), whether one-way streets apply,
and how fast it goes on each way:

========  ==========================================================================
walk      4.5 km/h (the walking speed setting), every street both ways
elderly   3.6 km/h, every street both ways
bicycle   15 km/h, one-way streets respected
ebike     20 km/h, at most the way's posted ``maxspeed``, one-way streets respected
drive     the posted ``maxspeed``, else the road class's speed (:data:`DRIVE_SPEEDS_KMH`,
          or with ``drive_speeds="observed"`` the mean posted speed of the class in the
          extract, OSMnx's ``add_edge_speeds`` imputation), times an explicit
          ``congestion_factor`` (default 1: free flow); no junction delay is added
========  ==========================================================================

Walking modes cost metres (the existing walk network); the others cost seconds, and the
straight access leg between a home (or clinic) and its road is *walked* at the walking
speed, never ridden or driven.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np

from circles.config import DEFAULT_SPEED_KMH, ELDERLY_SPEED_KMH
from circles.crs import WGS84
from circles.errors import EmptyResultError, InputError
from circles.mode_speeds import (
    DRIVE_FALLBACK_KMH,
    DRIVE_SPEED_CHOICES,
    DRIVE_SPEEDS_KMH,
    class_speeds_kmh,
    way_rates,
    way_speeds_kmh,
)
from circles.network import WalkNetwork

__all__ = [
    "DEFAULT_BICYCLE_SPEED_KMH",
    "DEFAULT_EBIKE_SPEED_KMH",
    "DRIVE_FALLBACK_KMH",
    "DRIVE_SPEEDS_KMH",
    "MODES",
    "MODE_ALIASES",
    "MODE_NETWORK",
    "MODE_PHRASES",
    "ModeOptions",
    "TravelMode",
    "class_speeds_kmh",
    "mode_name",
    "mode_network",
    "mode_ways",
    "top_speed_kmh",
    "travel_mode",
    "way_rates",
    "way_speeds_kmh",
]

#: Travel modes by name.
MODES = ("walk", "elderly", "bicycle", "ebike", "drive")
#: Other spellings accepted for the modes.
MODE_ALIASES = {"walking": "walk", "bike": "bicycle", "cycle": "bicycle", "e-bike": "ebike", "car": "drive"}
#: How each mode reads after "within 15 min" in outputs.
MODE_PHRASES = {
    "walk": "walk",
    "elderly": "walk at elderly pace",
    "bicycle": "by bicycle",
    "ebike": "by e-bike",
    "drive": "drive",
}
#: Which network (way filter) each mode travels on.
MODE_NETWORK = {"walk": "walk", "elderly": "walk", "bicycle": "bike", "ebike": "ebike", "drive": "drive"}

DEFAULT_BICYCLE_SPEED_KMH = 15.0
#: China's e-bike standard (GB 17761-2018) caps the assisted speed at 25 km/h; 20 is a typical ride.
DEFAULT_EBIKE_SPEED_KMH = 20.0


def _positive(value: float, parameter: str, *, upper: float = math.inf) -> float:
    number = float(value)
    if not (math.isfinite(number) and 0 < number <= upper):
        bound = f"in (0, {upper:g}]" if math.isfinite(upper) else "a finite number above 0"
        raise InputError(f"`{parameter}` must be {bound}, got {value!r}", parameter=parameter)
    return number


@dataclass(frozen=True)
class ModeOptions:
    """Speeds of the modes that have one, and how driving speeds are found.

    Parameters
    ----------
    bicycle_speed_kmh : float
        Cycling speed (default 15 km/h).
    ebike_speed_kmh : float
        E-bike speed (default 20 km/h), capped on each way by its ``maxspeed``.
    drive_speeds : str
        ``"table"``: roads without ``maxspeed`` drive at :data:`DRIVE_SPEEDS_KMH`;
        ``"observed"``: at the mean ``maxspeed`` of their class in the extract (each way
        counted once), classes with none at the mean of the class means, as OSMnx's
        ``add_edge_speeds`` imputes (which counts graph edges instead of ways).
    congestion_factor : float
        Share of the free-flow driving speed actually driven, in (0, 1]; 1 (default)
        means free flow. Applies to driving only.
    """

    bicycle_speed_kmh: float = DEFAULT_BICYCLE_SPEED_KMH
    ebike_speed_kmh: float = DEFAULT_EBIKE_SPEED_KMH
    drive_speeds: str = "table"
    congestion_factor: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "bicycle_speed_kmh", _positive(self.bicycle_speed_kmh, "bicycle_speed_kmh", upper=60)
        )
        object.__setattr__(
            self, "ebike_speed_kmh", _positive(self.ebike_speed_kmh, "ebike_speed_kmh", upper=60)
        )
        object.__setattr__(
            self, "congestion_factor", _positive(self.congestion_factor, "congestion_factor", upper=1)
        )
        if self.drive_speeds not in DRIVE_SPEED_CHOICES:
            raise InputError(
                f"`drive_speeds` must be one of {', '.join(DRIVE_SPEED_CHOICES)}, got {self.drive_speeds!r}",
                parameter="drive_speeds",
            )


@dataclass(frozen=True)
class TravelMode:
    """One way of travelling: its network, its speeds, whether one-way streets apply.

    Attributes
    ----------
    name : str
        One of :data:`MODES`.
    network : str
        The way filter: ``"walk"``, ``"bike"``, ``"ebike"`` or ``"drive"``.
    speed_kmh : float or None
        The mode's speed; None for driving (per road).
    access_speed_kmh : float
        Walking speed on the access legs between points and their road.
    one_way_streets : bool
        Whether one-way streets apply (not for walking).
    capped_by_maxspeed : bool
        Whether ``speed_kmh`` is capped by each way's ``maxspeed`` (e-bikes).
    drive_speeds : str
        ``"table"`` or ``"observed"`` (driving).
    congestion_factor : float
        Share of the free-flow driving speed driven (driving).
    """

    name: str
    network: str
    speed_kmh: float | None
    access_speed_kmh: float = DEFAULT_SPEED_KMH
    one_way_streets: bool = False
    capped_by_maxspeed: bool = False
    drive_speeds: str = "table"
    congestion_factor: float = 1.0

    @property
    def walks(self) -> bool:
        """True for the walking modes (costed in metres, two-way)."""
        return self.network == "walk"

    def describe(self) -> str:
        """The mode in one sentence, as outputs state it."""
        if self.walks:
            who = "elderly walking" if self.name == "elderly" else "walking"
            return f"{who} at {self.speed_kmh:g} km/h, every walkable way both ways"
        legs = f"; access legs between homes or clinics and the road walked at {self.access_speed_kmh:g} km/h"
        oneway = "one-way streets respected"
        if self.network == "drive":
            source = (
                "the mean posted speed of its class in the extract"
                if self.drive_speeds == "observed"
                else "the speed of its road class (circles.mode_speeds.DRIVE_SPEEDS_KMH)"
            )
            flow = (
                "free flow"
                if self.congestion_factor == 1
                else f"{100 * self.congestion_factor:g}% of the free-flow speed (congestion factor)"
            )
            return (
                f"driving at the posted maxspeed, else {source}, {flow}, no junction delay; OSMnx's drive "
                f"network, {oneway}{legs}"
            )
        if self.network == "ebike":
            return (
                f"e-bike at {self.speed_kmh:g} km/h, at most the posted maxspeed; the bike network "
                f"(electric_bicycle=* read before bicycle=*), {oneway}{legs}"
            )
        return f"cycling at {self.speed_kmh:g} km/h on OSMnx's bike network, {oneway}{legs}"


def mode_name(text: str) -> str:
    """The canonical name of a mode (``"bike"`` -> ``"bicycle"``), or an InputError naming the modes.

    Parameters
    ----------
    text : str
        A mode name or alias as the user wrote it (case and surrounding white space ignored).

    Returns
    -------
    str
        A key of :data:`MODES`.

    Raises
    ------
    InputError
        When ``text`` names no mode (its parameter is ``mode``).
    """
    key = str(text).strip().lower()
    key = MODE_ALIASES.get(key, key)
    if key not in MODES:
        raise InputError(
            f"unknown travel mode {text!r}",
            parameter="mode",
            fix=f"use one of {', '.join(MODES)}",
        )
    return key


def travel_mode(
    name: str, options: ModeOptions | None = None, *, walk_speed_kmh: float = DEFAULT_SPEED_KMH
) -> TravelMode:
    """The :class:`TravelMode` called ``name``.

    Parameters
    ----------
    name : str
        ``walk``, ``elderly``, ``bicycle`` (``bike``), ``ebike`` (``e-bike``) or ``drive`` (``car``).
    options : ModeOptions, optional
        Cycling, e-bike and driving speeds.
    walk_speed_kmh : float
        Speed of ``walk`` and of every access leg.

    Returns
    -------
    TravelMode
    """
    options = options or ModeOptions()
    key = mode_name(name)
    network = MODE_NETWORK[key]
    if key == "walk":
        return TravelMode(key, network, walk_speed_kmh, walk_speed_kmh)
    if key == "elderly":
        return TravelMode(key, network, ELDERLY_SPEED_KMH, ELDERLY_SPEED_KMH)
    if key == "bicycle":
        return TravelMode(key, network, options.bicycle_speed_kmh, walk_speed_kmh, one_way_streets=True)
    if key == "ebike":
        return TravelMode(
            key,
            network,
            options.ebike_speed_kmh,
            walk_speed_kmh,
            one_way_streets=True,
            capped_by_maxspeed=True,
        )
    return TravelMode(
        key,
        network,
        None,
        walk_speed_kmh,
        one_way_streets=True,
        drive_speeds=options.drive_speeds,
        congestion_factor=options.congestion_factor,
    )


def mode_ways(ways: gpd.GeoDataFrame, mode: TravelMode) -> gpd.GeoDataFrame:
    """The ways a mode may use: rows flagged ``net_<network>`` (all rows of a walk-only source for walking).

    Parameters
    ----------
    ways : GeoDataFrame
        Ways read, with ``net_<network>`` flags or walkways only.
    mode : TravelMode
        The mode; its ``network`` names the ``net_<network>`` column used.

    Returns
    -------
    GeoDataFrame

    Raises
    ------
    InputError
        When the ways were read for walking only and the mode needs another network.
    """
    column = f"net_{mode.network}"
    if column in ways:
        return ways[ways[column].fillna(False).to_numpy(bool)]
    if mode.walks:
        return ways
    raise InputError(
        f"the network source was read for walking only; {mode.name} needs its own ways",
        parameter="mode",
        fix="read an OSM file (.osm.pbf or .osm) with the modes' networks (`networks`)",
    )


def mode_network(ways: gpd.GeoDataFrame, mode: TravelMode) -> WalkNetwork:
    """The network a mode travels on, from the ways read (WGS-84 lines).

    Walking modes give the two-way walk network costed in metres; the others a
    directed network costed in seconds whose access legs are walked at
    ``mode.access_speed_kmh``.

    Parameters
    ----------
    ways : GeoDataFrame
        Ways of every mode read (``net_<network>`` flags, see
        :func:`circles.sources.way_filters.network_flags`), or walkways only; in their
        CRS (WGS-84 when none is set).
    mode : TravelMode
        The mode whose ways, speeds and access speed (km/h) are used.

    Returns
    -------
    WalkNetwork
    """
    own = mode_ways(ways, mode)
    if len(own) == 0:
        raise EmptyResultError(
            f"no ways {mode.name} may use within reach of the study area", parameter="mode"
        )
    level = own["street_level"].fillna(True).to_numpy(bool) if "street_level" in own else None
    crs = own.crs or WGS84
    if mode.walks:
        return WalkNetwork.from_lines(own.geometry.values, crs, street_level=level)
    forward, backward = way_rates(own, mode)
    net = WalkNetwork.from_lines(
        own.geometry.values, crs, street_level=level, rate_forward=forward, rate_backward=backward
    )
    return replace(net, cost_unit="s", access_cost_per_m=3.6 / mode.access_speed_kmh)


def top_speed_kmh(ways: gpd.GeoDataFrame, mode: TravelMode) -> float:
    """The fastest speed of the mode on any of its ways, km/h (how far a time limit reaches).

    Parameters
    ----------
    ways : GeoDataFrame
        Ways read, with ``net_<network>`` flags.
    mode : TravelMode
        The mode whose fixed speed or ways' speeds (km/h) are used.

    Returns
    -------
    float
    """
    if mode.speed_kmh is not None and not mode.capped_by_maxspeed:
        return float(mode.speed_kmh)
    own = mode_ways(ways, mode)
    if len(own) == 0:
        return float(mode.speed_kmh or max(DRIVE_SPEEDS_KMH.values()))
    return float(np.nanmax(way_speeds_kmh(own, mode)))
