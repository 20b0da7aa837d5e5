"""Errors a planner reads.

Every error the engine raises on bad input or an impossible scenario is a
:class:`TerritoryEngineError`. The CLI prints its message on one line and exits
non-zero, without a traceback, so the message must say *where* (file, row or
id, column) and *what to do*.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


def _normal(word: str) -> str:
    """Lower case, leading zeros of numbers dropped: 'R6', 'r06' and 'R006' are one name."""
    return re.sub(r"\d+", lambda m: str(int(m.group())), str(word).lower())


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Suggest the candidate closest to ``word``.

    A candidate equal to ``word`` up to case and leading zeros wins ('R6' ->
    'R06', not 'R36'); otherwise the closest by :func:`difflib.get_close_matches`.

    Returns
    -------
    str
        ``" (did you mean 'x'?)"``, or ``""`` when nothing is close enough.
    """
    by_normal: dict[str, str] = {}
    for candidate in candidates:
        by_normal.setdefault(_normal(candidate), str(candidate))
    key = _normal(word)
    if key in by_normal:
        return f" (did you mean {by_normal[key]!r}?)"
    match = difflib.get_close_matches(key, list(by_normal), n=1, cutoff=0.6)
    return f" (did you mean {by_normal[match[0]]!r}?)" if match else ""


class TerritoryEngineError(Exception):
    """Base class of every error meant for the user rather than the developer."""


class InputError(TerritoryEngineError):
    """A data file is malformed.

    Parameters
    ----------
    message
        What is wrong, in words a planner understands.
    file
        The file that holds the problem.
    row
        The row as a spreadsheet shows it (CSV: the header is row 1, so the
        first record is row 2; other formats: the 1-based feature number).
    id
        The record's identifier (for example the ``account_id``), when known.
    column
        The column that holds the bad value.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        id: str | None = None,
        column: str | None = None,
    ) -> None:
        self.file = None if file is None else str(file)
        self.row = row
        self.id = id
        self.column = column
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.id is not None:
            where.append(f"id {self.id!r}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.detail}" if prefix else self.detail


class ScenarioError(TerritoryEngineError):
    """A scenario file is invalid (unknown key, bad value, missing file)."""


class InfeasibleError(TerritoryEngineError):
    """The scenario cannot be satisfied; the message explains why in planner terms."""
