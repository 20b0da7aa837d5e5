"""Read the territories of a plan folder against its scenario's tables.

``assignments.csv`` (and ``quotas.csv``, ``units.csv`` when present) of any plan
folder: one this engine wrote, one edited by hand, one imported from another tool.
Every bad row is reported with its file, row and column (see
:mod:`territory_engine.plan.score` for how a folder is read).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from territory_engine.config import Scenario
from territory_engine.errors import InputError
from territory_engine.io.load import Tables
from territory_engine.io.safe_cells import restore_frame
from territory_engine.io.tables import (
    check_ids,
    check_known,
    is_in,
    raise_for_rows,
    read_table,
    row_number,
)
from territory_engine.plan.files import ASSIGNMENTS, TERRITORY_PREFIX
from territory_engine.problem.build import ProblemIndex


@dataclass(frozen=True)
class PlanAssignment:
    """The territories of a plan folder, aligned with the scenario's tables.

    Attributes
    ----------
    territory_ids, territory_rep
        (k,) labels and rep ids ("" for a territory without a rep).
    account_territory
        (N,) territory index of each account, in the accounts table's order.
    centres
        (k, 2) lon/lat of each territory's centre.
    """

    territory_ids: list[str]
    territory_rep: list[str]
    account_territory: np.ndarray
    centres: np.ndarray


def read_plan_assignment(plan_dir: Path, scenario: Scenario, tables: Tables) -> PlanAssignment:
    """Read and check ``assignments.csv`` of a plan folder against the scenario's tables.

    Raises
    ------
    InputError
        A missing file or column, an unknown or repeated account, an unknown
        rep, a row with neither rep nor territory, a territory with two reps,
        a rep with two territories, or accounts without a row; each names the
        file, the row and the column.
    """
    path = plan_dir / ASSIGNMENTS
    if not plan_dir.is_dir():
        raise InputError("plan folder not found", file=str(plan_dir))
    if not path.is_file():
        raise InputError(
            "not found; a plan folder needs assignments.csv (account_id, rep_id)", file=str(path)
        )
    frame = read_table(
        path,
        kind="assignments",
        required=("account_id", "rep_id"),
        id_column="account_id",
        text=("territory_id", "rep_id"),
    )
    restore_frame(frame, ("account_id", "territory_id", "rep_id"))
    if "territory_id" not in frame.columns:
        frame["territory_id"] = ""
    check_ids(frame, "account_id", file=path)
    accounts, reps = tables.accounts, tables.reps
    account_ids = accounts["account_id"].astype(str)
    accounts_file = str(scenario.data.accounts)
    check_known(
        frame,
        "account_id",
        account_ids,
        file=path,
        id_column="account_id",
        what=f"an account of {accounts_file}",
    )
    rep_ids = reps["rep_id"].astype(str)
    rep = frame["rep_id"]
    check_known(
        frame,
        "rep_id",
        rep_ids,
        file=path,
        id_column="account_id",
        what=f"a rep of {scenario.data.reps}",
        allow_empty=True,
    )
    raise_for_rows(
        frame,
        (rep == "") & (frame["territory_id"] == ""),
        file=path,
        column="rep_id",
        id_column="account_id",
        describe=lambda _: "is empty and so is territory_id; every account needs a rep",
    )
    tid = frame["territory_id"].where(frame["territory_id"] != "", TERRITORY_PREFIX + rep)
    frame["territory_id"] = tid
    _one_to_one(frame, path, "territory_id", "rep_id", "a territory has one rep")
    owned = frame[frame["rep_id"] != ""]
    _one_to_one(owned, path, "rep_id", "territory_id", "a rep holds one territory")
    missing = ~is_in(account_ids, frame["account_id"])
    if missing.any():
        first, count = account_ids[missing].iloc[0], int(missing.sum())
        raise InputError(
            f"{count} account{'s' if count > 1 else ''} of {accounts_file} "
            f"{'have' if count > 1 else 'has'} no row (first: {first!r}); "
            "every account needs a row",
            file=str(path),
            column="account_id",
        )
    # Territories in the order of their reps in the reps table (as the pipeline
    # writes them), territories without a rep last, by id.
    rep_pos = {r: i for i, r in enumerate(rep_ids)}
    territory_rep = frame.groupby("territory_id", sort=False)["rep_id"].first()
    order = sorted(territory_rep.index, key=lambda t: (rep_pos.get(territory_rep[t], 1 << 30), t))
    pos = {t: i for i, t in enumerate(order)}
    by_account = dict(zip(frame["account_id"], frame["territory_id"], strict=True))
    account_territory = np.array([pos[by_account[a]] for a in account_ids], dtype=int)
    reps_of = [str(territory_rep[t]) for t in order]
    centres = _centres(plan_dir, scenario, tables, order, reps_of, account_territory)
    return PlanAssignment(list(order), reps_of, account_territory, centres)


def _one_to_one(frame: pd.DataFrame, path: Path, key: str, value: str, rule: str) -> None:
    """Raise on the first row whose ``value`` differs from the first one of its ``key``."""
    first = frame.groupby(key, sort=False)[value].transform("first")
    first_label = frame.groupby(key, sort=False)[value].transform(lambda s: s.index[0])

    def describe(label: Hashable) -> str:
        other = row_number(frame, first_label[label])
        return (
            f"{key} {frame.at[label, key]!r} has {value} {first[label]!r} on row {other} but "
            f"{frame.at[label, value]!r} here; {rule}"
        )

    raise_for_rows(
        frame,
        frame[value] != first,
        file=path,
        column=value,
        id_column="account_id",
        describe=describe,
    )


def _centres(
    plan_dir: Path,
    scenario: Scenario,
    tables: Tables,
    territory_ids: list[str],
    territory_rep: list[str],
    account_territory: np.ndarray,
) -> np.ndarray:
    accounts, reps = tables.accounts, tables.reps
    k = len(territory_ids)
    lon, lat = accounts.geometry.x.to_numpy(), accounts.geometry.y.to_numpy()
    w = accounts["potential"].to_numpy(float) + 1e-9
    wsum = np.bincount(account_territory, weights=w, minlength=k)
    centres = np.column_stack(
        [
            np.bincount(account_territory, weights=w * lon, minlength=k) / wsum,
            np.bincount(account_territory, weights=w * lat, minlength=k) / wsum,
        ]
    )
    if scenario.territories.mode == "per_rep":
        homes = reps.set_index(reps["rep_id"].astype(str)).geometry
        for t, r in enumerate(territory_rep):
            if r:
                centres[t] = (homes[r].x, homes[r].y)
        return centres
    listed = plan_dir / "territories.csv"
    if listed.is_file():
        table = restore_frame(pd.read_csv(listed, dtype={"territory_id": str}), ["territory_id"])
        if {"territory_id", "centre_lon", "centre_lat"} <= set(table.columns):
            known = table.set_index("territory_id")
            for t, tid in enumerate(territory_ids):
                if tid in known.index:
                    centres[t] = (known.at[tid, "centre_lon"], known.at[tid, "centre_lat"])
    return centres


def read_unit_territories(
    plan_dir: Path, index: ProblemIndex, territory_ids: list[str]
) -> np.ndarray | None:
    """(n,) territory of each problem unit as the folder's ``units.csv`` draws it, or ``None``.

    ``units.csv`` (``unit_id, segment, territory_id``, written by the pipeline) says
    who holds the units without accounts. It is used only when every row names a
    unit of the scenario's layers (a plan scored against a scenario with other
    layers ignores it); territories no longer in ``assignments.csv`` count as none.
    """
    path = plan_dir / "units.csv"
    if not path.is_file():
        return None
    frame = read_table(
        path,
        kind="units",
        required=("unit_id", "segment", "territory_id"),
        text=("unit_id", "segment", "territory_id"),
    )
    restore_frame(frame, ("unit_id", "segment", "territory_id"))
    layered = np.flatnonzero(~index.exception_unit)
    key = pd.Series(
        layered,
        index=pd.MultiIndex.from_arrays(
            [index.unit_geo_id[layered].astype(str), index.unit_group_name[layered].astype(str)]
        ),
    )
    rows = pd.MultiIndex.from_arrays([frame["unit_id"], frame["segment"]])
    found = key.reindex(rows)
    if found.isna().any():
        return None
    pos = {t: i for i, t in enumerate(territory_ids)}
    out = np.full(len(index.unit_geo_id), -1)
    out[found.to_numpy(dtype=int)] = [pos.get(t, -1) for t in frame["territory_id"]]
    return out


def read_plan_quotas(plan_dir: Path, territory_ids: list[str]) -> np.ndarray | None:
    """(k,) quotas from the folder's ``quotas.csv`` aligned with ``territory_ids``, or ``None``.

    Raises
    ------
    InputError
        A missing column, a quota that is not a number, an unknown, repeated
        or missing territory.
    """
    path = plan_dir / "quotas.csv"
    if not path.is_file():
        return None
    frame = read_table(
        path,
        kind="quotas",
        required=("territory_id", "quota"),
        id_column="territory_id",
        numeric=("quota",),
    )
    restore_frame(frame, ("territory_id",))
    check_ids(frame, "territory_id", file=path)
    check_known(
        frame,
        "territory_id",
        territory_ids,
        file=path,
        id_column="territory_id",
        what="a territory of assignments.csv",
    )
    by_id = dict(zip(frame["territory_id"], frame["quota"].astype(float), strict=True))
    missing = [t for t in territory_ids if t not in by_id]
    if missing:
        raise InputError(
            f"territory {missing[0]!r} of assignments.csv has no quota"
            + (f" ({len(missing) - 1} more likewise)" if len(missing) > 1 else ""),
            file=str(path),
            column="territory_id",
        )
    return np.array([by_id[t] for t in territory_ids])
