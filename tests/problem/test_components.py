"""Components of a split unit graph: the parts each can hold, and the one message."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from territory_engine.problem.arrays import problem_from_arrays
from territory_engine.problem.diagnose import (
    allocate_parts,
    component_capacities,
    component_message,
    diagnose,
)


def _two_lines(weights: list[float], split: int, k: int, tolerance: float):
    """Units on two lines (0..split-1 and split..n-1), ``k`` territories."""
    n = len(weights)
    edges = [(i, i + 1) for i in range(n - 1) if i + 1 != split]
    rows, cols = zip(*edges, strict=True)
    adjacency = sp.csr_matrix(([True] * len(edges), (rows, cols)), shape=(n, n))
    xy = np.column_stack([np.arange(n) * 0.1, np.zeros(n)])
    return problem_from_arrays(
        np.array(weights, dtype=float)[:, None],
        xy,
        adjacency,
        n_territories=k,
        tolerance=tolerance,
        contiguity=True,
        measure_names=["pop"],
    )


def _labels(problem):
    return connected_components(problem.adjacency, directed=False)[1]


def test_capacities_are_the_whole_numbers_of_bands_each_weight_fits():
    # Weights 60 and 40 in 5 parts of 20 ± 10 %: [ceil(60/22), floor(60/18)] = [3, 3]
    # and [ceil(40/22), floor(40/18)] = [2, 2].
    p = _two_lines([10.0] * 6 + [10.0] * 4, split=6, k=5, tolerance=0.1)
    caps = component_capacities(p, _labels(p))
    assert [(c.low, c.high) for c in caps] == [(3, 3), (2, 2)]
    assert allocate_parts(caps, 5) == [3, 2]
    assert component_message(p, _labels(p)) is None
    assert diagnose(p) == []


def test_allocation_follows_the_shares_within_the_ranges():
    # 80 and 20 in 4 parts of 25 ± 30 %: ranges [3, 4] and [1, 1]; 3 + 1 = 4.
    p = _two_lines([10.0] * 8 + [10.0] * 2, split=8, k=4, tolerance=0.3)
    caps = component_capacities(p, _labels(p))
    assert [(c.low, c.high) for c in caps] == [(3, 4), (1, 1)]
    assert allocate_parts(caps, 4) == [3, 1]


def test_a_piece_that_holds_no_territory_is_named_by_the_diagnosis():
    # 95 and 5 in 2 territories of 50 ± 5 %: the small piece holds none, though
    # there are no more pieces than territories. (A unit without neighbours would be
    # exempt from contiguity: the small piece has two.)
    p = _two_lines([19.0] * 5 + [2.5, 2.5], split=5, k=2, tolerance=0.05)
    caps = component_capacities(p, _labels(p))
    assert caps[1].low > caps[1].high
    assert allocate_parts(caps, 2) is None
    (reason,) = diagnose(p)
    assert reason == (
        "contiguity is on but the unit graph of segment 'all' falls apart into 2 "
        "components that cannot each hold a whole number of the 2 territories (each within "
        "pop 48–52): 5 units (0, 1, 2, …), pop 95: holds 2 territories; 2 units (5, 6), pop 5: "
        "holds no territory; join the pieces (adjacency) or turn contiguity off"
    )


def test_ranges_that_cannot_add_up_are_reported_with_their_sum():
    # Three pieces of 10 in 2 parts of 15 ± 50 %: each holds exactly 1 part, 3 in all.
    p = _two_lines([5.0] * 6, split=2, k=2, tolerance=0.5)
    adjacency = sp.csr_matrix(([True] * 3, ([0, 2, 4], [1, 3, 5])), shape=(6, 6))
    labels = connected_components(adjacency, directed=False)[1]
    caps = component_capacities(p, labels)
    assert [(c.low, c.high) for c in caps] == [(1, 1)] * 3
    assert allocate_parts(caps, 2) is None
    message = component_message(p, labels, what="g.json", unit="node", fix="join them")
    assert message is not None
    assert "3 components" in message and "(together 3 parts, not 2); join them" in message
