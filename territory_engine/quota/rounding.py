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
