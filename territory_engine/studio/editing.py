"""The planner's edits: move units between territories, re-score, save as a new plan version.

Nothing is scored here: an edit is a copy of the plan folder whose ``assignments.csv``
and ``units.csv`` say the new owners, scored by the public
:func:`territory_engine.score_plan` and audited by
:func:`territory_engine.validate_plan` (the same code as ``territory-engine score`` and
``validate``), so the studio's numbers are the command line's numbers.

A move ``(unit_id, to_territory_id)`` gives the target territory the unit's accounts
of the target's segment (every account of the unit when territories have no
segment), and the unit's row of ``units.csv`` for that segment.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from territory_engine.constraints import validate_plan
from territory_engine.errors import InputError
from territory_engine.io.safe_cells import write_csv
from territory_engine.plan.atomic import write_folder_atomically
from territory_engine.plan.reader import PlanFolder, read_plan_csv
from territory_engine.plan.score import resolve_scenario, score_plan

__all__ = ["MAX_MOVES", "EditResult", "Move", "apply_moves", "rescore", "save_folder"]

#: The most unit moves one request may carry.
MAX_MOVES = 5000


@dataclass(frozen=True)
class Move:
    """Give unit ``unit_id`` to territory ``to_territory_id``."""

    unit_id: str
    to_territory_id: str


@dataclass(frozen=True)
class EditResult:
    """A re-scored edit: the scorecard, the broken rules in words, the edited folder."""

    card: dict
    broken: list[str]
    moved_accounts: int
    folder: Path


def apply_moves(plan: PlanFolder, moves: Sequence[Move], target: Path) -> int:
    """Write ``plan`` with ``moves`` applied into the (copied) folder ``target``.

    Returns
    -------
    int
        How many accounts changed territory.

    Raises
    ------
    InputError
        Too many moves, an unknown unit or territory (naming it).
    """
    if len(moves) > MAX_MOVES:
        raise InputError(f"at most {MAX_MOVES} moves per edit, not {len(moves)}")
    territories = plan.territories.astype({"territory_id": str, "rep_id": str})
    rep_of = dict(zip(territories["territory_id"], territories["rep_id"], strict=True))
    segment_of = (
        dict(zip(territories["territory_id"], territories["segment"].astype(str), strict=True))
        if "segment" in territories
        else {}
    )
    assignments = read_plan_csv(target / "assignments.csv")
    units_file = target / "units.csv"
    units = read_plan_csv(units_file) if units_file.is_file() else None
    segments = plan.accounts.set_index("account_id")["segment"] if segment_of else None
    known_units = set(assignments["unit_id"].astype(str))
    if units is not None:
        known_units |= set(units["unit_id"].astype(str))
    moved = 0
    for move in moves:
        if move.to_territory_id not in rep_of:
            raise InputError(
                f"move of unit {move.unit_id!r}: no territory {move.to_territory_id!r}"
            )
        if move.unit_id not in known_units:
            raise InputError(f"no unit {move.unit_id!r} in this plan")
        mask = assignments["unit_id"].astype(str) == move.unit_id
        segment = segment_of.get(move.to_territory_id)
        if segments is not None and segment is not None:
            mask &= assignments["account_id"].map(segments).astype(str) == segment
        changing = mask & (assignments["territory_id"] != move.to_territory_id)
        moved += int(changing.sum())
        assignments.loc[mask, "territory_id"] = move.to_territory_id
        assignments.loc[mask, "rep_id"] = rep_of[move.to_territory_id]
        if units is not None:
            row = units["unit_id"].astype(str) == move.unit_id
            if segment is not None and "segment" in units:
                row &= units["segment"].astype(str) == segment
            units.loc[row, "territory_id"] = move.to_territory_id
    if "moved" in assignments and "previous_rep_id" in assignments:
        previous = assignments["previous_rep_id"].fillna("").astype(str)
        assignments["moved"] = (previous != "") & (previous != assignments["rep_id"])
    write_csv(assignments, target / "assignments.csv")
    if units is not None:
        write_csv(units, units_file)
    return moved


def rescore(plan: PlanFolder, moves: Sequence[Move], workdir: Path) -> EditResult:
    """Copy ``plan``'s folder into ``workdir``, apply ``moves``, score and validate it.

    Raises
    ------
    InputError, ScenarioError
        A bad move, or the plan's scenario (``plan.json``) cannot be read.
    """
    folder = Path(tempfile.mkdtemp(prefix="edit-", dir=workdir))
    try:
        shutil.copytree(plan.path, folder, dirs_exist_ok=True)
        moved = apply_moves(plan, moves, folder)
        result = score_plan(folder)
        rules = validate_plan(folder, resolve_scenario(folder, None))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    broken = [f"{rule}: {text}" for rule, texts in rules.items() for text in texts]
    return EditResult(result.card, broken, moved, folder)


def save_folder(edit: EditResult, target: Path) -> Path:
    """Move an edit's folder to ``target`` atomically (the plan writer's way)."""

    def write(tmp: Path) -> None:
        shutil.copytree(edit.folder, tmp, dirs_exist_ok=True)

    try:
        return write_folder_atomically(target, write)
    finally:
        shutil.rmtree(edit.folder, ignore_errors=True)
