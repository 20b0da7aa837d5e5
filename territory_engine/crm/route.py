"""Route the accounts that arrive during the year to their owner by the plan's rules.

A published plan says who owns every unit of every segment layer (``units.csv``);
a new account is given the owner the plan would have given it, by the first rule
that applies (the ``rule`` column of the result):

1. ``lock``: the scenario locks the account to a rep, or locks its unit to a rep
   who sells to its segment;
2. ``parent``: its ``parent_account_id`` is an account of the plan (or another new
   account, routed first): it goes with the parent's owner, when that rep may sell
   to its segment (always, under ``constraints.keep_families``, as in the plan);
3. ``unit``: the territory that holds its unit in its segment's layer (an account
   within ``data.snap_km`` outside every unit takes the nearest unit, as the
   loader does);
4. ``nearest_outside``: an account outside every unit goes to the territory of the
   nearest unit that has an eligible territory, and is flagged (``flagged``,
   ``distance_km``).

:func:`balance_drift` is the pure function that says what the new accounts do to
each territory's balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from territory_engine.config import Scenario
from territory_engine.crm.eligibility import account_layer, eligible_reps, plan_segment
from territory_engine.crm.locate import locate_new_accounts
from territory_engine.crm.new_accounts import read_new_accounts
from territory_engine.errors import InputError
from territory_engine.io.tables import raise_for_rows
from territory_engine.plan.reader import PlanFolder, read_plan_folder, read_plan_table

__all__ = [
    "ROUTE_COLUMNS",
    "ROUTE_RULES",
    "RoutingResult",
    "balance_drift",
    "route_accounts",
    "route_new_accounts",
]

#: The rules that decide an owner, in the order they are tried.
ROUTE_RULES = ("lock", "parent", "unit", "nearest_outside")

#: Columns of the routed table (then the measures).
ROUTE_COLUMNS = (
    "account_id",
    "name",
    "segment",
    "unit_id",
    "territory_id",
    "rep_id",
    "rep_name",
    "rule",
    "flagged",
    "distance_km",
)

#: The count measure: each account counts 1.
ACCOUNT_COUNT = "accounts"


@dataclass(frozen=True)
class RoutingResult:
    """New accounts with their owner, and the drift they cause.

    Attributes
    ----------
    assignments
        One row per new account, in file order: :data:`ROUTE_COLUMNS`, then
        ``potential`` and the balance measures.
    drift
        :func:`balance_drift` of every territory of the plan.
    measures
        The measures of ``drift``, in order.
    """

    assignments: pd.DataFrame
    drift: pd.DataFrame
    measures: list[str]

    def rule_counts(self) -> dict[str, int]:
        """Accounts decided by each rule of :data:`ROUTE_RULES`."""
        counts = self.assignments["rule"].value_counts()
        return {rule: int(counts.get(rule, 0)) for rule in ROUTE_RULES}


def route_new_accounts(
    plan_dir: Path | str,
    new_accounts: Path | str,
    scenario_file: Path | str | None = None,
) -> RoutingResult:
    """Give each new account of ``new_accounts`` its owner by the plan in ``plan_dir``.

    Parameters
    ----------
    plan_dir
        A plan folder written by ``territory-engine run`` (with ``units.csv``).
    new_accounts
        The new accounts (see :mod:`territory_engine.crm.new_accounts`).
    scenario_file
        The scenario whose units layer, locks and families apply; default the one
        recorded in the folder's ``plan.json``.

    Returns
    -------
    RoutingResult

    Raises
    ------
    InputError
        A bad plan folder or new-accounts table, a segment no rep of the plan
        covers, a lock to an unknown or ineligible rep; each names the file, the
        row and the column.
    """
    from territory_engine.plan.score import resolve_scenario

    plan_dir = Path(plan_dir)
    folder = read_plan_folder(plan_dir)
    scenario = resolve_scenario(plan_dir, None if scenario_file is None else Path(scenario_file))
    measures = drift_measures(folder.measures)
    columns = getattr(getattr(scenario.data, "columns", None), "accounts", None)
    accounts = read_new_accounts(
        new_accounts,
        measures=[m for m in measures if m != ACCOUNT_COUNT],
        needs_segment=scenario.territories.eligibility != "none",
        plan_accounts=folder.assignments["account_id"].tolist(),
        columns=columns if isinstance(columns, dict) else None,
    )
    units = read_plan_table(plan_dir, "units.csv", ["unit_id", "segment", "territory_id"])
    routed = route_accounts(accounts, folder, units, scenario, file=str(new_accounts))
    return RoutingResult(routed, balance_drift(folder.territories, routed, measures), measures)


def drift_measures(plan_measures: Sequence[str]) -> list[str]:
    """``potential``, then the plan's other balance measures."""
    return list(dict.fromkeys(["potential", *plan_measures]))


def route_accounts(
    accounts: gpd.GeoDataFrame,
    folder: PlanFolder,
    units: pd.DataFrame,
    scenario: Scenario,
    *,
    file: str,
) -> pd.DataFrame:
    """The owner of each new account (see the module docstring for the rules).

    Parameters
    ----------
    accounts
        From :func:`~territory_engine.crm.new_accounts.read_new_accounts`.
    folder
        The plan.
    units
        The plan's ``units.csv`` (``unit_id, segment, territory_id``, as text).
    scenario
        The plan's scenario (units layer, snap distance, eligibility, locks, families).
    file
        The new-accounts file, for the messages.

    Returns
    -------
    pandas.DataFrame
        :data:`ROUTE_COLUMNS` and the measures, in the order of ``accounts``.
    """
    reps = folder.reps.drop_duplicates("rep_id").set_index("rep_id")
    territories = folder.territories
    territory_of_rep = dict(zip(territories["rep_id"], territories["territory_id"], strict=True))
    segment = _plan_segments(accounts, reps, scenario, file)
    eligible = {s: eligible_reps(scenario, s, reps) for s in set(segment)}
    eligible = {s: [r for r in rs if r in territory_of_rep] for s, rs in eligible.items()}
    _check_covered(accounts, segment, eligible, reps.loc[list(territory_of_rep)], file)
    layer = {s: account_layer(scenario, s, reps) for s in eligible}
    located = locate_new_accounts(accounts, units, segment, eligible, layer, folder, scenario)
    owner = _owners(accounts, segment, eligible, located, folder, scenario, file)
    rep = pd.Series(owner["rep_id"], index=accounts.index)
    out = pd.DataFrame(
        {
            "account_id": accounts["account_id"].to_numpy(),
            "name": accounts["name"].to_numpy(),
            "segment": segment.to_numpy(),
            "unit_id": located["unit_id"],
            "territory_id": rep.map(territory_of_rep).to_numpy(),
            "rep_id": rep.to_numpy(),
            "rep_name": rep.map(reps["name"]).fillna("").to_numpy(),
            "rule": owner["rule"],
            "flagged": np.asarray(owner["rule"]) == "nearest_outside",
            "distance_km": np.where(
                np.asarray(owner["rule"]) == "nearest_outside", located["distance_km"], np.nan
            ),
        }
    )
    for column in accounts.columns:
        if column in folder.measures or column == "potential":
            out[column] = accounts[column].to_numpy(float)
    return out


def _plan_segments(
    accounts: pd.DataFrame, reps: pd.DataFrame, scenario: Scenario, file: str
) -> pd.Series:
    """Each account's segment as the plan spells it (matched without case)."""
    if scenario.territories.eligibility == "none":
        return accounts["segment"].where(accounts["segment"] != "", "all")
    known = [*reps["segment"].astype(str).unique(), *_mapped_segments(scenario)]
    return accounts["segment"].map(lambda s: plan_segment(s, known))


def _mapped_segments(scenario: Scenario) -> list[str]:
    eligibility = scenario.territories.eligibility
    return [str(s) for s in eligibility] if isinstance(eligibility, dict) else []


def _check_covered(
    accounts: pd.DataFrame,
    segment: pd.Series,
    eligible: dict[str, list[str]],
    reps: pd.DataFrame,
    file: str,
) -> None:
    """Fail on the first account whose segment no rep with a territory sells to.

    ``reps`` are the plan's reps who hold a territory (indexed by ``rep_id``).
    """
    from territory_engine.errors import did_you_mean

    covered = sorted(set(reps["segment"].astype(str)))
    raise_for_rows(
        accounts,
        segment.map(lambda s: not eligible.get(s)).to_numpy(dtype=bool),
        file=file,
        column="segment",
        id_column="account_id",
        describe=lambda label: (
            f"{accounts.at[label, 'segment']!r}: no rep of the plan sells to this segment"
            f"{did_you_mean(str(accounts.at[label, 'segment']), covered)}; "
            f"segments covered: {', '.join(covered)}"
        ),
    )


def _owners(
    accounts: pd.DataFrame,
    segment: pd.Series,
    eligible: dict[str, list[str]],
    located: dict[str, np.ndarray],
    folder: PlanFolder,
    scenario: Scenario,
    file: str,
) -> dict[str, list[str]]:
    """Rep and rule of each account, by the first rule that applies."""
    assignments = folder.assignments
    plan_owner = dict(zip(assignments["account_id"], assignments["rep_id"], strict=True))
    account_lock = {lk.account: lk.rep for lk in scenario.constraints.locks if lk.account}
    unit_lock = {lk.unit: lk.rep for lk in scenario.constraints.locks if lk.unit}
    keep_families = bool(scenario.constraints.keep_families)
    labels = list(accounts.index)
    position = {a: i for i, a in enumerate(accounts["account_id"])}
    reps_out: list[str | None] = [None] * len(labels)
    rules: list[str] = [""] * len(labels)
    visiting: set[int] = set()

    def resolve(i: int) -> str:
        if reps_out[i] is not None:
            return str(reps_out[i])
        label = labels[i]
        account_id = str(accounts.at[label, "account_id"])
        seg = segment[label]
        ok = eligible[seg]
        rep, rule = None, ""
        if account_id in account_lock:
            rep, rule = _locked_rep(account_lock[account_id], ok, accounts, label, file), "lock"
        parent = str(accounts.at[label, "parent_account_id"])
        if rep is None and parent:
            if parent in position:
                if position[parent] in visiting:
                    _raise_cycle(accounts, label, file)
                visiting.add(i)
                parent_rep: str | None = resolve(position[parent])
                visiting.discard(i)
            else:
                parent_rep = plan_owner.get(parent) or None
            if parent_rep and (keep_families or parent_rep in ok):
                rep, rule = parent_rep, "parent"
        unit = str(located["unit_id"][i])
        if rep is None and unit_lock.get(unit) in ok and located["rule"][i] == "unit":
            rep, rule = unit_lock[unit], "lock"
        if rep is None:
            rep, rule = str(located["rep_id"][i]), str(located["rule"][i])
        reps_out[i], rules[i] = rep, rule
        return rep

    for i in range(len(labels)):
        resolve(i)
    return {"rep_id": [str(r) for r in reps_out], "rule": rules}


def _locked_rep(rep: str, eligible: list[str], accounts: pd.DataFrame, label, file: str) -> str:
    """The rep a lock names, when the plan has them and they may sell to the account."""
    if rep not in eligible:
        raise InputError(
            f"the scenario locks this account to rep {rep!r}, who has no territory in the "
            "plan or does not sell to its segment",
            file=file,
            row=_row(accounts, label),
            id=str(accounts.at[label, "account_id"]),
            column="account_id",
        )
    return rep


def _raise_cycle(accounts: pd.DataFrame, label, file: str) -> None:
    raise InputError(
        "the parents of this account lead back to it; a family needs a top account",
        file=file,
        row=_row(accounts, label),
        id=str(accounts.at[label, "account_id"]),
        column="parent_account_id",
    )


def _row(frame: pd.DataFrame, label) -> int | None:
    from territory_engine.io.tables import row_number

    return row_number(frame, label)


def balance_drift(
    territories: pd.DataFrame, routed: pd.DataFrame, measures: Sequence[str]
) -> pd.DataFrame:
    """What the routed accounts do to each territory's balance (a pure function).

    Parameters
    ----------
    territories
        The plan's ``territories.csv``: ``territory_id, rep_id``, each measure's
        total ``<m>`` (``n_accounts`` for the count ``accounts``) and, when given,
        ``<m>_fair_share``, ``<m>_low`` and ``<m>_high``.
    routed
        New accounts with their ``territory_id`` and each measure's value.
    measures
        The measures to report (``accounts`` counts one per account).

    Returns
    -------
    pandas.DataFrame
        One row per territory, in the order of ``territories``: ``territory_id,
        rep_id, new_accounts``, then for each measure ``<m>_before``,
        ``<m>_added``, ``<m>_after``, ``<m>_change_pct`` (after / before − 1, in
        percent; empty for a territory that had none) and, when the plan has a
        band, ``<m>_dev_pct_after`` (from the fair share, in percent) and
        ``<m>_in_band_after``.
    """
    tid = territories["territory_id"].astype(str)
    added_to = routed["territory_id"].astype(str)
    out = pd.DataFrame({"territory_id": tid.to_numpy(), "rep_id": territories["rep_id"]})
    out["new_accounts"] = tid.map(added_to.value_counts()).fillna(0).astype(int).to_numpy()
    for m in measures:
        if m == ACCOUNT_COUNT:
            column = m if m in territories.columns else "n_accounts"
            values = pd.Series(1.0, index=routed.index)
        else:
            column, values = m, routed[m].astype(float)
        before = territories[column].astype(float).to_numpy()
        added = tid.map(values.groupby(added_to).sum()).fillna(0.0).to_numpy(float)
        after = before + added
        out[f"{m}_before"] = before
        out[f"{m}_added"] = added
        out[f"{m}_after"] = after
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{m}_change_pct"] = np.where(before > 0, 100.0 * (after / before - 1.0), np.nan)
        if {f"{m}_fair_share", f"{m}_low", f"{m}_high"} <= set(territories.columns):
            fair = territories[f"{m}_fair_share"].astype(float).to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{m}_dev_pct_after"] = np.where(fair > 0, 100.0 * (after / fair - 1.0), np.nan)
            low = territories[f"{m}_low"].astype(float).to_numpy()
            high = territories[f"{m}_high"].astype(float).to_numpy()
            out[f"{m}_in_band_after"] = (after >= low - 1e-9) & (after <= high + 1e-9)
    return out
