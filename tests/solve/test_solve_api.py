"""``solve`` / ``SolveParams`` / ``SolverStats``: determinism, the keyword form, the stats dict."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json

import numpy as np
import pytest

from territory_engine.problem.arrays import grid_problem
from territory_engine.solve import Alignment, SolveParams, SolverStats, align, solve

# The keys ``Alignment.stats`` held as a dict before it was typed, in order; plan.json
# and the partition JSON record them through ``SolverStats.as_dict``.
LP_START_KEYS = [
    "seed",
    "time_limit",
    "candidates",
    "start",
    "seed_method",
    "lp_objective",
    "lp_fractional_vars",
    "lp_band_slack",
    "lp_variables",
    "seed_seconds",
    "seed_objective",
    "seed_violation_count",
    "restarts",
    "lns_improved_regions",
    "search_seconds",
    "search_moves",
    "stop_reason",
    "clock_cut",
    "objective",
    "seconds",
]
POWER_START_KEYS = [
    "seed",
    "time_limit",
    "candidates",
    "start",
    "seed_method",
    "seed_iterations",
    "seed_combined_deviation",
    "seed_seconds",
    "seed_objective",
    "seed_violation_count",
    "restarts",
    "lns_improved_regions",
    "search_seconds",
    "search_moves",
    "stop_reason",
    "clock_cut",
    "objective",
    "seconds",
]
INITIAL_START_KEYS = [
    "seed",
    "time_limit",
    "candidates",
    "start",
    "seed_objective",
    "seed_violation_count",
    "restarts",
    "lns_improved_regions",
    "search_seconds",
    "search_moves",
    "stop_reason",
    "clock_cut",
    "objective",
    "seconds",
]
OBJECTIVE_KEYS = [
    "total",
    "travel_ratio",
    "cut_edges",
    "moved_potential",
    "moved_accounts",
    "relationship_loss",
]
TIMINGS = {"seed_seconds", "search_seconds", "seconds"}


def _random_grid(seed: int):
    rng = np.random.default_rng(seed)
    rows, cols, k = 12, 14, 5
    centres = np.column_stack([rng.uniform(0, 1.3, k), rng.uniform(0, 1.1, k)])
    weights = np.column_stack([rng.lognormal(0, 0.8, rows * cols), rng.uniform(1, 3, rows * cols)])
    return grid_problem(
        rows, cols, weights=weights, centres=centres, tolerance=[0.05, 0.10], contiguity=True
    )


def _untimed(stats: SolverStats) -> dict:
    return {k: v for k, v in stats.as_dict().items() if k not in TIMINGS}


@pytest.mark.parametrize("seed", [0, 3])
def test_the_same_seed_gives_the_same_assignment(seed):
    p = _random_grid(seed)
    first = solve(p, SolveParams(seed=seed, time_limit=20))
    second = solve(p, SolveParams(seed=seed, time_limit=20))
    assert first.stats.stop_reason == "converged" and not first.stats.clock_cut
    np.testing.assert_array_equal(first.assign, second.assign)
    assert _untimed(first.stats) == _untimed(second.stats)


def test_align_is_solve_with_keywords():
    p = _random_grid(1)
    by_keywords = align(p, seed=2, time_limit=20, candidates=6)
    by_params = solve(p, SolveParams(seed=2, time_limit=20, candidates=6))
    np.testing.assert_array_equal(by_keywords.assign, by_params.assign)
    assert _untimed(by_keywords.stats) == _untimed(by_params.stats)


def test_align_defaults_are_the_params_defaults():
    defaults = {
        name: par.default
        for name, par in inspect.signature(align).parameters.items()
        if name not in ("problem", "initial", "progress")
    }
    assert defaults == dataclasses.asdict(SolveParams())


def test_stats_dict_of_an_lp_start_has_the_old_keys():
    a = solve(_random_grid(0), SolveParams(time_limit=20))
    d = a.stats.as_dict()
    assert list(d) == LP_START_KEYS
    assert list(d["objective"]) == OBJECTIVE_KEYS
    assert list(d["seed_objective"]) == OBJECTIVE_KEYS
    assert d["start"] == "lp" and d["seed_method"] == "lp"
    assert d["clock_cut"] == [] and isinstance(d["clock_cut"], list)
    assert d["objective"] == dataclasses.asdict(a.stats.objective)
    assert json.loads(json.dumps(d)) == d  # what plan.json stores


def test_stats_dict_of_a_power_diagram_start_has_the_old_keys(monkeypatch):
    # Every model counts as large and the bisection is unavailable (as on a
    # split graph): the seed is the power diagram.
    module = importlib.import_module("territory_engine.solve.align")
    monkeypatch.setattr(module, "LP_MAX_VARIABLES", 0)
    monkeypatch.setattr(module, "bisection_seed", lambda problem, rng: None)
    a = solve(_random_grid(0), SolveParams(time_limit=20))
    assert list(a.stats.as_dict()) == POWER_START_KEYS
    assert a.stats.seed_method == "power_diagram" and a.stats.lp_objective is None


def test_stats_dict_of_a_bisection_start_has_the_seed_keys(monkeypatch):
    # Large, with free centres: the seed is the bisection.
    monkeypatch.setattr(
        importlib.import_module("territory_engine.solve.align"), "LP_MAX_VARIABLES", 0
    )
    p = _random_grid(0)
    p = dataclasses.replace(p, centres=None)
    a = solve(p, SolveParams(time_limit=20))
    keys = [k for k in POWER_START_KEYS if k != "seed_iterations"]
    assert list(a.stats.as_dict()) == keys
    assert a.stats.seed_method == "bisection" and a.stats.seed_combined_deviation is not None


def test_stats_dict_of_an_initial_start_has_the_old_keys():
    p = _random_grid(0)
    start = solve(p, SolveParams(time_limit=20)).assign
    a = solve(p, SolveParams(time_limit=20), initial=start)
    assert list(a.stats.as_dict()) == INITIAL_START_KEYS
    assert a.stats.start == "initial" and a.stats.seed_method is None


def test_results_cannot_be_changed():
    a = solve(grid_problem(4, 4, n_territories=2, tolerance=0.0, contiguity=True))
    assert isinstance(a, Alignment) and isinstance(a.stats, SolverStats)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.stats.seconds = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.stats.objective.total = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        SolveParams().seed = 1  # type: ignore[misc]
    # Each call builds a new dict: editing one does not reach the stats.
    a.stats.as_dict()["objective"]["total"] = -1.0
    assert a.stats.as_dict()["objective"]["total"] != -1.0
