"""Pendants: the units a single cut vertex joins to the rest of the graph.

With contiguity on, a territory that holds units on both sides of a cut
vertex ``v`` holds ``v``: only one territory can. So the units ``P`` of a
side of ``v`` are ``n`` whole territories plus (possibly) part of the one
holding ``v``, whatever the plan. When no count ``n`` fits every measure at
once, no contiguous plan exists: a metro joined to the rest by one chain of
empty cells, rich in one measure and poor in another, is the case met on
national instances (El Paso, 0.958 of a territory's potential and 1.044 of
its workload beyond one cell).

For measure ``j`` with ``P`` holding ``p_j`` and every territory's band
within ``[L_j, U_j]`` (the lowest low, the highest high of the group), the
``n`` whole territories hold ``p_j − x_j`` with ``x_j ∈ [0, U_j]`` the part
of ``v``'s territory inside ``P``::

    n L_j ≤ p_j − x_j ≤ n U_j,  0 ≤ x_j ≤ U_j
    ⇔  ⌈p_j / U_j⌉ − 1 ≤ n ≤ ⌊p_j / L_j⌋

A side is **impossible** when these ranges of ``n`` share no integer over the
measures. The test is necessary, not sufficient: a side that passes may still
be impossible (two cut vertices, or the part ``x`` not matching on every
measure at once), one that fails never has a plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Pendant:
    """A side of a cut vertex that no count of whole territories fits.

    Attributes
    ----------
    cut
        The cut vertex (index into the graph's nodes).
    units
        The side's nodes (sorted), without ``cut``.
    weight
        The side's total per measure.
    counts
        Per measure the range ``(low, high)`` of whole territories it could hold.
    """

    cut: int
    units: np.ndarray
    weight: np.ndarray
    counts: list[tuple[int, int]]


def cut_vertex_sides(adjacency: sp.spmatrix) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Every side a cut vertex separates, as ranges of one depth-first order.

    An iterative Hopcroft–Tarjan search from node 0 (the graph connected): a
    child ``c`` of ``v`` with ``low[c] ≥ disc[v]`` roots a subtree that is a
    component of the graph without ``v``.

    Returns
    -------
    (numpy.ndarray, list of (int, int, int))
        The nodes in depth-first order, and per separation ``(v, start, stop)``:
        the subtree's nodes are ``order[start:stop]``.
    """
    csr = sp.csr_matrix(adjacency)
    n = csr.shape[0]
    indptr, indices = csr.indptr.tolist(), csr.indices.tolist()
    disc = [-1] * n
    low = [0] * n
    size = [1] * n
    order: list[int] = []
    sides: list[tuple[int, int, int]] = []
    root_sides: list[tuple[int, int, int]] = []
    if n == 0:
        return np.zeros(0, dtype=int), sides
    disc[0] = low[0] = 0
    order.append(0)
    # Each frame: node, parent, next neighbour position.
    stack = [(0, -1, indptr[0])]
    while stack:
        v, parent, q = stack[-1]
        if q < indptr[v + 1]:
            stack[-1] = (v, parent, q + 1)
            w = indices[q]
            if disc[w] < 0:
                disc[w] = low[w] = len(order)
                order.append(w)
                stack.append((w, v, indptr[w]))
            elif w != parent:
                low[v] = min(low[v], disc[w])
            continue
        stack.pop()
        if parent >= 0:
            low[parent] = min(low[parent], low[v])
            size[parent] += size[v]
            if low[v] >= disc[parent]:
                (root_sides if parent == 0 else sides).append((parent, disc[v], disc[v] + size[v]))
    # The root cuts the graph only when it has two subtrees or more.
    return np.asarray(order, dtype=int), sides + (root_sides if len(root_sides) > 1 else [])


def impossible_pendants(
    adjacency: sp.spmatrix, weights: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> list[Pendant]:
    """The sides of cut vertices that fit no count of whole territories (module doc).

    Parameters
    ----------
    adjacency
        The (connected) unit graph.
    weights
        (n, m) measures per unit.
    lower, upper
        (m,) the lowest low and highest high of the territories' bands.

    Returns
    -------
    list of Pendant
        Smallest first; both sides of every separation are tested (the side
        beyond the subtree is the rest of the graph without the cut vertex).
    """
    order, sides = cut_vertex_sides(adjacency)
    if not sides:
        return []
    w = np.asarray(weights, dtype=float)
    prefix = np.vstack([np.zeros(w.shape[1]), np.cumsum(w[order], axis=0)])
    cut = np.array([s[0] for s in sides])
    start = np.array([s[1] for s in sides])
    stop = np.array([s[2] for s in sides])
    inside = prefix[stop] - prefix[start]
    outside = prefix[-1] - inside - w[cut]
    found: list[Pendant] = []
    for beyond, load in ((False, inside), (True, outside)):
        low, high = _count_ranges(load, lower, upper)
        for s in np.flatnonzero(low.max(axis=1) > high.min(axis=1)):
            sub = order[start[s] : stop[s]]
            if beyond:
                mask = np.ones(len(order), dtype=bool)
                mask[sub] = False
                mask[cut[s]] = False
                sub = np.flatnonzero(mask)
            counts = [(int(a), int(b)) for a, b in zip(low[s], high[s], strict=True)]
            found.append(Pendant(int(cut[s]), np.sort(sub), load[s].copy(), counts))
    found.sort(key=lambda p: (len(p.units), p.cut))
    return found


def _count_ranges(
    load: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per side and measure ``⌈p/U⌉ − 1`` and ``⌊p/L⌋`` (0 and a large count when unbounded)."""
    big = np.iinfo(np.int64).max // 4
    with np.errstate(divide="ignore", invalid="ignore"):
        hi_ok = np.isfinite(upper) & (upper > 0)
        low = np.where(hi_ok, np.ceil(load / np.where(hi_ok, upper, 1.0) - 1e-9) - 1, 0)
        lo_ok = lower > 0
        high = np.where(lo_ok, np.floor(load / np.where(lo_ok, lower, 1.0) + 1e-9), big)
    return np.maximum(low, 0).astype(np.int64), high.astype(np.int64)
