"""Scenario configuration: pydantic models and the YAML loader."""

from territory_engine.config.load import deep_merge, load_scenario, scenario_hash
from territory_engine.config.scenario import Scenario

__all__ = ["Scenario", "deep_merge", "load_scenario", "scenario_hash"]
