"""Fair shares and balance bands: one definition for the solver, scorecard and validator.

A territory ``t`` of eligibility group ``g`` has, for measure ``j``, the *fair share*

``τ_tj = W_gj · c_t / Σ_{s ∈ g} c_s``

where ``W_gj`` is the group's total of the measure and ``c`` the capacity (FTE) of
each territory's rep (1 when bands do not scale by capacity). Its band is
``[τ_tj (1 − tol), τ_tj (1 + tol)]`` for a relative band, ``[low · c_t, high · c_t]``
for an absolute one (a missing ``low`` or ``high`` leaves that side open).

The problem builder takes ``W`` from the unit weights, the scorecard and the
validator from the accounts; each passes its own values, groups and capacity.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from territory_engine.config.scenario import BandConfig

__all__ = ["band_bounds", "fair_shares"]


def fair_shares(
    values: np.ndarray,
    account_group: np.ndarray,
    territory_group: np.ndarray,
    capacity: np.ndarray,
) -> np.ndarray:
    """(k, m) fair share ``τ_tj = W_gj · c_t / Σ_{s∈g} c_s`` of each territory t in group g.

    Parameters
    ----------
    values
        (N, m) values of the items (accounts, or problem units) being shared out.
    account_group, territory_group
        (N,), (k,) eligibility group of each item and each territory.
    capacity
        (k,) capacity (FTE) of each territory's rep.

    Returns
    -------
    numpy.ndarray
        (k, m) fair shares; 0 for a measure whose group holds nothing.
    """
    values = np.asarray(values, dtype=float)
    k, m = len(territory_group), values.shape[1]
    out = np.zeros((k, m))
    for g in np.unique(territory_group):
        in_t = territory_group == g
        totals = values[account_group == g].sum(axis=0)
        share = capacity[in_t] / capacity[in_t].sum()
        out[in_t] = share[:, None] * totals[None, :]
    return out


def band_bounds(
    fair_share: np.ndarray,
    bands: Iterable[BandConfig],
    capacity: np.ndarray,
    *,
    open_low: float = -np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """(k, m) lower and upper bound of every territory's band of every measure.

    Parameters
    ----------
    fair_share
        (k, m) fair shares (:func:`fair_shares`), one column per band.
    bands
        The m bands, in the columns' order (``scenario.balance.values()``).
    capacity
        (k,) capacity that scales absolute bands (ones when bands do not scale).
    open_low
        The lower bound of an absolute band without ``low``: ``-inf`` (no bound)
        by default; the solver's problem uses 0, as a load is never negative.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``lower`` and ``upper``; ``upper`` is ``inf`` for an absolute band without
        ``high``.
    """
    fair = np.asarray(fair_share, dtype=float)
    lower = np.full(fair.shape, open_low, dtype=float)
    upper = np.full(fair.shape, np.inf)
    for j, band in enumerate(bands):
        if band.tolerance is not None:
            lower[:, j] = fair[:, j] * (1 - band.tolerance)
            upper[:, j] = fair[:, j] * (1 + band.tolerance)
            continue
        if band.low is not None:
            lower[:, j] = band.low * capacity
        if band.high is not None:
            upper[:, j] = band.high * capacity
    return lower, upper
