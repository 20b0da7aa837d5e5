"""Read a table of monthly actual revenue against a plan, with row/column-precise errors.

The table is long: one row per record and month, either per account
(``account_id, month, revenue``) or per territory (``territory_id, month, revenue``,
or ``rep_id, month, revenue``). ``month`` is ``YYYY-MM`` inside the plan year;
``revenue`` a finite number at or above zero. The id columns are checked against
the plan (an unknown id fails with a did-you-mean), and a record may appear once
per month. The reader knows nothing of KPIs; it returns the rows tied to the plan's
territories (:class:`Actuals`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_engine.io.tables import (
    check_columns,
    check_known,
    check_minimum,
    raise_for_rows,
    read_table,
    row_number,
)

__all__ = ["ACTUALS_ID_COLUMNS", "Actuals", "read_actuals"]

#: The id columns an actuals table may be keyed by, in the order they are looked for.
ACTUALS_ID_COLUMNS = ("account_id", "territory_id", "rep_id")

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_MONTH_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-01$")  # a spreadsheet's first-of-month date


@dataclass(frozen=True)
class Actuals:
    """Monthly actual revenue tied to a plan's territories.

    Attributes
    ----------
    path
        The file read.
    by
        The id column the file was keyed by: ``account_id``, ``territory_id`` or
        ``rep_id``.
    rows
        ``territory_id, month, revenue`` and the file's id column, one row per
        record of the file (in its order); ``month`` is ``YYYY-MM`` text.
    months
        The distinct months present, sorted.
    """

    path: Path
    by: str
    rows: pd.DataFrame
    months: tuple[str, ...]


def read_actuals(
    path: str | os.PathLike[str],
    *,
    territory_of: Mapping[str, Mapping[str, str]],
    plan_months: Sequence[str] | None,
    columns: Mapping[str, str] | None = None,
) -> Actuals:
    """Read and check a table of monthly actuals.

    Parameters
    ----------
    path
        CSV, ``.xlsx`` or Parquet with ``month``, ``revenue`` and one of
        :data:`ACTUALS_ID_COLUMNS` (``account_id`` wins when several are present).
    territory_of
        For each id column, id -> territory_id of the plan (accounts from
        ``assignments.csv``, territories and reps from ``quotas.csv``).
    plan_months
        The twelve ``YYYY-MM`` months of the plan year; a month outside them fails.
        ``None`` when the plan does not say when its year starts: any month passes.
    columns
        Engine column -> the file's header, as ``data.columns`` does for the inputs.

    Returns
    -------
    Actuals

    Raises
    ------
    InputError
        A missing column, a bad month, a month outside the plan year, a revenue that
        is not a number or is negative, an id the plan does not know, or a record
        given twice for one month; each names the file, row, id and column.
    """
    path = Path(path)
    frame = read_table(
        path,
        kind="actuals",
        required=["month", "revenue"],
        numeric=["revenue"],
        text=[*ACTUALS_ID_COLUMNS, "month"],
        columns=columns,
    )
    by = next((c for c in ACTUALS_ID_COLUMNS if c in frame.columns), None)
    if by is None:
        # The message lists the three ways a file can be keyed, and the columns it has.
        check_columns(frame, ["account_id"], file=path, kind="actuals", known=["month", "revenue"])
        raise AssertionError("unreachable: check_columns raised")
    raise_for_rows(
        frame,
        (frame[by] == "").to_numpy(),
        file=path,
        column=by,
        id_column=None,
        describe=lambda _: f"{by} is empty; every row needs the {_noun(by)} it belongs to",
    )
    frame["month"] = _months(frame, file=path, id_column=by, plan_months=plan_months)
    check_minimum(frame, "revenue", 0.0, file=path, id_column=by)
    known = territory_of.get(by, {})
    hint = (
        "; a new account is not in the plan yet: route it with `territory-engine assign` "
        "and give its territory_id instead"
        if by == "account_id"
        else ""
    )
    check_known(
        frame,
        by,
        pd.Series(list(known), dtype=object),
        file=path,
        id_column=by,
        what=f"{'an' if by == 'account_id' else 'a'} {_noun(by)} of the plan",
        hint=hint,
    )
    _check_duplicates(frame, by, file=path)
    rows = pd.DataFrame(
        {
            by: frame[by].to_numpy(dtype=object),
            "territory_id": frame[by].map(dict(known)).to_numpy(dtype=object),
            "month": frame["month"].to_numpy(dtype=object),
            "revenue": frame["revenue"].to_numpy(dtype=float),
        }
    )
    return Actuals(path=path, by=by, rows=rows, months=tuple(sorted(set(rows["month"]))))


def _noun(column: str) -> str:
    return {"account_id": "account", "territory_id": "territory", "rep_id": "rep"}[column]


def _months(
    frame: pd.DataFrame, *, file: Path, id_column: str, plan_months: Sequence[str] | None
) -> pd.Series:
    """``YYYY-MM`` text of each row; ``2027-03-01`` (how a spreadsheet saves it) accepted."""
    text = frame["month"].str.replace(_MONTH_DATE_RE, r"\1-\2", regex=True)
    # Excel and Parquet give real dates: "2027-03-01 00:00:00".
    text = text.str.replace(r"^(\d{4})-(\d{2})-01 00:00:00$", r"\1-\2", regex=True)
    parts = text.str.extract(_MONTH_RE)
    month_no = pd.to_numeric(parts[1], errors="coerce")
    bad = (parts[0].isna() | ~month_no.between(1, 12)).to_numpy()
    kwargs: dict[str, Any] = {"file": file, "column": "month", "id_column": id_column}
    raise_for_rows(
        frame,
        (frame["month"] == "").to_numpy(),
        describe=lambda _: "is empty; write the month as YYYY-MM",
        **kwargs,
    )
    raise_for_rows(
        frame,
        bad,
        describe=lambda label: f"{frame.at[label, 'month']!r} is not a month; write it as YYYY-MM",
        **kwargs,
    )
    if plan_months is None:
        return text
    allowed = list(plan_months)
    span = f"{allowed[0]} to {allowed[-1]}" if allowed else "none"
    raise_for_rows(
        frame,
        ~np.isin(text.to_numpy(dtype=object), np.asarray(allowed, dtype=object)),
        describe=lambda label: f"{text[label]!r} is outside the plan year ({span})",
        **kwargs,
    )
    return text


def _check_duplicates(frame: pd.DataFrame, by: str, *, file: Path) -> None:
    key = frame[by] + "\x00" + frame["month"]
    repeated = key.duplicated(keep="first").to_numpy()

    def describe(label: Hashable) -> str:
        first = frame.index[(key == key[label]).to_numpy()][0]
        shown = row_number(frame, first)
        where = f" (also on row {shown})" if shown is not None else ""
        return (
            f"{_noun(by)} {frame.at[label, by]!r} has two rows for "
            f"{frame.at[label, 'month']}{where}; give one total per month"
        )

    raise_for_rows(frame, repeated, file=file, column="month", id_column=by, describe=describe)
