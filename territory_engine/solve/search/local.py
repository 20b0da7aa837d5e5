"""Local search over unit moves with incremental evaluation.

State: the assignment ``a``, the loads ``L[t, j] = Σ_{i: a_i = t} w_ij`` and the
running objective terms. A move of unit i from s to t changes two rows of
``L`` and is evaluated in O(m + deg(i)):

* band violation ``V = Σ_t Σ_j (max(0, lo_tj − L_tj) + max(0, L_tj − hi_tj)) / τ_tj``
  plus the relative excess over the disruption cap;
* objective ``f`` (see :mod:`territory_engine.solve.costs`).

Moves are compared lexicographically on ``(V, f)``: first reach the bands,
then improve the objective without leaving them. With contiguity on, only
boundary units move, a unit joins only a territory it touches, and it leaves
only when its territory stays connected without it (a breadth-first search
limited to that territory, run only for moves that would be accepted).

The scan order comes from the seeded generator; the search stops at a local
optimum (then the result does not depend on the clock) or at the deadline.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from territory_engine.problem.data import ProblemData
from territory_engine.solve.costs import CostModel
from territory_engine.solve.stats import StopReason

EPS = 1e-9

BORDER_SCAN_FROM_UNITS = 10_000
"""From this many units a descent pass scans only border units (a speed-up that
changes the order in which a pass meets units, so smaller instances keep the
full scan and the plans they always had)."""

TABU_MAX_WORK = 1_500_000
"""Border units the tabu repair may scan in all (its iterations' total)."""

SWEEP_MIN_TERRITORIES = 16
"""From this many violating territories, repair passes fix each of them per descent."""


def stays_connected_without(nbrs: list[list[int]], assign: list[int], i: int) -> bool:
    """Whether unit ``i``'s territory stays connected when ``i`` leaves it.

    Only ``i``'s neighbours in its territory need to stay connected to each
    other: a breadth-first search inside the territory from one of them stops
    as soon as it has reached all the others.
    """
    s = assign[i]
    same = [j for j in nbrs[i] if assign[j] == s]
    if len(same) <= 1:
        return True
    todo = set(same[1:])
    seen = {i, same[0]}
    queue = deque([same[0]])
    while queue:
        u = queue.popleft()
        for v in nbrs[u]:
            if v not in seen and assign[v] == s:
                if v in todo:
                    todo.discard(v)
                    if not todo:
                        return True
                seen.add(v)
                queue.append(v)
    return False


def stays_connected_without_chunk(
    nbrs: list[list[int]], assign: list[int], chunk: set[int]
) -> bool:
    """Whether the territory of the units ``chunk`` keeps its other units together without them.

    When a territory is connected, it stays so without ``chunk`` exactly when
    the chunk's neighbours inside it (the *anchors*) lie in one component of
    the rest: every rest unit's path to the chunk ends at an anchor. So one
    breadth-first search per anchor grows in lockstep, searches merge when
    they meet (union-find), and the answer comes when one search remains
    (connected) or one closes without meeting the others (a cut-off piece).
    The cost is that of the smallest piece times the anchors, not the
    territory's size: at a million accounts rural territories hold thousands
    of units and the chunk moves of the transfers test hundreds of chunks.
    """
    s = assign[next(iter(chunk))]
    anchors = sorted({v for c in chunk for v in nbrs[c] if assign[v] == s and v not in chunk})
    if len(anchors) <= 1:
        return True
    owner = {v: q for q, v in enumerate(anchors)}
    root = list(range(len(anchors)))
    queues = {q: deque([v]) for q, v in enumerate(anchors)}

    def find(q: int) -> int:
        while root[q] != q:
            root[q] = root[root[q]]
            q = root[q]
        return q

    while True:
        for q in list(queues):
            if q not in queues:
                continue  # merged into another search during this sweep
            queue = queues[q]
            if not queue:
                return False
            u = queue.popleft()
            for v in nbrs[u]:
                seen = owner.get(v, -1)
                if seen == q or assign[v] != s or v in chunk:
                    continue
                if seen < 0:
                    owner[v] = q
                    queue.append(v)
                    continue
                a, b = find(seen), find(q)
                if a == b:
                    owner[v] = q  # later visits take the fast path above
                    continue
                keep, drop = (a, b) if len(queues[a]) >= len(queues[b]) else (b, a)
                root[drop] = keep
                queues[keep].extend(queues.pop(drop))
                if len(queues) == 1:
                    return True
                if drop == q:
                    q, queue = keep, queues[keep]


class LocalSearch:
    """Unit-move local search; see the module docstring for the model.

    Parameters
    ----------
    problem
        The problem.
    costs
        Cost model with the territory centres.
    assign
        Starting assignment (copied).
    candidates
        Extra territories each unit may join besides its neighbours' (ignored
        with contiguity on, where only touching territories may be joined).
    """

    def __init__(
        self,
        problem: ProblemData,
        costs: CostModel,
        assign: np.ndarray,
        candidates: list[np.ndarray],
    ) -> None:
        self.p = problem
        self.c = costs
        self.assign = [int(a) for a in assign]
        n, k, m = problem.n_units, problem.n_territories, problem.n_measures
        self.n, self.k, self.m = n, k, m
        self._init_bands(problem)
        self._init_graph(problem, candidates)
        self._init_travel(problem, costs)
        self._init_disruption(problem, costs)
        self._init_relationships(problem, costs)
        self.wT = costs.w_travel / costs.travel_norm
        self.wC = costs.w_compact / costs.n_edges
        self.wD = costs.w_disrupt / costs.total_potential
        self.viol_t = [self._viol(t, self.loads[t]) for t in range(k)]
        self.moves = 0
        # Units the tabu repair of :meth:`run` may scan (lowered for quick retries).
        self.tabu_work = TABU_MAX_WORK
        # Whether :meth:`run` tries chain, chunk, path and exchange repairs, and then
        # the tabu repair, when descent stalls infeasible (the solver turns them off
        # while the regional re-draws, cheaper, have not been tried yet).
        self.repair_passes = True
        self.tabu = True
        # Territories whose units the descent scans and whose violation the repairs
        # treat (None: all). A repair of one region of a national plan scopes its
        # search to the region and its ring: a search of the whole plan per try
        # cost minutes at a million accounts (see territory_engine.solve.search.transfers).
        self.scope: list[int] | None = None
        # Descent passes in the compiled kernel (territory_engine.solve.search.kernels,
        # the same moves as the Python loop): True, False, or None for "from
        # compile_from_units units" (below, importing numba and loading the
        # compiled kernels costs more than the passes save).
        self.compiled: bool | None = None
        self.compile_from_units = 5_000
        self._kd: dict[str, np.ndarray] | None = None

    def _init_bands(self, problem: ProblemData) -> None:
        """Weights, bands, targets ``τ`` and the running loads, sizes and members."""
        k, m = self.k, self.m
        self.w = problem.weights.tolist()
        self.lo = problem.lower.tolist()
        self.hi = problem.upper.tolist()
        tgt = np.where(
            np.isfinite(problem.upper), (problem.lower + problem.upper) / 2, problem.lower
        )
        self.tau = np.where(tgt > 0, tgt, 1.0).tolist()
        loads = np.zeros((k, m))
        np.add.at(loads, np.asarray(self.assign), problem.weights)
        self.loads = loads.tolist()
        self.size = np.bincount(np.asarray(self.assign), minlength=k).tolist()
        self.members: list[set[int]] = [set() for _ in range(k)]
        for i, t in enumerate(self.assign):
            self.members[t].add(i)

    def _init_graph(self, problem: ProblemData, candidates: list[np.ndarray]) -> None:
        """Adjacency lists, candidate territories and locks."""
        n = self.n
        ind, ptr = problem.adjacency.indices, problem.adjacency.indptr
        self.nbrs = [ind[ptr[i] : ptr[i + 1]].tolist() for i in range(n)]
        self._adj_rows = np.repeat(np.arange(n), np.diff(ptr))
        self._adj_cols = np.asarray(ind)
        self._isolated = np.diff(ptr) == 0
        self.cands = [c.tolist() for c in candidates]
        self.locked = problem.locked.tolist()

    def _init_travel(self, problem: ProblemData, costs: CostModel) -> None:
        """Unit and centre coordinates, travel weights and the distance cache."""
        self.xy = problem.xy.tolist()
        self.z = costs.centres.tolist()
        # Distances are asked for again and again by every pass; the centres are fixed.
        self._dcache: dict[int, float] = {}
        self.tw = problem.travel_weight.tolist()
        self.planar = problem.planar
        self.power = problem.travel_power
        # Given travel times (n, k) replace the distance formula.
        self.travel_cost = problem.travel_cost

    def _init_disruption(self, problem: ProblemData, costs: CostModel) -> None:
        """Potential owned by each territory within each unit, the cap and the moved total."""
        op = problem.owned_potential.tocsr()
        self.owned = [
            dict(
                zip(
                    op.indices[op.indptr[i] : op.indptr[i + 1]].tolist(),
                    op.data[op.indptr[i] : op.indptr[i + 1]].tolist(),
                    strict=True,
                )
            )
            for i in range(self.n)
        ]
        self.owned_tot = costs.owned_total.tolist()
        self.cap = problem.max_moved_potential
        self.moved = sum(
            self.owned_tot[i] - self.owned[i].get(self.assign[i], 0.0) for i in range(self.n)
        )
        self.cap_scale = max(self.cap or 0.0, 1e-9 * costs.total_potential, 1e-9)

    def _init_relationships(self, problem: ProblemData, costs: CostModel) -> None:
        """Proximity of each unit's accounts to each territory's rep, times the term's weight.

        Empty dicts when the term is off.
        """
        wR = costs.w_relation / costs.total_potential
        self.closeness: list[dict[int, float]] = [{} for _ in range(self.n)]
        if wR and problem.affinity is not None:
            af = problem.affinity.tocsr()
            for i in range(self.n):
                lo_, hi_ = af.indptr[i], af.indptr[i + 1]
                self.closeness[i] = {
                    t: wR * v
                    for t, v in zip(
                        af.indices[lo_:hi_].tolist(), af.data[lo_:hi_].tolist(), strict=True
                    )
                }

    # -- evaluation -------------------------------------------------------------------------
    def _viol(self, t: int, load: list[float]) -> float:
        v = 0.0
        lo, hi, tau = self.lo[t], self.hi[t], self.tau[t]
        for j in range(self.m):
            x = load[j]
            if x < lo[j]:
                v += (lo[j] - x) / tau[j]
            elif x > hi[j]:
                v += (x - hi[j]) / tau[j]
        return v

    def _cap_viol(self, moved: float) -> float:
        if self.cap is None or moved <= self.cap:
            return 0.0
        return (moved - self.cap) / self.cap_scale

    def violation(self) -> float:
        """Current total band violation ``V`` (relative units) including the disruption cap."""
        return sum(self.viol_t) + self._cap_viol(self.moved)

    def _dist(self, i: int, t: int) -> float:
        """``d(i, z_t)^p``: the distance term of the travel objective (memoised)."""
        key = i * self.k + t
        d = self._dcache.get(key)
        if d is None:
            if self.travel_cost is not None:
                given = float(self.travel_cost[i, t])
                d = given if self.power == 1 else given**self.power
            else:
                d = self._dist_uncached(i, t)
            self._dcache[key] = d
        return d

    def _dist_uncached(self, i: int, t: int) -> float:
        """The distance formulas (great-circle km or planar), as the compiled kernel has them."""
        if self.planar:
            d = math.hypot(self.xy[i][0] - self.z[t][0], self.xy[i][1] - self.z[t][1])
            return d if self.power == 1 else d**self.power
        lon1, lat1 = self.xy[i]
        lon2, lat2 = self.z[t]
        p1, p2 = math.radians(lat1), math.radians(lat2)
        dp, dl = p2 - p1, math.radians(lon2 - lon1)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        d = 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))
        return d if self.power == 1 else d**self.power

    def delta(self, i: int, t: int) -> tuple[float, float]:
        """``(ΔV, Δf)`` of moving unit ``i`` to territory ``t``."""
        s = self.assign[i]
        wi = self.w[i]
        ls = [a - b for a, b in zip(self.loads[s], wi, strict=True)]
        lt = [a + b for a, b in zip(self.loads[t], wi, strict=True)]
        dv = self._viol(s, ls) + self._viol(t, lt) - self.viol_t[s] - self.viol_t[t]
        own = self.owned[i]
        dm = own.get(s, 0.0) - own.get(t, 0.0)
        if self.cap is not None:
            dv += self._cap_viol(self.moved + dm) - self._cap_viol(self.moved)
        df = 0.0
        if self.wT:
            df += self.wT * self.tw[i] * (self._dist(i, t) - self._dist(i, s))
        if self.wC:
            ns = nt = 0
            for j in self.nbrs[i]:
                a = self.assign[j]
                if a == s:
                    ns += 1
                elif a == t:
                    nt += 1
            df += self.wC * (ns - nt)
        if self.wD:
            df += self.wD * dm
        close = self.closeness[i]
        if close:
            df += close.get(s, 0.0) - close.get(t, 0.0)
        return dv, df

    def apply(self, i: int, t: int) -> None:
        """Move unit ``i`` to territory ``t`` and update the running state."""
        s = self.assign[i]
        wi = self.w[i]
        self.loads[s] = [a - b for a, b in zip(self.loads[s], wi, strict=True)]
        self.loads[t] = [a + b for a, b in zip(self.loads[t], wi, strict=True)]
        self.viol_t[s] = self._viol(s, self.loads[s])
        self.viol_t[t] = self._viol(t, self.loads[t])
        own = self.owned[i]
        self.moved += own.get(s, 0.0) - own.get(t, 0.0)
        self.size[s] -= 1
        self.size[t] += 1
        self.members[s].discard(i)
        self.members[t].add(i)
        self.assign[i] = t
        self.moves += 1

    # -- contiguity -------------------------------------------------------------------------
    def can_leave(self, i: int) -> bool:
        """Whether territory ``a_i`` stays connected (and non-empty) without unit ``i``."""
        if self.size[self.assign[i]] <= 1:
            return False
        return stays_connected_without(self.nbrs, self.assign, i)

    def targets(self, i: int, contiguity: bool) -> set[int]:
        """Territories unit ``i`` may move to."""
        s = self.assign[i]
        touch = {self.assign[j] for j in self.nbrs[i]}
        # A unit without neighbours (a locked account, a family) is exempt from
        # contiguity: it may join any of its candidate territories.
        if not contiguity or not self.nbrs[i]:
            touch.update(self.cands[i])
        touch.discard(s)
        return touch

    # -- search -----------------------------------------------------------------------------
    def _best_single(self, i: int, contiguity: bool, lam: float) -> tuple[int, float, float]:
        """Best target of unit ``i`` by ``λ·ΔV + Δf`` among moves that never raise ``V``.

        ``lam = inf`` is the lexicographic order ``(ΔV, Δf)``.
        """
        best_t, best_dv, best_df, best_score = -1, 0.0, 0.0, -EPS
        for t in sorted(self.targets(i, contiguity)):
            dv, df = self.delta(i, t)
            if dv > EPS:
                continue
            if math.isinf(lam):
                if dv < best_dv - EPS or (dv <= best_dv + EPS and df < best_df - EPS):
                    best_t, best_dv, best_df = t, dv, df
            else:
                score = lam * min(dv, 0.0) + df
                if score < best_score:
                    best_t, best_dv, best_df, best_score = t, dv, df, score
        return best_t, best_dv, best_df

    def single_pass(
        self,
        rng: np.random.Generator,
        deadline: float,
        lam: float = math.inf,
        compiled: bool | None = None,
    ) -> int | None:
        """One sweep of improving unit moves in random order; ``None`` at the deadline.

        ``compiled``: run the sweep in the numba kernel
        (:func:`territory_engine.solve.search.kernels.descent_block`: the same moves,
        in the same order, with the same running totals) or in the Python loop
        below, the reference; ``None`` follows :attr:`compiled`. The kernel
        checks the deadline every :data:`~territory_engine.solve.search.kernels.BLOCK` units
        instead of 256.
        """
        contiguity = self.p.contiguity
        improved = 0
        if self.scope is None:
            order = rng.permutation(self.n)
        else:
            units = np.array(sorted(i for t in self.scope for i in self.members[t]), dtype=int)
            order = units[rng.permutation(len(units))]
        if self._use_kernel(compiled):
            return self._single_pass_compiled(order, deadline, lam)
        if contiguity and self.n >= BORDER_SCAN_FROM_UNITS:
            # Only units on a border (or exempt from contiguity) have a move;
            # skipping the interior matters at tens of thousands of units. A
            # unit that reaches a border during the pass waits for the next
            # one; the last pass (no move) sees every border exactly.
            order = order[self._movable_mask()[order]]
        for step, i in enumerate(order.tolist()):
            if step % 256 == 0 and time.perf_counter() > deadline:
                return None
            if self.locked[i] >= 0:
                continue
            best_t, _, _ = self._best_single(i, contiguity, lam)
            if best_t < 0 or (contiguity and not self.can_leave(i)):
                continue
            self.apply(i, best_t)
            improved += 1
        return improved

    def _use_kernel(self, compiled: bool | None) -> bool:
        """Whether this pass runs compiled (see :meth:`single_pass` and :attr:`compiled`)."""
        if self.travel_cost is not None:
            # The kernel knows only the distance formulas: given travel times run
            # the Python reference (the same moves).
            return False
        use = self.compiled if compiled is None else compiled
        if use is not None:
            return use
        if self.n < self.compile_from_units:
            return False
        try:
            from territory_engine.solve.search import kernels  # noqa: F401
        except ImportError:  # numba missing: the Python loop gives the same moves
            self.compiled = False
            return False
        return True

    def _kernel_data(self) -> dict[str, np.ndarray]:
        """The fixed arrays of the compiled pass (built once): CSR maps and scratch space."""
        if self._kd is not None:
            return self._kd
        from territory_engine.solve.search.kernels import BLOCK

        n, k, m = self.n, self.k, self.m
        adj = self.p.adjacency

        def csr(rows: list, values: bool) -> tuple[np.ndarray, ...]:
            ptr = np.zeros(n + 1, dtype=np.int64)
            ptr[1:] = np.cumsum([len(r) for r in rows])
            keys = list(itertools.chain.from_iterable(rows))
            idx = np.array(keys, dtype=np.int64)
            if not values:
                return ptr, idx
            vals = list(itertools.chain.from_iterable(r.values() for r in rows))
            return ptr, idx, np.array(vals, dtype=np.float64)

        own_ptr, own_idx, own_val = csr(self.owned, True)
        cl_ptr, cl_idx, cl_val = csr(self.closeness, True)
        cand_ptr, cand_idx = csr(self.cands, False)
        kd: dict[str, np.ndarray] = {
            "indptr": np.asarray(adj.indptr, dtype=np.int64),
            "indices": np.asarray(adj.indices, dtype=np.int64),
            "cand_ptr": cand_ptr,
            "cand_idx": cand_idx,
            "locked": np.array(self.locked, dtype=np.int64),
            "w": np.array(self.w, dtype=np.float64).reshape(n, m),
            "lo": np.array(self.lo, dtype=np.float64).reshape(k, m),
            "hi": np.array(self.hi, dtype=np.float64).reshape(k, m),
            "tau": np.array(self.tau, dtype=np.float64).reshape(k, m),
            "own_ptr": own_ptr,
            "own_idx": own_idx,
            "own_val": own_val,
            "cl_ptr": cl_ptr,
            "cl_idx": cl_idx,
            "cl_val": cl_val,
            "tw": np.array(self.tw, dtype=np.float64),
            "xy": np.array(self.xy, dtype=np.float64).reshape(n, 2),
            "z": np.array(self.z, dtype=np.float64).reshape(k, 2),
            # Memoised distances (kernels.cached_dist): 4 territories per unit.
            "dist_ter": np.full((n, 4), -1, dtype=np.int64),
            "dist_val": np.zeros((n, 4), dtype=np.float64),
            # wT, wC, wD, cap, cap scale, lam (per pass), travel power, 2.0
            "params": np.array(
                [self.wT, self.wC, self.wD, self.cap or 0.0, self.cap_scale, 0.0, self.power, 2.0],
                dtype=np.float64,
            ),
            # contiguity, cap, lexicographic (per pass), planar
            "flags": np.array(
                [self.p.contiguity, self.cap is not None, 1, self.planar], dtype=np.int64
            ),
            "log_i": np.zeros(BLOCK, dtype=np.int64),
            "log_s": np.zeros(BLOCK, dtype=np.int64),
            "log_t": np.zeros(BLOCK, dtype=np.int64),
            "mark_k": np.zeros(k, dtype=np.int64),
            "targ": np.zeros(k, dtype=np.int64),
            "seen": np.zeros(n, dtype=np.int64),
            "todo": np.zeros(n, dtype=np.int64),
            "stamps": np.zeros(3, dtype=np.int64),
            "queue": np.zeros(n, dtype=np.int64),
            # Failed contiguity tests (see kernels.descent_block): territory
            # versions, and per unit the territory and version of its last failure.
            "tver": np.zeros(k, dtype=np.int64),
            "fail_t": np.full(n, -1, dtype=np.int64),
            "fail_v": np.zeros(n, dtype=np.int64),
            "last_assign": np.array(self.assign, dtype=np.int64),
        }
        self._kd = kd
        return kd

    def _single_pass_compiled(self, order: np.ndarray, deadline: float, lam: float) -> int | None:
        """:meth:`single_pass` after its permutation, in the kernel; the lists synced per block."""
        from territory_engine.solve.search import kernels

        kd = self._kernel_data()
        assign = np.array(self.assign, dtype=np.int64)
        # Territories changed since the last compiled pass (by apply(), outside
        # the kernel) invalidate the failed contiguity tests remembered there.
        changed = np.flatnonzero(assign != kd["last_assign"])
        if len(changed):
            np.add.at(kd["tver"], kd["last_assign"][changed], 1)
            np.add.at(kd["tver"], assign[changed], 1)
        kd["last_assign"] = assign
        if self.p.contiguity and self.n >= BORDER_SCAN_FROM_UNITS:
            order = order[kernels.movable_mask(kd["indptr"], kd["indices"], assign)[order]]
        order = np.ascontiguousarray(order, dtype=np.int64)
        loads = np.array(self.loads, dtype=np.float64).reshape(self.k, self.m)
        viol_t = np.array(self.viol_t, dtype=np.float64)
        size = np.array(self.size, dtype=np.int64)
        moved = np.array([self.moved], dtype=np.float64)
        lex = math.isinf(lam)
        kd["params"][kernels.P_LAM] = 0.0 if lex else lam
        kd["flags"][kernels.F_LEX] = lex
        improved = 0
        pos, end = 0, len(order)
        while pos < end:
            if time.perf_counter() > deadline:
                return None
            stop = min(pos + kernels.BLOCK, end)
            n_log = kernels.descent_block(
                order, pos, stop, kd["indptr"], kd["indices"], kd["cand_ptr"], kd["cand_idx"],
                kd["locked"], kd["w"], kd["lo"], kd["hi"], kd["tau"], kd["own_ptr"],
                kd["own_idx"], kd["own_val"], kd["cl_ptr"], kd["cl_idx"], kd["cl_val"], kd["tw"],
                kd["xy"], kd["z"], kd["dist_ter"], kd["dist_val"], kd["params"], kd["flags"],
                assign, loads, viol_t, size, moved,
                kd["log_i"], kd["log_s"], kd["log_t"], kd["mark_k"], kd["targ"], kd["seen"],
                kd["todo"], kd["stamps"], kd["queue"], kd["tver"], kd["fail_t"], kd["fail_v"],
            )  # fmt: skip
            self._sync_kernel_moves(kd, n_log, loads, viol_t, size, moved)
            improved += n_log
            pos = stop
        return improved

    def _sync_kernel_moves(
        self,
        kd: dict[str, np.ndarray],
        n_log: int,
        loads: np.ndarray,
        viol_t: np.ndarray,
        size: np.ndarray,
        moved: np.ndarray,
    ) -> None:
        """Replay the kernel's ``n_log`` moves on the lists, as :meth:`apply` would have."""
        if not n_log:
            return
        units = kd["log_i"][:n_log].tolist()
        froms = kd["log_s"][:n_log].tolist()
        tos = kd["log_t"][:n_log].tolist()
        assign, members = self.assign, self.members
        for i, s, t in zip(units, froms, tos, strict=True):
            # The same set operations in the same order keep each set's layout
            # (its iteration order) what apply() would have left.
            members[s].discard(i)
            members[t].add(i)
            assign[i] = t
        for t in set(froms) | set(tos):
            self.loads[t] = loads[t].tolist()
            self.viol_t[t] = float(viol_t[t])
            self.size[t] = int(size[t])
        self.moved = float(moved[0])
        self.moves += n_log

    def _movable_mask(self) -> np.ndarray:
        """(n,) True for units touching another territory or without neighbours."""
        a = np.asarray(self.assign)
        mask = self._isolated.copy()
        mask[self._adj_rows[a[self._adj_rows] != a[self._adj_cols]]] = True
        return mask

    def chain_pass(self, deadline: float) -> bool:
        """Try compound moves ``i: s → t`` then ``j: t' → u`` that reduce the band violation.

        Single moves stall when every neighbour of an over-full territory is
        itself near its high (or a unit fixes one measure while breaking
        another). A chain passes the excess one step further. Only run when
        single moves have converged with violation left; applies the best
        chain found around the first violating territory that has one.
        """
        contiguity = self.p.contiguity
        bad = sorted(self._scoped(), key=lambda t: -self.viol_t[t])
        border: dict[int, set[int]] = {}
        for s in bad:
            if self.viol_t[s] <= EPS:
                break
            if time.perf_counter() > deadline:
                return False
            # First moves: units of s leaving, and units next to s joining it.
            firsts: set[tuple[int, int]] = set()
            for i in self.members[s]:
                for t in self.targets(i, contiguity):
                    firsts.add((i, t))
                for j in self.nbrs[i]:
                    if self.assign[j] != s:
                        firsts.add((j, s))
            best: tuple[float, float, tuple[int, int], tuple[int, int]] | None = None
            for i, t in sorted(firsts):
                if self.locked[i] >= 0 or (contiguity and not self.can_leave(i)):
                    continue
                a = self.assign[i]
                dv1, df1 = self.delta(i, t)
                seconds = {tt: self._second_movers(tt, border) for tt in (t, a) if tt != s}
                self.apply(i, t)
                for tt, movers in seconds.items():
                    for j in sorted(movers | {j for j in self.nbrs[i] if self.assign[j] == tt}):
                        if j == i or self.locked[j] >= 0:
                            continue
                        for u in self.targets(j, contiguity):
                            dv2, df2 = self.delta(j, u)
                            dv, df = dv1 + dv2, df1 + df2
                            if dv < -EPS and (
                                best is None
                                or dv < best[0] - EPS
                                or (dv <= best[0] + EPS and df < best[1])
                            ):
                                if contiguity and not self.can_leave(j):
                                    continue
                                best = (dv, df, (i, t), (j, u))
                self.apply(i, a)
                self.moves -= 2
            if best is not None:
                (i, t), (j, u) = best[2], best[3]
                self.apply(i, t)
                self.apply(j, u)
                return True
        return False

    def _second_movers(self, t: int, border: dict[int, set[int]]) -> set[int]:
        """Units of ``t`` that may have a move after a first move (:meth:`chain_pass`).

        With contiguity only border units (and units without neighbours) have
        targets, and a first move of unit ``i`` adds only ``i``'s neighbours to
        a border, so the caller adds those: at a million accounts a rural territory holds
        thousands of units and scanning them all per first move took minutes.
        ``border`` caches each territory's border of the unchanged plan.
        """
        if not self.p.contiguity:
            return set(self.members[t])
        if t not in border:
            border[t] = {
                j
                for j in self.members[t]
                if not self.nbrs[j] or any(self.assign[v] != t for v in self.nbrs[j])
            }
        return border[t]

    def _scoped(self) -> Iterable[int]:
        """The territories in :attr:`scope` (all when it is ``None``)."""
        return range(self.k) if self.scope is None else self.scope

    def territory_neighbours(self, t: int) -> set[int]:
        """Territories sharing an adjacency edge with territory ``t``."""
        out: set[int] = set()
        for i in self.members[t]:
            for j in self.nbrs[i]:
                out.add(self.assign[j])
        out.discard(t)
        return out

    def _transfer(self, src: int, dst: int, contiguity: bool) -> int | None:
        """Move the unit of ``src`` bordering ``dst`` that leaves ``src`` least violated.

        Returns the moved unit, or ``None`` when no unit can move.
        """
        best: tuple[float, float, int] | None = None
        for i in sorted(self.members[src]):
            if self.locked[i] >= 0:
                continue
            if contiguity and not any(self.assign[j] == dst for j in self.nbrs[i]):
                continue
            if (
                not contiguity
                and dst not in self.cands[i]
                and not any(self.assign[j] == dst for j in self.nbrs[i])
            ):
                continue
            wi = self.w[i]
            after = self._viol(src, [a - b for a, b in zip(self.loads[src], wi, strict=True)])
            _, df = self.delta(i, dst)
            key = (after, df, i)
            if best is not None and key >= best:
                continue
            if contiguity and not self.can_leave(i):
                continue
            best = key
        if best is None:
            return None
        self.apply(best[2], dst)
        return best[2]

    def _chunk_candidates(self, src: int, dst: int, max_len: int) -> list[list[int]]:
        """Connected chunks of ``src`` that can join ``dst``: a unit plus its path to the border.

        Breadth-first search inside ``src`` from its units that touch
        ``dst``; every reached unit with weight yields the chunk "this unit
        and the units on its shortest path back to the border". Such a chunk
        is connected and touches ``dst``, so ``dst`` stays connected; empty
        units on the way (zero weight, so moving one alone never changes a
        band) are carried along, which single moves cannot do.
        """
        border = [
            i
            for i in sorted(self.members[src])
            if self.locked[i] < 0 and any(self.assign[j] == dst for j in self.nbrs[i])
        ]
        parent = dict.fromkeys(border, -1)
        depth = dict.fromkeys(border, 1)
        queue = deque(border)
        chunks = []
        while queue:
            u = queue.popleft()
            if any(self.w[u]):
                path = [u]
                while parent[path[-1]] != -1:
                    path.append(parent[path[-1]])
                chunks.append(path)
            if depth[u] >= max_len:
                continue
            for v in self.nbrs[u]:
                if v not in parent and self.assign[v] == src and self.locked[v] < 0:
                    parent[v] = u
                    depth[v] = depth[u] + 1
                    queue.append(v)
        return chunks

    def _stays_connected(self, src: int, chunk: set[int]) -> bool:
        """Whether ``src`` minus ``chunk`` is non-empty and connected (exception units aside)."""
        # The lockstep test is exact when it says "cut" (two anchors apart), and on
        # connected territories also when it says "connected"; a territory already in
        # pieces (locks) must stay unable to give chunks, so a "connected" is confirmed
        # by the full search. Most tested chunks cut their territory: those end early.
        if not stays_connected_without_chunk(self.nbrs, self.assign, chunk):
            return False
        return self._connected(self.members[src] - chunk)

    def _connected(self, rest: set[int]) -> bool:
        """Whether the units ``rest`` are non-empty and connected (exception units aside)."""
        # Units without neighbours are exempt from contiguity (locks, families).
        rest = {i for i in rest if self.nbrs[i]} if any(not self.nbrs[i] for i in rest) else rest
        if not rest:
            return False
        start = min(rest)
        seen = {start}
        queue = deque([start])
        while queue:
            u = queue.popleft()
            for v in self.nbrs[u]:
                if v not in seen and v in rest:
                    seen.add(v)
                    queue.append(v)
        return len(seen) == len(rest)

    def _violating_worst_first(self, deadline: float, sweep: bool) -> Iterator[int]:
        """Violating territories, worst first, until the deadline.

        Without ``sweep`` the order ends at the first territory within its
        bands (the callers stop after one fix anyway); with ``sweep`` such a
        territory is skipped, since an earlier fix may have repaired it.
        """
        order = sorted(self._scoped(), key=lambda t: (-self.viol_t[t], t))
        for s in order:
            if time.perf_counter() > deadline:
                return
            if self.viol_t[s] <= EPS:
                if sweep:
                    continue
                return
            yield s

    def chunk_pass(self, deadline: float, max_len: int = 8, sweep: bool = False) -> int:
        """Move the best chunk (:meth:`_chunk_candidates`) into or out of a violating territory.

        Returns the number of chunks moved: at most one, or with ``sweep`` one
        per violating territory (taken worst first).
        """
        done = 0
        for s in self._violating_worst_first(deadline, sweep):
            best: tuple[float, float, int, list[int]] | None = None
            for t in sorted(self.territory_neighbours(s)):
                for src, dst in ((s, t), (t, s)):
                    for chunk in self._chunk_candidates(src, dst, max_len):
                        wc = [sum(self.w[i][j] for i in chunk) for j in range(self.m)]
                        ls = [a - b for a, b in zip(self.loads[src], wc, strict=True)]
                        ld = [a + b for a, b in zip(self.loads[dst], wc, strict=True)]
                        dv = (
                            self._viol(src, ls)
                            + self._viol(dst, ld)
                            - self.viol_t[src]
                            - self.viol_t[dst]
                        )
                        if dv >= -EPS or (best is not None and dv > best[0] + EPS):
                            continue
                        df = 0.0
                        if self.wT:
                            df = self.wT * sum(
                                self.tw[i] * (self._dist(i, dst) - self._dist(i, src))
                                for i in chunk
                            )
                        if best is not None and dv >= best[0] - EPS and df >= best[1]:
                            continue
                        if self.p.contiguity and not self._stays_connected(src, set(chunk)):
                            continue
                        best = (dv, df, dst, chunk)
            if best is not None:
                # Move from the border inwards so every intermediate state touches dst.
                for i in reversed(best[3]):
                    self.apply(i, best[2])
                done += 1
                if not sweep:
                    break
        return done

    def _chunk_loads(self, chunks: list[list[int]]) -> np.ndarray:
        """(len(chunks), m) total weight of each chunk."""
        w = self.p.weights
        return np.array([w[c].sum(axis=0) for c in chunks]).reshape(len(chunks), self.m)

    def _viol_many(self, t: int, loads: np.ndarray) -> np.ndarray:
        """:meth:`_viol` of territory ``t`` for many candidate loads (``(..., m)``) at once."""
        lo, hi, tau = self.p.lower[t], self.p.upper[t], np.asarray(self.tau[t])
        over = np.where(loads > hi, loads - hi, 0.0)
        under = np.where(loads < lo, lo - loads, 0.0)
        return ((over + under) / tau).sum(axis=-1)

    def exchange_pass(
        self, deadline: float, max_len: int = 2, sweep: bool = False, max_tries: int = 8
    ) -> int:
        """Swap a chunk of a violating territory for a chunk of a neighbour.

        The move single, chunk and path moves lack when a territory is above
        its band on one measure and below on another (say too much potential,
        too little workload): anything it gives away lowers both. Exchanging
        a chunk (:meth:`_chunk_candidates`, up to ``max_len`` units) with a
        chunk of a neighbour whose mix differs fixes both at once. All pairs
        of chunks across one border are scored with numpy; the best pairs are
        tried in order until one keeps both territories connected.

        Returns the number of exchanges applied: at most one, or with
        ``sweep`` one per violating territory (taken worst first).
        """
        done = 0
        for s in self._violating_worst_first(deadline, sweep):
            best: tuple[float, int, list[int], list[int]] | None = None
            for t in sorted(self.territory_neighbours(s)):
                outs = self._chunk_candidates(s, t, max_len)
                ins = self._chunk_candidates(t, s, max_len)
                if not outs or not ins:
                    continue
                w_out, w_in = self._chunk_loads(outs), self._chunk_loads(ins)
                shift = w_in[None, :, :] - w_out[:, None, :]
                dv = (
                    self._viol_many(s, np.asarray(self.loads[s]) + shift)
                    + self._viol_many(t, np.asarray(self.loads[t]) - shift)
                    - self.viol_t[s]
                    - self.viol_t[t]
                )
                flat = np.flatnonzero(dv.ravel() < -EPS)
                if best is not None:
                    flat = flat[dv.ravel()[flat] < best[0] - EPS]
                # Best first, ties by position (deterministic).
                flat = flat[np.argsort(dv.ravel()[flat], kind="stable")][:max_tries]
                for f in flat.tolist():
                    a, b = divmod(f, len(ins))
                    out_set, in_set = set(outs[a]), set(ins[b])
                    if out_set & in_set:
                        continue
                    if self.p.contiguity and not (
                        self._connected((self.members[s] - out_set) | in_set)
                        and self._connected((self.members[t] - in_set) | out_set)
                    ):
                        continue
                    best = (float(dv.ravel()[f]), t, outs[a], ins[b])
                    break
            if best is None:
                continue
            _, t, out_c, in_c = best
            before = self.violation()
            for i in out_c:
                self.apply(i, t)
            for i in in_c:
                self.apply(i, s)
            if self.violation() >= before - EPS:
                # The disruption cap can make an exchange that helps the bands a loss.
                for i in in_c:
                    self.apply(i, t)
                for i in out_c:
                    self.apply(i, s)
                self.moves -= 2 * (len(in_c) + len(out_c))
                continue
            done += 1
            if not sweep:
                break
        return done

    def path_pass(
        self, deadline: float, max_depth: int = 8, max_paths: int = 24, sweep: bool = False
    ) -> int:
        """Ejection chains along paths of the territory graph.

        For a violating territory ``s``, breadth-first paths
        ``s = t0, t1, ..., tr`` lead to territories with room. Along a path,
        each ``t_q`` hands ``t_{q+1}`` the bordering unit that keeps ``t_q``
        closest to its band (for an under-full ``s`` the flow runs the other
        way). The chain is kept when the total violation falls, else undone.

        Returns the number of chains kept: at most one, or with ``sweep`` one
        per violating territory (taken worst first).
        """
        contiguity = self.p.contiguity
        kept = 0
        for s in self._violating_worst_first(deadline, sweep):
            over = any(self.loads[s][j] > self.hi[s][j] for j in range(self.m))
            parent = {s: -1}
            queue = deque([(s, 0)])
            tried = 0
            while queue and tried < max_paths:
                t, depth = queue.popleft()
                if t != s:
                    path = [t]
                    while parent[path[-1]] != -1:
                        path.append(parent[path[-1]])
                    path.reverse()  # s ... t
                    tried += 1
                    before = self.violation()
                    done: list[tuple[int, int]] = []
                    steps: Iterable[tuple[int, int]] = itertools.pairwise(path)
                    if not over:
                        steps = [(b, a) for a, b in reversed(list(itertools.pairwise(path)))]
                    ok = True
                    for a, b in steps:
                        i = self._transfer(a, b, contiguity)
                        if i is None:
                            ok = False
                            break
                        done.append((i, a))
                    if ok and self.violation() < before - EPS:
                        kept += 1
                        break
                    for i, a in reversed(done):
                        self.apply(i, a)
                        self.moves -= 2
                if depth < max_depth:
                    for u in sorted(self.territory_neighbours(t)):
                        if u not in parent:
                            parent[u] = t
                            queue.append((u, depth + 1))
            if kept and not sweep:
                break
        return kept

    def _region(self) -> set[int]:
        """Violating territories and their neighbours (in the territory graph)."""
        bad = {t for t in self._scoped() if self.viol_t[t] > EPS}
        region = set(bad)
        for t in bad:
            for i in self.members[t]:
                for j in self.nbrs[i]:
                    region.add(self.assign[j])
        return region

    def tabu_repair(
        self,
        rng: np.random.Generator,
        deadline: float,
        max_iters: int = 4000,
        max_work: int = TABU_MAX_WORK,
    ) -> bool:
        """Tabu search on ``λ·V + f`` over the moves around violating territories.

        Where descent stalls, the best non-tabu move is taken even when it
        worsens the score, and moving a unit back to the territory it just
        left is tabu for a few iterations (Glover 1989). A tabu move is
        allowed when it reaches a violation lower than the best seen
        (aspiration). The best assignment seen (lexicographic ``(V, f)``) is
        restored at the end. Bounded by iterations and by the units scanned
        (``max_work``: on a large instance the region around the violations
        holds thousands of border units per iteration), so the result does not
        depend on the clock.

        Returns
        -------
        bool
            True when the violation reached zero.
        """
        contiguity = self.p.contiguity
        lam = 1e3
        tabu: dict[tuple[int, int], int] = {}
        best_v = self.violation()
        best_assign = list(self.assign)
        it = 0
        work = 0
        while it < max_iters and best_v > EPS and work < max_work:
            it += 1
            if it % 64 == 0 and time.perf_counter() > deadline:
                break
            region = self._region()
            cur_v = self.violation()
            choice: tuple[float, int, int] | None = None
            # Under contiguity only border units have a move; the mask is exact.
            movable = self._movable_mask() if contiguity else None
            for t_from in sorted(region):
                units = sorted(self.members[t_from])
                if movable is not None:
                    units = [i for i in units if movable[i]]
                work += len(units)
                for i in units:
                    if self.locked[i] >= 0:
                        continue
                    for t in sorted(self.targets(i, contiguity)):
                        if contiguity and t not in region and t_from not in region:
                            continue
                        dv, df = self.delta(i, t)
                        score = lam * dv + df
                        if choice is not None and score >= choice[0]:
                            continue
                        if tabu.get((i, t), 0) > it and cur_v + dv >= best_v - EPS:
                            continue
                        if contiguity and not self.can_leave(i):
                            continue
                        choice = (score, i, t)
            if choice is None:
                break
            _, i, t = choice
            s = self.assign[i]
            self.apply(i, t)
            tabu[(i, s)] = it + 7 + int(rng.integers(0, 6))
            v = self.violation()
            if v < best_v - EPS:
                best_v = v
                best_assign = list(self.assign)
        if self.violation() > best_v + EPS:
            self.reset(best_assign)
        return best_v <= EPS

    def reset(self, assign: list[int]) -> None:
        """Set the assignment and recompute every running total."""
        for i, t in enumerate(assign):
            if self.assign[i] != t:
                self.apply(i, t)

    def run(
        self,
        rng: np.random.Generator,
        deadline: float,
        progress: Callable[[dict], None] | None = None,
    ) -> StopReason:
        """Improve until a local optimum or the deadline.

        Descent on single moves; when it stalls with violation left, repair
        chains (unless :attr:`repair_passes` is off), then tabu repair
        (unless :attr:`tabu` is off); once feasible, descent keeps feasibility.

        Returns
        -------
        str
            ``"converged"``, ``"stalled_infeasible"`` or ``"time_limit"``.
        """
        passes = 0
        # Penalty weight of violation against the objective: low first, so the
        # repair prefers cheap fixes; raised whenever descent stalls infeasible
        # (as PyVRP's penalty manager does), up to the lexicographic order.
        lam = 1.0
        while True:
            passes += 1
            feasible = self.violation() <= EPS
            improved = self.single_pass(rng, deadline, math.inf if feasible else lam)
            if improved is None:
                return "time_limit"
            if progress is not None:
                progress({"pass": passes, "moves": improved, "violation": self.violation()})
            if improved:
                continue
            if self.violation() <= EPS:
                return "converged"
            if lam < 1e6:
                lam *= 4.0
                continue
            if not self.repair_passes:
                return "stalled_infeasible"
            if sum(self.viol_t[t] > EPS for t in self._scoped()) >= SWEEP_MIN_TERRITORIES:
                # Many violating territories (a large instance after its seed):
                # fixes far apart do not interact, so one sweep repairs each of
                # them before the next descent instead of one per descent.
                if (
                    self.chunk_pass(deadline, sweep=True)
                    + self.path_pass(deadline, sweep=True)
                    + self.exchange_pass(deadline, sweep=True)
                ):
                    continue
            if (
                self.chain_pass(deadline)
                or self.chunk_pass(deadline)
                or self.path_pass(deadline)
                or self.exchange_pass(deadline)
            ):
                continue
            if time.perf_counter() > deadline:
                return "time_limit"
            if not self.tabu:
                return "stalled_infeasible"
            before = self.violation()
            self.tabu_repair(rng, deadline, max_work=self.tabu_work)
            if self.violation() >= before - EPS:
                return "time_limit" if time.perf_counter() > deadline else "stalled_infeasible"
