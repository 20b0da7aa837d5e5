"""Load the relationship edges (see ``docs/data_format.md``) and check their endpoints."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping

import numpy as np
import pandas as pd

from territory_engine.io.columns import user_column_names
from territory_engine.io.tables import (
    check_choice,
    check_minimum,
    did_you_mean,
    drop_geometry,
    is_in,
    keep_source,
    raise_for_rows,
    read_table,
)

EDGE_KINDS = ("rep-account", "account-account", "rep-rep")
"""Kinds of relationship an edge may describe."""

EDGE_COLUMNS = ("source", "target", "kind", "weight")
"""Columns of the frame :func:`read_edges` returns."""


def read_edges(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read and check the edges table.

    Parameters
    ----------
    path
        CSV, ``.xlsx``, Parquet, GeoJSON or GeoPackage; a geometry, if any, is ignored.
    columns
        ``data.columns.edges``: engine column -> the file's header.
    sheet
        ``data.sheets.edges``: the sheet of an ``.xlsx`` workbook.

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``target`` (strings), ``kind`` (lower case, one of
        :data:`EDGE_KINDS`) and ``weight`` (float64). The index and ``attrs``
        carry row numbers (see :mod:`territory_engine.io.tables`).

    Raises
    ------
    InputError
        On an empty endpoint, an unknown kind, a weight that is not a finite
        number >= 0, or an edge from a record to itself.
    """
    frame = read_table(
        path,
        kind="edges",
        required=EDGE_COLUMNS,
        numeric=("weight",),
        text=("source", "target", "kind"),
        columns=columns,
        sheet=sheet,
    )
    with user_column_names({str(path): columns or {}}):
        return _checked(drop_geometry(frame), path)


def _checked(frame: pd.DataFrame, path: str | os.PathLike[str]) -> pd.DataFrame:
    """Endpoints, kinds and weights checked; the columns of :data:`EDGE_COLUMNS`."""
    for end in ("source", "target"):
        raise_for_rows(
            frame,
            frame[end] == "",
            file=path,
            column=end,
            id_column=None,
            describe=lambda _, end=end: f"{end} is empty; an edge joins two ids",
        )
    frame["kind"] = check_choice(frame, "kind", EDGE_KINDS, file=path, id_column=None)
    check_minimum(frame, "weight", 0.0, file=path, id_column=None)
    raise_for_rows(
        frame,
        frame["source"] == frame["target"],
        file=path,
        column="target",
        id_column=None,
        describe=lambda label: f"edge joins {frame.at[label, 'source']!r} to itself",
    )
    return keep_source(frame[list(EDGE_COLUMNS)], frame)


def check_edges(
    edges: pd.DataFrame,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    *,
    edges_file: str | os.PathLike[str],
) -> pd.DataFrame:
    """Check that every endpoint exists and fits the edge's kind.

    Parameters
    ----------
    edges
        As returned by :func:`read_edges` (keep its index for row numbers).
    accounts
        Frame with an ``account_id`` column.
    reps
        Frame with a ``rep_id`` column.
    edges_file
        The edges file, for the messages.

    Returns
    -------
    pandas.DataFrame
        `edges` with each ``rep-account`` edge written rep first (``source`` the
        rep, ``target`` the account); both orders are accepted on input.

    Raises
    ------
    InputError
        On an id that is neither a rep nor an account, or an endpoint of the
        wrong type for the kind, naming the row and the column.
    """
    account_ids = pd.Index(accounts["account_id"])
    rep_ids = pd.Index(reps["rep_id"])
    is_rep = {end: is_in(edges[end], rep_ids) for end in ("source", "target")}
    is_account = {end: is_in(edges[end], account_ids) for end in ("source", "target")}
    for end in ("source", "target"):
        _raise_unknown(
            edges, end, ~(is_rep[end] | is_account[end]), edges_file, account_ids, rep_ids
        )
    kind = edges["kind"].to_numpy()
    forward = is_rep["source"] & is_account["target"]
    backward = is_account["source"] & is_rep["target"]
    for end in ("source", "target"):
        wrong = ((kind == "rep-rep") & ~is_rep[end]) | (
            (kind == "account-account") & ~is_account[end]
        )
        _raise_wrong_kind(edges, end, wrong, edges_file, is_rep)
    # In a rep-account edge with two reps (or two accounts), blame the target.
    _raise_wrong_kind(
        edges,
        "target",
        (kind == "rep-account") & ~forward & ~backward,
        edges_file,
        is_rep,
    )
    swap = (kind == "rep-account") & ~forward & backward
    normalised = edges.copy()
    normalised.loc[swap, "source"] = edges.loc[swap, "target"]
    normalised.loc[swap, "target"] = edges.loc[swap, "source"]
    return keep_source(normalised, edges)


def _raise_unknown(
    edges: pd.DataFrame,
    end: str,
    bad: np.ndarray,
    edges_file: str | os.PathLike[str],
    account_ids: pd.Index,
    rep_ids: pd.Index,
) -> None:
    """Raise for an endpoint that is neither a rep nor an account."""

    def describe(label: Hashable) -> str:
        value = edges.at[label, end]
        return (
            f"{value!r} is neither a rep_id nor an account_id"
            f"{did_you_mean(value, [*rep_ids, *account_ids])}"
        )

    raise_for_rows(edges, bad, file=edges_file, column=end, id_column=None, describe=describe)


def _raise_wrong_kind(
    edges: pd.DataFrame,
    end: str,
    bad: np.ndarray,
    edges_file: str | os.PathLike[str],
    is_rep: dict[str, np.ndarray],
) -> None:
    """Raise for an endpoint whose type does not fit the edge's kind, suggesting the kind."""
    source_rep = pd.Series(is_rep["source"], index=edges.index)
    target_rep = pd.Series(is_rep["target"], index=edges.index)
    joins = {
        "rep-account": "a rep and an account",
        "account-account": "two accounts",
        "rep-rep": "two reps",
    }

    def describe(label: Hashable) -> str:
        ends = (bool(source_rep[label]), bool(target_rep[label]))
        fitting = {(True, True): "rep-rep", (False, False): "account-account"}
        suggestion = fitting.get(ends, "rep-account")
        this_rep = ends[0] if end == "source" else ends[1]
        kind = edges.at[label, "kind"]
        return (
            f"{edges.at[label, end]!r} is {'a rep' if this_rep else 'an account'}, but "
            f"{'an' if kind.startswith('a') else 'a'} {kind} edge joins {joins[kind]} "
            f"(use kind {suggestion})"
        )

    raise_for_rows(edges, bad, file=edges_file, column=end, id_column=None, describe=describe)
