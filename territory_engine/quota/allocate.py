"""Allocate the company target to territories, with exact rounding and an explanation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from territory_engine.config.scenario import QuotaConfig
from territory_engine.quota.methods import raw_quotas
from territory_engine.quota.rounding import round_preserving_total


@dataclass(frozen=True)
class QuotaInputs:
    """Per-territory inputs of the quota allocation.

    Attributes
    ----------
    territory_id, rep_id
        (n,) labels.
    history
        (n,) last year's revenue of the accounts now in each territory.
    potential
        (n,) potential of each territory.
    capacity
        (n,) rep capacity (FTE).
    last_year_revenue_total
        Sum of last year's revenue over all accounts (for a growth target).
    """

    territory_id: list[str]
    rep_id: list[str]
    history: np.ndarray
    potential: np.ndarray
    capacity: np.ndarray
    last_year_revenue_total: float


def company_target(cfg: QuotaConfig, inputs: QuotaInputs) -> float:
    """The target ``T``: ``cfg.target`` or ``(1 + growth)`` × last year's total revenue."""
    if cfg.target is not None:
        return float(cfg.target)
    return float((1 + cfg.growth) * inputs.last_year_revenue_total)


def allocate_quotas(cfg: QuotaConfig, inputs: QuotaInputs) -> pd.DataFrame:
    """Quota per territory, rounded to ``cfg.rounding`` with the total kept exact.

    Parameters
    ----------
    cfg
        The scenario's quota section.
    inputs
        Per-territory history, potential and capacity.

    Returns
    -------
    pandas.DataFrame
        ``territory_id, rep_id, quota, method, raw_quota, rounding_adjustment,
        history_share_pct, potential_share_pct, territory_potential,
        territory_last_year_revenue, quota_to_potential, explanation``.
        ``quota`` sums exactly (to the cent) to the target.
    """
    target = company_target(cfg, inputs)
    capacity = inputs.capacity if cfg.scale_by_capacity else np.ones(len(inputs.capacity))
    raw, hist_part, pot_part = raw_quotas(
        cfg.method, target, inputs.history, inputs.potential, capacity, cfg.history_weight
    )
    cents = round_preserving_total(raw, cfg.rounding, target)
    quota = cents / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        q2p = np.where(inputs.potential > 0, quota / inputs.potential, np.nan)
    explanation = [
        _sentence(cfg.method, h, p, quota[i] - raw[i], cfg.rounding)
        for i, (h, p) in enumerate(zip(hist_part, pot_part, strict=True))
    ]
    return pd.DataFrame(
        {
            "territory_id": inputs.territory_id,
            "rep_id": inputs.rep_id,
            "quota": quota,
            "method": cfg.method,
            "raw_quota": np.round(raw, 2),
            "rounding_adjustment": np.round(quota - raw, 2),
            "history_share_pct": np.round(100 * hist_part, 1),
            "potential_share_pct": np.round(100 * pot_part, 1),
            "territory_potential": np.round(inputs.potential, 2),
            "territory_last_year_revenue": np.round(inputs.history, 2),
            "quota_to_potential": np.round(q2p, 4),
            "explanation": explanation,
        }
    )


def _sentence(method: str, hist: float, pot: float, adj: float, unit: float) -> str:
    parts = []
    if method == "flat":
        parts.append("an equal share of the target (scaled by capacity)")
    elif method == "equitable_growth":
        parts.append(
            f"last year's revenue of your accounts ({100 * hist:.0f} %) plus an equal share of "
            "the company's growth"
        )
    else:
        if hist > 0:
            parts.append(f"{100 * hist:.0f} % from last year's revenue of your accounts")
        if pot > 0:
            parts.append(f"{100 * pot:.0f} % from your territory's potential")
    text = ", ".join(parts)
    text = text[0].upper() + text[1:]
    return f"{text}; rounded to ${unit:,.0f} ({adj:+,.0f})."
