"""With ``eligibility: segment``, a segment's accounts go only to reps of that segment."""

from __future__ import annotations

from territory_engine.constraints import families
from territory_engine.constraints.view import PlanView

MAX_LISTED = 10


def check(view: PlanView) -> list[str]:
    """Accounts whose rep sells to another segment."""
    if view.scenario.territories.eligibility != "segment":
        return []
    rep_segment = dict(
        zip(view.tables.reps["rep_id"].astype(str), view.tables.reps["segment"], strict=True)
    )
    acc = view.accounts[view.accounts["rep_id"] != ""]
    seg_of_rep = acc["rep_id"].map(rep_segment)
    # A kept family sells to its parent's segment team.
    family = families.family_members(view)
    segment_of = dict(zip(view.accounts["account_id"], view.accounts["segment"], strict=True))
    expected = acc["account_id"].map(lambda a: segment_of.get(family.get(a, a), segment_of[a]))
    bad = acc[seg_of_rep.notna() & (seg_of_rep != expected)]
    return [
        f"account {a} ({s}) is with rep {r}, who sells to {rep_segment[r]}"
        for a, s, r in zip(bad["account_id"], bad["segment"], bad["rep_id"], strict=True)
    ][:MAX_LISTED]
