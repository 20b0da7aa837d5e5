"""Read accounts' monthly revenue history (``data.history``).

Two shapes are accepted:

- **long**: ``account_id, month, revenue`` with ``month`` as ``YYYY-MM`` (or
  ``YYYY-MM-01``), one row per account and month; a month without a row is a
  month without revenue;
- **wide**: ``account_id, revenue_m01 .. revenue_mNN`` (for example the accounts
  file itself); column ``mNN`` is the month just before the plan starts and
  ``m01`` the oldest, so that ``revenue_m01 .. revenue_m12`` mean what they mean
  for ``quota.seasonality.source: history``. Needs the plan's first day.

Errors name the file, the row as a spreadsheet shows it, the account and the
column: an unknown account, a bad month, a negative or non-numeric revenue, an
account-month given twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from territory_engine.errors import InputError
from territory_engine.io.tables import (
    check_known,
    raise_for_rows,
    read_table,
    to_numbers,
)

__all__ = ["History", "read_history"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")
_WIDE = re.compile(r"^revenue_m(\d{2,3})$")


@dataclass(frozen=True)
class History:
    """Monthly revenue of every account, as a dense matrix.

    Attributes
    ----------
    account_ids
        (N,) the accounts, in the order asked for (the accounts table's).
    months
        (T,) consecutive monthly periods, oldest first.
    revenue
        (N, T) revenue of each account in each month (0 where none is given).
    source
        The file it was read from, for messages.
    """

    account_ids: np.ndarray
    months: pd.PeriodIndex
    revenue: np.ndarray
    source: str = ""

    @property
    def n_months(self) -> int:
        """``T``, the number of months."""
        return len(self.months)


def read_history(
    path: str | Path,
    account_ids: Sequence[str] | np.ndarray,
    *,
    plan_start: date | None = None,
) -> History:
    """Read the revenue history at ``path`` for the accounts ``account_ids``.

    Parameters
    ----------
    path
        A CSV, Parquet or Excel table, long or wide (see the module docstring).
    account_ids
        The accounts of the scenario, in the accounts table's order; every
        account of the history must be one of them.
    plan_start
        The plan's first day (``quota.plan_start``). The long table's months
        must end before it; the wide columns end the month before it.

    Returns
    -------
    History

    Raises
    ------
    InputError
        A missing column, an unknown account, a bad month, a negative or
        non-numeric revenue, a duplicate account-month, months at or after the
        plan start, or wide columns without a plan start.
    """
    file = str(path)
    frame = read_table(
        path, kind="revenue history", required=["account_id"], id_column="account_id"
    )
    ids = np.asarray([str(a) for a in account_ids], dtype=object)
    check_known(
        frame,
        "account_id",
        pd.Series(ids),
        file=file,
        id_column="account_id",
        what="an account of the accounts table",
    )
    wide = sorted((int(m.group(1)), str(c)) for c in frame.columns if (m := _WIDE.match(str(c))))
    if "month" in frame.columns or not wide:
        months, revenue = _long(frame, file, ids)
    else:
        months, revenue = _wide(frame, file, ids, wide, plan_start)
    if plan_start is not None and len(months) and months[-1] >= pd.Period(plan_start, freq="M"):
        raise InputError(
            f"the history runs to {months[-1]}, but the plan starts "
            f"{pd.Period(plan_start, freq='M')}: give only months before the plan year",
            file=file,
            column="month",
        )
    return History(account_ids=ids, months=months, revenue=revenue, source=file)


def _long(frame: pd.DataFrame, file: str, ids: np.ndarray) -> tuple[pd.PeriodIndex, np.ndarray]:
    for column in ("month", "revenue"):
        if column not in frame.columns:
            raise InputError(
                f"missing column {column!r}; a long revenue history has columns "
                "account_id, month, revenue (or give revenue_m01 .. revenue_mNN columns); "
                f"the table has columns: {', '.join(map(str, frame.columns))}",
                file=file,
                column=column,
            )
    text = frame["month"].astype(str).str.strip()
    parsed = text.str.extract(_MONTH)
    month_no = pd.to_numeric(parsed[1], errors="coerce")
    bad = parsed[0].isna().to_numpy() | ~month_no.between(1, 12).to_numpy()
    raise_for_rows(
        frame,
        bad,
        file=file,
        column="month",
        id_column="account_id",
        describe=lambda label: f"{text[label]!r} is not a month: write it as YYYY-MM, e.g. 2026-03",
    )
    revenue = to_numbers(frame, "revenue", file=file, id_column="account_id")
    raise_for_rows(
        frame,
        (revenue < 0).to_numpy(),
        file=file,
        column="revenue",
        id_column="account_id",
        describe=lambda label: f"revenue {revenue[label]:g} is negative",
    )
    period_no = parsed[0].astype(int).to_numpy() * 12 + month_no.to_numpy(int) - 1
    key = (
        frame["account_id"].astype(str) + "|" + pd.Series(period_no, index=frame.index).astype(str)
    )
    dup = key.duplicated(keep="first").to_numpy()
    raise_for_rows(
        frame,
        dup,
        file=file,
        column="month",
        id_column="account_id",
        describe=lambda label: (
            f"account {frame.at[label, 'account_id']!s} has month {text[label]} twice"
        ),
    )
    if len(frame) == 0:
        raise InputError("the revenue history has no rows", file=file)
    first, last = int(period_no.min()), int(period_no.max())
    months = pd.period_range(
        pd.Period(year=first // 12, month=first % 12 + 1, freq="M"),
        pd.Period(year=last // 12, month=last % 12 + 1, freq="M"),
        freq="M",
    )
    row_of = pd.Index(ids).get_indexer(frame["account_id"].astype(str))
    out = np.zeros((len(ids), len(months)))
    np.add.at(out, (row_of, period_no - first), revenue.to_numpy(float))
    return months, out


def _negative(values: pd.Series) -> Callable[[Hashable], str]:
    """The message of a negative revenue in ``values``."""
    return lambda label: f"revenue {values[label]:g} is negative"


def _wide(
    frame: pd.DataFrame,
    file: str,
    ids: np.ndarray,
    wide: list[tuple[int, str]],
    plan_start: date | None,
) -> tuple[pd.PeriodIndex, np.ndarray]:
    numbers = [n for n, _ in wide]
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        raise InputError(
            f"the monthly columns must run revenue_m01 .. revenue_m{max(numbers):02d} without "
            f"gaps; missing: {', '.join(f'revenue_m{m:02d}' for m in missing)}",
            file=file,
        )
    if plan_start is None:
        raise InputError(
            "monthly columns revenue_m01 .. need quota.plan_start: the last column is the "
            "month before the plan starts",
            file=file,
        )
    dup = frame["account_id"].astype(str).duplicated().to_numpy()
    raise_for_rows(
        frame,
        dup,
        file=file,
        column="account_id",
        id_column="account_id",
        describe=lambda label: f"account {frame.at[label, 'account_id']!s} is listed twice",
    )
    values = np.zeros((len(frame), len(wide)))
    for j, (_, column) in enumerate(wide):
        col = to_numbers(frame, column, file=file, id_column="account_id")
        raise_for_rows(
            frame,
            (col < 0).to_numpy(),
            file=file,
            column=column,
            id_column="account_id",
            describe=_negative(col),
        )
        values[:, j] = col.to_numpy(float)
    end = pd.Period(plan_start, freq="M") - 1
    months = pd.period_range(end=end, periods=len(wide), freq="M")
    row_of = pd.Index(ids).get_indexer(frame["account_id"].astype(str))
    out = np.zeros((len(ids), len(wide)))
    out[row_of] = values
    return months, out
