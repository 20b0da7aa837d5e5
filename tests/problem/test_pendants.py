"""Pendants behind a cut vertex: the infeasibility proof is sound and names the units."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from territory_engine.problem.arrays import problem_from_arrays
from territory_engine.problem.diagnose import diagnose
from territory_engine.problem.pendants import cut_vertex_sides, impossible_pendants


def _metro_on_a_chain(metro: tuple[float, float]) -> tuple[sp.csr_matrix, np.ndarray]:
    """A ring of 6 units (0–5), an empty unit 6 on unit 0, and a metro of units 7–8 beyond it.

    The ring's units hold (1, 1) each; the metro's two units hold half of ``metro`` each.
    """
    edges = [(i, (i + 1) % 6) for i in range(6)] + [(0, 6), (6, 7), (7, 8)]
    rows, cols = zip(*edges, strict=True)
    adj = sp.coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(9, 9))
    adj = (adj + adj.T).tocsr()
    half = np.asarray(metro)[None] / 2
    weights = np.vstack([np.ones((6, 2)), np.zeros((1, 2)), half, half])
    return adj, weights


def test_cut_vertex_sides_match_networkx_articulation_points():
    rng = np.random.default_rng(3)
    for _ in range(20):
        tree = nx.random_labeled_tree(30, seed=int(rng.integers(1 << 30)))
        extra = rng.integers(30, size=(8, 2))
        tree.add_edges_from(map(tuple, extra.tolist()))
        tree.remove_edges_from(nx.selfloop_edges(tree))
        adj = nx.to_scipy_sparse_array(tree, nodelist=range(30), format="csr")
        order, sides = cut_vertex_sides(adj)
        assert sorted(order.tolist()) == list(range(30))
        assert {v for v, _, _ in sides} == set(nx.articulation_points(tree))
        for v, start, stop in sides:
            rest = tree.copy()
            rest.remove_node(v)
            side = set(order[start:stop].tolist())
            assert side in [set(c) for c in nx.connected_components(rest)]


def test_a_metro_rich_in_one_measure_and_poor_in_the_other_is_impossible():
    # Bands 0.97–1.03. The metro holds 0.95 and 1.05: no count of territories fits both
    # (0 whole ones and part of one for the first, 1 and part of one for the second).
    adj, weights = _metro_on_a_chain((0.95, 1.05))
    found = impossible_pendants(adj, weights, np.array([0.97, 0.97]), np.array([1.03, 1.03]))
    sides = {tuple(p.units.tolist()) for p in found}
    assert sides == {(7, 8), (6, 7, 8)}  # beyond unit 6, and beyond unit 0
    pendant = next(p for p in found if tuple(p.units.tolist()) == (7, 8))
    assert pendant.cut == 6
    assert pendant.counts == [(0, 0), (1, 1)]
    # The same metro in the mix of the bands fits (one territory, or part of one).
    adj, weights = _metro_on_a_chain((1.0, 1.0))
    assert impossible_pendants(adj, weights, np.array([0.97] * 2), np.array([1.03] * 2)) == []


def test_diagnose_names_the_pendant_its_cut_unit_and_the_mend():
    adj, weights = _metro_on_a_chain((0.95, 1.05))
    xy = np.column_stack([np.arange(9) * 0.1, np.zeros(9)])
    problem = problem_from_arrays(
        weights,
        xy,
        adj,
        centres=xy[:7],
        tolerance=0.03,
        contiguity=True,
        measure_names=["potential", "workload"],
    )
    (reason,) = diagnose(problem)
    assert "joined to the rest only through unit 6" in reason
    assert "the 2 units (7, 8)" in reason
    assert "0 whole territories plus part of one" in reason
    assert "1 whole territory plus part of one" in reason
    assert reason.endswith("widen the bands or join these units to the rest by more edges")
    # Without contiguity nothing is proven.
    assert diagnose(problem_from_arrays(weights, xy, adj, centres=xy[:7], tolerance=0.03)) == []


def _has_contiguous_plan(adj: sp.csr_matrix, w: np.ndarray, k: int, lo, hi) -> bool:
    """Brute force: some assignment of the units to ``k`` connected parts within the bands."""
    n = adj.shape[0]
    graph = nx.from_scipy_sparse_array(adj)
    for labels in itertools.product(range(k), repeat=n - 1):
        assign = np.array((0, *labels))  # part 0 holds unit 0: symmetry
        loads = np.zeros((k, w.shape[1]))
        np.add.at(loads, assign, w)
        if (loads < lo - 1e-12).any() or (loads > hi + 1e-12).any():
            continue
        if all(
            nx.is_connected(graph.subgraph(np.flatnonzero(assign == t).tolist())) for t in range(k)
        ):
            return True
    return False


@pytest.mark.parametrize("k", [2, 3])
def test_no_plan_exists_where_a_pendant_is_impossible(k):
    """Soundness on random small trees with a few chords, two measures, tight bands."""
    rng = np.random.default_rng(k)
    proven = 0
    for _ in range(60):
        n = 8
        tree = nx.random_labeled_tree(n, seed=int(rng.integers(1 << 30)))
        for a, b in rng.integers(n, size=(int(rng.integers(0, 2)), 2)).tolist():
            if a != b:
                tree.add_edge(a, b)
        adj = nx.to_scipy_sparse_array(tree, nodelist=range(n), format="csr")
        w = rng.gamma(2.0, 1.0, size=(n, 2)) * (rng.random((n, 1)) < 0.8)
        mean = w.sum(axis=0) / k
        lo, hi = mean * 0.85, mean * 1.15
        if impossible_pendants(adj, w, lo, hi):
            proven += 1
            assert not _has_contiguous_plan(adj, w, k, lo, hi)
    assert proven >= 3  # the test sees the proof at work
