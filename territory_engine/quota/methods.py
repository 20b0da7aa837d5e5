"""Quota methods: how a target ``T`` is split among territories before rounding.

Notation: ``S_i`` last year's revenue of the accounts now in territory i (not
the rep's old book), ``P_i`` the territory's potential, ``c_i`` its rep's
capacity (FTE; 1 when capacity scaling is off), ``n`` the number of territories.

================== =================================================
method             raw quota ``q_i``
================== =================================================
flat               ``T · c_i / Σc``
history            ``T · S_i / ΣS``  (uniform growth on last year)
equitable_growth   ``S_i + (T − ΣS) · c_i / Σc``
potential          ``T · P_i / ΣP``
blended            ``T · [w · S_i/ΣS + (1 − w) · P_i/ΣP]``
forecast           ``T · [v · F_i/ΣF + (1 − v) · P_i/ΣP]``
================== =================================================

``F_i`` is the plan year's forecast of territory i (the sum of its reconciled
monthly forecasts, :mod:`territory_engine.org.forecast`) and ``v`` the
``forecast_weight``; the company target of this method defaults to
``stretch · ΣF`` (see :func:`territory_engine.quota.allocate.company_target`).

Every method sums to ``T`` exactly in real arithmetic; rounding
(:mod:`territory_engine.quota.rounding`) keeps the sum exact in cents.
"""

from __future__ import annotations

import numpy as np

METHODS = ("flat", "history", "equitable_growth", "potential", "blended", "forecast")


def _share(x: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    total = x.sum()
    return x / total if total > 0 else fallback / fallback.sum()


def raw_quotas(
    method: str,
    target: float,
    history: np.ndarray,
    potential: np.ndarray,
    capacity: np.ndarray,
    history_weight: float = 0.5,
    forecast: np.ndarray | None = None,
    forecast_weight: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw (unrounded) quotas and the part of each that comes from history and from potential.

    Parameters
    ----------
    method
        One of :data:`METHODS`.
    target
        The total ``T`` to allocate.
    history, potential, capacity
        (n,) ``S``, ``P`` and ``c`` per territory.
    history_weight
        ``w`` of the blended method.
    forecast
        (n,) ``F``, the plan year's forecast per territory (method ``forecast``).
    forecast_weight
        ``v`` of the forecast method.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Raw quotas ``q``, and the shares of each quota explained by history
        and by potential (each in [0, 1]; the rest is a flat or equal part).
        For the forecast method the history part is the forecast's (a
        forecast of the accounts' own history).

    Raises
    ------
    ValueError
        An unknown method, or method ``forecast`` without a forecast.
    """
    s = np.asarray(history, dtype=float)
    p = np.asarray(potential, dtype=float)
    c = np.asarray(capacity, dtype=float)
    n = len(s)
    zeros, ones = np.zeros(n), np.ones(n)
    cap_share = c / c.sum()
    if method == "flat":
        return target * cap_share, zeros, zeros
    if method == "history":
        return target * _share(s, c), ones, zeros
    if method == "equitable_growth":
        q = s + (target - s.sum()) * cap_share
        with np.errstate(divide="ignore", invalid="ignore"):
            hist_part = np.where(q > 0, np.clip(s / q, 0, 1), 0.0)
        return q, hist_part, zeros
    if method == "potential":
        return target * _share(p, c), zeros, ones
    if method == "blended":
        hs, ps = history_weight * _share(s, c), (1 - history_weight) * _share(p, c)
        q = target * (hs + ps)
        with np.errstate(divide="ignore", invalid="ignore"):
            hist_part = np.where(hs + ps > 0, hs / (hs + ps), 0.0)
        return q, hist_part, 1 - hist_part
    if method == "forecast":
        if forecast is None:
            raise ValueError("quota method 'forecast' needs the territories' forecasts")
        f = np.clip(np.asarray(forecast, dtype=float), 0.0, None)
        fs, ps = forecast_weight * _share(f, c), (1 - forecast_weight) * _share(p, c)
        q = target * (fs + ps)
        with np.errstate(divide="ignore", invalid="ignore"):
            hist_part = np.where(fs + ps > 0, fs / (fs + ps), 0.0)
        return q, hist_part, 1 - hist_part
    raise ValueError(f"unknown quota method '{method}'; choose one of {', '.join(METHODS)}")
