"""Partitioning a graph in several components (islands) with contiguity on.

Every contiguous part lies inside one component, so a graph that stays in
pieces after the joins of :func:`territory_engine.problem.graph.problem_from_graph`
is solved piece by piece: each component gets a whole number of parts within
its range (:func:`territory_engine.problem.diagnose.allocate_parts`) and is
partitioned on its own; the plans are put side by side (parts numbered
component after component, largest component first). When no such numbers
exist the caller refuses with one message naming each component
(:func:`territory_engine.problem.diagnose.component_message`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse.csgraph import connected_components

from territory_engine.partition.result import PartitionResult
from territory_engine.problem.data import count_cut_edges
from territory_engine.problem.diagnose import ComponentCapacity
from territory_engine.problem.graph import GraphProblem

__all__ = ["component_summary", "joins_summary", "solve_components"]


def component_summary(
    gp: GraphProblem, caps: list[ComponentCapacity], counts: list[int] | None
) -> list[dict[str, Any]]:
    """JSON-ready description of the components: size, sample ids, weight, range, parts."""
    problem = gp.problem
    out = []
    for c, cap in enumerate(caps):
        out.append(
            {
                "units": len(cap.units),
                "sample": [str(gp.nodes[i]) for i in cap.units[:3]],
                "weight": {m: float(cap.weight[j]) for j, m in enumerate(problem.measure_names)},
                "parts_range": [cap.low, cap.high] if cap.low <= cap.high else [],
                "parts": None if counts is None else counts[c],
            }
        )
    return out


def _order(caps: list[ComponentCapacity]) -> list[int]:
    """Components largest first (ties: lowest unit), the order parts are numbered in."""
    return sorted(range(len(caps)), key=lambda c: (-len(caps[c].units), int(caps[c].units[0])))


def solve_components(
    graph: nx.Graph,
    gp: GraphProblem,
    caps: list[ComponentCapacity],
    counts: list[int],
    solve: Callable[..., PartitionResult],
    *,
    objective: str,
    time_limit: float,
    start: float,
    options: dict[str, Any],
) -> PartitionResult:
    """Partition each component into its number of parts and merge the plans.

    Parameters
    ----------
    graph
        The whole graph.
    gp
        Its problem (bands, nodes, the graph's own adjacency).
    caps, counts
        The components and their numbers of parts.
    solve
        :func:`territory_engine.partition.partition`, called per component with
        the part's band as absolute bounds and ``options`` (seed, distance
        attribute, islands rule, file).
    objective
        The objective; a component of one part with ``cut_edges`` is not solved.
    time_limit, start
        Seconds for the whole call and its start (``time.perf_counter``); the
        components with several parts share the time left in proportion to
        their sizes, one-part components get one second.
    """
    problem = gp.problem
    band = {
        m: (float(problem.lower[0, j]), float(problem.upper[0, j]))
        for j, m in enumerate(problem.measure_names)
    }
    n_multi = sum(len(caps[c].units) for c in range(len(caps)) if counts[c] > 1)
    assign = np.full(problem.n_units, -1, dtype=np.int64)
    subs: list[dict[str, Any]] = []
    offset = 0
    results: list[PartitionResult] = []
    violations: list[str] = []
    for c in _order(caps):
        cap, p = caps[c], counts[c]
        nodes = [gp.nodes[i] for i in cap.units]
        if p == 1 and objective == "cut_edges":
            sub = PartitionResult(
                assignment={str(v): 0 for v in nodes},
                objective=0.0,
                objective_name=objective,
                feasible=True,
                seconds=0.0,
                violations=[],
                cut_edges=0,
            )
        else:
            left = max(time_limit - (time.perf_counter() - start), 1.0)
            share = 1.0 if p == 1 else max(left * len(cap.units) / max(n_multi, 1), 1.0)
            n_multi -= len(cap.units) if p > 1 else 0
            sub = solve(
                nx.Graph(graph.subgraph(nodes)),
                parts=p,
                balance={},
                bounds=band,
                objective=objective,
                contiguous=True,
                time_limit=share,
                **options,
            )
        results.append(sub)
        name = f"the component of {len(nodes):,} units ({', '.join(map(str, nodes[:2]))}, …)"
        violations += [f"{name}: {v}" for v in sub.violations]
        pos = {str(v): int(i) for v, i in zip(nodes, cap.units, strict=True)}
        for v, t in sub.assignment.items():
            assign[pos[v]] = offset + t
        subs.append(
            {
                "parts": [offset, offset + p - 1],
                "units": len(nodes),
                "seconds": sub.seconds,
                "cut_edges": sub.cut_edges,
                "solver": sub.solver,
                "anneal": sub.anneal,
                "exact_status": sub.exact_status,
            }
        )
        offset += p
    return _merge(
        gp, caps, counts, results, assign, subs, violations, objective=objective, start=start
    )


def _merge(
    gp: GraphProblem,
    caps: list[ComponentCapacity],
    counts: list[int],
    results: list[PartitionResult],
    assign: np.ndarray,
    subs: list[dict[str, Any]],
    violations: list[str],
    *,
    objective: str,
    start: float,
) -> PartitionResult:
    """One result from the components' results, bands and contiguity rechecked on the whole."""
    problem = gp.problem
    k = problem.n_territories
    violations = list(violations)
    if (assign < 0).any():
        violations.append(f"{int((assign < 0).sum())} units without a part")
        assign = np.where(assign < 0, 0, assign)
    loads = np.zeros((k, problem.n_measures))
    np.add.at(loads, assign, problem.weights)
    mean = problem.weights.sum(axis=0) / k
    max_dev = {
        m: float(np.max(np.abs(loads[:, j] / mean[j] - 1))) if mean[j] else 0.0
        for j, m in enumerate(problem.measure_names)
    }
    tol = 1e-9 * np.maximum(np.abs(problem.upper), 1.0)
    if ((loads < problem.lower - tol) | (loads > problem.upper + tol)).any() and not violations:
        violations.append("a part is outside its band")
    for t in range(k):
        members = np.flatnonzero(assign == t)
        if len(members) == 0:
            violations.append(f"part {t} is empty")
            continue
        sub = problem.adjacency[members][:, members]
        if len(members) > 1 and connected_components(sub, directed=False)[0] > 1:
            violations.append(f"part {t} is not connected")
    adjacency = gp.graph_adjacency if gp.graph_adjacency is not None else problem.adjacency
    cut = int(count_cut_edges(adjacency, assign))
    values = [r.objective for r in results]
    if any(v is None for v in values):
        value = None
    elif objective == "diameter":
        value = float(max(v for v in values if v is not None))
    elif objective == "cut_edges":
        value = float(cut)
    else:
        value = float(sum(v for v in values if v is not None))
    diameters = [r.diameter for r in results]
    bounds = [
        r.lower_bound if r.lower_bound is not None else (0.0 if r.cut_edges == 0 else None)
        for r in results
    ]
    lower_bound = (
        float(sum(b for b in bounds if b is not None))
        if objective == "cut_edges" and all(b is not None for b in bounds)
        else None
    )
    return PartitionResult(
        assignment={str(node): int(assign[i]) for i, node in enumerate(gp.nodes)},
        objective=value,
        objective_name=objective,
        feasible=not violations,
        seconds=round(time.perf_counter() - start, 3),
        violations=violations,
        cut_edges=cut,
        max_relative_deviation=max_dev,
        diameter=None
        if any(d is None for d in diameters)
        else float(max(d for d in diameters if d is not None)),
        solver={"components": subs},
        exact_status=None,
        restarts=sum(r.restarts for r in results),
        tree_seeds=sum(r.tree_seeds for r in results),
        anneal=None,
        lower_bound=lower_bound,
        coordinates=gp.coordinates,
        joins=joins_summary(gp),
        components=component_summary(gp, caps, counts),
    )


def joins_summary(gp: GraphProblem) -> list[dict[str, Any]]:
    """The virtual edges as ``{"nodes": [id, id], "rule": ...}``."""
    return [
        {"nodes": [str(gp.nodes[i]), str(gp.nodes[j])], "rule": rule} for i, j, rule in gp.joins
    ]
