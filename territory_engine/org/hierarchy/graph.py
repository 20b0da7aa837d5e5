"""The territory graph: territories as units, adjacent when their geography touches.

Two territories are adjacent when any of their geo units are adjacent, or when
they share a geo unit: overlay segment teams cover the same counties, so an
enterprise territory over Atlanta touches the commercial and SMB territories
under it. Level 2 of a hierarchy works on the quotient graph of level 1
(:func:`group_adjacency`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import scipy.sparse as sp

from territory_engine.geo.adjacency import polygon_adjacency

__all__ = ["group_adjacency", "polygon_territory_adjacency", "territory_adjacency"]


def territory_adjacency(
    unit_territory: np.ndarray,
    unit_geo: np.ndarray,
    unit_adjacency: sp.spmatrix,
    n_territories: int,
) -> sp.csr_matrix:
    """Adjacency of territories from the units they hold.

    Parameters
    ----------
    unit_territory
        (n,) territory index of each unit (a unit is a geo unit in one segment layer).
    unit_geo
        (n,) the geo unit of each unit, as any hashable labels: units of
        different segment layers with the same label are the same piece of
        ground.
    unit_adjacency
        (n, n) symmetric adjacency of the units (each layer's own edges suffice:
        a geo edge seen in any layer is a geo edge).
    n_territories
        ``k``.

    Returns
    -------
    scipy.sparse.csr_matrix
        (k, k) symmetric boolean, no self-loops.
    """
    assign = np.asarray(unit_territory, dtype=int)
    n = len(assign)
    _, geo = np.unique(np.asarray(unit_geo).astype(str), return_inverse=True)
    n_geo = int(geo.max()) + 1 if n else 0
    ones = np.ones(n, dtype=float)
    # P: unit -> geo unit; T: territory -> geo units it covers.
    p = sp.csr_matrix((ones, (np.arange(n), geo)), shape=(n, n_geo))
    t = sp.csr_matrix((ones, (assign, geo)), shape=(n_territories, n_geo))
    adj = sp.csr_matrix(unit_adjacency, dtype=float)
    geo_adj = (p.T @ adj @ p) + sp.identity(n_geo, format="csr")
    return _clean(t @ geo_adj @ t.T)


def polygon_territory_adjacency(geometry: gpd.GeoDataFrame) -> sp.csr_matrix:
    """Adjacency of territories whose polygons meet or overlap (a plan folder's geojson).

    Without the unit layer (``territory-engine hierarchy`` on a plan folder) the
    dissolved territory polygons stand in for the units: overlapping overlay
    territories intersect, neighbours touch.
    """
    return polygon_adjacency(geometry.reset_index(drop=True))


def group_adjacency(adjacency: sp.spmatrix, assign: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """The quotient graph: two groups are adjacent when any of their members are.

    Parameters
    ----------
    adjacency
        (n, n) adjacency of the members.
    assign
        (n,) group index of each member.
    n_groups
        Number of groups.
    """
    n = len(assign)
    s = sp.csr_matrix((np.ones(n), (np.arange(n), np.asarray(assign, int))), shape=(n, n_groups))
    return _clean(s.T @ sp.csr_matrix(adjacency, dtype=float) @ s)


def _clean(m: sp.spmatrix) -> sp.csr_matrix:
    out = (sp.csr_matrix(m) > 0).astype(bool).tocsr()
    out = ((out + out.T) > 0).tocsr()
    out.setdiag(False)
    out.eliminate_zeros()
    return out
