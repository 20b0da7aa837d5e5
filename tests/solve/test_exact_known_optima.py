"""CP-SAT models (``solve_exact``, ``resolve_region``) on hand-made grids with known optima.

A rows x cols grid split into two equal connected parts: the fewest cut edges
are ``min(rows, cols)`` when that side's count of cells across is even (a
straight cut), else ``min(rows, cols) + 1`` (one step in the cut):
4 x 4 -> 4, 2 x 6 -> 2, 4 x 5 -> 5.
"""

from __future__ import annotations

import numpy as np
import pytest

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.arrays import grid_problem
from territory_engine.problem.data import count_cut_edges
from territory_engine.solve.exact.model import relabel_by_root, solve_exact
from territory_engine.solve.exact.subproblem import resolve_region


def _check_halves(p, assign):
    assert np.bincount(assign, minlength=2).tolist() == [p.n_units // 2] * 2
    assert pieces_per_territory(p.adjacency, assign, 2).tolist() == [1, 1]


@pytest.mark.parametrize(("rows", "cols", "optimum"), [(4, 4, 4), (2, 6, 2), (4, 5, 5)])
def test_solve_exact_proves_the_minimum_cut(rows, cols, optimum):
    p = grid_problem(rows, cols, n_territories=2, tolerance=0.0, contiguity=True)
    out, status, bound = solve_exact(p, None, max_seconds=60, workers=1, seed=0)
    assert status == "OPTIMAL"
    assert out is not None
    _check_halves(p, out)
    assert count_cut_edges(p.adjacency, out) == optimum
    assert bound == pytest.approx(optimum)


def test_solve_exact_from_a_hint_improves_it():
    # A staircase split of the 4 x 4 grid (6 cut edges) as the hint.
    p = grid_problem(4, 4, n_territories=2, tolerance=0.0, contiguity=True)
    hint = np.array([1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    assert count_cut_edges(p.adjacency, hint) == 6
    out, status, _ = solve_exact(p, hint, max_seconds=60, workers=1, seed=0)
    assert status == "OPTIMAL" and out is not None
    assert count_cut_edges(p.adjacency, out) == 4
    # Parts come out ordered by their lowest unit (the model's symmetry breaking).
    np.testing.assert_array_equal(out, relabel_by_root(out, 2))


def test_solve_exact_reports_an_impossible_balance():
    # Three unit cells cannot be split into two parts of 1.5 each.
    p = grid_problem(1, 3, n_territories=2, tolerance=0.0, contiguity=True)
    out, status, _ = solve_exact(p, None, max_seconds=30, workers=1, seed=0)
    assert out is None
    assert status == "INFEASIBLE"


def _no_cost(units, terrs):
    return np.zeros(len(units))


@pytest.mark.parametrize(
    ("rows", "cols", "optimum", "start"),
    [
        # 4 x 4: a staircase (6 cut edges) re-solved to the straight cut.
        (4, 4, 4, [1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
        # 2 x 6: an L-shaped split (4 cut edges) re-solved to the middle cut.
        (2, 6, 2, [0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1]),
    ],
)
def test_resolve_region_finds_the_minimum_cut(rows, cols, optimum, start):
    p = grid_problem(rows, cols, n_territories=2, tolerance=0.0, contiguity=True)
    start = np.array(start)
    _check_halves(p, start)
    assert count_cut_edges(p.adjacency, start) > optimum
    out = resolve_region(
        p, start, [0, 1], _no_cost, reach=rows + cols, deterministic_time=30.0, cut_weight=1.0
    )
    assert out is not None  # CP-SAT status OPTIMAL or FEASIBLE
    _check_halves(p, out)
    assert count_cut_edges(p.adjacency, out) == optimum


def test_resolve_region_keeps_territories_outside_the_region():
    # 2 x 6 in three territories of four cells; only territories 0 and 1 are re-solved.
    p = grid_problem(2, 6, n_territories=3, tolerance=0.0, contiguity=True)
    start = np.array([0, 1, 0, 1, 2, 2, 0, 1, 0, 1, 2, 2])
    # Roots stay in their territories: cells 0 (top left) and 3 (top, fourth column).
    out = resolve_region(p, start, [0, 1], _no_cost, roots={0: 0, 1: 3}, reach=6, cut_weight=1.0)
    assert out is not None
    assert (out[start == 2] == 2).all()
    assert pieces_per_territory(p.adjacency, out, 3).tolist() == [1, 1, 1]
    # Columns {0, 1} and {2, 3}: two edges between them, two to territory 2.
    assert count_cut_edges(p.adjacency, out) == 4


def test_resolve_region_returns_none_when_the_bands_cannot_hold():
    p = grid_problem(1, 3, n_territories=2, tolerance=0.0, contiguity=True)
    assert resolve_region(p, np.array([0, 0, 1]), [0, 1], _no_cost, reach=3) is None
