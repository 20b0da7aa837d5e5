"""Read one sheet of an ``.xlsx`` workbook as the CSV reader reads a file: every cell text.

Cells become the strings a CSV export of the sheet would hold, so the same
checks apply and the same messages come out: whole numbers lose Excel's float
(``30301.0`` -> ``"30301"``), dates at midnight read ``YYYY-MM-DD``, empty cells
``""``. Row numbers are the sheet's own (the header is row 1), blank rows
included, so a message points at the row Excel shows.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd

from territory_engine.errors import InputError, did_you_mean


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheets, in order.

    Raises
    ------
    InputError
        When the file is not an ``.xlsx`` workbook.
    """
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise InputError(f"cannot be read as an .xlsx workbook: {exc}", file=str(path)) from exc
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def read_xlsx(path: Path, kind: str, sheet: str | None = None) -> pd.DataFrame:
    """Read `sheet` (default: the first) of the workbook at `path`, every cell as text.

    Parameters
    ----------
    path
        An ``.xlsx`` file.
    kind
        What the table holds, for the messages.
    sheet
        The sheet's name (``data.sheets.<table>``); ``None``: the first sheet.

    Returns
    -------
    pandas.DataFrame
        Stripped headers, string cells; index = sheet row - 2 (blank rows dropped).

    Raises
    ------
    InputError
        A file that is not a workbook, a sheet that does not exist (naming the
        sheets it has), or a sheet without a header row.
    """
    names = sheet_names(path)
    if sheet is not None and sheet not in names:
        raise InputError(
            f"has no sheet {sheet!r}{did_you_mean(sheet, names)}; sheets: {', '.join(names)}",
            file=str(path),
        )
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        cells = book[sheet or names[0]].iter_rows(values_only=True)
        rows = [[_text(v) for v in row] for row in cells]
    finally:
        book.close()
    if not rows:
        raise InputError(f"the {kind} table has no rows (the sheet is empty)", file=str(path))
    header = rows[0]
    if all(v == "" for v in header):
        raise InputError(
            f"the first row of sheet {sheet or names[0]!r} is empty; it must hold the column names",
            file=str(path),
        )
    width = max(i + 1 for i, v in enumerate(header) if v != "")
    header = header[:width]
    body = [(row + [""] * width)[:width] for row in rows[1:]]
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame = frame.astype({name: "str" for name in frame.columns}) if len(frame) else frame
    blank = frame.apply(lambda r: all(v == "" for v in r), axis=1) if len(frame) else []
    return frame[~pd.Series(blank, index=frame.index, dtype=bool)].copy()


def _text(value: object) -> str:
    """A cell as the text a CSV export shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()
