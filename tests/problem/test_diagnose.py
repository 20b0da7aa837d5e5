"""Diagnostics before solving: every cause, in a fixed order, on a hand-made problem."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from territory_engine.problem.arrays import problem_from_arrays
from territory_engine.problem.diagnose import diagnose


def test_diagnose_reports_each_cause_once_in_order():
    # Six units on a line in three connected pairs {0,1} {2,3} {4,5}, two territories.
    # Unit 5 alone holds 20 of potential 25 (band high 13.75); the accounts bands ask
    # for at least 4 + 4 of 6 accounts; units 4 and 5 are locked to T0; their owners
    # move potential 23 against a cap of 5.
    xy = np.column_stack([np.arange(6) * 0.1, np.zeros(6)])
    weights = np.column_stack([[1.0, 1.0, 1.0, 1.0, 1.0, 20.0], np.ones(6)])
    adjacency = sp.csr_matrix(([True] * 3, ([0, 2, 4], [1, 3, 5])), shape=(6, 6))
    problem = problem_from_arrays(
        weights,
        xy,
        adjacency,
        centres=xy[[0, 3]],
        tolerance=0.1,
        locked=np.array([-1, -1, -1, -1, 0, 0]),
        contiguity=True,
        measure_names=["potential", "accounts"],
    )
    lower, upper = problem.lower.copy(), problem.upper.copy()
    lower[:, 1], upper[:, 1] = 4.0, 5.0
    owned = sp.csr_matrix(np.array([[1.0, 0], [1, 0], [0, 1], [0, 1], [0, 3], [0, 20]]))
    problem = dataclasses.replace(
        problem, lower=lower, upper=upper, owned_potential=owned, max_moved_potential=5.0
    )
    assert diagnose(problem) == [
        "unit 5 alone holds potential 20, 1.6x the per-territory target and above every "
        "band's high (14); use a finer geography or raise the tolerance",
        "segment 'all': total accounts 6 is below the sum of the territories' lows (8); "
        "lower the bands or remove territories",
        "contiguity is on but the unit graph of segment 'all' falls apart into 3 pieces for "
        "2 territories; join the pieces (adjacency) or turn contiguity off",
        "the units locked to T0 already hold potential 21, above its band's high 14; "
        "unlock some or widen the band",
        "the locks alone move potential 23 to new owners, above the disruption cap 5",
    ]


def test_diagnose_finds_nothing_on_a_feasible_problem():
    xy = np.column_stack([np.arange(4) * 0.1, np.zeros(4)])
    adjacency = sp.csr_matrix(([True] * 3, ([0, 1, 2], [1, 2, 3])), shape=(4, 4))
    problem = problem_from_arrays(np.ones(4), xy, adjacency, centres=xy[[0, 3]], tolerance=0.1)
    assert diagnose(problem) == []


def test_a_group_with_accounts_and_no_territory_is_named():
    xy = np.column_stack([np.arange(4) * 0.1, np.zeros(4)])
    problem = problem_from_arrays(np.ones(4), xy, None, centres=xy[[0, 1]], tolerance=0.5)
    problem = dataclasses.replace(
        problem, unit_group=np.array([0, 0, 1, 1]), group_names=("enterprise", "smb")
    )
    assert diagnose(problem) == ["segment 'smb' has accounts but no eligible territory"]
