"""Fairness and quality metrics: pure functions of a plan and its inputs."""

from territory_engine.metrics.attainment import (
    AttainmentModel,
    attainment_summary,
    expected_sales,
    probability_at_or_above,
    simulate_attainment,
)
from territory_engine.metrics.card import Scorecard
from territory_engine.metrics.compactness import (
    compactness_stats,
    local_equal_area_crs,
    polsby_popper,
)
from territory_engine.metrics.fair_share import fair_shares
from territory_engine.metrics.headline import Headline, headline
from territory_engine.metrics.kernels import (
    balance_index,
    coefficient_of_variation,
    gini,
    max_min_ratio,
    measure_balance,
)
from territory_engine.metrics.relationships import has_tie, relationship_retention
from territory_engine.metrics.scorecard import (
    ScoringInputs,
    disruption,
    quota_equity,
    quota_section,
    scorecard,
    territory_table,
)

__all__ = [
    "AttainmentModel",
    "Headline",
    "Scorecard",
    "ScoringInputs",
    "attainment_summary",
    "balance_index",
    "coefficient_of_variation",
    "compactness_stats",
    "disruption",
    "expected_sales",
    "fair_shares",
    "gini",
    "has_tie",
    "headline",
    "local_equal_area_crs",
    "max_min_ratio",
    "measure_balance",
    "polsby_popper",
    "probability_at_or_above",
    "quota_equity",
    "quota_section",
    "relationship_retention",
    "scorecard",
    "simulate_attainment",
    "territory_table",
]
