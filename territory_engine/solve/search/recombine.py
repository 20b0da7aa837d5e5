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

With ``parts=3`` a step also takes a part ``u`` across a random edge leaving
``s ∪ t`` and redraws the three: in each random tree of ``R = s ∪ t ∪ u`` the tree
edge is found that cuts off a piece fitting one part's band (with the rest
fitting the sum of the other two bands) with the fewest edges, and the rest is
split between the other two as above, by the best of ``trees`` trees of it;
``Δ`` counts the edges between the three parts.

Where pair exchanges (:func:`~territory_engine.solve.search.anneal.swap_anneal`)
change a boundary by a unit or two, a recombination redraws it whole, which
gets out of the local minima those leave at tight bands (tract graphs at ±1 %).
The run is bounded by ``iterations`` and so gives one plan per seed on any
machine; a ``deadline`` only cuts it short (``stats["cut_short"]``). The steps
run compiled (:mod:`~territory_engine.solve.search.recombine_kernel`); the
deadline is checked between blocks of :data:`BLOCK` steps.
"""

from __future__ import annotations

import random
import time

import numpy as np
import scipy.sparse as sp

from territory_engine.problem import ProblemData
from territory_engine.problem.data import count_cut_edges

BLOCK = 512
"""Recombination steps per compiled call (the deadline is checked between)."""


def recombine_descent(
    problem: ProblemData,
    assign: np.ndarray,
    *,
    iterations: int,
    seed: int = 0,
    trees: int = 8,
    temperature: float = 0.0,
    parts: int = 2,
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
    parts
        Parts merged and redrawn per step: 2, or 3 (a third part across the
        pair's boundary; one piece cut off, the rest split in two).
    deadline
        ``time.perf_counter()`` value at which to stop early, or ``None``.

    Returns
    -------
    (numpy.ndarray, dict)
        The plan of fewest cut edges seen and statistics ``start_cut``,
        ``cut``, ``iterations``, ``accepted``, ``no_split`` (steps without an
        admissible split), ``cut_short``.
    """
    from territory_engine.solve.search import recombine_kernel as rk

    if parts not in (2, 3):
        raise ValueError(f"parts must be 2 or 3, not {parts}")
    plan = np.ascontiguousarray(assign, dtype=np.int64).copy()
    adjacency = sp.csr_matrix(problem.adjacency)
    indptr = adjacency.indptr.astype(np.int64)
    indices = adjacency.indices.astype(np.int64)
    src = np.repeat(np.arange(problem.n_units, dtype=np.int64), np.diff(indptr))
    upper_half = src < indices
    src, dst = src[upper_half], indices[upper_half]
    cut = int(count_cut_edges(adjacency, plan))
    tol = 1e-9 * np.maximum(np.abs(problem.upper), 1.0)
    state = random.Random(seed).getstate()[1]
    mt = np.array(state[:624], dtype=np.int64)
    ist = np.zeros(6, dtype=np.int64)
    ist[rk.R_MT_INDEX] = state[624]
    ist[rk.R_CUT] = ist[rk.R_BEST_CUT] = cut
    best = plan.copy()
    args = (
        indptr,
        indices,
        src,
        dst,
        plan,
        best,
        np.ascontiguousarray(problem.weights, dtype=np.float64),
        np.ascontiguousarray(problem.lower - tol, dtype=np.float64),
        np.ascontiguousarray(problem.upper + tol, dtype=np.float64),
        np.ascontiguousarray(problem.locked, dtype=np.int64),
        np.ascontiguousarray(problem.unit_group, dtype=np.int64),
        np.ascontiguousarray(problem.territory_group, dtype=np.int64),
        mt,
        ist,
    )
    cut_short = False
    while cut > 0 and ist[rk.R_STEPS] < iterations:
        if deadline is not None and time.perf_counter() > deadline:
            cut_short = True
            break
        want = min(BLOCK, iterations - int(ist[rk.R_STEPS]))
        ran = rk.recombine_block(*args, want, trees, float(temperature), parts)
        if ran < want:  # no cut edge left
            break
    stats = {
        "start_cut": cut,
        "cut": int(ist[rk.R_BEST_CUT]),
        "iterations": int(ist[rk.R_STEPS]),
        "accepted": int(ist[rk.R_ACCEPTED]),
        "no_split": int(ist[rk.R_NO_SPLIT]),
        "cut_short": cut_short,
    }
    return best, stats
