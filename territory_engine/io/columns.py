"""Column mapping (``data.columns``): the file's headers renamed to the engine's names.

:func:`rename_columns` runs right after a table is read, so every check after it
works on the engine's names (``potential``, ``account_id``...);
:func:`user_column_names` then turns the column an error names back into the
file's own header, so a planner reads ``column 'Annual Revenue'`` about the
file they exported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pandas as pd

from territory_engine.errors import InputError, did_you_mean

COLUMNS_ATTR = "territory_engine.user_columns"
"""Key of ``frame.attrs`` holding the mapping engine name -> the file's header."""


def rename_columns(
    frame: pd.DataFrame,
    columns: Mapping[str, str] | None,
    *,
    file: str | os.PathLike[str],
    kind: str,
) -> pd.DataFrame:
    """Rename the file's headers named in `columns` (engine name -> header) to the engine's.

    Parameters
    ----------
    frame
        The table as read, with the file's headers.
    columns
        Engine column name -> the header that holds it; ``None`` or empty: no renaming.
    file
        The file the table was read from.
    kind
        What the table holds, for the messages (``"accounts"``).

    Returns
    -------
    pandas.DataFrame
        `frame` with the renamed columns (same index and ``attrs``, plus the
        mapping under :data:`COLUMNS_ATTR`).

    Raises
    ------
    InputError
        A mapped header the file lacks (with a did-you-mean over the file's
        headers), or an engine name the file already has as a column of its own.
    """
    if not columns:
        return frame
    headers = [str(name) for name in frame.columns]
    for engine, user in columns.items():
        if user not in headers:
            raise InputError(
                f"has no column {user!r} (data.columns.{kind}.{engine})"
                f"{did_you_mean(user, headers)}; the {kind} table has columns: "
                f"{', '.join(headers)}",
                file=str(file),
            )
        if engine != user and engine in headers and engine not in columns.values():
            raise InputError(
                f"has both {user!r} (data.columns.{kind}.{engine}) and a column {engine!r} "
                f"of its own; rename or drop {engine!r}, or map {engine} to it",
                file=str(file),
            )
    # Copies, so that one header may feed several engine columns; the file's
    # headers that were mapped then leave (unless one is an engine name too).
    renamed = frame.assign(**{engine: frame[user] for engine, user in columns.items()})
    gone = [user for user in dict.fromkeys(columns.values()) if user not in columns]
    renamed = renamed.drop(columns=gone)
    renamed.attrs = dict(frame.attrs)
    renamed.attrs[COLUMNS_ATTR] = dict(columns)
    return renamed


def user_column(column: str | None, columns: Mapping[str, str]) -> str | None:
    """The file's header for an engine `column` (``lat/lon`` pairs translated part by part)."""
    if column is None or not columns:
        return column
    return "/".join(columns.get(part, part) for part in column.split("/"))


@contextmanager
def user_column_names(files: Mapping[str, Mapping[str, str]]) -> Iterator[None]:
    """Re-raise an :class:`InputError` about a mapped file with the file's own header.

    Parameters
    ----------
    files
        File path (as the error spells it) -> its mapping engine name -> header.
    """
    try:
        yield
    except InputError as exc:
        mapping = files.get(str(exc.file)) if exc.file is not None else None
        shown = user_column(exc.column, mapping or {})
        if not mapping or shown == exc.column:
            raise
        raise InputError(exc.detail, file=exc.file, row=exc.row, id=exc.id, column=shown) from None


__all__ = ["COLUMNS_ATTR", "rename_columns", "user_column", "user_column_names"]
