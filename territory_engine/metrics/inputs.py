"""The one assembly of :class:`~territory_engine.metrics.scorecard.ScoringInputs`.

A plan the pipeline solved and a plan read from a folder are scored the same way:
the scenario's balance measures then ``potential``, each account's values, fair
shares and bands (:mod:`territory_engine.problem.bands`), the account fields and
the relationship arrays. Only the territories differ (their groups, capacity,
centres, the units they hold), and the callers pass those in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from territory_engine.config.scenario import BandConfig
from territory_engine.metrics.adapters import (
    RelationshipArrays,
    account_fields,
    relationship_inputs,
)
from territory_engine.metrics.scorecard import ScoringInputs
from territory_engine.problem.bands import band_bounds, fair_shares
from territory_engine.problem.build import ACCOUNT_COUNT, ProblemIndex
from territory_engine.problem.data import ProblemData

__all__ = ["account_values", "plan_scoring_inputs", "scored_measures"]


def scored_measures(balance: Mapping[str, BandConfig]) -> list[str]:
    """The measures a scorecard reports: the balance measures, then ``potential``."""
    return list(dict.fromkeys([*balance, "potential"]))


def account_values(accounts: pd.DataFrame, measures: Sequence[str]) -> np.ndarray:
    """(N, m) value of each measure for each account (1 for the ``accounts`` measure)."""
    return np.column_stack(
        [
            np.ones(len(accounts)) if m == ACCOUNT_COUNT else accounts[m].to_numpy(float)
            for m in measures
        ]
    )


def plan_scoring_inputs(
    accounts: pd.DataFrame,
    edges: pd.DataFrame | None,
    problem: ProblemData,
    index: ProblemIndex,
    balance: Mapping[str, BandConfig],
    *,
    territory_ids: Sequence[str],
    territory_rep: Sequence[str],
    territory_group: np.ndarray,
    capacity: np.ndarray,
    account_territory: np.ndarray,
    unit_territory: np.ndarray,
    centres: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    relationships: RelationshipArrays | None = None,
) -> ScoringInputs:
    """The account-level view of a plan that :func:`~territory_engine.metrics.scorecard` scores.

    Parameters
    ----------
    accounts, edges
        The scenario's accounts and checked relationship edges (or ``None``).
    problem, index
        The plan's problem (its unit groups and unit graph) and how it maps back
        to accounts.
    balance
        The scenario's balance bands (``scenario.balance``), in measure order.
    territory_ids, territory_rep, territory_group, capacity
        (k,) each territory's label, rep id ("" for none), eligibility group and
        the capacity its fair share and absolute bands scale with.
    account_territory
        (N,) territory index of each account.
    unit_territory
        (n,) territory of each problem unit (-1 for none).
    centres
        (k, 2) lon/lat of each territory's centre.
    bounds
        (k, m) lower and upper bands of the balance measures, when the caller has
        them already (the pipeline scores against its problem's bands); else they
        are :func:`~territory_engine.problem.bands.band_bounds` of the accounts'
        fair shares.
    relationships
        :func:`~territory_engine.metrics.adapters.relationship_inputs` of the plan,
        when already computed.

    Returns
    -------
    ScoringInputs
        Measures :func:`scored_measures`; measures outside the balance have the
        band ``(-inf, inf)``.
    """
    measures = scored_measures(balance)
    values = account_values(accounts, measures)
    account_group = problem.unit_group[index.account_unit]
    fair = fair_shares(values, account_group, territory_group, capacity)
    lower = np.full_like(fair, -np.inf)
    upper = np.full_like(fair, np.inf)
    m = len(balance)
    if bounds is None:
        bounds = band_bounds(fair[:, :m], balance.values(), capacity)
    lower[:, :m], upper[:, :m] = bounds
    if relationships is None:
        relationships = relationship_inputs(
            accounts, index, account_territory, territory_rep, unit_territory
        )
    return ScoringInputs(
        **_given_travel(problem, index, territory_rep, account_territory),
        territory_ids=list(territory_ids),
        rep_ids=list(territory_rep),
        centres=centres,
        fair_share=fair,
        lower=lower,
        upper=upper,
        measure_names=measures,
        account_territory=account_territory,
        account_values=values,
        unit_adjacency=problem.adjacency,
        unit_territory=unit_territory,
        **account_fields(accounts, edges),
        **relationships,
    )


def _given_travel(
    problem: ProblemData,
    index: ProblemIndex,
    territory_rep: Sequence[str],
    account_territory: np.ndarray,
) -> dict:
    """``account_travel`` and ``travel_unit`` from the problem's travel times, if it has them.

    The plan's territories are matched to the problem's by rep; a plan with a
    territory the problem lacks (no rep) is scored in km.
    """
    if problem.travel_cost is None:
        return {}
    column = np.array([index.rep_territory.get(str(r), -1) for r in territory_rep], dtype=int)
    if (column < 0).any():
        return {}
    account_column = column[np.asarray(account_territory, dtype=int)]
    return {
        "account_travel": problem.travel_cost[index.account_unit, account_column],
        "travel_unit": problem.travel_unit,
    }
