"""Hard rules of a plan, one small unit each, and the validator that audits a plan folder.

Every rule has ``check(view) -> list[str]`` over a :class:`PlanView` (the plan
files and the input data); none of them uses the solver, so they audit a plan
made by this engine, edited by hand, or imported from another tool.
"""

from territory_engine.constraints.validate import RULES, validate_plan
from territory_engine.constraints.view import PlanView, load_view

__all__ = ["RULES", "PlanView", "load_view", "validate_plan"]
