"""Seeded sample actuals for a plan folder: monthly revenue per account for the first N months.

Usage::

    make demo                                                 # writes out/fy_baseline
    python benchmarks/make_actuals.py out/fy_baseline --months 6 --output out/actuals_h1.csv
    territory-engine kpis out/fy_baseline out/actuals_h1.csv

Each account's year is its ``last_year_revenue`` grown by the plan's growth
(``quota.growth`` in ``plan.json``, default 8 %), spread over the months by the plan's
seasonality profile (flat without one), and multiplied by three seeded log-normal
shocks: one per territory (how the territory's year goes: sd ``--territory-sd``), one
per account (sd ``--account-sd``) and one per account and month (sd 0.25). A share
``--churn`` of accounts stops buying at a random month. Nothing is tuned to make any
KPI come out right. The file is written to ``--output`` (not committed: ``out/`` is
ignored).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from territory_engine.org.kpis.metrics import plan_months  # noqa: E402
from territory_engine.plan.atomic import write_text_atomically  # noqa: E402
from territory_engine.plan.reader import read_plan_folder  # noqa: E402
from territory_engine.quota.seasonality import monthly_shares  # noqa: E402


def make_actuals(
    plan_dir: Path,
    *,
    months: int,
    seed: int = 2027,
    territory_sd: float = 0.15,
    account_sd: float = 0.35,
    churn: float = 0.03,
) -> pd.DataFrame:
    """``account_id, month, revenue`` for the first ``months`` months of the plan year."""
    from datetime import date

    folder = read_plan_folder(plan_dir)
    quota_cfg = (folder.manifest.get("scenario") or {}).get("quota") or {}
    start = date.fromisoformat(str(quota_cfg.get("plan_start") or "2027-01-01")[:10])
    growth = float(quota_cfg.get("growth") or 0.08)
    profile = (quota_cfg.get("seasonality") or {}).get("profile")
    shares = monthly_shares(profile)
    rng = np.random.default_rng(seed)
    accounts = folder.account_view()
    territories = sorted(set(accounts["territory_id"]))
    t_shock = dict(
        zip(
            territories,
            rng.lognormal(-(territory_sd**2) / 2, territory_sd, len(territories)),
            strict=True,
        )
    )
    n = len(accounts)
    base = accounts["last_year_revenue"].to_numpy(dtype=float) * (1 + growth)
    base *= accounts["territory_id"].map(t_shock).to_numpy(dtype=float)
    base *= rng.lognormal(-(account_sd**2) / 2, account_sd, n)
    stop = np.where(rng.random(n) < churn, rng.integers(0, 12, n), 12)
    month_names = plan_months(start)[:months]
    frames = []
    for k, month in enumerate(month_names):
        noise = rng.lognormal(-(0.25**2) / 2, 0.25, n)
        revenue = np.where(k < stop, base * shares[k] * noise, 0.0)
        frames.append(
            pd.DataFrame(
                {
                    "account_id": accounts["account_id"].to_numpy(),
                    "month": month,
                    "revenue": np.round(revenue, 2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan_dir", type=Path)
    parser.add_argument("--months", type=int, default=6, help="first N months (1..12)")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--territory-sd", type=float, default=0.15)
    parser.add_argument("--account-sd", type=float, default=0.35)
    parser.add_argument("--churn", type=float, default=0.03)
    parser.add_argument("--output", type=Path, default=REPO / "out" / "actuals.csv")
    args = parser.parse_args(argv)
    if not 1 <= args.months <= 12:
        parser.error("--months is 1..12")
    frame = make_actuals(
        args.plan_dir,
        months=args.months,
        seed=args.seed,
        territory_sd=args.territory_sd,
        account_sd=args.account_sd,
        churn=args.churn,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(args.output, frame.to_csv(index=False, lineterminator="\n"))
    print(f"wrote {args.output}: {len(frame):,} rows, {args.months} months, seed {args.seed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
