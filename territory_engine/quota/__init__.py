"""Quotas: methods, exact rounding, explanations."""

from territory_engine.quota.allocate import QuotaInputs, allocate_quotas, company_target
from territory_engine.quota.methods import METHODS, raw_quotas
from territory_engine.quota.rounding import round_preserving_total

__all__ = [
    "METHODS",
    "QuotaInputs",
    "allocate_quotas",
    "company_target",
    "raw_quotas",
    "round_preserving_total",
]
