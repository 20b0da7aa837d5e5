"""Invariants of a plan, shared by the search tests."""

from __future__ import annotations

import numpy as np

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.data import ProblemData


def check_plan(p: ProblemData, a: np.ndarray) -> None:
    """Every unit assigned once, every band held, every part connected and non-empty."""
    k = p.n_territories
    a = np.asarray(a)
    assert a.shape == (p.n_units,) and a.min() >= 0 and a.max() < k
    for j in range(p.n_measures):
        loads = np.bincount(a, weights=p.weights[:, j], minlength=k)
        assert np.all(loads >= p.lower[:, j] - 1e-6) and np.all(loads <= p.upper[:, j] + 1e-6)
    assert pieces_per_territory(p.adjacency, a, k).tolist() == [1] * k
