"""The web map of a study result (Folium): self-contained by default, streets, basemaps, legend.

Modules: :mod:`~circles.maps.build` (the map and its layer order), :mod:`~circles.maps.assets`
(Leaflet inlined or linked), :mod:`~circles.maps.tiles` and :mod:`~circles.maps.mbtiles`
(basemaps), :mod:`~circles.maps.encode` (compact geometry, GCJ-02 display),
:mod:`~circles.maps.streets`, :mod:`~circles.maps.cells`, :mod:`~circles.maps.points`,
:mod:`~circles.maps.areas` (the layers' data), :mod:`~circles.maps.legend`,
:mod:`~circles.maps.style` (colours and names shared with the PNG and the GIS styles).
"""

from circles.maps.build import MapOptions, build_map, map_options, save_map
from circles.maps.cells import HEX_RESOLUTIONS, aggregate_hexes
from circles.maps.style import (
    BAND_AREA_COLOURS,
    DETACHED_FACILITY_COLOUR,
    FACILITY_COLOUR,
    GAP_COLOUR,
    HEX_SHARE_CLASSES,
    LAYER_BOUNDARY,
    LAYER_CATCHMENTS,
    LAYER_FACILITIES,
    LAYER_GAPS,
    LAYER_HOMES,
    LAYER_LABELS,
    LAYER_PROPOSED,
    LAYER_STREET_TIMES,
    LAYER_STREETS,
    LAYER_SUBAREAS,
    NO_RESIDENTS_COLOUR,
    PROPOSED_SITE_COLOUR,
    STREET_COLOUR,
    UNREACHABLE_COLOUR,
    band_colours,
    hex_layer_name,
    uncovered_layer_name,
)

__all__ = [
    "BAND_AREA_COLOURS",
    "DETACHED_FACILITY_COLOUR",
    "FACILITY_COLOUR",
    "GAP_COLOUR",
    "HEX_RESOLUTIONS",
    "HEX_SHARE_CLASSES",
    "LAYER_BOUNDARY",
    "LAYER_CATCHMENTS",
    "LAYER_FACILITIES",
    "LAYER_GAPS",
    "LAYER_HOMES",
    "LAYER_LABELS",
    "LAYER_PROPOSED",
    "LAYER_STREETS",
    "LAYER_STREET_TIMES",
    "LAYER_SUBAREAS",
    "NO_RESIDENTS_COLOUR",
    "PROPOSED_SITE_COLOUR",
    "STREET_COLOUR",
    "UNREACHABLE_COLOUR",
    "MapOptions",
    "aggregate_hexes",
    "band_colours",
    "build_map",
    "hex_layer_name",
    "map_options",
    "save_map",
    "uncovered_layer_name",
]
