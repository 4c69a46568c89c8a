"""Map layers of a study's facility tiers: one toggleable layer per tier, in :mod:`circles.maps`' style.

Each layer holds the tier's service area (the area within its threshold by its mode,
outlined in the tier's colour) and its facilities (small circles of the same colour).
The layers start hidden, so the walking map reads as before until a tier is switched on.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

import geopandas as gpd

from circles.modes import MODE_PHRASES

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from circles.maps.encode import Display
    from circles.result import StudyResult

#: Outline and marker colours of the tiers, in plan order (ColorBrewer Dark2).
TIER_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
MODE_WORDS = {
    "walk": "walk",
    "elderly": "elderly walk",
    "bicycle": "by bicycle",
    "ebike": "by e-bike",
    "drive": "drive",
}


def tier_layer_name(name: str, minutes: float, mode: str) -> str:
    """The layer control's name of a tier's layer, e.g. ``"Tier township: within 15 min by e-bike"``.

    Parameters
    ----------
    name : str
        The tier.
    minutes : float
        Its threshold.
    mode : str
        Its travel mode.

    Returns
    -------
    str
    """
    return f"Tier {name}: within {minutes:g} min {MODE_PHRASES.get(mode, mode)}"


def add_tier_layers(
    fm: ModuleType, m: folium.Map, result: StudyResult, display: Display | None = None
) -> None:
    """Add one hidden layer per tier (service area and facilities) to a map; nothing without tiers.

    Parameters
    ----------
    fm : module
        ``folium``.
    m : folium.Map
    result : StudyResult
    display : Display, optional
        WGS-84 (default) or GCJ-02 coordinates (for an Amap or Tencent basemap).
    """
    from circles.maps.cells import surface_points
    from circles.maps.encode import Display, drawable
    from circles.maps.style import text as _text

    display = display or Display()

    tiers = result.summary.tiers
    if tiers is None:
        return
    areas = result.tier_areas if result.tier_areas is not None else gpd.GeoDataFrame(geometry=[])
    facilities = result.facilities
    for i, tier in enumerate(tiers.tiers):
        colour = TIER_COLOURS[i % len(TIER_COLOURS)]
        minutes = tier.coverage.threshold_min
        layer = fm.FeatureGroup(name=_text(tier_layer_name(tier.name, minutes, tier.mode)), show=False)
        own = areas[areas["tier"] == tier.name] if len(areas) else areas
        if len(own) and not own.geometry.is_empty.all():
            fm.GeoJson(
                drawable(own[["geometry"]], display),
                style_function=lambda _f, c=colour: {
                    "color": c,
                    "weight": 2,
                    "fillColor": c,
                    "fillOpacity": 0.1,
                },
                tooltip=_text(
                    f"{tier.name}: within {minutes:g} min {MODE_PHRASES.get(tier.mode, tier.mode)}"
                ),
            ).add_to(layer)
        if "tier" in facilities:
            mine = facilities[facilities["tier"] == tier.name]
            points = surface_points(drawable(mine, display).geometry)
            for (_, f), pt in zip(mine.iterrows(), points, strict=True):
                name = f.get("name") if isinstance(f.get("name"), str) else str(f["facility_id"])
                fm.CircleMarker(
                    [pt.y, pt.x],
                    radius=5,
                    color=colour,
                    weight=2,
                    fill=True,
                    fill_color="white",
                    fill_opacity=1.0,
                    tooltip=_text(f"{tier.name}: {name}"),
                ).add_to(layer)
        layer.add_to(m)
