"""Build :class:`ProblemData` straight from arrays (graphs, tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from territory_engine.problem.data import ProblemData


def problem_from_arrays(
    weights: np.ndarray,
    xy: np.ndarray,
    adjacency: sp.spmatrix | None,
    *,
    centres: np.ndarray | None = None,
    n_territories: int | None = None,
    tolerance: float | Sequence[float] | None = 0.05,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    measure_names: Sequence[str] | None = None,
    unit_ids: Sequence[str] | None = None,
    travel_weight: np.ndarray | None = None,
    locked: np.ndarray | None = None,
    contiguity: bool = False,
    objective_weights: dict[str, float] | None = None,
) -> ProblemData:
    """A single-group problem (every unit eligible for every territory).

    Parameters
    ----------
    weights
        (n, m) or (n,) measures per unit.
    xy
        (n, 2) lon/lat of units.
    adjacency
        (n, n) symmetric adjacency, or ``None`` for no edges.
    centres
        (k, 2) fixed centres; ``None`` with ``n_territories`` for free centres.
    n_territories
        k when centres are free.
    tolerance
        Relative band around the mean (one value or one per measure); ignored
        where ``lower``/``upper`` are given.
    lower, upper
        (k, m) absolute bands.
    travel_weight
        (n,) weight of each unit's distance; defaults to the first measure
        (plus a small floor).
    locked
        (n,) territory per unit or -1.
    contiguity
        Require connected territories.
    objective_weights
        Weights of travel / compactness / disruption.

    Returns
    -------
    ProblemData
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = w[:, None]
    n, m = w.shape
    if centres is not None:
        k = len(centres)
    elif n_territories is not None:
        k = int(n_territories)
    else:
        raise TypeError("give centres, or n_territories for free centres")
    if adjacency is None:
        adjacency = sp.csr_matrix((n, n), dtype=bool)
    adj = sp.csr_matrix(adjacency, dtype=bool)
    adj = ((adj + adj.T) > 0).tocsr()
    adj.setdiag(False)
    adj.eliminate_zeros()
    totals = w.sum(axis=0)
    tols = np.broadcast_to(np.asarray(tolerance if tolerance is not None else 0.0, float), (m,))
    lo = np.tile(totals / k * (1 - tols), (k, 1)) if lower is None else np.asarray(lower, float)
    hi = np.tile(totals / k * (1 + tols), (k, 1)) if upper is None else np.asarray(upper, float)
    if tolerance is None and upper is None:
        hi = np.full((k, m), np.inf)
    if travel_weight is None:
        travel_weight = w[:, 0] + 1e-3 * max(w[:, 0].mean(), 1e-9)
    empty = sp.csr_matrix((n, k))
    return ProblemData(
        unit_ids=np.array(list(unit_ids) if unit_ids is not None else [str(i) for i in range(n)]),
        xy=np.asarray(xy, dtype=float),
        weights=w,
        measure_names=tuple(measure_names or [f"m{j}" for j in range(m)]),
        travel_weight=np.asarray(travel_weight, dtype=float),
        territory_ids=tuple(f"T{t}" for t in range(k)),
        centres=None if centres is None else np.asarray(centres, dtype=float),
        lower=lo,
        upper=hi,
        unit_group=np.zeros(n, dtype=int),
        territory_group=np.zeros(k, dtype=int),
        adjacency=adj,
        locked=np.full(n, -1, dtype=int) if locked is None else np.asarray(locked, dtype=int),
        current=np.full(n, -1, dtype=int),
        unit_potential=w[:, 0].copy(),
        unit_accounts=np.ones(n),
        owned_potential=empty,
        owned_count=empty.copy(),
        contiguity=contiguity,
        objective_weights=objective_weights
        or {"travel": 1.0, "compactness": 0.0, "disruption": 0.0},
    )


def grid_problem(rows: int, cols: int, **kwargs) -> ProblemData:
    """A rows × cols rook-adjacent grid of unit-weight cells at lon = col·0.1, lat = row·0.1."""
    n = rows * cols
    r, c = np.divmod(np.arange(n), cols)
    xy = np.column_stack([c * 0.1, r * 0.1])
    right = np.flatnonzero(c < cols - 1)
    down = np.flatnonzero(r < rows - 1)
    i = np.concatenate([right, down])
    j = np.concatenate([right + 1, down + cols])
    adj = sp.csr_matrix((np.ones(len(i), bool), (i, j)), shape=(n, n))
    weights = kwargs.pop("weights", np.ones(n))
    return problem_from_arrays(weights, xy, adj, **kwargs)
