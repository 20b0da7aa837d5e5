"""The paths large instances take: the power-diagram seed, sweep repairs, chunk exchanges."""

from __future__ import annotations

import importlib

import numpy as np
import scipy.sparse as sp

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.arrays import grid_problem, problem_from_arrays
from territory_engine.solve import align
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.search.local import EPS, LocalSearch
from territory_engine.solve.seeds.power import power_seed


def test_power_seed_moves_the_border_to_balance():
    # Twelve units on a line, centres at x = 0.1 and x = 1.0, the first three
    # units weigh 3 and the rest 1 (total 18, so 9 each). The nearest-centre
    # border (between units 5 and 6) would give the left territory 12; its
    # price moves the border to between units 2 and 3.
    n = 12
    xy = np.column_stack([np.arange(n) * 0.1, np.zeros(n)])
    i = np.arange(n - 1)
    line = sp.csr_matrix((np.ones(n - 1, bool), (i, i + 1)), shape=(n, n))
    weights = np.array([3.0] * 3 + [1.0] * 9)
    p = problem_from_arrays(weights, xy, line, centres=xy[[1, 10]], tolerance=0.0)
    assign, stats = power_seed(p, p.centres, nearest_candidates(p, p.centres, 2))
    assert assign.tolist() == [0] * 3 + [1] * 9
    assert stats["seed_combined_deviation"] < 1e-9


def test_power_seed_gives_quadrants_on_a_uniform_grid():
    # Uniform 10 x 10 grid, one centre in the middle of each quadrant: the
    # balanced diagram is the four quadrants (25 cells each, all connected).
    p = grid_problem(
        10,
        10,
        centres=np.array([[0.2, 0.2], [0.7, 0.2], [0.2, 0.7], [0.7, 0.7]]),
        tolerance=0.0,
        contiguity=True,
    )
    assign, _ = power_seed(p, p.centres, nearest_candidates(p, p.centres, 4))
    grid = assign.reshape(10, 10)
    assert (grid[:5, :5] == 0).all() and (grid[:5, 5:] == 1).all()
    assert (grid[5:, :5] == 2).all() and (grid[5:, 5:] == 3).all()


def test_power_seed_jitter_is_seeded():
    rng_weights = np.random.default_rng(3)
    p = grid_problem(
        15,
        15,
        weights=rng_weights.lognormal(0, 1, 225),
        centres=np.column_stack([rng_weights.uniform(0, 1.4, 5), rng_weights.uniform(0, 1.4, 5)]),
        tolerance=0.05,
    )
    cands = nearest_candidates(p, p.centres, 5)
    a1, _ = power_seed(p, p.centres, cands, rng=np.random.default_rng(1))
    a2, _ = power_seed(p, p.centres, cands, rng=np.random.default_rng(1))
    a3, _ = power_seed(p, p.centres, cands)
    np.testing.assert_array_equal(a1, a2)
    assert not np.array_equal(a1, a3)


def _large_path(monkeypatch, bisection: bool = True):
    # Every model counts as large: align takes the bisection seed (or, without
    # it, the power-diagram seed it falls back to on a split graph).
    module = importlib.import_module("territory_engine.solve.align")
    monkeypatch.setattr(module, "LP_MAX_VARIABLES", 0)
    if not bisection:
        monkeypatch.setattr(module, "bisection_seed", lambda problem, rng: None)


def test_align_with_the_bisection_seed_keeps_every_invariant(monkeypatch):
    # Free centres: a large instance is seeded by the bisection.
    _large_path(monkeypatch)
    rng = np.random.default_rng(0)
    rows, cols, k = 20, 25, 8
    weights = np.column_stack([rng.lognormal(0, 0.8, rows * cols), rng.uniform(1, 3, rows * cols)])
    p = grid_problem(
        rows, cols, weights=weights, n_territories=k, tolerance=[0.05, 0.10], contiguity=True
    )
    a = align(p, seed=0, time_limit=20)
    assert a.stats.seed_method == "bisection"
    assert a.feasible, a.violations
    loads = np.zeros((k, 2))
    np.add.at(loads, a.assign, p.weights)
    assert np.all(loads >= p.lower - 1e-6) and np.all(loads <= p.upper + 1e-6)
    assert pieces_per_territory(p.adjacency, a.assign, k).tolist() == [1] * k
    assert np.bincount(a.assign, minlength=k).min() > 0
    assert a.stats.stop_reason == "converged"
    again = align(p, seed=0, time_limit=20)
    np.testing.assert_array_equal(a.assign, again.assign)


def test_starved_power_diagram_gives_way_to_the_bisection(monkeypatch):
    # A diagram that leaves three of four territories without weight (as around
    # reps' homes in one city on clustered data) is dropped for the bisection.
    _large_path(monkeypatch)
    module = importlib.import_module("territory_engine.solve.align")
    homes = np.array([[0.2, 0.2], [0.9, 0.2], [0.2, 0.9], [0.9, 0.9]])
    p = grid_problem(12, 12, centres=homes, tolerance=0.05, contiguity=True)
    starved = np.zeros(144, dtype=int)
    starved[[1, 2, 3]] = [1, 2, 3]
    assert module._starved(p, starved)
    assert not module._starved(p, (np.arange(144) // 36).astype(int))
    monkeypatch.setattr(module, "power_seed", lambda *a, **k: (starved.copy(), {}))
    a = align(p, seed=0, time_limit=20)
    assert a.stats.seed_method == "bisection"
    assert np.bincount(a.assign, minlength=4).min() > 0
    assert pieces_per_territory(p.adjacency, a.assign, 4).tolist() == [1] * 4


def test_align_with_the_power_seed_keeps_every_invariant(monkeypatch):
    _large_path(monkeypatch, bisection=False)
    rng = np.random.default_rng(0)
    rows, cols, k = 20, 25, 8
    centres = np.column_stack([rng.uniform(0, 2.4, k), rng.uniform(0, 1.9, k)])
    weights = np.column_stack([rng.lognormal(0, 0.8, rows * cols), rng.uniform(1, 3, rows * cols)])
    p = grid_problem(
        rows, cols, weights=weights, centres=centres, tolerance=[0.05, 0.10], contiguity=True
    )
    a = align(p, seed=0, time_limit=20)
    assert a.stats.seed_method == "power_diagram"
    assert a.feasible, a.violations
    loads = np.zeros((k, 2))
    np.add.at(loads, a.assign, p.weights)
    assert np.all(loads >= p.lower - 1e-6) and np.all(loads <= p.upper + 1e-6)
    assert pieces_per_territory(p.adjacency, a.assign, k).tolist() == [1] * k
    assert a.stats.stop_reason == "converged"
    again = align(p, seed=0, time_limit=20)
    np.testing.assert_array_equal(a.assign, again.assign)


def test_align_with_the_power_seed_respects_locks(monkeypatch):
    _large_path(monkeypatch)
    # The bottom-left cell is locked to the territory centred bottom right: the
    # diagram alone would give it to the one centred bottom left.
    rng = np.random.default_rng(4)
    locked = np.full(144, -1)
    locked[0] = 1
    p = grid_problem(
        12,
        12,
        weights=rng.uniform(1, 2, 144),
        centres=np.array([[0.2, 0.2], [0.9, 0.2], [0.5, 0.9]]),
        tolerance=0.08,
        locked=locked,
        contiguity=False,
    )
    a = align(p, seed=0, time_limit=20)
    assert a.feasible, a.violations
    assert a.assign[0] == 1


def _two_by_two(weights: np.ndarray) -> LocalSearch:
    # Cells 0 1 / 2 3 (rook adjacency); territory 0 holds the top row, 1 the bottom.
    xy = np.array([[0.0, 0.1], [0.1, 0.1], [0.0, 0.0], [0.1, 0.0]])
    i, j = np.array([0, 0, 1, 2]), np.array([1, 2, 3, 3])
    adj = sp.csr_matrix((np.ones(4, bool), (i, j)), shape=(4, 4))
    p = problem_from_arrays(weights, xy, adj, centres=xy[[0, 2]], tolerance=0.1, contiguity=True)
    costs = CostModel(p, p.centres)
    return LocalSearch(p, costs, np.array([0, 0, 1, 1]), nearest_candidates(p, p.centres, 2))


def test_exchange_fixes_a_territory_long_on_one_measure_and_short_on_the_other():
    # (potential, workload): top row (1, 1) + (3, 1) = (4, 2), bottom (3, 3) + (1, 3)
    # = (4, 6); the mean is (4, 4). Any single move breaks potential by 25 %;
    # exchanging cell 1 (3, 1) for cell 2 (3, 3) balances both exactly.
    ls = _two_by_two(np.array([[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]]))
    assert ls.violation() > 0.4
    assert ls.exchange_pass(deadline=float("inf")) == 1
    assert ls.violation() <= EPS
    assert sorted([sorted(ls.members[0]), sorted(ls.members[1])]) == [[0, 2], [1, 3]]


def test_exchange_refuses_a_swap_that_splits_a_territory():
    # Top row (3, 1) + (1, 1), bottom (3, 3) + (1, 3): only the diagonals
    # {0, 3} | {1, 2} balance, and the exchanges that make them (1 <-> 3 or
    # 0 <-> 2) leave each territory in two diagonal pieces.
    ls = _two_by_two(np.array([[3.0, 1.0], [1.0, 1.0], [3.0, 3.0], [1.0, 3.0]]))
    before = ls.violation()
    assert ls.exchange_pass(deadline=float("inf")) == 0
    assert ls.violation() == before
    assert ls.assign == [0, 0, 1, 1]


def test_sweep_repairs_more_than_one_territory_per_call():
    # Two separate 1 x 4 strips, each split in two territories of unequal size:
    # one sweep of chunk moves fixes both strips at once.
    n = 8
    xy = np.column_stack([np.arange(n) * 0.1 + np.repeat([0, 10], 4), np.zeros(n)])
    i = np.array([0, 1, 2, 4, 5, 6])
    adj = sp.csr_matrix((np.ones(6, bool), (i, i + 1)), shape=(n, n))
    p = problem_from_arrays(
        np.ones(n), xy, adj, centres=xy[[0, 3, 4, 7]], tolerance=0.0, contiguity=False
    )
    ls = LocalSearch(
        p,
        CostModel(p, p.centres),
        np.array([0, 1, 1, 1, 2, 2, 2, 3]),
        nearest_candidates(p, p.centres, 4),
    )
    assert ls.chunk_pass(deadline=float("inf"), sweep=True) == 2
    assert ls.violation() <= EPS


def test_regional_reseed_redraws_the_region_around_a_residue():
    # 12 x 12 equal cells, four centres in the quadrants, exact balance. The
    # start gives territory 0 an extra column strip (40 cells vs 36): the
    # regional re-draw (a power diagram over the violating territory and its
    # neighbours) restores four balanced, connected territories.
    module = importlib.import_module("territory_engine.solve.align")
    p = grid_problem(
        12,
        12,
        centres=np.array([[0.25, 0.25], [0.85, 0.25], [0.25, 0.85], [0.85, 0.85]]),
        tolerance=0.0,
        contiguity=True,
    )
    rows, cols = np.divmod(np.arange(144), 12)
    start = (rows >= 6) * 2 + (cols >= 6)
    start[(rows < 4) & (cols == 6)] = 0  # four cells of territory 1 handed to 0
    costs = CostModel(p, p.centres)
    cands = nearest_candidates(p, p.centres, 4)
    search = LocalSearch(p, costs, start, cands)
    assert search.violation() > 0
    stop, tried, cut = module._regional_reseeds(
        p, costs, cands, search, np.random.default_rng(0), float("inf"), lambda *a: None
    )
    assert search.violation() <= EPS and tried >= 1 and not cut
    assert stop == "converged"
    assign = np.asarray(search.assign)
    assert np.bincount(assign, minlength=4).tolist() == [36, 36, 36, 36]
    assert pieces_per_territory(p.adjacency, assign, 4).tolist() == [1, 1, 1, 1]
