"""Load the accounts table (see ``docs/data_format.md``) and check who owns each account."""

from __future__ import annotations

import os
from collections.abc import Iterable

import geopandas as gpd
import pandas as pd

from territory_engine.config.segments import SEGMENTS
from territory_engine.io.tables import (
    SOURCE_FILE_ATTR,
    check_choice,
    check_ids,
    check_known,
    check_minimum,
    did_you_mean,
    is_in,
    order_columns,
    points_from_table,
    raise_for_rows,
    read_table,
)

ACCOUNT_NUMBERS = ("potential", "last_year_revenue", "workload_hours")
"""Amounts every account must state, all >= 0."""

ACCOUNT_COLUMNS = (
    "account_id",
    "name",
    "lat",
    "lon",
    "county_fips",
    "industry",
    "segment",
    *ACCOUNT_NUMBERS,
    "current_rep_id",
    "parent_account_id",
)
"""Columns of the frame :func:`read_accounts` returns, before any extra column."""

_OPTIONAL_TEXT = ("county_fips",)  # the contract marks it optional: filled with ""
_TEXT = ("account_id", "name", "county_fips", "industry", "segment")
_TEXT += ("current_rep_id", "parent_account_id")
_REQUIRED = tuple(name for name in ACCOUNT_COLUMNS if name not in {"lat", "lon", *_OPTIONAL_TEXT})


def read_accounts(path: str | os.PathLike[str], *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read and check the accounts table.

    Parameters
    ----------
    path
        CSV or Parquet with ``lat``/``lon`` columns, or a GeoJSON/GeoPackage point
        layer (any CRS, reprojected).
    layer
        GeoPackage layer, needed only when the file has several.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with the columns of :data:`ACCOUNT_COLUMNS` (ids as
        strings, amounts as float64, ``current_rep_id`` and ``parent_account_id``
        ``""`` for none, ``segment`` in lower case), then any extra column. The
        index and ``attrs`` carry row numbers (see :mod:`territory_engine.io.tables`).

    Raises
    ------
    InputError
        On any value that breaks the contract, naming file, row, id and column.
    """
    frame = read_table(
        path,
        kind="accounts",
        required=_REQUIRED,
        id_column="account_id",
        numeric=ACCOUNT_NUMBERS,
        text=_TEXT,
        layer=layer,
    )
    for name in _OPTIONAL_TEXT:
        if name not in frame.columns:
            frame[name] = ""
    check_ids(frame, "account_id", file=path)
    frame["segment"] = check_choice(frame, "segment", SEGMENTS, file=path, id_column="account_id")
    for name in ACCOUNT_NUMBERS:
        check_minimum(frame, name, 0.0, file=path, id_column="account_id")
    _check_parents(frame, file=path)
    accounts = points_from_table(
        frame, lat="lat", lon="lon", file=path, kind="accounts", id_column="account_id"
    )
    return order_columns(accounts, ACCOUNT_COLUMNS)


def check_account_owners(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    *,
    accounts_file: str | os.PathLike[str],
    removed: Iterable[str] = (),
) -> None:
    """Check that every account's ``current_rep_id`` is empty or a rep of `reps`.

    An owner among `removed` (reps a what-if takes out) is accepted too: the
    account keeps its old owner, so it counts as moved, and is re-assigned.

    Parameters
    ----------
    accounts
        As returned by :func:`read_accounts` (keep its index for row numbers).
    reps
        As returned by :func:`~territory_engine.io.reps.read_reps`.
    accounts_file
        The accounts file, for the message.
    removed
        Rep ids no longer in `reps` that may still own accounts
        (``whatif.remove_reps``).

    Raises
    ------
    InputError
        Naming the account's row and id, the column ``current_rep_id`` and the
        closest rep id.
    """
    rep_ids = reps["rep_id"]
    known = [*rep_ids, *removed]
    reps_file = reps.attrs.get(SOURCE_FILE_ATTR, "the reps table")
    check_known(
        accounts,
        "current_rep_id",
        known,
        file=accounts_file,
        id_column="account_id",
        what=f"a rep_id of {reps_file}",
        suggest=rep_ids,
        allow_empty=True,
        hint="; leave it empty for a new account",
    )


def _check_parents(frame: pd.DataFrame, *, file: str | os.PathLike[str]) -> None:
    """Check that each parent is another account of the same table."""
    parents = frame["parent_account_id"]
    ids = frame["account_id"]
    given = parents != ""
    kwargs = {"file": file, "column": "parent_account_id", "id_column": "account_id"}
    raise_for_rows(
        frame,
        given & (parents == ids),
        describe=lambda _: "an account cannot be its own parent; leave it empty for a top account",
        **kwargs,
    )
    raise_for_rows(
        frame,
        given & ~is_in(parents, ids),
        describe=lambda label: (
            f"{parents[label]!r} is not an account_id of this file"
            f"{did_you_mean(parents[label], ids)}"
        ),
        **kwargs,
    )
