"""CRM write-back: the plan's ownership changes as files a CRM imports.

The changes are the plan's accounts whose owner differs from last year's
(``assignments.csv``: ``rep_id`` against ``previous_rep_id``), including accounts
that had no owner and get one; an account that keeps its rep is not a change.

- ``salesforce``: ``owner_changes.csv`` with ``Id, OwnerId``, the columns Data
  Loader's *Update* maps onto ``Account``; ``OwnerId`` is the new rep's CRM user
  from a ``rep_id, user_id`` table (``--users``).
- ``csv``: ``owner_changes.csv`` with ``account_id, old_owner, new_owner,
  effective_date`` (rep ids; the date is the scenario's ``quota.plan_start`` unless
  one is given).

Both write ``territory_hierarchy.csv``: ``territory_id, rep_id, rep_name, segment,
region, district``, the region and district being the drawn hierarchy's
(``hierarchy.csv``) when the plan has one, else the quota pools of ``quotas.csv``
(empty when the scenario has no ``quota.regions``).
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from territory_engine.errors import InputError
from territory_engine.io.safe_cells import write_csv
from territory_engine.io.tables import check_ids, raise_for_rows, read_table
from territory_engine.plan.atomic import write_folder_atomically
from territory_engine.plan.reader import PlanFolder, read_plan_folder

__all__ = [
    "CHANGES_FILE",
    "EXPORT_FORMATS",
    "HIERARCHY_FILE",
    "ExportResult",
    "export_plan",
    "generic_changes",
    "owner_changes",
    "read_users",
    "salesforce_changes",
    "territory_hierarchy",
]

#: The formats of ``territory-engine export``.
EXPORT_FORMATS = ("salesforce", "csv")
ExportFormat = Literal["salesforce", "csv"]

#: The ownership changes.
CHANGES_FILE = "owner_changes.csv"
#: Territory, rep and region of every territory.
HIERARCHY_FILE = "territory_hierarchy.csv"

HIERARCHY_COLUMNS = ("territory_id", "rep_id", "rep_name", "segment", "region", "district")


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_plan` wrote.

    Attributes
    ----------
    folder
        The export folder.
    changes
        ``owner_changes.csv`` as written.
    hierarchy
        ``territory_hierarchy.csv`` as written.
    new_owners
        Changes of accounts that had no owner last year.
    """

    folder: Path
    changes: pd.DataFrame
    hierarchy: pd.DataFrame
    new_owners: int = 0


def owner_changes(assignments: pd.DataFrame) -> pd.DataFrame:
    """Accounts whose owner changes against last year: ``account_id, old_owner, new_owner``.

    Parameters
    ----------
    assignments
        ``assignments.csv`` of a plan (``account_id, rep_id, previous_rep_id``).

    Returns
    -------
    pandas.DataFrame
        In the plan's order; ``old_owner`` is ``""`` for an account without one.
    """
    previous = assignments["previous_rep_id"].fillna("").astype(str)
    new = assignments["rep_id"].fillna("").astype(str)
    changed = (new != previous) & (new != "")
    return pd.DataFrame(
        {
            "account_id": assignments["account_id"].astype(str)[changed].to_numpy(),
            "old_owner": previous[changed].to_numpy(),
            "new_owner": new[changed].to_numpy(),
        }
    )


def read_users(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The rep -> CRM user map (``rep_id, user_id``; other columns ignored).

    Raises
    ------
    InputError
        A missing column, a repeated rep or an empty user id, naming the row.
    """
    frame = read_table(
        path, kind="users", required=("rep_id", "user_id"), id_column="rep_id", text=("user_id",)
    )
    check_ids(frame, "rep_id", file=path)
    raise_for_rows(
        frame,
        (frame["user_id"] == "").to_numpy(),
        file=path,
        column="user_id",
        id_column="rep_id",
        describe=lambda _: "is empty; every rep needs the CRM user id that owns their accounts",
    )
    return frame[["rep_id", "user_id"]]


def salesforce_changes(
    changes: pd.DataFrame, users: pd.DataFrame, *, users_file: str
) -> pd.DataFrame:
    """``Id, OwnerId`` for Data Loader: each changed account and its new owner's user.

    Raises
    ------
    InputError
        A new owner missing from ``users``, named with the accounts it would own.
    """
    user_of = dict(zip(users["rep_id"], users["user_id"], strict=True))
    missing = [r for r in dict.fromkeys(changes["new_owner"]) if r not in user_of]
    if missing:
        count = int((changes["new_owner"] == missing[0]).sum())
        more = (
            f" (and {len(missing) - 1} more: {', '.join(missing[1:6])})" if len(missing) > 1 else ""
        )
        raise InputError(
            f"rep {missing[0]!r} has no row{more}, but gets {count:,} accounts of the plan; "
            "add a row rep_id,user_id for every rep who gains accounts",
            file=users_file,
            column="rep_id",
        )
    return pd.DataFrame(
        {
            "Id": changes["account_id"].to_numpy(),
            "OwnerId": changes["new_owner"].map(user_of).to_numpy(),
        }
    )


def generic_changes(changes: pd.DataFrame, effective_date: _dt.date) -> pd.DataFrame:
    """``account_id, old_owner, new_owner, effective_date`` (ISO date)."""
    return changes.assign(effective_date=effective_date.isoformat())


def territory_hierarchy(folder: PlanFolder) -> pd.DataFrame:
    """``territory_id, rep_id, rep_name, segment, region, district`` of every territory.

    Region and district come from the plan's drawn hierarchy (``hierarchy.csv``)
    when it has one, else from the plan's quota pools (``quotas.csv``) when the
    scenario has ``quota.regions``; they are empty otherwise.
    """
    territories = folder.territories
    out = pd.DataFrame({"territory_id": territories["territory_id"].astype(str)})
    out["rep_id"] = territories["rep_id"].fillna("").astype(str).to_numpy()
    names = folder.reps.drop_duplicates("rep_id").set_index("rep_id")["name"]
    if "rep_name" in territories.columns:
        out["rep_name"] = territories["rep_name"].fillna("").astype(str).to_numpy()
    else:
        out["rep_name"] = out["rep_id"].map(names).fillna("")
    out["segment"] = (
        territories["segment"].fillna("").astype(str).to_numpy()
        if "segment" in territories.columns
        else ""
    )
    quotas = folder.quotas.drop_duplicates("territory_id").set_index("territory_id")
    drawn = _drawn_hierarchy(folder)
    for column in ("region", "district"):
        if column in drawn:
            out[column] = out["territory_id"].map(drawn[column]).fillna("")
        elif column in quotas.columns:
            values = quotas[column].fillna("").astype(str)
            out[column] = out["territory_id"].map(values).fillna("")
        else:
            out[column] = ""
    return out[list(HIERARCHY_COLUMNS)]


def _drawn_hierarchy(folder: PlanFolder) -> dict[str, pd.Series]:
    """``{"district": territory -> group, "region": ...}`` from the drawn hierarchy, if any."""
    table = folder.hierarchy
    if table is None:
        return {}
    from territory_engine.org.hierarchy.tables import hierarchy_levels
    from territory_engine.quota.hierarchy import drawn_columns

    table = table.drop_duplicates("territory_id").set_index("territory_id")
    return {
        column: table[level].fillna("").astype(str)
        for column, level in drawn_columns(hierarchy_levels(table.reset_index())).items()
    }


def plan_start(folder: PlanFolder) -> _dt.date | None:
    """The scenario's ``quota.plan_start`` recorded in ``plan.json``, if any."""
    quota = (folder.manifest.get("scenario") or {}).get("quota") or {}
    value = quota.get("plan_start")
    if not value:
        return None
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def export_plan(
    plan_dir: Path | str,
    *,
    format: ExportFormat | str,
    users: Path | str | None = None,
    output: Path | str | None = None,
    effective_date: _dt.date | str | None = None,
) -> ExportResult:
    """Write the plan's ownership changes and territory hierarchy for a CRM.

    Parameters
    ----------
    plan_dir
        A plan folder.
    format
        ``salesforce`` (``Id, OwnerId``; needs ``users``) or ``csv``.
    users
        The ``rep_id, user_id`` table (``salesforce`` only).
    output
        The export folder, replaced as a whole (default ``PLAN_DIR/export_<format>``);
        an existing folder must be empty or an earlier export.
    effective_date
        The date the changes take effect (``csv``; a date or ``YYYY-MM-DD``);
        default the scenario's ``quota.plan_start``.

    Returns
    -------
    ExportResult

    Raises
    ------
    InputError
        An unknown format, a missing or incomplete user map, no effective date,
        or an output folder that is not an export's. Nothing is written then.
    """
    plan_dir = Path(plan_dir)
    if format not in EXPORT_FORMATS:
        raise InputError(
            f"unknown export format {format!r}; use one of {', '.join(EXPORT_FORMATS)}"
        )
    folder = read_plan_folder(plan_dir)
    changes = owner_changes(folder.assignments)
    if format == "salesforce":
        if users is None:
            raise InputError(
                "--format salesforce needs --users FILE (columns rep_id, user_id): "
                "the CRM user who owns each rep's accounts"
            )
        table = salesforce_changes(changes, read_users(users), users_file=str(users))
    else:
        if users is not None:
            raise InputError("--users is for --format salesforce; the csv format names reps")
        date = _as_date(effective_date) or plan_start(folder)
        if date is None:
            raise InputError(
                "has no quota.plan_start in plan.json; give the date the changes take effect "
                "with --effective-date YYYY-MM-DD",
                file=str(plan_dir),
            )
        table = generic_changes(changes, date)
    hierarchy = territory_hierarchy(folder)
    target = Path(output) if output is not None else plan_dir / f"export_{format}"
    _check_target(target)

    def write(tmp: Path) -> None:
        write_csv(table, tmp / CHANGES_FILE)
        write_csv(hierarchy, tmp / HIERARCHY_FILE)

    done = write_folder_atomically(target, write)
    return ExportResult(done, table, hierarchy, int((changes["old_owner"] == "").sum()))


def _as_date(value: _dt.date | str | None) -> _dt.date | None:
    if value is None or isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"--effective-date {value!r} is not a date; write it YYYY-MM-DD") from None


def _check_target(target: Path) -> None:
    """Refuse to replace a folder that is neither empty nor an earlier export."""
    if target.exists() and not target.is_dir():
        raise InputError("exists and is not a folder; give --output a folder", file=str(target))
    if target.is_dir() and any(target.iterdir()):
        ours = {CHANGES_FILE, HIERARCHY_FILE}
        if not {p.name for p in target.iterdir()} <= ours:
            raise InputError(
                "exists and is not an export folder (it holds other files); the export "
                "replaces its folder whole, so give --output a new folder",
                file=str(target),
            )
