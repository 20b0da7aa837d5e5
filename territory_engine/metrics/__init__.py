"""Fairness and quality metrics: pure functions of a plan and its inputs."""

from territory_engine.metrics.kernels import (
    balance_index,
    coefficient_of_variation,
    gini,
    max_min_ratio,
    measure_balance,
)
from territory_engine.metrics.scorecard import ScoringInputs, disruption, scorecard, territory_table

__all__ = [
    "ScoringInputs",
    "balance_index",
    "coefficient_of_variation",
    "disruption",
    "gini",
    "max_min_ratio",
    "measure_balance",
    "scorecard",
    "territory_table",
]
