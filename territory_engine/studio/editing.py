"""The planner's edits: move units between territories, re-score, save as a new plan version.

Nothing is scored here. A preview re-scores in memory: an :class:`EditSession` per
plan folder (kept in a small LRU, keyed by the folder and its modification times)
holds what scoring needs, loaded once (the scenario's tables, the problem and its
index, the folder's ``assignments.csv`` and ``units.csv``); an edit applies its moves
to copies of those two tables and hands them to the scorer's own functions
(:func:`territory_engine.plan.score.score_assignment`, the body of ``score_folder``)
and to the validator's own rules (:data:`territory_engine.constraints.validate.RULES`
on a :class:`~territory_engine.constraints.view.PlanView` of the moved tables), so the
studio's numbers are the command line's numbers. A save writes the plan folder the
way it always did: a copy of the folder with the moves written into
``assignments.csv`` and ``units.csv``, scored by :func:`territory_engine.score_plan`,
swapped in atomically. :func:`rescore_folder` is that folder-based re-score (the
reference the in-memory one is tested against).

The request carries every move since the version it edits, so undo is the same
request without the last move (moves apply in order; a later move of a unit wins).

A move ``(unit_id, to_territory_id)`` gives the target territory the unit's accounts
of the target's segment (every account of the unit when territories have no
segment), and the unit's row of ``units.csv`` for that segment.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from territory_engine.constraints import validate_plan
from territory_engine.constraints.validate import RULES
from territory_engine.constraints.view import PlanView
from territory_engine.errors import InputError
from territory_engine.io.load import Tables, load_tables
from territory_engine.io.safe_cells import write_csv
from territory_engine.plan.assignment import (
    PlanAssignment,
    _centres,
    read_plan_assignment,
    read_plan_quotas,
)
from territory_engine.plan.atomic import write_folder_atomically
from territory_engine.plan.files import TERRITORY_PREFIX
from territory_engine.plan.reader import PlanFolder, read_plan_csv, read_plan_folder
from territory_engine.plan.score import (
    LoadedInputs,
    resolve_scenario,
    score_assignment,
    score_plan,
)
from territory_engine.problem.build import build_problem

__all__ = [
    "MAX_MOVES",
    "SESSIONS",
    "EditResult",
    "EditSession",
    "Move",
    "SessionCache",
    "apply_moves",
    "rescore",
    "rescore_folder",
    "save_folder",
]

#: The most unit moves one request may carry.
MAX_MOVES = 5000
#: How many plan folders keep an edit session in memory.
SESSION_CACHE_SIZE = 4


@dataclass(frozen=True)
class Move:
    """Give unit ``unit_id`` to territory ``to_territory_id``."""

    unit_id: str
    to_territory_id: str


@dataclass(frozen=True)
class EditResult:
    """A re-scored edit: the scorecard, the broken rules in words, the edited folder.

    ``folder`` is where a save writes from: the edited copy of a folder-based
    re-score, or (in-memory re-score) a path in the work folder that does not exist
    until :func:`save_folder` writes ``source`` with ``moves`` applied.
    """

    card: dict
    broken: list[str]
    moved_accounts: int
    folder: Path
    source: PlanFolder | None = field(default=None, compare=False)
    moves: tuple[Move, ...] = ()


@dataclass(frozen=True)
class _Targets:
    """What moving units of one plan's tables checks and looks up (read once per tables).

    Attributes
    ----------
    rep_of, segment_of
        Each territory's rep and segment (``segment_of`` empty without segments).
    known_units
        The unit ids of ``assignments.csv`` and ``units.csv``.
    account_rows, unit_rows
        Per unit id, its rows of ``assignments.csv`` and of ``units.csv`` (positions).
    account_segment, unit_segment
        (N,) the segment of each row of ``assignments.csv`` (its account's) and of
        ``units.csv``, as text; ``None`` without segments (or without the column).
    """

    rep_of: dict[str, str]
    segment_of: dict[str, str]
    known_units: frozenset[str]
    account_rows: dict[str, np.ndarray]
    unit_rows: dict[str, np.ndarray]
    account_segment: np.ndarray | None
    unit_segment: np.ndarray | None

    @classmethod
    def of(
        cls, plan: PlanFolder, assignments: pd.DataFrame, units: pd.DataFrame | None
    ) -> _Targets:
        territories = plan.territories.astype({"territory_id": str, "rep_id": str})
        segment_of = (
            dict(zip(territories["territory_id"], territories["segment"].astype(str), strict=True))
            if "segment" in territories
            else {}
        )
        segments = plan.accounts.set_index("account_id")["segment"] if segment_of else None
        unit_ids = assignments["unit_id"].astype(str)
        units_ids = units["unit_id"].astype(str) if units is not None else pd.Series([], dtype=str)
        return cls(
            rep_of=dict(zip(territories["territory_id"], territories["rep_id"], strict=True)),
            segment_of=segment_of,
            known_units=frozenset(set(unit_ids) | set(units_ids)),
            account_rows=_rows_of(unit_ids),
            unit_rows=_rows_of(units_ids),
            account_segment=(
                assignments["account_id"].map(segments).astype(str).to_numpy()
                if segments is not None
                else None
            ),
            unit_segment=(
                units["segment"].astype(str).to_numpy()
                if units is not None and "segment" in units
                else None
            ),
        )


def _rows_of(ids: pd.Series) -> dict[str, np.ndarray]:
    """The positions of each value of ``ids``."""
    values = ids.to_numpy()
    return {str(k): v for k, v in pd.Series(values).groupby(values, sort=False).indices.items()}


def _move_tables(
    targets: _Targets,
    moves: Sequence[Move],
    assignments: pd.DataFrame,
    units: pd.DataFrame | None,
) -> int:
    """Apply ``moves`` to ``assignments`` (and ``units``) in place; accounts moved.

    ``targets`` are of these tables (:meth:`_Targets.of`, or the same tables' copy).
    Each move counts the accounts it gives to another territory (a unit moved twice
    counts twice).

    Raises
    ------
    InputError
        Too many moves, an unknown unit or territory (naming it), or an
        ``assignments.csv`` without ``territory_id``.
    """
    if len(moves) > MAX_MOVES:
        raise InputError(f"at most {MAX_MOVES} moves per edit, not {len(moves)}")
    rep_of, segment_of = targets.rep_of, targets.segment_of
    if moves and "territory_id" not in assignments:
        raise InputError("assignments.csv has no territory_id column: its units cannot move")
    # The columns as arrays, written back once: a move touches a few rows, and
    # pandas' boolean-mask assignment over every row per move cost more than the rest.
    territory = assignments["territory_id"].to_numpy(dtype=object, copy=True) if moves else None
    rep = assignments["rep_id"].to_numpy(dtype=object, copy=True) if moves else None
    drawn = (
        units["territory_id"].to_numpy(dtype=object, copy=True)
        if moves and units is not None
        else None
    )
    empty = np.zeros(0, dtype=np.intp)
    moved = 0
    for move in moves:
        if move.to_territory_id not in rep_of:
            raise InputError(
                f"move of unit {move.unit_id!r}: no territory {move.to_territory_id!r}"
            )
        if move.unit_id not in targets.known_units:
            raise InputError(f"no unit {move.unit_id!r} in this plan")
        assert territory is not None and rep is not None
        rows = targets.account_rows.get(move.unit_id, empty)
        segment = segment_of.get(move.to_territory_id)
        if targets.account_segment is not None and segment is not None:
            rows = rows[targets.account_segment[rows] == segment]
        moved += int(np.count_nonzero(territory[rows] != move.to_territory_id))
        territory[rows] = move.to_territory_id
        rep[rows] = rep_of[move.to_territory_id]
        if drawn is not None:
            row = targets.unit_rows.get(move.unit_id, empty)
            if segment is not None and targets.unit_segment is not None:
                row = row[targets.unit_segment[row] == segment]
            drawn[row] = move.to_territory_id
    if territory is not None and rep is not None:
        assignments["territory_id"] = territory
        assignments["rep_id"] = rep
    if drawn is not None and units is not None:
        units["territory_id"] = drawn
    if "moved" in assignments and "previous_rep_id" in assignments:
        previous = assignments["previous_rep_id"].fillna("").astype(str)
        assignments["moved"] = (previous != "") & (previous != assignments["rep_id"])
    return moved


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
    assignments = read_plan_csv(target / "assignments.csv")
    units_file = target / "units.csv"
    units = read_plan_csv(units_file) if units_file.is_file() else None
    moved = _move_tables(_Targets.of(plan, assignments, units), moves, assignments, units)
    write_csv(assignments, target / "assignments.csv")
    if units is not None:
        write_csv(units, units_file)
    return moved


def _broken(rules: dict[str, list[str]]) -> list[str]:
    return [f"{rule}: {text}" for rule, texts in rules.items() for text in texts]


def rescore_folder(plan: PlanFolder, moves: Sequence[Move], workdir: Path) -> EditResult:
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
    return EditResult(result.card, _broken(rules), moved, folder)


@dataclass(frozen=True)
class EditSession:
    """What re-scoring edits of one plan folder needs, read once (never mutated).

    Attributes
    ----------
    plan
        The plan folder.
    loaded
        The scenario, its tables, problem and index (and a memo of territory polygons).
    accounts
        The accounts table without geometry, ids as text (what the validator joins to).
    assignments, units
        The folder's ``assignments.csv`` and ``units.csv`` (``None`` when absent),
        as :func:`apply_moves` reads them.
    quotas
        The folder's ``quotas.csv`` for its own territories (``None`` when absent).
    territory_ids
        The territories those quotas are aligned with.
    targets
        The territories and units moves may name, looked up once.
    account_rows
        (N,) the row of ``assignments`` of each account of the accounts table.
    text
        ``assignments`` as text (``astype(str)``), what the validator's view starts
        from; an edit replaces only the columns moves change (:data:`_MOVED_COLUMNS`).
    duplicate_ids, extra_ids
        Account ids ``assignments.csv`` holds twice, and those the accounts table
        lacks (moves change neither).
    rep_pos
        Each rep's position in the reps table (territories are ordered by it).
    drawn_rows
        The problem unit of each row of ``units.csv`` (``None`` when a row names no
        unit of the scenario's layers, or without ``units.csv``).
    """

    plan: PlanFolder
    loaded: LoadedInputs
    accounts: pd.DataFrame
    assignments: pd.DataFrame
    units: pd.DataFrame | None
    quotas: np.ndarray | None
    territory_ids: tuple[str, ...]
    targets: _Targets
    account_rows: np.ndarray
    text: pd.DataFrame
    duplicate_ids: list[str]
    extra_ids: list[str]
    rep_pos: dict[str, int]
    drawn_rows: np.ndarray | None

    @classmethod
    def open(cls, plan: PlanFolder) -> EditSession:
        """Read ``plan``'s scenario, tables and tables of edits (as a re-score would)."""
        folder = Path(plan.path)
        scenario = resolve_scenario(folder, None)
        tables = load_tables(scenario)
        problem, index = build_problem(scenario, tables)
        base = read_plan_assignment(folder, scenario, tables)
        units_file = folder / "units.csv"
        assignments = read_plan_csv(folder / "assignments.csv")
        units = read_plan_csv(units_file) if units_file.is_file() else None
        accounts = _plain_accounts(tables)
        text = assignments.astype(str)
        if "territory_id" not in text.columns:
            text["territory_id"] = TERRITORY_PREFIX + text["rep_id"]
        counts = text["account_id"].value_counts()
        rep_ids = tables.reps["rep_id"].astype(str)
        return cls(
            plan=plan,
            loaded=LoadedInputs(scenario, tables, problem, index, polygons={}),
            accounts=accounts,
            assignments=assignments,
            units=units,
            quotas=read_plan_quotas(folder, base.territory_ids),
            territory_ids=tuple(base.territory_ids),
            targets=_Targets.of(plan, assignments, units),
            account_rows=pd.Index(assignments["account_id"].astype(str)).get_indexer(
                tables.accounts["account_id"].astype(str)
            ),
            text=text,
            duplicate_ids=sorted(counts.index[counts > 1].tolist()),
            extra_ids=sorted(set(text["account_id"]) - set(accounts["account_id"])),
            rep_pos={r: i for i, r in enumerate(rep_ids)},
            drawn_rows=_drawn_rows(index, units),
        )

    def rescore(self, moves: Sequence[Move], workdir: Path) -> EditResult:
        """Score and validate this plan with ``moves`` applied, in memory.

        Raises
        ------
        InputError
            A bad move, or moves that leave the plan unreadable.
        """
        assignments = self.assignments.copy()
        units = self.units.copy() if self.units is not None else None
        moved = _move_tables(self.targets, moves, assignments, units)
        folder = Path(self.plan.path)
        plan = self._assignment(assignments)
        drawn = self._drawn(units, plan.territory_ids)

        def file_quotas() -> np.ndarray | None:
            if self.quotas is None or tuple(plan.territory_ids) == self.territory_ids:
                return self.quotas
            return read_plan_quotas(folder, plan.territory_ids)  # a territory emptied

        result = score_assignment(folder, self.loaded, plan, drawn, file_quotas)
        view = self._view(assignments, units)
        rules = {name: rule(view) for name, rule in RULES.items()}
        target = Path(workdir) / f"edit-{uuid.uuid4().hex[:12]}"
        return EditResult(result.card, _broken(rules), moved, target, self.plan, tuple(moves))

    def _assignment(self, frame: pd.DataFrame) -> PlanAssignment:
        """The moved ``assignments.csv`` as :func:`read_plan_assignment` reads it."""
        scenario, tables = self.loaded.scenario, self.loaded.tables
        frame = frame[["account_id", "rep_id", "territory_id"]].astype(str)
        tid = frame["territory_id"].where(
            frame["territory_id"] != "", TERRITORY_PREFIX + frame["rep_id"]
        )
        frame = frame.assign(territory_id=tid)
        rep_pos = self.rep_pos
        territory_rep = frame.groupby("territory_id", sort=False)["rep_id"].first()
        order = sorted(
            territory_rep.index, key=lambda t: (rep_pos.get(territory_rep[t], 1 << 30), t)
        )
        pos = {t: i for i, t in enumerate(order)}
        codes = frame["territory_id"].map(pos).to_numpy(dtype=int)
        account_territory = codes[self.account_rows]
        reps_of = [str(territory_rep[t]) for t in order]
        centres = _centres(
            Path(self.plan.path), scenario, tables, order, reps_of, account_territory
        )
        return PlanAssignment(list(order), reps_of, account_territory, centres)

    def _drawn(self, units: pd.DataFrame | None, territory_ids: list[str]) -> np.ndarray | None:
        """The moved ``units.csv`` as :func:`read_unit_territories` reads it."""
        if units is None or self.drawn_rows is None:
            return None
        pos = {t: i for i, t in enumerate(territory_ids)}
        out = np.full(len(self.loaded.index.unit_geo_id), -1)
        out[self.drawn_rows] = [pos.get(t, -1) for t in units["territory_id"].astype(str)]
        return out

    def _view(self, assignments: pd.DataFrame, units: pd.DataFrame | None) -> PlanView:
        """The moved tables as :func:`~territory_engine.constraints.view.load_view` joins them."""
        tables = self.loaded.tables
        plan = self.text.assign(
            **{c: assignments[c].astype(str) for c in _MOVED_COLUMNS if c in assignments}
        )
        duplicate, extra = self.duplicate_ids, self.extra_ids
        if duplicate:
            plan = plan.drop_duplicates("account_id", keep="first")
        accounts = self.accounts
        if duplicate or extra or {"rep_id", "territory_id"} & set(accounts.columns):
            joined = accounts.merge(
                plan[["account_id", "rep_id", "territory_id"]], on="account_id", how="left"
            )
            joined[["rep_id", "territory_id"]] = joined[["rep_id", "territory_id"]].fillna("")
        else:  # the merge's result, by the rows looked up once (moves keep every row)
            joined = accounts.assign(
                rep_id=plan["rep_id"].to_numpy()[self.account_rows],
                territory_id=plan["territory_id"].to_numpy()[self.account_rows],
            )
        pairs = plan.loc[plan["rep_id"] != "", ["territory_id", "rep_id"]].drop_duplicates()
        return PlanView(
            scenario=self.loaded.scenario,
            tables=tables,
            accounts=joined,
            extra_ids=extra,
            duplicate_ids=duplicate,
            units=units.astype(str) if units is not None else None,
            territory_rep=dict(zip(pairs["territory_id"], pairs["rep_id"], strict=True)),
        )


#: The columns of ``assignments.csv`` a move changes (:func:`_move_tables`).
_MOVED_COLUMNS = ("territory_id", "rep_id", "moved")


def _drawn_rows(index, units: pd.DataFrame | None) -> np.ndarray | None:
    """The problem unit of each row of ``units.csv``, as :func:`read_unit_territories`
    matches them (``None`` when one names no unit of the scenario's layers)."""
    if units is None:
        return None
    layered = np.flatnonzero(~index.exception_unit)
    key = pd.Series(
        layered,
        index=pd.MultiIndex.from_arrays(
            [index.unit_geo_id[layered].astype(str), index.unit_group_name[layered].astype(str)]
        ),
    )
    text = units[["unit_id", "segment"]].astype(str)
    found = key.reindex(pd.MultiIndex.from_arrays([text["unit_id"], text["segment"]]))
    if found.isna().any():
        return None
    return found.to_numpy(dtype=int)


def _plain_accounts(tables: Tables) -> pd.DataFrame:
    """The accounts table as the validator's view starts from it."""
    accounts = pd.DataFrame(tables.accounts.drop(columns="geometry"))
    accounts["account_id"] = accounts["account_id"].astype(str)
    return accounts


def _folder_key(folder: Path) -> tuple[str, int, int]:
    """A plan folder and the modification times of it and its ``assignments.csv``."""
    folder = Path(folder).resolve()
    return (
        str(folder),
        os.stat(folder).st_mtime_ns,
        os.stat(folder / "assignments.csv").st_mtime_ns,
    )


class SessionCache:
    """A bounded LRU of :class:`EditSession`, safe under concurrent requests.

    A folder's session is built once even when several requests ask at the same
    time (they wait on the folder's own lock; other folders are not held up).
    """

    def __init__(self, size: int = SESSION_CACHE_SIZE) -> None:
        self.size = size
        self._sessions: OrderedDict[tuple[str, int, int], EditSession] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple[str, int, int], threading.Lock] = {}

    def get(self, plan: PlanFolder) -> EditSession:
        """The session of ``plan``'s folder as it is now (opened when not cached)."""
        return self._get(_folder_key(plan.path), lambda: plan)

    def get_folder(self, folder: Path) -> EditSession:
        """The session of the plan folder at ``folder`` (read only when not cached)."""
        return self._get(_folder_key(folder), lambda: read_plan_folder(folder))

    def _get(self, key: tuple[str, int, int], plan: Callable[[], PlanFolder]) -> EditSession:
        with self._lock:
            if key in self._sessions:
                self._sessions.move_to_end(key)
                return self._sessions[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._sessions:
                    return self._sessions[key]
            session = EditSession.open(plan())
            with self._lock:
                self._sessions[key] = session
                self._sessions.move_to_end(key)
                while len(self._sessions) > self.size:
                    self._sessions.popitem(last=False)
                self._building.pop(key, None)
        return session

    def clear(self) -> None:
        """Forget every session."""
        with self._lock:
            self._sessions.clear()


#: The process's edit sessions (the studio's app shares them across requests).
SESSIONS = SessionCache()


def rescore(plan: PlanFolder, moves: Sequence[Move], workdir: Path) -> EditResult:
    """Re-score ``plan`` with ``moves`` (every move since the version), in memory.

    Raises
    ------
    InputError, ScenarioError
        A bad move, or the plan's scenario (``plan.json``) cannot be read.
    """
    return SESSIONS.get(plan).rescore(moves, workdir)


def save_folder(edit: EditResult, target: Path) -> Path:
    """Write an edit's folder to ``target`` atomically (the plan writer's way).

    An in-memory edit is written as a folder-based one always was: ``source``'s
    folder copied, the moves applied, scored by :func:`territory_engine.score_plan`.
    """

    def write(tmp: Path) -> None:
        if edit.source is None:
            shutil.copytree(edit.folder, tmp, dirs_exist_ok=True)
            return
        shutil.copytree(edit.source.path, tmp, dirs_exist_ok=True)
        apply_moves(edit.source, edit.moves, tmp)
        score_plan(tmp)

    try:
        return write_folder_atomically(target, write)
    finally:
        shutil.rmtree(edit.folder, ignore_errors=True)
