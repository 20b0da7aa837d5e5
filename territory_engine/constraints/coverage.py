"""Every account is assigned exactly once, to a rep that exists."""

from __future__ import annotations

from territory_engine.constraints.view import PlanView

MAX_LISTED = 10


def check(view: PlanView) -> list[str]:
    """Unassigned, unknown, duplicated accounts and unknown reps."""
    out = []
    missing = view.accounts.loc[view.accounts["rep_id"] == "", "account_id"].tolist()
    if missing:
        out.append(f"{len(missing)} account(s) have no rep: {', '.join(missing[:MAX_LISTED])}")
    if view.extra_ids:
        out.append(
            f"{len(view.extra_ids)} assigned account(s) are not in the accounts table: "
            f"{', '.join(view.extra_ids[:MAX_LISTED])}"
        )
    if view.duplicate_ids:
        out.append(
            f"{len(view.duplicate_ids)} account(s) are assigned more than once: "
            f"{', '.join(view.duplicate_ids[:MAX_LISTED])}"
        )
    reps = set(view.tables.reps["rep_id"].astype(str))
    unknown = sorted(set(view.accounts["rep_id"]) - reps - {""})
    if unknown:
        out.append(f"rep(s) not in the reps table: {', '.join(unknown[:MAX_LISTED])}")
    return out
