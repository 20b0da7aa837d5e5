"""Balanced contiguous seeds by recursive spanning-tree cuts (GerryChain's ``recursive_tree_part``).

One attempt splits off one part at a time: draw a random spanning tree of the
units still unassigned (minimum spanning tree under random edge weights),
compute every subtree's totals, and cut an edge whose subtree fits the part's
band while the rest can still fill the remaining parts' bands. Cutting a tree
edge leaves both sides connected, so every part is contiguous by
construction. Cheap enough to repeat many times and keep the best plan for the
objective (DeFord, Duchin & Solomon 2021).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

from territory_engine.problem.data import ProblemData

MAX_TREES_PER_PART = 50


def _split_one(
    problem: ProblemData, nodes: np.ndarray, t: int, parts_left: int, rng: np.random.Generator
) -> np.ndarray | None:
    """Units (a subset of ``nodes``) forming part ``t``, or ``None`` when no tree gave a fit."""
    sub = problem.adjacency[nodes][:, nodes].tocoo()
    keep = sub.row < sub.col
    rows, cols = sub.row[keep], sub.col[keep]
    w = problem.weights[nodes]
    total = w.sum(axis=0)
    lo, hi = problem.lower[t], problem.upper[t]
    rest_lo = problem.lower[t + 1 : t + parts_left].sum(axis=0)
    rest_hi = problem.upper[t + 1 : t + parts_left].sum(axis=0)
    n = len(nodes)
    for _ in range(MAX_TREES_PER_PART):
        weights = rng.random(len(rows)) + 1e-9
        graph = sp.csr_matrix((weights, (rows, cols)), shape=(n, n))
        tree = minimum_spanning_tree(graph)
        tree = (tree + tree.T).tocsr()
        root = int(rng.integers(n))
        order, pred = breadth_first_order(tree, root, directed=False)
        if len(order) < n:
            return None  # the remaining units are not connected
        acc = w.copy()
        for v in order[::-1][:-1]:  # children before parents; the root has no parent
            acc[pred[v]] += acc[v]
        rest = total - acc
        fits = np.all((acc >= lo - 1e-9) & (acc <= hi + 1e-9), axis=1)
        if parts_left > 1:
            fits &= np.all((rest >= rest_lo - 1e-9) & (rest <= rest_hi + 1e-9), axis=1)
        fits[root] = parts_left == 1 and fits[root]
        candidates = np.flatnonzero(fits)
        if len(candidates) == 0:
            continue
        v = int(candidates[int(rng.integers(len(candidates)))])
        if parts_left == 1:
            return nodes
        # The subtree of v: v and its descendants in the BFS tree.
        inside = np.zeros(n, dtype=bool)
        inside[v] = True
        for u in order:
            if u != root and inside[pred[u]]:
                inside[u] = True
        return nodes[inside]
    return None


def tree_partition(problem: ProblemData, rng: np.random.Generator) -> np.ndarray | None:
    """One recursive spanning-tree partition of a single-group problem, or ``None``."""
    k = problem.n_territories
    assign = np.full(problem.n_units, -1)
    nodes = np.arange(problem.n_units)
    for t in range(k):
        part = _split_one(problem, nodes, t, k - t, rng)
        if part is None:
            return None
        assign[part] = t
        nodes = nodes[assign[nodes] < 0]
    return assign if (assign >= 0).all() else None


def best_tree_partition(
    problem: ProblemData,
    score: Callable[[np.ndarray], float],
    *,
    seconds: float,
    seed: int = 0,
    max_tries: int = 10_000,
) -> tuple[np.ndarray | None, int]:
    """The best of repeated tree partitions under ``score`` within ``seconds``.

    Returns
    -------
    (numpy.ndarray or None, int)
        The best assignment found (``None`` if none succeeded) and the number of attempts.
    """
    rng = np.random.default_rng(seed)
    end = time.perf_counter() + seconds
    best, best_score, tries = None, np.inf, 0
    while tries < max_tries and time.perf_counter() < end:
        tries += 1
        assign = tree_partition(problem, rng)
        if assign is None:
            continue
        value = score(assign)
        if value < best_score:
            best, best_score = assign, value
    return best, tries
