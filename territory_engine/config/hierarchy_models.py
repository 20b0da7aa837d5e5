"""Pydantic models of the scenario's ``hierarchy:`` section (districts, regions).

A drawn hierarchy groups the plan's territories into contiguous, balanced
groups (level 1, e.g. districts), those into groups of groups (level 2, e.g.
regions), and so on, with the engine's own solver
(:mod:`territory_engine.org.hierarchy`)::

    hierarchy:
      levels:
        - {name: district, count: 8}          # or territories_per: 6
        - {name: region, count: 3}
      balance: {potential: {tolerance: 0.10}, workload_hours: {tolerance: 0.10}}
      managers:                               # or a file: managers.csv
        - {manager_id: M01, name: Ann Lee, lat: 33.75, lon: -84.39, level: region}
      previous: {source: reps}                # last year's grouping: reps.csv columns
                                              # named like the levels; or {file: hierarchy.csv}
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "HierarchyBand",
    "HierarchyConfig",
    "HierarchyLevel",
    "ManagerConfig",
    "PreviousHierarchy",
]

#: The default band of every balance measure at every level (± 10 %).
DEFAULT_TOLERANCE = 0.10


class _Strict(BaseModel):
    # As the scenario's models: unknown keys are errors, numbers finite.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class HierarchyBand(_Strict):
    """Band of one measure for the groups of a level: ``tolerance`` around the fair share."""

    tolerance: float = Field(..., gt=0.0, lt=1.0)


class HierarchyLevel(_Strict):
    """One level: its name, how many groups (``count`` or ``territories_per``), its bands.

    ``share``: ``equal`` gives every group of the level the same fair share of
    each measure; ``children`` (the default above level 1) gives a group a fair
    share proportional to the number of groups below it, so 8 districts make 3
    regions of 3, 3 and 2 districts, each balanced against 3/8, 3/8 and 2/8 of
    the total (equal shares cannot hold there: 2 equal districts are 25 %, not
    33 % ± 10 %).
    """

    name: str = Field(..., min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    count: int | None = Field(None, ge=1)
    territories_per: float | None = Field(
        None, gt=0.0, description="territories per group; count = round(territories / this)"
    )
    balance: dict[str, HierarchyBand] | None = None
    share: Literal["equal", "children"] | None = None

    @model_validator(mode="after")
    def _one_size(self) -> HierarchyLevel:
        if (self.count is None) == (self.territories_per is None):
            raise ValueError(f"level {self.name!r}: give either 'count' or 'territories_per'")
        return self


class ManagerConfig(_Strict):
    """A manager's home base: the group they run is centred there."""

    manager_id: str = Field(..., min_length=1)
    name: str = ""
    lat: float = Field(..., ge=-90.0, le=90.0)
    lon: float = Field(..., ge=-180.0, le=180.0)
    level: str = Field(..., min_length=1)
    group: str | None = Field(None, description="name of the group they run (its id)")


class PreviousHierarchy(_Strict):
    """Last year's grouping, kept where it is balanced (the disruption term).

    ``source: reps``: the reps table's columns named like the levels (or as
    ``columns`` maps them: ``{district: old_district}``); ``file``: a previous
    plan's ``hierarchy.csv`` (``territory_id`` or ``rep_id``, and a column per
    level).
    """

    source: Literal["reps", "file"] = "reps"
    file: Path | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    weight: float = Field(0.5, ge=0.0, description="disruption weight of the objective")

    @model_validator(mode="after")
    def _file_given(self) -> PreviousHierarchy:
        if self.source == "file" and self.file is None:
            raise ValueError("previous: source 'file' needs 'file' (a previous hierarchy.csv)")
        if self.source == "reps" and self.file is not None:
            raise ValueError("previous: 'file' is given, so write source: file")
        return self


class HierarchyConfig(_Strict):
    """The ``hierarchy:`` section (see the module docstring).

    ``balance`` is the default band of each level (default: the scenario's
    balance measures at ± 10 %); ``contiguity`` requires every group to be one
    connected piece of the territory graph; ``compactness`` weighs the cut edges
    between groups against the travel term; ``time_limit`` is the solver's
    seconds per level (the seed is ``solver.seed``). Relative paths
    (``managers``, ``previous.file``) are read relative to the scenario file.
    """

    levels: list[HierarchyLevel] = Field(..., min_length=1)
    balance: dict[str, HierarchyBand] | None = None
    managers: list[ManagerConfig] | Path | None = None
    previous: PreviousHierarchy | None = None
    contiguity: bool = True
    compactness: float = Field(0.2, ge=0.0)
    time_limit: float = Field(10.0, gt=0.0)

    @model_validator(mode="after")
    def _names(self) -> HierarchyConfig:
        names = [level.name for level in self.levels]
        reserved = {"territory_id", "rep_id", "manager", "level", "id", "name"}
        for name in names:
            if name in reserved:
                raise ValueError(f"level name {name!r} is reserved (a column of hierarchy.csv)")
        if len(set(names)) != len(names):
            raise ValueError(f"level names must differ: {', '.join(names)}")
        for below, above in zip(self.levels, self.levels[1:], strict=False):
            a, ca, b, cb = below.name, below.count, above.name, above.count
            if ca is not None and cb is not None and cb > ca:
                raise ValueError(
                    f"level {b!r} has {cb} groups, more than the {ca} of level {a!r} below it"
                )
        if isinstance(self.managers, list):
            for manager in self.managers:
                if manager.level not in names:
                    raise ValueError(
                        f"manager {manager.manager_id}: level {manager.level!r} is not one of "
                        f"the levels ({', '.join(names)})"
                    )
            ids = [m.manager_id for m in self.managers]
            if len(set(ids)) != len(ids):
                raise ValueError("managers: each manager_id must be given once")
        return self
