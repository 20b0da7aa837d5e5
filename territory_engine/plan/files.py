"""The plan folder's contract: which files it holds and how its territories are named.

One place for the names: the writer (:mod:`territory_engine.plan.writer`), the reader
(:mod:`territory_engine.plan.reader`), the scorer, the validator and the plan store
all take them from here.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ASSIGNMENTS",
    "MANIFEST",
    "PLAN_FILES",
    "REQUIRED_FILES",
    "TERRITORY_PREFIX",
    "WORKBOOK",
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
