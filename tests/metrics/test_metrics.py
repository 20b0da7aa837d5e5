"""Metric kernels on hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from territory_engine.metrics import (
    balance_index,
    coefficient_of_variation,
    disruption,
    gini,
    max_min_ratio,
    measure_balance,
)
from territory_engine.metrics.fair_share import fair_shares


def test_gini_known_values():
    assert gini(np.array([1, 1, 1, 1])) == pytest.approx(0.0)
    # one holder of everything among 4: (n-1)/n
    assert gini(np.array([0, 0, 0, 4])) == pytest.approx(0.75)
    # pairwise |diffs| for [1,2,3]: sum over ordered pairs = 8; G = 8 / (2*9*2) = 2/9
    assert gini(np.array([1, 2, 3])) == pytest.approx(2 / 9)


def test_cv_and_ratio():
    assert coefficient_of_variation(np.array([1.0, 3.0])) == pytest.approx(0.5)
    assert max_min_ratio(np.array([2.0, 5.0])) == pytest.approx(2.5)
    assert max_min_ratio(np.array([0.0, 5.0])) == float("inf")


def test_balance_index():
    assert balance_index(np.array([1.0, 1.0])) == pytest.approx(100.0)
    assert balance_index(np.array([0.9, 1.1])) == pytest.approx(90.0)
    assert balance_index(np.array([0.0, 3.0])) == pytest.approx(0.0)


def test_measure_balance_uses_fair_share():
    stats = measure_balance(np.array([50.0, 100.0]), np.array([50.0, 100.0]))
    assert stats["max_rel_dev"] == pytest.approx(0.0)
    assert stats["balance_index"] == pytest.approx(100.0)
    assert stats["mean"] == pytest.approx(75.0)


def test_fair_shares_by_group_and_capacity():
    values = np.array([[10.0], [30.0], [5.0]])
    acc_group = np.array([0, 0, 1])
    terr_group = np.array([0, 0, 1])
    fair = fair_shares(values, acc_group, terr_group, np.array([1.0, 0.5, 1.0]))
    np.testing.assert_allclose(fair[:, 0], [40 * 2 / 3, 40 / 3, 5.0])


def test_disruption_ignores_new_accounts():
    prev = np.array(["R1", "R1", "", "R2"])
    new = np.array(["R1", "R2", "R2", "R2"])
    d = disruption(prev, new, np.array([1.0, 2.0, 4.0, 8.0]))
    assert d["moved_accounts"] == 1
    assert d["moved_potential"] == pytest.approx(2.0)
    assert d["moved_potential_share"] == pytest.approx(2 / 15)
    assert d["reps_affected"] == 2
