"""Solver: known optima on hand-made instances, invariants, determinism, diagnostics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.arrays import grid_problem, problem_from_arrays
from territory_engine.problem.diagnose import diagnose
from territory_engine.solve import align


def _line(n: int) -> sp.csr_matrix:
    i = np.arange(n - 1)
    return sp.csr_matrix((np.ones(n - 1, bool), (i, i + 1)), shape=(n, n))


def test_line_split_in_two_at_the_middle():
    # Six equal units on a line, centres at both ends, exact balance: the only
    # travel-optimal balanced plan is {0,1,2} | {3,4,5}.
    xy = np.column_stack([np.arange(6) * 0.1, np.zeros(6)])
    p = problem_from_arrays(
        np.ones(6), xy, _line(6), centres=xy[[0, 5]], tolerance=0.0, contiguity=True
    )
    a = align(p, seed=0, time_limit=10)
    assert a.feasible
    assert a.assign.tolist() == [0, 0, 0, 1, 1, 1]


def test_balance_binds_against_travel():
    # Weights 1, 1, 2 at x = 0, 1, 2; centres at x = 0 and 2; each territory must
    # hold exactly 2: the unit at x = 1 must go left although both are as near.
    xy = np.array([[0.0, 0.0], [0.1, 0.0], [0.2, 0.0]])
    p = problem_from_arrays(
        np.array([1.0, 1.0, 2.0]), xy, _line(3), centres=xy[[0, 2]], tolerance=0.0
    )
    a = align(p, seed=0, time_limit=10)
    assert a.feasible
    assert a.assign.tolist() == [0, 0, 1]


def test_grid_halves_with_contiguity():
    # 4x4 grid, centres in the middle of the left and right halves: optimum is
    # the two left columns vs the two right columns (cut edges = 4).
    p = grid_problem(
        4, 4, centres=np.array([[0.05, 0.15], [0.25, 0.15]]), tolerance=0.0, contiguity=True
    )
    a = align(p, seed=0, time_limit=10)
    assert a.feasible
    grid = a.assign.reshape(4, 4)
    assert (grid[:, :2] == 0).all() and (grid[:, 2:] == 1).all()
    assert a.stats.objective.cut_edges == 4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_invariants_on_random_grid(seed):
    rng = np.random.default_rng(seed)
    rows, cols, k = 20, 25, 8
    centres = np.column_stack([rng.uniform(0, 2.4, k), rng.uniform(0, 1.9, k)])
    weights = np.column_stack([rng.lognormal(0, 0.8, rows * cols), rng.uniform(1, 3, rows * cols)])
    p = grid_problem(
        rows, cols, weights=weights, centres=centres, tolerance=[0.05, 0.10], contiguity=True
    )
    a = align(p, seed=seed, time_limit=20)
    assert a.feasible, a.violations
    # Every unit assigned exactly once, to an existing territory.
    assert a.assign.shape == (rows * cols,)
    assert a.assign.min() >= 0 and a.assign.max() < k
    # Bands hold.
    loads = np.zeros((k, 2))
    np.add.at(loads, a.assign, p.weights)
    assert np.all(loads >= p.lower - 1e-6) and np.all(loads <= p.upper + 1e-6)
    # Every territory is one connected piece.
    assert pieces_per_territory(p.adjacency, a.assign, k).tolist() == [1] * k


def test_same_seed_same_plan_and_other_seed_still_valid():
    rng = np.random.default_rng(5)
    centres = np.column_stack([rng.uniform(0, 2.4, 6), rng.uniform(0, 1.9, 6)])
    kw = dict(weights=rng.lognormal(0, 1, 500), centres=centres, tolerance=0.05, contiguity=True)
    a1 = align(grid_problem(20, 25, **kw), seed=7, time_limit=20)
    a2 = align(grid_problem(20, 25, **kw), seed=7, time_limit=20)
    assert a1.stats.stop_reason == "converged"
    np.testing.assert_array_equal(a1.assign, a2.assign)
    a3 = align(grid_problem(20, 25, **kw), seed=8, time_limit=20)
    assert a3.feasible


def test_locks_are_respected():
    locked = np.full(16, -1)
    locked[0] = 1  # top-left corner forced to the right-hand territory
    p = grid_problem(
        4,
        4,
        centres=np.array([[0.05, 0.15], [0.25, 0.15]]),
        tolerance=0.0,
        locked=locked,
        contiguity=False,
    )
    a = align(p, seed=0, time_limit=10)
    assert a.assign[0] == 1
    assert a.feasible
    assert np.bincount(a.assign).tolist() == [8, 8]


def test_eligibility_groups_are_respected():
    p = grid_problem(4, 4, centres=np.array([[0.05, 0.15], [0.25, 0.15]]), tolerance=None)
    groups = np.array([0, 1] * 8)
    p = type(p)(**{**p.__dict__, "unit_group": groups, "territory_group": np.array([0, 1])})
    a = align(p, seed=0, time_limit=10)
    np.testing.assert_array_equal(a.assign, groups)


def test_free_centres_give_balanced_plan():
    rng = np.random.default_rng(3)
    p = grid_problem(
        15, 15, weights=rng.uniform(1, 2, 225), n_territories=5, tolerance=0.05, contiguity=True
    )
    a = align(p, seed=1, time_limit=20)
    assert a.feasible, a.violations
    assert a.centres.shape == (5, 2)


def test_disruption_cap_holds():
    # Last year everything belonged to territory 0; at most 55 % of potential may move.
    p = grid_problem(4, 4, centres=np.array([[0.05, 0.15], [0.25, 0.15]]), tolerance=0.25)
    owned = sp.csr_matrix((np.ones(16), (np.arange(16), np.zeros(16, int))), shape=(16, 2))
    p = type(p)(
        **{**p.__dict__, "owned_potential": owned, "owned_count": owned, "max_moved_potential": 7.0}
    )
    a = align(p, seed=0, time_limit=10)
    assert a.feasible, a.violations
    assert int(np.sum(a.assign == 1)) <= 7


def test_diagnose_heavy_unit_and_locks():
    w = np.ones(10)
    w[3] = 20.0
    xy = np.column_stack([np.arange(10) * 0.1, np.zeros(10)])
    p = problem_from_arrays(w, xy, _line(10), centres=xy[[0, 9]], tolerance=0.05)
    reasons = diagnose(p)
    assert any("unit 3 alone holds" in r and "finer geography" in r for r in reasons)

    locked = np.full(10, -1)
    locked[:8] = 0
    p2 = problem_from_arrays(
        np.ones(10), xy, _line(10), centres=xy[[0, 9]], tolerance=0.05, locked=locked
    )
    assert any("locked to T0 already hold" in r for r in diagnose(p2))


def test_diagnose_split_graph_with_contiguity():
    xy = np.column_stack([np.arange(6) * 0.1, np.zeros(6)])
    # Three pieces {0,1}, {2,3}, {4,5} for two territories (isolated units would be
    # exempt from contiguity, so every piece here has an edge).
    adj = sp.csr_matrix(([True, True, True], ([0, 2, 4], [1, 3, 5])), shape=(6, 6))
    p = problem_from_arrays(np.ones(6), xy, adj, centres=xy[[0, 5]], tolerance=0.5, contiguity=True)
    assert any("falls apart" in r for r in diagnose(p))
