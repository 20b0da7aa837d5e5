"""Errors a planner reads.

Every error the engine raises on bad input or an impossible scenario is a
:class:`TerritoryEngineError`. The CLI prints its message on one line and exits
non-zero, without a traceback, so the message must say *where* (file, row or
id, column) and *what to do*.
"""

from __future__ import annotations


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
