"""The chunk connectivity test of the local search against a full breadth-first search."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from scipy.spatial import Delaunay

from territory_engine.solve.search.local import stays_connected_without_chunk


def _delaunay_nbrs(n: int, rng: np.random.Generator) -> list[list[int]]:
    """Neighbour lists of the Delaunay triangulation of ``n`` random points."""
    tri = Delaunay(rng.random((n, 2)))
    nbrs: list[set[int]] = [set() for _ in range(n)]
    for a, b, c in tri.simplices.tolist():
        nbrs[a] |= {b, c}
        nbrs[b] |= {a, c}
        nbrs[c] |= {a, b}
    return [sorted(s) for s in nbrs]


def _grow(nbrs: list[list[int]], start: int, size: int, allowed: set[int]) -> set[int]:
    """A connected set of up to ``size`` units of ``allowed`` grown from ``start``."""
    out, queue = {start}, deque([start])
    while queue and len(out) < size:
        u = queue.popleft()
        for v in nbrs[u]:
            if v in allowed and v not in out and len(out) < size:
                out.add(v)
                queue.append(v)
    return out


def _connected(nbrs: list[list[int]], units: set[int]) -> bool:
    start = min(units)
    seen, queue = {start}, deque([start])
    while queue:
        for v in nbrs[queue.popleft()]:
            if v in units and v not in seen:
                seen.add(v)
                queue.append(v)
    return len(seen) == len(units)


@pytest.mark.parametrize("seed", range(6))
def test_chunk_test_agrees_with_a_full_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    nbrs = _delaunay_nbrs(n, rng)
    territory = _grow(nbrs, int(rng.integers(n)), 150, set(range(n)))
    assign = [0 if i in territory else 1 for i in range(n)]
    members = sorted(territory)
    outcomes = set()
    for _ in range(300):
        start = members[int(rng.integers(len(members)))]
        chunk = _grow(nbrs, start, int(rng.integers(1, 25)), territory)
        rest = territory - chunk
        if not rest:
            continue
        expected = _connected(nbrs, rest)
        assert stays_connected_without_chunk(nbrs, assign, chunk) == expected, sorted(chunk)
        outcomes.add(expected)
    # The instances hold both answers, so the test can fail either way.
    assert outcomes == {True, False}
