"""Compiled (numba) hot loops: the descent pass of the local search and the annealing moves.

Imported lazily by :mod:`territory_engine.solve.search.local` and
:mod:`territory_engine.solve.search.anneal` (importing numba costs about half a
second, which the CLI's ``--help`` must not pay). Every function here is a
transcription of a pure-Python reference kept in those modules, float
operation for float operation, so that both give the same plans; the tests in
``tests/solve/test_kernels.py`` hold them equal.

Data layout: adjacency, candidates, owned potential and closeness as CSR
arrays (``ptr``, ``idx``, values), loads and weights as ``(rows, m)``
float64 arrays, assignments as int64. Distances are computed in the kernel
with the reference's formula; for the planar case through a transcription
of CPython's ``math.hypot`` (:func:`py_hypot`), since the C library's
``hypot`` differs from it in the last bit now and then.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

EPS = 1e-9
"""The same tolerance as :data:`territory_engine.solve.search.local.EPS`."""

BLOCK = 4096
"""Units of a descent pass per :func:`descent_block` call (the deadline is checked between)."""

# Indices into the parameter arrays of :func:`descent_block`.
P_WT, P_WC, P_WD, P_CAP, P_CAP_SCALE, P_LAM, P_POWER, P_TWO = range(8)
F_CONTIGUITY, F_HAS_CAP, F_LEX, F_PLANAR = range(4)

# Indices into the integer and float state arrays of :func:`anneal_block`.
A_MOVES, A_NCUT, A_ACCEPTED, A_MT_INDEX, A_BEST_CUT, A_HAS_BEST, A_LEAST_CUT = range(7)
A_TEMP, A_TOTAL_VIOL, A_LEAST_VIOL, A_PENALTY = range(4)
NO_BEST_CUT = 1 << 62


# -- local search -------------------------------------------------------------------------
@njit(cache=True)
def _viol_shift(lo, hi, tau, loads, t, w, i, sign):  # pragma: no cover - compiled
    """``_viol(t, loads[t] + sign * w[i])`` (``sign = 0``: the loads as they are)."""
    v = 0.0
    for j in range(loads.shape[1]):
        if sign > 0:
            x = loads[t, j] + w[i, j]
        elif sign < 0:
            x = loads[t, j] - w[i, j]
        else:
            x = loads[t, j]
        if x < lo[t, j]:
            v += (lo[t, j] - x) / tau[t, j]
        elif x > hi[t, j]:
            v += (x - hi[t, j]) / tau[t, j]
    return v


@njit(cache=True)
def _get(ptr, idx, val, i, t):  # pragma: no cover - compiled
    """``dict.get(t, 0.0)`` of row ``i`` of a CSR map (last entry wins, as in a dict)."""
    out = 0.0
    for e in range(ptr[i], ptr[i + 1]):
        if idx[e] == t:
            out = val[e]
    return out


@njit(cache=True)
def _cap_viol(moved, cap, cap_scale):  # pragma: no cover - compiled
    if moved <= cap:
        return 0.0
    return (moved - cap) / cap_scale


_T27 = 134217729.0  # 2**27 + 1: Veltkamp-Dekker splitting


@njit(cache=True)
def py_hypot(x, y):  # pragma: no cover - compiled
    """CPython 3.11's ``math.hypot(x, y)`` (``vector_norm`` in Modules/mathmodule.c), verbatim.

    The C library's ``hypot`` (numba's ``math.hypot``) differs from it in the
    last bit for about one pair in 200; this transcription of the same float
    operations gives the same double as the interpreter (tested).
    """
    x = abs(x)
    y = abs(y)
    mx = 0.0
    if x > mx:
        mx = x
    if y > mx:
        mx = y
    if math.isinf(mx):
        return mx
    if math.isnan(x) or math.isnan(y):
        return math.nan
    if mx == 0.0:
        return mx
    _, e = math.frexp(mx)
    csum = 1.0
    frac1 = 0.0
    if e < -1023:  # ldexp(1.0, -e) would overflow: divide by the largest
        for v in (x, y):
            v = v / mx
            v = v * v
            old = csum
            csum += v
            frac1 += (old - csum) + v
        return mx * math.sqrt(csum - 1.0 + frac1)
    scale = math.ldexp(1.0, -e)
    frac2 = 0.0
    frac3 = 0.0
    for v in (x, y):
        v = v * scale
        t = v * _T27
        hi = t - (t - v)
        lo = v - hi
        q = hi * hi
        old = csum
        csum += q
        frac1 += (old - csum) + q
        q = 2.0 * hi * lo
        old = csum
        csum += q
        frac2 += (old - csum) + q
        frac3 += lo * lo
    h = math.sqrt(csum - 1.0 + (frac1 + frac2 + frac3))
    t = h * _T27
    hi = t - (t - h)
    lo = h - hi
    q = -hi * hi
    old = csum
    csum += q
    frac1 += (old - csum) + q
    q = -2.0 * hi * lo
    old = csum
    csum += q
    frac2 += (old - csum) + q
    q = -lo * lo
    old = csum
    csum += q
    frac3 += (old - csum) + q
    q = csum - 1.0 + (frac1 + frac2 + frac3)
    return (h + q / (2.0 * h)) / scale


@njit(cache=True)
def travel_dist(xy, z, i, t, planar, power, two):  # pragma: no cover - compiled
    """:meth:`LocalSearch._dist_uncached`: ``d(i, z_t) ** power``, the same float operations.

    ``two`` is 2.0 passed at run time, so that ``x ** 2`` stays a call of the
    C library's ``pow`` as in the interpreter (a literal exponent would let
    the compiler turn it into ``x * x``, not always the same double).
    """
    if planar:
        d = py_hypot(xy[i, 0] - z[t, 0], xy[i, 1] - z[t, 1])
        return d if power == 1.0 else math.pow(d, power)
    lon1 = xy[i, 0]
    lat1 = xy[i, 1]
    lon2 = z[t, 0]
    lat2 = z[t, 1]
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.pow(math.sin(dp / 2), two) + math.cos(p1) * math.cos(p2) * math.pow(
        math.sin(dl / 2), two
    )
    d = 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))
    return d if power == 1.0 else math.pow(d, power)


@njit(cache=True)
def cached_dist(dist_ter, dist_val, xy, z, i, t, planar, power, two):  # pragma: no cover
    """:func:`travel_dist` memoised in unit ``i``'s row of a small slot table.

    ``dist_ter`` (n, S) holds the territories whose distance is stored in
    ``dist_val`` (-1: free). A miss computes the distance and stores it in
    the first free slot, or, when the row is full, in slot ``t mod S``; the
    value is the same either way, the table only saves the trigonometry.
    """
    width = dist_ter.shape[1]
    for q in range(width):
        u = dist_ter[i, q]
        if u == t:
            return dist_val[i, q]
        if u < 0:
            d = travel_dist(xy, z, i, t, planar, power, two)
            dist_ter[i, q] = t
            dist_val[i, q] = d
            return d
    d = travel_dist(xy, z, i, t, planar, power, two)
    q = t % width
    dist_ter[i, q] = t
    dist_val[i, q] = d
    return d


@njit(cache=True)
def travel_dists(xy, z, units, terrs, planar, power, two):  # pragma: no cover - compiled
    """:func:`travel_dist` for pairs ``(units[q], terrs[q])`` (for the tests)."""
    out = np.empty(units.shape[0])
    for q in range(units.shape[0]):
        out[q] = travel_dist(xy, z, units[q], terrs[q], planar, power, two)
    return out


@njit(cache=True)
def stays_connected(indptr, indices, assign, i, seen, todo, stamps, queue):  # pragma: no cover
    """:func:`~territory_engine.solve.search.local.stays_connected_without`, over CSR.

    ``seen`` and ``todo`` are (n,) int64 marks compared with ``stamps[0]`` and
    ``stamps[1]`` (raised here, so they need no clearing); ``queue`` is (n,) scratch.
    """
    s = assign[i]
    first = -1
    n_same = 0
    stamps[1] += 1
    tmark = stamps[1]
    n_todo = 0
    for e in range(indptr[i], indptr[i + 1]):
        j = indices[e]
        if assign[j] == s:
            n_same += 1
            if first < 0:
                first = j
            elif todo[j] != tmark:
                todo[j] = tmark
                n_todo += 1
    if n_same <= 1:
        return True
    stamps[0] += 1
    smark = stamps[0]
    seen[i] = smark
    seen[first] = smark
    head = 0
    tail = 0
    queue[tail] = first
    tail += 1
    while head < tail:
        u = queue[head]
        head += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if seen[v] != smark and assign[v] == s:
                if todo[v] == tmark:
                    todo[v] = 0
                    n_todo -= 1
                    if n_todo == 0:
                        return True
                seen[v] = smark
                queue[tail] = v
                tail += 1
    return False


@njit(cache=True)
def movable_mask(indptr, indices, assign):  # pragma: no cover - compiled
    """(n,) True for units touching another territory or without neighbours."""
    n = indptr.shape[0] - 1
    out = np.zeros(n, np.bool_)
    for i in range(n):
        if indptr[i + 1] == indptr[i]:
            out[i] = True
            continue
        a = assign[i]
        for e in range(indptr[i], indptr[i + 1]):
            if assign[indices[e]] != a:
                out[i] = True
                break
    return out


@njit(cache=True)
def _gather_targets(  # pragma: no cover - compiled
    i, s, assign, indptr, indices, cand_ptr, cand_idx, contiguity, mark_k, targ, stamps
):
    """``targ[:nt]``: the territories unit ``i`` (in ``s``) may join, sorted; returns ``nt``.

    The territories of its neighbours, plus its candidates without contiguity
    or without neighbours, without ``s`` (:meth:`LocalSearch.targets`).
    """
    stamps[2] += 1
    km = stamps[2]
    mark_k[s] = km
    nt = 0
    for e in range(indptr[i], indptr[i + 1]):
        a = assign[indices[e]]
        if mark_k[a] != km:
            mark_k[a] = km
            targ[nt] = a
            nt += 1
    if not contiguity or indptr[i + 1] == indptr[i]:
        for e in range(cand_ptr[i], cand_ptr[i + 1]):
            a = cand_idx[e]
            if mark_k[a] != km:
                mark_k[a] = km
                targ[nt] = a
                nt += 1
    for x in range(1, nt):
        v = targ[x]
        y = x - 1
        while y >= 0 and targ[y] > v:
            targ[y + 1] = targ[y]
            y -= 1
        targ[y + 1] = v
    return nt


@njit(cache=True)
def _apply_move(i, s, t, w, lo, hi, tau, loads, viol_t, size, tver, assign):  # pragma: no cover
    """:meth:`LocalSearch.apply` of unit ``i`` from ``s`` to ``t`` on the arrays (not ``moved``)."""
    for j in range(loads.shape[1]):
        loads[s, j] = loads[s, j] - w[i, j]
        loads[t, j] = loads[t, j] + w[i, j]
    viol_t[s] = _viol_shift(lo, hi, tau, loads, s, w, i, 0)
    viol_t[t] = _viol_shift(lo, hi, tau, loads, t, w, i, 0)
    size[s] -= 1
    size[t] += 1
    tver[s] += 1
    tver[t] += 1
    assign[i] = t


@njit(cache=True)
def _may_leave(  # pragma: no cover - compiled
    i, s, indptr, indices, assign, size, tver, fail_t, fail_v, seen, todo, stamps, queue
):
    """:meth:`LocalSearch.can_leave`, with failed tests remembered per unit (``fail_t/v``)."""
    if size[s] <= 1:
        return False
    if fail_t[i] == s and fail_v[i] == tver[s]:
        return False
    if not stays_connected(indptr, indices, assign, i, seen, todo, stamps, queue):
        fail_t[i] = s
        fail_v[i] = tver[s]
        return False
    return True


@njit(cache=True)
def descent_block(  # pragma: no cover - compiled
    order,
    start,
    stop,
    indptr,
    indices,
    cand_ptr,
    cand_idx,
    locked,
    w,
    lo,
    hi,
    tau,
    own_ptr,
    own_idx,
    own_val,
    cl_ptr,
    cl_idx,
    cl_val,
    tw,
    xy,
    z,
    dist_ter,
    dist_val,
    params,
    flags,
    assign,
    loads,
    viol_t,
    size,
    moved_box,
    log_i,
    log_s,
    log_t,
    mark_k,
    targ,
    seen,
    todo,
    stamps,
    queue,
    tver,
    fail_t,
    fail_v,
):
    """Units ``order[start:stop]`` of :meth:`LocalSearch.single_pass`, moves applied in place.

    The same scan, targets (sorted), ``delta``, choice (``_best_single``, with
    ``lam`` in ``params`` and ``flags[F_LEX]`` for ``lam = inf``) and
    contiguity test as the reference (distances memoised in ``dist_ter`` /
    ``dist_val``, see :func:`cached_dist`). Each applied move updates ``assign``,
    ``loads``, ``viol_t``, ``size`` and ``moved_box[0]`` as ``apply`` does and
    is logged in ``log_i/log_s/log_t`` (unit, from, to).

    Contiguity tests that fail are remembered: ``tver[t]`` counts the changes
    of territory ``t``'s unit set (the caller raises it for moves made
    outside the kernel), and unit ``i`` whose test failed in territory
    ``fail_t[i]`` at version ``fail_v[i]`` fails again without a search while
    that set is unchanged (the search reads nothing else).

    Returns the number of moves logged.
    """
    wT = params[P_WT]
    wC = params[P_WC]
    wD = params[P_WD]
    cap = params[P_CAP]
    cap_scale = params[P_CAP_SCALE]
    lam = params[P_LAM]
    power = params[P_POWER]
    two = params[P_TWO]
    planar = flags[F_PLANAR] != 0
    contiguity = flags[F_CONTIGUITY] != 0
    has_cap = flags[F_HAS_CAP] != 0
    lex = flags[F_LEX] != 0
    n_log = 0
    for p in range(start, stop):
        i = order[p]
        if locked[i] >= 0:
            continue
        s = assign[i]
        nt = _gather_targets(
            i, s, assign, indptr, indices, cand_ptr, cand_idx, contiguity, mark_k, targ, stamps
        )
        if nt == 0:
            continue
        ds = 0.0
        if wT != 0.0:
            ds = cached_dist(dist_ter, dist_val, xy, z, i, s, planar, power, two)
        vs = _viol_shift(lo, hi, tau, loads, s, w, i, -1)
        ns = 0
        for e in range(indptr[i], indptr[i + 1]):
            if assign[indices[e]] == s:
                ns += 1
        own_s = _get(own_ptr, own_idx, own_val, i, s)
        cl_s = _get(cl_ptr, cl_idx, cl_val, i, s)
        has_close = cl_ptr[i + 1] > cl_ptr[i]
        moved = moved_box[0]
        best_t = -1
        best_dv = 0.0
        best_df = 0.0
        best_score = -EPS
        for x in range(nt):
            t = targ[x]
            dv = vs + _viol_shift(lo, hi, tau, loads, t, w, i, 1) - viol_t[s] - viol_t[t]
            dm = own_s - _get(own_ptr, own_idx, own_val, i, t)
            if has_cap:
                dv += _cap_viol(moved + dm, cap, cap_scale) - _cap_viol(moved, cap, cap_scale)
            df = 0.0
            if wT != 0.0:
                dt = cached_dist(dist_ter, dist_val, xy, z, i, t, planar, power, two)
                df += wT * tw[i] * (dt - ds)
            if wC != 0.0:
                ntt = 0
                for e in range(indptr[i], indptr[i + 1]):
                    if assign[indices[e]] == t:
                        ntt += 1
                df += wC * (ns - ntt)
            if wD != 0.0:
                df += wD * dm
            if has_close:
                df += cl_s - _get(cl_ptr, cl_idx, cl_val, i, t)
            if dv > EPS:
                continue
            if lex:
                if dv < best_dv - EPS or (dv <= best_dv + EPS and df < best_df - EPS):
                    best_t, best_dv, best_df = t, dv, df
            else:
                score = lam * min(dv, 0.0) + df
                if score < best_score:
                    best_t, best_dv, best_df, best_score = t, dv, df, score
        if best_t < 0:
            continue
        if contiguity and not _may_leave(
            i, s, indptr, indices, assign, size, tver, fail_t, fail_v, seen, todo, stamps, queue
        ):
            continue
        _apply_move(i, s, best_t, w, lo, hi, tau, loads, viol_t, size, tver, assign)
        moved_box[0] = moved + (own_s - _get(own_ptr, own_idx, own_val, i, best_t))
        log_i[n_log], log_s[n_log], log_t[n_log] = i, s, best_t
        n_log += 1
    return n_log


@njit(cache=True)
def move_delta(  # pragma: no cover - compiled
    i,
    t,
    indptr,
    indices,
    w,
    lo,
    hi,
    tau,
    own_ptr,
    own_idx,
    own_val,
    cl_ptr,
    cl_idx,
    cl_val,
    tw,
    xy,
    z,
    params,
    flags,
    assign,
    loads,
    viol_t,
    moved,
):
    """``(ΔV, Δf)`` of moving unit ``i`` to ``t``: the kernel's :meth:`LocalSearch.delta`.

    The same arithmetic as the evaluation inside :func:`descent_block` (kept
    for the tests).
    """
    s = assign[i]
    wT = params[P_WT]
    dv = (
        _viol_shift(lo, hi, tau, loads, s, w, i, -1)
        + _viol_shift(lo, hi, tau, loads, t, w, i, 1)
        - viol_t[s]
        - viol_t[t]
    )
    dm = _get(own_ptr, own_idx, own_val, i, s) - _get(own_ptr, own_idx, own_val, i, t)
    if flags[F_HAS_CAP] != 0:
        cap, cap_scale = params[P_CAP], params[P_CAP_SCALE]
        dv += _cap_viol(moved + dm, cap, cap_scale) - _cap_viol(moved, cap, cap_scale)
    df = 0.0
    if wT != 0.0:
        planar, power, two = flags[F_PLANAR] != 0, params[P_POWER], params[P_TWO]
        dt = travel_dist(xy, z, i, t, planar, power, two)
        df += wT * tw[i] * (dt - travel_dist(xy, z, i, s, planar, power, two))
    if params[P_WC] != 0.0:
        ns = 0
        ntt = 0
        for e in range(indptr[i], indptr[i + 1]):
            a = assign[indices[e]]
            if a == s:
                ns += 1
            elif a == t:
                ntt += 1
        df += params[P_WC] * (ns - ntt)
    if params[P_WD] != 0.0:
        df += params[P_WD] * dm
    if cl_ptr[i + 1] > cl_ptr[i]:
        df += _get(cl_ptr, cl_idx, cl_val, i, s) - _get(cl_ptr, cl_idx, cl_val, i, t)
    return dv, df


# -- annealing ----------------------------------------------------------------------------
@njit(cache=True)
def mt_next(mt, ist):  # pragma: no cover - compiled
    """Next 32-bit output of CPython's Mersenne Twister (``genrand_uint32``).

    ``mt``: (624,) int64 words of ``random.Random.getstate()[1][:624]``;
    ``ist[A_MT_INDEX]``: its position (``getstate()[1][624]``).
    """
    idx = ist[A_MT_INDEX]
    if idx >= 624:
        for kk in range(624):
            y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % 624] & 0x7FFFFFFF)
            z = mt[(kk + 397) % 624] ^ (y >> 1)
            if y & 1:
                z ^= 0x9908B0DF
            mt[kk] = z
        idx = 0
    y = mt[idx]
    ist[A_MT_INDEX] = idx + 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y & 0xFFFFFFFF


@njit(cache=True)
def mt_random(mt, ist):  # pragma: no cover - compiled
    """``random.Random.random()``: 53 bits from two outputs."""
    a = mt_next(mt, ist) >> 5
    b = mt_next(mt, ist) >> 6
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def mt_randbelow(mt, ist, n):  # pragma: no cover - compiled
    """``random.Random.randrange(n)`` (``_randbelow_with_getrandbits``), ``0 < n < 2**32``."""
    k = 0
    x = n
    while x:
        k += 1
        x >>= 1
    r = mt_next(mt, ist) >> (32 - k)
    while r >= n:
        r = mt_next(mt, ist) >> (32 - k)
    return r


@njit(cache=True)
def _excess(load, lo, hi, t, w, u, sign):  # pragma: no cover - compiled
    """``viol(t, w[u], sign)`` of :func:`territory_engine.solve.search.anneal._band_excess`."""
    total = 0.0
    for j in range(load.shape[1]):
        if sign == 0:
            p = load[t, j] + 0.0
        else:
            p = load[t, j] + sign * w[u, j]
        if p < lo[t, j]:
            total += lo[t, j] - p
        elif p > hi[t, j]:
            total += p - hi[t, j]
    return total


@njit(cache=True)
def _update_cut_list(  # pragma: no cover - compiled
    u, s, t, part, indptr, indices, entry_edge, cut_pos, cut_list, n_cut
):
    """After ``u`` moved from ``s`` to ``t``: its edges into ``t`` leave the cut list, its
    edges into ``s`` join it (swap-with-last removal); returns the new ``n_cut``."""
    for q in range(indptr[u], indptr[u + 1]):
        x = indices[q]
        ed = entry_edge[q]
        if part[x] == t:
            pos = cut_pos[ed]
            cut_pos[ed] = -1
            n_cut -= 1
            last = cut_list[n_cut]
            if pos < n_cut:
                cut_list[pos] = last
                cut_pos[last] = pos
        elif part[x] == s:
            cut_pos[ed] = n_cut
            cut_list[n_cut] = ed
            n_cut += 1
    return n_cut


@njit(cache=True)
def anneal_block(  # pragma: no cover - compiled
    part,
    size,
    load,
    w,
    lo,
    hi,
    movable,
    group_ok,
    indptr,
    indices,
    entry_edge,
    edges,
    cut_list,
    cut_pos,
    mt,
    ist,
    fst,
    best,
    least,
    seen,
    todo,
    stamps,
    queue,
    resume,
):
    """Proposals of :func:`~territory_engine.solve.search.anneal.anneal_cut_edges` to a clock check.

    Runs the reference loop (same draws from the same Mersenne Twister
    state, same tests, same updates of the cut-edge list and of the best and
    least-violating plans) until ``moves`` reaches a multiple of 256 (return
    1: the caller reads the clock, sets ``fst[A_TEMP]`` and calls again with
    ``resume``) or the cut list is empty (return 0). ``resume`` skips the
    counter step of the first proposal (the caller has done the check).
    """
    moves = ist[A_MOVES]
    n_cut = ist[A_NCUT]
    temp = fst[A_TEMP]
    penalty = fst[A_PENALTY]
    total_viol = fst[A_TOTAL_VIOL]
    k = load.shape[0]
    first = resume
    status = 0
    while n_cut > 0:
        if not first:
            moves += 1
            if moves & 255 == 0:
                status = 1
                break
        first = False
        e = cut_list[mt_randbelow(mt, ist, n_cut)]
        a = edges[e, 0]
        b = edges[e, 1]
        if mt_random(mt, ist) < 0.5:
            u, v = a, b
        else:
            u, v = b, a
        s = part[u]
        t = part[v]
        if not movable[u] or not group_ok[u, t] or size[s] <= 1:
            continue
        same_s = 0
        same_t = 0
        for q in range(indptr[u], indptr[u + 1]):
            px = part[indices[q]]
            if px == s:
                same_s += 1
            elif px == t:
                same_t += 1
        d_cut = same_s - same_t
        d_viol = (
            _excess(load, lo, hi, s, w, u, -1)
            + _excess(load, lo, hi, t, w, u, 1)
            - _excess(load, lo, hi, s, w, u, 0)
            - _excess(load, lo, hi, t, w, u, 0)
        )
        delta = d_cut + penalty * d_viol
        if delta > 0 and mt_random(mt, ist) >= math.exp(-delta / temp):
            continue
        if not stays_connected(indptr, indices, part, u, seen, todo, stamps, queue):
            continue
        # _AnnealState.move(u, s, t)
        part[u] = t
        size[s] -= 1
        size[t] += 1
        for j in range(load.shape[1]):
            load[s, j] -= w[u, j]
            load[t, j] += w[u, j]
        n_cut = _update_cut_list(
            u, s, t, part, indptr, indices, entry_edge, cut_pos, cut_list, n_cut
        )
        total_viol += d_viol
        ist[A_ACCEPTED] += 1
        # _AnnealState.record(total_viol)
        cut = n_cut
        if total_viol <= 1e-9:
            if cut < ist[A_BEST_CUT]:
                exact = 0.0
                for tt in range(k):
                    exact += _excess(load, lo, hi, tt, w, u, 0)
                if exact <= 1e-9:
                    best[:] = part
                    ist[A_BEST_CUT] = cut
                    ist[A_HAS_BEST] = 1
        elif ist[A_HAS_BEST] == 0 and (
            total_viol < fst[A_LEAST_VIOL]
            or (total_viol == fst[A_LEAST_VIOL] and cut < ist[A_LEAST_CUT])
        ):
            fst[A_LEAST_VIOL] = total_viol
            ist[A_LEAST_CUT] = cut
            least[:] = part
    ist[A_MOVES] = moves
    ist[A_NCUT] = n_cut
    fst[A_TOTAL_VIOL] = total_viol
    return status


# -- pair-exchange annealing with hard bands ------------------------------------------------
# Indices into the integer and float state arrays of :func:`swap_anneal_block`
# (``W_MT_INDEX`` is ``A_MT_INDEX``: :func:`mt_next` reads it there).
W_ITER, W_NCUT, W_SINGLES, W_MT_INDEX, W_SWAPS, W_BEST_CUT, W_TOTAL, W_WALK = range(8)
assert W_MT_INDEX == A_MT_INDEX
W_T_START, W_T_END, W_P_SINGLE, W_TEMP = range(4)

BAND_EPS = 1e-9
"""Slack of the hard band tests (loads are running float sums)."""

BORDER_REACH = 64
"""Most border units searched for an exchange partner."""


@njit(cache=True)
def _fits(load, lo, hi, t, w, u, sign_u, v, sign_v):  # pragma: no cover - compiled
    """Part ``t`` within its band with ``sign_u · w[u]`` and ``sign_v · w[v]`` added
    (``sign_v = 0``: ``v`` ignored), the reference's float operations in its order."""
    for j in range(load.shape[1]):
        p = load[t, j] + sign_u * w[u, j]
        if sign_v != 0:
            p = p + sign_v * w[v, j]
        if p < lo[t, j] - BAND_EPS or p > hi[t, j] + BAND_EPS:
            return False
    return True


@njit(cache=True)
def _count_in(indptr, indices, part, u, s, t):  # pragma: no cover - compiled
    """``(neighbours of u in s, neighbours of u in t)``."""
    ns = 0
    nt = 0
    for q in range(indptr[u], indptr[u + 1]):
        px = part[indices[q]]
        if px == s:
            ns += 1
        elif px == t:
            nt += 1
    return ns, nt


@njit(cache=True)
def _touches(indptr, indices, part, x, s):  # pragma: no cover - compiled
    for q in range(indptr[x], indptr[x + 1]):
        if part[indices[q]] == s:
            return True
    return False


@njit(cache=True)
def _move_unit(  # pragma: no cover - compiled
    u, s, t, part, load, w, indptr, indices, entry_edge, cut_pos, cut_list, n_cut
):
    """``u`` from part ``s`` to part ``t``: the plan, the loads and the cut list (not the
    sizes); returns the new ``n_cut``."""
    part[u] = t
    for j in range(load.shape[1]):
        load[s, j] -= w[u, j]
        load[t, j] += w[u, j]
    return _update_cut_list(u, s, t, part, indptr, indices, entry_edge, cut_pos, cut_list, n_cut)


@njit(cache=True)
def _exchange_units(  # pragma: no cover - compiled
    u, x, s, t, part, load, w, indptr, indices, entry_edge, cut_pos, cut_list, n_cut
):
    """The exchange of ``u`` (in ``s``) and ``x`` (in ``t``) by :func:`_move_unit`;
    returns the new ``n_cut``."""
    n_cut = _move_unit(
        u, s, t, part, load, w, indptr, indices, entry_edge, cut_pos, cut_list, n_cut
    )
    return _move_unit(x, t, s, part, load, w, indptr, indices, entry_edge, cut_pos, cut_list, n_cut)


# Inlined by numba (not left to LLVM): so compiled, the kernel is no slower than with
# the search written out in its loop.
@njit(cache=True, inline="always")
def _border_candidates(  # pragma: no cover - compiled
    u, v, s, t, walk, part, load, w, lo, hi, indptr, indices, stamps, mark, dep, queue, cand
):
    """Exchange partners of ``u`` in ``cand``; returns how many there are.

    ``t``'s units along its border with ``s`` within ``walk`` steps of ``v``
    (breadth first in CSR order, at most BORDER_REACH searched), those whose
    exchange with ``u`` keeps both bands.
    """
    stamps[3] += 1
    mk = stamps[3]
    mark[v] = mk
    dep[v] = 0
    queue[0] = v
    head = 0
    tail = 1
    n_cand = 0
    while head < tail:
        y = queue[head]
        head += 1
        if _fits(load, lo, hi, s, w, u, -1.0, y, 1.0) and _fits(
            load, lo, hi, t, w, u, 1.0, y, -1.0
        ):
            cand[n_cand] = y
            n_cand += 1
        if dep[y] >= walk:
            continue
        for q in range(indptr[y], indptr[y + 1]):
            z = indices[q]
            if (
                tail < BORDER_REACH
                and mark[z] != mk
                and part[z] == t
                and _touches(indptr, indices, part, z, s)
            ):
                mark[z] = mk
                dep[z] = dep[y] + 1
                queue[tail] = z
                tail += 1
    return n_cand


@njit(cache=True)
def swap_anneal_block(  # pragma: no cover - compiled
    part,
    size,
    load,
    w,
    lo,
    hi,
    movable,
    group_ok,
    indptr,
    indices,
    entry_edge,
    edges,
    cut_list,
    cut_pos,
    mt,
    ist,
    fst,
    best,
    seen,
    todo,
    stamps,
    queue,
    mark,
    dep,
    cand,
    stop,
):
    """Iterations ``ist[W_ITER]`` to ``stop`` of the hard-band pair-exchange annealing.

    The transcription of
    :func:`territory_engine.solve.search.anneal.swap_anneal_reference` (same
    draws from the same Mersenne Twister state, same tests, same updates).
    Each iteration draws a cut edge ``(u, v)`` (random orientation), ``s, t``
    the parts of ``u, v``, and with probability ``fst[W_P_SINGLE]`` proposes
    the single move ``u: s → t`` (:func:`_move_unit`), else the exchange of ``u`` with a unit
    ``x`` of ``t`` touching ``s``, drawn among the units within
    ``ist[W_WALK]`` steps of ``v`` along ``t``'s border with ``s`` that keep
    both bands (:func:`_border_candidates`; scratch: ``mark``, ``dep``,
    ``cand``; ``stamps[3]``). A proposal is taken only if both parts stay
    within every band and connected, with the Metropolis rule on the
    cut-edge change. The temperature falls geometrically from ``W_T_START``
    to ``W_T_END`` over ``ist[W_TOTAL]`` iterations (set every 256). ``best``
    holds the plan of fewest cut edges seen (``ist[W_BEST_CUT]``). Returns
    the number of iterations done in this call.
    """
    it0 = ist[W_ITER]
    n_cut = ist[W_NCUT]
    total = ist[W_TOTAL]
    walk = ist[W_WALK]
    t_start = fst[W_T_START]
    ratio = math.log(fst[W_T_END] / t_start)
    p_single = fst[W_P_SINGLE]
    temp = fst[W_TEMP]
    it = it0
    while it < stop and n_cut > 0:
        if it & 255 == 0:
            temp = t_start * math.exp(ratio * it / total)
        it += 1
        e = cut_list[mt_randbelow(mt, ist, n_cut)]
        a = edges[e, 0]
        b = edges[e, 1]
        if mt_random(mt, ist) < 0.5:
            u, v = a, b
        else:
            u, v = b, a
        s = part[u]
        t = part[v]
        if not movable[u] or not group_ok[u, t]:
            continue
        if mt_random(mt, ist) < p_single:
            # The single move u: s → t. The tests of both proposals are written out in
            # this loop: as numba helpers they made the kernel 15-25 % slower.
            if size[s] <= 1 or not _fits(load, lo, hi, s, w, u, -1.0, u, 0.0):
                continue
            if not _fits(load, lo, hi, t, w, u, 1.0, u, 0.0):
                continue
            ns, nt = _count_in(indptr, indices, part, u, s, t)
            d = ns - nt
            if d > 0 and mt_random(mt, ist) >= math.exp(-d / temp):
                continue
            if not stays_connected(indptr, indices, part, u, seen, todo, stamps, queue):
                continue
            size[s] -= 1
            size[t] += 1
            n_cut = _move_unit(
                u, s, t, part, load, w, indptr, indices, entry_edge, cut_pos, cut_list, n_cut
            )
            ist[W_SINGLES] += 1
        else:
            # The exchange of u with a partner x of t near v along t's border with s.
            n_cand = _border_candidates(
                u, v, s, t, walk, part, load, w, lo, hi, indptr, indices, stamps, mark, dep,
                queue, cand,
            )  # fmt: skip
            if n_cand == 0:
                continue
            x = cand[mt_randbelow(mt, ist, n_cand)]
            if not movable[x] or not group_ok[x, s]:
                continue
            ns, nt = _count_in(indptr, indices, part, u, s, t)
            part[u] = t  # tentative: x's counts see u in t
            xs, xt = _count_in(indptr, indices, part, x, s, t)
            part[u] = s
            d = ns - nt + xt - xs
            # xs == 0: x would join s only through u, which leaves.
            if xs == 0 or (d > 0 and mt_random(mt, ist) >= math.exp(-d / temp)):
                continue
            if not stays_connected(indptr, indices, part, u, seen, todo, stamps, queue):
                continue
            part[u] = t
            if not stays_connected(indptr, indices, part, x, seen, todo, stamps, queue):
                part[u] = s
                continue
            n_cut = _exchange_units(
                u, x, s, t, part, load, w, indptr, indices, entry_edge, cut_pos, cut_list, n_cut
            )
            ist[W_SWAPS] += 1
        if n_cut < ist[W_BEST_CUT]:
            ist[W_BEST_CUT] = n_cut
            best[:] = part
    ist[W_ITER] = it
    ist[W_NCUT] = n_cut
    fst[W_TEMP] = temp
    return it - it0
