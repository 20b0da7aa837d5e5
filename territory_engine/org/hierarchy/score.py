"""The scorecard of a drawn hierarchy, per level: pure functions of the groups.

``scorecard.json`` gains ``hierarchy: {<level>: level_score(...)}``::

    {"n_groups": 8,
     "balance": {"potential": {"tolerance": 0.1, "max_rel_dev": 0.061, "out_of_band": 0}, ...},
     "contiguity": {"groups_in_pieces": 0, "pieces": [1, 1, ...]},
     "sizes": {"min": 4, "max": 7}}       # members per group (territories, or groups below)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from territory_engine.org.hierarchy.result import LevelResult

__all__ = ["balance_score", "group_pieces", "level_score"]


def group_pieces(adjacency: sp.spmatrix, assign: np.ndarray, n_groups: int) -> np.ndarray:
    """(g,) number of connected pieces of each group in the member graph (0: empty)."""
    adj = sp.csr_matrix(adjacency)
    assign = np.asarray(assign, dtype=int)
    out = np.zeros(n_groups, dtype=int)
    for g in range(n_groups):
        members = np.flatnonzero(assign == g)
        if len(members):
            out[g] = connected_components(adj[members][:, members], directed=False)[0]
    return out


def balance_score(
    loads: np.ndarray,
    fair_share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    measures: Sequence[str],
    tolerances: dict[str, float] | None = None,
) -> dict[str, dict[str, float | int]]:
    """Per measure: the largest relative deviation from the fair share, groups out of band."""
    out: dict[str, dict[str, float | int]] = {}
    for j, measure in enumerate(measures):
        fair = np.asarray(fair_share[:, j], dtype=float)
        dev = np.abs(np.divide(loads[:, j], fair, out=np.ones_like(fair), where=fair > 0) - 1)
        out_band = (loads[:, j] < lower[:, j] * (1 - 1e-9) - 1e-9) | (
            loads[:, j] > upper[:, j] * (1 + 1e-9) + 1e-9
        )
        entry: dict[str, float | int] = {
            "max_rel_dev": round(float(dev.max()) if len(dev) else 0.0, 6),
            "out_of_band": int(out_band.sum()),
        }
        if tolerances and measure in tolerances:
            entry = {"tolerance": float(tolerances[measure]), **entry}
        out[measure] = entry
    return out


def level_score(
    level: LevelResult, measures: Sequence[str], tolerances: dict[str, float] | None = None
) -> dict:
    """The scorecard entry of one level (see the module docstring)."""
    sizes = np.bincount(level.assign, minlength=len(level.group_ids))
    pieces = [int(p) for p in level.pieces]
    return {
        "n_groups": len(level.group_ids),
        "balance": balance_score(
            level.loads, level.fair_share, level.lower, level.upper, measures, tolerances
        ),
        "contiguity": {"groups_in_pieces": sum(p > 1 for p in pieces), "pieces": pieces},
        "sizes": {"min": int(sizes.min()), "max": int(sizes.max())},
        "feasible": bool(level.feasible),
    }
