"""``ProblemData.travel_cost``: given travel times replace the distance formula in the solver.

A 1 × 6 strip with a territory centred at each end: by km each end takes its
own half; the travel times say the reverse, and every part that ranks or costs
a (unit, territory) pair must follow them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from territory_engine.problem.arrays import grid_problem
from territory_engine.solve import SolveParams, solve
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.search.local import LocalSearch
from territory_engine.solve.seeds.power import power_seed

WEST, EAST = np.array([0, 0, 0, 1, 1, 1]), np.array([1, 1, 1, 0, 0, 0])


def _problems():
    by_km = grid_problem(1, 6, centres=np.array([[0.0, 0.0], [0.5, 0.0]]), tolerance=0.05)
    # Minutes: territory 0 (west home) reaches the east half fast, territory 1 the west half.
    minutes = np.array([[60.0, 5.0]] * 3 + [[5.0, 60.0]] * 3)
    by_time = dataclasses.replace(by_km, travel_cost=minutes, travel_unit="min")
    return by_km, by_time


def test_distances_and_costs_read_the_travel_times():
    by_km, by_time = _problems()
    assert by_time.centre_distances(by_time.centres).tolist() == by_time.travel_cost.tolist()
    assert by_time.centre_distances(by_time.centres, np.array([4]), np.array([1]))[0, 0] == 60.0
    assert by_time.paired_centre_distances(by_time.centres, np.array([0]), np.array([1]))[0] == 5.0
    # Without travel times: great-circle km, as before.
    km = by_km.centre_distances(by_km.centres)
    assert km[0, 0] < km[0, 1] and km[5, 1] < km[5, 0]
    cost_km, cost_time = CostModel(by_km, by_km.centres), CostModel(by_time, by_time.centres)
    units = np.arange(6)
    assert cost_time.objective(EAST)["travel_ratio"] == pytest.approx(1.0)  # all at their nearest
    assert cost_time.objective(WEST)["travel_ratio"] > 5.0
    assert cost_km.objective(WEST)["travel_ratio"] < cost_km.objective(EAST)["travel_ratio"]
    assert np.all(cost_time.travel(units, EAST) < cost_time.travel(units, WEST))


def test_candidates_seed_and_search_follow_the_travel_times():
    _, by_time = _problems()
    cands = nearest_candidates(by_time, by_time.centres, 1)
    assert [int(c[0]) for c in cands] == EAST.tolist()
    assign, _ = power_seed(
        by_time, by_time.centres, nearest_candidates(by_time, by_time.centres, 2)
    )
    assert assign.tolist() == EAST.tolist()
    search = LocalSearch(by_time, CostModel(by_time, by_time.centres), WEST.copy(), cands)
    assert search._dist(0, 1) == 5.0 and search._dist(0, 0) == 60.0
    assert not search._use_kernel(True)  # the compiled pass knows only the formulas


def test_solve_follows_the_travel_times_and_km_by_default():
    by_km, by_time = _problems()
    params = SolveParams(seed=0, time_limit=5)
    assert solve(by_km, params).assign.tolist() == WEST.tolist()
    assert solve(by_time, params).assign.tolist() == EAST.tolist()
