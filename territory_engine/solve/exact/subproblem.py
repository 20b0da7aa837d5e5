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
from collections.abc import Callable

import numpy as np
from ortools.sat.python import cp_model

from territory_engine.problem.data import ProblemData

COST_SCALE = 1e6
SCALE = 1e7
"""Integer resolution of a band in CP-SAT models."""

PairCosts = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``f(units, terrs)``: a value per (unit, territory) pair, such as :meth:`CostModel.travel`."""

CpVars = dict[tuple[int, int], cp_model.IntVar]
"""CP-SAT booleans ``x_it`` keyed by (unit, territory)."""


def _domains(
    problem: ProblemData, assign: np.ndarray, units: np.ndarray, region: list[int], reach: int
) -> dict[int, list[int]]:
    """Territories of ``region`` each unit may take: those with a unit within ``reach`` steps.

    Units without neighbours may take any eligible territory of the region.
    """
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
    # A unit without neighbours is exempt from contiguity: any eligible territory.
    for i in dom:
        if ptr[i + 1] == ptr[i]:
            dom[i] |= {t for t in region if problem.territory_group[t] == problem.unit_group[i]}
    return {
        i: sorted(d & region_set if problem.locked[i] < 0 else {int(problem.locked[i])})
        for i, d in dom.items()
    }


def tree_flows(
    indptr: np.ndarray, indices: np.ndarray, members: set[int], root: int
) -> dict[tuple[int, int], int]:
    """Flows that certify a part's connectivity: a BFS tree from ``root``, each arc carrying
    the size of the subtree below it.

    Used as a complete CP-SAT hint: with only the assignment hinted, CP-SAT
    must rediscover flow values before it can accept the starting solution.
    Units of ``members`` not reached from ``root`` get no flow.
    """
    parent = {root: -1}
    order = [root]
    for u in order:
        for v in indices[indptr[u] : indptr[u + 1]].tolist():
            if v in members and v not in parent:
                parent[v] = u
                order.append(v)
    size = dict.fromkeys(order, 1)
    flows = {}
    for v in reversed(order[1:]):
        size[parent[v]] += size[v]
        flows[parent[v], v] = size[v]
    return flows


def integer_band(
    w: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_terms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer weights and bounds for CP-SAT that never accept a real-infeasible sum.

    Integral weights (populations, counts) whose bands stay within
    :data:`SCALE` are used as they are, with the bounds rounded inwards. Other
    weights are scaled to about :data:`SCALE` per band and rounded; the bounds
    are then shrunk by the largest possible rounding error of a sum of
    ``n_terms`` weights (``n_terms / 2``), but never past the middle of the band.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        int64 weights, lower and upper bounds (``-1`` / a huge value where unbounded).
    """
    big = np.int64(2**60)
    w = np.asarray(w, dtype=float)
    finite_hi = hi[np.isfinite(hi)]
    # Exact integers only where they are no larger than scaling would make them:
    # CP-SAT repairs bands of dollar potentials (1e8) far more slowly with raw
    # coefficients (measured: 60 s without a fix vs 16 s on the sample at ±3 %).
    small = (float(finite_hi.max()) if len(finite_hi) else float(np.abs(w).sum())) <= SCALE
    if small and np.allclose(w, np.rint(w)):
        wi = np.rint(w).astype(np.int64)
        lo_i = np.where(lo > 0, np.ceil(lo - 1e-9), -1).astype(np.int64)
        hi_i = np.where(np.isfinite(hi), np.floor(hi + 1e-9), big).astype(np.int64)
        return wi, lo_i, hi_i
    ref = max(float(finite_hi.max()) if len(finite_hi) else float(w.sum()), 1e-9)
    scale = SCALE / ref
    wi = np.rint(w * scale).astype(np.int64)
    lo_s = lo * scale
    hi_s = np.where(np.isfinite(hi), hi * scale, np.inf)
    half = np.where(np.isfinite(hi_s), np.floor((hi_s - lo_s) / 2), np.inf)
    margin = np.minimum(n_terms // 2 + 1, half)
    lo_i = np.where(lo > 0, np.ceil(lo_s + margin), -1).astype(np.int64)
    hi_i = np.where(np.isfinite(hi_s), np.floor(hi_s - margin), big).astype(np.int64)
    return wi, lo_i, hi_i


def _cut_terms(
    model: cp_model.CpModel,
    problem: ProblemData,
    assign: np.ndarray,
    units: np.ndarray,
    dom: dict[int, list[int]],
    x: CpVars,
    weight: float,
) -> list:
    """Cut-edge objective terms: ``c_ij ≥ |x_it − x_jt|`` inside, ``1 − x_{i,a_j}`` outside."""
    coef = max(round(weight), 1)
    ind, ptr = problem.adjacency.indices, problem.adjacency.indptr
    in_u = set(units.tolist())
    terms = []
    for i in units.tolist():
        for j in ind[ptr[i] : ptr[i + 1]].tolist():
            if j in in_u:
                if j < i:
                    continue
                c = model.new_bool_var(f"c{i}_{j}")
                for t in set(dom[i]) | set(dom[j]):
                    xi = x.get((i, t), 0)
                    xj = x.get((j, t), 0)
                    model.add(c >= xi - xj)
                    model.add(c >= xj - xi)
                terms.append(coef * c)
            else:
                tj = int(assign[j])
                if (i, tj) in x:
                    terms.append(-coef * x[i, tj])  # cut unless i joins j's territory
    return terms


def resolve_region(
    problem: ProblemData,
    assign: np.ndarray,
    region: list[int],
    cost_fn: PairCosts,
    *,
    moved_fn: PairCosts | None = None,
    moved_outside: float = 0.0,
    roots: dict[int, int] | None = None,
    reach: int = 3,
    deterministic_time: float = 2.0,
    max_seconds: float | None = None,
    seed: int = 0,
    optimise: bool = True,
    cut_weight: float = 0.0,
    workers: int = 1,
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
    cut_weight
        Objective weight of one cut edge (an adjacency edge whose ends lie in
        different territories), in the units of ``cost_fn``; edges to units
        outside the region count too.
    workers
        CP-SAT workers; 1 keeps the search deterministic.
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
    model = cp_model.CpModel()
    x: CpVars = {}
    for i in units.tolist():
        for t in dom[i]:
            x[i, t] = model.new_bool_var(f"x{i}_{t}")
        model.add_exactly_one(x[i, t] for t in dom[i])
    _add_bands(model, problem, units, region, x)
    if problem.contiguity:
        _add_flows(model, problem, assign, units, region, x, roots or {})
    objective = _linear_terms(model, problem, units, x, cost_fn, moved_fn, moved_outside)
    if cut_weight > 0:
        objective += _cut_terms(model, problem, assign, units, dom, x, cut_weight * COST_SCALE)
    if optimise:
        model.minimize(sum(objective))

    # Hint the current assignment where it lies in the domains.
    for i in units.tolist():
        for t in dom[i]:
            model.add_hint(x[i, t], 1 if assign[i] == t else 0)

    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = deterministic_time
    if max_seconds is not None:
        solver.parameters.max_time_in_seconds = max(max_seconds, 0.01)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    out = assign.copy()
    for (i, t), v in x.items():
        if solver.boolean_value(v):
            out[i] = t
    return out


def _add_bands(
    model: cp_model.CpModel, problem: ProblemData, units: np.ndarray, region: list[int], x: CpVars
) -> None:
    """``lo'_tj ≤ Σ_i ŵ_ij x_it ≤ hi'_tj`` for the region's territories, in integers."""
    w = problem.weights[units]
    for j in range(problem.n_measures):
        wj, lo_i, hi_i = integer_band(
            w[:, j], problem.lower[region, j], problem.upper[region, j], len(units)
        )
        for a, t in enumerate(region):
            expr = sum(int(wj[b]) * x[i, t] for b, i in enumerate(units.tolist()) if (i, t) in x)
            if lo_i[a] >= 0:
                model.add(expr >= int(lo_i[a]))
            if hi_i[a] < 2**60:
                model.add(expr <= int(hi_i[a]))


def _add_flows(
    model: cp_model.CpModel,
    problem: ProblemData,
    assign: np.ndarray,
    units: np.ndarray,
    region: list[int],
    x: CpVars,
    roots: dict[int, int],
) -> None:
    """Contiguity by single-commodity flow from each territory's root (hinted by tree flows)."""
    ind, ptr = problem.adjacency.indices, problem.adjacency.indptr
    big = len(units) - 1
    # Units without neighbours (locked accounts, families, relationship
    # exceptions) are exempt from contiguity: no flow reaches them.
    bound = {i for i in units.tolist() if ptr[i + 1] > ptr[i]}
    for t in region:
        members = [i for i in units.tolist() if (i, t) in x and i in bound]
        root = roots.get(t)
        if root is None or (root, t) not in x or root not in bound:
            root = next((i for i in members if assign[i] == t), None)
        if root is None:
            continue
        model.add(x[root, t] == 1)
        mem = set(members)
        inflow: dict[int, list] = {i: [] for i in members}
        outflow: dict[int, list] = {i: [] for i in members}
        hint_flow = tree_flows(ptr, ind, {int(u) for u in units if assign[u] == t}, root)
        for i in members:
            for h in ind[ptr[i] : ptr[i + 1]].tolist():
                if h in mem:
                    f = model.new_int_var(0, big, f"f{t}_{i}_{h}")
                    model.add_hint(f, hint_flow.get((i, h), 0))
                    model.add(f <= big * x[i, t])
                    model.add(f <= big * x[h, t])
                    outflow[i].append(f)
                    inflow[h].append(f)
        for i in members:
            if i != root:
                model.add(sum(inflow[i]) - sum(outflow[i]) == x[i, t])


def _linear_terms(
    model: cp_model.CpModel,
    problem: ProblemData,
    units: np.ndarray,
    x: CpVars,
    cost_fn: PairCosts,
    moved_fn: PairCosts | None,
    moved_outside: float,
) -> list:
    """The terms ``c_it x_it`` (integer-scaled); adds the disruption cap when set."""
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
    return [int(c) * x[k] for c, k in zip(costs, keys, strict=True)]
