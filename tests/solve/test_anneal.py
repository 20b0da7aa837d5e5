"""Simulated annealing for cut edges on hand-made grids with known optima."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.arrays import grid_problem
from territory_engine.problem.data import count_cut_edges
from territory_engine.solve.search.anneal import (
    anneal_cut_edges,
    anneal_multistart,
)
from territory_engine.solve.search.local import stays_connected_without
from territory_engine.solve.seeds.tree import best_tree_partition


def _check(p, a, k):
    """Every unit assigned, bands hold, every part connected."""
    assert a.shape == (p.n_units,) and a.min() >= 0 and a.max() < k
    loads = np.bincount(a, weights=p.weights[:, 0], minlength=k)
    assert np.all(loads >= p.lower[:, 0] - 1e-9) and np.all(loads <= p.upper[:, 0] + 1e-9)
    assert pieces_per_territory(p.adjacency, a, k).tolist() == [1] * k


def _staircase_4x5() -> np.ndarray:
    # Columns 0-1 and the bottom cells of columns 2-3 (10 cells) against the
    # rest: balanced and contiguous, with 6 cut edges (the optimum is 5).
    a = np.ones(20, dtype=int)
    for r in range(4):
        for c in range(5):
            if c < 2 or (r == 3 and c < 4):
                a[r * 5 + c] = 0
    return a


def test_stays_connected_without_on_a_path():
    nbrs = [[1], [0, 2], [1, 3], [2]]
    part = [0, 0, 0, 0]
    assert not stays_connected_without(nbrs, part, 1)  # the middle cuts the path
    assert stays_connected_without(nbrs, part, 0)  # an end does not


def test_anneal_finds_the_5_edge_cut_of_a_4x5_grid():
    # Two parts of exactly 10 cells: the straight cut between rows {0,1} and
    # {2,3} with 5 cut edges is optimal.
    p = grid_problem(4, 5, n_territories=2, tolerance=0.0, contiguity=True)
    start = _staircase_4x5()
    assert count_cut_edges(p.adjacency, start) == 6
    out, stats = anneal_cut_edges(p, start, seconds=1.0, seed=3)
    _check(p, out, 2)
    assert stats["feasible"] and stats["start_cut"] == 6
    assert count_cut_edges(p.adjacency, out) == stats["cut"] == 5


def test_anneal_keeps_locked_units():
    p = grid_problem(4, 5, n_territories=2, tolerance=0.0, contiguity=True)
    locked = np.full(20, -1)
    locked[0] = 0
    locked[19] = 1
    p = dataclasses.replace(p, locked=locked)
    out, _ = anneal_cut_edges(p, _staircase_4x5(), seconds=0.5, seed=1)
    _check(p, out, 2)
    assert out[0] == 0 and out[19] == 1


def test_multistart_reaches_the_quadrants_of_an_8x8_grid():
    # Four parts of 15 to 17 cells: the quadrants cut 16 edges, the optimum
    # (a part of 15 or more cells has perimeter at least 16, the parts'
    # perimeters add up to 2 · cut + 32).
    p = grid_problem(8, 8, n_territories=4, tolerance=0.07, contiguity=True)

    def start(r):
        return best_tree_partition(
            p, lambda a: count_cut_edges(p.adjacency, a), seconds=0.3, seed=r
        )[0]

    out, stats = anneal_multistart(
        p, start, deadline=time.perf_counter() + 6.0, seed=0, run_seconds=1.5
    )
    assert out is not None
    _check(p, out, 4)
    assert count_cut_edges(p.adjacency, out) == stats["cut"] == 16


def test_partition_anneals_a_160_cell_grid_to_its_optimum(tmp_path):
    # 16 x 10 grid (above the 150-unit threshold, so partition anneals) in two
    # parts of 80 cells: the straight 10-edge cut across the short side is optimal.
    import json

    import networkx as nx

    from territory_engine.partition import partition
    from territory_engine.problem.graph import read_graph

    g = nx.grid_2d_graph(16, 10)
    for r, c in g.nodes:
        g.nodes[r, c].update(TOTPOP=1, C_X=c * 0.1, C_Y=r * 0.1)
    g = nx.convert_node_labels_to_integers(g, ordering="sorted")
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(nx.node_link_data(g, edges="links")))
    res = partition(
        read_graph(path), parts=2, balance={}, bounds={"TOTPOP": (80, 80)}, time_limit=5
    )
    assert res.feasible and res.anneal["starts"] >= 1
    assert res.cut_edges == 10
    plan = np.array([res.assignment[str(v)] for v in g.nodes])
    assert np.bincount(plan).tolist() == [80, 80]
    for t in (0, 1):
        assert nx.is_connected(g.subgraph(np.flatnonzero(plan == t).tolist()))
