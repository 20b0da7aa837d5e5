"""Read and check ``data.travel_times``, minutes from a routing engine (docs/data_format.md).

Two shapes are accepted, told apart by their columns:

* ``rep_id, unit_id, minutes``: from each rep's home to each unit (the direct
  fit for reps with fixed homes);
* ``from_unit, to_unit, minutes``: a unit × unit matrix; each rep travels from
  the unit holding their home.

Every rep of the scenario (after its what-ifs) needs minutes to every unit: a
missing rep, unit or pair, a blank, negative or non-numeric ``minutes``, or a
pair given twice fails naming what is wrong. Rows for reps or units the
scenario does not have are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from territory_engine.errors import InputError
from territory_engine.geo.travel import TravelTimes, rep_unit_minutes, unit_pair_minutes
from territory_engine.io.tables import check_minimum, raise_for_rows, read_table, row_number
from territory_engine.io.units import home_units

__all__ = ["read_travel_times"]

_REP_UNIT = ("rep_id", "unit_id")
_UNIT_UNIT = ("from_unit", "to_unit")
_SHOWN = 3  # ids named in a message before "…"


def _sample(ids: Sequence[str], total: int | None = None) -> str:
    """``'a, b, c, … (12 in all)'``: the first few ids and the count."""
    ids = list(ids)
    total = len(ids) if total is None else total
    head = ", ".join(ids[:_SHOWN])
    return head if total <= _SHOWN else f"{head}, … ({total:,} in all)"


def _shape(frame: pd.DataFrame, path: str) -> tuple[str, str]:
    """The two key columns of the table, from its header."""
    for keys in (_REP_UNIT, _UNIT_UNIT):
        if all(k in frame.columns for k in keys):
            return keys
    raise InputError(
        "a travel-time table has the columns rep_id, unit_id, minutes (from reps' homes) or "
        f"from_unit, to_unit, minutes (unit to unit); found {', '.join(map(str, frame.columns))}",
        file=path,
    )


def _check_pairs(frame: pd.DataFrame, keys: tuple[str, str], path: str) -> None:
    """Raise for a pair given twice, naming its row and the row it repeats."""
    pairs = frame[list(keys)]
    twice = pairs.duplicated(keep="first").to_numpy()
    if not twice.any():
        return
    first_row = {
        tuple(pair): row_number(frame, label)
        for label, pair in zip(frame.index[::-1], pairs.to_numpy()[::-1].tolist(), strict=True)
    }

    def describe(label: Hashable) -> str:
        pair = tuple(pairs.loc[label])
        return (
            f"the pair {keys[0]} {pair[0]!r}, {keys[1]} {pair[1]!r} is given twice "
            f"(first at row {first_row[pair]}); keep one row per pair"
        )

    raise_for_rows(frame, twice, file=path, column=keys[1], id_column=None, describe=describe)


def _unknown_hint(given: pd.Series, known: Sequence[str], noun: str) -> str:
    """``'; the table names 4 units not in the scenario (e.g. 1001)'``: a likely id mismatch."""
    unknown = sorted(set(given.astype(str)) - set(known))
    if not unknown:
        return ""
    return f"; the table names {len(unknown):,} {noun} the scenario lacks ({_sample(unknown)})"


def _raise_missing(
    minutes: np.ndarray,
    rows: Sequence[str],
    unit_ids: Sequence[str],
    *,
    path: str,
    row_noun: str,
    hints: str,
) -> None:
    """Raise naming the reps, units or pairs without minutes."""
    gap = np.isnan(minutes)
    if not gap.any():
        return
    no_row = np.flatnonzero(gap.all(axis=1))
    if len(no_row):
        names = [rows[i] for i in no_row.tolist()]
        raise InputError(
            f"has no travel times for {len(names):,} of the {len(rows):,} reps: "
            f"{_sample(names)} (every rep needs minutes to every unit){hints}",
            file=path,
            column=row_noun,
        )
    no_col = np.flatnonzero(gap.all(axis=0))
    if len(no_col):
        names = [unit_ids[j] for j in no_col.tolist()]
        raise InputError(
            f"has no travel times to {len(names):,} of the {len(unit_ids):,} units: "
            f"{_sample(names)}{hints}",
            file=path,
            column="unit_id" if row_noun == "rep_id" else "to_unit",
        )
    r, u = np.nonzero(gap)
    pairs = [f"{rows[i]} → {unit_ids[j]}" for i, j in zip(r[:_SHOWN], u[:_SHOWN], strict=True)]
    raise InputError(
        f"lacks {len(r):,} {row_noun} → unit pairs: {_sample(pairs, len(r))}{hints}",
        file=path,
        column="minutes",
    )


def read_travel_times(
    path: str | os.PathLike[str],
    reps: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
) -> TravelTimes:
    """Read a travel-time table and give every rep minutes to every unit.

    Parameters
    ----------
    path
        CSV or Parquet: ``rep_id, unit_id, minutes`` or ``from_unit, to_unit, minutes``
        (ids read as text, so ZIP codes keep their leading zeros).
    reps
        The scenario's reps (after its what-ifs), with home points.
    units
        The scenario's units (``unit_id`` and polygons).

    Returns
    -------
    TravelTimes
        Minutes of each rep (in the reps' order) to each unit (in the units' order).

    Raises
    ------
    InputError
        An unknown shape, a blank, non-numeric or negative ``minutes``, a pair
        given twice, or a rep, unit or pair without minutes.
    """
    name = str(path)
    frame = read_table(
        path,
        kind="travel times",
        required=["minutes"],
        numeric=("minutes",),
        text=(*_REP_UNIT, *_UNIT_UNIT),
    )
    keys = _shape(frame, name)
    frame = frame.assign(minutes=frame["minutes"].astype(float))
    check_minimum(frame, "minutes", 0.0, file=name, id_column=keys[0])
    _check_pairs(frame, keys, name)
    rep_ids = reps["rep_id"].astype(str).tolist()
    unit_ids = units["unit_id"].astype(str).tolist()
    if keys == _REP_UNIT:
        minutes = rep_unit_minutes(frame, rep_ids, unit_ids)
        hints = _unknown_hint(frame["rep_id"], rep_ids, "reps")
        hints += _unknown_hint(frame["unit_id"], unit_ids, "units")
        _raise_missing(minutes, rep_ids, unit_ids, path=name, row_noun="rep_id", hints=hints)
    else:
        homes = home_units(reps, units).tolist()
        minutes = unit_pair_minutes(frame, homes, unit_ids)
        known = pd.concat([frame["from_unit"], frame["to_unit"]])
        hints = _unknown_hint(known, unit_ids, "units")
        labels = [f"{r} (home unit {h})" for r, h in zip(rep_ids, homes, strict=True)]
        _raise_missing(minutes, labels, unit_ids, path=name, row_noun="from_unit", hints=hints)
    return TravelTimes(tuple(rep_ids), tuple(unit_ids), minutes, source=name)
