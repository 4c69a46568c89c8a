"""The batch overview: every area's outline shaded by its share covered, linking to its map."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import shapely

from circles.maps.encode import Display, encode_polygons
from circles.maps.style import HEX_SHARE_CLASSES, NO_RESIDENTS_COLOUR, share_class

#: Outlines are simplified to this share of the batch's extent (a few pixels on the overview).
SIMPLIFY_SHARE = 1 / 2000


def area_shapes(out_dir: Path, folders: list[str]) -> list[shapely.Geometry | None]:
    """Each area's outline from its ``circles.gpkg`` (``study_area`` layer); None when missing.

    Parameters
    ----------
    out_dir : Path
        The batch folder.
    folders : list of str
        Each area's folder name (empty for a failed area).
    """
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    shapes: list[shapely.Geometry | None] = []
    for folder in folders:
        path = out_dir / folder / "circles.gpkg"
        if not folder or not path.is_file():
            shapes.append(None)  # a failed area, or one written by an older circles: table only
            continue
        try:
            frame = pyogrio.read_dataframe(path, layer="study_area", columns=[])
        except (DataSourceError, DataLayerError, OSError):
            shapes.append(None)
            continue
        shapes.append(shapely.union_all(frame.to_crs("EPSG:4326").geometry.values))
    return shapes


def overview_spec(table: pd.DataFrame, shapes: list[shapely.Geometry | None], minutes: str) -> dict | None:
    """The overview layer: areas coloured by share covered, a popup and a link to each map.

    Parameters
    ----------
    table : DataFrame
        The combined table (``name``, ``folder``, ``covered_share``).
    shapes : list of shapely geometry or None
    minutes : str
        The threshold as shown.
    """
    keep = [i for i, s in enumerate(shapes) if s is not None and not s.is_empty]
    if not keep:
        return None
    geoms = np.array([shapes[i] for i in keep], dtype=object)
    w, s, e, n = shapely.total_bounds(geoms)
    geoms = shapely.simplify(geoms, max(e - w, n - s) * SIMPLIFY_SHARE, preserve_topology=True)
    rows = table.iloc[keep]
    share = pd.to_numeric(rows.get("covered_share"), errors="coerce").to_numpy(dtype=float)
    pct = np.where(np.isnan(share), None, np.round(100 * np.nan_to_num(share), 1))
    return {
        "id": "areas",
        "kind": "polygon",
        "geom": encode_polygons(geoms, Display()),
        "style": {"color": "#444444", "weight": 1, "fillOpacity": 0.75},
        "keepStroke": True,
        "colourBy": "s",
        "colours": [c for _low, _label, c in HEX_SHARE_CLASSES] + [NO_RESIDENTS_COLOUR],
        "props": {
            "s": share_class(share).tolist(),
            "t": [str(x) for x in rows["name"]],
            "pct": pct.tolist(),
            "href": [quote(str(f)) + "/map.html" for f in rows["folder"]],
        },
        "tooltip": {"title": ["", "t", "text"], "rows": [[f"within {minutes} min", "pct", "pct"]]},
        "linkBy": "href",
    }
