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
from territory_engine.errors import ScenarioError
from territory_engine.metrics.attainment import AttainmentModel
from territory_engine.quota import caps as capsmod
from territory_engine.quota.hierarchy import covered_total, pools, territory_regions
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
    cover every region; else ``(1 + growth)`` × last year's total revenue.
    A what-if's ``whatif.target_change`` ``x`` (``change``) then scales it to
    ``T · (1 + x)``; ``x = 0`` leaves it exactly as it was. (:func:`allocate`
    scales the region and district targets by the same factor.)
    """
    if cfg.target is not None:
        base = float(cfg.target)
    elif (covered := covered_total(cfg)) is not None:
        base = covered
    else:
        base = float((1 + cfg.growth) * inputs.last_year_revenue_total)
    return base * (1.0 + change) if change else base


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


def allocate(cfg: QuotaConfig, inputs: QuotaInputs, *, target_change: float = 0.0) -> QuotaResult:
    """Quota per territory, rounded to ``cfg.rounding``, with caps, ramp and splits.

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
    n = len(inputs.territory_id)
    unit = float(cfg.rounding)
    labels = _labels(inputs)
    target = company_target(cfg, inputs, target_change)
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
    pool_list = pools(_scaled_regions(cfg, target_change), target, region, district)

    shares = _seasonal_shares(cfg, inputs, n)
    f, months0 = _ramp_factors(cfg, inputs, n)
    ramp = (shares * f).sum(axis=1)

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
            cfg.method, pool.target, S[m], P[m], cap[m], cfg.history_weight
        )
        pool_name[m] = pool.name
        pool_target[m] = pool.target
        ramped = ramp[m] * raw[m]
        if cfg.ramp is not None and cfg.ramp.shortfall == "hold_back":
            held[m] = raw[m] - ramped
            # Hold back whole units so the assigned total stays a round number; the
            # sub-unit difference from Σ r·raw is left to the rounding step.
            hold = round(float(held[m].sum()) / unit) * unit
            a = pool.target - hold
            t[m] = ramped
        else:
            a = pool.target
            t[m] = a * ramped / ramped.sum() if ramped.sum() > 0 else raw[m]
        assigned[pool.name] = a

    bounds = capsmod.quota_bounds(cfg.caps, L, P, ramp, unit)
    problems: list[str] = []
    for pool in pool_list:
        problems += capsmod.check_feasible(
            bounds, pool.members, assigned[pool.name], pool.name, labels, unit
        )
    capsmod.raise_if_infeasible(problems)

    lo_d = np.where(
        bounds.lower_unit_cents > -capsmod.NONE_CENTS, bounds.lower_unit_cents / 100, -np.inf
    )
    hi_d = np.where(
        bounds.upper_unit_cents < capsmod.NONE_CENTS, bounds.upper_unit_cents / 100, np.inf
    )
    q = t.copy()
    lp_pools = []
    for pool in pool_list:
        m = pool.members
        if np.any(t[m] < lo_d[m] - 1e-6) or np.any(t[m] > hi_d[m] + 1e-6):
            q[m] = capsmod.closest_allocation(t[m], assigned[pool.name], lo_d[m], hi_d[m])
            lp_pools.append(pool.name)
    cents = np.zeros(n, dtype=np.int64)
    for pool in pool_list:
        m = pool.members
        cents[m] = round_within_bounds(
            q[m], unit, assigned[pool.name], bounds.lower_cents[m], bounds.upper_cents[m]
        )
    quota = cents / 100.0

    # Which caps bind: the capped quota sits on a bound the uncapped one broke.
    tol = 0.5
    low_hit = (t < lo_d - tol) & (q <= lo_d + tol)
    high_hit = (t > hi_d + tol) & (q >= hi_d - tol)
    caps_applied = np.full(n, "", dtype=object)
    caps_applied[low_hit] = bounds.lower_source[low_hit]
    caps_applied[high_hit] = bounds.upper_source[high_hit]
    absorbing = (caps_applied == "") & (np.abs(q - t) >= tol)
    caps_applied[absorbing] = capsmod.RESPREAD
    stopped_at = np.where(
        absorbing & (q <= lo_d + tol),
        bounds.lower_source,
        np.where(absorbing & (q >= hi_d - tol), bounds.upper_source, ""),
    )

    raw_c = np.round(raw * 100).astype(np.int64)
    t_c = np.round(t * 100).astype(np.int64)
    q_c = np.round(q * 100).astype(np.int64)
    ramp_adj = (t_c - raw_c) / 100.0
    cap_adj = (q_c - t_c) / 100.0
    rnd_adj = (cents - q_c) / 100.0

    with np.errstate(divide="ignore", invalid="ignore"):
        q2p = np.where(P > 0, quota / P, np.nan)
        growth = np.where(L > 0, 100 * (quota / L - 1), np.nan)
        method_share = np.where(pool_target > 0, 100 * raw / pool_target, np.nan)
    hold_back = cfg.ramp is not None and cfg.ramp.shortfall == "hold_back"
    explanation = [
        _sentence(
            cfg.method,
            hist_part[i],
            pot_part[i],
            cap[i],
            describe_ramp(months0[i], ramp[i]),
            held[i] if hold_back else 0.0,
            ramp_adj[i],
            str(caps_applied[i]),
            cap_adj[i],
            cfg.caps,
            L[i],
            str(stopped_at[i]),
            rnd_adj[i],
            unit,
        )
        for i in range(n)
    ]
    quotas = pd.DataFrame(
        {
            "territory_id": inputs.territory_id,
            "rep_id": inputs.rep_id,
            "quota": quota,
            "method": cfg.method,
            "region": region,
            "district": district,
            "pool": pool_name,
            "pool_target": np.round(pool_target, 2),
            "capacity_fte": np.asarray(inputs.capacity, dtype=float),
            "raw_quota": raw_c / 100.0,
            "method_share_pct": np.round(method_share, 3),
            "history_share_pct": np.round(100 * hist_part, 1),
            "potential_share_pct": np.round(100 * pot_part, 1),
            "ramp_factor": np.round(ramp, 4),
            "ramp_adjustment": ramp_adj,
            "held_back": np.round(held, 2) if hold_back else 0.0,
            "cap_low": np.where(np.isfinite(lo_d) & (lo_d > 0), lo_d, np.nan),
            "cap_high": np.where(np.isfinite(hi_d), hi_d, np.nan),
            "caps_applied": caps_applied,
            "cap_adjustment": cap_adj,
            "rounding_adjustment": rnd_adj,
            "last_year_quota": L,
            "growth_vs_last_year_pct": np.round(growth, 2),
            "territory_potential": np.round(P, 2),
            "territory_last_year_revenue": np.round(S, 2),
            "quota_to_potential": np.round(q2p, 4),
            "explanation": explanation,
        }
    )[QUOTA_COLUMNS]

    period = cfg.seasonality.period
    weights = shares * f
    split_c = split_quotas(cents, weights, period, unit)
    labels_p = period_labels(period)
    starts = period_starts(period, cfg.plan_start)
    per = 3 if period == "quarter" else 1
    period_ramp = (weights.reshape(n, -1, per).sum(axis=2)) / np.maximum(
        shares.reshape(n, -1, per).sum(axis=2), 1e-12
    )
    n_p = len(labels_p)
    splits = pd.DataFrame(
        {
            "territory_id": np.repeat(np.asarray(inputs.territory_id, dtype=object), n_p),
            "rep_id": np.repeat(np.asarray(inputs.rep_id, dtype=object), n_p),
            "period": np.tile(labels_p, n),
            "period_start": np.tile(starts, n),
            "quota": split_c.ravel() / 100.0,
            "ramp_factor": np.round(period_ramp.ravel(), 4),
        }
    )[SPLIT_COLUMNS]

    binding: dict[str, int] = {}
    for name in caps_applied:
        if name and name != capsmod.RESPREAD:
            binding[str(name)] = binding.get(str(name), 0) + 1
    total_c = int(cents.sum())
    summary = {
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
        "territories_absorbing": int(absorbing.sum()),
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
            "period": period,
            "profile": monthly_shares(cfg.seasonality.profile).round(6).tolist()
            if cfg.seasonality.source == "profile"
            else "history",
        },
    }
    return QuotaResult(quotas=quotas, splits=splits, summary=summary, ramp_factor=ramp)


def _money(x: float) -> str:
    sign = "−" if x < 0 else "+"
    return f"{sign}${abs(x):,.0f}"


def _cap_words(
    name: str, caps: QuotaCapsConfig, last_quota: float, adj: float, stopped_at: str
) -> str:
    """One clause on the cap that moved a quota, e.g. "capped at +25 % growth on ..."."""
    if name == capsmod.GROWTH_MAX:
        return (
            f"capped at {100 * caps.growth_max:+.0f} % growth on last year's quota of "
            f"${last_quota:,.0f} ({_money(adj)})"
        )
    if name == capsmod.GROWTH_MIN:
        return (
            f"raised to the {100 * caps.growth_min:+.0f} % growth floor on last year's quota of "
            f"${last_quota:,.0f} ({_money(adj)})"
        )
    if name == capsmod.POTENTIAL_CEILING:
        return (
            f"capped at {100 * caps.potential_ceiling:.0f} % of your territory's potential "
            f"({_money(adj)})"
        )
    if name == capsmod.POTENTIAL_FLOOR:
        return (
            f"raised to {100 * caps.potential_floor:.0f} % of your territory's potential "
            f"({_money(adj)})"
        )
    if name == capsmod.NONNEGATIVE:
        return f"raised to zero ({_money(adj)})"
    if name == capsmod.RESPREAD:
        words = f"{_money(adj)} to balance quotas capped elsewhere"
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
) -> str:
    parts = []
    if method == "flat":
        fte = f" for {capacity:g} FTE" if capacity != 1 else ""
        parts.append(f"an equal share of the target{fte}")
    elif method == "equitable_growth":
        fte = f" (for {capacity:g} FTE)" if capacity != 1 else ""
        parts.append(
            f"last year's revenue of your accounts ({100 * hist:.0f} %) plus an equal share "
            f"of the company's growth{fte}"
        )
    else:
        if pot > 0:
            parts.append(f"{100 * pot:.0f} % from your territory's potential")
        if hist > 0:
            parts.append(f"{100 * hist:.0f} % from last year's revenue of your accounts")
        if not parts:
            parts.append("nothing from potential or last year's revenue")
    text = ", ".join(parts)
    clauses = [text[0].upper() + text[1:]]
    if ramp_words:
        held_words = f", {_money(-held)[1:]} held back" if held > 0.5 else ""
        clauses.append(ramp_words + held_words)
    elif ramp_adj >= 0.5:
        clauses.append(f"{_money(ramp_adj)} re-spread from ramping new hires")
    if cap_name:
        clauses.append(_cap_words(cap_name, caps, last_quota, cap_adj, stopped_at))
    clauses.append(f"rounded to ${unit:,.0f} ({_money(rnd)})")
    return "; ".join(clauses) + "."
