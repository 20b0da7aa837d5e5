"""Planar coordinates for graphs that carry none (adjacency only), for seeding.

Census dual graphs are often published with adjacency and populations only.
The solver places its seed centres and prunes candidate parts by distance, so
it needs *some* coordinates; these are derived from the graph itself and never
enter a cut-edge objective.

:func:`spectral_layout` embeds each connected component by the two smallest
non-trivial eigenvectors of its normalised Laplacian (Laplacian eigenmaps,
Belkin & Niyogi 2003) and lays the components side by side so that they do not
overlap. :func:`mds_layout` does the same from given shortest-path distances
(classical MDS per component), for graphs with edge lengths.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh

__all__ = ["classical_mds", "mds_layout", "spectral_layout"]

#: Components up to this many nodes are embedded with a dense eigensolver.
DENSE_LIMIT = 400


def classical_mds(dist: np.ndarray, dims: int = 2) -> np.ndarray:
    """Planar coordinates whose distances approximate ``dist`` (classical MDS, Torgerson 1952).

    ``B = −½ J D² J`` with the centring matrix ``J``; the coordinates are the
    top ``dims`` eigenvectors of ``B`` scaled by the square roots of their
    eigenvalues.
    """
    d2 = np.asarray(dist, dtype=float) ** 2
    n = len(d2)
    j = np.eye(n) - 1.0 / n
    b = -0.5 * j @ d2 @ j
    vals, vecs = np.linalg.eigh(b)
    top = np.argsort(vals)[::-1][:dims]
    out = vecs[:, top] * np.sqrt(np.maximum(vals[top], 0.0))
    if out.shape[1] < dims:
        out = np.column_stack([out, np.zeros((n, dims - out.shape[1]))])
    return _fix_signs(out)


def _fix_signs(vecs: np.ndarray) -> np.ndarray:
    """Eigenvectors with a deterministic sign: the entry of largest magnitude positive."""
    out = np.array(vecs, dtype=float)
    for c in range(out.shape[1]):
        col = out[:, c]
        if col.size and col[int(np.argmax(np.abs(col)))] < 0:
            out[:, c] = -col
    return out


def _spectral_component(adj: sp.csr_matrix) -> np.ndarray:
    """(n, 2) Laplacian eigenmap of one connected component."""
    n = adj.shape[0]
    if n == 1:
        return np.zeros((1, 2))
    if n == 2:
        return np.array([[0.0, 0.0], [1.0, 0.0]])
    a = adj.astype(float)
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv_sqrt = 1.0 / np.sqrt(np.maximum(deg, 1e-12))
    norm_adj = sp.diags(inv_sqrt) @ a @ sp.diags(inv_sqrt)
    lap = sp.identity(n, format="csr") - norm_adj
    if n <= DENSE_LIMIT:
        vals, vecs = np.linalg.eigh(lap.toarray())
    else:
        # Shift-invert just below 0 (the Laplacian is singular there): the three
        # smallest eigenpairs in a few sparse factorisations; v0 fixed for determinism.
        v0 = np.sqrt(deg) + np.linspace(0.0, 1e-3, n)
        vals, vecs = eigsh(lap.tocsc(), k=3, sigma=-1e-3, which="LM", v0=v0)
    order = np.argsort(vals)
    # Skip the trivial vector (√degree); dividing by √degree gives the random-walk
    # eigenvectors, which spread low-degree nodes as much as hubs.
    vecs = vecs[:, order[1:3]] * inv_sqrt[:, None]
    if vecs.shape[1] < 2:
        vecs = np.column_stack([vecs, np.zeros(n)])
    return _fix_signs(vecs)


def _side_by_side(
    adj: sp.csr_matrix, embed: Callable[[np.ndarray], np.ndarray], *, rescale: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each component embedded by ``embed(nodes)`` and laid out left to right.

    With ``rescale`` a component of ``c`` nodes is scaled to a box of side ``√c``
    (about one unit between neighbours, whatever the component's size); without,
    it keeps its own units. Components follow each other, largest first, with a
    gap of half the previous box.
    Returns the (n, 2) coordinates and the component label of each node.
    """
    n = adj.shape[0]
    n_comp, labels = connected_components(adj, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    xy = np.zeros((n, 2))
    left = 0.0
    # Largest first, ties by the lowest node: a stable layout.
    first_node = np.full(n_comp, n)
    np.minimum.at(first_node, labels, np.arange(n))
    for c in sorted(range(n_comp), key=lambda c: (-sizes[c], first_node[c])):
        nodes = np.flatnonzero(labels == c)
        local = embed(nodes)
        local = local - local.min(axis=0)
        span = float(local.max()) if local.size else 0.0
        side = float(np.sqrt(len(nodes))) if rescale else span
        if rescale and span > 0:
            local = local * (side / span)
        local[:, 0] += left
        xy[nodes] = local
        left += side + max(0.5 * side, 1.0)
    return xy, labels


def spectral_layout(adj: sp.csr_matrix) -> np.ndarray:
    """(n, 2) planar coordinates of an adjacency-only graph, components side by side.

    Parameters
    ----------
    adj
        Symmetric (n, n) adjacency.

    Returns
    -------
    numpy.ndarray
        Coordinates for seeding; their distances mean nothing geographic.
    """
    adj = sp.csr_matrix(adj, dtype=bool)
    adj = ((adj + adj.T) > 0).tocsr()
    adj.setdiag(False)
    adj.eliminate_zeros()
    return _side_by_side(
        adj, lambda nodes: _spectral_component(adj[nodes][:, nodes]), rescale=True
    )[0]


def mds_layout(adj: sp.csr_matrix, dist: np.ndarray) -> np.ndarray:
    """(n, 2) planar coordinates from shortest-path distances, components side by side.

    Classical MDS (:func:`classical_mds`) of each component's block of ``dist``
    (distances between components are infinite and ignored).
    """
    adj = sp.csr_matrix(adj, dtype=bool)
    adj = ((adj + adj.T) > 0).tocsr()
    return _side_by_side(
        adj, lambda nodes: classical_mds(dist[np.ix_(nodes, nodes)]), rescale=False
    )[0]
