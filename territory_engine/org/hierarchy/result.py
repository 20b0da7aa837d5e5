"""The result of drawing a hierarchy: :class:`LevelResult` per level, :class:`Hierarchy`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Hierarchy", "LevelResult"]


@dataclass(frozen=True)
class LevelResult:
    """One drawn level.

    Attributes
    ----------
    name
        The level's name (``district``).
    assign
        (n,) group index of each child (territories for level 1, groups of
        the level below otherwise).
    group_ids
        (g,) names of the groups (``district-1`` ... unless managers or last
        year's grouping name them).
    manager_ids, manager_names
        (g,) the manager of each group ("" for none).
    centres
        (g, 2) lon/lat: the manager's home, else the weighted centre of the members.
    loads, fair_share, lower, upper
        (g, m) totals, fair shares and bands of each measure.
    feasible
        Every band holds and (when asked) every group is one piece.
    violations
        What does not hold, naming the group and the measure.
    seconds
        Solver seconds.
    """

    name: str
    assign: np.ndarray
    group_ids: tuple[str, ...]
    manager_ids: tuple[str, ...]
    manager_names: tuple[str, ...]
    centres: np.ndarray
    loads: np.ndarray
    fair_share: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    feasible: bool
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    pieces: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


@dataclass(frozen=True)
class Hierarchy:
    """A drawn hierarchy of a plan's territories.

    Attributes
    ----------
    levels
        The levels, bottom up.
    measures
        The balanced measures, in order.
    table
        ``hierarchy.csv``: ``territory_id, rep_id, <level 1>, <level 2>, ..., manager``.
    groups
        One row per group of every level: ``level, id, name, parent, manager_id,
        manager_name, n_territories, n_children, centre_lon, centre_lat``, and per
        measure ``m, m_fair_share, m_low, m_high, m_dev_pct, m_in_band``, and ``pieces``.
    score
        The scorecard's ``hierarchy`` section (:func:`~.score.level_score` per level).
    feasible, violations
        Every level feasible; what breaks.
    seconds
        Seconds to draw every level.
    """

    levels: tuple[LevelResult, ...]
    measures: tuple[str, ...]
    table: pd.DataFrame
    groups: pd.DataFrame
    score: dict
    feasible: bool
    violations: list[str]
    seconds: float

    @property
    def level_names(self) -> list[str]:
        """The level names, bottom up."""
        return [level.name for level in self.levels]
