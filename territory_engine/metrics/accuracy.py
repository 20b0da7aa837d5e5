"""Forecast accuracy: the two errors sales operations reports, as pure functions.

Used by the forecast backtest (:mod:`territory_engine.org.forecast`) and by the
year's KPIs against actuals (:mod:`territory_engine.org.kpis`), so both report the
same numbers for the same series.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mape", "wape"]


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """``Σ|y − ŷ| / Σ|y|``; NaN when every ``y`` is 0."""
    y, f = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    total = np.abs(y).sum()
    return float(np.abs(y - f).sum() / total) if total > 0 else float("nan")


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """``mean |y − ŷ| / |y|`` over the points with ``y ≠ 0``; NaN when there are none."""
    y, f = np.asarray(actual, dtype=float).ravel(), np.asarray(forecast, dtype=float).ravel()
    ok = y != 0
    return float(np.mean(np.abs(y[ok] - f[ok]) / np.abs(y[ok]))) if ok.any() else float("nan")
