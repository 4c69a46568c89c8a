"""The embedded default study area: a real OpenStreetMap extract of central Helsinki."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DEMO_NAME = "Helsinki (central)"
#: The extract inside the package (see ``circles/data/README.md`` for its source and licence).
DEMO_FILE = "helsinki_central.osm.pbf"


def demo_pbf() -> Path:
    """Path of the real OSM extract of central Helsinki shipped inside circles.

    Returns
    -------
    Path
        An ``.osm.pbf`` file on local disk (© OpenStreetMap contributors, ODbL); no download happens.

    """
    return Path(str(files("circles.data").joinpath(DEMO_FILE)))
