"""Rounding that keeps totals exact (largest remainder, in integer cents)."""

from __future__ import annotations

import numpy as np


def to_cents(x: float) -> int:
    """Dollars to integer cents, rounding half away from zero."""
    return int(np.sign(x) * np.floor(abs(x) * 100 + 0.5))


def round_preserving_total(values: np.ndarray, unit: float, total: float) -> np.ndarray:
    """Round ``values`` to multiples of ``unit`` so they sum exactly to ``total``.

    Largest-remainder (Hamilton) method in integer cents: floor every value to
    the unit, then give one more unit to the values with the largest
    remainders (ties to the lower index) until the total is met. When
    ``total`` itself is not a multiple of ``unit``, the sub-unit residue goes
    to the value with the largest remainder, so the sum is still exact.

    Parameters
    ----------
    values
        (n,) raw amounts in dollars.
    unit
        Rounding unit in dollars (e.g. 1000).
    total
        The exact total the result must sum to, in dollars.

    Returns
    -------
    numpy.ndarray
        (n,) int64 amounts in **cents** summing exactly to ``total`` in cents.
    """
    v = np.asarray(values, dtype=float)
    unit_c = max(to_cents(unit), 1)
    total_c = to_cents(total)
    if len(v) == 0:
        return np.zeros(0, dtype=np.int64)
    scaled = v * 100 / unit_c
    base = np.floor(scaled).astype(np.int64)
    remainder = scaled - base
    whole_units, residue = divmod(total_c, unit_c)
    # Floor division spreads a shortfall (or excess) evenly, then the largest
    # remainders take the rest one unit each.
    spread, extra = divmod(int(whole_units - base.sum()), len(v))
    order = np.lexsort((np.arange(len(v)), -remainder))
    out = base + spread
    out[order[:extra]] += 1
    cents = out * unit_c
    cents[order[0]] += residue
    return cents


def round_within_bounds(
    values: np.ndarray,
    unit: float,
    total: float,
    lower_cents: np.ndarray,
    upper_cents: np.ndarray,
) -> np.ndarray:
    """Round to multiples of ``unit`` summing exactly to ``total``, inside per-value bounds.

    Largest remainder as in :func:`round_preserving_total`, but a value is only
    rounded up while it stays at or below its upper bound and down while it
    stays at or above its lower bound. Bounds are first tightened to whole
    units (``⌈lo/u⌉·u``, ``⌊hi/u⌋·u``) so that every multiple between them is
    allowed. The sub-unit residue of ``total`` goes to the value with the
    largest remainder that has room for it under its (untightened) upper bound.

    Parameters
    ----------
    values
        (n,) amounts in dollars, each inside its bounds and summing to about ``total``
        (the output of the capped allocation).
    unit
        Rounding unit in dollars.
    total
        Exact total in dollars.
    lower_cents, upper_cents
        (n,) int64 bounds in cents (use very large magnitudes for "none").

    Returns
    -------
    numpy.ndarray
        (n,) int64 cents with ``lower ≤ x ≤ upper`` and ``Σx = total`` in cents.

    Raises
    ------
    ValueError
        When no such rounding exists (the caller checks feasibility first, so
        this means the bounds are narrower than one unit).
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    unit_c = max(to_cents(unit), 1)
    total_c = to_cents(total)
    if n == 0:
        if total_c != 0:
            raise ValueError("nothing to round to a non-zero total")
        return np.zeros(0, dtype=np.int64)
    lo_c = np.asarray(lower_cents, dtype=np.int64)
    hi_c = np.asarray(upper_cents, dtype=np.int64)
    lo_u = -((-lo_c) // unit_c)  # ceil division
    hi_u = hi_c // unit_c
    if np.any(lo_u > hi_u):
        raise ValueError("a bound pair holds no multiple of the rounding unit")
    scaled = np.clip(v * 100 / unit_c, lo_u, hi_u)
    out = np.clip(np.floor(scaled).astype(np.int64), lo_u, hi_u)
    remainder = scaled - out
    whole_units, residue = divmod(total_c, unit_c)
    gap = int(whole_units - out.sum())
    # Hand out (or take back) whole units, largest remainders first, respecting
    # the bounds; repeated passes cover gaps larger than n (inputs far off the total).
    up_order = np.lexsort((np.arange(n), -remainder))
    down_order = np.lexsort((np.arange(n), remainder))
    while gap != 0:
        order = up_order if gap > 0 else down_order
        room = (out < hi_u) if gap > 0 else (out > lo_u)
        movable = order[room[order]]
        if len(movable) == 0:
            raise ValueError("the bounds cannot reach the total")
        step = movable[: abs(gap)]
        out[step] += 1 if gap > 0 else -1
        gap -= len(step) if gap > 0 else -len(step)
    cents = out * unit_c
    if residue:
        headroom = hi_c - cents
        for i in up_order:
            take = min(int(residue), int(max(headroom[i], 0)))
            cents[i] += take
            residue -= take
            if residue == 0:
                break
        if residue:
            raise ValueError("no room under the upper bounds for the sub-unit residue")
    return cents
