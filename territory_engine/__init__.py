"""territory_engine: sales territory design and quota optimisation.

The public API, in the order of the flow (load -> problem -> solve -> plan ->
scorecard -> render)::

    import territory_engine as te

    result = te.run_scenario(te.load_scenario("scenarios/fy_baseline.yaml"))
    result.scorecard["balance"]          # fairness scores, nothing written yet
    result.write("out/fy_baseline")      # the plan folder (atomically)

Names are imported on first use, so ``import territory_engine`` stays fast (the
command line's ``--help`` does not load the solver).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    # scenario
    "Scenario": "territory_engine.config",
    "load_scenario": "territory_engine.config",
    # problem
    "ProblemData": "territory_engine.problem",
    "problem_from_arrays": "territory_engine.problem",
    # solve
    "solve": "territory_engine.solve",
    "SolveParams": "territory_engine.solve",
    "SolverStats": "territory_engine.solve",
    "Alignment": "territory_engine.solve",
    "partition": "territory_engine.partition",
    "PartitionResult": "territory_engine.partition",
    # scenario runs and plans
    "run_scenario": "territory_engine.pipeline",
    "PlanResult": "territory_engine.pipeline",
    "Plan": "territory_engine.plan",
    "PlanFolder": "territory_engine.plan",
    "read_plan_folder": "territory_engine.plan",
    "score_plan": "territory_engine.plan.score",
    "validate_plan": "territory_engine.constraints",
    "allocate_quotas": "territory_engine.quota",
    "scorecard": "territory_engine.metrics",
    "PlanStore": "territory_engine.store",
    # errors
    "TerritoryEngineError": "territory_engine.errors",
    "InputError": "territory_engine.errors",
    "ScenarioError": "territory_engine.errors",
    "InfeasibleError": "territory_engine.errors",
}

__all__ = [
    "Alignment",
    "InfeasibleError",
    "InputError",
    "PartitionResult",
    "Plan",
    "PlanFolder",
    "PlanResult",
    "PlanStore",
    "ProblemData",
    "Scenario",
    "ScenarioError",
    "SolveParams",
    "SolverStats",
    "TerritoryEngineError",
    "__version__",
    "allocate_quotas",
    "load_scenario",
    "partition",
    "problem_from_arrays",
    "read_plan_folder",
    "run_scenario",
    "score_plan",
    "scorecard",
    "solve",
    "validate_plan",
]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports lazily
    from territory_engine.config import Scenario, load_scenario
    from territory_engine.constraints import validate_plan
    from territory_engine.errors import (
        InfeasibleError,
        InputError,
        ScenarioError,
        TerritoryEngineError,
    )
    from territory_engine.metrics import scorecard
    from territory_engine.partition import PartitionResult, partition
    from territory_engine.pipeline import PlanResult, run_scenario
    from territory_engine.plan import Plan, PlanFolder, read_plan_folder
    from territory_engine.plan.score import score_plan
    from territory_engine.problem import ProblemData, problem_from_arrays
    from territory_engine.quota import allocate_quotas
    from territory_engine.solve import Alignment, SolveParams, SolverStats, solve
    from territory_engine.store import PlanStore


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'territory_engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
