"""Districts and regions drawn by the solver (issue 17, item 1).

:func:`draw_hierarchy` groups a plan's territories into contiguous, balanced
groups level by level with :func:`territory_engine.solve` on the territory
graph (:mod:`.graph`); :mod:`.score` scores each level; :mod:`.plan` attaches
a hierarchy to a plan (``hierarchy.csv``, ``hierarchy.geojson``, quota
roll-up, scorecard) and :func:`read_hierarchy` reads ``hierarchy.csv`` back.
"""

from territory_engine.org.hierarchy.draw import Hierarchy, LevelResult, draw_hierarchy, draw_level
from territory_engine.org.hierarchy.graph import (
    group_adjacency,
    polygon_territory_adjacency,
    territory_adjacency,
)
from territory_engine.org.hierarchy.tables import read_hierarchy

__all__ = [
    "Hierarchy",
    "LevelResult",
    "draw_hierarchy",
    "draw_level",
    "group_adjacency",
    "polygon_territory_adjacency",
    "read_hierarchy",
    "territory_adjacency",
]
