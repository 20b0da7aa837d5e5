"""Exact re-solve of a neighbourhood of territories with CP-SAT (the LNS move).

Given a set ``R`` of territories (for example a territory that breaks a band
and its neighbours), the units ``U`` they hold are re-assigned among them
optimally while every other territory stays as it is.

Formulation (CP-SAT, integer-scaled)::

    min  Σ_{i∈U} Σ_{t∈D_i} c_it x_it
    s.t. Σ_{t∈D_i} x_it = 1                                 i ∈ U
         lo'_tj ≤ Σ_i ŵ_ij x_it ≤ hi'_tj                    t ∈ R, every measure j
         x_{r_t, t} = 1                                       root of each territory
         Σ_{(h,i)} f^t_hi − Σ_{(i,h)} f^t_ih = x_it           i ∈ U \\ {r_t}, t ∈ R
         0 ≤ f^t_ih ≤ (|U| − 1) x_it,  f^t_ih ≤ (|U| − 1) x_ht   (contiguity, when on)
         Σ_{i,t} δ_it x_it ≤ cap − moved outside U           (disruption cap, when set)

``D_i`` is the domain of unit i: the territories of R whose current units lie
within a few adjacency steps of i (a unit does not jump across the region).
Contiguity uses single-commodity flows from each territory's root (Shirabe
2009; Validi, Buchanan & Lykhovyd 2022): a unit can receive one unit of flow
from its territory's root only through units of the same territory.

Weights are scaled to integers ``ŵ = round(w · S)``; the bands are shrunk by
the largest possible rounding error (|U|/2) so that an integer-feasible
solution is feasible in real numbers too. The search is bounded by CP-SAT's
*deterministic* time, so a seed gives the same answer on every machine load.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from ortools.sat.python import cp_model

from territory_engine.problem.data import ProblemData

COST_SCALE = 1e6


def _domains(
    problem: ProblemData, assign: np.ndarray, units: np.ndarray, region: list[int], reach: int
) -> dict[int, list[int]]:
    """Territories of ``region`` each unit may take: those with a unit within ``reach`` steps."""
    ind, ptr = problem.adjacency.indices, problem.adjacency.indptr
    in_u = set(units.tolist())
    region_set = set(region)
    dom: dict[int, set[int]] = {int(i): {int(assign[i])} for i in units}
    for t in region:
        start = [int(i) for i in units if assign[i] == t]
        dist = dict.fromkeys(start, 0)
        queue = deque(start)
        while queue:
            u = queue.popleft()
            if dist[u] >= reach:
                continue
            for v in ind[ptr[u] : ptr[u + 1]].tolist():
                if v in in_u and v not in dist:
                    dist[v] = dist[u] + 1
                    queue.append(v)
        for u in dist:
            dom[u].add(t)
    return {
        i: sorted(d & region_set if problem.locked[i] < 0 else {int(problem.locked[i])})
        for i, d in dom.items()
    }


def resolve_region(
    problem: ProblemData,
    assign: np.ndarray,
    region: list[int],
    cost_fn,
    *,
    moved_fn=None,
    moved_outside: float = 0.0,
    roots: dict[int, int] | None = None,
    reach: int = 3,
    deterministic_time: float = 2.0,
    max_seconds: float | None = None,
    seed: int = 0,
    optimise: bool = True,
) -> np.ndarray | None:
    """Re-assign the units of ``region`` optimally among its territories.

    Parameters
    ----------
    problem
        The problem.
    assign
        (n,) current assignment.
    region
        Territory indices to re-solve (same eligibility group).
    cost_fn
        ``cost_fn(units, terrs) -> costs`` of the linear objective part.
    moved_fn
        ``moved_fn(units, terrs) -> potential moved``, needed with a disruption cap.
    moved_outside
        Potential already moved by units outside the region.
    roots
        Territory -> root unit (kept in the territory); default: its unit
        nearest to the territory's centre... chosen by the caller.
    reach
        Adjacency steps a unit may be from a territory to join it.
    deterministic_time
        CP-SAT deterministic time limit (what normally stops the search, so
        that the result does not depend on machine load).
    max_seconds
        Wall-clock cap, so the solve never overruns the caller's deadline.
    seed
        CP-SAT random seed.
    optimise
        Minimise the objective; when False, stop at the first feasible
        re-assignment (repair: feasibility is the hard part, and local search
        improves the objective afterwards).

    Returns
    -------
    numpy.ndarray or None
        The new assignment (a copy), or ``None`` when no feasible
        re-assignment was found.
    """
    region = sorted(int(t) for t in region)
    units = np.flatnonzero(np.isin(assign, region))
    if len(units) == 0:
        return None
    dom = _domains(problem, assign, units, region, reach)
    m = problem.n_measures
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for i in units.tolist():
        for t in dom[i]:
            x[i, t] = model.new_bool_var(f"x{i}_{t}")
        model.add_exactly_one(x[i, t] for t in dom[i])

    # Balance, integer-scaled with a safety margin for rounding.
    n_u = len(units)
    w = problem.weights[units]
    for j in range(m):
        finite_hi = problem.upper[region, j][np.isfinite(problem.upper[region, j])]
        ref = max(float(np.max(finite_hi)) if len(finite_hi) else float(w[:, j].sum()), 1e-9)
        scale = 1e7 / ref
        wj = np.rint(w[:, j] * scale).astype(np.int64)
        margin = int(np.ceil(n_u / 2)) + 1
        for t in region:
            terms = [(int(wj[a]), x[i, t]) for a, i in enumerate(units.tolist()) if (i, t) in x]
            expr = sum(c * v for c, v in terms)
            lo = problem.lower[t, j]
            hi = problem.upper[t, j]
            if lo > 0:
                model.add(expr >= int(np.ceil(lo * scale)) + margin)
            if np.isfinite(hi):
                model.add(expr <= int(np.floor(hi * scale)) - margin)

    # Contiguity by single-commodity flow from each territory's root.
    if problem.contiguity:
        ind, ptr = problem.adjacency.indices, problem.adjacency.indptr
        big = n_u - 1
        for t in region:
            members = [i for i in units.tolist() if (i, t) in x]
            root = (roots or {}).get(t)
            if root is None or (root, t) not in x:
                root = next((i for i in members if assign[i] == t), None)
            if root is None:
                continue
            model.add(x[root, t] == 1)
            mem = set(members)
            inflow: dict[int, list] = {i: [] for i in members}
            outflow: dict[int, list] = {i: [] for i in members}
            for i in members:
                for h in ind[ptr[i] : ptr[i + 1]].tolist():
                    if h in mem:
                        f = model.new_int_var(0, big, f"f{t}_{i}_{h}")
                        model.add(f <= big * x[i, t])
                        model.add(f <= big * x[h, t])
                        outflow[i].append(f)
                        inflow[h].append(f)
            for i in members:
                if i != root:
                    model.add(sum(inflow[i]) - sum(outflow[i]) == x[i, t])

    keys = list(x)
    ku = np.array([k[0] for k in keys])
    kt = np.array([k[1] for k in keys])
    costs = np.rint(np.asarray(cost_fn(ku, kt)) * COST_SCALE).astype(np.int64)
    if problem.max_moved_potential is not None and moved_fn is not None:
        moved = np.asarray(moved_fn(ku, kt))
        ms = 1e6 / max(problem.max_moved_potential, 1.0)
        budget = (problem.max_moved_potential - moved_outside) * ms - len(units)
        model.add(
            sum(round(v * ms) * x[k] for v, k in zip(moved, keys, strict=True))
            <= int(np.floor(budget))
        )
    if optimise:
        model.minimize(sum(int(c) * x[k] for c, k in zip(costs, keys, strict=True)))

    # Hint the current assignment where it lies in the domains.
    for i in units.tolist():
        for t in dom[i]:
            model.add_hint(x[i, t], 1 if assign[i] == t else 0)

    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = deterministic_time
    if max_seconds is not None:
        solver.parameters.max_time_in_seconds = max(max_seconds, 0.01)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    out = assign.copy()
    for (i, t), v in x.items():
        if solver.boolean_value(v):
            out[i] = t
    return out
