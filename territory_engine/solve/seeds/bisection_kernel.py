"""Compiled core of :mod:`territory_engine.solve.seeds.bisection`: the best cut over spanning trees.

Imported lazily (it imports numba), only when a large instance is seeded.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _find(parent: np.ndarray, x: int) -> int:
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        nxt = parent[x]
        parent[x] = root
        x = nxt
    return root


@njit(cache=True)
def _spanning_tree(
    rows: np.ndarray, cols: np.ndarray, key: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Kruskal's minimum spanning tree under ``key``: CSR (indptr, indices) of the tree."""
    order = np.argsort(key, kind="mergesort")
    uf = np.arange(n)
    tree_a = np.empty(n - 1, dtype=np.int64)
    tree_b = np.empty(n - 1, dtype=np.int64)
    m = 0
    for e in order:
        a, b = rows[e], cols[e]
        ra, rb = _find(uf, a), _find(uf, b)
        if ra != rb:
            uf[ra] = rb
            tree_a[m] = a
            tree_b[m] = b
            m += 1
            if m == n - 1:
                break
    deg = np.zeros(n + 1, dtype=np.int64)
    for q in range(m):
        deg[tree_a[q] + 1] += 1
        deg[tree_b[q] + 1] += 1
    indptr = np.cumsum(deg)
    fill = indptr[:-1].copy()
    indices = np.empty(2 * m, dtype=np.int64)
    for q in range(m):
        a, b = tree_a[q], tree_b[q]
        indices[fill[a]] = b
        fill[a] += 1
        indices[fill[b]] = a
        fill[b] += 1
    return indptr, indices


@njit(cache=True)
def _bfs(
    indptr: np.ndarray, indices: np.ndarray, root: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    order = np.empty(n, dtype=np.int64)
    pred = np.full(n, -1, dtype=np.int64)
    seen = np.zeros(n, dtype=np.bool_)
    order[0] = root
    seen[root] = True
    head, tail = 0, 1
    while head < tail:
        u = order[head]
        head += 1
        for q in range(indptr[u], indptr[u + 1]):
            v = indices[q]
            if not seen[v]:
                seen[v] = True
                pred[v] = u
                order[tail] = v
                tail += 1
    return order[:tail], pred


@njit(cache=True)
def _subtree_sums(
    order: np.ndarray,
    pred: np.ndarray,
    mass: np.ndarray,
    heavy: np.ndarray,
    cw: np.ndarray,
    pts: np.ndarray,
    acc: np.ndarray,
) -> None:
    """``acc[v]``: the sums over v's subtree of the measures, the units with weight, the
    centroid weight and the weighted coordinates (children before parents, BFS reversed)."""
    n, m = mass.shape
    for i in range(n):
        for j in range(m):
            acc[i, j] = mass[i, j]
        acc[i, m] = heavy[i]
        acc[i, m + 1] = cw[i]
        acc[i, m + 2] = cw[i] * pts[i, 0]
        acc[i, m + 3] = cw[i] * pts[i, 1]
    for q in range(n - 1, 0, -1):
        v = order[q]
        p = pred[v]
        for c in range(m + 4):
            acc[p, c] += acc[v, c]


@njit(cache=True)
def best_tree_cut(
    rows: np.ndarray,
    cols: np.ndarray,
    length: np.ndarray,
    noise: np.ndarray,
    roots: np.ndarray,
    mass: np.ndarray,
    heavy: np.ndarray,
    cw: np.ndarray,
    pts: np.ndarray,
    share_a: float,
    need_a: int,
    need_b: int,
    goal_a: np.ndarray,
    goal_b: np.ndarray,
    spread: float,
    slack: float,
) -> tuple[float, np.ndarray]:
    """The best tree-edge cut of a connected region, scored as in the seed's formulation.

    One spanning tree per row of ``noise`` (edge keys ``length · noise``),
    rooted at ``roots``; every edge (a node and its parent) cuts off the
    node's subtree, which may become half A or half B. Returns the best score
    (``inf`` when no cut leaves each half enough units with weight) and the
    mask of half A.
    """
    n, m = mass.shape
    total = np.zeros(m)
    for i in range(n):
        for j in range(m):
            total[j] += mass[i, j]
    total_heavy = heavy.sum()
    total_cw = cw.sum()
    total_x = (cw * pts[:, 0]).sum()
    total_y = (cw * pts[:, 1]).sum()
    c_cw, c_x, c_y = m + 1, m + 2, m + 3
    best_score = np.inf
    best_t = -1
    best_v = -1
    best_sub_is_a = True
    acc = np.empty((n, m + 4))
    for t in range(noise.shape[0]):
        indptr, indices = _spanning_tree(rows, cols, length * noise[t], n)
        order, pred = _bfs(indptr, indices, roots[t], n)
        if len(order) < n:
            return np.inf, np.zeros(n, dtype=np.bool_)
        _subtree_sums(order, pred, mass, heavy, cw, pts, acc)
        for q in range(1, n):
            v = order[q]
            sub_cw = acc[v, c_cw]
            rest_cw = total_cw - sub_cw
            sx, sy = acc[v, c_x] / sub_cw, acc[v, c_y] / sub_cw
            rx = (total_x - acc[v, c_x]) / max(rest_cw, 1e-300)
            ry = (total_y - acc[v, c_y]) / max(rest_cw, 1e-300)
            for orient in range(2):
                sub_is_a = orient == 0
                share = share_a if sub_is_a else 1.0 - share_a
                need_in = need_a if sub_is_a else need_b
                need_out = need_b if sub_is_a else need_a
                if acc[v, m] < need_in or total_heavy - acc[v, m] < need_out:
                    continue
                ga = goal_a if sub_is_a else goal_b
                gb = goal_b if sub_is_a else goal_a
                excess = 0.0
                for j in range(m):
                    want = share * total[j]
                    if want > 0:
                        excess += max(abs(acc[v, j] / want - 1.0) - slack, 0.0)
                score = (
                    1000.0 * excess
                    + (np.hypot(sx - ga[0], sy - ga[1]) + np.hypot(rx - gb[0], ry - gb[1])) / spread
                )
                if score < best_score:
                    best_score = score
                    best_v = v
                    best_sub_is_a = sub_is_a
                    best_t = t
    inside = np.zeros(n, dtype=np.bool_)
    if best_v < 0:
        return np.inf, inside
    # Rebuild the winning tree (cheaper than copying it at every improvement).
    indptr, indices = _spanning_tree(rows, cols, length * noise[best_t], n)
    best_order, best_pred = _bfs(indptr, indices, roots[best_t], n)
    inside[best_v] = True
    start = 0
    for q in range(n):
        if best_order[q] == best_v:
            start = q
            break
    for q in range(start + 1, n):
        u = best_order[q]
        if inside[best_pred[u]]:
            inside[u] = True
    if not best_sub_is_a:
        inside = ~inside
    return best_score, inside


@njit(cache=True)
def _excess(load_a: np.ndarray, total: np.ndarray, share_a: float, slack: float) -> float:
    """``Σ_j max(0, |A_j / (share·W_j) − 1| − ε) + (the same for B)``: the split's imbalance."""
    e = 0.0
    for j in range(len(total)):
        ta = share_a * total[j]
        tb = total[j] - ta
        if ta > 0:
            e += max(abs(load_a[j] / ta - 1.0) - slack, 0.0)
        if tb > 0:
            e += max(abs((total[j] - load_a[j]) / tb - 1.0) - slack, 0.0)
    return e


@njit(cache=True)
def _connected_without(
    indptr: np.ndarray, indices: np.ndarray, side: np.ndarray, u: int, size: int
) -> bool:
    """Whether ``u``'s side stays connected (and non-empty) without ``u``."""
    if size <= 1:
        return False
    n = len(side)
    mine = side[u]
    start = -1
    for q in range(indptr[u], indptr[u + 1]):
        if side[indices[q]] == mine:
            start = indices[q]
            break
    if start < 0:
        return size == 1
    seen = np.zeros(n, dtype=np.bool_)
    seen[u] = True
    seen[start] = True
    stack = np.empty(n, dtype=np.int64)
    stack[0] = start
    top, count = 1, 1
    while top > 0:
        top -= 1
        x = stack[top]
        for q in range(indptr[x], indptr[x + 1]):
            y = indices[q]
            if not seen[y] and side[y] == mine:
                seen[y] = True
                stack[top] = y
                top += 1
                count += 1
    return count == size - 1


@njit(cache=True)
def refine_split(
    indptr: np.ndarray,
    indices: np.ndarray,
    in_a: np.ndarray,
    mass: np.ndarray,
    share_a: float,
    slack: float,
    max_moves: int,
) -> np.ndarray:
    """Greedy boundary moves between the halves of a cut that lower its imbalance.

    Each step moves the boundary unit whose move lowers :func:`_excess` most
    while its side stays connected; stops when no move helps or after
    ``max_moves``. Returns the refined mask of half A.
    """
    n, m = mass.shape
    side = in_a.copy()
    total = np.zeros(m)
    load_a = np.zeros(m)
    size_a = 0
    for i in range(n):
        for j in range(m):
            total[j] += mass[i, j]
            if side[i]:
                load_a[j] += mass[i, j]
        if side[i]:
            size_a += 1
    trial = np.zeros(m)
    cand_u = np.empty(n, dtype=np.int64)
    cand_e = np.empty(n)
    for _ in range(max_moves):
        cur = _excess(load_a, total, share_a, slack)
        if cur <= 1e-12:
            break
        nc = 0
        for u in range(n):
            heavy = False
            for j in range(m):
                if mass[u, j] > 0:
                    heavy = True
            if not heavy:
                continue
            border = False
            for q in range(indptr[u], indptr[u + 1]):
                if side[indices[q]] != side[u]:
                    border = True
                    break
            if not border:
                continue
            sign = -1.0 if side[u] else 1.0
            for j in range(m):
                trial[j] = load_a[j] + sign * mass[u, j]
            e = _excess(trial, total, share_a, slack)
            if e < cur - 1e-12:
                cand_u[nc] = u
                cand_e[nc] = e
                nc += 1
        if nc == 0:
            break
        order = np.argsort(cand_e[:nc], kind="mergesort")
        moved = False
        for r in range(min(nc, 16)):
            u = cand_u[order[r]]
            size = size_a if side[u] else n - size_a
            if _connected_without(indptr, indices, side, u, size):
                sign = -1.0 if side[u] else 1.0
                for j in range(m):
                    load_a[j] += sign * mass[u, j]
                size_a += -1 if side[u] else 1
                side[u] = not side[u]
                moved = True
                break
        if not moved:
            break
    return side
