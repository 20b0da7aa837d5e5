"""Load the accounts table (see ``docs/data_format.md``) and check who owns each account."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from territory_engine.io.columns import user_column_names
from territory_engine.io.segments import segment_column
from territory_engine.io.tables import (
    SOURCE_FILE_ATTR,
    check_ids,
    check_known,
    check_minimum,
    did_you_mean,
    has_geometry,
    is_in,
    keep_source,
    order_columns,
    points_from_table,
    raise_for_rows,
    read_table,
)
from territory_engine.io.zips import zip_points

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
    "placed_by",
)
"""Columns of the frame :func:`read_accounts` returns, before any extra column."""

PLACED_BY = ("coordinates", "zip", "unit_id")
"""Values of ``placed_by``: how an account's point was found (see :func:`read_accounts`)."""

# The contract marks these optional: filled with "" (segment: one pooled team).
_OPTIONAL_TEXT = ("county_fips", "industry", "parent_account_id")
_OPTIONAL_NUMBERS = ("workload_hours",)  # 0 when absent
_TEXT: tuple[str, ...] = ("account_id", "name", "county_fips", "industry", "segment")
_TEXT += ("current_rep_id", "parent_account_id", "zip", "unit_id")
_NOT_REQUIRED = {"lat", "lon", "segment", "placed_by", *_OPTIONAL_TEXT, *_OPTIONAL_NUMBERS}
_REQUIRED = tuple(name for name in ACCOUNT_COLUMNS if name not in _NOT_REQUIRED)
_PLACES = ("zip", "unit_id")  # columns that can stand in for lat/lon


def read_accounts(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and check the accounts table.

    An account is placed by its ``lat``/``lon`` (or point geometry); a row
    without coordinates by its US ``zip`` code (centroid of the offline ZIP
    table, :mod:`territory_engine.io.zips`); a row with neither, by the
    ``unit_id`` it names (its point is then filled from the unit by
    :func:`territory_engine.io.placement.place_accounts`). ``placed_by`` says
    which.

    Parameters
    ----------
    path
        CSV, ``.xlsx`` or Parquet with ``lat``/``lon`` columns (or ``zip`` /
        ``unit_id``), or a GeoJSON/GeoPackage point layer (any CRS, reprojected).
    layer
        GeoPackage layer, needed only when the file has several.
    columns
        ``data.columns.accounts``: engine column -> the file's header.
    sheet
        ``data.sheets.accounts``: the sheet of an ``.xlsx`` workbook.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with the columns of :data:`ACCOUNT_COLUMNS` (ids as
        strings, amounts as float64, ``current_rep_id`` and ``parent_account_id``
        ``""`` for none, ``segment`` as first spelt in the file or
        :data:`~territory_engine.config.segments.POOLED` without the column),
        then any extra column (``zip``, ``unit_id`` when given). Accounts placed
        by ``unit_id`` have no point yet (NaN ``lat``/``lon``). The index and
        ``attrs`` carry row numbers (see :mod:`territory_engine.io.tables`).

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
        columns=columns,
        sheet=sheet,
    )
    with user_column_names({str(path): columns or {}}):
        for name in _OPTIONAL_TEXT:
            if name not in frame.columns:
                frame[name] = ""
        for name in _OPTIONAL_NUMBERS:
            if name not in frame.columns:
                frame[name] = 0.0
        check_ids(frame, "account_id", file=path)
        frame["segment"] = segment_column(frame, file=path, id_column="account_id")
        for name in ACCOUNT_NUMBERS:
            check_minimum(frame, name, 0.0, file=path, id_column="account_id")
        _check_parents(frame, file=path)
        accounts = _points(frame, file=path)
        return order_columns(accounts, ACCOUNT_COLUMNS)


def _points(frame: pd.DataFrame, *, file: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Points from the geometry or ``lat``/``lon``; rows without them by ``zip`` or ``unit_id``."""
    if has_geometry(frame) or not any(name in frame.columns for name in _PLACES):
        points = points_from_table(
            frame, lat="lat", lon="lon", file=file, kind="accounts", id_column="account_id"
        )
        return keep_source(points.assign(placed_by=PLACED_BY[0]), frame)
    for name in ("lat", "lon"):
        if name not in frame.columns:
            frame[name] = ""
    lat_text = frame["lat"].astype(str).str.strip()
    lon_text = frame["lon"].astype(str).str.strip()
    bare = ((lat_text == "") & (lon_text == "")).to_numpy()
    has_unit = _filled(frame, "unit_id")
    # With a zip column, a bare row is placed by its ZIP unless it names a unit
    # instead (an empty ZIP is then reported against the zip column).
    by_zip = bare & (_filled(frame, "zip") | ~has_unit) if "zip" in frame.columns else bare & False
    by_unit = bare & ~by_zip
    raise_for_rows(
        frame,
        by_unit & ~has_unit,
        file=file,
        column="lat/lon",
        id_column="account_id",
        describe=lambda _: "is empty; give lat/lon, a zip code or a unit_id",
    )
    placed = np.where(bare, np.where(by_zip, PLACED_BY[1], PLACED_BY[2]), PLACED_BY[0])
    given = frame[~bare]
    points = points_from_table(
        given, lat="lat", lon="lon", file=file, kind="accounts", id_column="account_id"
    )
    lat = np.full(len(frame), np.nan)
    lon = np.full(len(frame), np.nan)
    lat[~bare] = points["lat"].to_numpy(float)
    lon[~bare] = points["lon"].to_numpy(float)
    if by_zip.any():
        zlat, zlon = zip_points(frame, by_zip, file=file, id_column="account_id")
        lat[by_zip], lon[by_zip] = zlat[by_zip], zlon[by_zip]
    out = frame.assign(lat=lat, lon=lon, placed_by=placed)
    geometry = gpd.points_from_xy(lon, lat)
    geometry[~np.isfinite(lat)] = None
    return keep_source(gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:4326"), frame)


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


def _filled(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Rows whose `column` is present and not empty."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return (frame[column].astype(str) != "").to_numpy()


def _check_parents(frame: pd.DataFrame, *, file: str | os.PathLike[str]) -> None:
    """Check that each parent is another account of the same table."""
    parents = frame["parent_account_id"]
    ids = frame["account_id"]
    given = parents != ""
    kwargs: dict[str, Any] = {
        "file": file,
        "column": "parent_account_id",
        "id_column": "account_id",
    }
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
