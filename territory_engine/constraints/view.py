"""``PlanView``: a plan folder read back and joined to its input data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from territory_engine.config.scenario import Scenario
from territory_engine.config.segments import teams
from territory_engine.errors import InputError
from territory_engine.io.load import Tables, load_tables
from territory_engine.plan.files import TERRITORY_PREFIX
from territory_engine.plan.reader import read_plan_table


@dataclass(frozen=True)
class PlanView:
    """What the rules look at.

    Attributes
    ----------
    scenario, tables
        The scenario and its validated input tables (accounts carry ``unit_id``).
    accounts
        Accounts with the plan's ``rep_id`` and ``territory_id`` joined
        (``""`` where the plan has no row for an account).
    extra_ids
        Account ids in ``assignments.csv`` that are not in the accounts table.
    duplicate_ids
        Account ids that appear more than once in ``assignments.csv``.
    units
        ``units.csv`` (``unit_id, segment, territory_id``) or ``None``.
    territory_rep
        territory id -> rep id, from the plan.
    """

    scenario: Scenario
    tables: Tables
    accounts: pd.DataFrame
    extra_ids: list[str]
    duplicate_ids: list[str]
    units: pd.DataFrame | None
    territory_rep: dict[str, str]


def load_view(plan_dir: str | Path, scenario: Scenario, tables: Tables | None = None) -> PlanView:
    """Read ``assignments.csv`` (required) and ``units.csv`` (optional) of ``plan_dir``.

    Raises
    ------
    InputError
        A missing folder, file or column.
    """
    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        raise InputError("plan folder not found", file=str(plan_dir))
    tables = tables if tables is not None else load_tables(scenario)
    plan = read_plan_table(plan_dir, "assignments.csv", ["account_id", "rep_id"])
    if "territory_id" not in plan.columns:
        plan["territory_id"] = TERRITORY_PREFIX + plan["rep_id"]
    counts = plan["account_id"].value_counts()
    duplicate = sorted(counts.index[counts > 1].tolist())
    plan = plan.drop_duplicates("account_id", keep="first")
    accounts = pd.DataFrame(tables.accounts.drop(columns="geometry"))
    accounts["account_id"] = accounts["account_id"].astype(str)
    known = set(accounts["account_id"])
    extra = sorted(set(plan["account_id"]) - known)
    joined = accounts.merge(
        plan[["account_id", "rep_id", "territory_id"]], on="account_id", how="left"
    )
    joined[["rep_id", "territory_id"]] = joined[["rep_id", "territory_id"]].fillna("")
    units = None
    if (plan_dir / "units.csv").is_file():
        units = read_plan_table(plan_dir, "units.csv", ["unit_id", "segment", "territory_id"])
    pairs = plan.loc[plan["rep_id"] != "", ["territory_id", "rep_id"]].drop_duplicates()
    territory_rep = dict(zip(pairs["territory_id"], pairs["rep_id"], strict=True))
    return PlanView(
        scenario=scenario,
        tables=tables,
        accounts=joined,
        extra_ids=extra,
        duplicate_ids=duplicate,
        units=units,
        territory_rep=territory_rep,
    )


def segment_groups(view: PlanView) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Eligibility group of each account and each rep (as in the scenario), and group names."""
    accounts, reps = view.accounts, view.tables.reps
    groups = teams(view.scenario.territories.eligibility, accounts["segment"], reps["segment"])
    names = groups.names
    code = {s: names.index(g) for s, g in groups.of_account_segment.items()}
    rep_code = {s: names.index(g) for s, g in groups.of_rep_segment.items()}
    segment = accounts["segment"]
    if view.scenario.constraints.keep_families:
        # A kept family belongs to its parent's segment team.
        from territory_engine.problem.build import top_parent

        seg_of = dict(zip(accounts["account_id"], accounts["segment"], strict=True))
        segment = top_parent(accounts).map(lambda a: seg_of.get(a)).fillna(segment)
    return (
        segment.map(code).to_numpy(int),
        reps["segment"].map(rep_code).to_numpy(int),
        names,
    )
