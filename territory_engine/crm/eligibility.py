"""Which reps of a plan may own a new account, and which layer of ``units.csv`` holds it.

A thin adapter over the one rule of segments and teams,
:func:`territory_engine.config.segments.teams` (``territories.eligibility``:
``segment``, ``none`` or a mapping account segment -> rep segments): the routing of
new accounts asks it exactly what the plan asked it, so the two cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from territory_engine.config import Scenario
from territory_engine.config.segments import POOLED, Teams, canonical_spellings, segment_key
from territory_engine.config.segments import teams as _teams

__all__ = ["account_layer", "eligible_reps", "plan_segment", "segment_teams"]


def plan_segment(segment: str, known: Iterable[str]) -> str:
    """``segment`` spelt as the plan spells it (case and spaces aside), else as given."""
    return canonical_spellings(known).get(segment_key(segment), str(segment).strip())


def segment_teams(scenario: Scenario, account_segments: Iterable[str], reps: pd.DataFrame) -> Teams:
    """The teams of the plan's scenario over these account segments and the plan's reps."""
    return _teams(scenario.territories.eligibility, account_segments, reps["segment"].astype(str))


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
    if scenario.territories.eligibility == "none":
        return [str(r) for r in reps.index]
    teams = segment_teams(scenario, [segment], reps)
    own = reps["segment"].astype(str)
    return [str(r) for r, s in zip(reps.index, own, strict=True) if teams.may_own(segment, s)]


def account_layer(scenario: Scenario, segment: str, reps: pd.DataFrame) -> str:
    """The layer (team) of ``units.csv`` that holds an account of ``segment``."""
    if scenario.territories.eligibility == "none":
        return POOLED
    return segment_teams(scenario, [segment], reps).of_account_segment.get(segment, segment)
