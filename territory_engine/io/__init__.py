"""Data loaders: read the input tables and check them against ``docs/data_format.md``.

Every loader raises :class:`~territory_engine.errors.InputError` naming the file,
the row (CSV: spreadsheet row, header = 1; other formats: 1-based feature), the
record's id and the column. Returned frames keep the record position as index
and row offsets in ``attrs`` so later checks can still name rows (see
:mod:`territory_engine.io.tables`).
"""

from territory_engine.config.segments import POOLED
from territory_engine.io.accounts import ACCOUNT_COLUMNS, check_account_owners, read_accounts
from territory_engine.io.edges import EDGE_COLUMNS, EDGE_KINDS, check_edges, read_edges
from territory_engine.io.reps import REP_COLUMNS, read_reps
from territory_engine.io.tables import read_table, row_number, to_dates, to_numbers
from territory_engine.io.units import locate_accounts, read_units

__all__ = [
    "ACCOUNT_COLUMNS",
    "EDGE_COLUMNS",
    "EDGE_KINDS",
    "POOLED",
    "REP_COLUMNS",
    "check_account_owners",
    "check_edges",
    "locate_accounts",
    "read_accounts",
    "read_edges",
    "read_reps",
    "read_table",
    "read_units",
    "row_number",
    "to_dates",
    "to_numbers",
]
