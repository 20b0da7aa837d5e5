"""Joining the components of a unit graph (islands) with virtual edges.

Two rules, both one edge per joined component, smallest component first:

* :func:`join_nearest`: with coordinates, the rule of the scenario path
  (:func:`territory_engine.geo.adjacency.join_islands`): the nearest pair of
  nodes between the component and the rest of the graph.
* :func:`join_by_code`: without coordinates, a data-driven join: a node of the
  component and a node outside it that share a code (for census graphs the
  county, the first five digits of ``GEOID10``), the pair whose full codes are
  closest (tract numbers are assigned in geographic order within a county).
  Districting law treats an island as part of its county; a component sharing
  no code with any other node stays as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from territory_engine.geo.adjacency import join_islands

__all__ = ["GEOID_ATTRS", "county_codes", "join_by_code", "join_nearest"]

#: Node attributes holding census GEOIDs (state 2 + county 3 + tract 6 digits ...).
GEOID_ATTRS = ("GEOID10", "GEOID20", "GEOID", "geoid10", "geoid20", "geoid")


def county_codes(node_data: Sequence[dict]) -> tuple[str, list[str]] | None:
    """(attribute, county code per node) when every node carries a sub-county GEOID.

    A GEOID longer than five digits (tract, block group, block) starts with its
    county's five digits; county-level graphs (five digits) give nothing to join on.
    """
    for attr in GEOID_ATTRS:
        values = [str(d.get(attr, "")) for d in node_data]
        if all(len(v) > 5 and v.isdigit() for v in values):
            return attr, values
    return None


def _with_edge(adj: sp.csr_matrix, i: int, j: int) -> sp.csr_matrix:
    extra = sp.csr_matrix(([True, True], ([i, j], [j, i])), shape=adj.shape)
    return ((adj + extra) > 0).tocsr()


def join_by_code(
    adj: sp.csr_matrix, codes: Sequence[str], prefix: int = 5
) -> tuple[sp.csr_matrix, list[tuple[int, int]]]:
    """Join components to nodes outside them that share the first ``prefix`` characters.

    Repeated, smallest joinable component first, until no component shares a
    code with a node outside it. Of the pairs sharing a code, the one whose
    full codes are numerically closest is joined (ties: lowest node indices).

    Parameters
    ----------
    adj
        Symmetric boolean adjacency.
    codes
        One code per node (digits), e.g. the GEOIDs.
    prefix
        How many leading characters make the shared code (5: the county).

    Returns
    -------
    (scipy.sparse.csr_matrix, list of (int, int))
        The adjacency with the joins and the edges that were added.
    """
    adj = sp.csr_matrix(adj, dtype=bool)
    keys = [c[:prefix] for c in codes]
    numbers = np.array([int(c) for c in codes], dtype=object)
    added: list[tuple[int, int]] = []
    while True:
        n_comp, labels = connected_components(adj, directed=False)
        if n_comp <= 1:
            return adj, added
        sizes = np.bincount(labels)
        joined = False
        for comp in sorted(range(n_comp), key=lambda c: (sizes[c], int(np.argmax(labels == c)))):
            inside = np.flatnonzero(labels == comp)
            inside_keys = {keys[i] for i in inside}
            outside = [j for j in np.flatnonzero(labels != comp) if keys[j] in inside_keys]
            if not outside:
                continue
            pairs = [
                (abs(numbers[i] - numbers[j]), int(i), int(j))
                for j in outside
                for i in inside
                if keys[i] == keys[j]
            ]
            _, i, j = min(pairs)
            added.append((min(i, j), max(i, j)))
            adj = _with_edge(adj, i, j)
            joined = True
            break
        if not joined:
            return adj, added


def join_nearest(
    adj: sp.csr_matrix, xy: np.ndarray, *, planar: bool
) -> tuple[sp.csr_matrix, list[tuple[int, int]]]:
    """Join every component to its nearest other component (the scenario path's rule).

    :func:`~territory_engine.geo.adjacency.join_islands` measures great-circle
    distances on lon/lat; planar coordinates are first mapped into a box of
    0.01° around (0°, 0°), where great-circle distance is Euclidean distance
    times a constant (to 1e-8), so the nearest pairs are the planar ones.
    """
    xy = np.asarray(xy, dtype=float)
    if planar and len(xy):
        span = float(np.ptp(xy, axis=0).max()) or 1.0
        xy = (xy - xy.min(axis=0)) / span * 0.01
    return join_islands(sp.csr_matrix(adj, dtype=bool), xy)
