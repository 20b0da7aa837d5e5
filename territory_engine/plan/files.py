"""The plan folder's contract: which files it holds and how its territories are named.

One place for the names: the writer (:mod:`territory_engine.plan.writer`), the reader
(:mod:`territory_engine.plan.reader`), the scorer, the validator and the plan store
all take them from here.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ASSIGNMENTS",
    "HIERARCHY",
    "HIERARCHY_FILES",
    "HIERARCHY_GEOJSON",
    "MANIFEST",
    "PLAN_FILES",
    "REQUIRED_FILES",
    "TERRITORY_PREFIX",
    "WORKBOOK",
    "plan_files",
    "territory_id_for_rep",
    "territory_ids_for_reps",
]

#: The one file every plan folder has: one row per account.
ASSIGNMENTS = "assignments.csv"

#: The manifest: scenario, hash, seed, solver statistics, versions, timings.
MANIFEST = "plan.json"

#: The plan as one Excel workbook (territories, quotas, assignments, moves).
WORKBOOK = "plan.xlsx"

#: Every file ``run`` writes, in the order the manifest lists them.
PLAN_FILES = (
    ASSIGNMENTS,
    "territories.csv",
    "territories.geojson",
    "quotas.csv",
    "quota_splits.csv",
    "units.csv",
    "scorecard.json",
    "accounts.csv",
    "reps.csv",
    WORKBOOK,
    "map.html",
    "report.html",
    MANIFEST,
)

#: The drawn hierarchy (``hierarchy:`` in the scenario): territory -> district -> region.
HIERARCHY = "hierarchy.csv"

#: The hierarchy's group polygons (dissolved territories), one feature per group and level.
HIERARCHY_GEOJSON = "hierarchy.geojson"

#: The files a plan with a drawn hierarchy adds (only then: other plans are unchanged).
HIERARCHY_FILES = (HIERARCHY, HIERARCHY_GEOJSON)


def plan_files(hierarchy: bool = False) -> tuple[str, ...]:
    """The files of a plan folder, in manifest order: :data:`PLAN_FILES` (+ the hierarchy's)."""
    if not hierarchy:
        return PLAN_FILES
    return (*PLAN_FILES[:-1], *HIERARCHY_FILES, PLAN_FILES[-1])


#: Files every plan folder must have for the views (compare, rep pages, the store).
REQUIRED_FILES = (
    "assignments.csv",
    "territories.csv",
    "quotas.csv",
    "scorecard.json",
    "territories.geojson",
    "accounts.csv",
    "reps.csv",
)

#: A territory held by one rep is named ``T-<rep_id>`` unless the plan names it.
TERRITORY_PREFIX = "T-"


def territory_id_for_rep(rep_id: str) -> str:
    """The default name of the territory ``rep_id`` holds (``T-R06`` for ``R06``)."""
    return f"{TERRITORY_PREFIX}{rep_id}"


def territory_ids_for_reps(rep_ids: Iterable[str]) -> tuple[str, ...]:
    """:func:`territory_id_for_rep` of each rep, in order."""
    return tuple(territory_id_for_rep(r) for r in rep_ids)
