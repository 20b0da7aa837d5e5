"""Models of ``data.columns`` and ``data.sheets``: an export used as it is.

``data.columns`` renames a table's columns to the engine's names when the table
is read (``accounts: {account_id: "Account ID", potential: "Annual Revenue"}``:
engine name -> the file's header), so a CRM report needs no editing; errors then
name the file's own column (:mod:`territory_engine.io.columns`).
``data.sheets`` names the sheet of an ``.xlsx`` table (default: the first).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_mapping(table: str, mapping: dict[str, str]) -> None:
    """Names must be non-empty (one file column may feed several engine columns)."""
    for engine, user in mapping.items():
        if not engine.strip() or not user.strip():
            raise ValueError(f"data.columns.{table}: {engine!r}: {user!r} has an empty name")


class ColumnsConfig(_Strict):
    """Per table, engine column name -> the column's header in the file.

    One header may feed several engine columns (``rep_id: Full Name`` and
    ``name: Full Name``): each gets a copy.
    """

    accounts: dict[str, str] = Field(default_factory=dict)
    reps: dict[str, str] = Field(default_factory=dict)
    units: dict[str, str] = Field(default_factory=dict)
    edges: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _mappings(self) -> ColumnsConfig:
        for table in ("accounts", "reps", "units", "edges"):
            _check_mapping(table, getattr(self, table))
        return self


class SheetsConfig(_Strict):
    """The sheet of each ``.xlsx`` table; ``null``: the workbook's first sheet."""

    accounts: str | None = None
    reps: str | None = None
    edges: str | None = None


__all__ = ["ColumnsConfig", "SheetsConfig"]
