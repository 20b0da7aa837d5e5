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


@dataclass(frozen=True)
class _Basis:
    """The parent plan's quotas and the change's date, that every changed rep is worked from.

    Attributes
    ----------
    q_of, t_of
        Rep id -> annual quota and territory id in the parent plan.
    monthly
        Territory id -> (12,) monthly quota (:func:`monthly_quotas`).
    after
        (12,) share of each plan month on or after the effective date.
    effective, unit
        The effective date and the rounding unit in dollars.
    """

    q_of: dict[str, float]
    t_of: dict[str, str]
    monthly: dict[str, np.ndarray]
    after: np.ndarray
    effective: date
    unit: float

    def territory_months(self, rep: str) -> np.ndarray:
        """(12,) monthly quota of ``rep``'s territory in the parent plan (zero for a hire)."""
        return self.monthly.get(self.t_of.get(rep, ""), np.zeros(MONTHS))


@dataclass(frozen=True)
class _Moves:
    """The accounts that change rep, and the quota they carry after the date per rep.

    Attributes
    ----------
    moved
        The moved accounts: ``account_id, territory_id, rep_id, potential,
        new_rep, value``.
    relief, takeover
        Rep id -> (12,) quota handed away and taken over, month by month.
    """

    moved: pd.DataFrame
    relief: dict[str, np.ndarray]
    takeover: dict[str, np.ndarray]

    def relief_of(self, rep: str) -> np.ndarray:
        """(12,) quota ``rep`` is relieved of (zero if it hands nothing away)."""
        return self.relief.get(rep, np.zeros(MONTHS))

    def takeover_of(self, rep: str) -> np.ndarray:
        """(12,) quota ``rep`` takes over (zero if it takes nothing)."""
        return self.takeover.get(rep, np.zeros(MONTHS))


def _account_shares(old: pd.DataFrame, new_rep: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """The parent's accounts with their new rep, and each one's share of its territory."""
    frame = old[["account_id", "territory_id", "rep_id", "potential"]].copy()
    frame["new_rep"] = frame["account_id"].astype(str).map(new_rep).fillna("").astype(str)
    pot = frame["potential"].astype(float).clip(lower=0.0)
    t_pot = pot.groupby(frame["territory_id"]).transform("sum")
    t_n = frame.groupby("territory_id")["account_id"].transform("count")
    # A territory without potential shares its quota equally among its accounts.
    share = np.where(t_pot > 0, pot / t_pot.where(t_pot > 0, 1.0), 1.0 / t_n)
    return frame, share


def _moves(
    old: pd.DataFrame, new_rep: pd.Series, monthly: dict[str, np.ndarray], after: np.ndarray
) -> _Moves:
    """The moved accounts and what each rep hands away and takes over, month by month."""
    frame, share = _account_shares(old, new_rep)
    # An account without a rep in the new plan is not a move: it has no one to go to.
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
    return _Moves(moved, relief, takeover)


def _status(rep: str, new_ids: set[str], q_of: dict[str, float]) -> str:
    """``left`` (not in the new plan), ``joined`` (not in the parent) or ``changed``."""
    if rep not in new_ids:
        return "left"
    if rep not in q_of:
        return "joined"
    return "changed"


def _explanation_parts(
    rep: str,
    status: str,
    out_rows: pd.DataFrame,
    in_rows: pd.DataFrame,
    basis: _Basis,
    relief_v: float,
    take_v: float,
) -> list[str]:
    """The sentences of ``rep``'s explanation before its quota line, as its status reads."""
    when = basis.effective.isoformat()
    months_after = float(basis.after.sum())
    after_text = _months_text(months_after)
    if status == "left":
        kept = basis.q_of.get(rep, 0.0) - relief_v
        return [
            f"{rep} left on {when}: {_months_text(MONTHS - months_after)} of {rep}'s quota "
            f"({money(kept)}) stay with {rep}; quota relief of {money(relief_v)} for the "
            f"{after_text} after, on {_accounts(len(out_rows))} handed to "
            f"{_who(out_rows.groupby('new_rep').size())}"
        ]
    if status == "joined":
        return [
            f"{rep} joins on {when} and takes {_accounts(len(in_rows))} worth "
            f"{money(take_v)} for the {after_text} left, from "
            f"{_who(in_rows.groupby('rep_id').size())}"
        ]
    parts = []
    if len(in_rows):
        parts.append(
            f"{rep} takes {_accounts(len(in_rows))} worth {money(take_v)} for "
            f"{after_text} from {_who(in_rows.groupby('rep_id').size())} on {when}"
        )
    if len(out_rows):
        parts.append(
            f"{rep} hands {_accounts(len(out_rows))} to "
            f"{_who(out_rows.groupby('new_rep').size())} on {when}: quota relief of "
            f"{money(relief_v)} for the {after_text} after"
        )
    return parts


def _change_row(
    rep: str, new_cents: int, status: str, moves: _Moves, basis: _Basis
) -> dict[str, object]:
    """``rep``'s row of ``quota_changes.csv``, its explanation included."""
    out_rows = moves.moved[moves.moved["rep_id"] == rep]
    in_rows = moves.moved[moves.moved["new_rep"] == rep]
    old_q = basis.q_of.get(rep, 0.0)
    relief_v = float(moves.relief_of(rep).sum())
    take_v = float(moves.takeover_of(rep).sum())
    new_q = new_cents / 100.0
    parts = _explanation_parts(rep, status, out_rows, in_rows, basis, relief_v, take_v)
    parts.append(f"quota {money(old_q)} -> {money(new_q)} (rounded to {money(basis.unit)})")
    return {
        "rep_id": rep,
        "territory_id": basis.t_of.get(rep, ""),
        "status": status,
        "old_quota": old_q,
        "quota_before_effective": float((basis.territory_months(rep) * (1 - basis.after)).sum()),
        "relief": relief_v,
        "takeover": take_v,
        "accounts_out": len(out_rows),
        "accounts_in": len(in_rows),
        "new_quota": new_q,
        "explanation": "; ".join(parts) + ".",
    }


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
    monthly = monthly_quotas(quotas, splits)
    q_of = dict(zip(quotas["rep_id"].astype(str), quotas["quota"].astype(float), strict=True))
    t_of = dict(zip(quotas["rep_id"].astype(str), quotas["territory_id"].astype(str), strict=True))
    basis = _Basis(q_of, t_of, monthly, after, effective, unit)
    moves = _moves(old, new_rep, monthly, after)
    new_ids = set(new_rep.astype(str)) - {""}
    changed = sorted(set(moves.relief) | set(moves.takeover))
    raw = np.array(
        [q_of.get(r, 0.0) - moves.relief_of(r).sum() + moves.takeover_of(r).sum() for r in changed]
    )
    # Rounded so the changed quotas sum to what they summed to before, to the cent.
    before_total = float(sum(q_of.get(r, 0.0) for r in changed))
    cents = round_preserving_total(raw, unit, before_total) if changed else np.zeros(0, np.int64)
    quota_cents = {r: int(c) for r, c in zip(changed, cents, strict=True)}
    new_monthly = {
        r: basis.territory_months(r) - moves.relief_of(r) + moves.takeover_of(r) for r in changed
    }
    rows = [
        _change_row(r, quota_cents[r], _status(r, new_ids, q_of), moves, basis) for r in changed
    ]
    changes = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    total = sum(to_cents(q) for q in q_of.values())
    after_cents = total - sum(to_cents(q_of.get(r, 0.0)) for r in changed) + int(cents.sum())
    return ProRated(quota_cents, new_monthly, changes, total, after_cents)
