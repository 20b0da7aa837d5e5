"""A plan's forecasts: territory series under the plan's own assignment, quotas from them.

The pipeline step (:func:`forecast_plan`) runs when the scenario has
``data.history``:

1. each territory's monthly series is the sum of the history of the accounts
   the *new* plan gives it (:func:`territory_history`), so a territory's
   forecast is the forecast of the book its rep will carry;
2. :func:`plan_forecast` forecasts the plan year for every level (territory,
   district, region, company; the hierarchy from the argument, else the
   quota regions and districts, else the company alone), reconciled, with
   80 % and 95 % intervals, and backtests the last 12 months (bottom-up by
   default; once the pipeline has drawn districts and regions,
   :func:`forecast_by_hierarchy` reconciles through them as well, leaving the
   territories' forecasts, and so their quotas, as they were);
3. the quotas are re-allocated with the forecast (``quota.method: forecast``)
   and the expected-attainment simulation takes each territory's spread from
   its own forecast interval (``quota.attainment.spread: history``).

A scenario without ``data.history`` goes straight to
:func:`~territory_engine.pipeline.assemble.make_plan`: same plan, same files.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from territory_engine.config import Scenario
from territory_engine.errors import ScenarioError
from territory_engine.io.history import History, read_history
from territory_engine.io.jsonio import to_json
from territory_engine.io.load import Tables
from territory_engine.io.safe_cells import write_csv
from territory_engine.metrics.scorecard import quota_section
from territory_engine.org.forecast.model import (
    FORECAST_COLUMNS,
    Reconcile,
    backtest,
    build_hierarchy,
    forecast_hierarchy,
)
from territory_engine.plan.files import MANIFEST
from territory_engine.plan.model import Plan
from territory_engine.problem.build import ProblemIndex
from territory_engine.problem.data import ProblemData
from territory_engine.solve import Alignment

__all__ = [
    "FORECASTS_FILE",
    "PlanForecast",
    "annual_cv",
    "forecast_by_hierarchy",
    "forecast_plan",
    "kept_forecast",
    "parent_forecast",
    "plan_forecast",
    "quota_hierarchy",
    "regroup_forecast",
    "territory_history",
    "write_forecasts",
]

FORECASTS_FILE = "forecasts.csv"
"""The plan folder's forecasts: :data:`~territory_engine.org.forecast.model.FORECAST_COLUMNS`."""

_Z80 = 1.2815515655446004
"""The standard normal quantile of 0.9: an 80 % interval is ``mean ± 1.2816 σ``."""


@dataclass(frozen=True)
class PlanForecast:
    """The forecasts of a plan.

    Attributes
    ----------
    table
        ``forecasts.csv``: one row per level, id and plan month.
    section
        The scorecard's ``forecast`` section (backtest, plan year totals).
    territory_total
        (k,) ``F_i``: each territory's plan-year forecast, in the plan's order.
    territory_cv
        (k,) each territory's annual coefficient of variation (:func:`annual_cv`).
    values, months
        (k, T) the territories' monthly history and its months, kept so that the
        forecasts can be regrouped under another hierarchy (:func:`regroup_forecast`).
    start
        The plan's first month.
    reconcile
        The reconciliation asked for.
    """

    table: pd.DataFrame
    section: dict
    territory_total: np.ndarray
    territory_cv: np.ndarray
    values: np.ndarray
    months: pd.PeriodIndex
    start: pd.Period
    reconcile: Reconcile = "bottom_up"


def territory_history(history: History, account_territory: np.ndarray, k: int) -> np.ndarray:
    """(k, T) monthly revenue of each territory: the sum over the accounts it holds.

    Parameters
    ----------
    history
        The accounts' history, rows in the accounts table's order.
    account_territory
        (N,) territory index of each account under the plan.
    k
        Number of territories.
    """
    out = np.zeros((k, history.n_months))
    np.add.at(out, np.asarray(account_territory, dtype=int), history.revenue)
    return out


def annual_cv(table: pd.DataFrame, territory_ids: Sequence[str]) -> np.ndarray:
    """(k,) each territory's plan-year coefficient of variation from its forecast interval.

    A month's standard deviation is read off its 80 % interval,
    ``σ_m = (hi_80 − forecast) / 1.2816`` (the upper side: the lower one may be
    clipped at zero). The year's is taken as ``Σ σ_m``, as if a territory's
    months erred together: ETS errors carry over from month to month (a level
    that is off stays off), and months that erred independently would give
    ``√Σσ_m²``, about a third of it, which no sales year shows. ``v_i = Σσ_m / F_i``
    (0 for a territory without forecast).
    """
    rows = table[table["level"] == "territory"]
    sigma = ((rows["hi_80"] - rows["forecast"]).clip(lower=0) / _Z80).groupby(rows["id"]).sum()
    total = rows.groupby("id")["forecast"].sum()
    ids = [str(t) for t in territory_ids]
    s = sigma.reindex(ids).fillna(0.0).to_numpy(float)
    f = total.reindex(ids).fillna(0.0).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f > 0, s / np.where(f > 0, f, 1.0), 0.0)


def quota_hierarchy(quotas: pd.DataFrame) -> pd.DataFrame | None:
    """``territory_id, district, region`` from a plan's quotas, or ``None`` without regions."""
    if "region" not in quotas.columns or (quotas["region"].astype(str) == "").all():
        return None
    columns = ["territory_id"]
    if "district" in quotas.columns and (quotas["district"].astype(str) != "").all():
        columns.append("district")
    columns.append("region")
    return quotas[columns].astype(str)


def plan_forecast(
    scenario: Scenario,
    tables: Tables,
    account_territory: np.ndarray,
    territory_ids: Sequence[str],
    hierarchy: pd.DataFrame | None = None,
    *,
    history: History | None = None,
    reconcile: Reconcile = "bottom_up",
) -> PlanForecast | None:
    """The plan year's forecasts and the backtest of a plan, or ``None`` without history.

    Parameters
    ----------
    scenario
        Its ``data.history`` (the file) and ``quota.plan_start`` (the plan year;
        default the 12 months after the history).
    tables
        The loaded tables (the accounts, in the order of ``account_territory``).
    account_territory
        (N,) territory index of each account under the plan.
    territory_ids
        (k,) the plan's territories.
    hierarchy
        ``territory_id`` and the levels above it (``district``, ``region``; a
        drawn ``hierarchy.csv`` or :func:`quota_hierarchy`); ``None``: company only.
    history
        The history already read (default: read ``data.history``).
    reconcile
        ``bottom_up`` (the default: a territory's forecast is its own, whatever
        the levels above it, so quotas from forecasts do not depend on how the
        territories are grouped) or ``mint_shrink``.

    Raises
    ------
    InputError
        A bad history file.
    ScenarioError
        A hierarchy that does not nest or misses a territory.
    """
    if history is None:
        if scenario.data.history is None:
            return None
        history = read_history(
            scenario.data.history,
            tables.accounts["account_id"].astype(str).to_numpy(),
            plan_start=scenario.quota.plan_start,
        )
    ids = [str(t) for t in territory_ids]
    values = territory_history(history, account_territory, len(ids))
    start = (
        pd.Period(scenario.quota.plan_start, freq="M")
        if scenario.quota.plan_start is not None
        else history.months[-1] + 1
    )
    info = {
        # The name only: the scorecard is the same wherever the checkout lies
        # (plan.json's provenance keeps the whole path).
        "file": Path(str(history.source)).name,
        "months": f"{history.months[0]}..{history.months[-1]}",
        "accounts_with_revenue": int((history.revenue.sum(axis=1) > 0).sum()),
    }
    return _forecast(values, history.months, ids, hierarchy, start, reconcile, info)


def _forecast(
    values: np.ndarray,
    months: pd.PeriodIndex,
    ids: list[str],
    hierarchy: pd.DataFrame | None,
    start: pd.Period,
    reconcile: Reconcile,
    info: dict,
) -> PlanForecast:
    """Forecast, backtest and summarise the territory series ``values``."""
    try:
        tree = build_hierarchy(ids, hierarchy)
    except ValueError as exc:
        raise ScenarioError(f"forecast hierarchy: {exc}") from None
    table = forecast_hierarchy(values, months, tree, start=start, reconcile=reconcile)
    table = table.round({c: 2 for c in FORECAST_COLUMNS[3:]})
    checked = backtest(values, months, tree, reconcile=reconcile)
    rows = table[table["level"] == "territory"]
    total = rows.groupby("id")["forecast"].sum().reindex(ids).fillna(0.0).to_numpy(float)
    cv = annual_cv(table, ids)
    company = table[table["level"] == "company"]
    section = {
        **checked,
        "history": info,
        "plan_year": {
            "months": f"{start}..{start + 11}",
            "company_forecast": round(float(company["forecast"].sum()), 2),
            "company_lo_80": round(float(company["lo_80"].sum()), 2),
            "company_hi_80": round(float(company["hi_80"].sum()), 2),
            "levels": tree.levels,
        },
        "territory_total": {t: round(float(x), 2) for t, x in zip(ids, total, strict=True)},
        "territory_cv": {t: round(float(x), 6) for t, x in zip(ids, cv, strict=True)},
    }
    return PlanForecast(table, section, total, cv, values, months, start, reconcile)


def regroup_forecast(forecast: PlanForecast, hierarchy: pd.DataFrame) -> PlanForecast:
    """``forecast`` reconciled through ``hierarchy`` (e.g. the drawn districts and regions).

    With ``bottom_up`` the territories' forecasts, and so the quotas made from
    them, stay what they were; only the levels above them are added.
    """
    ids = list(forecast.section["territory_total"])
    info = forecast.section.get("history", {})
    return _forecast(
        forecast.values, forecast.months, ids, hierarchy, forecast.start, forecast.reconcile, info
    )


def forecast_by_hierarchy(
    plan: Plan, card: dict, forecast: PlanForecast | None
) -> tuple[Plan, dict, PlanForecast | None]:
    """The pipeline's step after the drawn hierarchy: forecasts through its levels.

    Unchanged without a forecast or without a drawn hierarchy (``plan.hierarchy``,
    ``territory_id, rep_id, <level 1>, <level 2>, ..., manager``).
    """
    drawn = getattr(plan, "hierarchy", None)
    if forecast is None or drawn is None:
        return plan, card, forecast
    regrouped = regroup_forecast(forecast, drawn)
    return plan, {**card, "forecast": regrouped.section}, regrouped


def _uses_history_spread(scenario: Scenario) -> bool:
    spread = scenario.quota.attainment.spread
    return spread == "history" or (spread is None and scenario.data.history is not None)


def forecast_plan(
    scenario: Scenario,
    tables: Tables,
    problem: ProblemData,
    index: ProblemIndex,
    alignment: Alignment,
    hierarchy: pd.DataFrame | None = None,
) -> tuple[Plan, dict, PlanForecast | None]:
    """:func:`~territory_engine.pipeline.assemble.make_plan`, with forecasts when there is history.

    Without ``data.history`` this is ``make_plan`` exactly (and the forecast is
    ``None``). With it: the plan is made, its territories' forecasts computed
    under its assignment, and the quotas re-allocated with them (method
    ``forecast``) and their attainment simulated with each territory's own
    spread; the scorecard gains a ``forecast`` section.

    Parameters
    ----------
    hierarchy
        The levels above the territories (see :func:`plan_forecast`); default
        the plan's quota regions and districts, else the company alone.

    Raises
    ------
    ScenarioError
        ``quota.method: forecast`` or ``attainment.spread: history`` without
        ``data.history``.
    """
    from territory_engine.pipeline.assemble import make_plan

    wants = scenario.quota.method == "forecast" or scenario.quota.attainment.spread == "history"
    if scenario.data.history is None:
        if wants:
            raise ScenarioError(
                "quota.method 'forecast' and quota.attainment.spread 'history' need the "
                "accounts' monthly revenue: set data.history (account_id, month, revenue)"
            )
        plan, card = make_plan(scenario, tables, problem, index, alignment)
        return plan, card, None
    # The first allocation only places territories in their regions and districts:
    # the forecast method needs the forecast, which needs the plan's assignment.
    first = scenario
    if scenario.quota.method == "forecast":
        first = scenario.model_copy(
            update={"quota": scenario.quota.model_copy(update={"method": "potential"})}
        )
    plan, card = make_plan(first, tables, problem, index, alignment)
    account_territory = alignment.assign[index.account_unit]
    ids = list(problem.territory_ids)
    mapping = hierarchy if hierarchy is not None else quota_hierarchy(plan.quotas)
    fc = plan_forecast(scenario, tables, account_territory, ids, mapping)
    assert fc is not None  # data.history is set
    plan, card = _requota(
        scenario, tables, plan, card, fc, account_territory, index, alignment.centres
    )
    card = {**card, "forecast": fc.section}
    return plan, card, fc


def _requota(
    scenario: Scenario,
    tables: Tables,
    plan: Plan,
    card: dict,
    fc: PlanForecast,
    account_territory: np.ndarray,
    index: ProblemIndex,
    centres: np.ndarray,
) -> tuple[Plan, dict]:
    """The quotas of ``plan`` from the forecast, and the scorecard's quota section with them."""
    from territory_engine.metrics.attainment import expected_sales
    from territory_engine.quota.allocate import allocate
    from territory_engine.quota.inputs import attainment_model, quota_inputs

    ids = [str(t) for t in plan.quotas["territory_id"]]
    if ids != [str(t) for t in fc.section["territory_total"]]:
        raise AssertionError("the quotas and the forecasts list the territories differently")
    inputs = quota_inputs(
        scenario.quota,
        tables.accounts,
        tables.reps,
        tables.units,
        account_territory,
        ids,
        index.territory_rep,
        centres,
        accounts_file=str(scenario.data.accounts),
    )
    inputs = dataclasses.replace(inputs, forecast=fc.territory_total)
    result = allocate(scenario.quota, inputs, target_change=scenario.whatif.target_change)
    model = attainment_model(scenario, inputs, result.summary["target"], result.ramp_factor)
    cfg = scenario.quota.attainment
    if _uses_history_spread(scenario):
        update: dict = {"cv_by_territory": fc.territory_cv}
        if cfg.expected_capture is None and cfg.expected_growth is None:
            # With a forecast, what a territory is expected to sell is its forecast.
            update["expected_sales"] = expected_sales(
                inputs.potential, fc.territory_total, result.ramp_factor, growth=0.0
            )
            update["description"] = "the territory's plan-year forecast × ramp (data.history)"
        model = dataclasses.replace(model, **update)
    potential = np.bincount(
        account_territory,
        weights=tables.accounts["potential"].to_numpy(float),
        minlength=len(ids),
    )
    quota = quota_section(
        result.quotas["quota"].to_numpy(float),
        potential,
        ids,
        model,
        allocation=result.summary,
    )
    plan = dataclasses.replace(plan, quotas=result.quotas, quota_splits=result.splits)
    return plan, {**card, "quota": quota}


def write_forecasts(plan_dir: Path, forecast: PlanForecast) -> Path:
    """Add ``forecasts.csv`` to a written plan folder (atomically), listed in ``plan.json``."""
    from territory_engine.plan.rewrite import rewrite_folder

    plan_dir = Path(plan_dir)
    manifest = json.loads((plan_dir / MANIFEST).read_text(encoding="utf-8"))
    files = list(manifest.get("files", []))
    if FORECASTS_FILE not in files:
        files.insert(max(len(files) - 1, 0), FORECASTS_FILE)
    manifest["files"] = files

    def write_manifest(path: Path) -> None:
        path.write_text(to_json(manifest), encoding="utf-8")

    return rewrite_folder(
        plan_dir,
        {
            FORECASTS_FILE: lambda path: write_csv(forecast.table, path),
            MANIFEST: write_manifest,
        },
    )


def _book(rows: object) -> dict[str, tuple]:
    """Territory id -> (accounts, potential) of a scorecard's territory table."""
    out: dict[str, tuple] = {}
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and "territory_id" in row:
            out[str(row["territory_id"])] = (
                row.get("n_accounts"),
                round(float(row.get("potential") or 0.0), 2),
            )
    return out


def kept_forecast(section: dict, old_territories: object, new_territories: object) -> dict:
    """The scorecard's ``forecast`` section of a re-scored plan: carried over, never refitted.

    A forecast is a function of the history and of which accounts each territory
    holds. ``score`` rewrites only ``scorecard.json`` and ``report.html``: refitting
    every territory's AutoETS and its backtest there would take seconds to minutes
    and leave ``forecasts.csv`` and quotas from forecasts (``quota.method:
    forecast``) disagreeing with the card. So the section is kept as it is when
    each territory still holds the accounts count and potential the old scorecard
    recorded, and otherwise kept and marked ``stale: true`` with the reason
    (re-run the scenario to refit). An edit that swaps accounts of equal count
    and potential between territories is not seen.
    """
    old, new = _book(old_territories), _book(new_territories)
    if old and old == new:
        return section
    changed = sorted(t for t in set(old) | set(new) if old.get(t) != new.get(t))
    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    reason = (
        f"the assignment changed since the forecast (territories {shown}); forecasts.csv "
        "and this section are the old assignment's: re-run the scenario to refit them"
        if changed
        else "the scorecard the forecast came with has no territory table to check the "
        "assignment against; forecasts.csv and this section may be another assignment's"
    )
    return {**section, "stale": True, "stale_reason": reason}


def parent_forecast(section: dict, parent_path: Path) -> dict:
    """The ``forecast`` section of a mid-year change: the parent plan's, marked so.

    The re-drawn territories' books changed, so their forecasts are not refitted
    from here: ``forecasts.csv`` and this section are carried from the parent
    (``from_parent``) and marked ``stale``.
    """
    return {
        **section,
        "from_parent": str(Path(parent_path).resolve()),
        "stale": True,
        "stale_reason": "carried from the parent plan: the forecasts are of the parent's "
        "territories before the change; re-run the scenario to refit them",
    }
