"""Facility tiers: which facilities are village clinics, township centres, hospitals; what each must meet.

A county's "county-township-village" promise has a threshold and a travel mode per tier
(village clinics within 15 minutes' walk, township health centres within 15 minutes by
e-bike, the county hospital within 30 minutes' drive). A :class:`TierPlan` holds the
tiers; each facility gets one tier (:func:`classify`):

1. from a column of the facility list (``tier_column``): a value equal to a tier's name
   is that tier; any other value is classified by the rules below (so a column of
   institution types such as ``村卫生室`` works too);
2. otherwise by rules on the facility's name (and ``name:zh``, ``kind``), first match
   wins, in this order: the plan's own ``name_contains`` / ``tags`` rules, then the
   built-in :data:`BUILTIN_RULES`::

       village    names containing 卫生室, 卫生所, 医务室          (village clinics)
       township   卫生院                                            (township health centres)
       community  社区卫生服务, 社区健康服务, 社康                  (community health centres and stations)
       hospital   医院, or OSM amenity=hospital / healthcare=hospital

   ``XX医院社区卫生服务站`` (a station run by a hospital) is ``community``, not ``hospital``.

Facilities of no tier of the plan are counted (``unclassified``) but not analysed per tier.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np

from circles.errors import InputError, InputFileError
from circles.modes import ModeOptions, mode_name


@dataclass(frozen=True)
class TierRule:
    """Name fragments and OSM tags that make a facility one tier."""

    tier: str
    name_contains: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    label: str = ""


#: The built-in rules, in the order they are tried (see the module docstring).
BUILTIN_RULES: tuple[TierRule, ...] = (
    TierRule("village", ("卫生室", "卫生所", "医务室"), (), "village clinics, 村卫生室"),
    TierRule("township", ("卫生院",), (), "township health centres, 乡镇卫生院"),
    TierRule(
        "community",
        ("社区卫生服务", "社区健康服务", "社康"),
        (),
        "community health centres, 社区卫生服务中心",
    ),
    TierRule(
        "hospital",
        ("医院",),
        (("amenity", "hospital"), ("healthcare", "hospital")),
        "hospitals, 医院",
    ),
)
_TIER_NAME = re.compile(r"^\w{1,40}$")
#: Tier names whose columns would clash with the study's own: name -> the column.
_RESERVED = {"facility": "nearest_facility", "all_tiers": "covered_all_tiers"}
#: Text columns of a facility the name rules read.
NAME_COLUMNS = ("name", "name:zh", "kind")


def check_tier_name(name: str) -> str:
    """A tier name usable in column names (letters of any script, digits, ``_``), or an InputError.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
        The name, stripped.
    """
    text = str(name).strip()
    if text in _RESERVED:
        raise InputError(
            f"tier name {text!r} would clash with the column {_RESERVED[text]}",
            parameter="tiers",
            fix="rename it",
        )
    if not _TIER_NAME.match(text):
        raise InputError(
            f"tier name {name!r} must be 1-40 letters, digits or underscores (it names columns such as "
            "time_min_<tier>)",
            parameter="tiers",
        )
    return text


@dataclass(frozen=True)
class Tier:
    """One facility tier and what it must meet.

    Attributes
    ----------
    name : str
        E.g. ``"village"``; used in column names (``time_min_village``).
    threshold_min : float
        A home is covered by the tier when one of its facilities is within this many minutes.
    mode : str
        How residents travel to it (see :data:`circles.modes.MODES`).
    target_residents_per_facility : float, optional
        Residents one facility of the tier should serve at most (per unit and overall).
    name_contains : tuple of str
        Own rule: facilities whose name contains any of these are this tier.
    tags : tuple of (key, value)
        Own rule: OSM facilities with any of these tags are this tier.
    all_facilities : bool
        Every facility is of this tier (a one-mode run without tiers).
    """

    name: str
    threshold_min: float
    mode: str = "walk"
    target_residents_per_facility: float | None = None
    name_contains: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    all_facilities: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", check_tier_name(self.name))
        object.__setattr__(self, "mode", mode_name(self.mode))
        minutes = float(self.threshold_min)
        if not (math.isfinite(minutes) and 0 < minutes <= 600):
            raise InputError(
                f"tier {self.name!r}: threshold {self.threshold_min!r} must be minutes in (0, 600]",
                parameter="tiers",
            )
        object.__setattr__(self, "threshold_min", minutes)
        target = self.target_residents_per_facility
        if target is not None and not (math.isfinite(float(target)) and float(target) > 0):
            raise InputError(
                f"tier {self.name!r}: residents per facility target {target!r} must be above 0",
                parameter="tiers",
            )

    def label(self) -> str:
        """What the tier's facilities are, in words (built-in tiers) or its name."""
        if self.all_facilities:
            return "all facilities"
        return next((r.label for r in BUILTIN_RULES if r.tier == self.name), self.name)


@dataclass(frozen=True)
class TierPlan:
    """The tiers of a study and how facilities are assigned to them.

    Attributes
    ----------
    tiers : tuple of Tier
        In reporting order; names are unique.
    tier_column : str, optional
        Facility column holding each facility's tier (see the module docstring).
    modes : ModeOptions
        Cycling, e-bike and driving speeds.
    """

    tiers: tuple[Tier, ...]
    tier_column: str | None = None
    modes: ModeOptions = field(default_factory=ModeOptions)

    def __post_init__(self) -> None:
        if not self.tiers:
            raise InputError("a tier plan needs at least one tier", parameter="tiers")
        names = [t.name for t in self.tiers]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise InputError(f"tiers named more than once: {', '.join(repeated)}", parameter="tiers")
        if len(self.tiers) > 1 and any(t.all_facilities for t in self.tiers):
            raise InputError(
                "a tier of all facilities is a plan of its own; with several tiers each facility has one",
                parameter="tiers",
            )

    @property
    def networks(self) -> tuple[str, ...]:
        """The networks (way filters) the plan's modes travel on, walking first."""
        from circles.modes import MODE_NETWORK

        return tuple(dict.fromkeys(["walk", *(MODE_NETWORK[t.mode] for t in self.tiers)]))

    def rules(self) -> tuple[TierRule, ...]:
        """Classification rules: the tiers' own first, then the built-in ones."""
        own = tuple(
            TierRule(t.name, t.name_contains, t.tags) for t in self.tiers if t.name_contains or t.tags
        )
        return own + BUILTIN_RULES


def parse_tier(spec: str, default_mode: str = "walk") -> Tier:
    """A tier from ``NAME:MINUTES[:MODE[:RESIDENTS_PER_FACILITY]]``, e.g. ``"township:15:ebike"``.

    Parameters
    ----------
    spec : str
    default_mode : str
        Mode of a spec that names none.

    Returns
    -------
    Tier
    """
    parts = [p.strip() for p in str(spec).split(":")]
    if not 2 <= len(parts) <= 4 or not parts[0]:
        raise InputError(
            f"tier {spec!r} is not NAME:MINUTES[:MODE[:RESIDENTS_PER_FACILITY]]",
            parameter="tiers",
            fix='write e.g. "village:15:walk" or "township:15:ebike:30000"',
        )
    try:
        minutes = float(parts[1])
        target = float(parts[3]) if len(parts) == 4 and parts[3] else None
    except ValueError:
        raise InputError(
            f"tier {spec!r}: minutes and residents per facility must be numbers", parameter="tiers"
        ) from None
    mode = parts[2] if len(parts) >= 3 and parts[2] else default_mode
    return Tier(parts[0], minutes, mode, target)


def read_plan(path: str | Path) -> TierPlan:
    """A tier plan from a TOML file.

    The file holds ``[[tiers]]`` tables (``name``, ``minutes``, ``mode``, optional
    ``residents_per_facility``, ``name_contains`` and ``tags`` as ``["key=value", ...]``),
    an optional top-level ``tier_column``, and an optional ``[modes]`` table
    (``bicycle_speed_kmh``, ``ebike_speed_kmh``, ``drive_speeds``, ``congestion_factor``)::

        tier_column = "级别"
        [modes]
        ebike_speed_kmh = 18
        [[tiers]]
        name = "village"
        minutes = 15
        mode = "walk"
        name_contains = ["卫生室", "村医"]

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    TierPlan
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputFileError(f"cannot read the tier plan ({exc.strerror or exc})", where=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(f"is not a TOML tier plan ({exc})", where=str(path)) from None
    try:
        return _plan_of(data)
    except InputError as exc:
        raise InputError(exc.what, where=str(path), parameter=exc.parameter, fix=exc.fix) from None


def _plan_of(data: dict) -> TierPlan:
    unknown = set(data) - {"tiers", "tier_column", "modes"}
    rows = data.get("tiers")
    if unknown or not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError(
            "a tier plan holds [[tiers]] tables, and optionally tier_column and [modes]"
            + (f"; unknown keys: {', '.join(sorted(unknown))}" if unknown else ""),
            parameter="tiers",
        )
    tiers = tuple(_tier_of(row) for row in rows)
    modes = data.get("modes", {})
    if not isinstance(modes, dict) or set(modes) - set(ModeOptions.__dataclass_fields__):
        raise InputError(
            f"[modes] may set {', '.join(ModeOptions.__dataclass_fields__)}",
            parameter="tiers",
        )
    column = data.get("tier_column")
    return TierPlan(tiers, None if column is None else str(column), ModeOptions(**modes))


_TIER_KEYS = frozenset({"name", "minutes", "mode", "residents_per_facility", "name_contains", "tags"})


def _tier_of(row: dict) -> Tier:
    if set(row) - _TIER_KEYS or "name" not in row or "minutes" not in row:
        raise InputError(
            f"tier {row.get('name', '?')!r}: a [[tiers]] table has name, minutes and optionally mode, "
            "residents_per_facility, name_contains, tags",
            parameter="tiers",
        )
    tags = []
    for text in row.get("tags", []):
        key, sep, value = str(text).partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"tier {row['name']!r}: tag {text!r} is not key=value", parameter="tiers")
        tags.append((key.strip(), value.strip()))
    return Tier(
        str(row["name"]),
        row["minutes"],
        str(row.get("mode", "walk")),
        row.get("residents_per_facility"),
        tuple(str(s) for s in row.get("name_contains", [])),
        tuple(tags),
    )


def _rule_tier(texts: list[str], tags: dict[str, str], rules: tuple[TierRule, ...]) -> str:
    for rule in rules:
        if any(fragment in text for fragment in rule.name_contains for text in texts):
            return rule.tier
        if any(tags.get(k) == v for k, v in rule.tags):
            return rule.tier
    return ""


def classify(facilities: gpd.GeoDataFrame, plan: TierPlan) -> np.ndarray:
    """The tier of each facility ("" where no rule applies).

    Parameters
    ----------
    facilities : GeoDataFrame
        With ``name`` (and for OSM facilities ``amenity``/``healthcare``) columns, and
        the plan's ``tier_column`` when it names one.
    plan : TierPlan

    Returns
    -------
    ndarray of str (object)
    """
    if len(plan.tiers) == 1 and plan.tiers[0].all_facilities:
        return np.full(len(facilities), plan.tiers[0].name, dtype=object)
    if plan.tier_column is not None and plan.tier_column not in facilities:
        raise InputError(
            f"the facilities have no column {plan.tier_column!r}",
            parameter="tier_column",
            fix=f"choose one of {', '.join(map(str, facilities.columns[:20]))}",
        )
    names = {t.name for t in plan.tiers}
    rules = plan.rules()
    text_columns = [c for c in NAME_COLUMNS if c in facilities]
    tag_keys = {k for r in rules for k, _ in r.tags if k in facilities}
    out = np.empty(len(facilities), dtype=object)
    for i, (_, row) in enumerate(facilities.iterrows()):
        texts = [str(row[c]) for c in text_columns if isinstance(row[c], str)]
        if plan.tier_column is not None:
            value = row[plan.tier_column]
            value = (
                ""
                if value is None or (isinstance(value, float) and math.isnan(value))
                else str(value).strip()
            )
            if value in names:
                out[i] = value
                continue
            texts = [value] if value else texts
        tags = {k: row[k] for k in tag_keys if isinstance(row[k], str)}
        out[i] = _rule_tier(texts, tags, rules)
    return out
