"""Eligibility: an account goes only to a rep whose segment may own it.

``territories.eligibility: segment``: a segment's accounts go to reps of that
segment; a mapping (``{Mid-Market: [Mid-Market, Territory]}``) lists the rep
segments each account segment may go to; ``none``: anyone. The rule itself is
:func:`territory_engine.config.segments.teams`; this check audits a plan by it.
"""

from __future__ import annotations

from territory_engine.config.segments import teams
from territory_engine.constraints import families
from territory_engine.constraints.view import PlanView

MAX_LISTED = 10


def check(view: PlanView) -> list[str]:
    """Accounts whose rep's segment may not own them."""
    eligibility = view.scenario.territories.eligibility
    if eligibility == "none":
        return []
    reps = view.tables.reps
    rep_segment = dict(zip(reps["rep_id"].astype(str), reps["segment"], strict=True))
    groups = teams(eligibility, view.accounts["segment"], reps["segment"])
    acc = view.accounts[view.accounts["rep_id"] != ""]
    # A kept family sells to its parent's segment team.
    family = families.family_members(view)
    segment_of = dict(zip(view.accounts["account_id"], view.accounts["segment"], strict=True))
    out = []
    for a, s, r in zip(acc["account_id"], acc["segment"], acc["rep_id"], strict=True):
        expected = str(segment_of.get(family.get(a, a), segment_of[a]))
        if r in rep_segment and not groups.may_own(expected, rep_segment[r]):
            out.append(f"account {a} ({s}) is with rep {r}, who sells to {rep_segment[r]}")
            if len(out) == MAX_LISTED:
                break
    return out
