"""Connected pieces of territories on a unit graph."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


def territory_pieces(adjacency: sp.csr_matrix, assign: np.ndarray) -> np.ndarray:
    """Label of the connected piece of every unit (pieces never span two territories)."""
    coo = adjacency.tocoo()
    same = assign[coo.row] == assign[coo.col]
    inner = sp.csr_matrix(
        (np.ones(int(same.sum()), dtype=bool), (coo.row[same], coo.col[same])),
        shape=adjacency.shape,
    )
    _, labels = connected_components(inner, directed=False)
    return labels


def pieces_per_territory(adjacency: sp.csr_matrix, assign: np.ndarray, k: int) -> np.ndarray:
    """(k,) number of connected pieces of each territory (0 for an empty one).

    Units without any neighbour (exception units such as a locked account)
    are exempt from contiguity and not counted as pieces.
    """
    labels = territory_pieces(adjacency, assign)
    has_neighbour = np.diff(adjacency.indptr) > 0
    count = np.zeros(k, dtype=int)
    first = np.unique(labels[has_neighbour], return_index=True)[1]
    np.add.at(count, assign[has_neighbour][first], 1)
    return count
