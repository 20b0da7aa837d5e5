"""Quotas of a mid-year change, pro-rated from the effective date.

Each plan month ``k`` (``k = 0..11`` from the plan start) of territory ``t``
carries a monthly quota ``M_tk``: the plan's period split
(``quota_splits.csv``, a quarter spread evenly over its three months) or,
without one, ``Q_t / 12``. An account's share of its territory's quota is its
share of the territory's potential, ``w_a = P_a / P_t``. With ``α_k`` the share
of month ``k`` after the effective date (1 after it, 0 before, the fraction of
days left in the month it falls in), an account ``a`` moving from ``t`` to
``u`` carries ``V_a = w_a Σ_k α_k M_tk``:

* the old owner keeps ``Q_t − Σ_{a leaves t} V_a`` (the months before, and
  *quota relief* for the accounts taken away after the date);
* the new owner takes ``Q_u + Σ_{a joins u} V_a`` (the moved accounts' quota
  for the remaining months);
* a departed rep keeps only the months before; a new rep holds only what it takes.

So the company total does not change; the changed quotas are rounded to the
plan's rounding unit with :func:`~territory_engine.quota.rounding.round_preserving_total`
so that they sum to exactly what they summed to before, to the cent. Each
changed quota gets an explanation in words. Pure functions of tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from territory_engine.display.numbers import money
from territory_engine.errors import ScenarioError
from territory_engine.quota.ramp import MONTHS
from territory_engine.quota.rounding import round_preserving_total, to_cents
from territory_engine.quota.seasonality import period_labels, split_quotas

__all__ = [
    "CHANGE_COLUMNS",
    "ProRated",
    "month_shares_after",
    "monthly_quotas",
    "prorate_quotas",
]

#: Columns of ``quota_changes.csv``, one row per rep whose quota changed.
CHANGE_COLUMNS = (
    "rep_id",
    "territory_id",
    "status",
    "old_quota",
    "quota_before_effective",
    "relief",
    "takeover",
    "accounts_out",
    "accounts_in",
    "new_quota",
    "explanation",
)


def _month_starts(plan_start: date) -> list[date]:
    start = pd.Timestamp(plan_start)
    return [(start + pd.DateOffset(months=k)).date() for k in range(MONTHS + 1)]


def month_shares_after(plan_start: date, effective: date) -> np.ndarray:
    """(12,) share of each plan month that lies on or after ``effective``.

    Raises
    ------
    ScenarioError
        ``effective`` before the plan start, or on or after the plan's end.
    """
    starts = _month_starts(plan_start)
    if effective < starts[0]:
        raise ScenarioError(
            f"--effective {effective.isoformat()} is before the plan starts "
            f"({starts[0].isoformat()}); a change takes effect within the plan year"
        )
    if effective >= starts[-1]:
        raise ScenarioError(
            f"--effective {effective.isoformat()} is on or after the plan's end "
            f"({starts[-1].isoformat()}, 12 months after {starts[0].isoformat()}); "
            "adjust the next year's plan instead"
        )
    out = np.zeros(MONTHS)
    for k in range(MONTHS):
        if effective <= starts[k]:
            out[k] = 1.0
        elif effective < starts[k + 1]:
            out[k] = (starts[k + 1] - effective).days / (starts[k + 1] - starts[k]).days
    return out


def monthly_quotas(quotas: pd.DataFrame, splits: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """Territory id -> (12,) monthly quota: the period split, else the quota in twelve.

    A quarter's quota is spread evenly over its three months. The months are
    scaled to sum to the territory's quota (a hand-edited split that does not
    is read as a profile).
    """
    out: dict[str, np.ndarray] = {}
    by_territory = (
        {t: g for t, g in splits.groupby("territory_id", sort=False)}
        if splits is not None and len(splits)
        else {}
    )
    for tid, q in zip(
        quotas["territory_id"].astype(str), quotas["quota"].astype(float), strict=True
    ):
        months = np.full(MONTHS, 1.0)
        rows = by_territory.get(tid)
        if rows is not None:
            months = np.zeros(MONTHS)
            for period, value in zip(rows["period"].astype(str), rows["quota"], strict=True):
                if period.startswith("Q") and period[1:].isdigit() and 1 <= int(period[1:]) <= 4:
                    p = int(period[1:]) - 1
                    months[3 * p : 3 * p + 3] += float(value) / 3.0
                elif period.startswith("M") and period[1:].isdigit() and 1 <= int(period[1:]) <= 12:
                    months[int(period[1:]) - 1] += float(value)
            if months.sum() <= 0:
                months = np.full(MONTHS, 1.0)
        out[tid] = q * months / months.sum()
    return out


@dataclass(frozen=True)
class ProRated:
    """The pro-rated quotas of a mid-year change.

    Attributes
    ----------
    quota_cents
        Rep id -> new annual quota in cents, for every rep whose quota changed
        (departed reps included: they keep the months before the date).
    monthly
        Rep id -> (12,) new monthly quota (dollars, before rounding) of each
        changed rep.
    changes
        ``quota_changes.csv``: :data:`CHANGE_COLUMNS`, one row per changed rep.
    total_before, total_after
        The company total in cents before and after (equal).
    """

    quota_cents: dict[str, int]
    monthly: dict[str, np.ndarray]
    changes: pd.DataFrame
    total_before: int
    total_after: int

    def splits(self, rep_territory: dict[str, str], period: str, unit: float) -> pd.DataFrame:
        """``quota_splits.csv`` rows of the changed reps still in the plan.

        ``period`` is the plan's (``quarter`` or ``month``); each rep's periods
        sum exactly to its new quota.
        """
        reps = [r for r in self.quota_cents if r in rep_territory]
        if not reps:
            return pd.DataFrame(
                columns=["territory_id", "rep_id", "period", "period_start", "quota"]
            )
        cents = np.array([self.quota_cents[r] for r in reps], dtype=np.int64)
        weights = np.clip(np.array([self.monthly[r] for r in reps]), 0.0, None)
        table = split_quotas(cents, weights, period, unit)
        labels = period_labels(period)
        rows = []
        for i, r in enumerate(reps):
            for p, label in enumerate(labels):
                rows.append(
                    {
                        "territory_id": rep_territory[r],
                        "rep_id": r,
                        "period": label,
                        "quota": table[i, p] / 100.0,
                    }
                )
        return pd.DataFrame(rows)


def _months_text(months: float) -> str:
    rounded = round(months, 1)
    if rounded == int(rounded):
        n = int(rounded)
        return f"{n} month" + ("" if n == 1 else "s")
    return f"{rounded} months"


def _accounts(n: int) -> str:
    return f"{n} account" + ("" if n == 1 else "s")


def _who(counts: pd.Series) -> str:
    """``R12 (4), R13 (2)`` from a count per rep."""
    return ", ".join(f"{r} ({int(n)})" for r, n in counts.sort_index().items())


def prorate_quotas(
    quotas: pd.DataFrame,
    splits: pd.DataFrame | None,
    old: pd.DataFrame,
    new_rep: pd.Series,
    *,
    plan_start: date,
    effective: date,
    unit: float,
) -> ProRated:
    """Pro-rate the quotas of the reps whose accounts changed (see the module docstring).

    Parameters
    ----------
    quotas, splits
        The parent plan's ``quotas.csv`` (``territory_id, rep_id, quota``) and
        ``quota_splits.csv`` (or ``None``).
    old
        The parent plan's accounts: ``account_id, territory_id, rep_id, potential``.
    new_rep
        Account id -> rep id in the adjusted plan.
    plan_start, effective
        The plan's first day and the date the change takes effect.
    unit
        Rounding unit of the changed quotas, in dollars.

    Raises
    ------
    ScenarioError
        The effective date outside the plan year.
    """
    after = month_shares_after(plan_start, effective)
    months_after = float(after.sum())
    months_before = MONTHS - months_after
    monthly = monthly_quotas(quotas, splits)
    q_of = dict(zip(quotas["rep_id"].astype(str), quotas["quota"].astype(float), strict=True))
    t_of = dict(zip(quotas["rep_id"].astype(str), quotas["territory_id"].astype(str), strict=True))
    frame = old[["account_id", "territory_id", "rep_id", "potential"]].copy()
    frame["new_rep"] = frame["account_id"].astype(str).map(new_rep).fillna("").astype(str)
    pot = frame["potential"].astype(float).clip(lower=0.0)
    t_pot = pot.groupby(frame["territory_id"]).transform("sum")
    t_n = frame.groupby("territory_id")["account_id"].transform("count")
    share = np.where(t_pot > 0, pot / t_pot.where(t_pot > 0, 1.0), 1.0 / t_n)
    moving = (frame["rep_id"] != frame["new_rep"]) & (frame["new_rep"] != "")
    moved = frame[moving].copy()
    zero = np.zeros(MONTHS)
    values = np.array(
        [
            s * monthly.get(t, zero) * after
            for s, t in zip(share[moving.to_numpy()], moved["territory_id"], strict=True)
        ]
    ).reshape(-1, MONTHS)
    moved["value"] = values.sum(axis=1)
    relief: dict[str, np.ndarray] = {}
    takeover: dict[str, np.ndarray] = {}
    for (src, dst), v in zip(
        zip(moved["rep_id"], moved["new_rep"], strict=True), values, strict=True
    ):
        relief[src] = relief.get(src, zero) + v
        takeover[dst] = takeover.get(dst, zero) + v
    new_ids = set(new_rep.astype(str)) - {""}
    changed = sorted(set(relief) | set(takeover))
    raw = np.array(
        [
            q_of.get(r, 0.0) - relief.get(r, zero).sum() + takeover.get(r, zero).sum()
            for r in changed
        ]
    )
    before_total = float(sum(q_of.get(r, 0.0) for r in changed))
    cents = round_preserving_total(raw, unit, before_total) if changed else np.zeros(0, np.int64)
    quota_cents = {r: int(c) for r, c in zip(changed, cents, strict=True)}
    new_monthly = {
        r: monthly.get(t_of.get(r, ""), zero) - relief.get(r, zero) + takeover.get(r, zero)
        for r in changed
    }
    when = effective.isoformat()
    after_text = _months_text(months_after)
    rows = []
    for r in changed:
        out_rows = moved[moved["rep_id"] == r]
        in_rows = moved[moved["new_rep"] == r]
        old_q = q_of.get(r, 0.0)
        relief_v = float(relief.get(r, zero).sum())
        take_v = float(takeover.get(r, zero).sum())
        parts = []
        if r not in new_ids:
            status = "left"
            kept = old_q - relief_v
            parts.append(
                f"{r} left on {when}: {_months_text(months_before)} of {r}'s quota "
                f"({money(kept)}) stay with {r}; quota relief of {money(relief_v)} for the "
                f"{after_text} after, on {_accounts(len(out_rows))} handed to "
                f"{_who(out_rows.groupby('new_rep').size())}"
            )
        elif r not in q_of:
            status = "joined"
            parts.append(
                f"{r} joins on {when} and takes {_accounts(len(in_rows))} worth "
                f"{money(take_v)} for the {after_text} left, from "
                f"{_who(in_rows.groupby('rep_id').size())}"
            )
        else:
            status = "changed"
            if len(in_rows):
                parts.append(
                    f"{r} takes {_accounts(len(in_rows))} worth {money(take_v)} for "
                    f"{after_text} from {_who(in_rows.groupby('rep_id').size())} on {when}"
                )
            if len(out_rows):
                parts.append(
                    f"{r} hands {_accounts(len(out_rows))} to "
                    f"{_who(out_rows.groupby('new_rep').size())} on {when}: quota relief of "
                    f"{money(relief_v)} for the {after_text} after"
                )
        new_q = quota_cents[r] / 100.0
        parts.append(f"quota {money(old_q)} -> {money(new_q)} (rounded to {money(unit)})")
        rows.append(
            {
                "rep_id": r,
                "territory_id": t_of.get(r, ""),
                "status": status,
                "old_quota": old_q,
                "quota_before_effective": float(
                    (monthly.get(t_of.get(r, ""), zero) * (1 - after)).sum()
                ),
                "relief": relief_v,
                "takeover": take_v,
                "accounts_out": len(out_rows),
                "accounts_in": len(in_rows),
                "new_quota": new_q,
                "explanation": "; ".join(parts) + ".",
            }
        )
    changes = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    total = sum(to_cents(q) for q in q_of.values())
    after_cents = total - sum(to_cents(q_of.get(r, 0.0)) for r in changed) + int(cents.sum())
    return ProRated(quota_cents, new_monthly, changes, total, after_cents)
