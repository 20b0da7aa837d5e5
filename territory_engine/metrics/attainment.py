"""Expected quota attainment: a Monte Carlo simulation of next year's sales.

Model
-----
Expected sales of territory i (:func:`expected_sales`):
``E_i = r_i · P_i · c`` with a planner's capture rate ``c``, or
``E_i = r_i · S_i · (1 + g)`` from last year's revenue ``S_i`` of its accounts
(that is ``P_i`` times the territory's own last-year capture ``S_i / P_i``),
grown by ``g``; ``r_i`` is the rep's ramp factor (a ramping rep sells less).

Realised sales are lognormal around ``E_i`` with year-to-year coefficient of
variation ``v``: ``σ² = ln(1 + v²)`` and

``X_i = E_i · exp(σ Z_i − σ²/2)``,  ``Z_i = √ρ · Z₀ + √(1 − ρ) · ε_i``

with ``Z₀, ε_i ~ N(0, 1)`` independent, so ``E[X_i] = E_i``, ``CV[X_i] = v``
(one ``v`` for every territory, or each territory's own ``v_i`` estimated
from its forecast interval when the plan has monthly history, see
:func:`territory_engine.org.forecast.plan.annual_cv`)
and ``ρ`` is the correlation of the log-sales between territories (a shared
market shock). Attainment is ``a_i = X_i / q_i``. Draws come from a
:class:`numpy.random.Generator` seeded by the caller (the scenario's seed),
so the numbers are reproducible.

With ``v = 0`` every rep attains exactly ``E_i / q_i``. The share of reps at
or above 100 % has the exact expectation ``mean_i P(a_i ≥ 1)`` with
``P(a_i ≥ 1) = 1 − Φ((ln(q_i/E_i) + σ²/2) / σ)``, reported beside the
simulated one as a check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class AttainmentModel:
    """Parameters of the simulation (see the module docstring).

    Attributes
    ----------
    expected_sales
        (k,) ``E_i`` per territory, aligned with the scorecard's territories.
    cv
        Year-to-year coefficient of variation ``v`` of a territory's sales.
    correlation
        ``ρ`` in [0, 1].
    draws
        Number of simulated years.
    seed
        Seed of the random generator.
    healthy_low, healthy_high
        Band of the share of reps at or above 100 % considered healthy.
    description
        How ``E_i`` was obtained, in words, for ``scorecard.json``.
    cv_by_territory
        (k,) each territory's own ``v_i`` (from its forecast interval); when
        given it replaces ``cv``.
    """

    expected_sales: np.ndarray
    cv: float = 0.15
    correlation: float = 0.0
    draws: int = 4000
    seed: int = 0
    healthy_low: float = 0.60
    healthy_high: float = 0.70
    description: str = ""
    cv_by_territory: np.ndarray | None = None

    def spread(self) -> float | np.ndarray:
        """``v``: the territories' own ``v_i`` when given, else the one ``cv``."""
        return self.cv if self.cv_by_territory is None else np.asarray(self.cv_by_territory)


def expected_sales(
    potential: np.ndarray,
    history: np.ndarray,
    ramp: np.ndarray | None = None,
    *,
    capture: float | None = None,
    growth: float = 0.0,
) -> np.ndarray:
    """(k,) ``E_i = r_i · P_i · c`` when ``capture`` is given, else ``r_i · S_i · (1 + g)``."""
    p = np.asarray(potential, dtype=float)
    r = np.ones_like(p) if ramp is None else np.asarray(ramp, dtype=float)
    if capture is not None:
        return r * p * capture
    return r * np.asarray(history, dtype=float) * (1 + growth)


def simulate_attainment(
    quota: np.ndarray,
    expected: np.ndarray,
    cv: float | np.ndarray,
    *,
    correlation: float = 0.0,
    draws: int = 4000,
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """(draws, k) simulated attainment ``a_i = X_i / q_i``; NaN where ``q_i ≤ 0``.

    Parameters
    ----------
    quota
        (k,) quotas ``q``.
    expected
        (k,) expected sales ``E``.
    cv
        ``v``, the coefficient of variation of sales: one for all, or (k,) one per territory.
    correlation
        ``ρ``, the correlation of log-sales between territories.
    draws
        Number of simulated years.
    seed
        Seed (or generator) of :func:`numpy.random.default_rng`.
    """
    q = np.asarray(quota, dtype=float)
    e = np.asarray(expected, dtype=float)
    rng = np.random.default_rng(seed)
    sigma = _sigma(cv)
    common = rng.standard_normal((draws, 1))
    own = rng.standard_normal((draws, len(q)))
    z = np.sqrt(correlation) * common + np.sqrt(1 - correlation) * own
    sales = e[None, :] * np.exp(sigma * z - sigma**2 / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q[None, :] > 0, sales / np.where(q > 0, q, 1.0)[None, :], np.nan)


def _sigma(cv: float | np.ndarray) -> float | np.ndarray:
    """``σ = √ln(1 + v²)``: a float for one ``v``, an array for one per territory."""
    if np.ndim(cv) == 0:
        return float(np.sqrt(np.log1p(float(cv) ** 2)))
    return np.sqrt(np.log1p(np.asarray(cv, dtype=float) ** 2))


def probability_at_or_above(
    quota: np.ndarray, expected: np.ndarray, cv: float | np.ndarray
) -> np.ndarray:
    """(k,) exact ``P(a_i ≥ 1) = 1 − Φ((ln(q_i/E_i) + σ²/2) / σ)``; NaN where ``q_i ≤ 0``.

    With ``v = 0`` it is 1 when ``E_i ≥ q_i`` and 0 otherwise; ``cv`` is one
    ``v`` or (k,) one per territory.
    """
    q = np.asarray(quota, dtype=float)
    e = np.asarray(expected, dtype=float)
    sigma = np.broadcast_to(np.asarray(_sigma(cv), dtype=float), q.shape)
    out = np.full(len(q), np.nan)
    ok = q > 0
    flat = ok & (sigma == 0)
    out[flat] = (e[flat] >= q[flat]).astype(float)
    spread = ok & (sigma > 0)
    with np.errstate(divide="ignore"):
        z = (np.log(q[spread] / np.maximum(e[spread], 1e-300)) + sigma[spread] ** 2 / 2) / sigma[
            spread
        ]
    out[spread] = norm.sf(z)
    return out


def attainment_summary(
    quota: np.ndarray, model: AttainmentModel, territory_ids: Sequence[str]
) -> dict:
    """Distribution of attainment and the share of reps at or above 100 %.

    Returns
    -------
    dict
        ``share_at_or_above_100`` (mean over draws of the share of reps with
        ``a_i ≥ 1``), ``share_at_or_above_100_exact`` (its exact expectation),
        ``share_p05``/``share_p95`` (5th and 95th percentile over draws),
        ``healthy_band``, ``in_healthy_band`` and ``flag`` (``""``, ``"low"``:
        quotas look too hard, ``"high"``: too easy), ``median_attainment`` and
        ``mean_attainment`` over reps and draws, the model's parameters, and
        ``by_territory`` (expected sales, expected attainment ``E_i/q_i``,
        ``P(a_i ≥ 1)`` and the 10th/50th/90th percentiles of ``a_i``).
    """
    q = np.asarray(quota, dtype=float)
    sim = simulate_attainment(
        q,
        model.expected_sales,
        model.spread(),
        correlation=model.correlation,
        draws=model.draws,
        seed=model.seed,
    )
    carried = q > 0
    if not carried.any():
        return {"territories_with_quota": 0}
    hit = sim[:, carried] >= 1.0
    share = hit.mean(axis=1)
    exact = probability_at_or_above(q, model.expected_sales, model.spread())
    expected_share = float(share.mean())
    flag = (
        "low"
        if expected_share < model.healthy_low
        else ("high" if expected_share > model.healthy_high else "")
    )
    p10, p50, p90 = np.full((3, len(q)), np.nan)
    p10[carried], p50[carried], p90[carried] = np.percentile(sim[:, carried], [10, 50, 90], axis=0)
    p_hit = np.full(len(q), np.nan)
    p_hit[carried] = hit.mean(axis=0)
    by_territory: dict[str, dict[str, float] | None] = {}
    for j, tid in enumerate(territory_ids):
        if not carried[j]:
            by_territory[str(tid)] = None
            continue
        by_territory[str(tid)] = {
            "expected_sales": float(model.expected_sales[j]),
            "expected_attainment": float(model.expected_sales[j] / q[j]),
            "p_at_or_above_100": float(p_hit[j]),
            "attainment_p10": float(p10[j]),
            "attainment_p50": float(p50[j]),
            "attainment_p90": float(p90[j]),
        }
    return {
        "territories_with_quota": int(carried.sum()),
        "share_at_or_above_100": expected_share,
        "share_at_or_above_100_exact": float(np.nanmean(exact[carried])),
        "share_p05": float(np.percentile(share, 5)),
        "share_p95": float(np.percentile(share, 95)),
        "healthy_band": [model.healthy_low, model.healthy_high],
        "in_healthy_band": flag == "",
        "flag": flag,
        "median_attainment": float(np.median(sim[:, carried])),
        "mean_attainment": float(np.mean(sim[:, carried])),
        "model": {
            "expected_sales": model.description,
            # "history": each territory's own v_i (see "spread"), not the one setting.
            "cv": model.cv if model.cv_by_territory is None else "history",
            "correlation": model.correlation,
            "draws": model.draws,
            "seed": model.seed,
        },
        "by_territory": by_territory,
        **_spread_entry(model, territory_ids),
    }


def _spread_entry(model: AttainmentModel, territory_ids: Sequence[str]) -> dict:
    """``spread``: which ``v`` the simulation used, only when it is not the one setting.

    A plan without history keeps its scorecard exactly as before.
    """
    if model.cv_by_territory is None:
        return {}
    v = np.asarray(model.cv_by_territory, dtype=float)
    return {
        "spread": {
            "source": "history",
            "words": "each territory's own coefficient of variation, from its plan-year "
            "forecast interval (quota.attainment.spread: history)",
            "cv_min": float(v.min()) if len(v) else None,
            "cv_median": float(np.median(v)) if len(v) else None,
            "cv_max": float(v.max()) if len(v) else None,
            "cv_by_territory": {str(t): float(x) for t, x in zip(territory_ids, v, strict=True)},
        }
    }
