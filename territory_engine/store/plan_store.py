"""The plan store: every run recorded in an embedded SQLite database.

A plan folder (see the README's output contract) is what a run leaves on disk; the
store is the index of those runs. :meth:`PlanStore.record_folder` reads a finished
plan folder and stores its manifest, scorecard and tables in one transaction, so a
plan is in the store completely or not at all. ``territory-engine run`` records
every plan it writes (in :func:`default_store_path` unless told otherwise), and
``territory-engine plans list|show|delete`` and ``compare`` work from the ids.

Plan ids
--------
A plan id is the first 10 hex digits of a SHA-256 over the scenario hash, the seed,
the bytes of ``assignments.csv`` and ``quotas.csv``, and the plan folder's absolute
path, for example ``7f3a9c2e01``. Every command accepts any unambiguous prefix
(``7f3a``). The id is a content address: recording the same folder again while it
holds the same plan gives the same id and refreshes that plan's row (its
``created_at``, timings and, when given, label and sweep id) instead of adding a
duplicate; a re-run that changes the plan, or the same plan in another folder, gets
a new id. When two different plans share the first 10 digits (about one in a
million over a thousand plans) the later one gets 12, then 14, ... digits.

A plan folder can be replaced after it was recorded (a re-run of the scenario writes
the same folder). The store remembers the SHA-256 of the folder's
``assignments.csv``, so :meth:`PlanStore.folder_of` can tell that the folder now
holds another plan instead of silently pointing at it.

Concurrency
-----------
The database uses write-ahead logging (``PRAGMA journal_mode = WAL``, checked on
every open) and a busy timeout of :data:`BUSY_TIMEOUT_SECONDS`, and each write is one
``BEGIN IMMEDIATE`` transaction, so several processes (a sweep's workers, parallel
``run`` commands) can record into one store at once. A write that still meets
``database is locked`` (SQLite does not wait in every case: a journal-mode change,
a recovery after a killed writer) is retried from the start, up to
:data:`WRITE_ATTEMPTS` times with a doubling, jittered pause (from
:data:`RETRY_FIRST_PAUSE_SECONDS`, at most :data:`RETRY_MAX_PAUSE_SECONDS`); after
that it fails in one line naming the store. A :class:`PlanStore` holds no open
connection between calls: it can be pickled and sent to another process.

A process killed in the middle of a write (SIGKILL, out of memory) leaves the
transaction uncommitted: the next connection rolls it back from the write-ahead log,
so the store holds every plan completely or not at all and passes
``PRAGMA integrity_check``. The ``-wal`` and ``-shm`` files beside the store are
part of it while it is in use; do not delete them.

Schema (version :data:`SCHEMA_VERSION`, kept in ``PRAGMA user_version``)
------------------------------------------------------------------------
``plans``: one row per recorded plan.

- ``id TEXT PRIMARY KEY``, ``digest TEXT UNIQUE`` (the full SHA-256 the id starts
  with), ``created_at TEXT`` (UTC, ISO 8601, ``2027-01-04T09:30:12Z``);
- ``label``, ``sweep_id``: free text given by the caller, or NULL;
- ``folder TEXT`` (absolute path), ``assignments_sha256 TEXT``;
- from ``plan.json``: ``scenario_name``, ``scenario_hash``, ``scenario_file``,
  ``seed INTEGER``, ``feasible INTEGER`` (0/1), and ``manifest TEXT``, the whole
  ``plan.json`` as JSON (scenario, violations, solver statistics, timings, versions);
- ``scorecard TEXT``: ``scorecard.json`` as JSON;
- headline numbers for listing, NULL when the scorecard lacks them:
  ``n_territories``, ``n_accounts``, ``potential_max_dev_pct`` (100 × the potential's
  ``max_rel_dev``), ``potential_balance_index``, ``travel_mean_km``,
  ``moved_potential_share``, ``relationship_potential_share`` (share of potential
  whose new rep has a direct tie), ``quota_total``, ``solve_seconds``,
  ``total_seconds``;
- ``assignments_columns``, ``quotas_columns``, ``territories_columns``: JSON lists of
  the CSV headers in file order (``territories_columns`` NULL without
  ``territories.csv``).

``assignments``: one row per account, ``(plan_id, row)`` the primary key.
``plan_id TEXT REFERENCES plans(id) ON DELETE CASCADE``, ``row INTEGER`` (0-based
file order), ``account_id``, ``territory_id``, ``rep_id``, ``unit_id``,
``previous_rep_id`` (TEXT as written), ``moved INTEGER`` (0/1, NULL when empty) and
``extra TEXT`` (JSON of any other column, NULL normally).

``quotas`` and ``territories``: one row per territory, ``(plan_id, row)`` the
primary key, ``plan_id`` cascading like ``assignments``; ``territory_id``,
``rep_id`` (and ``quota REAL`` for quotas) for queries, and ``cells TEXT``: the JSON
list of the row's cells exactly as the CSV holds them, so :meth:`PlanStore.get`
gives back the tables the plan folder's CSVs give
(:func:`territory_engine.plan.reader.read_plan_folder`), digit for digit.

Foreign keys are on in every connection; deleting a plan removes its rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pandas as pd

from territory_engine.errors import InputError, did_you_mean
from territory_engine.io.jsonio import to_json

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "SCHEMA_VERSION",
    "STORE_FILE_NAME",
    "WRITE_ATTEMPTS",
    "PlanStore",
    "StoreError",
    "StoredPlan",
    "default_store_path",
]

#: Version of the schema below, kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 1
#: How long a write waits for another process's transaction before failing.
BUSY_TIMEOUT_SECONDS = 60.0
#: How many times a write meeting ``database is locked`` is tried in all.
WRITE_ATTEMPTS = 8
#: The pause before the first retry of a locked write; it doubles each time.
RETRY_FIRST_PAUSE_SECONDS = 0.05
#: The longest pause between two tries of a locked write.
RETRY_MAX_PAUSE_SECONDS = 2.0
#: File name of the store beside the plan folders.
STORE_FILE_NAME = "plans.sqlite"
#: Hex digits of a new plan id.
ID_LENGTH = 10

_T = TypeVar("_T")

_ASSIGNMENT_COLUMNS = ("account_id", "territory_id", "rep_id", "unit_id", "previous_rep_id")

_SCHEMA = """
CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    label TEXT,
    sweep_id TEXT,
    folder TEXT NOT NULL,
    assignments_sha256 TEXT NOT NULL,
    scenario_name TEXT NOT NULL,
    scenario_hash TEXT NOT NULL,
    scenario_file TEXT,
    seed INTEGER,
    feasible INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    scorecard TEXT NOT NULL,
    n_territories INTEGER,
    n_accounts INTEGER,
    potential_max_dev_pct REAL,
    potential_balance_index REAL,
    travel_mean_km REAL,
    moved_potential_share REAL,
    relationship_potential_share REAL,
    quota_total REAL,
    solve_seconds REAL,
    total_seconds REAL,
    assignments_columns TEXT NOT NULL,
    quotas_columns TEXT NOT NULL,
    territories_columns TEXT
);
CREATE INDEX plans_sweep ON plans (sweep_id);
CREATE INDEX plans_scenario ON plans (scenario_hash);
CREATE TABLE assignments (
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    account_id TEXT NOT NULL,
    territory_id TEXT,
    rep_id TEXT,
    unit_id TEXT,
    previous_rep_id TEXT,
    moved INTEGER,
    extra TEXT,
    PRIMARY KEY (plan_id, row)
) WITHOUT ROWID;
CREATE TABLE quotas (
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    territory_id TEXT,
    rep_id TEXT,
    quota REAL,
    cells TEXT NOT NULL,
    PRIMARY KEY (plan_id, row)
) WITHOUT ROWID;
CREATE TABLE territories (
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    territory_id TEXT,
    rep_id TEXT,
    cells TEXT NOT NULL,
    PRIMARY KEY (plan_id, row)
) WITHOUT ROWID;
"""

#: Columns of :meth:`PlanStore.list`, in order (``scenario`` is ``scenario_name``).
LIST_COLUMNS = (
    "id",
    "created_at",
    "scenario",
    "label",
    "sweep_id",
    "seed",
    "feasible",
    "potential_max_dev_pct",
    "potential_balance_index",
    "travel_mean_km",
    "moved_potential_share",
    "relationship_potential_share",
    "solve_seconds",
    "folder",
)


class _Locked(Exception):
    """``database is locked`` from SQLite, for :meth:`PlanStore._write` to retry."""

    def __init__(self, error: sqlite3.OperationalError) -> None:
        super().__init__(str(error))
        self.error = error


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class StoreError(InputError):
    """The plan store cannot do what was asked: no such plan, an unreadable database,
    an incomplete plan folder. The message names the store or the folder."""


@dataclass(frozen=True)
class StoredPlan:
    """One plan as the store holds it.

    Attributes
    ----------
    id
        The plan id.
    created_at
        When it was (last) recorded: UTC, ISO 8601.
    scenario_name, scenario_hash
        From ``plan.json``.
    seed
        The solver seed (``None`` when ``plan.json`` has none).
    feasible
        Whether the plan meets every hard rule.
    label, sweep_id
        Given when it was recorded, else ``None``.
    folder
        The plan folder it was recorded from (it may since have been removed or
        replaced: see :meth:`PlanStore.folder_of`).
    scenario
        The full validated scenario (``plan.json``'s ``scenario``).
    scorecard
        ``scorecard.json``.
    manifest
        The whole ``plan.json``: ``violations``, ``solver``, ``timings_seconds``,
        ``versions``, ...
    headline
        The headline numbers of :meth:`PlanStore.list` (``None`` where absent).
    assignments
        ``assignments.csv`` as :func:`~territory_engine.plan.reader.read_plan_folder`
        reads it (ids as strings, ``moved`` boolean).
    quotas
        ``quotas.csv``, likewise.
    territories
        ``territories.csv``, likewise; ``None`` when the folder had none.
    """

    id: str
    created_at: str
    scenario_name: str
    scenario_hash: str
    seed: int | None
    feasible: bool
    label: str | None
    sweep_id: str | None
    folder: Path
    scenario: dict
    scorecard: dict
    manifest: dict
    headline: dict
    assignments: pd.DataFrame
    quotas: pd.DataFrame
    territories: pd.DataFrame | None

    @property
    def violations(self) -> list:
        """The hard rules the plan breaks (``plan.json``'s ``violations``)."""
        return list(self.manifest.get("violations") or [])

    @property
    def timings(self) -> dict:
        """Seconds per pipeline step (``plan.json``'s ``timings_seconds``)."""
        return dict(self.manifest.get("timings_seconds") or {})

    @property
    def parent_id(self) -> str | None:
        """The plan a mid-year change was made to (``plan.json``'s ``adjustment``), else None.

        Kept in the manifest rather than a column, so stores of any version read it.
        """
        return (self.manifest.get("adjustment") or {}).get("parent_plan_id")

    @property
    def effective_date(self) -> str | None:
        """The ISO date a mid-year change takes effect, else ``None``."""
        return (self.manifest.get("adjustment") or {}).get("effective_date")


def default_store_path(plan_dir: Path) -> Path:
    """The store of plans written under the same output folder as ``plan_dir``.

    Parameters
    ----------
    plan_dir
        A plan folder, for example ``out/fy_baseline``.

    Returns
    -------
    pathlib.Path
        ``<parent of plan_dir>/plans.sqlite`` (absolute), so every plan written under
        ``out/`` shares ``out/plans.sqlite``.
    """
    return Path(plan_dir).resolve().parent / STORE_FILE_NAME


class PlanStore:
    """An embedded SQLite database of recorded plans (schema in the module docstring).

    Parameters
    ----------
    path
        The database file. It is created, with its folder and the schema, when
        missing (unless ``create`` is false).
    create
        With ``False``, a missing file is an error ("no plan store at ...; run a
        scenario first") instead of a new empty store.

    Raises
    ------
    StoreError
        The file is missing (``create=False``), is not a plan store (another SQLite
        database or not a database at all), or was written by a newer version.
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            if not create:
                raise StoreError(f"no plan store at {self.path}; run a scenario first")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the plan store: {exc}", file=str(path)) from None
        self._ensure_schema()

    def __repr__(self) -> str:
        return f"PlanStore({str(self.path)!r})"

    # ------------------------------------------------------------------ connection

    @contextmanager
    def _connect(self, *, locked_raises: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (transactions are explicit), closed after use.

        Every ``sqlite3`` error becomes a one-line :class:`StoreError` naming the file;
        with ``locked_raises``, ``database is locked`` becomes :class:`_Locked` (for
        :meth:`_write` to retry).
        """
        con = None
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            con.execute("PRAGMA foreign_keys = ON")
            yield con
        except sqlite3.OperationalError as exc:
            if locked_raises and _is_locked(exc):
                raise _Locked(exc) from None
            raise StoreError(f"plan store error: {exc}", file=str(self.path)) from None
        except sqlite3.Error as exc:
            raise StoreError(f"plan store error: {exc}", file=str(self.path)) from None
        finally:
            if con is not None:
                con.close()

    def _write(self, body: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``body`` in one write transaction, retried while the database is locked.

        The transaction is committed when ``body`` returns and rolled back on any
        error (an interrupt included), so no partial plan is ever visible. A
        ``database is locked`` (or ``busy``) error from SQLite, which the busy timeout
        did not absorb, rolls back and runs ``body`` again on a new connection, up to
        :data:`WRITE_ATTEMPTS` tries in all, with a doubling, jittered pause between
        tries; ``body`` must therefore do nothing but database work.

        Raises
        ------
        StoreError
            Any other SQLite error, or still locked after the last try.
        """
        pause = RETRY_FIRST_PAUSE_SECONDS
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._connect(locked_raises=True) as con:
                    con.execute("BEGIN IMMEDIATE")
                    try:
                        result = body(con)
                    except BaseException:
                        con.rollback()
                        raise
                    con.execute("COMMIT")
                    return result
            except _Locked as exc:
                if attempt == WRITE_ATTEMPTS:
                    raise StoreError(
                        f"plan store error: {exc.error} (still, after {WRITE_ATTEMPTS} tries; "
                        "another process holds it: try again when it is done)",
                        file=str(self.path),
                    ) from None
            # Jitter keeps processes that collided from colliding again in step.
            time.sleep(pause * (0.5 + random.random()))
            pause = min(2 * pause, RETRY_MAX_PAUSE_SECONDS)
        raise AssertionError("unreachable")  # pragma: no cover

    def _ensure_schema(self) -> None:
        with self._connect() as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            wal = con.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
            if version == SCHEMA_VERSION and wal:
                return
            self._check_version(version)
        if not wal:
            self._write_unlocked(lambda con: con.execute("PRAGMA journal_mode = WAL"))

        def create(con: sqlite3.Connection) -> None:
            # Another process may have created the schema while this one waited.
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                tables = con.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()[0]
                if tables:
                    raise StoreError(
                        "not a plan store (an SQLite database with other tables)",
                        file=str(self.path),
                    )
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        con.execute(statement)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            else:
                self._check_version(version)

        self._write(create)

    def _write_unlocked(self, statement: Callable[[sqlite3.Connection], object]) -> None:
        """Run ``statement`` outside a transaction (``PRAGMA journal_mode`` cannot be in
        one), retried while locked like :meth:`_write`."""
        pause = RETRY_FIRST_PAUSE_SECONDS
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._connect(locked_raises=True) as con:
                    statement(con)
                    return
            except _Locked as exc:
                if attempt == WRITE_ATTEMPTS:
                    raise StoreError(
                        f"plan store error: {exc.error} (still, after {WRITE_ATTEMPTS} tries)",
                        file=str(self.path),
                    ) from None
            time.sleep(pause * (0.5 + random.random()))
            pause = min(2 * pause, RETRY_MAX_PAUSE_SECONDS)

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"written by a newer territory-engine (schema version {version}, "
                f"this one reads {SCHEMA_VERSION}); upgrade territory-engine",
                file=str(self.path),
            )

    # ------------------------------------------------------------------ writing

    def record_folder(
        self, plan_dir: Path, *, label: str | None = None, sweep_id: str | None = None
    ) -> str:
        """Record a finished plan folder, in one transaction.

        Reads ``plan.json``, ``scorecard.json``, ``assignments.csv``, ``quotas.csv``
        and, when present, ``territories.csv``. Recording a folder again while it
        holds the same plan refreshes that plan's row and keeps its id (and its label
        and sweep id unless new ones are given).

        Parameters
        ----------
        plan_dir
            A plan folder written by ``territory-engine run``.
        label
            Free text shown by ``plans list`` (for example a what-if's name).
        sweep_id
            The sweep the plan belongs to, for ``plans list --sweep``.

        Returns
        -------
        str
            The plan id (see the module docstring).

        Raises
        ------
        StoreError
            A file is missing or unreadable, or the database cannot be written.
        """
        folder = Path(plan_dir).resolve()
        if not folder.is_dir():
            raise StoreError("no plan folder here", file=str(plan_dir))
        manifest = _read_json(folder / "plan.json")
        card = _read_json(folder / "scorecard.json")
        assignments_bytes = _read_bytes(folder / "assignments.csv")
        quotas_bytes = _read_bytes(folder / "quotas.csv")
        a_columns, a_rows = _parse_csv(assignments_bytes, folder / "assignments.csv")
        q_columns, q_rows = _parse_csv(quotas_bytes, folder / "quotas.csv")
        territories_file = folder / "territories.csv"
        t_columns: list[str] | None = None
        t_rows: list[list[str]] = []
        if territories_file.is_file():
            t_columns, t_rows = _parse_csv(_read_bytes(territories_file), territories_file)
        for name, columns, required in (
            ("assignments.csv", a_columns, ("account_id", "rep_id")),
            ("quotas.csv", q_columns, ("territory_id", "quota")),
        ):
            missing = [c for c in required if c not in columns]
            if missing:
                raise StoreError(
                    f"column {missing[0]!r} missing; is this a plan folder?",
                    file=str(folder / name),
                )
        for key in ("scenario_name", "scenario_hash"):
            if not manifest.get(key):
                raise StoreError(f"{key!r} missing", file=str(folder / "plan.json"))
        seed = manifest.get("seed")
        assignments_sha = hashlib.sha256(assignments_bytes).hexdigest()
        digest = hashlib.sha256(
            "\0".join(
                [
                    str(manifest["scenario_hash"]),
                    str(seed),
                    assignments_sha,
                    hashlib.sha256(quotas_bytes).hexdigest(),
                    str(folder),
                ]
            ).encode()
        ).hexdigest()
        head = headline(card, manifest)
        plan_row = {
            "digest": digest,
            "created_at": _now(),
            "label": label,
            "sweep_id": sweep_id,
            "folder": str(folder),
            "assignments_sha256": assignments_sha,
            "scenario_name": str(manifest["scenario_name"]),
            "scenario_hash": str(manifest["scenario_hash"]),
            "scenario_file": manifest.get("scenario_file"),
            "seed": None if seed is None else int(seed),
            "feasible": int(bool(manifest.get("feasible", False))),
            "manifest": to_json(manifest),
            "scorecard": to_json(card),
            **head,
            "assignments_columns": json.dumps(a_columns),
            "quotas_columns": json.dumps(q_columns),
            "territories_columns": None if t_columns is None else json.dumps(t_columns),
        }
        assignment_rows = list(_assignment_rows(a_columns, a_rows, folder))

        tables = (assignment_rows, q_columns, q_rows, t_columns, t_rows)
        return self._write(lambda con: self._replace_plan(con, dict(plan_row), tables))

    def _replace_plan(self, con: sqlite3.Connection, row: dict, tables: tuple) -> str:
        """Insert the plan ``row`` and its tables, replacing the plan of the same digest
        (keeping its id, and its label and sweep id where ``row`` has none); its id."""
        assignment_rows, q_columns, q_rows, t_columns, t_rows = tables
        old = con.execute(
            "SELECT id, label, sweep_id FROM plans WHERE digest = ?", (row["digest"],)
        ).fetchone()
        if old is not None:
            plan_id = old[0]
            row["label"] = row["label"] if row["label"] is not None else old[1]
            row["sweep_id"] = row["sweep_id"] if row["sweep_id"] is not None else old[2]
            con.execute("DELETE FROM plans WHERE id = ?", (plan_id,))
        else:
            plan_id = _free_id(con, row["digest"])
        row["id"] = plan_id
        self._insert_plan(con, row)
        self._insert_assignments(con, plan_id, assignment_rows)
        self._insert_table(con, "quotas", plan_id, q_columns, q_rows)
        if t_columns is not None:
            self._insert_table(con, "territories", plan_id, t_columns, t_rows)
        return plan_id

    @staticmethod
    def _insert_plan(con: sqlite3.Connection, row: dict) -> None:
        names = list(row)
        con.execute(
            f"INSERT INTO plans ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [row[n] for n in names],
        )

    @staticmethod
    def _insert_assignments(con: sqlite3.Connection, plan_id: str, rows: list[tuple]) -> None:
        con.executemany(
            "INSERT INTO assignments (plan_id, row, account_id, territory_id, rep_id, unit_id, "
            "previous_rep_id, moved, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((plan_id, *r) for r in rows),
        )

    @staticmethod
    def _insert_table(
        con: sqlite3.Connection,
        table: str,
        plan_id: str,
        columns: list[str],
        rows: list[list[str]],
    ) -> None:
        def cell(values: list[str], name: str) -> str | None:
            return values[columns.index(name)] if name in columns else None

        if table == "quotas":
            con.executemany(
                "INSERT INTO quotas (plan_id, row, territory_id, rep_id, quota, cells) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (
                        plan_id,
                        i,
                        cell(r, "territory_id"),
                        cell(r, "rep_id"),
                        _number(cell(r, "quota")),
                        json.dumps(r),
                    )
                    for i, r in enumerate(rows)
                ),
            )
        else:
            con.executemany(
                f"INSERT INTO {table} (plan_id, row, territory_id, rep_id, cells) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    (plan_id, i, cell(r, "territory_id"), cell(r, "rep_id"), json.dumps(r))
                    for i, r in enumerate(rows)
                ),
            )

    def delete(self, plan_id: str, remove_folder: bool = False) -> None:
        """Remove a plan's rows (its assignments, quotas and territories cascade).

        Parameters
        ----------
        plan_id
            The id or an unambiguous prefix.
        remove_folder
            Also remove the plan folder from disk. Refused (nothing is deleted) when
            the folder now holds another plan; a folder already gone is no error.

        Raises
        ------
        StoreError
            Unknown or ambiguous id, or ``remove_folder`` on a replaced folder.
        """
        full = self.resolve_id(plan_id)
        folder = None
        if remove_folder:
            folder = self._folder(full)
            if folder.exists():
                self._check_folder(full, folder)
            else:
                folder = None
        self._write(lambda con: con.execute("DELETE FROM plans WHERE id = ?", (full,)))
        if folder is not None:
            shutil.rmtree(folder)

    # ------------------------------------------------------------------ reading

    def ids(self) -> list[str]:
        """Every plan id, oldest first."""
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT id FROM plans ORDER BY created_at, rowid")]

    def resolve_id(self, plan_id: str) -> str:
        """The full id of the plan ``plan_id`` names (an id or an unambiguous prefix).

        Raises
        ------
        StoreError
            No plan starts with ``plan_id`` (with a did-you-mean), or several do
            (listing them).
        """
        given = str(plan_id).strip().lower()
        with self._connect() as con:
            exact = con.execute("SELECT id FROM plans WHERE id = ?", (given,)).fetchone()
            if exact is not None:
                return exact[0]
            matches = (
                [
                    r[0]
                    for r in con.execute(
                        "SELECT id FROM plans WHERE substr(id, 1, ?) = ? ORDER BY id",
                        (len(given), given),
                    )
                ]
                if given
                else []
            )
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(matches[:10]) + (" ..." if len(matches) > 10 else "")
            raise StoreError(
                f"plan id {plan_id!r} is ambiguous: {len(matches)} plans start with it "
                f"({shown}); give more digits",
                file=str(self.path),
            )
        ids = self.ids()
        hint = did_you_mean(given, ids) or _prefix_hint(given, ids)
        known = "" if ids else " (the store is empty)"
        raise StoreError(f"no plan {plan_id!r}{known}{hint}", file=str(self.path))

    def list(self, *, sweep_id: str | None = None) -> pd.DataFrame:
        """One row per plan, oldest first.

        Parameters
        ----------
        sweep_id
            Only the plans of this sweep.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`LIST_COLUMNS`: ``id``, ``created_at`` (UTC ISO),
            ``scenario`` (its name), ``label``, ``sweep_id``, ``seed``, ``feasible``
            (bool), ``potential_max_dev_pct`` (percent), ``potential_balance_index``
            (0–100), ``travel_mean_km``, ``moved_potential_share``,
            ``relationship_potential_share`` (shares in 0–1; NaN when absent),
            ``solve_seconds`` and ``folder``.
        """
        where, args = ("WHERE sweep_id = ?", (sweep_id,)) if sweep_id is not None else ("", ())
        columns = ", ".join(
            "scenario_name AS scenario" if c == "scenario" else c for c in LIST_COLUMNS
        )
        with self._connect() as con:
            rows = con.execute(
                f"SELECT {columns} FROM plans {where} ORDER BY created_at, rowid", args
            ).fetchall()
        frame = pd.DataFrame(rows, columns=list(LIST_COLUMNS))
        frame["feasible"] = frame["feasible"].astype(bool)
        frame["seed"] = frame["seed"].astype("Int64")
        for column in LIST_COLUMNS[7:13]:
            frame[column] = pd.to_numeric(frame[column]).astype(float)
        return frame

    def get(self, plan_id: str) -> StoredPlan:
        """The plan ``plan_id`` names (an id or an unambiguous prefix), tables included.

        Raises
        ------
        StoreError
            Unknown or ambiguous id.
        """
        full = self.resolve_id(plan_id)
        with self._connect() as con:
            con.row_factory = sqlite3.Row
            row = con.execute("SELECT * FROM plans WHERE id = ?", (full,)).fetchone()
            if row is None:  # deleted by another process meanwhile
                raise StoreError(f"no plan {plan_id!r}", file=str(self.path))
            a_rows = con.execute(
                "SELECT account_id, territory_id, rep_id, unit_id, previous_rep_id, moved, "
                "extra FROM assignments WHERE plan_id = ? ORDER BY row",
                (full,),
            ).fetchall()
            q_rows = con.execute(
                "SELECT cells FROM quotas WHERE plan_id = ? ORDER BY row", (full,)
            ).fetchall()
            t_rows = con.execute(
                "SELECT cells FROM territories WHERE plan_id = ? ORDER BY row", (full,)
            ).fetchall()
        a_columns = json.loads(row["assignments_columns"])
        assignments = _frame(a_columns, _assignment_cells(a_columns, a_rows))
        if "moved" in assignments.columns:
            assignments["moved"] = assignments["moved"].astype(str).str.lower() == "true"
        quotas = _frame(json.loads(row["quotas_columns"]), [json.loads(r[0]) for r in q_rows])
        territories = None
        if row["territories_columns"] is not None:
            territories = _frame(
                json.loads(row["territories_columns"]), [json.loads(r[0]) for r in t_rows]
            )
        manifest = json.loads(row["manifest"])
        return StoredPlan(
            id=full,
            created_at=row["created_at"],
            scenario_name=row["scenario_name"],
            scenario_hash=row["scenario_hash"],
            seed=row["seed"],
            feasible=bool(row["feasible"]),
            label=row["label"],
            sweep_id=row["sweep_id"],
            folder=Path(row["folder"]),
            scenario=dict(manifest.get("scenario") or {}),
            scorecard=json.loads(row["scorecard"]),
            manifest=manifest,
            headline={k: row[k] for k in _HEADLINE_KEYS},
            assignments=assignments,
            quotas=quotas,
            territories=territories,
        )

    def folder_of(self, plan_id: str, *, check: bool = True) -> Path:
        """The plan folder a plan was recorded from.

        Parameters
        ----------
        plan_id
            The id or an unambiguous prefix.
        check
            Make sure the folder still exists and still holds this plan (its
            ``assignments.csv`` unchanged since it was recorded).

        Raises
        ------
        StoreError
            Unknown or ambiguous id; with ``check``, a folder removed or replaced by
            another plan since.
        """
        full = self.resolve_id(plan_id)
        folder = self._folder(full)
        if check:
            if not folder.is_dir():
                raise StoreError(
                    f"plan {full} was recorded from {folder}, which no longer exists "
                    f"(remove the record with: territory-engine plans delete {full})",
                    file=str(self.path),
                )
            self._check_folder(full, folder)
        return folder

    def _folder(self, full_id: str) -> Path:
        with self._connect() as con:
            row = con.execute("SELECT folder FROM plans WHERE id = ?", (full_id,)).fetchone()
        if row is None:
            raise StoreError(f"no plan {full_id!r}", file=str(self.path))
        return Path(row[0])

    def _check_folder(self, full_id: str, folder: Path) -> None:
        """Raise unless ``folder`` still holds plan ``full_id`` (same ``assignments.csv``)."""
        with self._connect() as con:
            expected = con.execute(
                "SELECT assignments_sha256 FROM plans WHERE id = ?", (full_id,)
            ).fetchone()[0]
        file = folder / "assignments.csv"
        actual = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else None
        if actual != expected:
            raise StoreError(
                f"plan {full_id} was recorded from {folder}, which now holds another plan "
                "(the scenario was re-run into it since)",
                file=str(self.path),
            )


# ---------------------------------------------------------------------- helpers

_HEADLINE_KEYS = (
    "n_territories",
    "n_accounts",
    "potential_max_dev_pct",
    "potential_balance_index",
    "travel_mean_km",
    "moved_potential_share",
    "relationship_potential_share",
    "quota_total",
    "solve_seconds",
    "total_seconds",
)


def headline(card: dict, manifest: dict) -> dict:
    """The headline numbers of a plan (the ``plans`` columns listed in the module docstring).

    The scorecard's numbers come from :func:`territory_engine.metrics.headline`; the
    store keeps the potential's deviation as a percentage (``potential_max_dev_pct``,
    100 × its ``max_rel_dev``) and adds the timings of the manifest.

    Parameters
    ----------
    card
        ``scorecard.json``.
    manifest
        ``plan.json``.

    Returns
    -------
    dict
        One value per key of :data:`_HEADLINE_KEYS`; ``None`` where the scorecard or
        manifest lacks it.
    """
    # Imported on use: listing plans should not load the metrics (scipy, shapely).
    from territory_engine.metrics.headline import headline as metrics_headline

    head = metrics_headline(card)
    timings = manifest.get("timings_seconds") or {}
    solve = _number(timings.get("solve"))
    if solve is None:
        solver = manifest.get("solver")
        solve = _number(solver.get("seconds")) if isinstance(solver, dict) else None
    total = sum(v for v in map(_number, timings.values()) if v is not None) if timings else None
    return {
        "n_territories": head.n_territories,
        "n_accounts": head.n_accounts,
        "potential_max_dev_pct": head.potential_max_dev_pct,
        "potential_balance_index": head.potential_balance_index,
        "travel_mean_km": head.travel_mean_km,
        "moved_potential_share": head.moved_potential_share,
        "relationship_potential_share": head.potential_with_tie_share,
        "quota_total": head.quota_total,
        "solve_seconds": solve,
        "total_seconds": None if total is None else round(total, 3),
    }


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if out == out and abs(out) != float("inf") else None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _free_id(con: sqlite3.Connection, digest: str) -> str:
    """The shortest id (from :data:`ID_LENGTH` digits, two at a time) no other plan has."""
    for length in range(ID_LENGTH, len(digest) + 1, 2):
        candidate = digest[:length]
        if con.execute("SELECT 1 FROM plans WHERE id = ?", (candidate,)).fetchone() is None:
            return candidate
    return digest  # unreachable: the full digest is unique in the table


def _prefix_hint(given: str, ids: list[str]) -> str:
    """Suggest ids sharing the longest prefix with ``given`` when difflib finds none."""
    best = max((_common_prefix(given, i) for i in ids), default=0)
    if best < 2:
        return ""
    close = [i for i in ids if _common_prefix(given, i) == best][:3]
    return " (did you mean " + " or ".join(repr(i) for i in close) + "?)"


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _read_bytes(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise StoreError("missing; is this a complete plan folder?", file=str(file)) from None
    except OSError as exc:
        raise StoreError(f"cannot read: {exc}", file=str(file)) from None


def _read_json(file: Path) -> dict:
    try:
        data = json.loads(_read_bytes(file).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"not valid JSON: {exc}", file=str(file)) from None
    if not isinstance(data, dict):
        raise StoreError("not a JSON object", file=str(file))
    return data


def _parse_csv(data: bytes, file: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file, every cell the exact text the file holds."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise StoreError(f"cannot read: {exc}", file=str(file)) from None
    if not rows:
        raise StoreError("empty file", file=str(file))
    header, body = rows[0], [r for r in rows[1:] if r]
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise StoreError(
                f"{len(r)} cells where the header has {len(header)}", file=str(file), row=i + 2
            )
    return header, body


def _assignment_rows(columns: list[str], rows: list[list[str]], folder: Path) -> Iterator[tuple]:
    """Rows of the ``assignments`` table (without ``plan_id``) from the CSV's cells."""
    position = {c: i for i, c in enumerate(columns)}
    extra = [c for c in columns if c not in _ASSIGNMENT_COLUMNS and c != "moved"]
    for n, r in enumerate(rows):
        known = [r[position[c]] if c in position else None for c in _ASSIGNMENT_COLUMNS]
        moved = None
        if "moved" in position:
            text = r[position["moved"]].strip().lower()
            if text in ("true", "1"):
                moved = 1
            elif text in ("false", "0"):
                moved = 0
            elif text:
                raise StoreError(
                    f"{r[position['moved']]!r} is not true or false",
                    file=str(folder / "assignments.csv"),
                    row=n + 2,
                    column="moved",
                )
        cells = json.dumps({c: r[position[c]] for c in extra}) if extra else None
        yield (n, *known, moved, cells)


def _assignment_cells(columns: list[str], rows: list) -> list[list[str]]:
    """The CSV cells of stored assignment rows, in the order of ``columns``."""
    out = []
    for account_id, territory_id, rep_id, unit_id, previous_rep_id, moved, extra in rows:
        values = {
            "account_id": account_id,
            "territory_id": territory_id,
            "rep_id": rep_id,
            "unit_id": unit_id,
            "previous_rep_id": previous_rep_id,
            "moved": "" if moved is None else ("True" if moved else "False"),
        }
        if extra:
            values.update(json.loads(extra))
        out.append([values[c] if values.get(c) is not None else "" for c in columns])
    return out


def _frame(columns: list[str], rows: list[list[str]]) -> pd.DataFrame:
    """The table the plan folder's CSV gives, parsed as the plan reader parses it."""
    from territory_engine.plan.reader import read_plan_csv

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    buffer.seek(0)
    return read_plan_csv(buffer)  # type: ignore[arg-type]
