"""Eligibility: an account goes only to a rep whose segment may own it.

``territories.eligibility: segment``: a segment's accounts go to reps of that
segment; a mapping (``{Mid-Market: [Mid-Market, Territory]}``) lists the rep
segments each account segment may go to; ``none``: anyone. The rule itself is
:func:`territory_engine.config.segments.teams`; this check audits a plan by it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    acc = view.accounts[view.accounts["rep_id"].isin(rep_segment.keys())]
    # A kept family sells to its parent's segment team.
    family = families.family_members(view)
    segment_of = dict(zip(view.accounts["account_id"], view.accounts["segment"], strict=True))
    ids = acc["account_id"]
    expected = ids.map(family).fillna(ids).map(segment_of).fillna(acc["segment"]).astype(str)
    sells_to = acc["rep_id"].map(rep_segment)
    # The rule is asked once per distinct (account segment, rep segment) pair: a
    # national book holds a handful of pairs and a million accounts.
    pairs = pd.MultiIndex.from_arrays([expected, sells_to])
    refused = {(e, r) for e, r in pairs.unique() if not groups.may_own(e, r)}
    wrong = pairs.isin(list(refused)) if refused else np.zeros(len(acc), dtype=bool)
    out = []
    for a, s, r in zip(ids[wrong], acc["segment"][wrong], acc["rep_id"][wrong], strict=True):
        out.append(f"account {a} ({s}) is with rep {r}, who sells to {rep_segment[r]}")
        if len(out) == MAX_LISTED:
            break
    return out
