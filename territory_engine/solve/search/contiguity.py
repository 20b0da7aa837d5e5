"""Contiguity repair of a rounded seed."""

from __future__ import annotations

from collections import deque

import numpy as np

from territory_engine.geo.pieces import territory_pieces
from territory_engine.problem.data import ProblemData
from territory_engine.solve.costs import CostModel


def repair_contiguity(problem: ProblemData, assign: np.ndarray, costs: CostModel) -> np.ndarray:
    """Make every territory one connected piece.

    Each territory keeps its main piece (the one holding the most locked units,
    then the most potential, then the lowest travel); every unit of another
    piece is handed, in breadth-first order from the kept pieces, to the
    cheapest neighbouring territory already reached. Locked units stay put
    even when that leaves a territory in pieces (the validator reports it).

    Parameters
    ----------
    problem
        The problem (its adjacency must be connected within each group).
    assign
        (n,) territory per unit; not modified.
    costs
        For the cost of handing a unit to a territory.

    Returns
    -------
    numpy.ndarray
        A new assignment whose territories are connected (except around
        scattered locks).
    """
    assign = assign.copy()
    labels = territory_pieces(problem.adjacency, assign)
    locked = problem.locked >= 0
    # Units without neighbours (exception units) are exempt from contiguity:
    # they neither count as a piece nor can be a territory's main piece.
    isolated = np.diff(problem.adjacency.indptr) == 0
    n_lab = labels.max() + 1
    lock_count = np.bincount(labels, weights=(locked & ~isolated).astype(float), minlength=n_lab)
    pot = np.bincount(labels, weights=problem.unit_potential, minlength=n_lab)
    size = np.bincount(labels, minlength=n_lab)
    # Never the main piece, however much potential an exception unit holds.
    iso_labels = np.unique(labels[isolated])
    size[iso_labels] = -1
    pot[iso_labels] = -np.inf
    lab_terr = np.full(n_lab, -1)
    lab_terr[labels] = assign
    # Main piece per territory: lexicographic (locks, potential, size), ties by label.
    order = np.lexsort((np.arange(n_lab), -size, -pot, -lock_count, lab_terr))
    main = np.zeros(n_lab, dtype=bool)
    seen_t: set[int] = set()
    for lab in order.tolist():
        t = int(lab_terr[lab])
        if t not in seen_t:
            seen_t.add(t)
            main[lab] = True
    good = main[labels] | locked | isolated
    if good.all():
        return assign
    indptr, indices = problem.adjacency.indptr, problem.adjacency.indices
    queue = deque(int(i) for i in np.flatnonzero(~good))
    # Breadth-first: an orphan is settled once a neighbour is settled.
    stall = 0
    while queue and stall <= len(queue):
        i = queue.popleft()
        if good[i]:
            continue
        nb = indices[indptr[i] : indptr[i + 1]]
        opts = np.unique(assign[nb[good[nb]]])
        if len(opts) == 0:
            queue.append(i)
            stall += 1
            continue
        stall = 0
        c = costs.assignment_cost(np.full(len(opts), i), opts)
        assign[i] = int(opts[int(np.argmin(c))])
        good[i] = True
    # Units still unsettled can only sit in a split group graph; they keep their territory.
    return assign
