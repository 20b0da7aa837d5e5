"""Min-max diameter search (:mod:`territory_engine.solve.search.diameter_tabu`), small cases."""

from __future__ import annotations

import time

import numpy as np
import pytest

from territory_engine.partition import part_diameters
from territory_engine.problem.arrays import problem_from_arrays
from territory_engine.solve.search.diameter_tabu import tabu_diameter


def _problem(points: np.ndarray, weights: np.ndarray, k: int, tol: float, locked=None):
    """A free-centre problem on ``points`` and their Euclidean distance matrix."""
    xy = np.column_stack([points[:, 0] * 0.01, points[:, 1] * 0.01])
    problem = problem_from_arrays(weights, xy, None, n_territories=k, tolerance=tol, locked=locked)
    dist = np.hypot(
        points[:, None, 0] - points[None, :, 0], points[:, None, 1] - points[None, :, 1]
    ).astype(np.float32)
    return problem, dist


def _in_bands(problem, assign: np.ndarray) -> bool:
    loads = np.zeros((problem.n_territories, problem.n_measures))
    np.add.at(loads, assign, problem.weights)
    return bool(np.all(loads >= problem.lower - 1e-7) and np.all(loads <= problem.upper + 1e-7))


def test_points_on_a_line_split_into_consecutive_runs():
    # 12 points at 0..11 on a line, 3 parts of exactly 4: the optimum is
    # {0..3} | {4..7} | {8..11}, diameter 3 (any part of 4 spans at least 3).
    pts = np.column_stack([np.arange(12.0), np.zeros(12)])
    problem, dist = _problem(pts, np.ones(12), 3, 0.0)
    start = np.arange(12) % 3  # balanced, diameter 9
    out, stats = tabu_diameter(
        problem, start, dist, deadline=time.perf_counter() + 5, seed=0, max_iters=2000
    )
    assert part_diameters(dist, out, 3).max() == pytest.approx(3.0)
    assert stats["diameter"] == pytest.approx(3.0)
    assert _in_bands(problem, out)
    assert sorted(np.bincount(out).tolist()) == [4, 4, 4]


def test_three_far_clusters_are_found_with_two_measures():
    # Three clusters of 6 units far apart, each cluster's measures summing to a
    # third of the total: one cluster per part is balanced and optimal.
    rng = np.random.default_rng(3)
    centres = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    pts = np.vstack([c + rng.random((6, 2)) * 5 for c in centres])
    weights = np.column_stack([np.ones(18), np.tile([1.0, 2.0, 3.0, 1.0, 2.0, 3.0], 3)])
    problem, dist = _problem(pts, weights, 3, 0.05)
    cluster = np.repeat(np.arange(3), 6)
    optimum = part_diameters(dist, cluster, 3).max()
    start = np.tile(np.arange(3), 6)  # mixes the clusters and breaks the second band
    out, _ = tabu_diameter(
        problem, start, dist, deadline=time.perf_counter() + 5, seed=1, max_iters=2000
    )
    assert part_diameters(dist, out, 3).max() == pytest.approx(optimum)
    assert _in_bands(problem, out)


def test_bands_hold_and_every_unit_assigned_on_random_points():
    rng = np.random.default_rng(7)
    n, k = 120, 4
    pts = rng.random((n, 2)) * 100
    weights = np.column_stack([rng.integers(1, 10, n), rng.integers(5, 50, n)]).astype(float)
    problem, dist = _problem(pts, weights, k, 0.05)
    # Equal-count blocks in index order break the bands: the search repairs them.
    start = (np.arange(n) * k) // n
    out, stats = tabu_diameter(
        problem, start, dist, deadline=time.perf_counter() + 8, seed=0, max_iters=800
    )
    assert out.shape == (n,)
    assert set(np.unique(out)) <= set(range(k))
    assert np.isfinite(stats["diameter"])
    assert _in_bands(problem, out)
    assert stats["diameter"] == pytest.approx(part_diameters(dist, out, k).max())
    assert stats["diameter"] < 0.9 * part_diameters(dist, start, k).max()


def test_locked_units_stay():
    pts = np.column_stack([np.arange(12.0), np.zeros(12)])
    locked = -np.ones(12, dtype=int)
    locked[0] = 2
    locked[11] = 0
    problem, dist = _problem(pts, np.ones(12), 3, 0.0, locked=locked)
    start = np.array([2, 1, 1, 1, 1, 2, 2, 2, 0, 0, 0, 0])
    start[11], start[8] = 0, 0
    out, _ = tabu_diameter(
        problem, start, dist, deadline=time.perf_counter() + 3, seed=0, max_iters=2000
    )
    assert out[0] == 2 and out[11] == 0
    assert _in_bands(problem, out)


def test_same_seed_same_plan():
    rng = np.random.default_rng(11)
    n, k = 80, 4
    pts = rng.random((n, 2)) * 50
    problem, dist = _problem(pts, np.ones(n), k, 0.0)
    start = np.arange(n) % k
    runs = [
        tabu_diameter(
            problem, start, dist, deadline=time.perf_counter() + 30, seed=5, max_iters=400
        )[0]
        for _ in range(2)
    ]
    assert runs[0].tolist() == runs[1].tolist()
