"""Distances on a unit graph for the diameter objective."""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from territory_engine.errors import InputError

__all__ = ["part_diameters", "shortest_path_matrix"]


def shortest_path_matrix(graph: nx.Graph, nodes: list, attr: str, file: str) -> np.ndarray:
    """All-pairs shortest-path lengths weighted by edge attribute ``attr`` (float32).

    Raises
    ------
    InputError
        An edge lacks ``attr`` (names the file and the edge).
    """
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
