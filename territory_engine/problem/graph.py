"""Build :class:`ProblemData` from a unit graph (networkx node-link JSON or GraphML).

This is the thin adapter under ``territory-engine partition``: the same solver
that draws sales territories partitions any graph whose nodes carry measures
and coordinates (census dual graphs, delivery networks, a user's own units).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from territory_engine.errors import InputError, ScenarioError, did_you_mean
from territory_engine.problem.arrays import problem_from_arrays
from territory_engine.problem.data import ProblemData

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
    """A graph turned into a problem, with what is needed to map back and score."""

    problem: ProblemData
    nodes: list
    distance: sp.csr_matrix | None


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


def classical_mds(dist: np.ndarray, dims: int = 2) -> np.ndarray:
    """Planar coordinates whose distances approximate ``dist`` (classical MDS, Torgerson 1952).

    ``B = −½ J D² J`` with the centring matrix ``J``; the coordinates are the
    top ``dims`` eigenvectors of ``B`` scaled by the square roots of their
    eigenvalues. Used for graphs that carry edge lengths but no coordinates.
    """
    d2 = np.asarray(dist, dtype=float) ** 2
    n = len(d2)
    j = np.eye(n) - 1.0 / n
    b = -0.5 * j @ d2 @ j
    vals, vecs = np.linalg.eigh(b)
    top = np.argsort(vals)[::-1][:dims]
    return vecs[:, top] * np.sqrt(np.maximum(vals[top], 0.0))


def coordinates(
    graph: nx.Graph, nodes: list, file: str, dist: np.ndarray | None = None
) -> tuple[np.ndarray, bool]:
    """(n, 2) node coordinates and whether they are planar.

    ``C_X, C_Y`` (census graphs: lon/lat) and ``lon, lat`` are geographic;
    ``x, y`` are planar. Without coordinates, nodes are embedded in the plane
    (:func:`classical_mds`) from the shortest-path distances ``dist`` when
    given, else from hop counts.
    """
    first = graph.nodes[nodes[0]]
    for cx, cy in COORDINATE_PAIRS:
        if cx in first and cy in first:
            xy = np.column_stack(
                [_node_values(graph, nodes, cx, file), _node_values(graph, nodes, cy, file)]
            )
            return xy, cx == "x"
    if dist is None and graph.number_of_nodes() <= 20_000:
        # No coordinates and no edge lengths: embed by hop counts.
        pos = {v: i for i, v in enumerate(nodes)}
        rows = [pos[u] for u, v in graph.edges]
        cols = [pos[v] for u, v in graph.edges]
        hops = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(nodes), len(nodes)))
        dist = shortest_path(hops, directed=False, unweighted=True)
    if dist is not None and np.isfinite(dist).all():
        return classical_mds(dist), True
    raise InputError(
        "nodes have no coordinates: expected C_X/C_Y, x/y or lon/lat "
        "(or an edge length attribute, --distance-attr, to embed them)",
        file=file,
    )


def graph_nodes(graph: nx.Graph) -> list:
    """The graph's nodes in the problem's unit order (sorted, deterministic)."""
    return sorted(graph.nodes, key=lambda v: (str(type(v)), v))


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
) -> GraphProblem:
    """A single-group, free-centre problem on ``graph``.

    Parameters
    ----------
    graph
        The unit graph; nodes carry the measures and coordinates.
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
    """
    if parts < 1 or parts > graph.number_of_nodes():
        raise ScenarioError(
            f"--parts {parts} must be between 1 and the number of nodes ({graph.number_of_nodes()})"
        )
    measures = list(dict.fromkeys([*balance, *bounds]))
    if not measures:
        raise ScenarioError("give at least one --balance ATTR=TOL or --bounds ATTR=LOW:HIGH")
    nodes = graph_nodes(graph)
    pos = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    weights = np.column_stack([_node_values(graph, nodes, m, file) for m in measures])
    xy, planar = coordinates(graph, nodes, file, dist)
    rows = [pos[u] for u, v in graph.edges if u != v]
    cols = [pos[v] for u, v in graph.edges if u != v]
    adj = sp.csr_matrix((np.ones(len(rows), bool), (rows, cols)), shape=(n, n))
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
    return GraphProblem(problem=problem, nodes=nodes, distance=None)


OBJECTIVES = ("cut_edges", "diameter", "inertia", "travel")
