"""Quotas: methods, regional targets, caps, ramp, seasonality, exact rounding, explanations."""

from territory_engine.quota.allocate import (
    QUOTA_COLUMNS,
    SPLIT_COLUMNS,
    QuotaInputs,
    QuotaResult,
    allocate,
    allocate_quotas,
    company_target,
)
from territory_engine.quota.methods import METHODS, raw_quotas
from territory_engine.quota.rounding import round_preserving_total, round_within_bounds

__all__ = [
    "METHODS",
    "QUOTA_COLUMNS",
    "SPLIT_COLUMNS",
    "QuotaInputs",
    "QuotaResult",
    "allocate",
    "allocate_quotas",
    "company_target",
    "raw_quotas",
    "round_preserving_total",
    "round_within_bounds",
]
