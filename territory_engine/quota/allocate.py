"""Allocate the company target to territories: method, ramp, caps, rounding, explanation.

The steps, for each pool of territories that must sum to a target ``A``
(the company, or a region or district with its own target; see
:mod:`~territory_engine.quota.hierarchy`):

1. **Method** (:mod:`~territory_engine.quota.methods`): raw quotas ``raw_i``
   summing to ``A``.
2. **Ramp** (:mod:`~territory_engine.quota.ramp`): each rep's annual ramp
   factor ``r_i = Σ_k s_k f_k``. ``respread``: ``t_i = A · r_i raw_i / Σ_j r_j raw_j``
   (the target is still met); ``hold_back``: ``t_i = r_i raw_i`` and the pool
   carries ``A' = A − H`` with ``H = Σ (1 − r_i) raw_i`` held back (rounded to
   the unit).
3. **Caps** (:mod:`~territory_engine.quota.caps`): when some ``t_i`` breaks its
   bounds, the LP closest to ``t`` that meets every bound and ``Σ q = A'``.
4. **Rounding** (:mod:`~territory_engine.quota.rounding`): multiples of the
   unit, inside the bounds, summing to ``A'`` exactly in cents.
5. **Seasonality** (:mod:`~territory_engine.quota.seasonality`): each annual
   quota split into periods that sum to it exactly.

Every quota is explained by ``quota = raw_quota + ramp_adjustment +
cap_adjustment + rounding_adjustment`` (exact in cents) and by a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territory_engine.config.scenario import QuotaCapsConfig, QuotaConfig
from territory_engine.display.numbers import money, percent
from territory_engine.errors import ScenarioError
from territory_engine.metrics.attainment import AttainmentModel
from territory_engine.quota import caps as capsmod
from territory_engine.quota.hierarchy import Pool, covered_total, pools, territory_regions
from territory_engine.quota.methods import raw_quotas
from territory_engine.quota.ramp import describe_ramp, monthly_factors, months_in_seat
from territory_engine.quota.rounding import round_within_bounds
from territory_engine.quota.seasonality import (
    history_shares,
    monthly_shares,
    period_labels,
    period_starts,
    split_quotas,
)

QUOTA_COLUMNS = [
    "territory_id",
    "rep_id",
    "quota",
    "method",
    "region",
    "district",
    "pool",
    "pool_target",
    "capacity_fte",
    "raw_quota",
    "method_share_pct",
    "history_share_pct",
    "potential_share_pct",
    "ramp_factor",
    "ramp_adjustment",
    "held_back",
    "cap_low",
    "cap_high",
    "caps_applied",
    "cap_adjustment",
    "rounding_adjustment",
    "last_year_quota",
    "growth_vs_last_year_pct",
    "territory_potential",
    "territory_last_year_revenue",
    "quota_to_potential",
    "explanation",
]
"""Columns of ``quotas.csv``, in order."""

SPLIT_COLUMNS = ["territory_id", "rep_id", "period", "period_start", "quota", "ramp_factor"]
"""Columns of ``quota_splits.csv``, in order."""


@dataclass(frozen=True)
class QuotaInputs:
    """Per-territory inputs of the quota allocation.

    Attributes
    ----------
    territory_id, rep_id
        (n,) labels (``rep_id`` "" for a territory without a rep).
    history
        (n,) ``S_i``: last year's revenue of the accounts now in each territory.
    potential
        (n,) ``P_i``: potential of each territory.
    capacity
        (n,) rep capacity (FTE).
    last_year_revenue_total
        Sum of last year's revenue over all accounts (for a growth target).
    last_year_quota
        (n,) the rep's last-year quota ``L_i`` (0 for none), for growth caps.
    start_date
        (n,) the rep's start date (``None``/NaT for none), for the ramp.
    segment
        (n,) the rep's segment, for per-segment ramp schedules.
    region_key
        (n,) value of ``quota.region_key`` for each territory (e.g. its rep's
        home state), needed when the scenario has ``quota.regions``.
    monthly_history
        (n, 12) last year's revenue per plan month, for ``seasonality.source: history``.
    forecast
        (n,) the plan year's revenue forecast of each territory, for
        ``method: forecast`` (:func:`territory_engine.org.forecast.plan.plan_forecast`).
    """

    territory_id: list[str]
    rep_id: list[str]
    history: np.ndarray
    potential: np.ndarray
    capacity: np.ndarray
    last_year_revenue_total: float
    last_year_quota: np.ndarray | None = None
    start_date: np.ndarray | None = None
    segment: np.ndarray | None = None
    region_key: np.ndarray | None = None
    monthly_history: np.ndarray | None = None
    forecast: np.ndarray | None = None


@dataclass(frozen=True)
class QuotaResult:
    """What :func:`allocate` produces.

    Attributes
    ----------
    quotas
        ``quotas.csv``: :data:`QUOTA_COLUMNS`.
    splits
        ``quota_splits.csv``: :data:`SPLIT_COLUMNS`, one row per territory and period.
    summary
        Plan-level facts for ``scorecard.json`` (target, held back, pools, caps binding).
    ramp_factor
        (n,) annual ramp factor of each territory's rep.
    attainment
        The expected-attainment model for the scorecard, when built for a plan
        (see :func:`territory_engine.quota.inputs.plan_quotas`).
    """

    quotas: pd.DataFrame
    splits: pd.DataFrame
    summary: dict
    ramp_factor: np.ndarray = field(default_factory=lambda: np.zeros(0))
    attainment: AttainmentModel | None = None


def company_target(cfg: QuotaConfig, inputs: QuotaInputs, change: float = 0.0) -> float:
    """The target ``T``.

    ``cfg.target`` when given; else the sum of the regional targets when they
    cover every region; else ``(1 + growth)`` × last year's total revenue, or,
    with ``method: forecast``, ``stretch`` × the plan year's total forecast.
    A what-if's ``whatif.target_change`` ``x`` (``change``) then scales it to
    ``T · (1 + x)``; ``x = 0`` leaves it exactly as it was. (:func:`allocate`
    scales the region and district targets by the same factor.)
    """
    if cfg.target is not None:
        base = float(cfg.target)
    elif (covered := covered_total(cfg)) is not None:
        base = covered
    elif cfg.method == "forecast":
        base = float(cfg.stretch * np.clip(_forecast(inputs), 0.0, None).sum())
    else:
        base = float((1 + cfg.growth) * inputs.last_year_revenue_total)
    return base * (1.0 + change) if change else base


def _forecast(inputs: QuotaInputs) -> np.ndarray:
    """(n,) the territories' forecasts; ``ScenarioError`` when there are none."""
    if inputs.forecast is None:
        raise ScenarioError(
            "quota.method 'forecast' needs the territories' forecasts: set data.history "
            "(account_id, month, revenue) and use 'territory-engine run' (the quota and "
            "score commands do not forecast)"
        )
    return np.asarray(inputs.forecast, dtype=float)


def _scaled_regions(cfg: QuotaConfig, change: float) -> QuotaConfig:
    """``cfg`` with every region and district target times ``1 + change``."""
    if not change or not cfg.regions:
        return cfg

    def scaled(target: float | None) -> float | None:
        return None if target is None else float(target) * (1.0 + change)

    regions = {
        name: reg.model_copy(
            update={
                "target": scaled(reg.target),
                "districts": {
                    d: dist.model_copy(update={"target": scaled(dist.target)})
                    for d, dist in reg.districts.items()
                },
            }
        )
        for name, reg in cfg.regions.items()
    }
    return cfg.model_copy(update={"regions": regions})


def allocate_quotas(cfg: QuotaConfig, inputs: QuotaInputs) -> pd.DataFrame:
    """``quotas.csv`` of :func:`allocate` (kept for callers that need only the table)."""
    return allocate(cfg, inputs).quotas


def _labels(inputs: QuotaInputs) -> list[str]:
    return [
        f"rep {r} ({t})" if r else f"territory {t}"
        for t, r in zip(inputs.territory_id, inputs.rep_id, strict=True)
    ]


def _seasonal_shares(cfg: QuotaConfig, inputs: QuotaInputs, n: int) -> np.ndarray:
    base = monthly_shares(cfg.seasonality.profile)
    if cfg.seasonality.source == "history":
        if inputs.monthly_history is None:
            raise ScenarioError(
                "quota.seasonality.source 'history' needs the accounts' monthly revenue "
                "columns revenue_m01 ... revenue_m12"
            )
        return history_shares(inputs.monthly_history, base)
    return np.tile(base, (n, 1))


def _ramp_factors(cfg: QuotaConfig, inputs: QuotaInputs, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 12) monthly ramp factors and (n,) months in seat at the plan start."""
    if cfg.ramp is None or inputs.start_date is None:
        return np.ones((n, 12)), np.full(n, np.inf)
    assert cfg.plan_start is not None  # the config validator guarantees it
    months0 = months_in_seat(inputs.start_date, cfg.plan_start)
    segments = inputs.segment if inputs.segment is not None else np.full(n, "")
    schedules = [cfg.ramp.by_segment.get(str(s), cfg.ramp.schedule) for s in segments]
    return monthly_factors(months0, schedules), months0


def ramp_weights(
    cfg: QuotaConfig, inputs: QuotaInputs
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 3 of :func:`allocate`: seasonal shares, their ramped weights, months of ramp.

    Returns
    -------
    shares, weights, months0
        (n, 12) monthly seasonal shares ``s``, (n, 12) weights ``s_k · f_k`` (their
        row sums are the annual ramp factors ``r``), and (n,) each rep's months
        before the plan year (:func:`_ramp_factors`).
    """
    n = len(inputs.territory_id)
    shares = _seasonal_shares(cfg, inputs, n)
    f, months0 = _ramp_factors(cfg, inputs, n)
    return shares, shares * f, months0


def allocate(cfg: QuotaConfig, inputs: QuotaInputs, *, target_change: float = 0.0) -> QuotaResult:
    """Quota per territory, rounded to ``cfg.rounding``, with caps, ramp and splits.

    The code runs these steps, in order:

    1. :func:`company_target` and :func:`_territories`: the target ``T``; each
       territory's label, history ``S``, potential ``P``, capacity and last-year
       quota ``L``; the region and district it belongs to.
    2. :func:`~territory_engine.quota.hierarchy.pools`: the pools with their
       exact targets (region and district targets scaled by ``target_change``).
    3. :func:`_seasonal_shares` and :func:`_ramp_factors`: monthly seasonal
       shares ``s`` and ramp factors ``f``; the annual ramp factor ``r = Σ_k s_k f_k``.
    4. :func:`_uncapped_quotas` (:func:`_ramped_pool` per pool): the method's
       raw quotas, ramped to ``t``, and the amount ``A'`` each pool must carry.
    5. :func:`_feasible_bounds`: every territory's caps, each pool checked
       against them (one :class:`InfeasibleError` naming every conflict).
    6. :func:`_dollar_bounds` and :func:`_capped_quotas`: in a pool where some
       ``t`` breaks a bound, the LP closest to ``t`` (:func:`~.caps.closest_allocation`).
    7. :func:`_rounded_cents`: whole units within the bounds, each pool summing
       exactly to its ``A'`` in cents.
    8. :func:`_caps_applied`: which cap binds on each quota, which quotas absorb
       what capped ones shed, and the bound an absorbing quota stopped at.
    9. :func:`_adjustments`: the ramp, cap and rounding adjustments in whole cents.
    10. :func:`_explanations` and :func:`_quota_table`: one sentence per quota, then
        ``quotas.csv``.
    11. :func:`_split_table`: ``quota_splits.csv``, each quota split into periods.
    12. :func:`_summary`: the plan-level facts for ``scorecard.json``.

    Parameters
    ----------
    cfg
        The scenario's quota section.
    inputs
        Per-territory history, potential, capacity and rep facts.
    target_change
        ``whatif.target_change``: every target (company, region, district) is
        multiplied by ``1 + target_change`` (see :func:`company_target`).

    Returns
    -------
    QuotaResult
        ``quotas`` sum exactly (to the cent) to the target, less what
        ``ramp.shortfall: hold_back`` holds back; each pool sums exactly to its
        own target likewise.

    Raises
    ------
    InfeasibleError
        Caps or targets that cannot all hold, naming the conflict.
    ScenarioError
        Regions that do not cover a territory, a history source without data.
    """
    unit = float(cfg.rounding)
    target = company_target(cfg, inputs, target_change)
    terr = _territories(cfg, inputs)
    pool_list = pools(_scaled_regions(cfg, target_change), target, terr.region, terr.district)
    shares, weights, months0 = ramp_weights(cfg, inputs)
    ramp = weights.sum(axis=1)
    base = _uncapped_quotas(cfg, pool_list, terr, ramp, unit)
    bounds = _feasible_bounds(cfg.caps, pool_list, base.assigned, terr, ramp, unit)
    lo_d, hi_d = _dollar_bounds(bounds)
    q, lp_pools = _capped_quotas(base.t, pool_list, base.assigned, lo_d, hi_d)
    cents = _rounded_cents(q, pool_list, base.assigned, bounds, unit)
    applied = _caps_applied(base.t, q, lo_d, hi_d, bounds.lower_source, bounds.upper_source)
    adj = _adjustments(base.raw, base.t, q, cents)
    explanation = _explanations(cfg, terr, base, months0, ramp, applied, adj, unit)
    quotas = _quota_table(
        cfg, inputs, terr, base, ramp, (lo_d, hi_d), applied, adj, cents, explanation
    )
    splits = _split_table(cfg, inputs, cents, shares, weights)
    summary = _summary(cfg, inputs, target, pool_list, cents, q, base.t, applied, lp_pools, ramp)
    return QuotaResult(quotas=quotas, splits=splits, summary=summary, ramp_factor=ramp)


@dataclass(frozen=True)
class _Territories:
    """Per-territory facts every step of :func:`allocate` reads.

    Attributes
    ----------
    labels
        (n,) how messages name each territory (:func:`_labels`).
    history, potential
        (n,) ``S_i`` and ``P_i`` as floats.
    capacity
        (n,) FTE the method scales by (all ones unless ``scale_by_capacity``).
    last_quota
        (n,) ``L_i``, 0 for none (NaN read as none).
    region, district
        (n,) the region and district of each territory ("" for none).
    forecast
        (n,) the plan year's forecast ``F_i`` (method ``forecast`` only).
    """

    labels: list[str]
    history: np.ndarray
    potential: np.ndarray
    capacity: np.ndarray
    last_quota: np.ndarray
    region: np.ndarray
    district: np.ndarray
    forecast: np.ndarray | None = None


def _territories(cfg: QuotaConfig, inputs: QuotaInputs) -> _Territories:
    """Step 1: the inputs as float arrays, and each territory's region and district.

    Raises
    ------
    ScenarioError
        ``quota.regions`` without region keys, or a key in no region.
    """
    n = len(inputs.territory_id)
    labels = _labels(inputs)
    S = np.asarray(inputs.history, dtype=float)
    P = np.asarray(inputs.potential, dtype=float)
    cap = np.asarray(inputs.capacity, dtype=float) if cfg.scale_by_capacity else np.ones(n)
    L = (
        np.nan_to_num(np.asarray(inputs.last_year_quota, dtype=float), nan=0.0)
        if inputs.last_year_quota is not None
        else np.zeros(n)
    )
    if cfg.regions and inputs.region_key is None:
        raise ScenarioError("quota.regions needs the region key of every territory")
    keys = inputs.region_key if inputs.region_key is not None else np.full(n, "")
    region, district = territory_regions(cfg, np.asarray(keys, dtype=object), labels)
    forecast = _forecast(inputs) if cfg.method == "forecast" else None
    return _Territories(labels, S, P, cap, L, region, district, forecast)


def _holds_back(cfg: QuotaConfig) -> bool:
    """Whether ``ramp.shortfall: hold_back`` leaves a ramping rep's shortfall unassigned."""
    return cfg.ramp is not None and cfg.ramp.shortfall == "hold_back"


@dataclass(frozen=True)
class _Uncapped:
    """The quotas before caps and rounding (step 4 of :func:`allocate`).

    Attributes
    ----------
    raw
        (n,) the method's quotas, summing to each pool's target.
    history_part, potential_part
        (n,) shares of ``raw`` from history and from potential.
    t
        (n,) ``raw`` ramped: the quotas the caps are applied to.
    held
        (n,) ``raw − r·raw`` with ``hold_back`` (else 0).
    pool_name, pool_target
        (n,) the pool of each territory and that pool's target.
    assigned
        Pool name -> ``A'``, what the pool's quotas must sum to.
    """

    raw: np.ndarray
    history_part: np.ndarray
    potential_part: np.ndarray
    t: np.ndarray
    held: np.ndarray
    pool_name: np.ndarray
    pool_target: np.ndarray
    assigned: dict[str, float]


def _uncapped_quotas(
    cfg: QuotaConfig, pool_list: list[Pool], terr: _Territories, ramp: np.ndarray, unit: float
) -> _Uncapped:
    """Step 4: per pool, the method's raw quotas and their ramped values."""
    n = len(ramp)
    raw = np.zeros(n)
    hist_part = np.zeros(n)
    pot_part = np.zeros(n)
    t = np.zeros(n)
    held = np.zeros(n)
    pool_name = np.full(n, "", dtype=object)
    pool_target = np.zeros(n)
    assigned: dict[str, float] = {}
    for pool in pool_list:
        m = pool.members
        raw[m], hist_part[m], pot_part[m] = raw_quotas(
            cfg.method,
            pool.target,
            terr.history[m],
            terr.potential[m],
            terr.capacity[m],
            cfg.history_weight,
            None if terr.forecast is None else terr.forecast[m],
            cfg.forecast_weight,
        )
        pool_name[m] = pool.name
        pool_target[m] = pool.target
        t[m], held[m], assigned[pool.name] = _ramped_pool(
            raw[m], ramp[m], pool.target, _holds_back(cfg), unit
        )
    return _Uncapped(raw, hist_part, pot_part, t, held, pool_name, pool_target, assigned)


def _ramped_pool(
    raw: np.ndarray, ramp: np.ndarray, target: float, hold_back: bool, unit: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """One pool's ramped quotas ``t``, the amounts held back, and its total ``A'``.

    ``respread`` (``hold_back`` false): ``t = A · r·raw / Σ r·raw`` (``raw`` when
    no one carries anything), held 0, ``A' = A``. ``hold_back``: ``t = r·raw``,
    held ``raw − r·raw``, and ``A' = A − H`` with ``H`` the held total rounded to
    whole units (the sub-unit rest is left to the rounding step).
    """
    ramped = ramp * raw
    if hold_back:
        held = raw - ramped
        # Hold back whole units so the assigned total stays a round number; the
        # sub-unit difference from Σ r·raw is left to the rounding step.
        hold = round(float(held.sum()) / unit) * unit
        return ramped, held, target - hold
    t = target * ramped / ramped.sum() if ramped.sum() > 0 else raw
    return t, np.zeros(len(raw)), target


def _feasible_bounds(
    caps: QuotaCapsConfig,
    pool_list: list[Pool],
    assigned: dict[str, float],
    terr: _Territories,
    ramp: np.ndarray,
    unit: float,
) -> capsmod.Bounds:
    """Step 5: every territory's bounds, after checking that each pool can meet them.

    Raises
    ------
    InfeasibleError
        Listing every conflict of every pool.
    """
    bounds = capsmod.quota_bounds(caps, terr.last_quota, terr.potential, ramp, unit)
    problems: list[str] = []
    for pool in pool_list:
        problems += capsmod.check_feasible(
            bounds, pool.members, assigned[pool.name], pool.name, terr.labels, unit
        )
    capsmod.raise_if_infeasible(problems)
    return bounds


def _dollar_bounds(bounds: capsmod.Bounds) -> tuple[np.ndarray, np.ndarray]:
    """(n,) lower and upper bounds in dollars on whole units, ``∓inf`` for none."""
    lo_d = np.where(
        bounds.lower_unit_cents > -capsmod.NONE_CENTS, bounds.lower_unit_cents / 100, -np.inf
    )
    hi_d = np.where(
        bounds.upper_unit_cents < capsmod.NONE_CENTS, bounds.upper_unit_cents / 100, np.inf
    )
    return lo_d, hi_d


def _capped_quotas(
    t: np.ndarray,
    pool_list: list[Pool],
    assigned: dict[str, float],
    lo_d: np.ndarray,
    hi_d: np.ndarray,
) -> tuple[np.ndarray, list[str]]:
    """Step 6: ``t``, re-allocated by the LP in every pool where a quota breaks a bound.

    Returns
    -------
    q, lp_pools
        (n,) the capped quotas, and the names of the pools the LP re-allocated.
    """
    q = t.copy()
    lp_pools = []
    for pool in pool_list:
        m = pool.members
        if np.any(t[m] < lo_d[m] - 1e-6) or np.any(t[m] > hi_d[m] + 1e-6):
            q[m] = capsmod.closest_allocation(t[m], assigned[pool.name], lo_d[m], hi_d[m])
            lp_pools.append(pool.name)
    return q, lp_pools


def _rounded_cents(
    q: np.ndarray,
    pool_list: list[Pool],
    assigned: dict[str, float],
    bounds: capsmod.Bounds,
    unit: float,
) -> np.ndarray:
    """Step 7: (n,) int64 quotas in cents, whole units within the bounds, exact per pool."""
    cents = np.zeros(len(q), dtype=np.int64)
    for pool in pool_list:
        m = pool.members
        cents[m] = round_within_bounds(
            q[m], unit, assigned[pool.name], bounds.lower_cents[m], bounds.upper_cents[m]
        )
    return cents


@dataclass(frozen=True)
class _CapsApplied:
    """Which caps bind (step 8 of :func:`allocate`).

    Attributes
    ----------
    name
        (n,) the bound a quota was capped at, :data:`~.caps.RESPREAD` for a quota
        that absorbs what capped ones shed, "" for neither.
    absorbing
        (n,) bool: the quota absorbs.
    stopped_at
        (n,) for an absorbing quota that reached one of its own bounds, that
        bound's name (else "").
    """

    name: np.ndarray
    absorbing: np.ndarray
    stopped_at: np.ndarray


def _caps_applied(
    t: np.ndarray,
    q: np.ndarray,
    lo_d: np.ndarray,
    hi_d: np.ndarray,
    lower_source: np.ndarray,
    upper_source: np.ndarray,
    tol: float = 0.5,
) -> _CapsApplied:
    """Step 8: a cap binds where the capped quota ``q`` sits on a bound ``t`` broke.

    Parameters
    ----------
    t, q
        (n,) quotas before and after the caps, in dollars.
    lo_d, hi_d
        (n,) bounds in dollars (``∓inf`` for none).
    lower_source, upper_source
        (n,) names of the bounds.
    tol
        Dollars within which a quota counts as on a bound, or as moved.
    """
    low_hit = (t < lo_d - tol) & (q <= lo_d + tol)
    high_hit = (t > hi_d + tol) & (q >= hi_d - tol)
    name = np.full(len(t), "", dtype=object)
    name[low_hit] = lower_source[low_hit]
    name[high_hit] = upper_source[high_hit]
    absorbing = (name == "") & (np.abs(q - t) >= tol)
    name[absorbing] = capsmod.RESPREAD
    stopped_at = np.where(
        absorbing & (q <= lo_d + tol),
        lower_source,
        np.where(absorbing & (q >= hi_d - tol), upper_source, ""),
    )
    return _CapsApplied(name, absorbing, stopped_at)


@dataclass(frozen=True)
class _Adjustments:
    """``quota = raw + ramp + cap + rounding``, each term a whole number of cents.

    Attributes
    ----------
    raw_cents
        (n,) int64 raw quotas in cents.
    ramp, cap, rounding
        (n,) the adjustments in dollars (whole cents).
    """

    raw_cents: np.ndarray
    ramp: np.ndarray
    cap: np.ndarray
    rounding: np.ndarray


def _adjustments(raw: np.ndarray, t: np.ndarray, q: np.ndarray, cents: np.ndarray) -> _Adjustments:
    """Step 9: raw, ramped and capped quotas in whole cents, and the steps between them.

    The adjustments add up exactly: ``raw_cents/100 + ramp + cap + rounding == cents/100``.
    """
    raw_c = np.round(raw * 100).astype(np.int64)
    t_c = np.round(t * 100).astype(np.int64)
    q_c = np.round(q * 100).astype(np.int64)
    return _Adjustments(raw_c, (t_c - raw_c) / 100.0, (q_c - t_c) / 100.0, (cents - q_c) / 100.0)


def _explanations(
    cfg: QuotaConfig,
    terr: _Territories,
    base: _Uncapped,
    months0: np.ndarray,
    ramp: np.ndarray,
    applied: _CapsApplied,
    adj: _Adjustments,
    unit: float,
) -> list[str]:
    """Step 10: one sentence per territory on how its quota came about (:func:`_sentence`)."""
    hold_back = _holds_back(cfg)
    return [
        _sentence(
            cfg.method,
            base.history_part[i],
            base.potential_part[i],
            terr.capacity[i],
            describe_ramp(months0[i], ramp[i]),
            base.held[i] if hold_back else 0.0,
            adj.ramp[i],
            str(applied.name[i]),
            adj.cap[i],
            cfg.caps,
            terr.last_quota[i],
            str(applied.stopped_at[i]),
            adj.rounding[i],
            unit,
            forecast=0.0 if terr.forecast is None else float(terr.forecast[i]),
            stretch=cfg.stretch,
        )
        for i in range(len(ramp))
    ]


def _quota_table(
    cfg: QuotaConfig,
    inputs: QuotaInputs,
    terr: _Territories,
    base: _Uncapped,
    ramp: np.ndarray,
    dollar_bounds: tuple[np.ndarray, np.ndarray],
    applied: _CapsApplied,
    adj: _Adjustments,
    cents: np.ndarray,
    explanation: list[str],
) -> pd.DataFrame:
    """Step 10: ``quotas.csv`` (:data:`QUOTA_COLUMNS`)."""
    lo_d, hi_d = dollar_bounds
    quota = cents / 100.0
    P, L = terr.potential, terr.last_quota
    with np.errstate(divide="ignore", invalid="ignore"):
        q2p = np.where(P > 0, quota / P, np.nan)
        growth = np.where(L > 0, 100 * (quota / L - 1), np.nan)
        method_share = np.where(base.pool_target > 0, 100 * base.raw / base.pool_target, np.nan)
    return pd.DataFrame(
        {
            "territory_id": inputs.territory_id,
            "rep_id": inputs.rep_id,
            "quota": quota,
            "method": cfg.method,
            "region": terr.region,
            "district": terr.district,
            "pool": base.pool_name,
            "pool_target": np.round(base.pool_target, 2),
            "capacity_fte": np.asarray(inputs.capacity, dtype=float),
            "raw_quota": adj.raw_cents / 100.0,
            "method_share_pct": np.round(method_share, 3),
            "history_share_pct": np.round(100 * base.history_part, 1),
            "potential_share_pct": np.round(100 * base.potential_part, 1),
            "ramp_factor": np.round(ramp, 4),
            "ramp_adjustment": adj.ramp,
            "held_back": np.round(base.held, 2) if _holds_back(cfg) else 0.0,
            "cap_low": np.where(np.isfinite(lo_d) & (lo_d > 0), lo_d, np.nan),
            "cap_high": np.where(np.isfinite(hi_d), hi_d, np.nan),
            "caps_applied": applied.name,
            "cap_adjustment": adj.cap,
            "rounding_adjustment": adj.rounding,
            "last_year_quota": L,
            "growth_vs_last_year_pct": np.round(growth, 2),
            "territory_potential": np.round(P, 2),
            "territory_last_year_revenue": np.round(terr.history, 2),
            "quota_to_potential": np.round(q2p, 4),
            "explanation": explanation,
        }
    )[QUOTA_COLUMNS]


def _period_ramp(shares: np.ndarray, weights: np.ndarray, period: str) -> np.ndarray:
    """(n, periods) ramp factor of each period: ``Σ s·f / Σ s`` over its months."""
    n = len(shares)
    per = 3 if period == "quarter" else 1
    return (weights.reshape(n, -1, per).sum(axis=2)) / np.maximum(
        shares.reshape(n, -1, per).sum(axis=2), 1e-12
    )


def _split_table(
    cfg: QuotaConfig,
    inputs: QuotaInputs,
    cents: np.ndarray,
    shares: np.ndarray,
    weights: np.ndarray,
) -> pd.DataFrame:
    """Step 11: ``quota_splits.csv`` (:data:`SPLIT_COLUMNS`), splits weighted by ``s·f``."""
    n = len(cents)
    period = cfg.seasonality.period
    split_c = split_quotas(cents, weights, period, float(cfg.rounding))
    labels_p = period_labels(period)
    starts = period_starts(period, cfg.plan_start)
    period_ramp = _period_ramp(shares, weights, period)
    n_p = len(labels_p)
    return pd.DataFrame(
        {
            "territory_id": np.repeat(np.asarray(inputs.territory_id, dtype=object), n_p),
            "rep_id": np.repeat(np.asarray(inputs.rep_id, dtype=object), n_p),
            "period": np.tile(labels_p, n),
            "period_start": np.tile(starts, n),
            "quota": split_c.ravel() / 100.0,
            "ramp_factor": np.round(period_ramp.ravel(), 4),
        }
    )[SPLIT_COLUMNS]


def _summary(
    cfg: QuotaConfig,
    inputs: QuotaInputs,
    target: float,
    pool_list: list[Pool],
    cents: np.ndarray,
    q: np.ndarray,
    t: np.ndarray,
    applied: _CapsApplied,
    lp_pools: list[str],
    ramp: np.ndarray,
) -> dict:
    """Step 12: the plan-level facts of the allocation for ``scorecard.json``."""
    binding: dict[str, int] = {}
    for name in applied.name:
        if name and name != capsmod.RESPREAD:
            binding[str(name)] = binding.get(str(name), 0) + 1
    total_c = int(cents.sum())
    return {
        "method": cfg.method,
        "target": round(target, 2),
        "assigned": total_c / 100.0,
        "held_back": round(target - total_c / 100.0, 2),
        "pools": [
            {
                "name": pool.name,
                "target": round(pool.target, 2),
                "assigned": int(cents[pool.members].sum()) / 100.0,
                "territories": len(pool.members),
            }
            for pool in pool_list
        ],
        "caps_binding": dict(sorted(binding.items())),
        "territories_capped": int(sum(binding.values())),
        "territories_absorbing": int(applied.absorbing.sum()),
        "amount_moved_by_caps": round(float(np.abs(q - t).sum()) / 2, 2),
        "capped_by_lp": bool(lp_pools),
        "ramped_reps": [
            {
                "rep_id": inputs.rep_id[i],
                "territory_id": inputs.territory_id[i],
                "ramp_factor": round(float(ramp[i]), 4),
            }
            for i in np.flatnonzero(ramp < 1 - 1e-12)
        ],
        "seasonality": {
            "period": cfg.seasonality.period,
            "profile": monthly_shares(cfg.seasonality.profile).round(6).tolist()
            if cfg.seasonality.source == "profile"
            else "history",
        },
    }


def _cap_words(
    name: str, caps: QuotaCapsConfig, last_quota: float, adj: float, stopped_at: str
) -> str:
    """One clause on the cap that moved a quota, e.g. "capped at +25 % growth on ..."."""
    change = money(adj, signed=True)
    if name == capsmod.GROWTH_MAX:
        assert caps.growth_max is not None  # only a set cap binds
        return (
            f"capped at {percent(caps.growth_max, signed=True, digits=0)} growth on last year's "
            f"quota of {money(last_quota)} ({change})"
        )
    if name == capsmod.GROWTH_MIN:
        assert caps.growth_min is not None
        return (
            f"raised to the {percent(caps.growth_min, signed=True, digits=0)} growth floor on "
            f"last year's quota of {money(last_quota)} ({change})"
        )
    if name == capsmod.POTENTIAL_CEILING:
        assert caps.potential_ceiling is not None
        return (
            f"capped at {percent(caps.potential_ceiling, digits=0)} of your territory's "
            f"potential ({change})"
        )
    if name == capsmod.POTENTIAL_FLOOR:
        assert caps.potential_floor is not None
        return (
            f"raised to {percent(caps.potential_floor, digits=0)} of your territory's "
            f"potential ({change})"
        )
    if name == capsmod.NONNEGATIVE:
        return f"raised to zero ({change})"
    if name == capsmod.RESPREAD:
        words = f"{change} to balance quotas capped elsewhere"
        if stopped_at:
            # Absorbing stopped at the territory's own bound: say which.
            words += f" ({'down' if adj < 0 else 'up'} to your {_BOUND_WORDS[stopped_at]})"
        return words
    return ""


_BOUND_WORDS = {
    capsmod.NONNEGATIVE: "zero floor",
    capsmod.GROWTH_MIN: "growth floor",
    capsmod.GROWTH_MAX: "growth ceiling",
    capsmod.POTENTIAL_FLOOR: "potential floor",
    capsmod.POTENTIAL_CEILING: "potential ceiling",
}


def _sentence(
    method: str,
    hist: float,
    pot: float,
    capacity: float,
    ramp_words: str,
    held: float,
    ramp_adj: float,
    cap_name: str,
    cap_adj: float,
    caps: QuotaCapsConfig,
    last_quota: float,
    stopped_at: str,
    rnd: float,
    unit: float,
    *,
    forecast: float = 0.0,
    stretch: float = 1.0,
) -> str:
    parts = []
    if method == "forecast":
        # Name the forecast itself: it is the number a rep can check against their history.
        stretched = f", × {stretch:g} stretch" if stretch != 1 else ""
        parts.append(
            f"{percent(hist, digits=0)} from your territory's forecast of {money(forecast)} "
            f"for the plan year (its accounts' monthly history{stretched})"
        )
        if pot > 0:
            parts.append(f"{percent(pot, digits=0)} from your territory's potential")
    elif method == "flat":
        fte = f" for {capacity:g} FTE" if capacity != 1 else ""
        parts.append(f"an equal share of the target{fte}")
    elif method == "equitable_growth":
        fte = f" (for {capacity:g} FTE)" if capacity != 1 else ""
        parts.append(
            f"last year's revenue of your accounts ({percent(hist, digits=0)}) plus an equal share "
            f"of the company's growth{fte}"
        )
    else:
        if pot > 0:
            parts.append(f"{percent(pot, digits=0)} from your territory's potential")
        if hist > 0:
            parts.append(f"{percent(hist, digits=0)} from last year's revenue of your accounts")
        if not parts:
            parts.append("nothing from potential or last year's revenue")
    text = ", ".join(parts)
    clauses = [text[0].upper() + text[1:]]
    if ramp_words:
        held_words = f", {money(held)} held back" if held > 0.5 else ""
        clauses.append(ramp_words + held_words)
    elif ramp_adj >= 0.5:
        clauses.append(f"{money(ramp_adj, signed=True)} re-spread from ramping new hires")
    if cap_name:
        clauses.append(_cap_words(cap_name, caps, last_quota, cap_adj, stopped_at))
    clauses.append(f"rounded to {money(unit)} ({money(rnd, signed=True)})")
    return "; ".join(clauses) + "."
