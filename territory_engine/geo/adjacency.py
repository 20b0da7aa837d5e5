"""Unit adjacency graphs as scipy CSR matrices."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from territory_engine.geo.distance import distance_matrix_km


def polygon_adjacency(units: gpd.GeoDataFrame) -> sp.csr_matrix:
    """Queen adjacency of polygons: two units are neighbours when their boundaries meet.

    Parameters
    ----------
    units
        Polygon layer, one row per unit, in row order.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric boolean (n, n) matrix without self-loops.
    """
    n = len(units)
    geoms = units.geometry.values
    left, right = units.sindex.query(geoms, predicate="intersects")
    keep = left != right
    left, right = left[keep], right[keep]
    data = np.ones(len(left), dtype=bool)
    adj = sp.csr_matrix((data, (left, right)), shape=(n, n))
    return ((adj + adj.T) > 0).tocsr()


def join_islands(adj: sp.csr_matrix, xy: np.ndarray) -> tuple[sp.csr_matrix, list[tuple[int, int]]]:
    """Connect every component of ``adj`` to its nearest other component.

    Islands and units without neighbours (a coastal county, an island, an
    enclave a polygon layer does not connect) would make contiguity
    unsatisfiable; a territory may reach them through the nearest unit, as a
    rep takes a ferry. Repeated until the graph is connected.

    Parameters
    ----------
    adj
        Symmetric boolean adjacency.
    xy
        (n, 2) lon/lat of unit centres, to find the nearest pairs.

    Returns
    -------
    (scipy.sparse.csr_matrix, list of (int, int))
        The connected adjacency and the edges that were added.
    """
    adj = adj.tocsr()
    added: list[tuple[int, int]] = []
    while True:
        n_comp, labels = connected_components(adj, directed=False)
        if n_comp <= 1:
            return adj, added
        # Join the smallest component to its nearest unit outside it: small
        # pieces are islands; joining them one at a time keeps the links short.
        sizes = np.bincount(labels)
        comp = int(np.argmin(sizes))
        inside = np.flatnonzero(labels == comp)
        outside = np.flatnonzero(labels != comp)
        d = distance_matrix_km(xy[inside], xy[outside])
        a, b = np.unravel_index(int(np.argmin(d)), d.shape)
        i, j = int(inside[a]), int(outside[b])
        added.append((min(i, j), max(i, j)))
        extra = sp.csr_matrix(([True, True], ([i, j], [j, i])), shape=adj.shape)
        adj = ((adj + extra) > 0).tocsr()
