"""Scalar fairness kernels: pure functions of arrays.

Balance is measured on *relative loads* ``r_t = x_t / τ_t``: a territory's
total of a measure divided by its fair share ``τ_t`` (its eligibility group's
total × its rep's capacity share). A perfectly balanced plan has every
``r_t = 1``, whether territories differ in segment or FTE or not.
"""

from __future__ import annotations

import numpy as np

from territory_engine.metrics.card import BalanceStats


def coefficient_of_variation(x: np.ndarray) -> float:
    """``CV = σ / μ`` (population standard deviation); 0 for an empty or all-zero input."""
    x = np.asarray(x, dtype=float)
    mu = x.mean() if len(x) else 0.0
    return float(x.std() / mu) if mu > 0 else 0.0


def gini(x: np.ndarray) -> float:
    """Gini coefficient ``G = Σ_i Σ_j |x_i − x_j| / (2 n² μ)`` in [0, 1 − 1/n].

    Computed in O(n log n) from the sorted values:
    ``G = (2 Σ_i i·x_(i)) / (n Σ x) − (n + 1)/n`` with 1-based ranks.
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2 * np.sum(ranks * x) / (n * total) - (n + 1) / n)


def max_min_ratio(x: np.ndarray) -> float:
    """``max(x) / min(x)``; infinity when the minimum is 0 and the maximum is not."""
    x = np.asarray(x, dtype=float)
    if len(x) == 0:
        return 1.0
    lo, hi = x.min(), x.max()
    if lo <= 0:
        return float("inf") if hi > 0 else 1.0
    return float(hi / lo)


def balance_index(relative: np.ndarray) -> float:
    """Balance index in [0, 100]: ``100 · max(0, 1 − mean_t |r_t − 1|)``.

    100 means every territory carries exactly its fair share; 90 means that,
    on average, a territory is 10 % away from its fair share; 0 means an
    average distance of 100 % or more.
    """
    r = np.asarray(relative, dtype=float)
    if len(r) == 0:
        return 100.0
    return float(100 * max(0.0, 1 - np.mean(np.abs(r - 1))))


def measure_balance(totals: np.ndarray, fair_share: np.ndarray) -> BalanceStats:
    """Balance statistics of one measure across territories.

    Parameters
    ----------
    totals
        (k,) the measure's total per territory ``x_t``.
    fair_share
        (k,) each territory's fair share ``τ_t``.

    Returns
    -------
    BalanceStats
        ``mean, min, max`` of the totals; on relative loads ``r = x/τ``:
        ``max_rel_dev = max |r − 1|``, ``cv``, ``gini``, ``max_min_ratio``,
        ``balance_index`` (see :func:`balance_index`).
    """
    x = np.asarray(totals, dtype=float)
    tau = np.asarray(fair_share, dtype=float)
    r = np.divide(x, tau, out=np.ones_like(x), where=tau > 0)
    return {
        "mean": float(x.mean()) if len(x) else 0.0,
        "min": float(x.min()) if len(x) else 0.0,
        "max": float(x.max()) if len(x) else 0.0,
        "max_rel_dev": float(np.max(np.abs(r - 1))) if len(r) else 0.0,
        "cv": coefficient_of_variation(r),
        "gini": gini(r),
        "max_min_ratio": max_min_ratio(r),
        "balance_index": balance_index(r),
    }


def per_group_mean_max(
    values: np.ndarray, groups: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and max of ``values`` per group label in ``0..k-1`` (0 for empty groups)."""
    values = np.asarray(values, dtype=float)
    count = np.bincount(groups, minlength=k)
    total = np.bincount(groups, weights=values, minlength=k)
    mean = np.divide(total, count, out=np.zeros(k), where=count > 0)
    mx = np.zeros(k)
    np.maximum.at(mx, groups, values)
    return mean, mx
