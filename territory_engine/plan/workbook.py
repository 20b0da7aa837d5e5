"""``plan.xlsx``: the plan as one Excel workbook, for planners who live in Excel.

Four sheets, each a table of the plan folder with a bold header, frozen header
pane, column widths fitted to the content and number formats:

- ``territories``: ``territories.csv``;
- ``quotas``: ``quotas.csv``, the explanation included;
- ``assignments``: ``assignments.csv`` with the account's name, segment and
  potential and the rep's name beside the ids;
- ``moves``: the accounts whose owner changes against last year (``moved``), from
  whom to whom, by potential (:func:`territory_engine.plan.compare.moved_accounts`).

Money columns (potential, revenue, quotas and their adjustments) show as
``$#,##0``; ``*_pct`` columns, which the CSV files hold in percent, are stored as
fractions with a percent format, so ``1.26`` in the CSV is 1.3 % in Excel and a
formula sees ``0.0126``. Text cells go through
:func:`territory_engine.io.safe_cells.safe_frame`, like every CSV the engine writes.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from territory_engine.io.safe_cells import safe_frame
from territory_engine.plan.compare import moved_accounts

__all__ = ["MONEY_FORMAT", "PERCENT_FORMAT", "SHEETS", "plan_sheets", "write_plan_workbook"]

#: Sheet names, in order.
SHEETS = ("territories", "quotas", "assignments", "moves")

MONEY_FORMAT = '"$"#,##0'
PERCENT_FORMAT = "0.0%"
_RATIO_FORMAT = "0.000"
_COUNT_FORMAT = "#,##0"
_NUMBER_FORMAT = "#,##0.00"
_COORDINATE_FORMAT = "0.00000"

_MONEY_PREFIXES = ("potential", "last_year_revenue")
_MONEY_COLUMNS = frozenset(
    {
        "quota",
        "pool_target",
        "raw_quota",
        "ramp_adjustment",
        "held_back",
        "cap_low",
        "cap_high",
        "cap_adjustment",
        "rounding_adjustment",
        "last_year_quota",
        "territory_potential",
        "territory_last_year_revenue",
    }
)
_MAX_WIDTH = 60
_WIDTH_SAMPLE = 2000  # rows looked at to fit a column's width


def plan_sheets(
    territories: pd.DataFrame,
    quotas: pd.DataFrame,
    assignments: pd.DataFrame,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """The tables of ``plan.xlsx``, by sheet name (:data:`SHEETS`).

    Parameters
    ----------
    territories, quotas, assignments
        ``territories.csv``, ``quotas.csv`` and ``assignments.csv`` of the plan.
    accounts, reps
        ``accounts.csv`` and ``reps.csv`` of the plan (names, segments, potential).

    Returns
    -------
    dict of str to pandas.DataFrame
    """
    info = accounts.drop_duplicates("account_id").set_index("account_id")
    names = reps.drop_duplicates("rep_id").set_index("rep_id")["name"]
    view = assignments.copy()
    for column in ("name", "segment", "potential"):
        if column in info.columns:
            view[column] = view["account_id"].map(info[column])
    view["rep_name"] = view["rep_id"].map(names).fillna("")
    moved = assignments[assignments["moved"].astype(str).str.lower() == "true"]
    last_year = pd.DataFrame(
        {
            "account_id": moved["account_id"],
            "territory_id": "",
            "rep_id": moved["previous_rep_id"],
        }
    )
    moves = moved_accounts(last_year, assignments, accounts, reps)
    moves = moves.drop(columns=["from_territory_id"])
    return {
        "territories": territories,
        "quotas": quotas,
        "assignments": view,
        "moves": moves,
    }


def write_plan_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """Write ``sheets`` (from :func:`plan_sheets`) as the Excel workbook ``path``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    book = Workbook(write_only=True)
    for name, frame in sheets.items():
        _write_sheet(book, name, safe_frame(frame))
    book.save(path)
    return Path(path)


def _write_sheet(book: Workbook, name: str, frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(title=name)
    sheet.freeze_panes = "B2"
    columns = [str(c) for c in frame.columns]
    for i, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = _width(column, frame[column])
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    # Column by column into plain Python values (numpy scalars and NaN are not
    # cells); a formatted number becomes a styled cell, anything else stays a value.
    cells = [_column_cells(sheet, frame[c], _format_of(c, frame[c])) for c in columns]
    for row in zip(*cells, strict=True):
        sheet.append(row)


def _column_cells(sheet, values: pd.Series, fmt: str | None) -> list[object]:
    """The cells of one column: numbers scaled and styled by ``fmt``, NaN as empty."""
    if fmt is None:
        return [None if _missing(v) else v for v in values.tolist()]
    numbers = values.astype(float) / (100.0 if fmt == PERCENT_FORMAT else 1.0)
    out: list[object] = []
    for value in numbers.tolist():
        if not math.isfinite(value):
            out.append(None)
            continue
        whole = fmt == _COUNT_FORMAT and value.is_integer()
        cell = WriteOnlyCell(sheet, value=int(value) if whole else value)
        cell.number_format = fmt
        out.append(cell)
    return out


def _missing(value: object) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _format_of(column: str, values: pd.Series) -> str | None:
    """The number format of a numeric column, by what its name says it holds."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    if column.endswith("_pct"):
        return PERCENT_FORMAT
    if column in _MONEY_COLUMNS or (
        column.startswith(_MONEY_PREFIXES) and not column.endswith(("_in_band", "_dev_pct"))
    ):
        return MONEY_FORMAT
    if column in {"lat", "lon", "centre_lat", "centre_lon", "home_lat", "home_lon"}:
        return _COORDINATE_FORMAT
    if column in {"quota_to_potential", "ramp_factor", "capacity_fte"}:
        return _RATIO_FORMAT
    if pd.api.types.is_integer_dtype(values) or column.startswith("n_"):
        return _COUNT_FORMAT
    return _NUMBER_FORMAT


def _width(column: str, values: pd.Series) -> float:
    """A column width that shows the header and most cells whole, at most 60."""
    sample = values.head(_WIDTH_SAMPLE)
    if pd.api.types.is_float_dtype(sample):
        longest = 14
    else:
        lengths = sample.map(lambda v: len(str(v)) if v is not None else 0)
        longest = int(lengths.quantile(0.95)) if len(lengths) else 0
    return float(min(_MAX_WIDTH, max(len(column) + 2, longest + 2, 8)))
