"""Recombination descent of part pairs (``recombine_descent``): invariants of its plans,
known optima, determinism by seed, locks and groups."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from territory_engine.problem.arrays import grid_problem
from territory_engine.problem.data import ProblemData, count_cut_edges
from territory_engine.solve.search.recombine import recombine_descent

from .plan_checks import check_plan


def _snake(rows: int, cols: int, k: int) -> np.ndarray:
    """Boustrophedon stripes of ``rows · cols / k`` cells: balanced, contiguous, many cut edges."""
    order = np.concatenate(
        [np.arange(r * cols, (r + 1) * cols)[:: 1 if r % 2 == 0 else -1] for r in range(rows)]
    )
    a = np.empty(rows * cols, dtype=np.int64)
    a[order] = np.arange(rows * cols) // (rows * cols // k)
    return a


def _two_measures(seed: int) -> tuple[ProblemData, np.ndarray]:
    """A 10 × 10 grid of two random measures in 4 parts (±10 % of the start's loads)."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 1.5, (100, 2))
    p = grid_problem(10, 10, n_territories=4, weights=w, tolerance=0.1, contiguity=True)
    a = _snake(10, 10, 4)
    loads = np.stack([np.bincount(a, weights=w[:, j], minlength=4) for j in range(2)], axis=1)
    return dataclasses.replace(p, lower=loads * 0.9, upper=loads * 1.1), a


@pytest.mark.parametrize(("rows", "cols", "k", "optimum"), [(4, 4, 2, 4), (6, 6, 2, 6)])
def test_exact_bands_reach_the_straight_cut(rows, cols, k, optimum):
    # Unit cells, exact halves: the straight cut is optimal; the snake start is far from it.
    p = grid_problem(rows, cols, n_territories=k, tolerance=0.0, contiguity=True)
    start = _snake(rows, cols, k)
    check_plan(p, start)
    out, stats = recombine_descent(p, start, iterations=300, seed=1)
    check_plan(p, out)
    assert stats["cut"] == count_cut_edges(p.adjacency, out) == optimum
    assert stats["start_cut"] == count_cut_edges(p.adjacency, start)


@pytest.mark.parametrize("seed", [0, 1])
def test_two_measures_stay_in_band_connected_and_the_cut_falls(seed):
    p, a = _two_measures(seed)
    start_cut = count_cut_edges(p.adjacency, a)
    out, stats = recombine_descent(p, a, iterations=400, seed=seed, temperature=1.0)
    check_plan(p, out)
    assert stats["accepted"] > 0
    assert stats["cut"] == count_cut_edges(p.adjacency, out) < start_cut


def test_same_seed_same_plan_and_another_seed_differs():
    p, a = _two_measures(2)
    one, s1 = recombine_descent(p, a, iterations=200, seed=7, temperature=1.0)
    two, s2 = recombine_descent(p, a, iterations=200, seed=7, temperature=1.0)
    three, s3 = recombine_descent(p, a, iterations=200, seed=8, temperature=1.0)
    assert one.tolist() == two.tolist() and s1 == s2
    # Both seeds may end on the same best plan; their walks differ.
    assert (three.tolist(), s3["accepted"]) != (one.tolist(), s1["accepted"])


def test_locked_units_and_groups_stay_put():
    p, a = _two_measures(3)
    locked = np.full(100, -1)
    border = np.flatnonzero(a != np.roll(a, 1))  # units where the snake changes part
    locked[border] = a[border]
    unit_group = np.zeros(100, dtype=p.unit_group.dtype)
    unit_group[a == 3] = 1  # part 3's units may only be in part 3
    territory_group = np.array([0, 0, 0, 1], dtype=p.territory_group.dtype)
    p = dataclasses.replace(
        p, locked=locked, unit_group=unit_group, territory_group=territory_group
    )
    out, stats = recombine_descent(p, a, iterations=400, seed=2, temperature=1.0)
    check_plan(p, out)
    assert stats["accepted"] > 0
    assert (out[border] == a[border]).all()
    assert (out[unit_group == 1] == 3).all() and (out[unit_group == 0] != 3).all()


def test_a_past_deadline_cuts_the_run():
    p = grid_problem(4, 4, n_territories=2, tolerance=0.0, contiguity=True)
    start = _snake(4, 4, 2)
    out, stats = recombine_descent(p, start, iterations=10**6, deadline=0.0)
    assert stats["cut_short"] and stats["iterations"] == 0
    assert out.tolist() == start.tolist()
