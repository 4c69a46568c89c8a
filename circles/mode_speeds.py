"""Speeds of the travel modes on each way, km/h, and the seconds per metre they give.

Walking and cycling go at a stated speed; e-bikes at theirs, at most the way's posted
``maxspeed``; cars at the posted ``maxspeed``, else the road class's speed
(:data:`DRIVE_SPEEDS_KMH`, or the mean posted speed of the class in the extract),
times an explicit congestion factor. One-way streets give an infinite rate against
their direction for the modes that keep to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from circles.modes import TravelMode

__all__ = [
    "DRIVE_FALLBACK_KMH",
    "DRIVE_SPEEDS_KMH",
    "DRIVE_SPEED_CHOICES",
    "class_speeds_kmh",
    "posted_kmh",
    "way_rates",
    "way_speeds_kmh",
]

#: Driving speeds, km/h, of roads without a usable ``maxspeed`` tag, by ``highway`` class.
#: China's Road Traffic Safety Law regulations (art. 45) set 30 km/h in towns and 40 km/h on
#: rural roads without a centre line, 50/70 km/h with one lane each way; expressways up to
#: 120 km/h (art. 78). The table takes typical county values between those bounds.
DRIVE_SPEEDS_KMH: dict[str, float] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "road": 30.0,
    "busway": 30.0,
}
#: Driving speed of a class missing from the table, km/h.
DRIVE_FALLBACK_KMH = 30.0
DRIVE_SPEED_CHOICES = ("table", "observed")


def class_speeds_kmh(ways: gpd.GeoDataFrame, mode: TravelMode) -> dict[str, float]:
    """Driving speed, km/h, of each road class for roads without a usable ``maxspeed`` (free flow).

    ``"table"``: :data:`DRIVE_SPEEDS_KMH`. ``"observed"``: per ``highway`` class of
    ``ways``, the mean parsed ``maxspeed`` of its ways (each OSM way once); classes
    without any at the mean of the class means; the table when no way has one.

    Parameters
    ----------
    ways : GeoDataFrame
        The mode's ways, with ``osm_id``, ``highway`` and ``maxspeed``.
    mode : TravelMode
        A driving mode; its ``drive_speeds`` is ``"table"`` or ``"observed"``.

    Returns
    -------
    dict
        km/h per ``highway`` value.
    """
    if mode.drive_speeds != "observed":
        return dict(DRIVE_SPEEDS_KMH)
    frame = pd.DataFrame(
        {"osm_id": ways["osm_id"], "highway": ways["highway"], "maxspeed": ways.get("maxspeed")}
    )
    frame = frame.drop_duplicates("osm_id")
    frame["kmh"] = posted_kmh(frame["maxspeed"])
    means = frame.groupby("highway")["kmh"].mean()
    if means.notna().sum() == 0:
        return dict(DRIVE_SPEEDS_KMH)
    means = means.fillna(means.mean())
    return {str(k): float(v) for k, v in means.items()}


def way_speeds_kmh(ways: gpd.GeoDataFrame, mode: TravelMode) -> np.ndarray:
    """Speed on each way, km/h (the same in both directions).

    Parameters
    ----------
    ways : GeoDataFrame
        The mode's ways (:func:`mode_ways`), with ``highway`` and ``maxspeed`` columns.
    mode : TravelMode
        The mode: its fixed speed (km/h), whether ``maxspeed`` caps it, its congestion factor.

    Returns
    -------
    ndarray of float64
    """
    n = len(ways)
    if mode.speed_kmh is not None and not mode.capped_by_maxspeed:
        return np.full(n, float(mode.speed_kmh))
    posted = posted_kmh(ways["maxspeed"] if "maxspeed" in ways else [None] * n)
    if mode.speed_kmh is not None:  # e-bike: its speed, at most the posted one
        return np.fmin(float(mode.speed_kmh), posted)
    table = class_speeds_kmh(ways, mode)
    classes = pd.Series(ways["highway"], dtype=object).astype(str)
    by_class = classes.map(table).fillna(DRIVE_FALLBACK_KMH).to_numpy(dtype=float)
    return np.where(np.isnan(posted), by_class, posted) * mode.congestion_factor


def posted_kmh(values: object) -> np.ndarray:
    """Each ``maxspeed`` value in km/h (NaN: not a plain number), each distinct text parsed once.

    Parameters
    ----------
    values : sequence of object
        ``maxspeed`` tags of the ways (text, None or NaN).

    Returns
    -------
    ndarray of float64
        The same as ``parse_maxspeed_kmh`` per value, None as NaN.
    """
    from circles.sources.way_filters import parse_maxspeed_kmh

    codes, texts = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    parsed = np.array([parse_maxspeed_kmh(v) for v in texts] + [None], dtype=float)
    return parsed[np.where(codes >= 0, codes, len(texts))]


def way_rates(ways: gpd.GeoDataFrame, mode: TravelMode) -> tuple[np.ndarray, np.ndarray]:
    """Seconds per metre along each way's node order and against it (``inf``: one-way the other way).

    Parameters
    ----------
    ways : GeoDataFrame
        The mode's ways (tag columns).
    mode : TravelMode
        The mode: its speeds and whether it keeps to one-way streets.

    Returns
    -------
    (ndarray, ndarray)
        Forward and backward rates, seconds per metre.
    """
    from circles.sources.way_filters import oneway_directions

    rate = 3.6 / way_speeds_kmh(ways, mode)
    if not mode.one_way_streets:
        return rate, rate
    direction = oneway_directions(ways, mode.network)
    forward = np.where(direction >= 0, rate, np.inf)
    backward = np.where(direction <= 0, rate, np.inf)
    return forward, backward
