"""Given travel times (``data.travel_times``) from reps' homes to geo units.

A routing engine knows what great-circle distance does not: rivers, mountains,
motorways. When a scenario gives travel times, they replace the km of the
objective and the scorecard; this module holds them as one dense rep × unit
matrix and builds it from either table a routing engine exports:

* ``rep_id, unit_id, minutes``: minutes from each rep's home to each unit;
* ``from_unit, to_unit, minutes``: a unit × unit matrix, read from each rep's
  home unit (the unit holding the rep's home). A pair given only in the
  other direction is used both ways; a unit to itself is 0 minutes unless given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["TravelTimes", "rep_unit_minutes", "unit_pair_minutes"]

TRAVEL_UNIT = "min"
"""The unit of given travel times, as plans and reports show it."""


@dataclass(frozen=True)
class TravelTimes:
    """Minutes from each rep's home to each geo unit.

    Attributes
    ----------
    rep_ids
        (r,) rep ids, the rows of ``minutes``.
    unit_ids
        (u,) geo unit ids, the columns of ``minutes``.
    minutes
        (r, u) finite, non-negative minutes.
    source
        The file they came from, for messages and provenance.
    """

    rep_ids: tuple[str, ...]
    unit_ids: tuple[str, ...]
    minutes: np.ndarray
    source: str = ""

    @property
    def unit(self) -> str:
        """What the times are measured in (``"min"``)."""
        return TRAVEL_UNIT

    def matrix(self, rep_ids: Sequence[str], unit_ids: Sequence[str]) -> np.ndarray:
        """(len(rep_ids), len(unit_ids)) minutes for these reps and units (all must be present)."""
        rows = {r: i for i, r in enumerate(self.rep_ids)}
        cols = {u: j for j, u in enumerate(self.unit_ids)}
        return self.minutes[np.ix_([rows[r] for r in rep_ids], [cols[u] for u in unit_ids])]


def _dense(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """A (shape) matrix of ``values`` at ``(rows, cols)``, NaN elsewhere."""
    out = np.full(shape, np.nan)
    out[rows, cols] = values
    return out


def rep_unit_minutes(
    table: pd.DataFrame, rep_ids: Sequence[str], unit_ids: Sequence[str]
) -> np.ndarray:
    """(r, u) minutes from a ``rep_id, unit_id, minutes`` table; NaN for a missing pair.

    Rows naming a rep or unit outside ``rep_ids`` / ``unit_ids`` are ignored
    (a company-wide matrix serves a scenario of a few regions).
    """
    rep_pos = pd.Index(rep_ids).get_indexer(table["rep_id"])
    unit_pos = pd.Index(unit_ids).get_indexer(table["unit_id"])
    keep = (rep_pos >= 0) & (unit_pos >= 0)
    return _dense(
        rep_pos[keep],
        unit_pos[keep],
        table["minutes"].to_numpy(float)[keep],
        (len(rep_ids), len(unit_ids)),
    )


def unit_pair_minutes(
    table: pd.DataFrame, home_units: Sequence[str], unit_ids: Sequence[str]
) -> np.ndarray:
    """(r, u) minutes from each rep's home unit, from a ``from_unit, to_unit, minutes`` table.

    A pair missing in one direction takes the other's minutes; a unit to itself
    is 0 unless the table says otherwise; NaN where neither direction is given.
    """
    index = pd.Index(unit_ids)
    a = index.get_indexer(table["from_unit"])
    b = index.get_indexer(table["to_unit"])
    keep = (a >= 0) & (b >= 0)
    minutes = table["minutes"].to_numpy(float)[keep]
    a, b = a[keep], b[keep]
    homes = index.get_indexer(pd.Index(home_units))
    n = len(unit_ids)
    # Only the home units' rows are needed: a dense (homes, units) block, not u × u.
    home_row = np.full(n, -1)
    distinct = np.unique(homes)
    home_row[distinct] = np.arange(len(distinct))
    shape = (len(distinct), n)
    out_of = home_row[a] >= 0  # pairs leaving a home unit
    into = home_row[b] >= 0  # pairs arriving at one: read backwards
    forward = _dense(home_row[a[out_of]], b[out_of], minutes[out_of], shape)
    backward = _dense(home_row[b[into]], a[into], minutes[into], shape)
    block = np.where(np.isnan(forward), backward, forward)
    own = np.arange(len(distinct))
    block[own, distinct] = np.where(np.isnan(block[own, distinct]), 0.0, block[own, distinct])
    return block[home_row[homes]]
