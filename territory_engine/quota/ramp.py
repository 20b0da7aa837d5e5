"""Ramp of new hires: the share of a full quota a rep carries in each plan month.

A rep's months in seat at a date ``d`` are the whole months since their start
date: ``12·(y_d − y_s) + (m_d − m_s) − [day_d < day_s]``. In plan month ``k``
(``k = 0..11``, counted from the plan start) a rep with ``m₀`` months in seat
at the plan start is in quarter ``j = ⌊(m₀ + k)/3⌋`` of their tenure and carries
``f_k = schedule[min(j, len − 1)]`` of a full month's quota, or 0 before their
start (``m₀ + k < 0``). With monthly seasonal shares ``s_k`` (``Σ s_k = 1``), the
annual ramp factor is ``r = Σ_k s_k · f_k``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from territory_engine.display.numbers import percent

MONTHS = 12


def months_in_seat(start: Sequence[object] | np.ndarray, at: date) -> np.ndarray:
    """Whole months from each start date to ``at`` (negative for a future start).

    Parameters
    ----------
    start
        (n,) start dates (anything :func:`pandas.to_datetime` reads); missing
        dates count as long in seat.
    at
        The plan start.

    Returns
    -------
    numpy.ndarray
        (n,) float months; ``inf`` where the start date is missing.
    """
    s = pd.to_datetime(pd.Series(list(start), dtype=object), errors="coerce")
    months = (
        12 * (at.year - s.dt.year) + (at.month - s.dt.month) - (at.day < s.dt.day).astype(float)
    )
    return months.astype(float).fillna(np.inf).to_numpy()


def monthly_factors(months0: np.ndarray, schedules: Sequence[Sequence[float]]) -> np.ndarray:
    """(n, 12) share of a full quota carried in each plan month.

    Parameters
    ----------
    months0
        (n,) months in seat at the plan start (:func:`months_in_seat`).
    schedules
        (n,) the ramp schedule of each rep (factor per quarter in seat).

    Returns
    -------
    numpy.ndarray
        ``f[i, k]`` as in the module docstring.
    """
    n = len(months0)
    out = np.ones((n, MONTHS))
    for i in range(n):
        m0 = months0[i]
        if not np.isfinite(m0):
            continue
        sched = np.asarray(schedules[i], dtype=float)
        tenure = m0 + np.arange(MONTHS)
        quarter = np.clip(np.floor(tenure / 3).astype(int), 0, len(sched) - 1)
        out[i] = np.where(tenure < 0, 0.0, sched[quarter])
    return out


def describe_ramp(months0: float, factor: float) -> str:
    """Words for one rep's ramp, e.g. ``"ramped to 85 % (11 months in seat at plan start)"``."""
    if not np.isfinite(months0) or factor >= 1.0 - 1e-12:
        return ""
    share = percent(factor, digits=0)
    if months0 < 0:
        return f"ramped to {share} (starts {int(-months0)} months into the plan year)"
    return f"ramped to {share} ({int(months0)} months in seat at plan start)"
