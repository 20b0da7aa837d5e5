"""Recombination descent: redraw two neighbouring parts by the best balanced tree split.

The move of GerryChain's ReCom chain used as an optimiser. One iteration picks a
cut edge ``(u, v)`` uniformly, merges the two parts ``s ∋ u`` and ``t ∋ v`` into a
region ``R``, draws ``trees`` random spanning trees of ``R`` (minimum spanning
trees of uniform random edge weights) and, in each, considers every tree edge
whose removal splits ``R`` into two sides ``(A, R \\ A)`` such that, for one
orientation ``(A → s, R \\ A → t)`` or ``(A → t, R \\ A → s)``:

* every measure of both parts lies in its band, ``lower ≤ w(A) ≤ upper``;
* locked units stay with their territory and every unit's eligibility group is
  its part's group.

Both sides of a tree split are connected by construction. Among the admissible
splits the one with the fewest edges of ``R`` between its sides is taken; the
change ``Δ`` of cut edges is that count minus the edges now between ``s`` and
``t`` (the edges from ``R`` to other parts do not depend on the split). It is
accepted when ``Δ ≤ 0`` (sideways moves let the boundary drift) or, at
temperature ``T > 0``, with probability ``exp(−Δ / T)``.

Where pair exchanges (:func:`~territory_engine.solve.search.anneal.swap_anneal`)
change a boundary by a unit or two, a recombination redraws it whole, which
gets out of the local minima those leave at tight bands (tract graphs at ±1 %).
The run is bounded by ``iterations`` and so gives one plan per seed on any
machine; a ``deadline`` only cuts it short (``stats["cut_short"]``).
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import depth_first_order, minimum_spanning_tree

from territory_engine.problem import ProblemData
from territory_engine.problem.data import count_cut_edges


def recombine_descent(
    problem: ProblemData,
    assign: np.ndarray,
    *,
    iterations: int,
    seed: int = 0,
    trees: int = 8,
    temperature: float = 0.0,
    deadline: float | None = None,
) -> tuple[np.ndarray, dict]:
    """Lower the cut edges of a plan within every band by recombination of part pairs.

    Parameters
    ----------
    problem
        Problem with adjacency, bands, locks and eligibility groups.
    assign
        (n,) starting plan; parts need not be within their bands, but only
        pairs whose redraw puts both within every band are changed.
    iterations
        Recombinations to try.
    seed
        Random seed.
    trees
        Spanning trees drawn per recombination.
    temperature
        Metropolis temperature on the cut-edge change (0: sideways and better only).
    deadline
        ``time.perf_counter()`` value at which to stop early, or ``None``.

    Returns
    -------
    (numpy.ndarray, dict)
        The plan of fewest cut edges seen and statistics ``start_cut``,
        ``cut``, ``iterations``, ``accepted``, ``cut_short``.
    """
    rng = np.random.default_rng(seed)
    plan = np.asarray(assign, dtype=np.int64).copy()
    adjacency = sp.csr_matrix(problem.adjacency)
    src = np.repeat(np.arange(problem.n_units), np.diff(adjacency.indptr))
    dst = adjacency.indices.astype(np.int64)
    upper_half = src < dst
    src, dst = src[upper_half], dst[upper_half]
    cut = int(count_cut_edges(adjacency, plan))
    stats = {"start_cut": cut, "iterations": 0, "accepted": 0, "cut_short": False}
    best, best_cut = plan.copy(), cut
    for it in range(iterations):
        if deadline is not None and it % 16 == 0 and time.perf_counter() > deadline:
            stats["cut_short"] = True
            break
        stats["iterations"] = it + 1
        cut_edges = np.flatnonzero(plan[src] != plan[dst])
        if len(cut_edges) == 0:
            break
        e = cut_edges[rng.integers(len(cut_edges))]
        s, t = int(plan[src[e]]), int(plan[dst[e]])
        split = _best_split(problem, plan, s, t, src, dst, rng, trees)
        if split is None:
            continue
        region, to_s, delta = split
        if delta > 0 and (temperature <= 0 or rng.random() >= math.exp(-delta / temperature)):
            continue
        plan[region[to_s]] = s
        plan[region[~to_s]] = t
        cut += delta
        stats["accepted"] += 1
        if cut < best_cut:
            best, best_cut = plan.copy(), cut
    stats["cut"] = best_cut
    return best, stats


def _best_split(
    problem: ProblemData,
    plan: np.ndarray,
    s: int,
    t: int,
    src: np.ndarray,
    dst: np.ndarray,
    rng: np.random.Generator,
    trees: int,
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The admissible tree split of parts ``s ∪ t`` with the fewest edges between its sides.

    Returns ``(region, to_s, delta)``: the region's units, true for those going
    to ``s``, and the change of cut edges; ``None`` when no tree gave an
    admissible split.
    """
    region = np.flatnonzero((plan == s) | (plan == t))
    size = len(region)
    if size < 2:
        return None
    local = np.full(len(plan), -1, dtype=np.int64)
    local[region] = np.arange(size)
    inside = (local[src] >= 0) & (local[dst] >= 0)
    a, b = local[src[inside]], local[dst[inside]]
    now = int((plan[region][a] != plan[region][b]).sum())
    # Per unit: its measures, and whether it may not go to s (to t): summed over
    # subtrees, a side is admissible when its "may not" count is zero.
    values = np.column_stack(
        [
            problem.weights[region],
            ~_allowed(problem, region, s),
            ~_allowed(problem, region, t),
        ]
    ).astype(float)
    m = problem.n_measures
    total = values.sum(axis=0)
    best: tuple[np.ndarray, int] | None = None
    for _ in range(trees):
        tree = _random_tree(size, a, b, rng, values)
        if tree is None:
            return None  # the region is not connected
        position, start, end, below = tree
        pa, pb = position[a], position[b]
        ins_a = (pa[None, :] >= start[:, None]) & (pa[None, :] < end[:, None])
        ins_b = (pb[None, :] >= start[:, None]) & (pb[None, :] < end[:, None])
        between = (ins_a != ins_b).sum(axis=1)
        rest = total[None, :] - below
        for subtree_to_s in (False, True):
            to_s_load, to_t_load = (below, rest) if subtree_to_s else (rest, below)
            ok = (
                (to_s_load[:, m] == 0)
                & (to_t_load[:, m + 1] == 0)
                & _in_band(problem, s, to_s_load[:, :m])
                & _in_band(problem, t, to_t_load[:, :m])
            )
            if best is not None:
                ok &= between < best[1]
            if not ok.any():
                continue
            c = int(np.flatnonzero(ok)[np.argmin(between[ok])])
            subtree = (position >= start[c]) & (position < end[c])
            best = (subtree if subtree_to_s else ~subtree, int(between[c]))
    if best is None:
        return None
    return region, best[0], best[1] - now


def _random_tree(
    size: int, a: np.ndarray, b: np.ndarray, rng: np.random.Generator, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """One random spanning tree of the region, as its candidate splits.

    A minimum spanning tree of uniform random weights on the region's edges
    ``(a, b)``. Returns ``(position, start, end, below)``: each unit's place in
    a depth-first preorder (a subtree is the preorder range ``[start, end)``),
    and for every non-root node (one candidate split each: the edge to its
    parent) that range and the column sums of ``values`` over its subtree;
    ``None`` when the region is not connected.
    """
    weights = rng.random(len(a)) + 1e-9
    graph = sp.coo_matrix((weights, (a, b)), shape=(size, size)).tocsr()
    tree = minimum_spanning_tree(graph)
    tree = tree + tree.T
    order, parent = depth_first_order(tree, 0, directed=False)
    if len(order) < size:
        return None
    position = np.empty(size, dtype=np.int64)
    position[order] = np.arange(size)
    count = np.ones(size, dtype=np.int64)
    below = values.copy()
    for v in order[:0:-1]:
        count[parent[v]] += count[v]
        below[parent[v]] += below[v]
    nodes = order[1:]
    start = position[nodes]
    return position, start, start + count[nodes], below[nodes]


def _allowed(problem: ProblemData, region: np.ndarray, part: int) -> np.ndarray:
    """(R,) true where the region's unit may belong to ``part`` (lock and eligibility)."""
    locked = problem.locked[region]
    group_ok = problem.unit_group[region] == problem.territory_group[part]
    return group_ok & ((locked < 0) | (locked == part))


def _in_band(problem: ProblemData, part: int, loads: np.ndarray) -> np.ndarray:
    """(C,) true where every measure of the row of ``loads`` lies in ``part``'s band."""
    tol = 1e-9 * np.maximum(np.abs(problem.upper[part]), 1.0)
    low, high = problem.lower[part] - tol, problem.upper[part] + tol
    return np.all((loads >= low) & (loads <= high), axis=1)
