"""Audit a plan folder against every hard rule of its scenario."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from territory_engine.config.scenario import Scenario
from territory_engine.constraints import (
    balance,
    contiguity,
    coverage,
    disruption,
    eligibility,
    families,
    locks,
)
from territory_engine.constraints.view import PlanView, load_view

RULES: dict[str, Callable[[PlanView], list[str]]] = {
    "coverage": coverage.check,
    "eligibility": eligibility.check,
    "balance": balance.check,
    "locks": locks.check,
    "families": families.check,
    "disruption": disruption.check,
    "contiguity": contiguity.check,
}
"""Every rule, in the order violations are reported."""


def validate_plan(plan_dir: str | Path, scenario: Scenario) -> dict[str, list[str]]:
    """Check the plan in ``plan_dir`` against ``scenario`` without trusting the solver.

    Returns
    -------
    dict
        Rule name -> its violations (an empty list when the rule holds).
    """
    view = load_view(plan_dir, scenario)
    return {name: rule(view) for name, rule in RULES.items()}
