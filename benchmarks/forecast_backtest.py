"""Forecast backtest on the sample: WAPE and MAPE per level against seasonal naive.

The sample's 36 months of history (``data/revenue_history.csv``, 2024-01 ..
2026-12) are summed per territory, the last 12 months (2026) held out, AutoETS
(season length 12, reconciled by MinTrace-shrink and by bottom-up) and
SeasonalNaive fitted on 2024-2025, and both scored on 2026 at each level. The
territories are, in turn:

- ``plan``: the territories of ``scenarios/whatif_forecast_quotas.yaml`` (the
  FY2027 baseline's alignment, solved here with its seed), i.e. the series the
  plan's forecasts and quotas use;
- ``last-year``: last year's owners (``current_rep_id``), no solve needed.

With ``--hierarchy PLAN_DIR/hierarchy.csv`` (a drawn hierarchy, ``territory_id,
rep_id, district, region, manager``) the plan's territories are reconciled
through its districts and regions as well; otherwise company -> territory.

The target of issue 17: WAPE at least 15 % below seasonal naive at the
territory level (``wape_gain >= 0.15``).

Usage::

    python benchmarks/forecast_backtest.py [--skip-plan] [--hierarchy FILE]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from territory_engine.io.history import read_history
from territory_engine.org.forecast import backtest, build_hierarchy
from territory_engine.org.forecast.plan import territory_history

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "whatif_forecast_quotas.yaml"


def _plan_territories() -> tuple[np.ndarray, list[str]]:
    """The territory of each account (accounts.csv order) in the solved FY2027 plan."""
    from territory_engine.config import load_scenario
    from territory_engine.io.load import load_tables
    from territory_engine.pipeline.run import solve_scenario

    scenario = load_scenario(SCENARIO)
    tables = load_tables(scenario)
    problem, index, alignment = solve_scenario(scenario, tables)
    return alignment.assign[index.account_unit], list(problem.territory_ids)


def _last_year() -> tuple[np.ndarray, list[str]]:
    owners = pd.read_csv(ROOT / "data" / "accounts.csv", dtype=str)["current_rep_id"].fillna("")
    ids, inverse = np.unique(owners.replace("", "(no owner)").to_numpy(), return_inverse=True)
    return inverse, [str(i) for i in ids]


def _table(name: str, values: np.ndarray, months: pd.PeriodIndex, mapping) -> None:
    tree = build_hierarchy(_ids[name], mapping)
    for how in ("mint_shrink", "bottom_up"):
        t0 = time.perf_counter()
        out = backtest(values, months, tree, reconcile=how)
        seconds = time.perf_counter() - t0
        print(
            f"\n{name}: {len(_ids[name])} territories, reconciliation {out['reconciliation']}, "
            f"holdout {out['holdout']}, {seconds:.1f} s"
        )
        print(f"{'level':<10} {'WAPE':>7} {'naive':>7} {'gain':>7}   {'MAPE':>7} {'naive':>7}")
        for level, s in out["backtest"].items():
            print(
                f"{level:<10} {s['wape']:7.2%} {s['naive_wape']:7.2%} {s['wape_gain']:7.1%}"
                f"   {s['mape']:7.2%} {s['naive_mape']:7.2%}"
            )


_ids: dict[str, list[str]] = {}


def main() -> None:
    """Run the backtests and print one table per territory set and reconciliation."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-plan", action="store_true", help="only last year's owners")
    parser.add_argument("--hierarchy", type=Path, help="a drawn hierarchy.csv for the plan")
    args = parser.parse_args()
    accounts = pd.read_csv(ROOT / "data" / "accounts.csv", dtype=str)
    t0 = time.perf_counter()
    history = read_history(
        ROOT / "data" / "revenue_history.csv",
        accounts["account_id"].to_numpy(),
        plan_start=date(2027, 1, 1),
    )
    print(
        f"history: {history.revenue.shape[0]} accounts x {history.n_months} months "
        f"({history.months[0]}..{history.months[-1]}), read in {time.perf_counter() - t0:.1f} s"
    )
    sets = {"last-year": _last_year()}
    if not args.skip_plan:
        t1 = time.perf_counter()
        sets["plan"] = _plan_territories()
        print(f"plan solved in {time.perf_counter() - t1:.1f} s")
    for name, (account_territory, ids) in sets.items():
        _ids[name] = ids
        values = territory_history(history, account_territory, len(ids))
        mapping = None
        if name == "plan" and args.hierarchy is not None:
            mapping = pd.read_csv(args.hierarchy, dtype=str)
        _table(name, values, history.months, mapping)


if __name__ == "__main__":
    main()
