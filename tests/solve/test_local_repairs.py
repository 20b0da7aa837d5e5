"""Repairs of the local search: the scoped search and the chain pass's border scan."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from territory_engine.problem.arrays import grid_problem, problem_from_arrays
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.search.local import LocalSearch


def _stripes(rows: int, cols: int, widths: list[int]) -> np.ndarray:
    """Columns cut into vertical stripes of the given widths (an unbalanced start)."""
    col_terr = np.repeat(np.arange(len(widths)), widths)
    return np.tile(col_terr, rows)


def _search(seed: int, widths: list[int]) -> tuple[LocalSearch, np.ndarray]:
    rows, cols = 12, sum(widths)
    rng = np.random.default_rng(seed)
    weights = np.column_stack([rng.lognormal(0, 0.6, rows * cols), rng.gamma(2, 1, rows * cols)])
    p = grid_problem(
        rows, cols, weights=weights, n_territories=len(widths), tolerance=0.03, contiguity=True
    )
    start = _stripes(rows, cols, widths)
    centres = np.array([p.xy[start == t].mean(axis=0) for t in range(len(widths))])
    costs = CostModel(p, centres)
    cands = nearest_candidates(p, centres, len(widths))
    return LocalSearch(p, costs, start, cands), start


def test_a_scoped_search_moves_only_units_of_its_territories() -> None:
    search, start = _search(0, [3, 3, 3, 4, 2, 3])
    search.scope = [3, 4]
    search.repair_passes = search.tabu = False
    before = search.violation()
    search.run(np.random.default_rng(0), float("inf"))
    moved = np.flatnonzero(np.asarray(search.assign) != start)
    assert len(moved), "the scoped search had something to do"
    assert set(start[moved].tolist()) <= {3, 4}
    assert search.violation() < before


@pytest.mark.parametrize("seed", range(5))
def test_the_chain_pass_scanning_borders_finds_the_chain_of_a_full_scan(seed: int) -> None:
    # Border units are the only ones with a move under contiguity: scanning them
    # (plus the first move's neighbours) must give the chain a scan of every unit gives.
    widths = [4, 2, 3, 3, 2, 4]
    fast, _ = _search(seed, widths)
    full, _ = _search(seed, widths)
    full._second_movers = lambda t, border: set(full.members[t])  # type: ignore[method-assign]
    for search in (fast, full):
        search.repair_passes = search.tabu = False
        search.run(np.random.default_rng(seed), float("inf"))
    assert fast.assign == full.assign
    found = []
    for _ in range(6):
        a, b = fast.chain_pass(float("inf")), full.chain_pass(float("inf"))
        assert a == b
        assert fast.assign == full.assign
        found.append(a)
    assert any(found), "no chain on this instance: the test would prove nothing"


def test_the_chain_pass_moves_an_interior_unit_behind_an_empty_one() -> None:
    # A line: s = 0..2 (weight 3, under), a = 3..8 with unit 3 empty (weight 5, over),
    # t = 9..12 (4); bands 4 ± 10 %. No single move helps (3 -> s changes nothing,
    # 8 -> t breaks t). The chain "3 -> s, then 4 -> s" fixes both, and unit 4 is
    # interior to a until 3 has left: the chain pass must look beyond a's border.
    n = 13
    weights = np.ones((n, 2))
    weights[3] = 0.0
    i = np.arange(n - 1)
    adj = sp.csr_matrix((np.ones(n - 1, bool), (i, i + 1)), shape=(n, n))
    # Unit 3 lies among a's units, so no move is worth it for travel alone.
    x = [0.0, 0.1, 0.2, 0.6, 0.4, 0.5, 0.6, 0.7, 0.8, 1.3, 1.4, 1.5, 1.6]
    xy = np.column_stack([x, np.zeros(n)])
    p = problem_from_arrays(weights, xy, adj, n_territories=3, tolerance=0.1, contiguity=True)
    start = np.repeat([0, 1, 2], [3, 6, 4])
    centres = np.array([p.xy[start == t].mean(axis=0) for t in range(3)])
    search = LocalSearch(p, CostModel(p, centres), start, nearest_candidates(p, centres, 3))
    assert search.single_pass(np.random.default_rng(0), float("inf")) == 0
    assert search.chain_pass(float("inf"))
    assert search.violation() == pytest.approx(0.0)
    assert search.assign[3] == search.assign[4] == 0
