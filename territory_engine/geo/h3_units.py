"""H3 cells as geo units, built from points, with the empty cells that keep them connected.

A units layer of H3 cells (the ``h3`` package, v4 API) is the cells holding
accounts, a disk of ``disk`` rings of empty cells around each of them, and the
grid paths (:func:`h3.grid_path_cells`) that join the components left apart,
shortest joins first, until the cells form one connected graph (neighbours are
cells sharing an edge, :func:`h3.grid_ring` at distance 1). A territory may
then always grow over empty cells to reach its accounts, as it crosses an
empty county of a polygon layer.

The benchmark generator ``benchmarks/national_instance.py`` builds its units
with the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import cKDTree

from territory_engine.errors import ScenarioError

__all__ = [
    "MAX_H3_CELLS",
    "account_cells",
    "cell_adjacency",
    "cell_polygons",
    "connected_cells",
    "join_pairs",
    "point_units",
    "split_cells",
    "unit_sphere_xyz",
]

MAX_H3_CELLS = 500_000
"""Most cells a units layer may have: beyond it the resolution is too fine for
the accounts' spread (the joins between far-apart accounts would be paths of
millions of tiny cells); a coarser resolution is the fix."""


def unit_sphere_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(n, 3) points on the unit sphere: chord distances rank like great-circle ones."""
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def account_cells(lon: Sequence[float], lat: Sequence[float], resolution: int) -> list[str]:
    """The H3 cell of each point at ``resolution`` (cell ids as strings)."""
    import h3

    return [
        h3.latlng_to_cell(float(a), float(b), resolution) for a, b in zip(lat, lon, strict=True)
    ]


def cell_adjacency(cells: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """H3 neighbour pairs ``(i, j)``, ``i < j``, among ``cells`` (positions in the list)."""
    import h3

    index = {c: i for i, c in enumerate(cells)}
    left: list[int] = []
    right: list[int] = []
    for i, c in enumerate(cells):
        for m in h3.grid_ring(c, 1):
            j = index.get(m)
            if j is not None and i < j:
                left.append(i)
                right.append(j)
    return np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)


def _labels(n: int, left: np.ndarray, right: np.ndarray) -> tuple[int, np.ndarray]:
    adj = sp.coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n)).tocsr()
    return connected_components(adj, directed=False)


def _nearest_foreign(xyz: np.ndarray, labels: np.ndarray, comp: int) -> tuple[float, int, int]:
    """Closest pair (distance, i in comp, j not in comp)."""
    inside = np.flatnonzero(labels == comp)
    outside = np.flatnonzero(labels != comp)
    tree = cKDTree(xyz[outside])
    d, k = tree.query(xyz[inside], k=1)
    best = int(np.argmin(d))
    return float(d[best]), int(inside[best]), int(outside[k[best]])


def join_pairs(xyz: np.ndarray, labels: np.ndarray, knn: int = 24) -> list[tuple[int, int]]:
    """Cell pairs whose grid paths join every component, shortest joins first.

    A minimum spanning forest over the components, on the cross-component pairs
    among each cell's ``knn`` nearest cells; the components it leaves apart are
    joined by Borůvka rounds on exact nearest foreign cells.

    Parameters
    ----------
    xyz
        (n, 3) cell centres on the unit sphere (:func:`unit_sphere_xyz`).
    labels
        (n,) connected component of each cell.
    knn
        Neighbours per cell searched for cross-component pairs.

    Returns
    -------
    list of (int, int)
        Positions of the cells to join by a grid path, shortest first.
    """
    n_comp = int(labels.max()) + 1
    if n_comp == 1:
        return []
    tree = cKDTree(xyz)
    d, nb = tree.query(xyz, k=min(knn + 1, len(xyz)))
    src = np.repeat(np.arange(len(xyz)), nb.shape[1])
    dst, dist = nb.ravel(), d.ravel()
    cross = labels[src] != labels[dst]
    src, dst, dist = src[cross], dst[cross], dist[cross]
    pairs: list[tuple[float, int, int]] = []
    if len(src):
        ca, cb = labels[src], labels[dst]
        lo, hi = np.minimum(ca, cb), np.maximum(ca, cb)
        key = lo.astype(np.int64) * n_comp + hi
        order = np.lexsort((dst, src, dist, key))
        first = order[np.r_[True, key[order][1:] != key[order][:-1]]]
        # Tiny offset so zero-length chords still count as edges in the sparse matrix.
        graph = sp.coo_matrix(
            (dist[first] + 1e-12, (lo[first], hi[first])), shape=(n_comp, n_comp)
        ).tocsr()
        forest = minimum_spanning_tree(graph).tocoo()
        best = {int(key[f]): int(f) for f in first}
        for a, b in zip(forest.row, forest.col, strict=True):
            f = best[int(min(a, b)) * n_comp + int(max(a, b))]
            pairs.append((float(dist[f]), int(src[f]), int(dst[f])))
    # Components still apart: Borůvka on exact nearest foreign cells.
    parent = list(range(n_comp))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, i, j in pairs:
        parent[find(int(labels[i]))] = find(int(labels[j]))
    while True:
        roots = np.array([find(int(c)) for c in range(n_comp)])
        super_labels = roots[labels]
        groups = sorted(set(super_labels.tolist()))
        if len(groups) == 1:
            break
        found = sorted(_nearest_foreign(xyz, super_labels, g) for g in groups)
        for dd, i, j in found:
            a, b = find(int(labels[i])), find(int(labels[j]))
            if a != b:
                parent[a] = b
                pairs.append((dd, i, j))
    pairs.sort()
    return [(i, j) for _, i, j in pairs]


def _too_many(count: int, max_cells: int, resolution: int | None) -> ScenarioError:
    at = f" at H3 resolution {resolution}" if resolution is not None else ""
    return ScenarioError(
        f"data.units: the accounts need more than {max_cells:,} H3 cells{at} to form one "
        f"connected region ({count:,} so far); use a coarser resolution (a smaller h3)"
    )


def connected_cells(
    occupied: Iterable[str], *, disk: int = 1, max_cells: int | None = MAX_H3_CELLS
) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """The occupied cells, a disk of empty cells around them, and grid paths joining them.

    Parameters
    ----------
    occupied
        Cells holding accounts (one resolution).
    disk
        Rings of empty cells kept around every occupied cell (0: none).
    max_cells
        Refuse (``ScenarioError``) rather than build more cells than this;
        ``None``: no limit.

    Returns
    -------
    (list of str, numpy.ndarray, numpy.ndarray, int)
        The cells (sorted ids), their neighbour pairs (:func:`cell_adjacency`)
        and the number of grid paths added.
    """
    import h3

    occupied = sorted(set(occupied))
    resolution = h3.get_resolution(occupied[0]) if occupied else None
    kept = set(occupied)
    if disk:
        for c in occupied:
            kept.update(h3.grid_disk(c, disk))
            if max_cells is not None and len(kept) > max_cells:
                raise _too_many(len(kept), max_cells, resolution)
    cells = sorted(kept)
    joins = 0
    while True:
        left, right = cell_adjacency(cells)
        n_comp, labels = _labels(len(cells), left, right)
        if n_comp <= 1:
            return cells, left, right, joins
        centre = np.array([h3.cell_to_latlng(c) for c in cells])
        pairs = join_pairs(unit_sphere_xyz(centre[:, 0], centre[:, 1]), labels)
        if max_cells is not None:
            # A grid path has grid_distance + 1 cells: count before building it.
            length = sum(h3.grid_distance(cells[i], cells[j]) + 1 for i, j in pairs)
            if len(kept) + length > max_cells:
                raise _too_many(len(kept) + length, max_cells, resolution)
        joins += len(pairs)
        for i, j in pairs:
            kept.update(h3.grid_path_cells(cells[i], cells[j]))
        cells = sorted(kept)


def split_cells(
    cells: Sequence[str], left: np.ndarray, right: np.ndarray, heavy: Iterable[str]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Replace each ``heavy`` cell by its seven children (one resolution finer).

    City cores hold cells of a third of a territory or more at a resolution
    that suits the country around them; no contiguous combination of such
    cells may meet tight bands. Splitting them gives mixed-resolution units:
    the children of a split cell are units of their own, every other cell
    stays whole. Two units are neighbours when they share an edge: whole
    cells by :func:`cell_adjacency`; a child and any unit holding one of its
    fine neighbours (:func:`h3.grid_ring`; a fine cell belongs to its H3
    parent, :func:`h3.cell_to_parent`).

    Parameters
    ----------
    cells
        Units of one resolution (as :func:`connected_cells` returns them).
    left, right
        Their neighbour pairs (positions in ``cells``).
    heavy
        Cells of ``cells`` to split.

    Returns
    -------
    (list of str, numpy.ndarray, numpy.ndarray)
        The units (whole cells, then the children, each group sorted) and
        their neighbour pairs ``i < j``. Connected when ``cells`` were.
    """
    import h3

    split = set(heavy) & set(cells)
    if not split:
        return list(cells), left, right
    resolution = h3.get_resolution(next(iter(split)))
    whole = [c for c in cells if c not in split]
    children = sorted(ch for c in split for ch in h3.cell_to_children(c, resolution + 1))
    units = whole + children
    index = {u: i for i, u in enumerate(units)}
    old = np.array([index.get(c, -1) for c in cells])
    keep = (old[left] >= 0) & (old[right] >= 0)
    pairs = set(zip(old[left][keep].tolist(), old[right][keep].tolist(), strict=True))
    for child in children:
        i = index[child]
        for fine in h3.grid_ring(child, 1):
            parent = h3.cell_to_parent(fine, resolution)
            j = index.get(fine) if parent in split else index.get(parent)
            if j is not None and j != i:
                pairs.add((min(i, j), max(i, j)))
    ordered = sorted(pairs)
    return (
        units,
        np.array([a for a, _ in ordered], dtype=np.int64),
        np.array([b for _, b in ordered], dtype=np.int64),
    )


def point_units(
    lon: Sequence[float], lat: Sequence[float], units: Sequence[str], resolution: int
) -> list[str]:
    """The unit of :func:`split_cells` holding each point.

    A point lies in the child of a split cell when its fine cell's H3 parent
    was split, else in its cell of ``resolution`` (H3's children do not tile
    their parent exactly, so the parent is the fine cell's, and a point near
    an edge may fall in a whole neighbour).
    """
    import h3

    known = set(units)
    out = []
    for a, b in zip(lat, lon, strict=True):
        fine = h3.latlng_to_cell(float(a), float(b), resolution + 1)
        if fine in known:
            out.append(fine)
            continue
        parent = h3.cell_to_parent(fine, resolution)
        coarse = parent if parent in known else h3.latlng_to_cell(float(a), float(b), resolution)
        if coarse not in known:  # its cell was split and the fine cell is a neighbour's child
            coarse = min(
                h3.cell_to_children(coarse, resolution + 1),
                key=lambda c: h3.great_circle_distance(h3.cell_to_latlng(c), (float(a), float(b))),
            )
        out.append(coarse)
    return out


def cell_polygons(cells: Sequence[str]) -> list[shapely.Polygon]:
    """The hexagon (or pentagon) of each cell as a lon/lat polygon (EPSG:4326)."""
    import h3

    return [shapely.Polygon([(lo, la) for la, lo in h3.cell_to_boundary(c)]) for c in cells]
