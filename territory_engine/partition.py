"""``partition``: the solver on a plain unit graph (benchmarks, users' own graphs)."""

from __future__ import annotations

import time
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from territory_engine.errors import InputError
from territory_engine.problem.diagnose import diagnose
from territory_engine.problem.graph import graph_nodes, problem_from_graph, read_graph
from territory_engine.solve import align


def shortest_path_matrix(graph: nx.Graph, nodes: list, attr: str, file: str) -> np.ndarray:
    """All-pairs shortest-path lengths weighted by edge attribute ``attr`` (float32)."""
    pos = {v: i for i, v in enumerate(nodes)}
    rows, cols, vals = [], [], []
    for u, v, data in graph.edges(data=True):
        if attr not in data:
            raise InputError(f"edge has no attribute '{attr}'", file=file, id=f"{u}-{v}")
        rows.append(pos[u])
        cols.append(pos[v])
        vals.append(float(data[attr]))
    n = len(nodes)
    mat = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    return shortest_path(mat, directed=False).astype(np.float32)


def part_diameters(dist: np.ndarray, assign: np.ndarray, k: int) -> np.ndarray:
    """(k,) largest shortest-path distance between two units of each part."""
    out = np.zeros(k)
    for t in range(k):
        idx = np.flatnonzero(assign == t)
        if len(idx) > 1:
            out[t] = float(dist[np.ix_(idx, idx)].max())
    return out


def _diameter_restarts(
    problem, alignment, dist: np.ndarray, *, deadline: float, seed: int, parts: int
) -> tuple[np.ndarray, int]:
    """Iterated restarts for the min-max diameter: new centres (seed), inertia plan, reduce.

    Each restart draws new k-means++ centres, solves the balanced inertia
    plan and lowers its largest diameter (:func:`reduce_diameter`); the best
    plan over all restarts that fit before the deadline is kept.
    """
    from territory_engine.solve.diameter import reduce_diameter

    best = reduce_diameter(problem, alignment.assign, dist, deadline=deadline)
    best_value = part_diameters(dist, best, parts).max() if alignment.feasible else np.inf
    restarts = 0
    last = 0.0
    while time.perf_counter() + 1.5 * last < deadline:
        t0 = time.perf_counter()
        restarts += 1
        # A restart that lands far from feasible is abandoned early rather
        # than spending the remaining time in repair.
        budget = min(deadline - time.perf_counter(), max(5.0, 3 * alignment.stats["seconds"]))
        trial = align(problem, seed=seed + restarts, time_limit=budget, candidates=min(parts, 12))
        if trial.feasible:
            cand = reduce_diameter(
                problem, trial.assign, dist, deadline=min(deadline, time.perf_counter() + 10.0)
            )
            value = part_diameters(dist, cand, parts).max()
            if value < best_value:
                best, best_value = cand, value
        last = time.perf_counter() - t0
    return best, restarts


def run_partition(
    path: str | Path,
    *,
    parts: int,
    balance: dict[str, float],
    bounds: dict[str, tuple[float, float]],
    objective: str = "cut_edges",
    contiguous: bool = True,
    distance_attr: str | None = None,
    time_limit: float = 60.0,
    seed: int = 0,
) -> dict:
    """Partition the graph in ``path`` and return the result document.

    Returns
    -------
    dict
        ``assignment`` (node id -> part index), ``objective`` (the chosen
        objective's value: cut edges, largest diameter, inertia or travel),
        ``feasible``, ``seconds``, and details: ``cut_edges``,
        ``max_relative_deviation`` per measure, ``diameter`` when a distance
        attribute is available, ``violations``, ``solver``.
    """
    start = time.perf_counter()
    file = str(path)
    graph = read_graph(path)
    dist = None
    if objective == "diameter" or distance_attr is not None:
        dist = shortest_path_matrix(graph, graph_nodes(graph), distance_attr or "distance", file)
    gp = problem_from_graph(
        graph,
        parts=parts,
        balance=balance,
        bounds=bounds,
        objective=objective,
        contiguous=contiguous,
        file=file,
        dist=dist,
    )
    problem = gp.problem
    reasons = diagnose(problem)
    if reasons:
        return {
            "assignment": {},
            "objective": None,
            "feasible": False,
            "seconds": round(time.perf_counter() - start, 3),
            "violations": reasons,
        }
    remaining = max(time_limit - (time.perf_counter() - start), 1.0)
    # Small graphs: LNS re-solves the whole instance; larger ones regions of
    # three parts. Where the exact model fits (n·k up to a few thousand
    # assignment variables) it gets the second half of the time, hinted with
    # the LNS plan, and reports a lower bound.
    small = gp.problem.n_units <= 150
    exact_fits = gp.problem.n_units * parts <= 3000
    if exact_fits and objective == "cut_edges" and not contiguous:
        remaining = remaining / 2
    initial, tree_tries = None, 0
    if objective == "cut_edges" and contiguous:
        # Recursive spanning-tree seeds (balanced and contiguous by
        # construction), best by cut edges, for 40 % of the time.
        from territory_engine.solve.tree_seed import best_tree_partition

        coo = problem.adjacency.tocoo()

        def cut(a: np.ndarray) -> float:
            return float(np.sum(a[coo.row] != a[coo.col]))

        initial, tree_tries = best_tree_partition(problem, cut, seconds=0.4 * remaining, seed=seed)
        remaining = max(start + time_limit - time.perf_counter(), 1.0)
        if exact_fits:
            remaining = remaining / 2
    alignment = align(
        problem,
        seed=seed,
        time_limit=remaining,
        initial=initial,
        candidates=min(parts, 12),
        lns_rounds=10_000 if objective == "cut_edges" else 0,
        lns_parts=parts if small else 3,
        lns_reach=problem.n_units if small else 4,
        lns_seconds=5.0 if small else 2.0,
        lns_workers=2,
    )
    assign = alignment.assign
    exact_status, lower_bound = None, None
    if objective == "cut_edges" and exact_fits and alignment.feasible:
        from territory_engine.solve.exact import solve_exact

        left = start + time_limit - time.perf_counter()
        if left > 1.0:
            better, exact_status, lower_bound = solve_exact(
                problem, assign, max_seconds=left, workers=2, seed=seed
            )
            if better is not None:
                assign = better
    restarts = 0
    if objective == "diameter" and dist is not None:
        assign, restarts = _diameter_restarts(
            problem, alignment, dist, deadline=start + time_limit, seed=seed, parts=parts
        )
    loads = np.zeros((parts, problem.n_measures))
    np.add.at(loads, assign, problem.weights)
    mean = problem.weights.sum(axis=0) / parts
    max_dev = {
        m: float(np.max(np.abs(loads[:, j] / mean[j] - 1))) if mean[j] else 0.0
        for j, m in enumerate(problem.measure_names)
    }
    from territory_engine.solve.align import check_alignment
    from territory_engine.solve.costs import CostModel

    costs = CostModel(problem, alignment.centres)
    terms = costs.objective(assign)
    violations = check_alignment(problem, assign, costs)
    diam = part_diameters(dist, assign, parts) if dist is not None else None
    value = {
        "cut_edges": terms["cut_edges"],
        "inertia": float(costs.travel(np.arange(problem.n_units), assign).sum()),
        "travel": float(costs.travel(np.arange(problem.n_units), assign).sum()),
        "diameter": float(diam.max()) if diam is not None else None,
    }[objective]
    return {
        "assignment": {str(node): int(assign[i]) for i, node in enumerate(gp.nodes)},
        "objective": value,
        "objective_name": objective,
        "feasible": not violations,
        "seconds": round(time.perf_counter() - start, 3),
        "cut_edges": terms["cut_edges"],
        "max_relative_deviation": max_dev,
        "diameter": float(diam.max()) if diam is not None else None,
        "violations": violations,
        "solver": {k: v for k, v in alignment.stats.items() if k != "seed_objective"},
        "exact_status": exact_status,
        "restarts": restarts,
        "tree_seeds": tree_tries,
        "lower_bound": lower_bound,
    }
