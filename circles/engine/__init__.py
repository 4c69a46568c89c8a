"""The engine: exact least travel costs on a network, and nothing about files or GeoDataFrames.

- :mod:`~circles.engine.graph`: :class:`TravelGraph`, travel costs as CSR arrays;
- :mod:`~circles.engine.points`: :class:`Snapped` points on edges and their arithmetic;
- :mod:`~circles.engine.search`: one multi-source search, nearest facility per node/point;
- :mod:`~circles.engine.pairs`: every (source, point) pair within a limit (siting, E2SFCA);
- :mod:`~circles.engine.plan`, :mod:`~circles.engine.grid`: bounded searches on local subgraphs.
"""

from circles.engine.graph import TravelGraph
from circles.engine.pairs import PairCosts, pair_costs
from circles.engine.plan import SearchPlan
from circles.engine.points import Snapped
from circles.engine.search import NodeCosts, PointCosts, nearest_facility, point_costs, search

__all__ = [
    "NodeCosts",
    "PairCosts",
    "PointCosts",
    "SearchPlan",
    "Snapped",
    "TravelGraph",
    "nearest_facility",
    "pair_costs",
    "point_costs",
    "search",
]
