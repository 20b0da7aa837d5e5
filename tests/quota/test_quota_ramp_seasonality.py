"""Ramp of new hires (both shortfall modes), seasonality splits, regional targets."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from territory_engine.config.scenario import QuotaConfig
from territory_engine.errors import InfeasibleError, ScenarioError
from territory_engine.quota import QuotaInputs, allocate
from territory_engine.quota.hierarchy import pools, territory_regions
from territory_engine.quota.ramp import monthly_factors, months_in_seat
from territory_engine.quota.seasonality import (
    history_shares,
    monthly_shares,
    period_starts,
    split_quotas,
)

PLAN_START = date(2027, 1, 1)
QUARTERLY = [0.25, 0.5, 0.75, 1.0]


def two_reps(start=("2027-01-01", "2010-01-01"), segment=("smb", "smb"), **extra) -> QuotaInputs:
    return QuotaInputs(
        territory_id=["T0", "T1"],
        rep_id=["R0", "R1"],
        history=np.array([1.0, 1.0]),
        potential=np.array([1.0, 1.0]),
        capacity=np.array([1.0, 1.0]),
        last_year_revenue_total=2.0,
        start_date=np.array(start, dtype=object),
        segment=np.array(segment, dtype=object),
        **extra,
    )


def ramp_cfg(shortfall="respread", target=1200.0, **extra) -> QuotaConfig:
    return QuotaConfig(
        method="flat",
        target=target,
        rounding=1,
        plan_start=PLAN_START,
        ramp={"schedule": QUARTERLY, "shortfall": shortfall},
        **extra,
    )


# --------------------------------------------------------------------------- ramp


def test_months_in_seat_counts_whole_months():
    months = months_in_seat(
        ["2026-01-13", "2026-04-13", "2027-01-01", "2027-03-01", None], PLAN_START
    )
    assert months[:4].tolist() == [11, 8, 0, -2]
    assert months[4] == np.inf  # no start date: long in seat


def test_monthly_factors_follow_the_quarter_in_seat():
    f = monthly_factors(np.array([0.0, 11.0, -2.0]), [QUARTERLY] * 3)
    assert f[0].tolist() == [0.25] * 3 + [0.5] * 3 + [0.75] * 3 + [1.0] * 3
    assert f[1].tolist() == [1.0] * 12  # 11 months in: 4th quarter of tenure from month 0
    # starts two months into the plan year: nothing, then the schedule
    assert f[2].tolist() == [0, 0, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 1.0]


def test_ramp_respread_keeps_the_target():
    # flat raw = [600, 600]; R0 starts at the plan start: r = 0.625, R1 is ramped.
    # t = 1200 · [375, 600] / 975 = [461.54, 738.46] -> $1 rounding -> [462, 738].
    res = allocate(ramp_cfg("respread"), two_reps())
    out = res.quotas
    assert out["ramp_factor"].tolist() == [0.625, 1.0]
    assert out["quota"].tolist() == [462, 738]
    assert out["quota"].sum() == 1200
    assert res.summary["held_back"] == 0
    assert "ramped to 62 % (0 months in seat at plan start)" in out["explanation"][0]
    assert "re-spread from ramping new hires" in out["explanation"][1]


def test_ramp_hold_back_keeps_the_shortfall_unassigned():
    # t = r · raw = [375, 600]; 225 held back; quotas sum to 975.
    res = allocate(ramp_cfg("hold_back"), two_reps())
    out = res.quotas
    assert out["quota"].tolist() == [375, 600]
    assert out["held_back"].tolist() == [225, 0]
    assert res.summary["held_back"] == 225
    assert res.summary["assigned"] + res.summary["held_back"] == 1200
    assert "$225 held back" in out["explanation"][0]


def test_ramp_schedule_by_segment_overrides_the_default():
    config = QuotaConfig(
        method="flat",
        target=1200.0,
        rounding=1,
        plan_start=PLAN_START,
        ramp={
            "schedule": [1.0],
            "by_segment": {"enterprise": [0.5, 1.0]},
            "shortfall": "hold_back",
        },
    )
    out = allocate(config, two_reps(segment=("enterprise", "smb"))).quotas
    # enterprise: 0.5 for months 0-2, then 1 -> r = (3 · 0.5 + 9) / 12 = 0.875
    assert out["ramp_factor"].tolist() == [0.875, 1.0]
    assert out["quota"].tolist() == [525, 600]


def test_ramp_needs_a_plan_start():
    with pytest.raises(ValidationError, match=r"quota\.ramp needs quota\.plan_start"):
        QuotaConfig(ramp={"schedule": QUARTERLY})


def test_ramp_shares_must_lie_in_zero_one():
    with pytest.raises(ValidationError, match=r"shares in \[0, 1\]"):
        QuotaConfig(plan_start=PLAN_START, ramp={"schedule": [0.5, 1.5]})


def test_ramped_quota_is_split_with_the_ramp():
    # hold_back: R0 carries 375 = 600 · 0.625; by quarter its weights are 0.25/0.5/0.75/1
    # of a flat quarter: 375 · [0.1, 0.2, 0.3, 0.4] = [37.5, 75, 112.5, 150].
    res = allocate(ramp_cfg("hold_back"), two_reps())
    r0 = res.splits[res.splits["rep_id"] == "R0"]
    assert r0["ramp_factor"].tolist() == QUARTERLY
    assert r0["quota"].sum() == 375
    # 37.5 and 112.5 tie on the remainder: the earlier period takes the extra dollar.
    assert r0["quota"].tolist() == [38, 75, 112, 150]
    assert r0["period_start"].tolist() == ["2027-01-01", "2027-04-01", "2027-07-01", "2027-10-01"]


# --------------------------------------------------------------------------- seasonality


def test_profile_of_quarters_spreads_evenly_over_months():
    shares = monthly_shares([1, 1, 1, 2])
    np.testing.assert_allclose(shares, [0.2 / 3] * 9 + [0.4 / 3] * 3)
    np.testing.assert_allclose(monthly_shares(None), np.full(12, 1 / 12))
    assert monthly_shares(list(range(1, 13))).sum() == pytest.approx(1.0)


def test_profile_needs_four_or_twelve_numbers():
    with pytest.raises(ValidationError, match="4 \\(quarters\\) or 12 \\(months\\)"):
        QuotaConfig(seasonality={"profile": [1, 2, 3]})


def test_history_shares_fall_back_to_the_profile_without_history():
    monthly = np.array([[1.0] * 6 + [3.0] * 6, [0.0] * 12])
    shares = history_shares(monthly, np.full(12, 1 / 12))
    np.testing.assert_allclose(shares[0], [1 / 24] * 6 + [3 / 24] * 6)
    np.testing.assert_allclose(shares[1], np.full(12, 1 / 12))


def test_monthly_splits_from_history_source():
    config = QuotaConfig(
        method="flat",
        target=2400.0,
        rounding=1,
        seasonality={"period": "month", "source": "history"},
    )
    monthly = np.array([[0.0] * 11 + [1.0], [1.0] * 12])
    res = allocate(config, two_reps(monthly_history=monthly))
    r0 = res.splits[res.splits["rep_id"] == "R0"]["quota"].tolist()
    assert r0 == [0.0] * 11 + [1200.0]
    assert res.splits[res.splits["rep_id"] == "R1"]["quota"].tolist() == [100.0] * 12


def test_history_source_without_history_columns_is_a_scenario_error():
    config = QuotaConfig(method="flat", target=1.0, seasonality={"source": "history"})
    with pytest.raises(ScenarioError, match="revenue_m01"):
        allocate(config, two_reps())


def test_period_starts_follow_a_fiscal_year():
    assert period_starts("quarter", date(2027, 2, 1)) == [
        "2027-02-01",
        "2027-05-01",
        "2027-08-01",
        "2027-11-01",
    ]
    assert period_starts("month", None) == [""] * 12


@settings(max_examples=200, deadline=None)
@given(
    annual=st.lists(st.integers(0, 10**12), min_size=1, max_size=6),
    unit=st.sampled_from([1.0, 100.0, 1000.0]),
    period=st.sampled_from(["quarter", "month"]),
    seed=st.integers(0, 1000),
)
def test_every_split_sums_exactly_to_its_annual_quota(annual, unit, period, seed):
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0, 1, (len(annual), 12)) * (rng.random((len(annual), 12)) < 0.8)
    cents = split_quotas(np.array(annual, dtype=np.int64), weights, period, unit)
    assert cents.shape == (len(annual), 4 if period == "quarter" else 12)
    assert cents.sum(axis=1).tolist() == annual
    # every period but at most one per rep is a whole number of units
    assert np.all((cents % round(unit * 100) != 0).sum(axis=1) <= 1)


# --------------------------------------------------------------------------- regions


REGIONS = {
    "East": {
        "target": 600.0,
        "districts": {
            "Coast": {"members": ["NC", "SC"], "target": 250.0},
            "Inland": {"members": ["GA"]},
        },
    },
    "West": {"members": ["AL", "TN"]},
}


def region_inputs(keys) -> QuotaInputs:
    n = len(keys)
    return QuotaInputs(
        territory_id=[f"T{i}" for i in range(n)],
        rep_id=[f"R{i}" for i in range(n)],
        history=np.ones(n),
        potential=np.arange(1.0, n + 1),
        capacity=np.ones(n),
        last_year_revenue_total=float(n),
        region_key=np.array(keys, dtype=object),
    )


def test_regional_and_district_targets_are_met_exactly():
    config = QuotaConfig(method="potential", target=1000.0, rounding=1, regions=REGIONS)
    out = allocate(config, region_inputs(["NC", "SC", "GA", "GA", "AL", "TN"])).quotas
    by_pool = out.groupby("pool")["quota"].sum().to_dict()
    assert by_pool == {"district Coast": 250, "region East": 350, "company": 400}
    assert out.groupby("region")["quota"].sum().to_dict() == {"East": 600, "West": 400}
    assert out["district"].tolist() == ["Coast", "Coast", "Inland", "Inland", "", ""]
    assert out["quota"].sum() == 1000


def test_regional_targets_covering_every_region_set_the_company_target():
    regions = {
        "East": {"members": ["GA"], "target": 300.0},
        "West": {"members": ["AL"], "target": 200.0},
    }
    config = QuotaConfig(method="flat", rounding=1, regions=regions)
    res = allocate(config, region_inputs(["GA", "AL", "AL"]))
    assert res.summary["target"] == 500
    assert res.quotas["quota"].tolist() == [300, 100, 100]


def test_regional_targets_above_the_company_target_conflict():
    regions = {"East": {"members": ["GA"], "target": 900.0}, "West": {"members": ["AL"]}}
    config = QuotaConfig(method="flat", target=500.0, regions=regions)
    with pytest.raises(
        InfeasibleError,
        match=r"region and district targets sum to \$900, above the company target \$500",
    ):
        allocate(config, region_inputs(["GA", "AL"]))


def test_company_target_disagreeing_with_full_regional_targets_conflicts():
    regions = {
        "East": {"members": ["GA"], "target": 300.0},
        "West": {"members": ["AL"], "target": 200.0},
    }
    config = QuotaConfig(method="flat", target=600.0, regions=regions)
    with pytest.raises(InfeasibleError, match=r"leave \$100 of the company target \$600 to nobody"):
        allocate(config, region_inputs(["GA", "AL"]))


def test_a_region_target_without_territories_conflicts():
    regions = {"East": {"members": ["GA"], "target": 300.0}, "West": {"members": ["AL"]}}
    config = QuotaConfig(method="flat", target=600.0, regions=regions)
    with pytest.raises(
        InfeasibleError, match=r"region East has a target of \$300 but no territory"
    ):
        allocate(config, region_inputs(["AL", "AL"]))


def test_a_territory_outside_every_region_is_named_with_a_suggestion():
    config = QuotaConfig(method="flat", target=600.0, regions=REGIONS)
    with pytest.raises(
        ScenarioError,
        match=r"rep R1 \(T1\) has state 'MS', which is in no region",
    ):
        allocate(config, region_inputs(["GA", "MS"]))


def test_a_member_in_two_regions_is_a_config_error():
    with pytest.raises(ValidationError, match="'GA' is in both region 'A' and 'B'"):
        QuotaConfig(regions={"A": {"members": ["GA"]}, "B": {"members": ["GA"]}})


def test_pools_without_regions_is_the_whole_company():
    (pool,) = pools(QuotaConfig(), 10.0, *territory_regions(QuotaConfig(), np.array(["x"]), ["t"]))
    assert pool.name == "company" and pool.target == 10.0 and pool.members.tolist() == [0]


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 10),
    seed=st.integers(0, 10_000),
    shortfall=st.sampled_from(["respread", "hold_back"]),
    period=st.sampled_from(["quarter", "month"]),
)
def test_ramped_quotas_and_their_splits_sum_exactly(n, seed, shortfall, period):
    rng = np.random.default_rng(seed)
    months_ago = rng.integers(-6, 30, n)
    starts = [
        (pd.Timestamp(PLAN_START) - pd.DateOffset(months=int(m))).date().isoformat()
        for m in months_ago
    ]
    config = QuotaConfig(
        method="blended",
        target=float(np.round(rng.uniform(1e6, 1e8), 2)),
        rounding=1000,
        plan_start=PLAN_START,
        ramp={"schedule": QUARTERLY, "shortfall": shortfall},
        seasonality={"period": period, "profile": rng.uniform(0.5, 1.5, 4).tolist()},
    )
    data = QuotaInputs(
        territory_id=[f"T{i}" for i in range(n)],
        rep_id=[f"R{i}" for i in range(n)],
        history=rng.uniform(0, 1e6, n),
        potential=rng.uniform(1e5, 3e6, n),
        capacity=np.ones(n),
        last_year_revenue_total=1.0,
        start_date=np.array(starts, dtype=object),
    )
    res = allocate(config, data)
    cents = np.round(res.quotas["quota"].to_numpy() * 100).astype(np.int64)
    held = round(res.summary["held_back"] * 100)
    assert cents.sum() + held == round(config.target * 100)
    assert held == 0 if shortfall == "respread" else held >= 0
    split = np.round(res.splits["quota"].to_numpy() * 100).astype(np.int64)
    per = 4 if period == "quarter" else 12
    assert split.reshape(n, per).sum(axis=1).tolist() == cents.tolist()
    # months in seat at the plan start are what the start dates say
    np.testing.assert_array_equal(months_in_seat(starts, PLAN_START), months_ago)
