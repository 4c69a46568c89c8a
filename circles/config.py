"""Frozen settings: walking speed, time bands, snapping limits and OSM tag presets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from circles.errors import InputError

#: Default walking speed, km/h (75 m per minute).
DEFAULT_SPEED_KMH = 4.5
#: A slower speed for elderly residents, km/h (60 m per minute).
ELDERLY_SPEED_KMH = 3.6
#: Named speed presets accepted wherever a speed is asked for.
SPEED_PRESETS_KMH: dict[str, float] = {"adult": DEFAULT_SPEED_KMH, "elderly": ELDERLY_SPEED_KMH}


#: Reporting bands used when none are given, minutes.
DEFAULT_BANDS_MIN: tuple[float, ...] = (5.0, 10.0, 15.0)
#: The policy threshold: a home is covered within this many minutes.
DEFAULT_THRESHOLD_MIN = 15.0


def _finite_positive(value: float, parameter: str, unit: str, *, zero_ok: bool = False) -> float:
    """``value`` as a float, or an InputError naming the parameter (NaN and infinity are refused)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"{parameter} must be a number of {unit}, got {value!r}", parameter=parameter
        ) from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero_ok):
        bound = "zero or more" if zero_ok else "more than zero"
        raise InputError(
            f"`{parameter}` must be a finite number of {unit}, {bound}; got {number:g}", parameter=parameter
        )
    return number


def default_bands_for(threshold_min: float) -> tuple[float, ...]:
    """The default reporting bands below ``threshold_min``, then the threshold itself.

    Parameters
    ----------
    threshold_min : float

    Returns
    -------
    tuple of float
    """
    return (*(b for b in DEFAULT_BANDS_MIN if b < threshold_min), float(threshold_min))


@dataclass(frozen=True)
class TravelSettings:
    """How residents travel, what "covered" means, and which time bands are reported.

    Parameters
    ----------
    speed_kmh : float
        Walking speed in km/h. Default 4.5 (75 m/min); 3.6 for elderly residents.
    threshold_min : float
        The coverage threshold ("15-minute circle"): a home is covered when its trip
        takes at most this many minutes. It must be one of ``bands_min``.
    bands_min : tuple of float
        Reporting rings in minutes, ascending (e.g. 5, 10, 15, 20). Rings above the
        threshold are reported too; they do not change what "covered" means.
        Default: 5, 10, 15 below the threshold, then the threshold.
    max_access_leg_m : float
        Longest straight walk, in metres, from a home or facility to the nearest
        walkable street. Points farther away are reported as unreachable.
    min_island_m : float
        Network components whose total street length is below this (metres) are
        treated as mapping fragments (e.g. an unconnected sidewalk piece) and are not
        snapped onto. Larger islands are kept; homes on an island without a clinic
        are reported as unreachable.
    area_buffer_m : float
        Width in metres by which reached street pieces are buffered to draw service
        areas.

    """

    speed_kmh: float = DEFAULT_SPEED_KMH
    threshold_min: float = DEFAULT_THRESHOLD_MIN
    bands_min: tuple[float, ...] | None = None
    max_access_leg_m: float = 250.0
    min_island_m: float = 300.0
    area_buffer_m: float = 50.0

    def __post_init__(self) -> None:
        fields = {
            "speed_kmh": ("km/h", False),
            "threshold_min": ("minutes", False),
            "max_access_leg_m": ("metres", False),
            "min_island_m": ("metres", True),
            "area_buffer_m": ("metres", False),
        }
        for name, (unit, zero_ok) in fields.items():
            object.__setattr__(self, name, _finite_positive(getattr(self, name), name, unit, zero_ok=zero_ok))
        if self.bands_min is None:
            bands = default_bands_for(self.threshold_min)
        else:
            bands = tuple(_finite_positive(b, "bands_min", "minutes") for b in self.bands_min)
        if not bands or list(bands) != sorted(set(bands)):
            raise InputError(
                f"bands must be positive and strictly ascending minutes, got {_minutes(bands)}",
                parameter="bands_min",
                fix="use e.g. 5,10,15",
            )
        if self.threshold_min not in bands:
            raise InputError(
                f"the coverage threshold {self.threshold_min:g} min is not one of the bands "
                f"{_minutes(bands)}",
                parameter="threshold_min",
                fix="add it to `bands_min` or choose one of the bands as `threshold_min`",
            )
        object.__setattr__(self, "bands_min", bands)

    @property
    def speed_m_per_min(self) -> float:
        """Walking speed in metres per minute."""
        return self.speed_kmh * 1000.0 / 60.0

    @property
    def threshold_m(self) -> float:
        """The coverage threshold as a walking distance in metres."""
        return self.threshold_min * self.speed_m_per_min

    @property
    def longest_band_min(self) -> float:
        """The longest reporting band in minutes (at least the threshold)."""
        return self.bands_min[-1]  # type: ignore[index]

    @property
    def longest_band_m(self) -> float:
        """The longest band as a walking distance in metres: how far inputs must reach."""
        return self.longest_band_min * self.speed_m_per_min


def _minutes(bands: tuple[float, ...]) -> str:
    return ", ".join(f"{b:g}" for b in bands) or "(none)"


def parse_speed_kmh(value: str | float) -> float:
    """Turn ``"elderly"``, ``"adult"`` or a number into a speed in km/h.

    Parameters
    ----------
    value : str or float
        A preset name from :data:`SPEED_PRESETS_KMH` or a positive number (km/h).

    Returns
    -------
    float
        Walking speed in km/h.

    """
    if isinstance(value, str) and value.strip().lower() in SPEED_PRESETS_KMH:
        return SPEED_PRESETS_KMH[value.strip().lower()]
    try:
        speed = float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"walking speed {value!r} is neither a number of km/h nor one of {', '.join(SPEED_PRESETS_KMH)}",
            parameter="speed_kmh",
        ) from None
    if not 0 < speed < 30:
        raise InputError(
            f"walking speed {speed:g} km/h is out of range",
            parameter="speed_kmh",
            fix="use a value in (0, 30)",
        )
    return speed


@dataclass(frozen=True)
class TagPreset:
    """OSM tags that select one kind of facility: any ``key=value`` pair matches."""

    name: str
    tags: tuple[tuple[str, str], ...]
    description: str = ""

    def matches(self, tags: dict[str, str]) -> bool:
        """Return True when any of the preset's ``key=value`` pairs is in ``tags``.

        Parameters
        ----------
        tags : dict
            An OSM object's tags.

        Returns
        -------
        bool
        """
        return any(tags.get(k) == v for k, v in self.tags)


FACILITY_PRESETS: dict[str, TagPreset] = {
    "primary-care": TagPreset(
        "primary-care",
        (
            ("amenity", "clinic"),
            ("amenity", "doctors"),
            ("healthcare", "centre"),
            ("healthcare", "clinic"),
            ("healthcare", "doctor"),
        ),
        "community health centres, clinics and doctors' practices",
    ),
    "hospital": TagPreset("hospital", (("amenity", "hospital"), ("healthcare", "hospital")), "hospitals"),
    "pharmacy": TagPreset("pharmacy", (("amenity", "pharmacy"), ("healthcare", "pharmacy")), "pharmacies"),
}


def facility_preset(spec: str) -> TagPreset:
    """Resolve a preset name or a custom ``key=value[,key=value]`` tag list.

    Parameters
    ----------
    spec : str
        ``"primary-care"``, ``"hospital"``, ``"pharmacy"`` or e.g.
        ``"amenity=clinic,healthcare=centre"``.

    Returns
    -------
    TagPreset

    """
    if spec in FACILITY_PRESETS:
        return FACILITY_PRESETS[spec]
    pairs = []
    for part in spec.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or not key or not value:
            raise InputError(
                f"facility tags {spec!r} are not a preset ({', '.join(FACILITY_PRESETS)}) "
                "nor key=value pairs such as amenity=clinic,healthcare=centre",
                parameter="facilities",
            )
        pairs.append((key.strip(), value.strip()))
    return TagPreset(spec, tuple(pairs), "custom tags")


#: Building values that count as homes anywhere.
RESIDENTIAL_BUILDINGS: frozenset[str] = frozenset(
    {
        "residential",
        "apartments",
        "house",
        "detached",
        "semidetached_house",
        "terrace",
        "dormitory",
        "bungalow",
        "farm",
        "cabin",
        "static_caravan",
        "houseboat",
        "hut",
    }
)
#: Building values that count as homes only inside ``landuse=residential``.
GENERIC_BUILDINGS: frozenset[str] = frozenset({"yes", "building", "block"})


@dataclass(frozen=True)
class PopulationSettings:
    """How residents per home are estimated when no population is given.

    Parameters
    ----------
    floor_area_per_person_m2 : float
        Gross floor area per resident in m^2 (China's urban average is about 40 m^2).
    default_levels : dict
        Storeys assumed per building type when ``building:levels`` is missing.

    """

    floor_area_per_person_m2: float = 40.0
    default_levels: dict[str, float] = field(
        default_factory=lambda: {
            "apartments": 6.0,
            "residential": 4.0,
            "dormitory": 5.0,
            "yes": 3.0,
            "house": 2.0,
            "detached": 2.0,
            "semidetached_house": 2.0,
            "terrace": 2.0,
            # Residential land without mapped buildings: gross floor area = land area x 1.5,
            # a modest plot ratio (Chinese estates run 1.5-3.0).
            "landuse": 1.5,
        }
    )
    fallback_levels: float = 2.0
