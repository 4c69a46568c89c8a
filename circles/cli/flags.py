"""Python parameter names -> the command line's flags, for messages raised by the library.

Library errors and warnings name parameters in backticks (`` `max_access_leg_m` ``); the
CLI shows its own flag instead. A parameter may belong to one input (``scope``): the
``crs`` of a point reader is ``--facility-crs`` for facilities and ``--homes-crs`` for homes.
"""

from __future__ import annotations

import re

from circles.errors import PARAMETER_MENTION, CirclesError, render_for

#: Parameters that mean the same flag whichever input they belong to.
FLAG_OF: dict[str, str] = {
    "speed_kmh": "--speed-kmh",
    "threshold_min": "--minutes",
    "bands_min": "--bands",
    "max_access_leg_m": "--max-access-leg-m",
    "min_island_m": "--min-island-m",
    "area_buffer_m": "--area-buffer-m",
    "facilities": "--facilities",
    "homes": "--homes",
    "network": "--pbf/--osm/--graphml/--place",
    "network_path": "--pbf/--osm/--graphml",
    "place": "--place",
    "place_name": "--place",
    "area_wgs84": "--boundary/--bbox/--place",
    "polygon_wgs84": "--boundary/--bbox/--place",
    "boundary": "--boundary",
    "bbox": "--bbox",
    "subareas": "--subareas",
    "allow_partial": "--allow-partial",
    "recommend_sites": "--recommend",
    "n_sites": "--recommend",
    "candidates": "--candidates",
    "full_coverage": "--full-coverage",
    "max_residents_per_facility": "--max-residents-per-facility",
    "solver_time_limit_s": "--solver-time-limit",
    "siting_method": "--siting-method",
    "residents_per_facility": "--residents-per-facility",
    "supply_target_per_10k": "--capacity-target",
    "access_decay": "--access-decay",
    "add_facilities": "--add-facilities",
    "remove_facilities": "--remove-facilities",
    "population.total": "--population-total",
    "population.raster": "--population-raster",
    "population.column": "--population-field",
    "population_column": "--population-field",
    "raster_path": "--population-raster",
    "total": "--population-total",
    "facility_options.crs": "--facility-crs",
    "home_options.crs": "--homes-crs",
    "lon_column": "--lon-column",
    "lat_column": "--lat-column",
    "name_column": "--name-column",
    "kind_column": "--kind-column",
    "capacity_column": "--capacity-column",
    "name_contains": "--name-contains",
    "name_excludes": "--name-excludes",
    "kind_contains": "--kind-contains",
    "kind_excludes": "--kind-excludes",
    "encoding": "--encoding",
    "admin_area": "--admin-area",
    "admin_level": "--admin-level",
    "out_dir": "--out",
    "force": "--force",
    "workers": "--workers",
    "scheduler": "--scheduler",
    "work_dir": "--work-dir",
    "cache_dir": "--cache-dir",
    "output_crs": "--output-crs",
    "offline_map": "--offline-map",
    "self_contained": "--cdn-map",
    "tiles": "--tiles",
    "tiles_key": "--tiles-key",
    "geoparquet": "--geoparquet",
    "mode": "--mode",
    "tiers": "--tier/--tier-plan",
    "tier_column": "--tier-column",
    "networks": "--mode/--tier",
    "bicycle_speed_kmh": "--bicycle-speed-kmh",
    "ebike_speed_kmh": "--ebike-speed-kmh",
    "drive_speeds": "--drive-speeds",
    "congestion_factor": "--congestion-factor",
}

#: Parameters whose flag depends on the input they belong to: (scope, parameter) -> flag.
SCOPED_FLAG_OF: dict[tuple[str, str], str] = {
    ("facilities", "crs"): "--facility-crs",
    ("homes", "crs"): "--homes-crs",
    ("candidates", "crs"): "--candidate-crs",
    ("boundary", "crs"): "--boundary-crs",
    ("subareas", "crs"): "--subarea-crs",
    ("facilities", "layer"): "--layer",
    ("homes", "layer"): "--homes-layer",
    ("boundary", "layer"): "--boundary-layer",
    ("subareas", "layer"): "--subarea-layer",
    ("candidates", "layer"): "--candidate-layer",
    ("boundary", "name_field"): "--name-field",
    ("subareas", "name_field"): "--subarea-name-field",
    ("boundary", "names"): "--district/--areas",
    ("boundary", "where"): "--where",
    ("subareas", "where"): "--subarea-where",
    ("homes", "population_column"): "--population-field",
    ("population", "column"): "--population-field",
    ("population", "raster"): "--population-raster",
    ("population", "total"): "--population-total",
}

#: Parameters only the Python API has (``analyse(population=...)``, ``WalkNetwork.from_graph(weight=...)``):
#: the CLI never raises their errors.
#: So are the arguments of the numeric planning core (:mod:`circles.planning`), which the CLI fills in.
PYTHON_ONLY: frozenset[str] = frozenset(
    {
        "population",
        "weight",
        "cover",
        "existing_cover",
        "capacity",
        "existing_capacity",
        "method",
        "weights",
        "sigma_min",
    }
)

#: Unscoped fall-backs for scoped parameters (the most common input).
_DEFAULT_SCOPE = {"crs": "facilities", "layer": "facilities", "name_field": "boundary", "where": "boundary"}


def flag_for(parameter: str, scope: str | None) -> str | None:
    """The CLI flag of a Python parameter (in a scope), or None when the CLI has none.

    Parameters
    ----------
    parameter : str
        The Python parameter's name, as backticked in library messages (``max_access_leg_m``).
    scope : str or None
        The input the message is about (``"facilities"``, ``"boundary"``, ...), which picks
        between flags sharing a parameter; None for an unscoped message.
    """
    if scope is not None and (scope, parameter) in SCOPED_FLAG_OF:
        return SCOPED_FLAG_OF[(scope, parameter)]
    if parameter in FLAG_OF:
        return FLAG_OF[parameter]
    fallback = _DEFAULT_SCOPE.get(parameter)
    return SCOPED_FLAG_OF.get((fallback, parameter)) if fallback else None


def error_line(error: CirclesError) -> str:
    """The error's one-line message with the CLI's flags in place of Python parameters.

    Parameters
    ----------
    error : CirclesError
        The error raised by the library.
    """
    return render_for(error, flag_for)


def translate(text: str, scope: str | None = None) -> str:
    """A warning's text with the CLI's flags in place of backticked Python parameters.

    Parameters
    ----------
    text : str
        The warning's message, naming Python parameters in backticks.
    scope : str, optional
        The input the warning is about (see :func:`flag_for`); None for none.
    """
    return PARAMETER_MENTION.sub(lambda m: flag_for(m.group(1), scope) or m.group(1), text)


_NEGATIVE_VALUE = re.compile(r"^-\d")


def join_negative_values(argv: list[str]) -> list[str]:
    """``--bbox -121.6,39.1`` as ``--bbox=-121.6,39.1``: argparse takes a leading '-' for an option.

    Parameters
    ----------
    argv : list of str
        The command-line arguments, without the program name.
    """
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if token.startswith("--") and "=" not in token and nxt is not None and _NEGATIVE_VALUE.match(nxt):
            out.append(f"{token}={nxt}")
            i += 2
            continue
        out.append(token)
        i += 1
    return out
