"""Load the reps table (see ``docs/data_format.md``)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from territory_engine.io.columns import user_column_names
from territory_engine.io.segments import segment_column
from territory_engine.io.tables import (
    as_text,
    check_ids,
    check_minimum,
    has_geometry,
    order_columns,
    points_from_table,
    read_table,
)
from territory_engine.io.zips import zip_points

REP_COLUMNS = (
    "rep_id",
    "name",
    "home_lat",
    "home_lon",
    "home_city",
    "segment",
    "capacity_fte",
    "start_date",
    "last_year_quota",
)
"""Columns of the frame :func:`read_reps` returns, before any extra column."""

_OPTIONAL_TEXT = ("home_city",)  # the contract marks it optional: filled with ""
_REQUIRED = ("rep_id", "name", "capacity_fte", "start_date", "last_year_quota")


def read_reps(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and check the reps table.

    Parameters
    ----------
    path
        CSV, ``.xlsx`` or Parquet with ``home_lat``/``home_lon`` columns (a rep
        without them is placed at the centroid of the US ZIP code in ``home_zip``,
        see :mod:`territory_engine.io.zips`), or a GeoJSON/GeoPackage point layer
        of home locations (any CRS, reprojected).
    layer
        GeoPackage layer, needed only when the file has several.
    columns
        ``data.columns.reps``: engine column -> the file's header.
    sheet
        ``data.sheets.reps``: the sheet of an ``.xlsx`` workbook.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 home points with the columns of :data:`REP_COLUMNS` (ids as
        strings, numbers as float64, ``start_date`` as datetime64, ``segment`` as
        first spelt in the file, or ``"all"`` without the column), then any extra
        column. The index and ``attrs`` carry row
        numbers (see :mod:`territory_engine.io.tables`).

    Raises
    ------
    InputError
        On any value that breaks the contract, naming file, row, id and column.
    """
    frame = read_table(
        path,
        kind="reps",
        required=_REQUIRED,
        id_column="rep_id",
        numeric=("capacity_fte", "last_year_quota"),
        dates=("start_date",),
        text=("rep_id", "name", "home_city", "segment", "home_zip"),
        layer=layer,
        columns=columns,
        sheet=sheet,
    )
    with user_column_names({str(path): columns or {}}):
        for name in _OPTIONAL_TEXT:
            if name not in frame.columns:
                frame[name] = ""
        check_ids(frame, "rep_id", file=path)
        frame["segment"] = segment_column(frame, file=path, id_column="rep_id")
        check_minimum(frame, "capacity_fte", 0.0, strict=True, file=path, id_column="rep_id")
        check_minimum(frame, "last_year_quota", 0.0, file=path, id_column="rep_id")
        _homes_from_zip(frame, file=path)
        reps = points_from_table(
            frame, lat="home_lat", lon="home_lon", file=path, kind="reps", id_column="rep_id"
        )
        return order_columns(reps, REP_COLUMNS)


def _homes_from_zip(frame: pd.DataFrame, *, file: str | os.PathLike[str]) -> None:
    """Fill, in place, the home of each rep without ``home_lat``/``home_lon`` from ``home_zip``."""
    if has_geometry(frame) or "home_zip" not in frame.columns:
        return
    for name in ("home_lat", "home_lon"):
        if name not in frame.columns:
            frame[name] = ""
    bare = ((as_text(frame["home_lat"]) == "") & (as_text(frame["home_lon"]) == "")).to_numpy()
    if not bare.any():
        return
    lat, lon = zip_points(frame, bare, column="home_zip", file=file, id_column="rep_id")
    for name, values in (("home_lat", lat), ("home_lon", lon)):
        text = as_text(frame[name]).to_numpy(dtype=object)
        text[bare] = [repr(float(v)) for v in values[bare]]
        frame[name] = text
