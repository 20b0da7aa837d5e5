"""territory_engine: sales territory design and quota optimisation.

The public API, in the order of the flow (load -> problem -> solve -> plan ->
scorecard -> render)::

    import territory_engine as te

    result = te.run_scenario(te.load_scenario("scenarios/fy_baseline.yaml"))
    result.scorecard["balance"]          # fairness scores, nothing written yet
    result.write("out/fy_baseline")      # the plan folder (atomically)

``te.solve`` and ``te.partition`` are the functions; their packages are
``territory_engine.solve`` and ``territory_engine.partition`` (imported here first,
so the function names bind after the packages and win).
"""

__version__ = "0.1.0"

from territory_engine.config import Scenario, load_scenario
from territory_engine.constraints import validate_plan
from territory_engine.crm import ExportResult, RoutingResult, export_plan, route_new_accounts
from territory_engine.errors import (
    InfeasibleError,
    InputError,
    ScenarioError,
    TerritoryEngineError,
)
from territory_engine.metrics import Scorecard, scorecard
from territory_engine.partition import PartitionResult, partition
from territory_engine.pipeline import PlanResult, run_scenario
from territory_engine.plan import Plan, PlanFolder, read_plan_folder
from territory_engine.plan.score import score_plan
from territory_engine.problem import ProblemData, problem_from_arrays
from territory_engine.quota import allocate_quotas
from territory_engine.solve import Alignment, SolveParams, SolverStats, solve
from territory_engine.store import PlanStore

__all__ = [
    "Alignment",
    "ExportResult",
    "InfeasibleError",
    "InputError",
    "PartitionResult",
    "Plan",
    "PlanFolder",
    "PlanResult",
    "PlanStore",
    "ProblemData",
    "RoutingResult",
    "Scenario",
    "ScenarioError",
    "Scorecard",
    "SolveParams",
    "SolverStats",
    "TerritoryEngineError",
    "__version__",
    "allocate_quotas",
    "export_plan",
    "load_scenario",
    "partition",
    "problem_from_arrays",
    "read_plan_folder",
    "route_new_accounts",
    "run_scenario",
    "score_plan",
    "scorecard",
    "solve",
    "validate_plan",
]
