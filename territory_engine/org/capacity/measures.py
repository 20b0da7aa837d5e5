"""The capacity numbers of one headcount's plan, and the recommendation rule (pure).

Capacity model
--------------
A rep has ``H · f`` selling hours a year (``H``: :attr:`CapacitySettings.hours_per_fte`,
``f``: the rep's ``capacity_fte``). Territory ``i`` needs ``W_i`` hours (the
``workload_hours`` of its accounts). Its *coverage* is

``c_i = min(1, H · f_i / W_i)``  (1 when ``W_i = 0``),

the share of its workload the rep can serve. Its expected sales are the plan's own
expected-attainment model (:mod:`territory_engine.metrics.attainment`, the
scorecard's ``E_i``: last year's revenue grown, or potential × capture, times the
ramp) times the coverage: ``E'_i = c_i · E_i``. A territory with more work than its
rep has hours sells only the share it can work. The share of reps expected at quota
is then the same Monte Carlo simulation (the scorecard's ``cv``, correlation, draws
and seed) run on ``E'``, over the reps of the scope (the varied team with
``--segment``, else every rep). The scorecard's own share, without the capacity
limit, is reported beside it (``share_at_quota_uncapped``).

Recommendation
--------------
The smallest headcount whose plan is feasible and whose expected share at quota is
inside the band (``[low, high]``, 60–70 % by default). When none is, the reason
says which way the shares miss (all below, all above, or jumping over the band).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from territory_engine.metrics.attainment import AttainmentModel, attainment_summary

__all__ = [
    "DEFAULT_BAND",
    "DEFAULT_HOURS_PER_FTE",
    "CapacitySettings",
    "Recommendation",
    "coverage",
    "headcount_measures",
    "recommend",
]

#: Selling hours a year of one FTE: 40 hours a week for 40 weeks (after leave,
#: training, internal meetings and admin). A setting: ``--hours-per-fte``.
DEFAULT_HOURS_PER_FTE = 1600.0

#: Share of reps expected at or above quota that a healthy plan reaches, when
#: neither the settings nor a scenario say (the scenario's default is the same).
DEFAULT_BAND = (0.60, 0.70)


@dataclass(frozen=True)
class CapacitySettings:
    """The assumptions of a capacity plan.

    Attributes
    ----------
    hours_per_fte
        Selling hours a year of one full-time rep (``H``).
    band
        ``(low, high)`` share of reps expected at quota that counts as reached;
        ``None``: the scenario's healthy band (``quota.attainment.healthy_low/high``).
    min_population
        Free placement considers gazetteer places of at least this many people.
    """

    hours_per_fte: float = DEFAULT_HOURS_PER_FTE
    band: tuple[float, float] | None = None
    min_population: float = 10_000.0


def coverage(workload: np.ndarray, fte: np.ndarray, hours_per_fte: float) -> np.ndarray:
    """(k,) ``c_i = min(1, H · f_i / W_i)``; 1 where ``W_i ≤ 0``."""
    w = np.asarray(workload, dtype=float)
    hours = hours_per_fte * np.asarray(fte, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w > 0, np.minimum(1.0, hours / np.where(w > 0, w, 1.0)), 1.0)


def _share(quota: np.ndarray, expected: np.ndarray, attainment: dict, ids: Sequence[str]) -> float:
    """The simulated share of reps at or above quota (NaN without quotas).

    Uses the scorecard's own model: its ``cv`` (or each territory's own, when the
    scorecard's ``spread`` lists them), correlation, draws and seed.
    """
    if not len(quota):
        return math.nan
    model = attainment.get("model") or {}
    extra: dict[str, Any] = {}
    own = (attainment.get("spread") or {}).get("cv_by_territory")
    names = {f.name for f in dataclasses.fields(AttainmentModel)}
    if isinstance(own, dict) and "cv_by_territory" in names:
        cv_default = float(model.get("cv", 0.15))
        extra["cv_by_territory"] = np.array([float(own.get(str(t), cv_default)) for t in ids])
    summary = attainment_summary(
        quota,
        AttainmentModel(
            expected_sales=expected,
            cv=float(model.get("cv", 0.15)),
            correlation=float(model.get("correlation", 0.0)),
            draws=int(model.get("draws", 4000)),
            seed=int(model.get("seed", 0)),
            **extra,
        ),
        list(ids),
    )
    return float(summary.get("share_at_or_above_100", math.nan))


def headcount_measures(
    territories: pd.DataFrame,
    quotas: pd.DataFrame,
    attainment: dict[str, Any],
    *,
    scope: Sequence[str] | None,
    hours_per_fte: float,
    target: float,
) -> dict[str, float]:
    """The capacity numbers of one plan.

    Parameters
    ----------
    territories
        ``territories.csv`` of the plan (``territory_id, rep_id, potential,
        workload_hours``).
    quotas
        ``quotas.csv`` (``territory_id, quota, capacity_fte, ramp_factor``).
    attainment
        ``scorecard["quota"]["attainment"]`` (``by_territory`` expected sales and
        ``model``).
    scope
        Rep ids the numbers are about (``None``: every rep).
    hours_per_fte
        ``H`` of the module docstring.
    target
        The company target (for ``expected_sales_to_target``).

    Returns
    -------
    dict
        ``reps``, ``fte``, ``potential_per_fte``, ``workload_per_fte``,
        ``capacity_hours`` (``H · Σf``), ``utilisation`` (``ΣW / (H · Σf)``),
        ``over_capacity`` (territories with ``W_i > H · f_i``), ``coverage_min``,
        ``share_at_quota`` (with the capacity limit), ``share_at_quota_uncapped``,
        ``quota_per_head``, ``quota_per_fte``, ``expected_sales_to_target`` (whole
        plan, with the capacity limit).
    """
    terr = territories.merge(
        quotas[["territory_id", "quota", "capacity_fte"]], on="territory_id", how="left"
    )
    by = attainment.get("by_territory") or {}
    terr["expected"] = [
        (by.get(str(t)) or {}).get("expected_sales", math.nan) for t in terr["territory_id"]
    ]
    terr["fte"] = terr["capacity_fte"].astype(float).fillna(1.0)
    workload = (
        terr["workload_hours"].astype(float)
        if "workload_hours" in terr
        else pd.Series(0.0, index=terr.index)
    )
    terr["coverage"] = coverage(workload.to_numpy(), terr["fte"].to_numpy(), hours_per_fte)
    terr["workload"] = workload
    expected_all = np.nan_to_num(terr["expected"].to_numpy(float)) * terr["coverage"].to_numpy()
    part = terr if scope is None else terr[terr["rep_id"].astype(str).isin(set(scope))]
    carried = part[part["quota"].astype(float) > 0]
    q = carried["quota"].to_numpy(float)
    e = np.nan_to_num(carried["expected"].to_numpy(float))
    fte = float(part["fte"].sum())
    total_w = float(part["workload"].sum())
    hours = hours_per_fte * fte
    return {
        "reps": len(part),
        "fte": fte,
        "potential_per_fte": float(part["potential"].sum()) / fte if fte else math.nan,
        "workload_per_fte": total_w / fte if fte else math.nan,
        "capacity_hours": hours,
        "utilisation": total_w / hours if hours else math.nan,
        "over_capacity": int((part["workload"] > hours_per_fte * part["fte"] + 1e-9).sum()),
        "coverage_min": float(part["coverage"].min()) if len(part) else math.nan,
        "share_at_quota": _share(
            q, e * carried["coverage"].to_numpy(), attainment, carried["territory_id"]
        ),
        "share_at_quota_uncapped": _share(q, e, attainment, carried["territory_id"]),
        "quota_per_head": float(part["quota"].sum()) / len(part) if len(part) else math.nan,
        "quota_per_fte": float(part["quota"].sum()) / fte if fte else math.nan,
        "expected_sales_to_target": float(expected_all.sum()) / target if target else math.nan,
    }


@dataclass(frozen=True)
class Recommendation:
    """The recommended headcount, or why there is none.

    Attributes
    ----------
    headcount
        The smallest feasible headcount in the band, or ``None``.
    reason
        One sentence: why this headcount, or why none.
    """

    headcount: int | None
    reason: str


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def recommend(table: pd.DataFrame, band: tuple[float, float]) -> Recommendation:
    """Apply the recommendation rule to the capacity table.

    Parameters
    ----------
    table
        One row per headcount with ``headcount``, ``status`` (``ok`` = feasible
        plan), ``share_at_quota`` and ``utilisation``.
    band
        ``(low, high)`` shares.
    """
    low, high = band
    band_text = f"{_pct(low)}–{_pct(high)}"
    rows = table.sort_values("headcount", kind="stable")
    ok = rows[(rows["status"] == "ok") & rows["share_at_quota"].notna()]
    if not len(ok):
        return Recommendation(None, "no headcount gave a feasible plan, so none is recommended")
    share = ok["share_at_quota"].astype(float)
    inside = ok[(share >= low - 1e-12) & (share <= high + 1e-12)]
    if len(inside):
        best = inside.iloc[0]
        h = int(best["headcount"])
        text = (
            f"{h} reps is the smallest feasible headcount with {_pct(best['share_at_quota'])} "
            f"of reps expected at quota, inside the {band_text} band"
        )
        if h == int(ok.iloc[0]["headcount"]) and h == int(rows.iloc[0]["headcount"]):
            text += "; it is the smallest headcount tried, so fewer reps may reach it too"
        return Recommendation(h, text)
    top = ok.loc[share.idxmax()]
    if (share < low).all():
        last = ok.iloc[-1]
        if float(last["utilisation"]) > 1.0:
            why = (
                f"the largest headcount ({int(last['headcount'])}) still has "
                f"{_pct(last['utilisation'])} of its selling hours booked: try more reps"
            )
        else:
            why = (
                "the territories are covered by then, so more reps do not raise it: the "
                "quotas are hard against expected sales (lower the target or widen the band)"
            )
        return Recommendation(
            None,
            f"no headcount reaches {_pct(low)} of reps at quota (best "
            f"{_pct(top['share_at_quota'])} at {int(top['headcount'])} reps); {why}",
        )
    if (share > high).all():
        first = ok.iloc[0]
        return Recommendation(
            None,
            f"every headcount has more than {_pct(high)} of reps at quota (at "
            f"{int(first['headcount'])} reps: {_pct(first['share_at_quota'])}): the quotas look "
            "easy; try fewer reps or raise the target",
        )
    return Recommendation(
        None,
        f"the share at quota jumps over the {band_text} band between headcounts; "
        "use a finer --reps step",
    )
