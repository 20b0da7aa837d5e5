"""Two tight bands at once on the sample: potential ±3 %, workload ±10 %, no disruption weight.

Without the disruption term nothing anchors the search near last year's plan,
and territories end above one band and below the other (too much potential,
too little workload). The regional re-draws trade both measures at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import territory_engine as te
from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.io.load import load_tables
from territory_engine.problem.build import build_problem

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_sample_potential_3pc_workload_10pc_without_disruption_is_feasible():
    scenario = te.load_scenario(SCENARIOS / "whatif_tight_balance.yaml")
    scenario = scenario.model_copy(
        update={"objective": scenario.objective.model_copy(update={"disruption": 0.0})}
    )
    assert scenario.balance["potential"].tolerance == 0.03
    assert scenario.balance["workload_hours"].tolerance == 0.10
    problem, _ = build_problem(scenario, load_tables(scenario))
    params = te.SolveParams(seed=scenario.solver.seed, time_limit=30, candidates=8)
    result = te.solve(problem, params)
    assert result.feasible, result.violations
    loads = np.zeros((problem.n_territories, problem.n_measures))
    np.add.at(loads, result.assign, problem.weights)
    assert np.all(loads >= problem.lower - 1e-6) and np.all(loads <= problem.upper + 1e-6)
    pieces = pieces_per_territory(problem.adjacency, result.assign, problem.n_territories)
    assert pieces.max() == 1
    assert result.stats.stop_reason == "converged" and not result.stats.clock_cut
    again = te.solve(problem, params)
    np.testing.assert_array_equal(result.assign, again.assign)
