"""The strategy of :func:`partition`: which algorithms run, in which order, for how long.

Steps (each a function below):

1. :func:`_build`: distances when the objective needs them, the problem (coordinates
   derived when the nodes carry none, islands joined), its diagnosis; a graph still
   in several components is solved component by component
   (:func:`territory_engine.partition.components.solve_components`) or refused;
2. :func:`_cut_edge_start` (cut edges with contiguity): spanning-tree seeds on small
   graphs, multi-start boundary annealing on larger ones;
3. the alignment (:func:`territory_engine.solve.align`: seed, local search, LNS);
4. :func:`_polish_cut_edges`: keep the annealed plan unless improved, then the exact
   CP-SAT model where it fits;
5. :func:`_diameter_search` for the min-max diameter;
6. :func:`_evaluate`: the objective, bands, violations and diameters of the final plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx
import numpy as np

from territory_engine.partition.components import (
    component_summary,
    joins_summary,
    solve_components,
)
from territory_engine.partition.distances import part_diameters, shortest_path_matrix
from territory_engine.partition.result import PartitionResult
from territory_engine.problem.data import ProblemData, count_cut_edges
from territory_engine.problem.diagnose import (
    allocate_parts,
    component_capacities,
    component_message,
    diagnose,
)
from territory_engine.problem.graph import GraphProblem, graph_nodes, problem_from_graph
from territory_engine.solve import Alignment, align

__all__ = ["partition"]

#: Graphs up to this many nodes are re-solved whole by LNS and seeded by trees.
SMALL_GRAPH = 150
#: The exact model is tried up to this many (node, part) assignment variables.
EXACT_VARIABLES = 3000
#: ... and up to this many after annealing (building a larger model costs more than it finds).
EXACT_VARIABLES_AFTER_ANNEALING = 1000
#: Share of the time for the annealing of large graphs (the rest: alignment, LNS).
ANNEAL_SHARE = 0.9
#: Parts of at most this many units (on average) get the pair-exchange annealing instead.
#: Measured on tracts at k = 18, 60 s, both paths side by side (load 4-10): exchanges
#: won on NH (16 units a part: 212 against 227 cut edges), ME (20: 238 / 290) and WV
#: (27: 208 / 256), the penalised annealing on NM (28: 209 / 234), NE (30: 233 / 239)
#: and tied on MS (37: 239 / 238). With the compiled recombination after the exchanges
#: (2026-12-03, 60 s): NE (30) 220 against 225 on the penalised path, but NM (28) 222
#: against 208, so the line stays at 27.
SWAP_UNITS_PER_PART = 27
#: On that path, the share of the annealing time given to recombination of part pairs
#: (the rest: pair-exchange chains). Compiled, recombination runs 10,000-14,000 steps a
#: second on tracts at k = 18; 60 s runs at 0.8: ME 216, WV 198, NE 219 cut edges.
RECOMBINE_SHARE = 0.8
RECOMBINE_TEMPERATURE = 1.0
#: Bound of the recombination, in steps per unit (ME: 358,000 steps, about 26 s).
RECOMBINE_ITERATIONS_PER_UNIT = 1000
#: ... and of the recombination of three parts a step that follows it when time is left
#: (about 2,500 steps a second on ME; from the pair chain's best after 300,000 steps,
#: 40,000 steps took ME from 216 to 213 cut edges and left WV at 198).
RECOMBINE3_ITERATIONS_PER_UNIT = 200


@dataclass
class _Start:
    """What the cut-edge start produced and how the remaining time is shared."""

    initial: np.ndarray | None = None
    tree_tries: int = 0
    annealed: np.ndarray | None = None
    anneal_stats: dict[str, Any] | None = None
    exact_fits: bool = False
    remaining: float = 1.0


def partition(
    graph: nx.Graph,
    *,
    parts: int,
    balance: dict[str, float],
    bounds: dict[str, tuple[float, float]] | None = None,
    objective: str = "cut_edges",
    contiguous: bool = True,
    distance_attr: str | None = None,
    time_limit: float = 60.0,
    seed: int = 0,
    file: str = "graph",
    islands: str = "join",
) -> PartitionResult:
    """Split a unit graph into ``parts`` balanced (and contiguous) parts.

    Graphs as users bring them:

    * **No coordinates** (census dual graphs are published with adjacency and
      populations only): ``cut_edges`` and ``diameter`` (by edge lengths) need
      none; the nodes are embedded for seeding (spectrally per component, or by
      MDS of the edge lengths) and ``result.coordinates`` says so. ``inertia``
      and ``travel`` refuse with an :class:`InputError`.
    * **Several components** (islands) with contiguity on, ``islands="join"``
      (default): each smaller component is joined by one virtual edge to the
      nearest node of another component when nodes carry coordinates (the rule
      of the scenario path), else to a node of the same county (the first five
      digits of a tract ``GEOID10``), as districting plans keep an island with
      its county; ``result.joins`` lists the edges. What stays apart (all
      components with ``islands="separate"``) is solved component by component
      when each can hold a whole number of parts within the bands
      (``result.components``); otherwise nothing is solved and the single
      violation names each component, its weight and the parts it could hold.

    Parameters
    ----------
    graph
        The unit graph: nodes carry the measures (and coordinates when the
        objective needs them), edges the optional distance attribute.
    parts
        Number of parts ``k``.
    balance
        Measure -> relative tolerance around the mean (total / k).
    bounds
        Measure -> absolute (low, high) per part.
    objective
        ``cut_edges``, ``diameter`` (min-max shortest-path diameter), ``inertia``
        or ``travel``.
    contiguous
        Every part connected in the graph.
    distance_attr
        Edge attribute for shortest paths (``distance`` by default for ``diameter``).
    time_limit
        Seconds for the whole call.
    seed
        Random seed; the same seed gives the same plan unless a time limit cuts a
        clock-bound step (annealing, LNS) at a different point.
    file
        Name used in error messages (the graph's file).
    islands
        ``join`` or ``separate``: how components of the graph are treated with
        contiguity on (above).

    Returns
    -------
    PartitionResult

    Raises
    ------
    InputError
        A measure or distance attribute missing on a node or edge; no node
        coordinates for ``inertia`` or ``travel``.
    """
    start = time.perf_counter()
    deadline = start + time_limit
    gp, dist = _build(
        graph, parts, balance, bounds or {}, objective, contiguous, distance_attr, file, islands
    )
    problem = gp.problem
    if gp.components is not None:
        caps = component_capacities(problem, gp.components)
        counts = allocate_parts(caps, parts)
        if counts is None:
            fix = (
                "use --no-contiguous, or join the components: edges between them, "
                "node coordinates (C_X/C_Y, x/y or lon/lat) to join each to its nearest "
                "node, or tract GEOIDs to join islands to their county"
            )
            if islands == "separate":
                fix = "use --islands join or --no-contiguous"
            message = component_message(problem, gp.components, what=file, unit="node", fix=fix)
            others = diagnose(replace(problem, contiguity=False))
            return _refused(gp, objective, start, [*others, *([message] if message else [])], caps)
        return solve_components(
            graph,
            gp,
            caps,
            counts,
            partition,
            objective=objective,
            time_limit=time_limit,
            start=start,
            options={
                "distance_attr": distance_attr,
                "seed": seed,
                "file": file,
                "islands": islands,
            },
        )
    reasons = diagnose(problem)
    if reasons:
        return _refused(gp, objective, start, reasons)
    small = problem.n_units <= SMALL_GRAPH
    begin = _Start(
        exact_fits=problem.n_units * parts <= EXACT_VARIABLES,
        remaining=max(time_limit - (time.perf_counter() - start), 1.0),
    )
    if begin.exact_fits and objective == "cut_edges" and not contiguous:
        begin.remaining = begin.remaining / 2
    if objective == "cut_edges" and contiguous:
        begin = _cut_edge_start(
            problem, begin, small=small, start=start, deadline=deadline, seed=seed
        )
    alignment = align(
        problem,
        seed=seed,
        time_limit=begin.remaining,
        initial=begin.initial,
        candidates=min(parts, 12),
        lns_rounds=10_000 if objective == "cut_edges" else 0,
        lns_parts=parts if small else 3,
        lns_reach=problem.n_units if small else 4,
        lns_seconds=5.0 if small else 2.0,
        lns_workers=2,
    )
    assign, exact_status, lower_bound = _polish_cut_edges(
        problem, alignment, begin, objective=objective, deadline=deadline, seed=seed
    )
    restarts = 0
    if objective == "diameter" and dist is not None:
        assign, restarts = _diameter_search(problem, alignment, dist, deadline=deadline, seed=seed)
    return _evaluate(
        gp,
        alignment,
        assign,
        dist,
        objective=objective,
        seconds=round(time.perf_counter() - start, 3),
        exact_status=exact_status,
        lower_bound=lower_bound,
        restarts=restarts,
        begin=begin,
    )


def _refused(
    gp: GraphProblem,
    objective: str,
    start: float,
    reasons: list[str],
    caps: list | None = None,
) -> PartitionResult:
    """The result when the diagnosis finds the instance impossible (nothing solved)."""
    return PartitionResult(
        assignment={},
        objective=None,
        objective_name=objective,
        feasible=False,
        seconds=round(time.perf_counter() - start, 3),
        violations=reasons,
        diagnosed=True,
        coordinates=gp.coordinates,
        joins=joins_summary(gp),
        components=component_summary(gp, caps, None) if caps else [],
    )


def _build(
    graph: nx.Graph,
    parts: int,
    balance: dict[str, float],
    bounds: dict[str, tuple[float, float]],
    objective: str,
    contiguous: bool,
    distance_attr: str | None,
    file: str,
    islands: str = "join",
) -> tuple[GraphProblem, np.ndarray | None]:
    """The problem on ``graph`` and its all-pairs distances when the objective needs them."""
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
        islands=islands,
    )
    return gp, dist


def _cut_edge_start(
    problem: ProblemData, begin: _Start, *, small: bool, start: float, deadline: float, seed: int
) -> _Start:
    """Balanced, contiguous starts for the cut-edge objective.

    Recursive spanning-tree seeds are balanced and contiguous by construction: on
    small graphs the best by cut edges over 40 % of the time. Larger graphs (tracts)
    get multi-start simulated annealing on the boundary from spanning-tree seeds
    for 90 % of the time (measured on the 10 tract instances at 60 s: mean ratio to
    the best known plans 1.008, against 1.119 with tree seeds + LNS + exact); LNS
    only polishes afterwards. Graphs of at most :data:`SWAP_UNITS_PER_PART` units
    a part (tracts at k = 18) get chains of pair-exchange annealing within the
    bands from the tree seeds instead
    (:func:`territory_engine.solve.search.anneal.swap_multistart`) for
    :data:`RECOMBINE_SHARE` of the annealing time less, then a recombination descent of
    part pairs from the best chain
    (:func:`territory_engine.solve.search.recombine.recombine_descent`), of three
    parts a step when the pair chain ends on its count before the clock, and the
    penalised annealing only when no tree seed is found. The annealing
    stops on the clock, so the plan may vary with machine load.
    """
    from territory_engine.solve.seeds.tree import best_tree_partition

    def cut(a: np.ndarray) -> float:
        return float(count_cut_edges(problem.adjacency, a))

    if small:
        begin.initial, begin.tree_tries = best_tree_partition(
            problem, cut, seconds=0.4 * begin.remaining, seed=seed
        )
    else:
        from territory_engine.solve.search.anneal import anneal_multistart

        def tree_start(r: int) -> np.ndarray | None:
            return best_tree_partition(problem, cut, seconds=0.5, seed=seed * 1_000_003 + r)[0]

        time_limit = deadline - start
        until = start + ANNEAL_SHARE * time_limit
        if problem.n_units <= SWAP_UNITS_PER_PART * problem.n_territories:
            # Few units a part (tracts at k = 18): every single move breaks two bands,
            # and the penalised annealing seldom comes back to a better feasible plan;
            # pair exchanges within the bands from tree starts do better.
            from territory_engine.solve.search.anneal import swap_multistart
            from territory_engine.solve.search.recombine import recombine_descent

            exchanges_until = start + (1 - RECOMBINE_SHARE) * (until - start)
            begin.initial, begin.anneal_stats = swap_multistart(
                problem, tree_start, deadline=exchanges_until, seed=seed
            )
            if begin.initial is not None:
                # Pair exchanges move a boundary by a unit or two; redrawing two parts
                # whole gets out of the local minima they leave at ±1 %.
                begin.initial, recombined = recombine_descent(
                    problem,
                    begin.initial,
                    iterations=RECOMBINE_ITERATIONS_PER_UNIT * problem.n_units,
                    seed=seed,
                    temperature=RECOMBINE_TEMPERATURE,
                    deadline=until,
                )
                begin.anneal_stats = {**begin.anneal_stats, "recombination": recombined}
                if time.perf_counter() < until:
                    # The pair chain ended on its count: three parts a step for the rest.
                    begin.initial, recombined3 = recombine_descent(
                        problem,
                        begin.initial,
                        iterations=RECOMBINE3_ITERATIONS_PER_UNIT * problem.n_units,
                        seed=seed + 1,
                        temperature=RECOMBINE_TEMPERATURE,
                        parts=3,
                        deadline=until,
                    )
                    begin.anneal_stats["recombination3"] = recombined3
        if begin.initial is None:
            begin.initial, begin.anneal_stats = anneal_multistart(
                problem, tree_start, deadline=until, seed=seed
            )
        begin.tree_tries = (begin.anneal_stats or {}).get("starts", 0)
        if begin.initial is None:  # no balanced start: tree seeds for the old path
            left = deadline - time.perf_counter()
            begin.initial, begin.tree_tries = best_tree_partition(
                problem, cut, seconds=max(0.4 * left, 0.1), seed=seed
            )
        else:
            begin.annealed = begin.initial
    begin.remaining = max(deadline - time.perf_counter(), 1.0)
    if begin.annealed is not None:
        # Building the exact model of a few thousand assignment variables takes
        # seconds beyond its solve limit and found nothing better on tracts; keep it
        # for two-part graphs.
        begin.exact_fits = problem.n_units * problem.n_territories <= (
            EXACT_VARIABLES_AFTER_ANNEALING
        )
    if begin.exact_fits:
        begin.remaining = begin.remaining / 2
    return begin


def _polish_cut_edges(
    problem: ProblemData,
    alignment: Alignment,
    begin: _Start,
    *,
    objective: str,
    deadline: float,
    seed: int,
) -> tuple[np.ndarray, str | None, float | None]:
    """The final plan for cut edges: annealed or aligned, then the exact model where it fits.

    Returns the plan, CP-SAT's status and its lower bound (``None`` when it did not run).
    """
    assign = alignment.assign
    annealed = begin.annealed
    if annealed is not None:
        # The alignment's local search weighs more than cut edges: keep the annealed
        # plan unless it was improved.
        worse = count_cut_edges(problem.adjacency, assign) > count_cut_edges(
            problem.adjacency, annealed
        )
        if not alignment.feasible or worse:
            assign = annealed
    exact_status, lower_bound = None, None
    if (
        objective == "cut_edges"
        and begin.exact_fits
        and (alignment.feasible or annealed is not None)
    ):
        from territory_engine.solve.exact.model import solve_exact

        left = deadline - time.perf_counter()
        if left > 1.0:
            better, exact_status, lower_bound = solve_exact(
                problem, assign, max_seconds=left, workers=2, seed=seed
            )
            # CP-SAT may drop an incomplete hint and stop at a worse plan.
            if better is not None and count_cut_edges(problem.adjacency, better) <= (
                count_cut_edges(problem.adjacency, assign)
            ):
                assign = better
    return assign, exact_status, lower_bound


def _diameter_search(
    problem: ProblemData, alignment: Alignment, dist: np.ndarray, *, deadline: float, seed: int
) -> tuple[np.ndarray, int]:
    """Min-max diameter from the balanced inertia plan by threshold tabu search.

    :func:`~territory_engine.solve.search.diameter_tabu.tabu_diameter` lowers a diameter
    target step by step, removing the conflicting pairs (farther apart than the
    target) from the parts while keeping the bands, with kicks from the best plan
    when it stalls and fresh descents when kicks keep failing; it runs until the
    deadline. Returns the best plan (the alignment when no balanced plan was found)
    and the number of kicks and restarts.
    """
    from territory_engine.solve.search.diameter_tabu import tabu_diameter

    best, stats = tabu_diameter(problem, alignment.assign, dist, deadline=deadline, seed=seed)
    if not np.isfinite(stats["diameter"]):
        best = alignment.assign
    return best, int(stats["kicks"] + stats["restarts"])


def _evaluate(
    gp: GraphProblem,
    alignment: Alignment,
    assign: np.ndarray,
    dist: np.ndarray | None,
    *,
    objective: str,
    seconds: float,
    exact_status: str | None,
    lower_bound: float | None,
    restarts: int,
    begin: _Start,
) -> PartitionResult:
    """Score the final plan independently of the solver and build the result."""
    from territory_engine.solve.align import check_alignment
    from territory_engine.solve.costs import CostModel

    problem = gp.problem
    parts = problem.n_territories
    loads = np.zeros((parts, problem.n_measures))
    np.add.at(loads, assign, problem.weights)
    mean = problem.weights.sum(axis=0) / parts
    max_dev = {
        m: float(np.max(np.abs(loads[:, j] / mean[j] - 1))) if mean[j] else 0.0
        for j, m in enumerate(problem.measure_names)
    }
    costs = CostModel(problem, alignment.centres)
    violations = check_alignment(problem, assign, costs)
    diam = part_diameters(dist, assign, parts) if dist is not None else None
    travel = float(costs.travel(np.arange(problem.n_units), assign).sum())
    # The graph's own edges: virtual joins between components are not cut edges.
    adjacency = gp.graph_adjacency if gp.graph_adjacency is not None else problem.adjacency
    cut = int(count_cut_edges(adjacency, assign))
    value = {
        "cut_edges": float(cut),
        "inertia": travel,
        "travel": travel,
        "diameter": float(diam.max()) if diam is not None else None,
    }[objective]
    return PartitionResult(
        assignment={str(node): int(assign[i]) for i, node in enumerate(gp.nodes)},
        objective=value,
        objective_name=objective,
        feasible=not violations,
        seconds=seconds,
        violations=violations,
        cut_edges=cut,
        max_relative_deviation=max_dev,
        diameter=float(diam.max()) if diam is not None else None,
        solver={k: v for k, v in alignment.stats.as_dict().items() if k != "seed_objective"},
        exact_status=exact_status,
        restarts=restarts,
        tree_seeds=begin.tree_tries,
        anneal=begin.anneal_stats,
        lower_bound=lower_bound,
        coordinates=gp.coordinates,
        joins=joins_summary(gp),
    )
