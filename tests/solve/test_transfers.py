"""Transfers across empty country: grown regions and chain transfers on hand-made graphs."""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.arrays import problem_from_arrays
from territory_engine.solve import align
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.search.local import EPS, LocalSearch
from territory_engine.solve.search.transfers import (
    chain_transfer,
    grown_region,
    redraw_grown,
    territory_graph,
    transfer_rounds,
)


def _line(n: int) -> sp.csr_matrix:
    i = np.arange(n - 1)
    return sp.csr_matrix((np.ones(n - 1, bool), (i, i + 1)), shape=(n, n))


def _search(p, assign: np.ndarray) -> LocalSearch:
    """A search from ``assign`` with centres on its territories' mean positions."""
    centres = np.array([p.xy[assign == t].mean(axis=0) for t in range(p.n_territories)])
    costs = CostModel(p, centres)
    return LocalSearch(p, costs, assign, nearest_candidates(p, centres, p.n_territories))


def _check(p, assign: np.ndarray) -> np.ndarray:
    """Invariants of a plan: every unit once, no empty territory, one piece each; the loads."""
    k = p.n_territories
    assert assign.shape == (p.n_units,)
    assert ((assign >= 0) & (assign < k)).all()
    loads = np.zeros((k, p.n_measures))
    np.add.at(loads, assign, p.weights)
    assert (loads.sum(axis=1) > 0).all(), "a territory without weight"
    assert pieces_per_territory(p.adjacency, assign, k).tolist() == [1] * k
    return loads


def test_chain_transfer_moves_weight_a_to_b_to_c():
    # 30 equal units on a line: A = 0..11 (12), B = 12..21 (10), C = 22..29 (8),
    # bands 10 ± 5 %. A is not adjacent to C: two units must go A -> B and two B -> C.
    n = 30
    weights = np.ones((n, 2))
    xy = np.column_stack([np.arange(n) * 0.1, np.zeros(n)])
    p = problem_from_arrays(weights, xy, _line(n), n_territories=3, tolerance=0.05, contiguity=True)
    start = np.repeat([0, 1, 2], [12, 10, 8])
    search = _search(p, start)
    assert search.violation() > 0.5
    assert chain_transfer(search, 0)
    assign = np.asarray(search.assign)
    assert _check(p, assign)[:, 0].tolist() == [10, 10, 10]
    assert search.violation() <= EPS
    # The territories moved along the line, each still one piece: A 0..9, B 10..19, C 20..29.
    assert assign.tolist() == np.repeat([0, 1, 2], 10).tolist()


def test_chain_transfer_is_undone_when_nothing_improves():
    # A is over its band and every other territory is full: no chain helps.
    n = 31
    weights = np.ones((n, 1))
    xy = np.column_stack([np.arange(n) * 0.1, np.zeros(n)])
    p = problem_from_arrays(weights, xy, _line(n), n_territories=3, tolerance=0.0, contiguity=True)
    lower = p.lower.copy()
    lower[:] = 10.0
    upper = lower.copy()
    p = problem_from_arrays(
        weights, xy, _line(n), n_territories=3, lower=lower, upper=upper, contiguity=True
    )
    start = np.repeat([0, 1, 2], [11, 10, 10])
    search = _search(p, start)
    before = search.violation()
    assert not chain_transfer(search, 0)
    assert search.assign == start.tolist()
    assert search.violation() == before


def _five_on_a_line() -> tuple:
    """50 equal units on a line in five territories of 13 / 10 / 7 / 10 / 10, bands 10 ± 5 %."""
    n = 50
    weights = np.ones((n, 2))
    xy = np.column_stack([np.arange(n) * 0.1, np.zeros(n)])
    p = problem_from_arrays(weights, xy, _line(n), n_territories=5, tolerance=0.05, contiguity=True)
    return p, np.repeat([0, 1, 2, 3, 4], [13, 10, 7, 10, 10])


def test_grown_region_takes_a_second_ring_when_one_does_not_fit():
    p, start = _five_on_a_line()
    search = _search(p, start)
    # {0, 1} holds 23 for bands summing to 20 ± 1: it does not fit; {0, 1, 2} holds 30.
    assert grown_region(search, 0, max_territories=2) is None
    region = grown_region(search, 0)
    assert region == [0, 1, 2]
    assert redraw_grown(search, region, np.random.default_rng(0), deadline=float("inf"))
    loads = _check(p, np.asarray(search.assign))
    assert search.violation() <= EPS
    assert loads[:, 0].tolist() == [10] * 5


def test_territory_graph_weights_arcs_by_their_border():
    p, start = _five_on_a_line()
    graph = territory_graph(_search(p, start))
    assert sorted(graph.edges) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    # One unit of weight 1 (two measures, relative to a target of 10: 0.2) on each side.
    assert np.isclose(graph.edges[0, 1]["weight"], 1 + 1 / (0.05 + 0.2))


def _two_cities() -> tuple:
    """Two dense 4 x 6 'cities' joined by a 20-cell road of empty units, three territories.

    Each city holds 24 units of weight about 1 (a second measure jittered), 48 in all,
    so a territory is 16: one territory must hold 8 units of each city and the whole
    road. Returns the problem and a known feasible plan.
    """
    rows, cols, road = 4, 6, 20
    rng = np.random.default_rng(7)
    xy, edges = [], []

    def grid(x0: float, first: int) -> None:
        for r in range(rows):
            for c in range(cols):
                i = first + r * cols + c
                xy.append((x0 + c * 0.1, r * 0.1))
                if c + 1 < cols:
                    edges.append((i, i + 1))
                if r + 1 < rows:
                    edges.append((i, i + cols))

    grid(0.0, 0)  # west city: units 0..23
    west_right = [r * cols + cols - 1 for r in range(rows)]
    road_ids = list(range(24, 24 + road))
    for q in range(road):
        xy.append((0.6 + q * 0.1, 0.15))
    grid(0.6 + road * 0.1, 24 + road)  # east city: units 44..67
    east_left = [24 + road + r * cols for r in range(rows)]
    edges.append((west_right[1], road_ids[0]))
    edges += list(itertools.pairwise(road_ids))
    edges.append((road_ids[-1], east_left[1]))
    n = len(xy)
    i, j = np.array(edges).T
    adj = sp.csr_matrix((np.ones(len(i), bool), (i, j)), shape=(n, n))
    w1 = np.zeros(n)
    w1[:24] = 1.0
    w1[44:] = 1.0
    w2 = np.where(w1 > 0, rng.uniform(0.9, 1.1, n), 0.0)
    w2 *= 48 / w2.sum()
    weights = np.column_stack([w1, w2])
    p = problem_from_arrays(
        weights, np.array(xy), adj, n_territories=3, tolerance=(0.05, 0.12), contiguity=True
    )
    # The known plan: the west city's left 4 columns, the east city's right 4 columns,
    # and the middle territory with both inner 2-column strips and the road.
    col = np.array([c for c in range(cols)] * rows)
    known = np.full(n, 1)
    known[:24] = np.where(col < 4, 0, 1)
    known[44:] = np.where(col >= 2, 2, 1)
    return p, known


def test_two_cities_known_plan_is_feasible():
    p, known = _two_cities()
    loads = _check(p, known)
    assert (loads >= p.lower - 1e-9).all() and (loads <= p.upper + 1e-9).all()


def test_transfer_rounds_spread_a_territory_across_the_empty_road():
    # Start: each city one territory (24 each, far above 16), the road a territory of
    # its own (weight 0): only a territory spanning the road can balance the plan.
    p, _ = _two_cities()
    start = np.full(p.n_units, 1)
    start[:24] = 0
    start[44:] = 2
    descent = _search(p, start)
    descent.repair_passes = descent.tabu = False
    assert descent.run(np.random.default_rng(0), float("inf")) == "stalled_infeasible"
    search = _search(p, start)
    rounds, kept, cut = transfer_rounds(search, np.random.default_rng(0), float("inf"))
    assert kept >= 1 and not cut and rounds >= 1
    assign = np.asarray(search.assign)
    loads = _check(p, assign)
    assert search.violation() <= EPS
    assert (loads >= p.lower - 1e-9).all() and (loads <= p.upper + 1e-9).all()
    # Same seed, same plan.
    again = _search(p, start)
    transfer_rounds(again, np.random.default_rng(0), float("inf"))
    assert again.assign == search.assign


def test_solve_finds_a_plan_on_the_two_cities():
    p, _ = _two_cities()
    first = align(p, seed=3, time_limit=20)
    assert first.feasible, first.violations
    _check(p, first.assign)
    again = align(p, seed=3, time_limit=20)
    assert first.stats.stop_reason == "converged"
    np.testing.assert_array_equal(first.assign, again.assign)
