"""Simulated annealing on the boundary for the cut-edge objective with contiguity.

The state is an assignment of units to parts, every part connected. A move
takes a unit ``u`` on a cut edge ``(u, v)`` from its part ``s`` to ``v``'s part
``t``; it is allowed when ``s`` stays connected without ``u`` (a BFS inside
``s`` from one of ``u``'s neighbours in ``s`` that stops as soon as all of
them are reached) and ``s`` keeps at least one unit. Its score is::

    Δ = Δcut + λ · Δviolation,    violation = Σ_t Σ_j max(0, L_tj − P_tj, P_tj − U_tj) / w̄_j

with ``P_tj`` the part's total of measure ``j`` and ``w̄_j`` the mean unit
weight (violation counted in "average units"). Bands are tight in
districting (±0.5 % with units of about 0.6 % of a part), so single moves
must be allowed to cross infeasible states; the penalty ``λ`` keeps them
short. A move is accepted with the Metropolis rule ``exp(−Δ / T)``, the
temperature falling geometrically from ``t_start`` to ``t_end`` over the
time budget; the best plan that satisfies every band is kept.

The move loop runs compiled (:func:`territory_engine.solve.search.kernels.anneal_block`,
numba) or in pure Python over adjacency lists (``compiled=False``, the
reference: about 250,000 proposed moves a second on the tract graphs of
300–700 units). Both draw from the same Mersenne Twister (the kernel carries
CPython's ``random.Random`` state and reproduces ``randrange`` and
``random``), read the clock at the same proposals and take the same moves:
for one seed and one sequence of clock readings they return the same plan.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from territory_engine.problem.data import ProblemData, count_cut_edges
from territory_engine.solve.search.local import stays_connected_without


def anneal_cut_edges(
    problem: ProblemData,
    assign: np.ndarray,
    *,
    seconds: float,
    seed: int = 0,
    penalty: float = 4.0,
    t_start: float = 1.5,
    t_end: float = 0.05,
    compiled: bool | None = None,
) -> tuple[np.ndarray, dict]:
    """Lower the cut edges of a contiguous plan by simulated annealing (see module doc).

    Parameters
    ----------
    problem
        Problem with adjacency, bands, locks and eligibility groups.
    assign
        (n,) starting assignment; every part connected (bands may be broken).
    seconds
        Wall-clock budget.
    seed
        Random seed (a seed and a move count give one run; the clock only
        decides when it stops).
    penalty
        ``λ``: cut edges per average unit of band violation.
    t_start, t_end
        First and last temperature of the geometric schedule.
    compiled
        Run the move loop in the numba kernel (``None``: when numba imports)
        or in Python (the reference); the same moves either way, many more
        of them per second compiled. The first compiled call of a fresh
        install compiles the kernel (seconds, before the clock starts; cached).

    Returns
    -------
    (numpy.ndarray, dict)
        The best plan that meets every band (the start when none did and the
        start was feasible, else the least violating plan seen) and
        statistics ``moves``, ``accepted``, ``start_cut``, ``cut``, ``feasible``.
    """
    rng = random.Random(seed)
    st = _AnnealState(problem, assign)
    if compiled is None:
        try:
            from territory_engine.solve.search import kernels  # noqa: F401
        except ImportError:  # numba missing: the Python loop takes the same moves
            compiled = False
        else:
            compiled = True
    if compiled:
        return _anneal_compiled(st, rng, seconds, penalty, t_start, t_end)
    part, size, nbrs, w = st.part, st.size, st.nbrs, st.w
    movable, group_ok, cut_list, viol = st.movable, st.group_ok, st.cut_list, st.viol
    total_viol = st.total_violation()
    accepted = 0
    start = time.perf_counter()
    end = start + seconds
    ratio = math.log(t_end / t_start)
    temp = t_start
    moves = 0
    # The hot loop (about 250,000 proposals a second): locals only, no calls but
    # the violation closure and, for accepted moves, the state's updates.
    while cut_list:
        moves += 1
        if moves & 255 == 0:
            now = time.perf_counter()
            if now >= end:
                break
            temp = t_start * math.exp(ratio * (now - start) / seconds)
        a, b = cut_list[rng.randrange(len(cut_list))]
        u, v = (a, b) if rng.random() < 0.5 else (b, a)
        s, t = part[u], part[v]
        if not movable[u] or not group_ok[u][t] or size[s] <= 1:
            continue
        same_s = same_t = 0
        for x in nbrs[u]:
            px = part[x]
            if px == s:
                same_s += 1
            elif px == t:
                same_t += 1
        d_cut = same_s - same_t
        wu = w[u]
        d_viol = viol(s, wu, -1) + viol(t, wu, 1) - viol(s) - viol(t)
        delta = d_cut + penalty * d_viol
        if delta > 0 and rng.random() >= math.exp(-delta / temp):
            continue
        if not stays_connected_without(nbrs, part, u):
            continue
        st.move(u, s, t)
        total_viol += d_viol
        accepted += 1
        st.record(total_viol)
    return st.result(moves, accepted)


def _anneal_compiled(
    st: _AnnealState,
    rng: random.Random,
    seconds: float,
    penalty: float,
    t_start: float,
    t_end: float,
) -> tuple[np.ndarray, dict]:
    """The loop of :func:`anneal_cut_edges` in :func:`kernels.anneal_block`.

    The kernel runs 256 proposals at a time (the reference reads the clock
    every 256 proposals, and sets the temperature from it); this function
    reads the clock at the same proposals and passes the temperature on.
    The kernel's state is ``st`` in arrays: the cut list as edge ids in the
    same order, the Mersenne Twister words of ``rng``.
    """
    from territory_engine.solve.search import kernels as kn

    n, k = len(st.part), st.k
    ptr, ind, entry_edge, edges, cut_list, cut_pos = _edge_arrays(st)
    state = rng.getstate()[1]
    mt = np.array(state[:624], dtype=np.int64)
    ist = np.zeros(7, dtype=np.int64)
    ist[kn.A_NCUT] = len(st.cut_list)
    ist[kn.A_MT_INDEX] = state[624]
    ist[kn.A_BEST_CUT] = st.best_cut if st.best is not None else kn.NO_BEST_CUT
    ist[kn.A_HAS_BEST] = st.best is not None
    ist[kn.A_LEAST_CUT] = st.least[1]
    fst = np.array([t_start, st.total_violation(), st.least[0], penalty], dtype=np.float64)
    part = np.array(st.part, dtype=np.int64)
    best = part.copy()
    least = part.copy()
    args = (
        part,
        np.array(st.size, dtype=np.int64),
        np.array(st.load, dtype=np.float64).reshape(k, st.m),
        np.array(st.w, dtype=np.float64).reshape(n, st.m),
        np.array(st.lo, dtype=np.float64).reshape(k, st.m),
        np.array(st.hi, dtype=np.float64).reshape(k, st.m),
        np.array(st.movable, dtype=np.bool_),
        np.array(st.group_ok, dtype=np.bool_).reshape(n, k),
        ptr,
        ind,
        entry_edge,
        edges,
        cut_list,
        cut_pos,
        mt,
        ist,
        fst,
        best,
        least,
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(3, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
    )
    block: Callable[..., int] = kn.anneal_block
    # Compile (or load from the cache) off the clock: no cut edge, no proposal.
    idle = list(args)
    idle[15], idle[16] = np.zeros_like(ist), fst.copy()
    block(*idle, False)
    start = time.perf_counter()
    end = start + seconds
    ratio = math.log(t_end / t_start)
    resume = False
    while block(*args, resume):
        now = time.perf_counter()
        if now >= end:
            break
        fst[kn.A_TEMP] = t_start * math.exp(ratio * (now - start) / seconds)
        resume = True
    if ist[kn.A_HAS_BEST]:
        st.best, st.best_cut = best.tolist(), int(ist[kn.A_BEST_CUT])
    st.least = (float(fst[kn.A_LEAST_VIOL]), int(ist[kn.A_LEAST_CUT]), least.tolist())
    return st.result(int(ist[kn.A_MOVES]), int(ist[kn.A_ACCEPTED]))


def _edge_arrays(
    st: _AnnealState,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The kernels' edge layout of ``st``: ``ptr, ind`` (CSR), ``entry_edge`` (the edge id
    of each CSR entry), ``edges`` (E, 2) with ``i < j``, and the cut list as edge ids in
    ``st.cut_list``'s order with their positions ``cut_pos`` (-1: not cut)."""
    n = len(st.part)
    ptr = np.asarray(st.ptr, dtype=np.int64)
    ind = np.asarray(st.ind, dtype=np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(ptr))
    lo_end, hi_end = np.minimum(rows, ind), np.maximum(rows, ind)
    pairs, entry_edge = np.unique(lo_end * n + hi_end, return_inverse=True)
    edges = np.column_stack(np.divmod(pairs, n)).astype(np.int64).reshape(-1, 2)
    edge_id = {(int(a), int(b)): q for q, (a, b) in enumerate(edges.tolist())}
    cut_list = np.zeros(max(len(edges), 1), dtype=np.int64)
    cut_pos = np.full(max(len(edges), 1), -1, dtype=np.int64)
    for q, e in enumerate(st.cut_list):
        cut_list[q] = edge_id[e]
        cut_pos[edge_id[e]] = q
    return ptr, ind, entry_edge.astype(np.int64).reshape(-1), edges, cut_list, cut_pos


class _AnnealState:
    """Plan, loads (in average units), sizes and the cut-edge list of the annealing.

    ``cut_list`` holds the cut edges ``(i, j)``, ``i < j``, with their
    positions in ``cut_pos``, for uniform random choice and O(1) updates.
    ``best`` is the best plan within every band (``None`` until one is seen),
    ``least`` the least violating plan seen while there is none.
    """

    def __init__(self, problem: ProblemData, assign: np.ndarray) -> None:
        n, k, m = problem.n_units, problem.n_territories, problem.n_measures
        self.k, self.m = k, m
        ind, ptr = problem.adjacency.indices, problem.adjacency.indptr
        self.ptr, self.ind = ptr, ind
        self.nbrs: list[list[int]] = [ind[ptr[i] : ptr[i + 1]].tolist() for i in range(n)]
        self.part: list[int] = np.asarray(assign).astype(int).tolist()
        mean_w = problem.weights.mean(axis=0)
        mean_w = np.where(mean_w > 0, mean_w, 1.0)
        self.w: list[list[float]] = (problem.weights / mean_w).tolist()
        lo: list[list[float]] = (problem.lower / mean_w).tolist()
        hi: list[list[float]] = (problem.upper / mean_w).tolist()
        self.lo, self.hi = lo, hi
        self.load = [[0.0] * m for _ in range(k)]
        self.size = [0] * k
        for i, t in enumerate(self.part):
            self.size[t] += 1
            for j in range(m):
                self.load[t][j] += self.w[i][j]
        self.movable = [problem.locked[i] < 0 for i in range(n)]
        self.group_ok = [
            [problem.territory_group[t] == problem.unit_group[i] for t in range(k)]
            for i in range(n)
        ]
        self.viol = _band_excess(self.load, lo, hi, m)
        self.cut_list: list[tuple[int, int]] = []
        self.cut_pos: dict[tuple[int, int], int] = {}
        for i in range(n):
            for v in self.nbrs[i]:
                if i < v and self.part[i] != self.part[v]:
                    self._add_cut((i, v))
        self.start_cut = len(self.cut_list)
        total_viol = self.total_violation()
        self.best: list[int] | None = list(self.part) if total_viol <= 1e-9 else None
        self.best_cut: float = self.start_cut if self.best is not None else math.inf
        self.least = (total_viol, self.start_cut, list(self.part))

    def total_violation(self) -> float:
        """Band excess of every part, summed (from the loads, exactly)."""
        return sum(self.viol(t) for t in range(self.k))

    def _add_cut(self, e: tuple[int, int]) -> None:
        self.cut_pos[e] = len(self.cut_list)
        self.cut_list.append(e)

    def _drop_cut(self, e: tuple[int, int]) -> None:
        q = self.cut_pos.pop(e)
        last = self.cut_list.pop()
        if q < len(self.cut_list):
            self.cut_list[q] = last
            self.cut_pos[last] = q

    def move(self, u: int, s: int, t: int) -> None:
        """Move unit ``u`` from part ``s`` to part ``t``: plan, sizes, loads and cut edges."""
        part, load, wu = self.part, self.load, self.w[u]
        part[u] = t
        self.size[s] -= 1
        self.size[t] += 1
        for j in range(self.m):
            load[s][j] -= wu[j]
            load[t][j] += wu[j]
        for x in self.nbrs[u]:
            e = (u, x) if u < x else (x, u)
            if part[x] == t:
                self._drop_cut(e)
            elif part[x] == s:
                self._add_cut(e)

    def record(self, total_viol: float) -> None:
        """Keep the plan as ``best`` or ``least`` when it beats them (``total_viol``: running)."""
        cut = len(self.cut_list)
        if total_viol <= 1e-9:
            # Re-check exactly: the running violation sum drifts in floats.
            if cut < self.best_cut and self.total_violation() <= 1e-9:
                self.best, self.best_cut = list(self.part), cut
        elif self.best is None and (total_viol, cut) < self.least[:2]:
            self.least = (total_viol, cut, list(self.part))

    def result(self, moves: int, accepted: int) -> tuple[np.ndarray, dict]:
        """The plan :func:`anneal_cut_edges` returns, and its statistics."""
        stats: dict[str, Any] = {"start_cut": self.start_cut, "moves": moves, "accepted": accepted}
        stats["feasible"] = self.best is not None
        out = self.best if self.best is not None else self.least[2]
        stats["cut"] = self.best_cut if self.best is not None else self.least[1]
        return np.asarray(out), stats


def _band_excess(
    load: list[list[float]], lo: list[list[float]], hi: list[list[float]], m: int
) -> Callable[..., float]:
    """``viol(t, delta=None, sign=0)``: part ``t``'s band excess with ``sign · delta`` added.

    A closure over the live ``load`` rows: the hot loop calls it four times
    per proposal, and a closure is cheaper there than a method.
    """

    def viol(t: int, delta: list[float] | None = None, sign: int = 0) -> float:
        total = 0.0
        for j in range(m):
            p = load[t][j] + (sign * delta[j] if delta is not None else 0.0)
            if p < lo[t][j]:
                total += lo[t][j] - p
            elif p > hi[t][j]:
                total += p - hi[t][j]
        return total

    return viol


def anneal_multistart(
    problem: ProblemData,
    make_start: Callable[[int], np.ndarray | None],
    *,
    deadline: float,
    seed: int = 0,
    run_seconds: float = 5.0,
    final_share: float = 0.1,
    final_t_start: float = 0.7,
    final_run: float = 5.0,
) -> tuple[np.ndarray | None, dict]:
    """Anneal several starts briefly, then the best one again until ``deadline``.

    Which region ends up in which part is settled early by the start (a
    random spanning-tree partition); annealing mostly smooths boundaries.
    Short runs from several starts therefore beat one long run (measured on
    NV tracts: 6 s runs from four starts ended at 76–85 cut edges; on NM and
    AR tracts in 54 s, 4 s runs reached 44 and 71 cut edges, 10 s runs 45
    and 72). The best plan then gets the last ``final_share`` of the time in
    cooler runs of ``final_run`` seconds; these rarely improve it (measured:
    never on NM and AR), so the share is small.

    Parameters
    ----------
    make_start
        ``make_start(r)``: the ``r``-th starting plan (contiguous, ideally
        within the bands), or ``None`` when none was found.
    deadline
        ``time.perf_counter()`` value at which to stop.
    seed
        Seed of the first run; run ``r`` uses ``seed + r``.
    run_seconds
        Length of each short run.
    final_share
        Share of the time kept for the final runs from the best plan.
    final_t_start
        First temperature of the final runs (cooler than a fresh start).
    final_run
        Length of each final run from the best plan.

    Returns
    -------
    (numpy.ndarray or None, dict)
        The best plan meeting every band (``None`` if no run found one) and
        statistics ``starts``, ``start_cuts``, ``run_cuts``, ``final_cuts``, ``cut``.
    """
    budget = deadline - time.perf_counter()
    final_at = deadline - final_share * budget
    best, best_cut = None, math.inf
    stats: dict = {"starts": 0, "start_cuts": [], "run_cuts": []}
    r = 0
    while r == 0 or time.perf_counter() + run_seconds <= final_at:
        if time.perf_counter() >= deadline - 0.5:
            break
        start = make_start(r)
        r += 1
        if start is None:
            if r >= 3 and best is None:
                break  # starts are hard to find here: leave the time to other methods
            continue
        left = deadline - time.perf_counter()
        plan, st = anneal_cut_edges(problem, start, seconds=min(run_seconds, left), seed=seed + r)
        stats["starts"] += 1
        stats["start_cuts"].append(st["start_cut"])
        stats["run_cuts"].append(st["cut"] if st["feasible"] else None)
        if st["feasible"] and st["cut"] < best_cut:
            best, best_cut = plan, st["cut"]
    stats["final_cuts"] = []
    while best is not None and deadline - time.perf_counter() > 0.5:
        r += 1
        left = deadline - time.perf_counter()
        # Runs of the same length from the best plan, reheated: each may
        # reshape its boundaries differently (basin hopping).
        length = left if left < 1.5 * final_run else final_run
        plan, st = anneal_cut_edges(
            problem, best, seconds=length, seed=seed + r, t_start=final_t_start
        )
        stats["final_cuts"].append(st["cut"])
        if st["feasible"] and st["cut"] < best_cut:
            best, best_cut = plan, st["cut"]
    stats["cut"] = best_cut if best is not None else None
    return best, stats


#: Iterations of the pair-exchange annealing per compiled call (the deadline is read between).
SWAP_BLOCK = 1 << 16
#: Most border units searched for an exchange partner (``kernels.BORDER_REACH``).
BORDER_REACH = 64


def swap_anneal(
    problem: ProblemData,
    assign: np.ndarray,
    *,
    iterations: int,
    seed: int = 0,
    t_start: float = 1.0,
    t_end: float = 0.05,
    p_single: float = 0.5,
    walk: int = 6,
    deadline: float | None = None,
    compiled: bool | None = None,
) -> tuple[np.ndarray, dict]:
    """Lower the cut edges of a plan within every band by pair exchanges (hard bands).

    At tight bands (±1 % with about 20 units a part) nearly every single move
    breaks two parts' bands, and the penalised annealing of
    :func:`anneal_cut_edges` rarely returns to a feasible plan better than its
    start. Here every state is feasible: an iteration proposes either a single
    move that keeps both parts in band, or the exchange of a boundary unit
    ``u`` of part ``s`` (on a cut edge ``(u, v)`` to ``t``) for a unit ``x``
    of ``t`` touching ``s``, drawn among those near ``v`` along ``t``'s
    border with ``s`` whose exchange keeps both bands, taken when both parts stay in band and
    connected, by the Metropolis rule on the cut-edge change (see
    :func:`territory_engine.solve.search.kernels.swap_anneal_block`).

    The run is bounded by ``iterations`` (the temperature schedule follows
    the iteration count), so a seed gives one plan on any machine; a
    ``deadline`` only cuts it short (``stats["cut_short"]``).

    Parameters
    ----------
    problem
        Problem with adjacency, bands, locks and eligibility groups.
    assign
        (n,) starting plan: every part connected and within every band.
    iterations
        Proposals to make.
    seed
        Random seed.
    t_start, t_end
        First and last temperature (cut edges) of the geometric schedule.
    p_single
        Share of single-move proposals (the rest are exchanges).
    walk
        Reach (steps along the border from ``v``) of the exchange partner's search.
    deadline
        ``time.perf_counter()`` value at which to stop early, or ``None``.
    compiled
        Numba kernel (``None``: when numba imports) or the Python reference
        :func:`swap_anneal_reference`; the same moves either way.

    Returns
    -------
    (numpy.ndarray, dict)
        The plan of fewest cut edges seen (the start if none was better) and
        statistics ``start_cut``, ``cut``, ``iterations``, ``singles``,
        ``swaps`` (accepted), ``cut_short``.
    """
    st = _AnnealState(problem, assign)
    if st.total_violation() > 1e-9:
        raise ValueError("swap_anneal needs a start within every band")
    if compiled is None:
        try:
            from territory_engine.solve.search import kernels  # noqa: F401
        except ImportError:
            compiled = False
        else:
            compiled = True
    state = random.Random(seed).getstate()[1]
    args = _swap_kernel_args(st, state)
    cut_short = False
    if compiled:
        best, best_cut, counts, cut_short = _swap_compiled(
            args,
            len(st.cut_list),
            state[624],
            iterations=iterations,
            t_start=t_start,
            t_end=t_end,
            p_single=p_single,
            walk=walk,
            deadline=deadline,
        )
    else:
        best, best_cut, counts = swap_anneal_reference(
            [a.tolist() for a in args[:14]],
            random.Random(seed),
            iterations=iterations,
            t_start=t_start,
            t_end=t_end,
            p_single=p_single,
            walk=walk,
        )
    stats = {"start_cut": st.start_cut, "cut": best_cut, **counts, "cut_short": cut_short}
    return np.asarray(best, dtype=np.int64), stats


def _swap_kernel_args(st: _AnnealState, state: tuple[int, ...]) -> list[np.ndarray]:
    """The arguments of :func:`~territory_engine.solve.search.kernels.swap_anneal_block`
    but ``stop``, for the start ``st`` and the Mersenne Twister ``state`` (the
    words of ``random.Random(seed).getstate()[1]``; :func:`_swap_compiled`
    sets its index and the state arrays ``ist``, ``fst``).
    """
    n, k, m = len(st.part), st.k, st.m
    ptr, ind, entry_edge, edges, cut_list, cut_pos = _edge_arrays(st)
    return [
        np.array(st.part, dtype=np.int64),
        np.array(st.size, dtype=np.int64),
        np.array(st.load, dtype=np.float64).reshape(k, m),
        np.array(st.w, dtype=np.float64).reshape(n, m),
        np.array(st.lo, dtype=np.float64).reshape(k, m),
        np.array(st.hi, dtype=np.float64).reshape(k, m),
        np.array(st.movable, dtype=np.bool_),
        np.array(st.group_ok, dtype=np.bool_).reshape(n, k),
        ptr,
        ind,
        entry_edge,
        edges,
        cut_list,
        cut_pos,
        np.array(state[:624], dtype=np.int64),
        np.zeros(8, dtype=np.int64),
        np.zeros(4, dtype=np.float64),
        np.array(st.part, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(4, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
    ]


def _swap_compiled(
    args: list[np.ndarray],
    n_cut: int,
    mt_index: int,
    *,
    iterations: int,
    t_start: float,
    t_end: float,
    p_single: float,
    walk: int,
    deadline: float | None,
) -> tuple[Any, int, dict, bool]:
    """The compiled loop of :func:`swap_anneal` on the kernel arguments ``args``.

    Runs :func:`~territory_engine.solve.search.kernels.swap_anneal_block` in
    calls of :data:`SWAP_BLOCK` iterations, reading the clock between.
    ``n_cut``: the start's cut edges; ``mt_index``: the Mersenne Twister's
    index. Returns the best plan, its cut edges, the counts ``iterations``,
    ``singles``, ``swaps`` and whether the deadline cut the run short.
    """
    from territory_engine.solve.search import kernels as kn

    ist, fst = args[15], args[16]
    ist[:] = 0
    ist[kn.W_NCUT] = n_cut
    ist[kn.W_MT_INDEX] = mt_index
    ist[kn.W_BEST_CUT] = n_cut
    ist[kn.W_TOTAL] = max(int(iterations), 1)
    ist[kn.W_WALK] = walk
    fst[:] = (t_start, t_end, p_single, t_start)
    block: Callable[..., int] = kn.swap_anneal_block
    # Compile (or load from the cache) off the clock: a call of no iteration.
    block(*args, 0)
    cut_short = False
    while ist[kn.W_ITER] < iterations and ist[kn.W_NCUT] > 0:
        if deadline is not None and time.perf_counter() >= deadline:
            cut_short = True
            break
        block(*args, min(int(ist[kn.W_ITER]) + SWAP_BLOCK, iterations))
    counts = {
        "iterations": int(ist[kn.W_ITER]),
        "singles": int(ist[kn.W_SINGLES]),
        "swaps": int(ist[kn.W_SWAPS]),
    }
    return args[17], int(ist[kn.W_BEST_CUT]), counts, cut_short


class _SwapReference:
    """The state of :func:`swap_anneal_reference` and its proposals, as the kernel's helpers.

    ``arrays``: the first 14 kernel arguments as lists, updated in place;
    ``n_cut`` the running count of cut edges.
    """

    def __init__(self, arrays: list[list], rng: random.Random, walk: int) -> None:
        self.part, self.size, self.load, self.w, self.lo, self.hi = arrays[:6]
        self.movable, self.group_ok, self.ptr, self.ind, self.entry_edge = arrays[6:11]
        self.edges, self.cut_list, self.cut_pos = arrays[11:14]
        self.m = len(self.load[0])
        self.nbrs = [self.ind[self.ptr[i] : self.ptr[i + 1]] for i in range(len(self.part))]
        self.rng = rng
        self.walk = walk
        self.n_cut = sum(1 for p in self.cut_pos if p >= 0)

    def fits(self, t: int, u: int, su: float, v: int, sv: float) -> bool:
        """Part ``t`` within its band with ``su · w[u]`` and ``sv · w[v]`` added."""
        load, w, lo, hi = self.load, self.w, self.lo, self.hi
        for j in range(self.m):
            p = load[t][j] + su * w[u][j]
            if sv != 0:
                p = p + sv * w[v][j]
            if p < lo[t][j] - 1e-9 or p > hi[t][j] + 1e-9:
                return False
        return True

    def count_in(self, u: int, s: int, t: int) -> tuple[int, int]:
        """``(neighbours of u in s, neighbours of u in t)``."""
        ps = [self.part[x] for x in self.nbrs[u]]
        return ps.count(s), ps.count(t)

    def accept(self, d: int, temp: float) -> bool:
        """The Metropolis rule on the cut-edge change ``d`` (a draw only when ``d > 0``)."""
        return d <= 0 or self.rng.random() < math.exp(-d / temp)

    def move(self, u: int, s: int, t: int) -> None:
        """``u`` (already in ``t``): loads and the cut list as the kernel updates them."""
        part, load, w, cut_pos, cut_list = self.part, self.load, self.w, self.cut_pos, self.cut_list
        for j in range(self.m):
            load[s][j] -= w[u][j]
            load[t][j] += w[u][j]
        n_cut = self.n_cut
        for q in range(self.ptr[u], self.ptr[u + 1]):
            x, ed = self.ind[q], self.entry_edge[q]
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
        self.n_cut = n_cut

    def try_single(self, u: int, s: int, t: int, temp: float) -> int | None:
        """The single move ``u: s → t`` if taken (its cut-edge change), else ``None``."""
        if self.size[s] <= 1 or not self.fits(s, u, -1.0, u, 0.0):
            return None
        if not self.fits(t, u, 1.0, u, 0.0):
            return None
        ns, nt = self.count_in(u, s, t)
        d = ns - nt
        if not self.accept(d, temp) or not stays_connected_without(self.nbrs, self.part, u):
            return None
        self.part[u] = t
        self.size[s] -= 1
        self.size[t] += 1
        self.move(u, s, t)
        return d

    def candidates(self, u: int, v: int, s: int, t: int) -> list[int]:
        """``t``'s units along its border with ``s`` within ``walk`` steps of ``v``
        (breadth first, at most BORDER_REACH searched) whose exchange with ``u``
        keeps both bands."""
        part, nbrs = self.part, self.nbrs
        mark = {v: 0}
        queue = [v]
        cand = []
        for y in queue:  # grows while read: breadth first
            if self.fits(s, u, -1.0, y, 1.0) and self.fits(t, u, 1.0, y, -1.0):
                cand.append(y)
            if mark[y] >= self.walk:
                continue
            for z in nbrs[y]:
                if (
                    len(queue) < BORDER_REACH
                    and z not in mark
                    and part[z] == t
                    and s in (part[q] for q in nbrs[z])
                ):
                    mark[z] = mark[y] + 1
                    queue.append(z)
        return cand

    def try_exchange(self, u: int, v: int, s: int, t: int, temp: float) -> int | None:
        """The exchange of ``u`` with a partner among :meth:`candidates` if taken (its
        cut-edge change), else ``None``."""
        part = self.part
        cand = self.candidates(u, v, s, t)
        if not cand:
            return None
        x = cand[self.rng.randrange(len(cand))]
        if not self.movable[x] or not self.group_ok[x][s]:
            return None
        ns, nt = self.count_in(u, s, t)
        part[u] = t
        xs, xt = self.count_in(x, s, t)
        part[u] = s
        if xs == 0:  # x would join s only through u, which leaves
            return None
        d = ns - nt + xt - xs
        if not self.accept(d, temp) or not stays_connected_without(self.nbrs, part, u):
            return None
        part[u] = t
        if not stays_connected_without(self.nbrs, part, x):
            part[u] = s
            return None
        self.move(u, s, t)
        part[x] = s
        self.move(x, t, s)
        return d


def swap_anneal_reference(
    arrays: list[list],
    rng: random.Random,
    *,
    iterations: int,
    t_start: float,
    t_end: float,
    p_single: float,
    walk: int,
    on_move: Callable[[list[int], int, int], None] | None = None,
) -> tuple[list[int], int, dict]:
    """The pure-Python loop of :func:`swap_anneal` (the kernel's reference, for the tests).

    ``arrays``: the first 14 kernel arguments as lists (``part, size, load, w,
    lo, hi, movable, group_ok, ptr, ind, entry_edge, edges, cut_list,
    cut_pos``), updated in place. ``on_move(part, n_cut, d)``, when given, is
    called after each accepted move with the plan, its running cut count and
    the cut-edge change ``d`` the move was accepted on (for the tests). Returns
    the best plan, its cut edges and the counts ``iterations``, ``singles``,
    ``swaps``.
    """
    ref = _SwapReference(arrays, rng, walk)
    part, edges, cut_list = ref.part, ref.edges, ref.cut_list
    best, best_cut = list(part), ref.n_cut
    total = max(int(iterations), 1)
    ratio = math.log(t_end / t_start)
    temp = t_start
    singles = swaps = 0
    it = 0
    while it < iterations and ref.n_cut > 0:
        if it & 255 == 0:
            temp = t_start * math.exp(ratio * it / total)
        it += 1
        a, b = edges[cut_list[rng.randrange(ref.n_cut)]]
        u, v = (a, b) if rng.random() < 0.5 else (b, a)
        s, t = part[u], part[v]
        if not ref.movable[u] or not ref.group_ok[u][t]:
            continue
        if rng.random() < p_single:
            d = ref.try_single(u, s, t, temp)
            singles += d is not None
        else:
            d = ref.try_exchange(u, v, s, t, temp)
            swaps += d is not None
        if d is None:
            continue
        if on_move is not None:
            on_move(part, ref.n_cut, d)
        if ref.n_cut < best_cut:
            best, best_cut = list(part), ref.n_cut
    return best, best_cut, {"iterations": it, "singles": singles, "swaps": swaps}


def swap_anneal_chain(
    problem: ProblemData,
    assign: np.ndarray,
    *,
    deadline: float,
    seed: int = 0,
    iterations: int = 1_000_000,
    t_start: float = 2.0,
    p_single: float = 0.4,
) -> tuple[np.ndarray, dict]:
    """Runs of :func:`swap_anneal` one after another from the best plan so far, to ``deadline``.

    The defaults were chosen on ME and WV tracts at k = 18 (25 s from the same
    start, load 6-24): 1,000,000 iterations from 2.0 reached 242 and 215 cut edges;
    4,000,000 from 3.0 266 and 225 (later runs seldom improve on a long first one).

    Each run is reheated to ``t_start`` and may reshape the boundaries
    differently (basin hopping, as the final runs of
    :func:`anneal_multistart`); run ``r`` uses seed ``seed · 1_000_003 + r``.
    Each run is bounded by ``iterations``; the clock decides how many runs
    there are and cuts the last one.

    Returns
    -------
    (numpy.ndarray, dict)
        The best plan (``assign`` when no run improved it) and statistics
        ``runs``, ``cuts`` (each run's best), ``cut``.
    """
    best = np.asarray(assign)
    best_cut: int | None = None
    cuts: list[int] = []
    r = 0
    while time.perf_counter() < deadline - 0.2:
        plan, st = swap_anneal(
            problem,
            best,
            iterations=iterations,
            seed=seed * 1_000_003 + r,
            t_start=t_start,
            p_single=p_single,
            deadline=deadline,
        )
        r += 1
        if best_cut is None:
            best_cut = st["start_cut"]
        cuts.append(st["cut"])
        if st["cut"] < best_cut:
            best, best_cut = plan, st["cut"]
    return best, {"runs": r, "cuts": cuts, "cut": best_cut}


def swap_multistart(
    problem: ProblemData,
    make_start: Callable[[int], np.ndarray | None],
    *,
    deadline: float,
    seed: int = 0,
    run_seconds: float = 9.0,
) -> tuple[np.ndarray | None, dict]:
    """:func:`swap_anneal_chain` from several balanced starts, ``run_seconds`` each.

    At about 20 units a part the chains from fresh spanning-tree starts beat
    the penalised boundary annealing's plans given the same time (ME and WV
    tracts at k = 18, 27 s, load 7-10: three tree starts 246 and 222 cut edges;
    :func:`anneal_multistart` 290 and 256, then chained to 250 and 216 in 27 s
    more). The last start gets what is left when less than two runs remain.

    Parameters
    ----------
    make_start
        ``make_start(r)``: the ``r``-th starting plan (contiguous and within
        every band), or ``None`` when none was found.
    deadline
        ``time.perf_counter()`` value at which to stop.
    seed
        Seed of the first chain; chain ``r`` uses ``seed + r``.
    run_seconds
        Time of each start's chain.

    Returns
    -------
    (numpy.ndarray or None, dict)
        The best plan (``None`` when no start was found) and statistics
        ``starts``, ``start_cuts``, ``run_cuts``, ``cut``.
    """
    best, best_cut = None, math.inf
    stats: dict = {"starts": 0, "start_cuts": [], "run_cuts": []}
    r = 0
    while time.perf_counter() < deadline - 0.5:
        start = make_start(r)
        r += 1
        if start is None:
            if r >= 3 and best is None:
                break  # balanced starts are hard to find here
            continue
        left = deadline - time.perf_counter()
        length = left if left < 2 * run_seconds else run_seconds
        try:
            plan, st = swap_anneal_chain(
                problem, start, deadline=time.perf_counter() + length, seed=seed + r
            )
        except ValueError:  # a start out of band: the chains need one within
            continue
        stats["starts"] += 1
        stats["start_cuts"].append(int(count_cut_edges(problem.adjacency, start)))
        stats["run_cuts"].append(st["cut"])
        if st["cut"] is not None and st["cut"] < best_cut:
            best, best_cut = plan, st["cut"]
    stats["cut"] = best_cut if best is not None else None
    return best, stats
