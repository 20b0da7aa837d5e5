"""The named steps of :func:`territory_engine.quota.allocate`, on small hand-made arrays."""

from __future__ import annotations

import numpy as np

from territory_engine.quota import caps as capsmod
from territory_engine.quota.allocate import (
    _adjustments,
    _caps_applied,
    _dollar_bounds,
    _period_ramp,
    _ramped_pool,
)

INF = np.inf


# --------------------------------------------------------------------------- ramp per pool


def test_respread_keeps_the_pool_target_and_holds_nothing():
    # r·raw = [100, 300]; t = 1000 · [100, 300] / 400
    t, held, assigned = _ramped_pool(
        np.array([500.0, 500.0]), np.array([0.2, 0.6]), 1000.0, hold_back=False, unit=1.0
    )
    np.testing.assert_allclose(t, [250.0, 750.0])
    assert held.tolist() == [0.0, 0.0]
    assert assigned == 1000.0


def test_respread_with_nobody_carrying_anything_keeps_the_raw_quotas():
    t, _, assigned = _ramped_pool(
        np.array([400.0, 600.0]), np.zeros(2), 1000.0, hold_back=False, unit=1.0
    )
    assert t.tolist() == [400.0, 600.0]
    assert assigned == 1000.0


def test_hold_back_leaves_the_shortfall_unassigned_in_whole_units():
    # held = raw − r·raw = [375, 0] -> 375 rounds to 400 in units of 100
    t, held, assigned = _ramped_pool(
        np.array([500.0, 500.0]), np.array([0.25, 1.0]), 1000.0, hold_back=True, unit=100.0
    )
    assert t.tolist() == [125.0, 500.0]
    assert held.tolist() == [375.0, 0.0]
    assert assigned == 600.0


# --------------------------------------------------------------------------- bounds in dollars


def test_dollar_bounds_read_none_as_infinite():
    bounds = capsmod.quota_bounds(
        capsmod.QuotaCapsConfig(growth_max=0.1),
        last_year_quota=np.array([1000.0, 0.0]),
        potential=np.array([5000.0, 5000.0]),
        ramp=np.ones(2),
        unit=100.0,
    )
    lo, hi = _dollar_bounds(bounds)
    assert lo.tolist() == [0.0, 0.0]  # the zero floor
    assert hi.tolist() == [1100.0, INF]  # +10 % on 1,000; no last-year quota, no ceiling


# --------------------------------------------------------------------------- which caps bind


def test_caps_applied_names_the_bound_hit_and_the_quotas_absorbing():
    t = np.array([1500.0, 100.0, 150.0, 500.0])
    q = np.array([1000.0, 300.0, 200.0, 500.0])
    lo = np.array([0.0, 300.0, 0.0, 0.0])
    hi = np.array([1000.0, INF, 200.0, INF])
    lower = np.array(["non_negative", "growth_min", "non_negative", "non_negative"], dtype=object)
    upper = np.array(["growth_max", "", "potential_ceiling", ""], dtype=object)
    out = _caps_applied(t, q, lo, hi, lower, upper)
    # 0 is capped at its growth ceiling, 1 raised to its growth floor; 2 was within its
    # bounds but takes up 50 of what 0 shed and stops at its own ceiling; 3 is unmoved.
    assert out.name.tolist() == ["growth_max", "growth_min", capsmod.RESPREAD, ""]
    assert out.absorbing.tolist() == [False, False, True, False]
    assert out.stopped_at.tolist() == ["", "", "potential_ceiling", ""]


def test_a_move_under_half_a_dollar_is_no_cap():
    t = np.array([100.0, 200.0])
    q = np.array([100.4, 199.6])
    out = _caps_applied(t, q, np.zeros(2), np.full(2, INF), np.array(["", ""]), np.array(["", ""]))
    assert out.name.tolist() == ["", ""]
    assert not out.absorbing.any()


# --------------------------------------------------------------------------- adjustments


def test_adjustments_add_up_to_the_quota_in_whole_cents():
    raw = np.array([333.333, 666.667])
    t = np.array([300.004, 699.996])
    q = np.array([300.004, 699.996])
    cents = np.array([30000, 70000], dtype=np.int64)
    adj = _adjustments(raw, t, q, cents)
    assert adj.raw_cents.tolist() == [33333, 66667]
    assert adj.ramp.tolist() == [-33.33, 33.33]
    assert adj.cap.tolist() == [0.0, 0.0]
    assert adj.rounding.tolist() == [0.0, 0.0]
    total = adj.raw_cents + np.round((adj.ramp + adj.cap + adj.rounding) * 100).astype(np.int64)
    assert total.tolist() == cents.tolist()


# --------------------------------------------------------------------------- period ramp


def test_period_ramp_is_the_share_weighted_ramp_of_each_quarter():
    shares = np.full((1, 12), 1 / 12)
    f = np.array([[0, 0, 0, 0.5, 0.5, 0.5, 1, 1, 1, 1, 1, 1.0]])
    out = _period_ramp(shares, shares * f, "quarter")
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0, 1.0]])
    monthly = _period_ramp(shares, shares * f, "month")
    np.testing.assert_allclose(monthly, f)


def test_period_ramp_of_a_period_without_seasonal_share_is_zero_not_nan():
    shares = np.array([[0.0] * 3 + [1 / 9] * 9])
    out = _period_ramp(shares, shares * np.ones((1, 12)), "quarter")
    np.testing.assert_allclose(out, [[0.0, 1.0, 1.0, 1.0]])
