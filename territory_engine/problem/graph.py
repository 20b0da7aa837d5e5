"""Build :class:`ProblemData` from a unit graph (networkx node-link JSON or GraphML).

This is the thin adapter under ``territory-engine partition``: the same solver
that draws sales territories partitions any graph whose nodes carry measures
(census dual graphs, delivery networks, a user's own units). Coordinates are
optional for cut edges: graphs as published (adjacency and populations only)
are embedded for seeding (:func:`coordinates`), and their islands joined to
their county (:func:`problem_from_graph`, ``islands``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from territory_engine.errors import InputError, ScenarioError, did_you_mean
from territory_engine.geo.embedding import classical_mds, mds_layout, spectral_layout
from territory_engine.problem.arrays import problem_from_arrays
from territory_engine.problem.data import ProblemData

__all__ = [
    "GraphProblem",
    "classical_mds",
    "coordinates",
    "given_coordinates",
    "graph_nodes",
    "problem_from_graph",
    "read_graph",
]

COORDINATE_PAIRS = (("C_X", "C_Y"), ("x", "y"), ("lon", "lat"))


def read_graph(path: str | Path) -> nx.Graph:
    """Read node-link JSON (links under ``links`` or ``edges``) or GraphML.

    Raises
    ------
    InputError
        Missing file, unknown format, unreadable content, empty graph.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("graph file not found", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            key = "links" if "links" in data else "edges"
            graph = nx.node_link_graph(data, edges=key)
        elif suffix in (".graphml", ".xml"):
            graph = nx.read_graphml(path)
        else:
            raise InputError(
                f"unsupported graph format '{suffix}'; use node-link .json or .graphml",
                file=str(path),
            )
    except InputError:
        raise
    except Exception as exc:  # malformed JSON/XML: say so in one line
        raise InputError(f"cannot read the graph: {exc}", file=str(path)) from None
    if graph.number_of_nodes() == 0:
        raise InputError("the graph has no nodes", file=str(path))
    return nx.Graph(graph)


@dataclass(frozen=True)
class GraphProblem:
    """A graph turned into a problem, with what is needed to map back and score.

    Attributes
    ----------
    problem
        The solver's problem; its adjacency includes the virtual ``joins``.
    nodes
        The graph's nodes in unit order.
    distance
        Unused (kept for callers); distances are passed to the solver separately.
    coordinates
        Where the coordinates come from: ``given`` (node attributes), ``spectral``
        (derived from the adjacency, :func:`~territory_engine.geo.embedding.spectral_layout`)
        or ``mds`` (derived from edge lengths, :func:`~territory_engine.geo.embedding.mds_layout`).
        Derived coordinates serve seeding only and are planar.
    joins
        Virtual edges added between components: (unit, unit, rule) with rule
        ``nearest`` (coordinates) or ``county <code>`` (shared GEOID county).
    graph_adjacency
        The graph's own adjacency (without the joins), to count cut edges.
    components
        Component label per unit of ``problem.adjacency`` when contiguity is on and
        the graph (after the joins) is still in several components, else ``None``.
    """

    problem: ProblemData
    nodes: list
    distance: sp.csr_matrix | None
    coordinates: str = "given"
    joins: tuple[tuple[int, int, str], ...] = ()
    graph_adjacency: sp.csr_matrix | None = None
    components: np.ndarray | None = None


def _node_values(graph: nx.Graph, nodes: list, attr: str, file: str) -> np.ndarray:
    values = np.empty(len(nodes))
    for i, node in enumerate(nodes):
        data = graph.nodes[node]
        if attr not in data:
            hint = did_you_mean(attr, data.keys())
            raise InputError(f"node has no attribute '{attr}'{hint}", file=file, id=str(node))
        try:
            values[i] = float(data[attr])
        except (TypeError, ValueError):
            raise InputError(
                f"{data[attr]!r} is not a number", file=file, id=str(node), column=attr
            ) from None
        if not np.isfinite(values[i]):
            raise InputError("is not finite", file=file, id=str(node), column=attr)
    return values


def given_coordinates(graph: nx.Graph, nodes: list, file: str) -> tuple[np.ndarray, bool] | None:
    """(n, 2) node coordinates and whether they are planar, or ``None`` when nodes carry none.

    ``C_X, C_Y`` (census graphs: lon/lat) and ``lon, lat`` are geographic;
    ``x, y`` are planar. The pair is chosen on the first node; every node must
    then carry it.
    """
    first = graph.nodes[nodes[0]]
    for cx, cy in COORDINATE_PAIRS:
        if cx in first and cy in first:
            xy = np.column_stack(
                [_node_values(graph, nodes, cx, file), _node_values(graph, nodes, cy, file)]
            )
            return xy, cx == "x"
    return None


def coordinates(
    graph: nx.Graph,
    nodes: list,
    file: str,
    dist: np.ndarray | None = None,
    adjacency: sp.csr_matrix | None = None,
) -> tuple[np.ndarray, bool, str]:
    """(n, 2) node coordinates, whether they are planar, and their source.

    Given coordinates (:func:`given_coordinates`) come first. Without them the
    nodes are embedded in the plane per connected component of ``adjacency``
    (the graph's by default), components side by side: by classical MDS of the
    shortest-path distances ``dist`` when given (source ``mds``), else by the
    spectral embedding of the adjacency (source ``spectral``). Derived
    coordinates are planar and meant for seeding only.
    """
    given = given_coordinates(graph, nodes, file)
    if given is not None:
        return given[0], given[1], "given"
    adj = adjacency if adjacency is not None else _adjacency(graph, nodes)
    if dist is not None:
        return mds_layout(adj, dist), True, "mds"
    return spectral_layout(adj), True, "spectral"


def graph_nodes(graph: nx.Graph) -> list:
    """The graph's nodes in the problem's unit order (sorted, deterministic)."""
    return sorted(graph.nodes, key=lambda v: (str(type(v)), v))


def _adjacency(graph: nx.Graph, nodes: list) -> sp.csr_matrix:
    """Symmetric boolean adjacency in ``nodes`` order, without self-loops."""
    pos = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    rows = [pos[u] for u, v in graph.edges if u != v]
    cols = [pos[v] for u, v in graph.edges if u != v]
    adj = sp.csr_matrix((np.ones(len(rows), bool), (rows, cols)), shape=(n, n))
    return ((adj + adj.T) > 0).tocsr()


#: ``islands=`` choices of :func:`problem_from_graph`.
ISLANDS = ("join", "separate")


def _join_components(
    graph: nx.Graph,
    nodes: list,
    adj: sp.csr_matrix,
    given: tuple[np.ndarray, bool] | None,
) -> tuple[sp.csr_matrix, list[tuple[int, int, str]]]:
    """Virtual edges between components: nearest with coordinates, else shared county."""
    if connected_components(adj, directed=False)[0] <= 1:
        return adj, []
    if given is not None:
        from territory_engine.geo.islands import join_nearest

        joined, added = join_nearest(adj, given[0], planar=given[1])
        return joined, [(i, j, "nearest") for i, j in added]
    from territory_engine.geo.islands import county_codes, join_by_code

    found = county_codes([graph.nodes[v] for v in nodes])
    if found is None:
        return adj, []
    _, codes = found
    joined, added = join_by_code(adj, codes)
    return joined, [(i, j, f"county {codes[i][:5]}") for i, j in added]


def problem_from_graph(
    graph: nx.Graph,
    *,
    parts: int,
    balance: dict[str, float],
    bounds: dict[str, tuple[float, float]],
    objective: str,
    contiguous: bool,
    file: str = "graph",
    dist: np.ndarray | None = None,
    islands: str = "join",
) -> GraphProblem:
    """A single-group, free-centre problem on ``graph``.

    Parameters
    ----------
    graph
        The unit graph; nodes carry the measures and, optionally, coordinates
        (``C_X/C_Y`` or ``lon/lat``: geographic; ``x/y``: planar).
    parts
        Number of parts ``k``.
    balance
        Measure -> relative tolerance around the mean (total / k).
    bounds
        Measure -> absolute (low, high) per part.
    objective
        ``cut_edges`` (compactness weight 1, a small travel weight so the
        seed is compact), ``inertia`` (Σ w d² to the part centre), ``travel``
        (Σ w d), or ``diameter`` (optimised through inertia; the reported
        objective is the largest diameter).
    contiguous
        Require connected parts.
    file
        Name for messages.
    dist
        All-pairs shortest-path distances in :func:`graph_nodes` order, to
        embed nodes that carry no coordinates.
    islands
        With contiguity on and a graph in several components: ``join`` (default)
        adds one virtual edge per component: to the nearest node of another
        component when nodes carry coordinates (the scenario path's rule), else
        between two nodes of the same county (the first five digits of a tract
        GEOID; an island belongs to its county's districts). Components that
        stay apart, and all of them with ``separate``, are listed in
        :attr:`GraphProblem.components` for the caller to solve apart.

    Notes
    -----
    Nodes without coordinates are embedded (:func:`coordinates`): spectrally,
    or by MDS of ``dist``; the problem is then planar and the coordinates only
    place the seeds and candidate parts (and the search's 1e-3 travel
    tie-breaker); the cut edges reported are counted on the graph alone.
    ``inertia`` and ``travel`` measure real distances and refuse such a graph.

    Raises
    ------
    InputError
        A measure missing on a node; no coordinates for ``inertia``/``travel``.
    ScenarioError
        Bad ``parts``, no measure, unknown objective or ``islands``.
    """
    if parts < 1 or parts > graph.number_of_nodes():
        raise ScenarioError(
            f"--parts {parts} must be between 1 and the number of nodes ({graph.number_of_nodes()})"
        )
    if islands not in ISLANDS:
        raise ScenarioError(f"--islands {islands!r}: choose one of {', '.join(ISLANDS)}")
    measures = list(dict.fromkeys([*balance, *bounds]))
    if not measures:
        raise ScenarioError("give at least one --balance ATTR=TOL or --bounds ATTR=LOW:HIGH")
    nodes = graph_nodes(graph)
    weights = np.column_stack([_node_values(graph, nodes, m, file) for m in measures])
    given = given_coordinates(graph, nodes, file)
    if given is None and objective in ("inertia", "travel"):
        raise InputError(
            f"objective '{objective}' needs node coordinates (C_X/C_Y, x/y or lon/lat) "
            "and the nodes have none; cut_edges works without them, diameter with an "
            "edge length attribute (--distance-attr, 'distance' by default)",
            file=file,
        )
    graph_adj = _adjacency(graph, nodes)
    adj = graph_adj
    joins: list[tuple[int, int, str]] = []
    if contiguous and islands == "join":
        adj, joins = _join_components(graph, nodes, graph_adj, given)
    # MDS needs finite distances: per component of the graph itself (joins have no length).
    layout_adj = adj if dist is None else graph_adj
    xy, planar, source = coordinates(graph, nodes, file, dist, adjacency=layout_adj)
    components = None
    if contiguous:
        n_comp, labels = connected_components(adj, directed=False)
        components = labels if n_comp > 1 else None
    totals = weights.sum(axis=0)
    lower = np.zeros((parts, len(measures)))
    upper = np.full((parts, len(measures)), np.inf)
    for j, m in enumerate(measures):
        if m in bounds:
            lower[:, j], upper[:, j] = bounds[m]
        else:
            tol = balance[m]
            lower[:, j] = totals[j] / parts * (1 - tol)
            upper[:, j] = totals[j] / parts * (1 + tol)
    if objective == "cut_edges":
        weights_obj = {"travel": 1e-3, "compactness": 1.0, "disruption": 0.0}
        power = 2.0
    elif objective in ("inertia", "diameter"):
        weights_obj = {"travel": 1.0, "compactness": 0.0, "disruption": 0.0}
        power = 2.0
    elif objective == "travel":
        weights_obj = {"travel": 1.0, "compactness": 0.0, "disruption": 0.0}
        power = 1.0
    else:
        raise ScenarioError(
            f"unknown objective '{objective}'{did_you_mean(objective, OBJECTIVES)}; "
            f"choose one of {', '.join(OBJECTIVES)}"
        )
    base = problem_from_arrays(
        weights,
        xy,
        adj,
        n_territories=parts,
        lower=lower,
        upper=upper,
        measure_names=measures,
        unit_ids=[str(v) for v in nodes],
        travel_weight=weights[:, 0] + 1e-6 * max(float(weights[:, 0].mean()), 1e-12),
        contiguity=contiguous,
        objective_weights=weights_obj,
    )
    problem = ProblemData(**{**base.__dict__, "planar": planar, "travel_power": power})
    return GraphProblem(
        problem=problem,
        nodes=nodes,
        distance=None,
        coordinates=source,
        joins=tuple(joins),
        graph_adjacency=graph_adj,
        components=components,
    )


OBJECTIVES = ("cut_edges", "diameter", "inertia", "travel")
