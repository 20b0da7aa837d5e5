"""Run a scenario end to end (load -> problem -> solve -> plan -> scorecard)."""

from territory_engine.pipeline.assemble import make_plan, match_reps
from territory_engine.pipeline.run import PlanResult, run_scenario, solve_scenario

__all__ = ["PlanResult", "make_plan", "match_reps", "run_scenario", "solve_scenario"]
