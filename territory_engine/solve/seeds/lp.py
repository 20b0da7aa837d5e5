"""Balanced seed: the LP relaxation of the balanced transportation problem, rounded.

Formulation (solved with HiGHS interior point + crossover through ``scipy.optimize.linprog``,
built from sparse arrays rather than per-variable calls)::

    min  Σ_i Σ_{t∈C_i} c_it x_it  +  M Σ_{t,j} (s⁻_tj + s⁺_tj) / τ_tj  +  M s_D / D
    s.t. Σ_{t∈C_i} x_it = 1                                  for every unit i
         Σ_i w_ij x_it + s⁻_tj ≥ L_tj                         for every territory t, measure j
         Σ_i w_ij x_it − s⁺_tj ≤ U_tj
         Σ_i Σ_t δ_it x_it − s_D ≤ D                          (disruption cap, when set)
         x ≥ 0, s ≥ 0

where ``C_i`` are the candidate territories of unit i (nearest eligible
centres, its current owner, or only its lock), ``c_it`` the normalised travel
plus disruption cost, ``τ_tj`` the band's target (so slacks are relative),
``δ_it`` the potential that changes owner when i joins t, and ``M`` a large
penalty: the elastic slacks keep the LP feasible so that a too-tight scenario
still gets a seed, and the local search then repairs or reports.

A basic optimal solution has at most about ``k·m`` fractional units; rounding
each unit to its largest share breaks the bands by at most a few units, which
the local search repairs.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from territory_engine.problem.data import ProblemData

SLACK_PENALTY = 1e4


class LinearCosts(Protocol):
    """What the LP needs of a cost model (:class:`~territory_engine.solve.costs.CostModel`)."""

    def assignment_cost(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        """``c_it`` for paired units and territories."""
        ...

    def moved_potential(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        """``δ_it`` for paired units and territories."""
        ...


def lp_seed(
    problem: ProblemData, costs: LinearCosts, candidates: list[np.ndarray]
) -> tuple[np.ndarray, dict]:
    """Solve the LP relaxation and round it.

    Parameters
    ----------
    problem
        The problem.
    costs
        Cost model (centres fixed).
    candidates
        Candidate territories per unit.

    Returns
    -------
    (numpy.ndarray, dict)
        (n,) territory per unit, and LP statistics (objective, number of
        fractional units, total relative band slack).
    """
    n, k, m = problem.n_units, problem.n_territories, problem.n_measures
    lens = np.array([len(c) for c in candidates])
    vi = np.repeat(np.arange(n), lens)
    vt = np.concatenate(candidates).astype(int)
    nv = len(vi)
    c_x = costs.assignment_cost(vi, vt)
    target = _band_targets(problem)
    # Column blocks: x (nv), s_minus (k*m), s_plus (k*m), s_D (1 if capped).
    has_cap = problem.max_moved_potential is not None
    n_slack = 2 * k * m + (1 if has_cap else 0)
    cost = np.concatenate(
        [
            c_x,
            SLACK_PENALTY / target.ravel(),
            SLACK_PENALTY / target.ravel(),
            [SLACK_PENALTY / max(problem.max_moved_potential or 1.0, 1.0)] if has_cap else [],
        ]
    )
    a_eq = sp.csr_matrix((np.ones(nv), (vi, np.arange(nv))), shape=(n, nv + n_slack))
    b_eq = np.ones(n)
    a_ub, b_ub = _inequalities(problem, costs, vi, vt, n_slack)
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=(0, None),
        method="highs-ds",
    )
    if res.status != 0 or res.x is None:
        raise RuntimeError(f"seed LP failed: {res.message}")
    x = res.x[:nv]
    slack = res.x[nv : nv + 2 * k * m]
    stats = {
        "seed_method": "lp",
        "lp_objective": float(res.fun),
        "lp_fractional_vars": int(np.sum((x > 1e-6) & (x < 1 - 1e-6))),
        "lp_band_slack": float(np.sum(slack.reshape(2, k * m) / target.ravel())),
        "lp_variables": int(nv),
    }
    return _round(x, c_x, vi, vt, n), stats


def _band_targets(problem: ProblemData) -> np.ndarray:
    """(k, m) ``τ_tj``: the band's middle (its low when unbounded above), 1 where not positive."""
    target = np.where(
        np.isfinite(problem.upper), (problem.lower + problem.upper) / 2, problem.lower
    )
    return np.where(target > 0, target, 1.0)


def _inequalities(
    problem: ProblemData, costs: LinearCosts, vi: np.ndarray, vt: np.ndarray, n_slack: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """``A_ub x ≤ b_ub``: the low bands, the finite high bands, then the disruption cap.

    ``vi``, ``vt``: unit and territory of each assignment variable.
    """
    k, m = problem.n_territories, problem.n_measures
    nv = len(vi)
    w = problem.weights
    tj_row = np.arange(k * m).reshape(k, m)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    rhs: list[np.ndarray] = []
    # -Σ w x - s⁻ ≤ -L
    for j in range(m):
        rows.append(tj_row[vt, j])
        cols.append(np.arange(nv))
        vals.append(-w[vi, j])
    rows.append(np.arange(k * m))
    cols.append(nv + np.arange(k * m))
    vals.append(-np.ones(k * m))
    rhs.append(-problem.lower.ravel())
    row = k * m
    # Σ w x - s⁺ ≤ U (only finite U)
    up_idx = np.flatnonzero(np.isfinite(problem.upper).ravel())
    up_row_of = np.full(k * m, -1)
    up_row_of[up_idx] = row + np.arange(len(up_idx))
    for j in range(m):
        r = up_row_of[tj_row[vt, j]]
        keep = r >= 0
        rows.append(r[keep])
        cols.append(np.arange(nv)[keep])
        vals.append(w[vi[keep], j])
    rows.append(up_row_of[up_idx])
    cols.append(nv + k * m + up_idx)
    vals.append(-np.ones(len(up_idx)))
    rhs.append(problem.upper.ravel()[up_idx])
    row += len(up_idx)
    cap = problem.max_moved_potential
    if cap is not None:
        # Σ δ x - s_D ≤ D
        rows.append(np.full(nv + 1, row))
        cols.append(np.append(np.arange(nv), nv + 2 * k * m))
        vals.append(np.append(costs.moved_potential(vi, vt), -1.0))
        rhs.append(np.array([cap], dtype=float))
        row += 1
    a_ub = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(row, nv + n_slack),
    )
    return a_ub, np.concatenate([np.asarray(r, float) for r in rhs])


def _round(x: np.ndarray, c_x: np.ndarray, vi: np.ndarray, vt: np.ndarray, n: int) -> np.ndarray:
    """Each unit to its largest share (ties to the cheaper territory, deterministic)."""
    nv = len(vi)
    order = np.lexsort((c_x, -x, vi))
    first = np.ones(nv, dtype=bool)
    first[1:] = vi[order][1:] != vi[order][:-1]
    assign = np.empty(n, dtype=int)
    assign[vi[order][first]] = vt[order][first]
    return assign
