"""Exact model for small instances: balanced, contiguous, fewest cut edges (CP-SAT).

For n up to a few hundred units the whole problem fits one CP-SAT model with
free roots (no fixed centres), in the spirit of Validi, Buchanan & Lykhovyd
(2022) and Shirabe (2009)::

    min  Σ_{ij∈E} c_ij  (+ ε · linear assignment cost)
    s.t. Σ_t x_it = 1                                   every unit i
         L_tj ≤ Σ_i w_ij x_it ≤ U_tj                    every part t, measure j
         Σ_i r_it = 1,  r_it ≤ x_it                      one root per part
         x_jt ≤ Σ_{i ≤ j} r_it                           the root is the part's lowest-index unit
         Σ_i i r_it + 1 ≤ Σ_i i r_{i,t+1}                parts ordered by root (symmetry breaking)
         Σ_h f^t_hi − Σ_h f^t_ih ≥ x_it − n r_it         flow reaches every unit of t from its root
         f^t_ih ≤ (n − 1) x_it,  f^t_ih ≤ (n − 1) x_ht   flow only inside part t
         c_ij ≥ x_it − x_jt,  c_ij ≥ x_jt − x_it         cut edges

A feasible plan is passed as a hint (relabelled to the root order), so CP-SAT
starts from it and only improves. Used by ``partition`` on small graphs.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from territory_engine.problem.data import ProblemData
from territory_engine.solve.exact.subproblem import CpVars, integer_band, tree_flows


def relabel_by_root(assign: np.ndarray, k: int) -> np.ndarray:
    """Renumber parts so that part 0 holds unit 0 and parts are ordered by lowest unit."""
    order = []
    for t in assign.tolist():
        if t not in order:
            order.append(t)
    order += [t for t in range(k) if t not in order]
    new_of = {old: new for new, old in enumerate(order)}
    return np.array([new_of[t] for t in assign.tolist()])


def solve_exact(
    problem: ProblemData,
    hint: np.ndarray | None,
    *,
    max_seconds: float,
    workers: int = 2,
    seed: int = 0,
) -> tuple[np.ndarray | None, str, float]:
    """Solve the whole instance exactly (within the time limit).

    Parameters
    ----------
    problem
        Single-group problem; bands, adjacency and ``contiguity`` are used.
    hint
        A feasible assignment to start from, or ``None``.
    max_seconds
        Wall-clock limit.
    workers
        CP-SAT workers.
    seed
        CP-SAT random seed.

    Returns
    -------
    (numpy.ndarray or None, str, float)
        Best assignment found (``None`` if none), CP-SAT status name, and the
        proven lower bound on cut edges.
    """
    n, k = problem.n_units, problem.n_territories
    model = cp_model.CpModel()
    x, r = _assignment_and_roots(model, n, k)
    _add_bands(model, problem, x)
    coo = problem.adjacency.tocoo()
    edges = [(int(a), int(b)) for a, b in zip(coo.row, coo.col, strict=True) if a < b]
    if problem.contiguity:
        _add_flows(model, problem, x, r, edges, _hint_flows(problem, hint))
    cuts = _add_cuts(model, x, edges, hint, k)
    model.minimize(sum(cuts))
    if hint is not None:
        _hint_assignment(model, x, r, relabel_by_root(np.asarray(hint), k))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(max_seconds, 0.1)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, name, float(solver.best_objective_bound)
    out = np.array(
        [next(t for t in range(min(i + 1, k)) if solver.boolean_value(x[i, t])) for i in range(n)]
    )
    return out, name, float(solver.best_objective_bound)


def _assignment_and_roots(model: cp_model.CpModel, n: int, k: int) -> tuple[CpVars, CpVars]:
    """``x_it`` (unit i in part t ≤ i) and ``r_it`` (i is t's root), with root order.

    Constraints: one part per unit, one root per part, the root is the part's
    lowest-index unit, and parts are ordered by root (symmetry breaking).
    """
    x = {(i, t): model.new_bool_var(f"x{i}_{t}") for i in range(n) for t in range(min(i + 1, k))}
    r = {(i, t): model.new_bool_var(f"r{i}_{t}") for (i, t) in x}
    for i in range(n):
        model.add_exactly_one(x[i, t] for t in range(min(i + 1, k)))
    for t in range(k):
        model.add_exactly_one(r[i, t] for i in range(t, n))
        prefix = []
        for j in range(t, n):
            model.add_implication(r[j, t], x[j, t])
            prefix.append(r[j, t])
            model.add(x[j, t] <= sum(prefix))
        if t + 1 < k:
            model.add(
                sum(i * r[i, t] for i in range(t, n)) + 1
                <= sum(i * r[i, t + 1] for i in range(t + 1, n))
            )
    return x, r


def _add_bands(model: cp_model.CpModel, problem: ProblemData, x: CpVars) -> None:
    """``L_tj ≤ Σ_i w_ij x_it ≤ U_tj`` in integers (:func:`integer_band`)."""
    n, k = problem.n_units, problem.n_territories
    for j in range(problem.n_measures):
        wj, lo_i, hi_i = integer_band(
            problem.weights[:, j], problem.lower[:, j], problem.upper[:, j], n
        )
        for t in range(k):
            expr = sum(int(wj[i]) * x[i, t] for i in range(t, n))
            if lo_i[t] >= 0:
                model.add(expr >= int(lo_i[t]))
            if hi_i[t] < 2**60:
                model.add(expr <= int(hi_i[t]))


def _hint_flows(
    problem: ProblemData, hint: np.ndarray | None
) -> dict[int, dict[tuple[int, int], int]]:
    """Per part of the (relabelled) hint, the tree flows that certify it is connected."""
    hint_flow: dict[int, dict[tuple[int, int], int]] = {}
    if hint is not None and problem.contiguity:
        k = problem.n_territories
        h = relabel_by_root(np.asarray(hint), k)
        ind, ptr = problem.adjacency.indices, problem.adjacency.indptr
        for t in range(k):
            mem = {int(i) for i in np.flatnonzero(h == t)}
            if mem:
                hint_flow[t] = tree_flows(ptr, ind, mem, min(mem))
    return hint_flow


def _add_flows(
    model: cp_model.CpModel,
    problem: ProblemData,
    x: CpVars,
    r: CpVars,
    edges: list[tuple[int, int]],
    hint_flow: dict[int, dict[tuple[int, int], int]],
) -> None:
    """Contiguity: flow ``f^t`` from each part's root reaches every unit of the part."""
    n, k = problem.n_units, problem.n_territories
    for t in range(k):
        inflow: dict[int, list] = {i: [] for i in range(t, n)}
        outflow: dict[int, list] = {i: [] for i in range(t, n)}
        for a, b in edges:
            if a < t or b < t:
                continue
            for u, v in ((a, b), (b, a)):
                f = model.new_int_var(0, n - 1, f"f{t}_{u}_{v}")
                if t in hint_flow:
                    model.add_hint(f, hint_flow[t].get((u, v), 0))
                model.add(f <= (n - 1) * x[u, t])
                model.add(f <= (n - 1) * x[v, t])
                outflow[u].append(f)
                inflow[v].append(f)
        for i in range(t, n):
            model.add(sum(inflow[i]) - sum(outflow[i]) >= x[i, t] - n * r[i, t])


def _add_cuts(
    model: cp_model.CpModel,
    x: CpVars,
    edges: list[tuple[int, int]],
    hint: np.ndarray | None,
    k: int,
) -> list[cp_model.IntVar]:
    """``c_ij ≥ |x_it − x_jt|`` per edge (hinted from ``hint``); returns the ``c_ij``."""
    cuts = []
    for a, b in edges:
        c = model.new_bool_var(f"c{a}_{b}")
        for t in range(min(max(a, b) + 1, k)):
            # A unit i has no x_it for t > i: it cannot be in that part.
            xa = x.get((a, t), 0)
            xb = x.get((b, t), 0)
            model.add(c >= xa - xb)
            model.add(c >= xb - xa)
        cuts.append(c)
        if hint is not None:
            model.add_hint(c, int(hint[a] != hint[b]))
    return cuts


def _hint_assignment(model: cp_model.CpModel, x: CpVars, r: CpVars, h: np.ndarray) -> None:
    """Hint ``x`` and ``r`` from ``h``, a hint relabelled by :func:`relabel_by_root`."""
    first: dict[int, int] = {}
    for i, t in enumerate(h.tolist()):
        first.setdefault(t, i)
    for (i, t), var in x.items():
        model.add_hint(var, int(h[i] == t))
    for (i, t), var in r.items():
        model.add_hint(var, int(first.get(t) == i))
