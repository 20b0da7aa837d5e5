"""Quota caps: each bound binding and not, the LP closest to the method, conflicts named.

Every example is small enough to compute by hand; the rounding unit is $1 so
the expected quotas are exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from territory_engine.config.scenario import QuotaConfig
from territory_engine.errors import InfeasibleError
from territory_engine.quota import QuotaInputs, allocate
from territory_engine.quota.caps import closest_allocation


def inputs(history=None, potential=None, last_quota=None, capacity=None, n=None) -> QuotaInputs:
    n = n or len(potential if potential is not None else history)
    return QuotaInputs(
        territory_id=[f"T{i}" for i in range(n)],
        rep_id=[f"R{i}" for i in range(n)],
        history=np.asarray(history if history is not None else np.ones(n), dtype=float),
        potential=np.asarray(potential if potential is not None else np.ones(n), dtype=float),
        capacity=np.asarray(capacity if capacity is not None else np.ones(n), dtype=float),
        last_year_revenue_total=1.0,
        last_year_quota=None if last_quota is None else np.asarray(last_quota, dtype=float),
    )


def cfg(method="potential", target=1000.0, **caps) -> QuotaConfig:
    return QuotaConfig(method=method, target=target, rounding=1, caps=caps)


# --------------------------------------------------------------------------- the LP


def test_lp_moves_the_capped_excess_to_the_others_in_proportion():
    # t = [500, 300, 200], q0 <= 400: 100 must go to the others. Σ|q - t| = 200 is
    # the least possible; spread in proportion to t: +60, +40.
    q = closest_allocation(
        np.array([500.0, 300.0, 200.0]),
        1000.0,
        np.full(3, -np.inf),
        np.array([400, np.inf, np.inf]),
    )
    np.testing.assert_allclose(q, [400, 360, 240], atol=1e-4)


def test_lp_with_a_floor_takes_from_the_others_in_proportion():
    # t = [100, 400, 500], q0 >= 200: the others give 100 as 400u + 500u = 100, u = 1/9.
    q = closest_allocation(
        np.array([100.0, 400.0, 500.0]),
        1000.0,
        np.array([200, -np.inf, -np.inf]),
        np.full(3, np.inf),
    )
    np.testing.assert_allclose(q, [200, 400 - 400 / 9, 500 - 500 / 9], atol=1e-4)


def test_lp_fills_the_others_up_to_their_own_caps_water_filling():
    # Proportional spread would give t1 = 360 > 310: t1 stops at 310, t2 takes the rest.
    q = closest_allocation(
        np.array([500.0, 300.0, 200.0]), 1000.0, np.full(3, -np.inf), np.array([400, 310, np.inf])
    )
    np.testing.assert_allclose(q, [400, 310, 290], atol=1e-4)
    assert np.abs(q - [500, 300, 200]).sum() == pytest.approx(200, abs=1e-4)  # still L1-optimal


# --------------------------------------------------------------------------- each cap


def test_growth_max_binds_and_the_excess_is_respread():
    # method potential: raw = [500, 300, 200]; R0's last quota 320, +25 % -> 400.
    out = allocate(
        cfg(growth_max=0.25), inputs(potential=[500, 300, 200], last_quota=[320, 0, 0])
    ).quotas
    assert out["quota"].tolist() == [400, 360, 240]
    assert out["caps_applied"].tolist() == ["growth_max", "absorbs_capped", "absorbs_capped"]
    assert out["cap_adjustment"].tolist() == [-100, 60, 40]
    assert "capped at +25 % growth on last year's quota of $320" in out["explanation"][0]
    assert "to balance quotas capped elsewhere" in out["explanation"][1]


def test_growth_max_not_binding_leaves_the_method():
    out = allocate(
        cfg(growth_max=0.25), inputs(potential=[500, 300, 200], last_quota=[420, 0, 0])
    ).quotas
    assert out["quota"].tolist() == [500, 300, 200]
    assert out["caps_applied"].tolist() == ["", "", ""]
    assert out["cap_high"][0] == 525  # 1.25 × 420, reported even when it does not bind


def test_growth_min_binds():
    # raw = [100, 400, 500]; floor 0.8 × 250 = 200; others give 100 in proportion:
    # 355.56 and 444.44, rounded to $1 with the total kept -> 356 and 444.
    out = allocate(
        cfg(growth_min=-0.2), inputs(potential=[100, 400, 500], last_quota=[250, 0, 0])
    ).quotas
    assert out["quota"].tolist() == [200, 356, 444]
    assert out["caps_applied"][0] == "growth_min"
    assert "raised to the -20 % growth floor on last year's quota of $250" in out["explanation"][0]


def test_growth_min_not_binding():
    out = allocate(
        cfg(growth_min=-0.2), inputs(potential=[100, 400, 500], last_quota=[120, 0, 0])
    ).quotas
    assert out["quota"].tolist() == [100, 400, 500]


def test_new_hires_without_last_year_quota_are_not_growth_capped():
    out = allocate(
        cfg(growth_min=0.0, growth_max=0.0), inputs(potential=[500, 500], last_quota=[0, 600])
    ).quotas
    assert out["quota"].tolist() == [400, 600]  # R1 held at 600 exactly; R0 free


def test_potential_floor_binds():
    # flat: raw = [100, 100, 100]; floor 0.5 × P = [200, 50, 50]: R0 up 100, the others
    # give 50 each and stop at their own floors.
    out = allocate(cfg("flat", 300, potential_floor=0.5), inputs(potential=[400, 100, 100])).quotas
    assert out["quota"].tolist() == [200, 50, 50]
    assert out["caps_applied"][0] == "potential_floor"
    assert "(down to your potential floor)" in out["explanation"][1]


def test_potential_floor_not_binding():
    out = allocate(cfg("flat", 300, potential_floor=0.1), inputs(potential=[400, 100, 100])).quotas
    assert out["quota"].tolist() == [100, 100, 100]


def test_potential_ceiling_binds():
    # flat: raw = [100, 100, 100]; ceiling 0.5 × P = [50, 200, 250]: R0 gives 50 to the others.
    out = allocate(
        cfg("flat", 300, potential_ceiling=0.5), inputs(potential=[100, 400, 500])
    ).quotas
    assert out["quota"].tolist() == [50, 125, 125]
    assert out["caps_applied"][0] == "potential_ceiling"
    assert "capped at 50 % of your territory's potential" in out["explanation"][0]


def test_potential_ceiling_not_binding():
    out = allocate(
        cfg("flat", 300, potential_ceiling=2.0), inputs(potential=[100, 400, 500])
    ).quotas
    assert out["quota"].tolist() == [100, 100, 100]


def test_a_quota_is_never_negative():
    # equitable growth below last year: S + (T − ΣS)/n = [100 − 250, 900 − 250] = [−150, 650].
    out = allocate(cfg("equitable_growth", 500), inputs(history=[100, 900])).quotas
    assert out["raw_quota"].tolist() == [-150, 650]
    assert out["quota"].tolist() == [0, 500]
    assert out["caps_applied"][0] == "non_negative"


def test_components_add_up_to_the_quota_to_the_cent():
    out = allocate(
        QuotaConfig(method="blended", target=1_234_567.89, rounding=1000, caps={"growth_max": 0.1}),
        inputs(history=[3e5, 2e5, 1e5], potential=[1e6, 2e6, 1e6], last_quota=[2e5, 0, 0]),
    ).quotas
    parts = out[["raw_quota", "ramp_adjustment", "cap_adjustment", "rounding_adjustment"]]
    cents = np.round(parts.to_numpy() * 100).astype(np.int64).sum(axis=1)
    assert cents.tolist() == np.round(out["quota"].to_numpy() * 100).astype(np.int64).tolist()
    assert out["quota"][0] <= 220_000


# --------------------------------------------------------------------------- conflicts


def test_growth_floor_above_potential_ceiling_names_the_rep_and_both_caps():
    with pytest.raises(InfeasibleError) as err:
        allocate(
            cfg(growth_min=-0.1, potential_ceiling=0.5),
            inputs(potential=[1000, 1000], last_quota=[1000, 0]),
        )
    message = str(err.value)
    assert "rep R0 (T0)" in message
    assert "the growth floor (-10 % on last year's quota $1,000 = $900)" in message
    assert "is above the potential ceiling (50 % of potential $1,000 = $500)" in message


def test_floors_above_the_target_say_so_with_a_breakdown():
    with pytest.raises(
        InfeasibleError,
        match=r"company: the quota floors sum to \$1,200, above the target \$1,000 "
        r"\(growth_min: 2 territories, \$1,200\)",
    ):
        allocate(cfg(growth_min=0.0), inputs(potential=[1, 1], last_quota=[600, 600]))


def test_ceilings_below_the_target_say_so():
    with pytest.raises(
        InfeasibleError, match=r"quota ceilings sum to \$600, below the target \$1,000"
    ):
        allocate(cfg(growth_max=0.0), inputs(potential=[1, 1], last_quota=[300, 300]))


def test_a_band_narrower_than_the_rounding_unit_is_named():
    with pytest.raises(InfeasibleError, match="no multiple of the rounding unit"):
        allocate(
            QuotaConfig(
                method="potential",
                target=2000.5,
                rounding=1,
                caps={"growth_min": 0.0001, "growth_max": 0.0004},
            ),
            inputs(potential=[1, 1], last_quota=[1000, 1000]),
        )


# --------------------------------------------------------------------------- properties


@st.composite
def capped_cases(draw):
    n = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    last = np.where(rng.random(n) < 0.8, rng.uniform(1e5, 1e6, n), 0.0)
    caps = {
        "growth_min": draw(st.sampled_from([None, -0.3, -0.1, 0.0])),
        "growth_max": draw(st.sampled_from([None, 0.0, 0.1, 0.5])),
        "potential_floor": draw(st.sampled_from([None, 0.05, 0.2])),
        "potential_ceiling": draw(st.sampled_from([None, 0.6, 1.5])),
    }
    if caps["growth_min"] is not None and caps["growth_max"] is not None:
        assume(caps["growth_min"] <= caps["growth_max"])
    target = float(np.round(last.sum() * rng.uniform(0.8, 1.3) + rng.uniform(1e5, 1e6), 2))
    return QuotaConfig(
        method=draw(st.sampled_from(["flat", "history", "potential", "blended"])),
        target=target,
        rounding=draw(st.sampled_from([1.0, 100.0, 1000.0])),
        caps=caps,
    ), inputs(
        history=rng.uniform(0, 1e6, n),
        potential=rng.uniform(5e5, 3e6, n),
        last_quota=last,
        capacity=rng.choice([0.5, 1.0], n),
    )


@settings(max_examples=150, deadline=None)
@given(capped_cases())
def test_caps_hold_and_the_sum_is_exact_or_the_conflict_is_named(case):
    config, data = case
    try:
        out = allocate(config, data).quotas
    except InfeasibleError as exc:
        assert any(
            phrase in str(exc)
            for phrase in ("floors sum to", "ceilings sum to", "is above", "no multiple")
        )
        return
    cents = np.round(out["quota"].to_numpy() * 100).astype(np.int64)
    assert cents.sum() == round(config.target * 100)
    q, caps = out["quota"].to_numpy(), config.caps
    last, pot = data.last_year_quota, data.potential
    has = last > 0
    assert np.all(q >= -1e-9)
    if caps.growth_min is not None:
        assert np.all(q[has] >= (1 + caps.growth_min) * last[has] - 0.005)
    if caps.growth_max is not None:
        assert np.all(q[has] <= (1 + caps.growth_max) * last[has] + 0.005)
    if caps.potential_floor is not None:
        assert np.all(q >= caps.potential_floor * pot - 0.005)
    if caps.potential_ceiling is not None:
        assert np.all(q <= caps.potential_ceiling * pot + 0.005)
