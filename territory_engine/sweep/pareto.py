"""Which plans of a sweep are worth a look: the non-dominated set and a compromise rank.

Three criteria, all minimised:

- **balance**: the largest relative deviation from fair share over the balanced
  measures (``max_rel_dev`` of the scorecard, the worst measure);
- **disruption**: the share of potential whose owner changes;
- **travel**: the mean rep-to-account distance in km.

A plan is dominated when another plan is at least as good on every criterion and
strictly better on one. Only feasible plans take part: an infeasible plan breaks a
hard rule, so being low on the criteria says nothing about it. These are pure
functions of the numbers; nothing here reads files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["CRITERIA", "compromise_scores", "non_dominated"]

#: Record fields of the three criteria, in the order used everywhere.
CRITERIA: tuple[str, ...] = ("balance_max_dev", "moved_potential_share", "travel_mean_km")


def _matrix(points: Sequence[Sequence[float]]) -> np.ndarray:
    """(n, k) float array; an empty input gives an empty (0, 0) array."""
    if len(points) == 0:
        return np.zeros((0, 0))
    return np.asarray(points, dtype=float).reshape(len(points), -1)


def _usable(points: np.ndarray, feasible: Sequence[bool] | None) -> np.ndarray:
    ok = np.all(np.isfinite(points), axis=1)
    if feasible is not None:
        ok &= np.asarray(feasible, dtype=bool)
    return ok


def non_dominated(
    points: Sequence[Sequence[float]], feasible: Sequence[bool] | None = None
) -> list[bool]:
    """Mark the points no other point dominates (every criterion minimised).

    Parameters
    ----------
    points
        (n, k) criteria per plan. A point with a missing (NaN) criterion takes no part.
    feasible
        (n,) whether each plan is feasible; infeasible plans take no part. Default:
        all feasible.

    Returns
    -------
    list of bool
        True for the non-dominated feasible points. Two identical points do not
        dominate each other, so both are kept.

    Examples
    --------
    >>> non_dominated([(1, 5), (2, 2), (3, 3), (5, 1)])
    [True, True, False, True]
    """
    p = _matrix(points)
    usable = _usable(p, feasible)
    marks = []
    for i in range(len(p)):
        if not usable[i]:
            marks.append(False)
            continue
        others = p[usable]
        dominated = np.any(np.all(others <= p[i], axis=1) & np.any(others < p[i], axis=1))
        marks.append(not bool(dominated))
    return marks


def compromise_scores(
    points: Sequence[Sequence[float]], feasible: Sequence[bool] | None = None
) -> list[float]:
    """A single number per plan to order the non-dominated ones: lower is better.

    Each criterion is rescaled to [0, 1] over the usable (feasible, complete) plans,
    0 for the best plan on it and 1 for the worst, and the three are added: the plan
    that is nowhere far from the best of the sweep scores lowest. A criterion on which
    every plan is equal counts 0 for all.

    Parameters
    ----------
    points, feasible
        As for :func:`non_dominated`.

    Returns
    -------
    list of float
        The score of each plan; NaN for plans that take no part.
    """
    p = _matrix(points)
    usable = _usable(p, feasible)
    if not usable.any():
        return [math.nan] * len(p)
    lo = p[usable].min(axis=0)
    span = p[usable].max(axis=0) - lo
    scaled = np.divide(p - lo, span, out=np.zeros_like(p), where=span > 0)
    score = scaled.sum(axis=1)
    return [float(s) if u else math.nan for s, u in zip(score, usable, strict=True)]
