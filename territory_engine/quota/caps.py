"""Caps on quotas, their conflicts in words, and the capped allocation as an LP.

Bounds of territory i (in $, from the scenario's ``quota.caps``):

* non-negative: ``q_i ≥ 0``;
* growth: ``(1 + g_min) · L_i ≤ q_i ≤ (1 + g_max) · L_i`` where ``L_i > 0`` is
  the rep's last-year quota (new hires, ``L_i = 0``, are not bound);
* potential: ``φ · r_i · P_i ≤ q_i ≤ ψ · P_i`` (floor ``φ`` scaled by the
  ramp factor ``r_i``, ceiling ``ψ``).

``lo_i`` is the largest lower bound and ``hi_i`` the smallest upper bound;
both are tightened to whole rounding units so that the rounded quotas still
hold them. Within a pool (see :mod:`~territory_engine.quota.hierarchy`) with
total ``A``, bounds can all hold iff ``lo_i ≤ hi_i`` for every i and
``Σ lo ≤ A ≤ Σ hi``; :func:`check_feasible` names every violated condition.

When the uncapped quotas ``t`` break a bound, :func:`closest_allocation`
solves, with OR-tools GLOP,

.. math::

    \\min \\sum_i |q_i - t_i| \\quad \\text{s.t.} \\quad \\sum_i q_i = A,\\;
    lo_i \\le q_i \\le hi_i

(absolute values linearised: ``d_i ≥ ±(q_i − t_i)``), then, among the
optimal ``q``, minimises ``u`` with ``|q_i − t_i| ≤ u·t_i + F_i`` where
``F_i`` is the deviation the bounds force on i alone. The first stage keeps
the quotas closest to the method; the second spreads the amount that capped
territories shed (or must gain) over the others in proportion to their
quotas, rather than loading it all on one territory (L1 optima are not unique).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from territory_engine.config.scenario import QuotaCapsConfig
from territory_engine.display.numbers import money, percent
from territory_engine.errors import InfeasibleError
from territory_engine.quota.rounding import to_cents

NONE_CENTS = np.int64(2**62)
"""Magnitude standing for "no bound" in cents."""

# Names of the bounds, as they appear in quotas.csv's ``caps_applied``.
NONNEGATIVE = "non_negative"
GROWTH_MIN = "growth_min"
GROWTH_MAX = "growth_max"
POTENTIAL_FLOOR = "potential_floor"
POTENTIAL_CEILING = "potential_ceiling"
RESPREAD = "absorbs_capped"


@dataclass(frozen=True)
class Bounds:
    """Per-territory bounds and where they come from.

    Attributes
    ----------
    lower, upper
        (n,) bounds in dollars, ``-inf``/``inf`` for none, before unit tightening.
    lower_source, upper_source
        (n,) name of the binding bound ("" for none).
    lower_cents, upper_cents
        (n,) int64 bounds in whole cents (``±NONE_CENTS`` for none).
    lower_unit_cents, upper_unit_cents
        (n,) the same tightened to whole rounding units, which the rounded
        quotas (but for the sub-unit residue of the total) must respect.
    words_lower, words_upper
        (n,) each bound in words with its arithmetic, for messages.
    """

    lower: np.ndarray
    upper: np.ndarray
    lower_source: np.ndarray
    upper_source: np.ndarray
    lower_cents: np.ndarray
    upper_cents: np.ndarray
    lower_unit_cents: np.ndarray
    upper_unit_cents: np.ndarray
    words_lower: np.ndarray
    words_upper: np.ndarray


_Candidate = tuple[str, np.ndarray, list[str]]
"""One kind of bound: its name, (n,) values in dollars, and (n,) the same in words."""


def quota_bounds(
    caps: QuotaCapsConfig,
    last_year_quota: np.ndarray,
    potential: np.ndarray,
    ramp: np.ndarray,
    unit: float,
) -> Bounds:
    """Bounds of every territory (see the module docstring).

    Steps: every bound the caps set (:func:`_lower_candidates`,
    :func:`_upper_candidates`), the tightest of each side per territory
    (:func:`_tightest`), then those in whole cents and whole rounding units
    (:func:`_in_cents`).

    Parameters
    ----------
    caps
        The scenario's ``quota.caps``.
    last_year_quota
        (n,) ``L_i``; 0 or NaN for none.
    potential
        (n,) ``P_i``.
    ramp
        (n,) annual ramp factor ``r_i`` in [0, 1].
    unit
        Rounding unit in dollars.
    """
    n = len(potential)
    L = np.nan_to_num(np.asarray(last_year_quota, dtype=float), nan=0.0)
    P = np.asarray(potential, dtype=float)
    r = np.asarray(ramp, dtype=float)
    lower, lower_src, words_lo = _tightest(_lower_candidates(caps, L, P, r), n, lower=True)
    upper, upper_src, words_hi = _tightest(_upper_candidates(caps, L, P), n, lower=False)
    lo_c, hi_c, lo_u, hi_u = _in_cents(lower, upper, unit)
    return Bounds(lower, upper, lower_src, upper_src, lo_c, hi_c, lo_u, hi_u, words_lo, words_hi)


def _lower_candidates(
    caps: QuotaCapsConfig, L: np.ndarray, P: np.ndarray, r: np.ndarray
) -> list[_Candidate]:
    """The lower bounds: zero, then the growth floor and the potential floor when set.

    ``-inf`` where a bound does not apply (no last-year quota). On a tie the
    earlier one in the list names the bound.
    """
    n = len(P)
    lows: list[_Candidate] = [(NONNEGATIVE, np.zeros(n), ["zero (a quota is never negative)"] * n)]
    if caps.growth_min is not None:
        v = np.where(L > 0, (1 + caps.growth_min) * L, -np.inf)
        words = [
            f"the growth floor ({percent(caps.growth_min, signed=True, digits=0)} on last "
            f"year's quota {money(L[i])} = {money(v[i])})"
            for i in range(n)
        ]
        lows.append((GROWTH_MIN, v, words))
    if caps.potential_floor is not None:
        v = caps.potential_floor * r * P
        ramp_words = [f" × ramp {percent(r[i], digits=0)}" if r[i] < 1 else "" for i in range(n)]
        words = [
            f"the potential floor ({percent(caps.potential_floor, digits=0)} of potential "
            f"{money(P[i])}{ramp_words[i]} = {money(v[i])})"
            for i in range(n)
        ]
        lows.append((POTENTIAL_FLOOR, v, words))
    return lows


def _upper_candidates(caps: QuotaCapsConfig, L: np.ndarray, P: np.ndarray) -> list[_Candidate]:
    """The upper bounds: the growth ceiling and the potential ceiling when set."""
    n = len(P)
    highs: list[_Candidate] = []
    if caps.growth_max is not None:
        v = np.where(L > 0, (1 + caps.growth_max) * L, np.inf)
        words = [
            f"the growth ceiling ({percent(caps.growth_max, signed=True, digits=0)} on last "
            f"year's quota {money(L[i])} = {money(v[i])})"
            for i in range(n)
        ]
        highs.append((GROWTH_MAX, v, words))
    if caps.potential_ceiling is not None:
        v = caps.potential_ceiling * P
        words = [
            f"the potential ceiling ({percent(caps.potential_ceiling, digits=0)} of potential "
            f"{money(P[i])} = {money(v[i])})"
            for i in range(n)
        ]
        highs.append((POTENTIAL_CEILING, v, words))
    return highs


def _tightest(
    candidates: list[_Candidate], n: int, *, lower: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per territory, the largest lower (``lower``) or smallest upper bound.

    Returns
    -------
    bound, source, words
        (n,) the bound in dollars (``∓inf`` where none applies), the name of
        the candidate that sets it (the first one on a tie; "" for none) and
        its words.
    """
    bound = np.full(n, -np.inf if lower else np.inf)
    source = np.full(n, "", dtype=object)
    words_of = np.full(n, "", dtype=object)
    for name, v, words in candidates:
        better = v > bound if lower else v < bound
        bound = np.where(better, v, bound)
        source[better] = name
        words_of[better] = np.asarray(words, dtype=object)[better]
    return bound, source, words_of


def _in_cents(
    lower: np.ndarray, upper: np.ndarray, unit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dollar bounds as int64 whole cents, then tightened to whole rounding units.

    Returns
    -------
    lower_cents, upper_cents, lower_unit_cents, upper_unit_cents
        Lower bounds round up and upper bounds down; ``±NONE_CENTS`` for none.
    """
    n = len(lower)
    unit_c = max(to_cents(unit), 1)
    lo_c = np.full(n, -NONE_CENTS, dtype=np.int64)
    hi_c = np.full(n, NONE_CENTS, dtype=np.int64)
    fin_lo, fin_hi = np.isfinite(lower), np.isfinite(upper)
    # Whole cents (1e-6 guards against 0.9 × 1000 = 899.9999...), then whole units.
    lo_c[fin_lo] = np.ceil(lower[fin_lo] * 100 - 1e-6).astype(np.int64)
    hi_c[fin_hi] = np.floor(upper[fin_hi] * 100 + 1e-6).astype(np.int64)
    lo_u = np.where(fin_lo, -((-lo_c) // unit_c) * unit_c, lo_c)
    hi_u = np.where(fin_hi, (hi_c // unit_c) * unit_c, hi_c)
    return lo_c, hi_c, lo_u, hi_u


def check_feasible(
    bounds: Bounds,
    members: np.ndarray,
    total: float,
    pool_name: str,
    labels: list[str],
    unit: float,
    max_listed: int = 8,
) -> list[str]:
    """Why the bounds of a pool cannot all hold, in words (empty when they can).

    Parameters
    ----------
    bounds
        From :func:`quota_bounds`.
    members
        Indices of the pool's territories.
    total
        The pool's total ``A`` in dollars.
    pool_name
        For the messages (``company``, ``region East``...).
    labels
        (n,) how to name each territory, e.g. ``"rep R07 (T-R07)"``.
    unit
        Rounding unit in dollars.
    max_listed
        Territories listed by name before "and N more".
    """
    problems: list[str] = []
    lo_c, hi_c = bounds.lower_unit_cents[members], bounds.upper_unit_cents[members]
    crossed = [int(i) for i in members[lo_c > hi_c]]
    for i in crossed[:max_listed]:
        if bounds.lower[i] > bounds.upper[i]:
            problems.append(
                f"{labels[i]}: {bounds.words_lower[i]} is above {bounds.words_upper[i]}"
            )
        else:
            problems.append(
                f"{labels[i]}: {bounds.words_lower[i]} and {bounds.words_upper[i]} leave no "
                f"multiple of the rounding unit {money(unit)} between them; lower quota.rounding"
            )
    if len(crossed) > max_listed:
        problems.append(f"and {len(crossed) - max_listed} more territories with crossed caps")
    total_c = to_cents(total)
    finite_lo = lo_c > -NONE_CENTS
    sum_lo = int(np.where(finite_lo, lo_c, 0).sum())
    if sum_lo > total_c:
        problems.append(
            f"{pool_name}: the quota floors sum to {money(sum_lo / 100)}, above the target "
            f"{money(total)} ({_breakdown(bounds.lower_source[members], lo_c, finite_lo)}); "
            "lower the floors or raise the target"
        )
    if np.all(hi_c < NONE_CENTS):
        # The sub-unit residue also needs room under the exact (untightened) ceilings.
        sum_hi = int(hi_c.sum())
        exact_hi = int(bounds.upper_cents[members].sum())
        if sum_hi < total_c - (total_c % max(to_cents(unit), 1)) or exact_hi < total_c:
            problems.append(
                f"{pool_name}: the quota ceilings sum to {money(sum_hi / 100)}, below the "
                f"target {money(total)} "
                f"({_breakdown(bounds.upper_source[members], hi_c, np.ones(len(hi_c), bool))}); "
                "raise the ceilings or lower the target"
            )
    return problems


def _breakdown(source: np.ndarray, cents: np.ndarray, keep: np.ndarray) -> str:
    parts = []
    for name in sorted({str(s) for s in source[keep]} - {""}):
        sel = keep & (source == name)
        amount = int(cents[sel].sum())
        count = int(sel.sum())
        if amount == 0:
            continue  # the zero floor of a quota adds nothing worth naming
        parts.append(
            f"{name}: {count} territor{'y' if count == 1 else 'ies'}, {money(amount / 100)}"
        )
    return "; ".join(parts) if parts else "no bound"


def raise_if_infeasible(problems: list[str]) -> None:
    """Raise one :class:`InfeasibleError` listing every conflict."""
    if problems:
        raise InfeasibleError("quota caps cannot all hold:\n  - " + "\n  - ".join(problems))


def closest_allocation(
    target: np.ndarray, total: float, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Quotas closest to ``target`` (L1) that sum to ``total`` within ``[lower, upper]``.

    Two GLOP solves (see the module docstring): minimise ``Σ|q − t|``, then
    with that total deviation fixed, minimise the largest deviation beyond
    what each territory's own bounds force, relative to its ``t``.

    Parameters
    ----------
    target
        (n,) uncapped quotas ``t`` in dollars.
    total
        ``A``; the caller has checked ``Σ lower ≤ A ≤ Σ upper``.
    lower, upper
        (n,) bounds in dollars (``±inf`` for none).

    Returns
    -------
    numpy.ndarray
        (n,) quotas in dollars (clipped into the bounds; their sum is ``A`` up to
        solver tolerance, which the rounding step absorbs).

    Raises
    ------
    InfeasibleError
        When the solver finds no solution (only on inconsistent bounds).
    """
    t = np.asarray(target, dtype=float)
    n = len(t)
    # Work in units of the mean quota so GLOP sees numbers of order 1.
    scale = max(abs(total) / max(n, 1), 1.0)
    ts, a = t / scale, total / scale
    lo = np.where(np.isfinite(lower), lower / scale, -np.inf)
    hi = np.where(np.isfinite(upper), upper / scale, np.inf)
    forced_up = np.maximum(np.where(np.isfinite(lo), lo - ts, 0.0), 0.0)
    forced_down = np.maximum(np.where(np.isfinite(hi), ts - hi, 0.0), 0.0)
    weight = np.maximum(np.abs(ts), 1e-3 * max(float(np.mean(np.abs(ts))), 1e-9))

    def build() -> tuple[pywraplp.Solver, list, list]:
        solver = pywraplp.Solver.CreateSolver("GLOP")
        inf = solver.infinity()
        q = [
            solver.NumVar(
                lo[i] if np.isfinite(lo[i]) else -inf,
                hi[i] if np.isfinite(hi[i]) else inf,
                f"q{i}",
            )
            for i in range(n)
        ]
        d = [solver.NumVar(0.0, inf, f"d{i}") for i in range(n)]
        solver.Add(solver.Sum(q) == a)
        for i in range(n):
            solver.Add(d[i] >= q[i] - ts[i])
            solver.Add(d[i] >= ts[i] - q[i])
        return solver, q, d

    solver, q, d = build()
    solver.Minimize(solver.Sum(d))
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise InfeasibleError("the capped quota allocation has no solution")
    best = solver.Objective().Value()

    solver, q, d = build()
    u = solver.NumVar(0.0, solver.infinity(), "u")
    solver.Add(solver.Sum(d) <= best * (1 + 1e-9) + 1e-9 * n)
    for i in range(n):
        solver.Add(q[i] - ts[i] <= u * weight[i] + forced_up[i])
        solver.Add(ts[i] - q[i] <= u * weight[i] + forced_down[i])
    solver.Minimize(u)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise InfeasibleError("the capped quota allocation has no solution")
    out = np.array([v.solution_value() for v in q]) * scale
    return np.clip(out, lower, upper)
