"""The never-empty seed on clustered data: recursive bisection, home matching, regional re-draws."""

from __future__ import annotations

import importlib

import numpy as np
import scipy.sparse as sp

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.arrays import grid_problem, problem_from_arrays
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.search.local import EPS, LocalSearch
from territory_engine.solve.search.redraw import redraw_rounds
from territory_engine.solve.seeds.bisection import bisect_region, bisection_seed


def _clustered_grid(rows: int = 24, cols: int = 40, seed: int = 0) -> np.ndarray:
    """Weights on a grid: two dense 'cities' far apart, empty country between them."""
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(rows * cols), cols)
    city = np.exp(-((r - 12) ** 2 + (c - 6) ** 2) / 15) + np.exp(
        -((r - 10) ** 2 + (c - 33) ** 2) / 15
    )
    w = np.where(city > 0.05, city * rng.lognormal(0, 0.5, rows * cols), 0.0)
    return np.column_stack([w, w * rng.uniform(0.8, 1.2, rows * cols)])


def test_a_line_of_equal_units_splits_exactly():
    # 12 equal units on a path, 3 parts: the only balanced contiguous split is 4 / 4 / 4.
    n = 12
    i = np.arange(n - 1)
    line = sp.csr_matrix((np.ones(n - 1, bool), (i, i + 1)), shape=(n, n))
    xy = np.column_stack([np.arange(n) * 0.1, np.zeros(n)])
    p = problem_from_arrays(np.ones(n), xy, line, n_territories=3, tolerance=0.0)
    assign, stats = bisection_seed(p, np.random.default_rng(0))
    assert sorted(np.bincount(assign).tolist()) == [4, 4, 4]
    assert pieces_per_territory(p.adjacency, assign, 3).tolist() == [1, 1, 1]
    assert stats["seed_combined_deviation"] < 1e-9


def test_clustered_cities_give_every_territory_weight_and_one_piece():
    # 56 % of the cells are empty; a seed on cells would starve territories here.
    weights = _clustered_grid()
    k = 16
    p = grid_problem(24, 40, weights=weights, n_territories=k, tolerance=0.05, contiguity=True)
    assert (weights.sum(axis=1) == 0).mean() > 0.5
    assign, stats = bisection_seed(p, np.random.default_rng(3))
    loads = np.zeros((k, 2))
    np.add.at(loads, assign, weights)
    assert (loads > 0).all(), "a territory without weight"
    assert pieces_per_territory(p.adjacency, assign, k).tolist() == [1] * k
    assert stats["seed_combined_deviation"] < 0.25
    again, _ = bisection_seed(p, np.random.default_rng(3))
    np.testing.assert_array_equal(assign, again)


def test_fixed_homes_keep_their_side_of_the_map():
    # Two reps live in the west city, two in the east one: the west reps get the west.
    weights = _clustered_grid()
    homes = np.array([[0.5, 1.2], [0.7, 1.2], [3.2, 1.0], [3.4, 1.0]])
    p = grid_problem(24, 40, weights=weights, centres=homes, tolerance=0.05, contiguity=True)
    assign, _ = bisection_seed(p, np.random.default_rng(0))
    cols = np.arange(24 * 40) % 40
    heavy = weights[:, 0] > 0
    west = np.array([np.median(cols[(assign == t) & heavy]) < 20 for t in range(4)])
    assert west.tolist() == [True, True, False, False]


def test_bisect_region_splits_only_the_region():
    p = grid_problem(10, 10, n_territories=4, tolerance=0.0, contiguity=True)
    units = np.flatnonzero(np.arange(100) % 10 < 5)  # the left half, 50 cells
    drawn = bisect_region(p, units, np.array([1, 3]), np.random.default_rng(0))
    assert sorted(np.unique(drawn).tolist()) == [1, 3]
    assert sorted(np.bincount(drawn)[[1, 3]].tolist()) == [25, 25]


def test_redraw_rounds_spread_a_residue_over_the_neighbours():
    # 12 x 12 equal cells in four quadrants; territory 0 took four cells of
    # territory 1. No territory may end empty or in pieces, and the bands hold.
    p = grid_problem(
        12,
        12,
        centres=np.array([[0.25, 0.25], [0.85, 0.25], [0.25, 0.85], [0.85, 0.85]]),
        tolerance=0.0,
        contiguity=True,
    )
    rows, cols = np.divmod(np.arange(144), 12)
    start = (rows >= 6) * 2 + (cols >= 6)
    start[(rows < 4) & (cols == 6)] = 0
    search = LocalSearch(p, CostModel(p, p.centres), start, nearest_candidates(p, p.centres, 4))
    search.repair_passes = False
    _, kept, cut = redraw_rounds(search, np.random.default_rng(0), float("inf"))
    assign = np.asarray(search.assign)
    assert search.violation() <= EPS and kept >= 1 and not cut
    assert np.bincount(assign, minlength=4).tolist() == [36, 36, 36, 36]
    assert pieces_per_territory(p.adjacency, assign, 4).tolist() == [1, 1, 1, 1]


def _cities_weights(rows: int, cols: int, seed: int) -> np.ndarray:
    """Weights of seven random cities on a grid (two measures, empty country around)."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    y, x = np.divmod(np.arange(n), cols)
    density = np.zeros(n)
    for cx, cy, radius in rng.uniform([0, 0, 3], [cols, rows, 12], size=(7, 3)):
        density += np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2))
    held = rng.random(n) < np.minimum(density, 1)
    return np.column_stack([rng.lognormal(0, 1.2, n), rng.gamma(3, 1, n)]) * held[:, None]


def test_a_large_cut_is_refined_within_the_slack():
    # 14,400 units: cuts this large were once left as the best tree drew them, more
    # than 0.5 % off here; refined, both halves lie within 0.5 % on both measures.
    from territory_engine.solve.seeds.bisection import SPLIT_SLACK

    w = _cities_weights(120, 120, seed=3)
    p = grid_problem(120, 120, weights=w, n_territories=2, tolerance=0.03, contiguity=True)
    units = np.arange(p.n_units)
    for seed in range(3):
        assign = bisect_region(p, units, np.arange(2), np.random.default_rng(seed))
        loads = np.zeros((2, 2))
        np.add.at(loads, assign, w)
        deviation = np.abs(loads / (w.sum(axis=0) / 2) - 1)
        assert deviation.max() <= SPLIT_SLACK + 1e-9, (seed, deviation)
        assert pieces_per_territory(p.adjacency, assign, 2).tolist() == [1, 1]


def test_redraw_rounds_of_a_large_plan_end_on_small_gains(monkeypatch):
    # Seven cities on a 40 x 40 grid, 16 territories at ±0.5 % from the bisection:
    # the rounds keep re-draws for a while. When every round must remove the whole
    # violation to count as a gain, the rounds end after PATIENCE of them.
    redraw = importlib.import_module("territory_engine.solve.search.redraw")
    p = grid_problem(40, 40, weights=_cities_weights(40, 40, seed=1), n_territories=16,
                     tolerance=0.005, contiguity=True)  # fmt: skip
    seeded = bisection_seed(p, np.random.default_rng(0))
    assert seeded is not None
    start = seeded[0]
    rounds = {}
    for name, gain in (("any", 0.0), ("all", 1.0)):
        monkeypatch.setattr(redraw, "MIN_GAIN_FROM_UNITS", 0)
        monkeypatch.setattr(redraw, "MIN_ROUND_GAIN", gain)
        centres = np.array([p.xy[start == t].mean(axis=0) for t in range(16)])
        search = LocalSearch(p, CostModel(p, centres), start, nearest_candidates(p, centres, 8))
        search.repair_passes = False
        rounds[name], _, _ = redraw.redraw_rounds(search, np.random.default_rng(0), float("inf"))
    assert rounds["all"] == redraw.PATIENCE
    assert rounds["any"] > redraw.PATIENCE
