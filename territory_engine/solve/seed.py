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

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from territory_engine.problem.data import ProblemData
from territory_engine.solve.costs import CostModel

SLACK_PENALTY = 1e4


def lp_seed(
    problem: ProblemData, costs: CostModel, candidates: list[np.ndarray]
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

    target = np.where(
        np.isfinite(problem.upper), (problem.lower + problem.upper) / 2, problem.lower
    )
    target = np.where(target > 0, target, 1.0)
    finite_up = np.isfinite(problem.upper)

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

    rows, cols, vals, rhs = [], [], [], []
    row = 0
    w = problem.weights
    tj_row = np.arange(k * m).reshape(k, m)
    for j in range(m):
        # -Σ w x - s⁻ ≤ -L
        r = tj_row[vt, j]
        rows.append(r)
        cols.append(np.arange(nv))
        vals.append(-w[vi, j])
    lower_rows = np.concatenate(rows) if rows else np.empty(0, int)
    rows = [lower_rows]
    cols = [np.concatenate(cols)]
    vals = [np.concatenate(vals)]
    rows.append(np.arange(k * m))
    cols.append(nv + np.arange(k * m))
    vals.append(-np.ones(k * m))
    rhs.append(-problem.lower.ravel())
    row = k * m
    # Σ w x - s⁺ ≤ U (only finite U)
    up_idx = np.flatnonzero(finite_up.ravel())
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
    if has_cap:
        moved = costs.moved_potential(vi, vt)
        rows.append(np.full(nv + 1, row))
        cols.append(np.append(np.arange(nv), nv + 2 * k * m))
        vals.append(np.append(moved, -1.0))
        rhs.append([problem.max_moved_potential])
        row += 1
    a_ub = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(row, nv + n_slack),
    )
    b_ub = np.concatenate([np.asarray(r, float) for r in rhs])

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
    # Round: each unit to its largest share (ties to the cheaper territory, deterministic).
    order = np.lexsort((c_x, -x, vi))
    first = np.ones(nv, dtype=bool)
    first[1:] = vi[order][1:] != vi[order][:-1]
    assign = np.empty(n, dtype=int)
    assign[vi[order][first]] = vt[order][first]
    fractional = int(np.sum((x > 1e-6) & (x < 1 - 1e-6)))
    slack = res.x[nv : nv + 2 * k * m]
    stats = {
        "seed_method": "lp",
        "lp_objective": float(res.fun),
        "lp_fractional_vars": fractional,
        "lp_band_slack": float(np.sum(slack.reshape(2, k * m) / target.ravel())),
        "lp_variables": int(nv),
    }
    return assign, stats
