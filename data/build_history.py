"""Build ``revenue_history.csv``: 36 months of seeded revenue for the sample's accounts.

The long table ``account_id, month, revenue`` (month ``YYYY-MM``, whole dollars)
covers 2024-01 .. 2026-12, the three years before the sample's plan year
(``quota.plan_start: 2027-01-01``). Every account's 2026 months sum exactly to
its ``last_year_revenue`` in ``accounts.csv``, so the history and the accounts
file agree; ``accounts.csv`` itself is read, never written.

How one account's months are made (see ``data/README.md``):

- **size**: its ``last_year_revenue`` (already heavy-tailed: lognormal potential
  times a Beta share), which fixes the scale of the whole series;
- **trend**: annual growth drawn per account, N(6 %, 15 %) clipped to [-50 %, +100 %];
- **seasonality**: a 12-month profile per industry (retail peaks in Q4,
  construction in summer, technology at quarter ends ...), its amplitude
  scaled per account by U(0.5, 1.5);
- **shocks** shared by many accounts: a market-wide AR(1) and an AR(1) per
  industry (so territories do not average every surprise away);
- **noise**: monthly lognormal, heavier for small accounts (sd 0.25 enterprise,
  0.35 commercial, 0.5 smb) and months without revenue (0 %, 8 %, 15 %);
- **new accounts** (12 % of the active ones) start in a month of 2024-02..2026-07
  and ramp up over about three months; **churned accounts** (5 %) stop in a
  month of 2026-07..2026-11; 40 % of the prospects (no revenue in 2026) are
  lapsed customers whose revenue stopped in 2024-07..2025-12.

Rows are written from an account's first month to its last (zeros inside that
span kept); a month without a row is a month without revenue. Nothing here is
tuned to make any forecaster look good.

Usage: ``python data/build_history.py [--seed 2027] [--accounts data/accounts.csv]
[--out data/revenue_history.csv]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

MONTHS = pd.period_range("2024-01", "2026-12", freq="M")
"""The 36 months of history (the plan year, 2027, follows)."""

LAST_YEAR = slice(24, 36)
"""The months that must sum to ``last_year_revenue`` (2026)."""

# Relative monthly level, January first; each is normalised to mean 1.
SEASONALITY = {
    "Retail": [0.80, 0.78, 0.90, 0.92, 0.97, 0.95, 0.93, 1.00, 0.98, 1.05, 1.30, 1.52],
    "Construction": [0.70, 0.75, 0.92, 1.05, 1.15, 1.20, 1.18, 1.15, 1.08, 1.00, 0.90, 0.72],
    "Agriculture": [0.75, 0.85, 1.20, 1.30, 1.20, 0.95, 0.85, 0.90, 1.15, 1.20, 0.90, 0.75],
    "Hospitality": [0.80, 0.82, 0.95, 1.00, 1.10, 1.22, 1.28, 1.20, 1.00, 0.92, 0.85, 0.86],
    "Healthcare": [0.96, 0.97, 1.00, 0.98, 0.99, 1.00, 0.97, 0.98, 1.00, 1.02, 1.03, 1.10],
    "Technology": [0.78, 0.85, 1.25, 0.82, 0.88, 1.22, 0.80, 0.86, 1.20, 0.85, 0.95, 1.54],
    "Financial Services": [0.92, 0.94, 1.08, 0.94, 0.95, 1.06, 0.93, 0.94, 1.06, 0.96, 0.98, 1.24],
    "Manufacturing": [0.95, 1.00, 1.05, 1.04, 1.05, 1.03, 0.85, 0.90, 1.05, 1.06, 1.04, 0.98],
    "Logistics": [0.85, 0.86, 0.95, 0.96, 0.98, 0.98, 0.97, 1.00, 1.03, 1.12, 1.20, 1.10],
    "Energy & Utilities": [1.20, 1.12, 0.98, 0.88, 0.86, 0.98, 1.10, 1.12, 0.95, 0.87, 0.92, 1.02],
}

NOISE_SD = {"enterprise": 0.25, "commercial": 0.35, "smb": 0.50}
ZERO_MONTH = {"enterprise": 0.0, "commercial": 0.08, "smb": 0.15}


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """A stationary AR(1) of length ``n`` (log scale)."""
    out = np.empty(n)
    out[0] = rng.normal(0, sd / np.sqrt(1 - phi**2))
    for m in range(1, n):
        out[m] = phi * out[m - 1] + rng.normal(0, sd)
    return out


def _whole_dollars(values: np.ndarray, total: int) -> np.ndarray:
    """Non-negative whole dollars summing exactly to ``total`` (largest remainder)."""
    scaled = values * (total / values.sum())
    floor = np.floor(scaled)
    short = int(total - floor.sum())
    order = np.argsort(-(scaled - floor), kind="stable")
    floor[order[:short]] += 1
    return floor.astype(np.int64)


def build_history(accounts: pd.DataFrame, seed: int = 2027) -> pd.DataFrame:
    """The long history table of ``accounts`` (``account_id, month, revenue``).

    Parameters
    ----------
    accounts
        The sample's accounts (``account_id, industry, segment, potential,
        last_year_revenue``).
    seed
        Seed of every random draw.

    Returns
    -------
    pandas.DataFrame
        One row per account and month of its active span, sorted by account
        and month; each account's 2026 rows sum to its ``last_year_revenue``.
    """
    rng = np.random.default_rng(seed)
    n_months = len(MONTHS)
    calendar = np.arange(n_months) % 12
    market = _ar1(rng, n_months, phi=0.6, sd=0.03)
    industry_shock = {name: _ar1(rng, n_months, phi=0.7, sd=0.05) for name in SEASONALITY}
    profiles = {k: np.asarray(v) / np.mean(v) for k, v in SEASONALITY.items()}
    t = np.arange(n_months) / 12.0
    frames = []
    for row in accounts.itertuples(index=False):
        revenue = round(float(row.last_year_revenue))
        segment = str(row.segment)
        profile = profiles.get(str(row.industry), np.ones(12))
        amplitude = rng.uniform(0.5, 1.5)
        growth = float(np.clip(rng.normal(0.06, 0.15), -0.5, 1.0))
        log_level = (
            np.log1p(growth) * t
            + amplitude * np.log(profile[calendar])
            + market
            + industry_shock.get(str(row.industry), np.zeros(n_months))
        )
        noise_sd = NOISE_SD.get(segment, 0.4)
        zero_share = ZERO_MONTH.get(segment, 0.1)
        # Mean-one lognormal noise: E[exp(noise)] = 1.
        noise_part = rng.normal(-(noise_sd**2) / 2, noise_sd, n_months)
        log_level = log_level + noise_part
        shape = np.exp(log_level)
        # The expected month (noise and empty months averaged out): the scale of the
        # earlier years is set against it, not against 2026's realised draws, which
        # would bias them (E[1/X] > 1/E[X]).
        expected = np.exp(log_level - noise_part) * (1 - zero_share)
        shape[rng.random(n_months) < zero_share] = 0.0
        start, stop = 0, n_months
        if revenue > 0:
            draw = rng.random()
            if draw < 0.12:
                start = int(rng.integers(1, 31))
                ramp = 1 - np.exp(-(np.arange(n_months) - start + 1) / 3.0)
                shape *= np.clip(ramp, 0, 1)
                expected *= np.clip(ramp, 0, 1)
            elif draw < 0.17:
                stop = int(rng.integers(30, 35))
            shape[:start] = 0.0
            shape[stop:] = 0.0
            expected[:start] = 0.0
            expected[stop:] = 0.0
            if shape[LAST_YEAR].sum() <= 0:
                # Every 2026 month drew "no revenue": the account still sold last year.
                shape[min(stop, n_months) - 1] = 1.0
            whole = np.zeros(n_months, dtype=np.int64)
            factor = revenue / max(expected[LAST_YEAR].sum(), 1e-9)
            whole[:24] = np.round(shape[:24] * factor).astype(np.int64)
            whole[LAST_YEAR] = _whole_dollars(shape[LAST_YEAR], revenue)
        else:
            if rng.random() >= 0.40:
                continue  # a prospect that never bought
            # A lapsed customer: bought for a while, stopped before 2026.
            start = int(rng.integers(0, 12))
            stop = int(rng.integers(max(start + 1, 6), 24))
            monthly = float(row.potential) * rng.beta(3.5, 6.5) / 12
            shape[:start] = 0.0
            shape[stop:] = 0.0
            whole = np.round(shape * monthly).astype(np.int64)
        active = np.flatnonzero(whole > 0)
        if len(active) == 0:
            continue
        span = np.arange(active[0], active[-1] + 1)
        frames.append(
            pd.DataFrame(
                {
                    "account_id": row.account_id,
                    "month": MONTHS[span].strftime("%Y-%m"),
                    "revenue": whole[span],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    """Command line: read the accounts, write the history."""
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--accounts", type=Path, default=here / "accounts.csv")
    parser.add_argument("--out", type=Path, default=here / "revenue_history.csv")
    args = parser.parse_args()
    accounts = pd.read_csv(args.accounts, dtype={"account_id": str})
    history = build_history(accounts, args.seed)
    history.to_csv(args.out, index=False, lineterminator="\n")
    print(f"{len(history):,} rows for {history['account_id'].nunique():,} accounts -> {args.out}")


if __name__ == "__main__":
    main()
