"""Which reps of a plan may own an account of a segment (``territories.eligibility``).

The scenario's eligibility, read as the plan applied it: ``none`` pools every rep;
``segment`` gives a segment's accounts to the reps of that segment; a mapping
``{account segment: [rep segments]}`` names the rep segments of each account
segment (a segment it does not list keeps its own). Segment names are matched
without regard to case, and spelled as the plan spells them.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from territory_engine.config import Scenario

__all__ = ["eligible_reps", "plan_segment"]


def plan_segment(segment: str, known: Iterable[str]) -> str:
    """``segment`` as the plan spells it (matched without case), else as given."""
    by_lower = {str(k).lower(): str(k) for k in known}
    return by_lower.get(str(segment).lower(), str(segment))


def eligible_reps(scenario: Scenario, segment: str, reps: pd.DataFrame) -> list[str]:
    """The reps (index of ``reps``, in its order) who may own an account of ``segment``.

    Parameters
    ----------
    scenario
        The plan's scenario.
    segment
        The account's segment, as the plan spells it.
    reps
        The plan's reps, indexed by ``rep_id``, with a ``segment`` column.
    """
    eligibility = scenario.territories.eligibility
    if eligibility == "none":
        return [str(r) for r in reps.index]
    allowed = [segment]
    if isinstance(eligibility, dict):
        mapping = {str(k).lower(): v for k, v in eligibility.items()}
        allowed = [str(s) for s in mapping.get(segment.lower(), [segment])]
    wanted = {s.lower() for s in allowed}
    rep_segment = reps["segment"].astype(str).str.lower()
    return [str(r) for r in reps.index[rep_segment.isin(wanted).to_numpy()]]
