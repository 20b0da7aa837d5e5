"""Seasonality: monthly shares of an annual quota, and exact period splits.

Monthly shares ``s_k`` (``k = 0..11`` from the plan start, ``Σ s_k = 1``) come
from a profile (4 quarter weights, each spread evenly over its 3 months, or 12
month weights) or from last year's monthly revenue of a territory's accounts.
A rep's quota in period ``p`` is ``Q · w_p / Σ w`` with ``w_p = Σ_{k∈p} s_k f_k``
(``f`` the ramp factors, so a ramping rep carries less in early periods),
rounded with :func:`~territory_engine.quota.rounding.round_preserving_total`
so that the periods sum exactly to ``Q``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from territory_engine.quota.ramp import MONTHS
from territory_engine.quota.rounding import round_preserving_total

HISTORY_COLUMNS = tuple(f"revenue_m{m:02d}" for m in range(1, MONTHS + 1))
"""Account columns holding last year's revenue per plan month (``source: history``)."""


def monthly_shares(profile: Sequence[float] | None) -> np.ndarray:
    """(12,) monthly shares from a 4- or 12-value profile; flat when ``None``."""
    if profile is None:
        return np.full(MONTHS, 1.0 / MONTHS)
    p = np.asarray(profile, dtype=float)
    if len(p) == 4:
        p = np.repeat(p / 3.0, 3)
    if len(p) != MONTHS or np.any(p < 0) or p.sum() <= 0:
        raise ValueError("a seasonality profile has 4 or 12 non-negative weights, not all 0")
    return p / p.sum()


def history_shares(monthly_revenue: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """(k, 12) shares from each territory's monthly revenue; ``fallback`` where it has none.

    Parameters
    ----------
    monthly_revenue
        (k, 12) last year's revenue per plan month of each territory's accounts.
    fallback
        (12,) shares used for territories with no monthly revenue.
    """
    r = np.asarray(monthly_revenue, dtype=float)
    total = r.sum(axis=1, keepdims=True)
    out = np.where(total > 0, r / np.where(total > 0, total, 1.0), fallback[None, :])
    return out


def period_labels(period: str) -> list[str]:
    """``Q1..Q4`` or ``M01..M12`` (periods of the plan year)."""
    return (
        [f"Q{q}" for q in range(1, 5)]
        if period == "quarter"
        else [f"M{m:02d}" for m in range(1, MONTHS + 1)]
    )


def period_starts(period: str, plan_start: date | None) -> list[str]:
    """ISO first day of each period, or ``""`` each when the plan start is unknown."""
    n = 4 if period == "quarter" else MONTHS
    if plan_start is None:
        return [""] * n
    step = 3 if period == "quarter" else 1
    start = pd.Timestamp(plan_start)
    return [(start + pd.DateOffset(months=step * p)).date().isoformat() for p in range(n)]


def split_quotas(
    quota_cents: np.ndarray,
    weights_monthly: np.ndarray,
    period: str,
    unit: float,
) -> np.ndarray:
    """(k, P) period quotas in cents, each row summing exactly to its annual quota.

    Parameters
    ----------
    quota_cents
        (k,) annual quotas in integer cents.
    weights_monthly
        (k, 12) ``s_k · f_k`` per territory (seasonal share times ramp factor).
    period
        ``quarter`` or ``month``.
    unit
        Rounding unit in dollars (period quotas are multiples of it, but for
        one period per rep that takes the sub-unit residue).
    """
    w = np.asarray(weights_monthly, dtype=float)
    if period == "quarter":
        w = w.reshape(len(w), 4, 3).sum(axis=2)
    out = np.zeros(w.shape, dtype=np.int64)
    for i, q in enumerate(np.asarray(quota_cents, dtype=np.int64)):
        row = w[i]
        if row.sum() <= 0:
            row = np.ones_like(row)  # no selling month: spread evenly, the quota is 0 anyway
        annual = int(q) / 100.0
        out[i] = round_preserving_total(annual * row / row.sum(), unit, annual)
    return out
