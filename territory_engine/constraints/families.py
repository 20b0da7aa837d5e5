"""With ``keep_families``, every account of a family (same top-level parent) has one rep."""

from __future__ import annotations

from territory_engine.constraints.view import PlanView
from territory_engine.problem.build import top_parent

MAX_LISTED = 10


def check(view: PlanView) -> list[str]:
    """One line per family split between reps."""
    if not view.scenario.constraints.keep_families:
        return []
    acc = view.accounts
    reps_per_family = acc.assign(top=top_parent(acc).to_numpy()).groupby("top")["rep_id"].nunique()
    split = reps_per_family[reps_per_family > 1]
    return [f"family of {top} is split between {n} reps" for top, n in split.items()][:MAX_LISTED]


def family_members(view: PlanView) -> dict[str, str]:
    """account id -> top-level parent, for accounts whose family has several accounts."""
    if not view.scenario.constraints.keep_families:
        return {}
    acc = view.accounts
    tops = top_parent(acc)
    sizes = tops.map(tops.value_counts())
    keep = sizes > 1
    return dict(zip(acc.loc[keep, "account_id"], tops[keep], strict=True))
