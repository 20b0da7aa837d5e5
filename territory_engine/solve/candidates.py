"""Candidate territories per unit: the pruning that keeps the solver linear in n."""

from __future__ import annotations

import numpy as np

from territory_engine.problem.data import ProblemData


def nearest_candidates(problem: ProblemData, centres: np.ndarray, q: int) -> list[np.ndarray]:
    """The ``q`` nearest eligible territories of each unit, plus its current and locked one.

    With a relationship weight, also every eligible territory whose rep is close
    to one of the unit's accounts (``ProblemData.affinity``), for units that
    contiguity does not bind.

    Parameters
    ----------
    problem
        The problem.
    centres
        (k, 2) lon/lat of territory centres.
    q
        How many nearest territories a unit considers.

    Returns
    -------
    list of numpy.ndarray
        ``cands[i]``: sorted territory indices unit ``i`` may take in the seed.
        A locked unit has only its lock.
    """
    n = problem.n_units
    cands: list[np.ndarray] = [np.empty(0, dtype=int)] * n
    # With a relationship term, the reps who know a unit's accounts are candidates too,
    # however far they live; under contiguity only for units exempt from it (a far
    # territory could not hold a county without a corridor to it).
    close = None
    if problem.affinity is not None and problem.objective_weights.get("relationships", 0.0) > 0:
        close = problem.affinity.tocsr()
    free = ~problem.contiguity | (np.diff(problem.adjacency.indptr) == 0)
    for g in np.unique(problem.unit_group):
        units = np.flatnonzero(problem.unit_group == g)
        terr = np.flatnonzero(problem.territory_group == g)
        if len(terr) == 0:
            continue
        take = min(q, len(terr))
        # Never the whole (units, territories) matrix: GBs at national scale.
        nearest = None
        if take < len(terr):
            nearest = problem.nearest_centres(centres, units, take, terr)[0]
        for row, i in enumerate(units):
            if problem.locked[i] >= 0:
                cands[i] = np.array([problem.locked[i]])
                continue
            chosen = terr if nearest is None else terr[nearest[row]]
            cur = problem.current[i]
            if cur >= 0 and problem.territory_group[cur] == g:
                chosen = np.append(chosen, cur)
            if close is not None and free[i]:
                near = close.indices[close.indptr[i] : close.indptr[i + 1]]
                chosen = np.append(chosen, near[problem.territory_group[near] == g])
            cands[i] = np.unique(chosen)
    return cands
