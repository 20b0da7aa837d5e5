"""Quota methods (hand-computed), exact rounding, and its invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territory_engine.config.scenario import QuotaConfig
from territory_engine.quota import QuotaInputs, allocate_quotas, raw_quotas, round_preserving_total

S = np.array([100.0, 300.0])  # last year's revenue per territory
P = np.array([400.0, 600.0])  # potential
C = np.array([1.0, 1.0])


def test_flat():
    q, _, _ = raw_quotas("flat", 1000.0, S, P, C)
    np.testing.assert_allclose(q, [500, 500])


def test_flat_scales_by_capacity():
    q, _, _ = raw_quotas("flat", 900.0, S, P, np.array([0.5, 1.0]))
    np.testing.assert_allclose(q, [300, 600])


def test_history():
    q, h, p = raw_quotas("history", 1000.0, S, P, C)
    np.testing.assert_allclose(q, [250, 750])
    np.testing.assert_allclose(h, [1, 1])
    np.testing.assert_allclose(p, [0, 0])


def test_equitable_growth():
    # S + (T - ΣS)/n = 100 + 300, 300 + 300
    q, _, _ = raw_quotas("equitable_growth", 1000.0, S, P, C)
    np.testing.assert_allclose(q, [400, 600])


def test_potential():
    q, _, _ = raw_quotas("potential", 1000.0, S, P, C)
    np.testing.assert_allclose(q, [400, 600])


def test_blended():
    # 1000 * (0.5 * [0.25, 0.75] + 0.5 * [0.4, 0.6]) = [325, 675]
    q, h, p = raw_quotas("blended", 1000.0, S, P, C, history_weight=0.5)
    np.testing.assert_allclose(q, [325, 675])
    np.testing.assert_allclose(h, [125 / 325, 375 / 675])
    np.testing.assert_allclose(h + p, [1, 1])


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown quota method"):
        raw_quotas("magic", 1.0, S, P, C)


def test_rounding_keeps_total_and_unit():
    cents = round_preserving_total(np.array([333_333.3, 333_333.3, 333_333.4]), 1000, 1_000_000)
    assert cents.sum() == 100_000_000
    assert all(c % 100_000 == 0 for c in cents)
    assert sorted(cents.tolist()) == [33_300_000, 33_300_000, 33_400_000]


def test_rounding_total_not_multiple_of_unit_is_still_exact():
    cents = round_preserving_total(np.array([1.4, 1.4, 1.4, 1.85]), 1, 6.05)
    assert cents.sum() == 605


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(0, 1e7, allow_nan=False), min_size=1, max_size=30),
    unit=st.sampled_from([1.0, 100.0, 1000.0]),
    extra=st.floats(-1e5, 1e5, allow_nan=False),
)
def test_rounding_sum_is_exact(values, unit, extra):
    v = np.array(values)
    total = round(float(v.sum() + extra), 2)
    cents = round_preserving_total(v, unit, total)
    assert int(cents.sum()) == round(total * 100)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(0, 1e7, allow_nan=False), min_size=1, max_size=30))
def test_rounding_moves_each_value_less_than_one_unit(values):
    v = np.array(values)
    total = float(np.round(v.sum() / 1000) * 1000)  # a whole number of units
    cents = round_preserving_total(v, 1000, total)
    assert np.all(np.abs(cents / 100 - v) < 1000 + 1e-6)
    assert np.all(cents % 100_000 == 0)


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 20),
    method=st.sampled_from(["flat", "history", "equitable_growth", "potential", "blended"]),
    seed=st.integers(0, 10_000),
)
def test_allocation_sums_to_target_to_the_cent(n, method, seed):
    rng = np.random.default_rng(seed)
    inputs = QuotaInputs(
        territory_id=[f"T{i}" for i in range(n)],
        rep_id=[f"R{i}" for i in range(n)],
        history=rng.uniform(0, 1e6, n),
        potential=rng.uniform(1, 3e6, n),
        capacity=rng.choice([0.5, 0.8, 1.0], n),
        last_year_revenue_total=1.0,
    )
    target = float(np.round(rng.uniform(1e6, 1e8), 2))
    out = allocate_quotas(QuotaConfig(method=method, target=target, rounding=1000), inputs)
    assert round(out["quota"].sum() * 100) == round(target * 100)
    assert out["explanation"].str.len().min() > 10


def test_growth_target_from_last_year():
    inputs = QuotaInputs(["T1", "T2"], ["R1", "R2"], S, P, C, last_year_revenue_total=400.0)
    out = allocate_quotas(QuotaConfig(method="history", growth=0.5, rounding=1), inputs)
    assert out["quota"].sum() == pytest.approx(600.0)
    assert out["quota"].tolist() == [150.0, 450.0]


def test_equitable_growth_shares_growth_by_capacity():
    # growth T − ΣS = 600, split 1 : 2 by FTE -> [100 + 200, 300 + 400]
    q, _, _ = raw_quotas("equitable_growth", 1000.0, S, P, np.array([0.5, 1.0]))
    np.testing.assert_allclose(q, [300, 700])


def test_history_without_any_revenue_falls_back_to_capacity_shares():
    q, _, _ = raw_quotas("history", 1000.0, np.zeros(2), P, np.array([1.0, 3.0]))
    np.testing.assert_allclose(q, [250, 750])


def test_blended_sentence_names_both_shares():
    inputs = QuotaInputs(["T1", "T2"], ["R1", "R2"], S, P, C, last_year_revenue_total=400.0)
    out = allocate_quotas(QuotaConfig(method="blended", target=1000, rounding=1), inputs)
    # T1: 125 from history, 200 from potential of 325 -> 62 % / 38 %
    assert out["explanation"][0] == (
        "62 % from your territory's potential, 38 % from last year's revenue of your "
        "accounts; rounded to $1 (+$0)."
    )
    assert out["method_share_pct"].tolist() == [32.5, 67.5]
