"""Locked accounts stay with their rep; a locked unit's accounts (in the rep's segment) go to it."""

from __future__ import annotations

from territory_engine.config.segments import teams
from territory_engine.constraints.view import PlanView


def check(view: PlanView) -> list[str]:
    """One line per broken lock."""
    acc = view.accounts
    rep_of = dict(zip(acc["account_id"], acc["rep_id"], strict=True))
    rep_segment = dict(
        zip(view.tables.reps["rep_id"].astype(str), view.tables.reps["segment"], strict=True)
    )
    groups = teams(
        view.scenario.territories.eligibility, acc["segment"], view.tables.reps["segment"]
    )
    out = []
    for lock in view.scenario.constraints.locks:
        if lock.account is not None:
            got = rep_of.get(lock.account)
            if got != lock.rep:
                out.append(
                    f"account {lock.account} is locked to {lock.rep} but is with {got or 'nobody'}"
                )
        else:
            in_unit = acc["unit_id"] == lock.unit
            # The lock holds the unit in the rep's team layer only.
            team = groups.of_rep_segment.get(rep_segment.get(lock.rep, ""))
            in_unit &= acc["segment"].map(groups.of_account_segment) == team
            # Account locks are exceptions that may sit in a locked unit.
            excepted = {lk.account for lk in view.scenario.constraints.locks if lk.account}
            bad = acc[in_unit & (acc["rep_id"] != lock.rep) & ~acc["account_id"].isin(excepted)]
            if len(bad):
                out.append(
                    f"unit {lock.unit} is locked to {lock.rep} but {len(bad)} of its accounts are "
                    f"with other reps (e.g. {bad['account_id'].iloc[0]})"
                )
    return out
