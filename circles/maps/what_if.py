"""The what-if layer: homes whose walking time or nearest clinic changes, coloured by how."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from circles.maps.cells import surface_points
from circles.maps.encode import Display, encode_points

#: Layer name in the layer control.
LAYER_WHAT_IF = "What-if: homes that change"
#: How a home changes, in colour order.
CHANGES = ("gains coverage", "loses coverage", "faster", "slower", "other clinic")
COLOURS = ("#1a9641", "#d7191c", "#a6d96a", "#fdae61", "#969696")


def what_if_spec(homes: gpd.GeoDataFrame, display: Display) -> dict:
    """The changed homes as coloured dots with both walking times in their popup.

    Parameters
    ----------
    homes : GeoDataFrame
        ``StudyResult.what_if_homes`` (``change``, ``walk_time_min_before``/``_after``).
    display : Display
    """
    points = surface_points(homes.geometry.to_crs("EPSG:4326"))
    xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()]).reshape(-1, 2)

    def minutes(column: str) -> list:  # tenths of a minute, -1: unreachable (the page's "min" format)
        """Each home's time in ``column`` in tenths of a minute, -1 where unreachable.

        Parameters
        ----------
        column : str
            The homes' column of walking times in minutes (NaN or inf: unreachable).
        """
        return [-1 if not np.isfinite(v) else round(10 * float(v)) for v in homes[column].to_numpy(float)]

    return {
        "id": "what_if",
        "kind": "point",
        "pane": "points",
        "geom": encode_points(xy, display),
        "style": {"radius": 5, "weight": 1, "color": "#ffffff", "fillOpacity": 0.9},
        "colourBy": "c",
        "colours": list(COLOURS),
        "props": {
            "c": [CHANGES.index(c) for c in homes["change"]],
            "t": [str(c) for c in homes["change"]],
            "b": minutes("walk_time_min_before"),
            "a": minutes("walk_time_min_after"),
        },
        "popup": {
            "title": ["", "t", "text"],
            "rows": [["baseline", "b", "min"], ["scenario", "a", "min"]],
        },
    }
