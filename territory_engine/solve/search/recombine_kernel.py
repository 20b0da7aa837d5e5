"""Compiled core of :mod:`territory_engine.solve.search.recombine`: recombination steps.

Imported lazily (it imports numba). One call of :func:`recombine_block` runs a
block of recombination steps over arrays; the Python driver checks the deadline
between blocks. Random numbers come from the transcription of CPython's Mersenne
Twister in :mod:`~territory_engine.solve.search.kernels`, so a run depends on its
seed only.

Data layout: the graph as CSR (``indptr``, ``indices``) and as its edge list
(``src < dst``, each edge once); the plan as int64; measures as ``(n, m)``
float64; bands as ``(k, m)`` with the tolerance already applied; per unit its
lock (``-1`` for none) and eligibility group, per part its group.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from territory_engine.solve.search.kernels import A_MT_INDEX, mt_randbelow, mt_random
from territory_engine.solve.seeds.bisection_kernel import _find

# Indices into the integer state array of :func:`recombine_block`
# (``R_MT_INDEX`` is ``A_MT_INDEX``: :func:`mt_next` reads it there).
R_STEPS, R_ACCEPTED, R_CUT, R_MT_INDEX, R_BEST_CUT, R_NO_SPLIT = range(6)
assert R_MT_INDEX == A_MT_INDEX


@njit(cache=True)
def _allowed(unit: int, part: int, locked, unit_group, part_group) -> bool:  # pragma: no cover
    """Whether ``unit`` may belong to ``part`` (its lock and its eligibility group)."""
    if unit_group[unit] != part_group[part]:
        return False
    return locked[unit] < 0 or locked[unit] == part


@njit(cache=True)
def random_tree(ea, eb, ne, size, mt, ist, parent, order, depth):  # pragma: no cover - compiled
    """A random spanning tree of a region: Kruskal's on uniform random edge weights.

    ``ea[:ne], eb[:ne]`` are the region's edges in local ids ``0 .. size-1``.
    Fills ``parent`` (root 0 has ``-1``), ``order`` (a depth-first preorder)
    and ``depth``; returns ``False`` when the region is not connected.
    """
    key = np.empty(ne)
    for e in range(ne):
        key[e] = mt_random(mt, ist)
    uf = np.arange(size)
    deg = np.zeros(size + 1, dtype=np.int64)
    ta = np.empty(max(size - 1, 1), dtype=np.int64)
    tb = np.empty(max(size - 1, 1), dtype=np.int64)
    joined = 0
    for e in np.argsort(key, kind="mergesort"):
        ra, rb = _find(uf, ea[e]), _find(uf, eb[e])
        if ra != rb:
            uf[ra] = rb
            ta[joined], tb[joined] = ea[e], eb[e]
            deg[ea[e] + 1] += 1
            deg[eb[e] + 1] += 1
            joined += 1
            if joined == size - 1:
                break
    if joined < size - 1:
        return False
    ptr = np.cumsum(deg)
    nbr = np.empty(2 * joined, dtype=np.int64)
    fill = ptr[:-1].copy()
    for j in range(joined):
        nbr[fill[ta[j]]] = tb[j]
        fill[ta[j]] += 1
        nbr[fill[tb[j]]] = ta[j]
        fill[tb[j]] += 1
    stack = np.empty(size, dtype=np.int64)
    top = 0
    stack[0] = 0
    parent[0] = -1
    depth[0] = 0
    seen = 0
    while top >= 0:
        x = stack[top]
        top -= 1
        order[seen] = x
        seen += 1
        for q in range(ptr[x + 1] - 1, ptr[x] - 1, -1):
            y = nbr[q]
            if y != parent[x]:
                parent[y] = x
                depth[y] = depth[x] + 1
                top += 1
                stack[top] = y
    return True


@njit(cache=True)
def _subtree_sums(ea, eb, ne, size, parent, order, depth, values):  # pragma: no cover - compiled
    """Per tree node, the sums of ``values`` over its subtree and the region edges
    leaving its subtree (the cut of the split below the node).

    The edges leaving a subtree are those whose tree path passes the edge above
    its root: a +1 at both ends and −2 at their lowest common ancestor, summed
    over subtrees.
    """
    width = values.shape[1]
    below = values[:size].copy()
    diff = np.zeros(size, dtype=np.int64)
    for e in range(ne):
        a, b = ea[e], eb[e]
        diff[a] += 1
        diff[b] += 1
        while depth[a] > depth[b]:
            a = parent[a]
        while depth[b] > depth[a]:
            b = parent[b]
        while a != b:
            a = parent[a]
            b = parent[b]
        diff[a] -= 2
    for i in range(size - 1, 0, -1):
        x = order[i]
        p = parent[x]
        diff[p] += diff[x]
        for j in range(width):
            below[p, j] += below[x, j]
    return below, diff


@njit(cache=True)
def best_tree_split(
    ea, eb, ne, size, parent, order, depth, values, m, lo_s, hi_s, lo_t, hi_t, bound
):  # pragma: no cover - compiled
    """The admissible split of one spanning tree with the fewest region edges between its sides.

    ``values``: (size, m + 2) per local unit, its ``m`` measures, then 1 where it
    may not go to ``s``, then 1 where it may not go to ``t``. Removing the tree edge
    above node ``c`` gives the sides "subtree of ``c``" and the rest; either may go
    to ``s``. A split is admissible when both parts' measures lie in their bands
    and no unit goes where it may not (edges between the sides:
    :func:`_subtree_sums`).

    Returns ``(c, subtree_to_s, between)`` of the best split with ``between <
    bound``, or ``(-1, False, bound)``.
    """
    below, diff = _subtree_sums(ea, eb, ne, size, parent, order, depth, values)
    best_c, best_to_s, best_between = -1, False, bound
    for i in range(1, size):
        c = order[i]
        if diff[c] >= best_between:
            continue
        for to_s in (False, True):
            # side "sub" is c's subtree, side "rest" the others
            ok = True
            for j in range(m):
                sub = below[c, j]
                rest = below[0, j] - sub
                load_s = sub if to_s else rest
                load_t = rest if to_s else sub
                if load_s < lo_s[j] or load_s > hi_s[j] or load_t < lo_t[j] or load_t > hi_t[j]:
                    ok = False
                    break
            if not ok:
                continue
            sub_bad_s, sub_bad_t = below[c, m], below[c, m + 1]
            rest_bad_s, rest_bad_t = below[0, m] - sub_bad_s, below[0, m + 1] - sub_bad_t
            if to_s and (sub_bad_s > 0 or rest_bad_t > 0):
                continue
            if not to_s and (sub_bad_t > 0 or rest_bad_s > 0):
                continue
            best_c, best_to_s, best_between = c, to_s, diff[c]
    return best_c, best_to_s, best_between


@njit(cache=True)
def _mark_subtree(c, size, parent, order, out):  # pragma: no cover - compiled
    """``out[x]`` true for the local units of ``c``'s subtree (preorder: a contiguous run)."""
    out[:size] = False
    start = 0
    while order[start] != c:
        start += 1
    out[c] = True
    for i in range(start + 1, size):
        x = order[i]
        if not out[parent[x]]:
            break
        out[x] = True


@njit(cache=True)
def _fits(load, lo, hi, m):  # pragma: no cover - compiled
    """Whether every measure of ``load`` lies in ``[lo, hi]``."""
    for j in range(m):
        if load[j] < lo[j] or load[j] > hi[j]:
            return False
    return True


@njit(cache=True)
def _first_cut(below, diff, order, size, m, parts, lower, upper, bound):  # pragma: no cover
    """The tree edge that cuts one part's piece off a three-part region with fewest edges.

    A piece (a subtree, or the rest) may go to part ``parts[p]`` when its
    measures fit that part's band, none of its units may not go there (flag
    column ``m + p`` of ``below``), and what is left fits between the sums of
    the two other parts' bands. Returns ``(c, piece_is_subtree, p)`` with
    ``diff[c] < bound``, or ``c = -1``.
    """
    piece = np.empty(m)
    rest = np.empty(m)
    # The sums of the two other parts' bands depend on p only.
    lo2 = np.empty((3, m))
    hi2 = np.empty((3, m))
    for p in range(3):
        q, r = parts[(p + 1) % 3], parts[(p + 2) % 3]
        for j in range(m):
            lo2[p, j] = lower[q, j] + lower[r, j]
            hi2[p, j] = upper[q, j] + upper[r, j]
    best_c, best_sub, best_p, best_d = -1, False, -1, bound
    for i in range(1, size):
        c = order[i]
        if diff[c] >= best_d:
            continue
        for is_sub in (True, False):
            for j in range(m):
                piece[j] = below[c, j] if is_sub else below[0, j] - below[c, j]
                rest[j] = below[0, j] - piece[j]
            for p in range(3):
                flag = below[c, m + p] if is_sub else below[0, m + p] - below[c, m + p]
                if flag > 0 or not _fits(piece, lower[parts[p]], upper[parts[p]], m):
                    continue
                if _fits(rest, lo2[p], hi2[p], m):
                    best_c, best_sub, best_p, best_d = c, is_sub, p, diff[c]
    return best_c, best_sub, best_p


@njit(cache=True)
def _gather(
    plan,
    parts,
    n_parts,
    indptr,
    indices,
    weights,
    locked,
    unit_group,
    part_group,
    local,
    region,
    ea,
    eb,
    values,
):  # pragma: no cover - compiled
    """Collect the region of ``parts[:n_parts]`` in local ids: its units, edges and values.

    Fills ``region`` (local -> unit), ``local`` (unit -> local; the caller resets
    it to −1), the region's edges ``ea, eb`` and ``values``: the measures, then
    per part ``p`` a column that is 1 where the unit may not go to ``parts[p]``.
    Returns ``(size, edges, edges between different parts now)``.
    """
    m = weights.shape[1]
    size = 0
    for x in range(len(plan)):
        for p in range(n_parts):
            if plan[x] == parts[p]:
                local[x] = size
                region[size] = x
                size += 1
                break
    ne = 0
    now = 0
    for lx in range(size):
        x = region[lx]
        for q in range(indptr[x], indptr[x + 1]):
            y = indices[q]
            ly = local[y]
            if ly > lx:
                ea[ne], eb[ne] = lx, ly
                ne += 1
                if plan[x] != plan[y]:
                    now += 1
        for j in range(m):
            values[lx, j] = weights[x, j]
        for p in range(n_parts):
            ok = _allowed(x, parts[p], locked, unit_group, part_group)
            values[lx, m + p] = 0.0 if ok else 1.0
    return size, ne, now


@njit(cache=True)
def _third_part(plan, s, t, indptr, indices, mt, ist, scratch):  # pragma: no cover - compiled
    """A part across a uniformly drawn edge leaving ``s ∪ t``, or −1 when none does."""
    n_out = 0
    for x in range(len(plan)):
        if plan[x] == s or plan[x] == t:
            for q in range(indptr[x], indptr[x + 1]):
                y = plan[indices[q]]
                if y != s and y != t:
                    scratch[n_out] = y
                    n_out += 1
    if n_out == 0:
        return -1
    return scratch[mt_randbelow(mt, ist, n_out)]


@njit(cache=True)
def _split_pair(
    ea,
    eb,
    ne,
    size,
    values,
    m,
    lo_s,
    hi_s,
    lo_t,
    hi_t,
    s,
    t,
    bound,
    trees,
    mt,
    ist,
    parent,
    order,
    depth,
    side,
    chosen,
):  # pragma: no cover - compiled
    """Best balanced split of a region between ``s`` and ``t`` over ``trees`` random trees.

    Writes the part of every local unit to ``chosen`` and returns the edges
    between the sides, or returns ``bound`` (``chosen`` untouched) when no
    admissible split has fewer.
    """
    for _tree in range(trees):
        if not random_tree(ea, eb, ne, size, mt, ist, parent, order, depth):
            break
        c, to_s, between = best_tree_split(
            ea, eb, ne, size, parent, order, depth, values, m, lo_s, hi_s, lo_t, hi_t, bound
        )
        if c >= 0:
            bound = between
            _mark_subtree(c, size, parent, order, side)
            for lx in range(size):
                chosen[lx] = s if side[lx] == to_s else t
    return bound


@njit(cache=True)
def _split_three(
    ea,
    eb,
    ne,
    size,
    values,
    m,
    parts,
    lower,
    upper,
    bound,
    trees,
    mt,
    ist,
    parent,
    order,
    depth,
    side,
    cand,
    chosen,
    sub_edges_a,
    sub_edges_b,
    local2,
    rest_units,
    values2,
    parent2,
    order2,
    depth2,
):  # pragma: no cover - compiled
    """Best split of a region among ``parts[:3]``: a piece cut off, the rest split in two.

    For each of ``trees`` random trees: the piece of :func:`_first_cut`, then
    :func:`_split_pair` of the rest (a connected subtree complement) between
    the two other parts. Writes ``chosen`` and returns the edges between the
    three parts, or returns ``bound`` when nothing beats it.
    """
    for _tree in range(trees):
        if not random_tree(ea, eb, ne, size, mt, ist, parent, order, depth):
            break
        below, diff = _subtree_sums(ea, eb, ne, size, parent, order, depth, values)
        c, is_sub, p = _first_cut(below, diff, order, size, m, parts, lower, upper, bound)
        if c < 0:
            continue
        _mark_subtree(c, size, parent, order, side)
        q, r = parts[(p + 1) % 3], parts[(p + 2) % 3]
        rest_n = 0
        for lx in range(size):
            if side[lx] == is_sub:
                cand[lx] = parts[p]
                local2[lx] = -1
            else:
                local2[lx] = rest_n
                rest_units[rest_n] = lx
                rest_n += 1
        ne2 = 0
        for e in range(ne):
            a2, b2 = local2[ea[e]], local2[eb[e]]
            if a2 >= 0 and b2 >= 0:
                sub_edges_a[ne2], sub_edges_b[ne2] = a2, b2
                ne2 += 1
        for l2 in range(rest_n):
            lx = rest_units[l2]
            for j in range(m):
                values2[l2, j] = values[lx, j]
            values2[l2, m] = values[lx, m + (p + 1) % 3]
            values2[l2, m + 1] = values[lx, m + (p + 2) % 3]
        pair = np.empty(rest_n, dtype=np.int64)
        inner = _split_pair(
            sub_edges_a, sub_edges_b, ne2, rest_n, values2, m, lower[q], upper[q],
            lower[r], upper[r], q, r, bound - diff[c], trees, mt, ist, parent2, order2,
            depth2, side[size:], pair,
        )  # fmt: skip
        if inner < bound - diff[c]:
            for l2 in range(rest_n):
                cand[rest_units[l2]] = pair[l2]
            bound = diff[c] + inner
            chosen[:size] = cand[:size]
    return bound


@njit(cache=True)
def recombine_block(
    indptr,
    indices,
    src,
    dst,
    plan,
    best,
    weights,
    lower,
    upper,
    locked,
    unit_group,
    part_group,
    mt,
    ist,
    steps,
    trees,
    temperature,
    n_parts,
):  # pragma: no cover - compiled
    """Run ``steps`` recombination steps on ``plan`` in place; ``best`` keeps the least cut.

    One step draws a cut edge uniformly (rejection over the edge list) and merges
    its two parts ``s, t`` (with ``n_parts = 3`` also a part ``u`` across a random
    edge leaving them, :func:`_third_part`). It takes the best admissible split
    over ``trees`` random spanning trees (:func:`_split_pair` or
    :func:`_split_three`) and accepts it when the cut does not grow or, at
    ``temperature > 0``, by Metropolis. ``ist`` holds the counters (``R_*``):
    steps, accepted, current and best cut, the Twister's index, steps without
    an admissible split. Returns the steps run (fewer when no edge is cut).
    """
    n = len(plan)
    m = weights.shape[1]
    n_edges = len(src)
    local = np.full(n, -1, dtype=np.int64)
    region = np.empty(n, dtype=np.int64)
    parent = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    depth = np.empty(n, dtype=np.int64)
    parent2 = np.empty(n, dtype=np.int64)
    order2 = np.empty(n, dtype=np.int64)
    depth2 = np.empty(n, dtype=np.int64)
    cand = np.empty(n, dtype=np.int64)
    chosen = np.empty(n, dtype=np.int64)
    rest_units = np.empty(n, dtype=np.int64)
    local2 = np.empty(n, dtype=np.int64)
    ea = np.empty(len(indices), dtype=np.int64)
    eb = np.empty(len(indices), dtype=np.int64)
    ea2 = np.empty(len(indices), dtype=np.int64)
    eb2 = np.empty(len(indices), dtype=np.int64)
    scratch = np.empty(len(indices), dtype=np.int64)
    values = np.empty((n, m + 3))
    values2 = np.empty((n, m + 2))
    side = np.empty(2 * n, dtype=np.bool_)
    parts = np.empty(3, dtype=np.int64)
    done = 0
    for _ in range(steps):
        if ist[R_CUT] == 0:
            break
        done += 1
        ist[R_STEPS] += 1
        e = mt_randbelow(mt, ist, n_edges)
        while plan[src[e]] == plan[dst[e]]:
            e = mt_randbelow(mt, ist, n_edges)
        parts[0], parts[1] = plan[src[e]], plan[dst[e]]
        if n_parts == 3:
            parts[2] = _third_part(plan, parts[0], parts[1], indptr, indices, mt, ist, scratch)
            if parts[2] < 0:
                ist[R_NO_SPLIT] += 1
                continue
        size, ne, now = _gather(
            plan, parts, n_parts, indptr, indices, weights, locked, unit_group, part_group,
            local, region, ea, eb, values,
        )  # fmt: skip
        s, t = parts[0], parts[1]
        if n_parts == 3:
            total = _split_three(
                ea, eb, ne, size, values, m, parts, lower, upper, ne + 1, trees, mt, ist,
                parent, order, depth, side, cand, chosen, ea2, eb2, local2, rest_units,
                values2, parent2, order2, depth2,
            )  # fmt: skip
        else:
            total = _split_pair(
                ea, eb, ne, size, values[:, : m + 2], m, lower[s], upper[s], lower[t],
                upper[t], s, t, ne + 1, trees, mt, ist, parent, order, depth, side, chosen,
            )  # fmt: skip
        if total > ne:
            ist[R_NO_SPLIT] += 1
        else:
            delta = total - now
            accept = delta <= 0
            if not accept and temperature > 0:
                accept = mt_random(mt, ist) < math.exp(-delta / temperature)
            if accept:
                for lx in range(size):
                    plan[region[lx]] = chosen[lx]
                ist[R_CUT] += delta
                ist[R_ACCEPTED] += 1
                if ist[R_CUT] < ist[R_BEST_CUT]:
                    ist[R_BEST_CUT] = ist[R_CUT]
                    best[:] = plan
        for lx in range(size):
            local[region[lx]] = -1
    return done
