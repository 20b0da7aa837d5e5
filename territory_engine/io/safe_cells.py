"""Safe text cells: the one rule against formula injection in the files the engine writes.

A spreadsheet opening a CSV or an Excel file runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` as a formula, and a leading tab or carriage return hides such a
start; account and rep names come from a CRM, where anyone may type
``=HYPERLINK("http://evil", "Acme")``. Following the OWASP guidance on CSV injection,
every text cell that starts with one of :data:`TRIGGERS` is written with a single
quote in front, so the spreadsheet shows it as text.

- Numbers are never touched: a float ``-12.5`` is a number, and so is the text
  ``"-12.5"`` (a number written as text cannot be a formula), so numeric columns stay
  numeric and negative amounts stay negative.
- The rule is reversible, so the plan reader reads back exactly what was written:
  a text that already starts with quotes followed by a trigger (``'=x``) gets one more
  quote, and :func:`restore_text` removes exactly one quote from a cell that starts
  with quotes followed by a trigger. ``restore_text(safe_text(v)) == v`` for every
  text ``v``.

Every CSV and Excel writer of the engine goes through :func:`safe_frame` (or
:func:`write_csv` / :func:`csv_text`); the plan reader goes through
:func:`restore_frame`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

import pandas as pd

__all__ = [
    "TRIGGERS",
    "csv_text",
    "restore_frame",
    "restore_text",
    "safe_frame",
    "safe_text",
    "write_csv",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_TRIGGER_CLASS = "[" + re.escape("".join(TRIGGERS)) + "]"
# A cell that a spreadsheet would run, or one that only looks neutralised already.
_NEEDS_QUOTE = re.compile(rf"^'*{_TRIGGER_CLASS}", re.S)
# A cell neutralised by safe_text: one or more quotes, then a trigger.
_QUOTED = re.compile(rf"^'+{_TRIGGER_CLASS}", re.S)
# A plain number written as text ("-12.5", "+3", "-1e-3") is never a formula.
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def safe_text(value: object) -> object:
    """``value`` as a cell a spreadsheet shows as text (non-text values unchanged).

    Parameters
    ----------
    value
        Any cell value.

    Returns
    -------
    object
        ``"'" + value`` when ``value`` is a text that starts with one of
        :data:`TRIGGERS` (or with quotes followed by one) and is not a plain
        number; else ``value`` itself.

    Examples
    --------
    >>> safe_text("=1+1"), safe_text("-12.5"), safe_text(-3.0), safe_text("Acme")
    ("'=1+1", '-12.5', -3.0, 'Acme')
    """
    if isinstance(value, str) and _NEEDS_QUOTE.match(value) and not _NUMBER.match(value):
        return "'" + value
    return value


def restore_text(value: object) -> object:
    """Undo :func:`safe_text`: the text as it was before it was written."""
    if isinstance(value, str) and _QUOTED.match(value):
        return value[1:]
    return value


def _text_columns(frame: pd.DataFrame, columns: Iterable[str] | None) -> list:
    names = frame.columns if columns is None else [c for c in columns if c in frame.columns]
    return [
        c
        for c in names
        if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    ]


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell passed through :func:`safe_text`.

    Only text (object or string dtype) columns are looked at; numeric, boolean and
    date columns are returned as they are.
    """
    out = frame.copy()
    for column in _text_columns(frame, None):
        out[column] = frame[column].map(safe_text)
    return out


def restore_frame(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """``frame`` with :func:`restore_text` applied to its text cells, in place.

    Parameters
    ----------
    frame
        A table read from a file the engine wrote.
    columns
        The columns to restore (those present); default every text column.

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself.
    """
    for column in _text_columns(frame, columns):
        values = frame[column]
        if values.map(lambda v: isinstance(v, str) and v.startswith("'")).any():
            frame[column] = values.map(restore_text)
    return frame


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as safe CSV text (no index, ``\\n`` line ends), for atomic writers."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\n")


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``frame`` to ``path`` as safe CSV (no index, ``\\n`` line ends)."""
    safe_frame(frame).to_csv(path, index=False, lineterminator="\n")
