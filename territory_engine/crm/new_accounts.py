"""Read the accounts that arrived after a plan was published (``assign``'s input).

The table is read and checked by the loaders' helpers
(:mod:`territory_engine.io.tables`), so its errors look like every other input
error: one line naming the file, the row, the account and the column.

Columns:

- ``account_id`` (required, unique, not an account of the plan);
- ``lat`` and ``lon`` (or a point geometry), required;
- ``segment``, required unless the plan pools every segment (``eligibility: none``);
- ``potential`` and every balance measure of the plan that is an account column
  (the balance drift needs them), numbers >= 0;
- ``name`` and ``parent_account_id``, optional.

Headers renamed by the scenario's ``data.columns.accounts`` are accepted under the
file's own names too, so new accounts can come in the same CRM export format as the
accounts table. Other columns are ignored, except one that is a near-miss of an
optional column (``parent_acount_id``): that fails with a did-you-mean rather than
being silently ignored.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import pandas as pd

from territory_engine.errors import InputError
from territory_engine.io.tables import (
    as_text,
    check_columns,
    check_ids,
    check_minimum,
    points_from_table,
    raise_for_rows,
    read_table,
    to_numbers,
)

__all__ = ["NEW_ACCOUNT_OPTIONAL", "read_new_accounts"]

#: Optional columns of the new-accounts table.
NEW_ACCOUNT_OPTIONAL = ("name", "parent_account_id")

_KIND = "new accounts"


def read_new_accounts(
    path: str | os.PathLike[str],
    *,
    measures: Sequence[str],
    needs_segment: bool = True,
    plan_accounts: Sequence[str] = (),
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read and check the new accounts to route.

    Parameters
    ----------
    path
        CSV, Parquet, GeoJSON or GeoPackage (as the accounts table).
    measures
        Numeric account columns the table must have (``potential`` and the plan's
        balance measures, without the count ``accounts``).
    needs_segment
        Whether ``segment`` is required (it is unless the plan pools segments).
    plan_accounts
        Account ids of the plan: a new account must not be one of them.
    columns
        The scenario's ``data.columns.accounts`` (engine name -> the file's header).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with ``account_id, name, segment, parent_account_id`` as
        text (``""`` when absent), the measures as float64 and ``lat``, ``lon``;
        the index and ``attrs`` carry row numbers.

    Raises
    ------
    InputError
        A missing column (with a did-you-mean over the file's headers), a near-miss
        header, a repeated or already planned account, a bad number or coordinate;
        each names the file, the row and the column.
    """
    frame = read_table(path, kind=_KIND, required=(), id_column=None)
    frame = _rename(frame, columns)
    required = ["account_id", *(["segment"] if needs_segment else []), *measures]
    known = [*required, *NEW_ACCOUNT_OPTIONAL, "lat", "lon"]
    check_columns(frame, required, file=path, kind=_KIND, known=known)
    _check_near_misses(frame, known, mapped=(columns or {}).values(), file=path)
    for column in ("account_id", "segment", *NEW_ACCOUNT_OPTIONAL):
        frame[column] = as_text(frame[column]) if column in frame.columns else ""
    check_ids(frame, "account_id", file=path)
    planned = set(map(str, plan_accounts))
    raise_for_rows(
        frame,
        frame["account_id"].isin(planned).to_numpy(),
        file=path,
        column="account_id",
        id_column="account_id",
        describe=lambda _: "is already an account of the plan; only new accounts are routed",
    )
    for name in measures:
        frame[name] = to_numbers(frame, name, file=path, id_column="account_id")
        check_minimum(frame, name, 0.0, file=path, id_column="account_id")
    raise_for_rows(
        frame,
        (frame["parent_account_id"] == frame["account_id"]).to_numpy(),
        file=path,
        column="parent_account_id",
        id_column="account_id",
        describe=lambda _: "an account cannot be its own parent; leave it empty",
    )
    return points_from_table(
        frame, lat="lat", lon="lon", file=path, kind=_KIND, id_column="account_id"
    )


def _rename(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> pd.DataFrame:
    """Copy each mapped header the file has to its engine name (unless the file has that).

    Copies rather than renames, as the loader does, so one header may feed several
    engine columns; the file may also use the engine's names directly.
    """
    if not columns:
        return frame
    headers = set(map(str, frame.columns))
    out = frame
    for engine, user in columns.items():
        if user in headers and engine not in headers and user != engine:
            if out is frame:
                out = frame.copy()
                out.attrs = dict(frame.attrs)
            out[engine] = frame[user]
    return out


def _check_near_misses(
    frame: pd.DataFrame,
    known: Sequence[str],
    *,
    mapped: Iterable[str] = (),
    file: str | os.PathLike[str],
) -> None:
    """Fail on a header that is a near-miss of an absent known column.

    ``mapped`` are the file's headers the column mapping names: never near-misses.
    """
    present = {str(c) for c in frame.columns}
    absent = [c for c in known if c not in present]
    expected = {*known, *mapped, "geometry"}
    for header in map(str, frame.columns):
        if header in expected:
            continue
        match = difflib.get_close_matches(header.lower(), absent, n=1, cutoff=0.85)
        if match:
            raise InputError(
                f"unknown column {header!r} (did you mean {match[0]!r}?); rename it, "
                "or drop it if it is not meant",
                file=str(file),
                column=header,
            )
