"""Min-max diameter by threshold tabu search (commercial territory design, CTDP).

Formulation
-----------
The diameter of a part is the largest shortest-path distance between two of
its units; the objective is the largest diameter over all parts, subject to
every part's measures lying in their bands. For a target ``D`` the question
"is there a balanced plan of largest diameter <= D" is a balanced graph
colouring problem: two units *conflict* when ``d_ij > D`` and a plan reaches
``D`` exactly when no part holds a conflicting pair. The search therefore
works on the threshold view, as TabuCol does for colouring: it minimises

    f = (number of conflicting pairs inside parts) + lam * (band violation)

where the band violation is the sum over parts and measures of the excess
beyond the band, in tenths of the band width, and ``lam`` adapts (raised when
the search spends most iterations out of the bands, lowered otherwise, as
PyVRP's penalty manager does) so the search may cross unbalanced plans but is
pulled back to balanced ones.

Each time ``f`` reaches 0 the plan is balanced and of diameter <= D: it is
recorded, and ``D`` is lowered to the next distance value below the plan's
actual largest diameter ("lower D step by step"): the pairs at that diameter
become the new conflicts and the search continues from the same plan.

Moves
-----
* move: a unit that is in conflict (or, while the bands are violated, any
  unit of a part outside its band) goes to another part;
* swap: such a unit exchanges parts with a unit of another part ``t``, where
  it has no more conflicts than in its own part (this pruning keeps an
  iteration about 8x cheaper than evaluating every pair).

The state keeps ``C[i, t]``, the number of units of part ``t`` that conflict
with unit ``i`` (n x k), updated in O(n) per move, so the change in conflicts
of a move or swap is O(1); all candidate moves and swaps of one iteration are
evaluated at once with numpy. The best non-tabu neighbour is taken (ties
broken at random); a unit that leaves part ``s`` may not return for a tenure
that grows with the number of conflicting units (aspiration: a tabu neighbour
that beats the best ``f`` seen for the current target is allowed).

Perturbation
------------
When the best ``f`` for the current target has not improved for ``stall``
iterations, the search restarts from the best balanced plan of the current
run with a kick of a few random swaps (iterated local search). After
``restart_after`` kicks in a row without a better plan the kicks keep falling
back into the same basin, so a new run starts from the initial plan (a new
random trajectory of the same descent); the best plan over all runs is
returned. The search stops on the deadline.
Deterministic for a seed when it stops on ``max_iters`` (the clock only
decides where a run is cut).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from territory_engine.problem.data import ProblemData

_EPS = 1e-9


def _scales(problem: ProblemData) -> np.ndarray:
    """(k, m) unit of band violation: a tenth of the band width (1 % of the mean at ±5 %)."""
    width = problem.upper - problem.lower
    k = problem.n_territories
    mean = np.abs(problem.weights).sum(axis=0) / max(k, 1)
    fallback = np.broadcast_to(np.maximum(mean / 100.0, 1e-6), width.shape)
    ok = np.isfinite(width) & (width > 0)
    return np.where(ok, width / 10.0, fallback)


def _violation(x: np.ndarray, lo: np.ndarray, up: np.ndarray, sc: np.ndarray) -> np.ndarray:
    """Band excess of loads ``x`` (..., m) summed over the last axis, in units of ``sc``."""
    over = np.maximum(x - up - _EPS, 0.0)
    under = np.maximum(lo - x - _EPS, 0.0)
    return ((over + under) / sc).sum(axis=-1)


def _largest_below(values: np.ndarray, x: float) -> float:
    """Largest entry of the sorted ``values`` strictly below ``x`` (or -1 when none)."""
    pos = int(np.searchsorted(values, x - _EPS * max(1.0, abs(x)), side="left"))
    return float(values[pos - 1]) if pos > 0 else -1.0


def max_diameter(dist: np.ndarray, assign: np.ndarray, k: int) -> float:
    """Largest part diameter of ``assign``."""
    best = 0.0
    for t in range(k):
        idx = np.flatnonzero(assign == t)
        if len(idx) > 1:
            best = max(best, float(dist[np.ix_(idx, idx)].max()))
    return best


def tabu_diameter(
    problem: ProblemData,
    assign: np.ndarray,
    dist: np.ndarray,
    *,
    deadline: float,
    seed: int = 0,
    stall: int = 4000,
    kick: int = 8,
    max_iters: int = 10_000_000,
    slack: int = 0,
    tenure_rand: int = 10,
    tenure_mult: float = 0.6,
    restart_after: int = 3,
) -> tuple[np.ndarray, dict]:
    """Lower the largest part diameter by threshold tabu search with kicks.

    Parameters
    ----------
    problem
        The problem (bands, locks, eligibility).
    assign
        (n,) starting assignment (not modified); need not be balanced.
    dist
        (n, n) all-pairs shortest-path distances.
    deadline
        ``time.perf_counter()`` value to stop at.
    seed
        Seeds tie-breaking, tenures and kicks.
    stall
        Iterations without improving the best ``f`` of the current target
        before a kick from the best balanced plan.
    kick
        Number of random swaps of a kick.
    max_iters
        Bound on iterations (makes runs reproducible regardless of the clock).
    slack
        A swap of a candidate unit into part ``t`` is evaluated only when the
        unit has at most ``slack`` more conflicts in ``t`` than in its own part
        (0: the pruning makes iterations about 8x faster).
    tenure_rand, tenure_mult
        Tabu tenure of a unit leaving a part: ``tenure_mult`` times the number
        of candidate units plus a random integer below ``tenure_rand``
        (TabuCol's rule).
    restart_after
        After this many kicks in a row without a better plan, restart the
        descent from ``assign`` (0: never).

    Returns
    -------
    tuple[numpy.ndarray, dict]
        The best balanced plan found (the start when none was balanced) and
        statistics: ``iterations``, ``kicks``, ``restarts``, ``targets`` (targets reached),
        ``diameter`` (of the returned plan, ``inf`` when none balanced) and
        ``trace`` (seconds, iteration, diameter) of each improvement.
    """
    search = _ThresholdTabu(
        problem,
        assign,
        dist,
        np.random.default_rng(seed),
        stall=stall,
        kick=kick,
        slack=slack,
        tenure_rand=tenure_rand,
        tenure_mult=tenure_mult,
        restart_after=restart_after,
    )
    # A negative first target: every distance is 0, nothing to lower.
    if search.target >= 0:
        search.run(deadline, max_iters)
    return search.best, search.stats()


class _ThresholdTabu:
    """The state of :func:`tabu_diameter` (see the module docstring for the model).

    ``a`` is the current plan, ``L`` (k, m) its loads and ``vpart`` (k,) each
    part's band violation; ``X`` (n, n) marks the pairs in conflict at the
    current ``target``, ``C[i, t]`` counts the units of part ``t`` in conflict
    with ``i`` and ``conf`` the conflicting pairs inside parts. ``best`` is
    the best balanced plan over all runs, ``run_best`` the best of the
    current run (the base of its kicks).
    """

    def __init__(
        self,
        problem: ProblemData,
        assign: np.ndarray,
        dist: np.ndarray,
        rng: np.random.Generator,
        *,
        stall: int,
        kick: int,
        slack: int,
        tenure_rand: int,
        tenure_mult: float,
        restart_after: int,
    ) -> None:
        self.rng = rng
        self.start_plan = assign
        self.dist = dist
        self.stall, self.kick, self.slack = stall, kick, slack
        self.tenure_rand, self.tenure_mult = tenure_rand, tenure_mult
        self.restart_after = restart_after
        self.n, self.k = len(assign), problem.n_territories
        self.W = problem.weights.astype(float)
        self.lo, self.up, self.sc = problem.lower, problem.upper, _scales(problem)
        self.locked = problem.locked >= 0
        # Ineligible parts cost far more than any conflict count.
        self.forbid = np.where(problem.eligible(), 0.0, 1e9)
        self.movable = np.flatnonzero(~self.locked)
        self.values = np.unique(dist)
        self.a = assign.copy()
        self._reload()
        self.best = self.a.copy()
        self.best_val = max_diameter(dist, self.a, self.k) if self._balanced() else np.inf
        if np.isfinite(self.best_val):
            self.target = _largest_below(self.values, self.best_val)
        else:
            # No balanced start: first reach balance at the start's own diameter.
            self.target = _largest_below(self.values, max_diameter(dist, self.a, self.k) + 1.0)
        self.run_best, self.run_val = self.best.copy(), self.best_val
        self.start_val, self.fails = self.best_val, 0
        self.kicks = self.targets = self.restarts = 0
        self.trace: list[tuple[float, int, float]] = []
        self.t_start = time.perf_counter()
        self.lam = 1.0
        self.tabu = np.zeros((self.n, self.k), dtype=np.int64)
        self.target_best = np.inf
        self.since = 0
        self.out_of_band = 0
        self.it = 0

    def stats(self) -> dict[str, Any]:
        """The statistics :func:`tabu_diameter` returns."""
        return {
            "iterations": self.it,
            "kicks": self.kicks,
            "targets": self.targets,
            "restarts": self.restarts,
            "diameter": self.best_val,
            "trace": self.trace,
        }

    def _balanced(self) -> bool:
        return bool(np.all(self.L >= self.lo - 1e-7) and np.all(self.L <= self.up + 1e-7))

    def _reload(self) -> None:
        """Loads and band violations of the current plan, from scratch."""
        self.L = np.zeros((self.k, self.W.shape[1]))
        np.add.at(self.L, self.a, self.W)
        self.vpart = _violation(self.L, self.lo, self.up, self.sc)

    def _rebuild(self) -> None:
        """Conflicts at the current target: ``X``, ``C`` and ``conf``, from scratch."""
        self.X = self.dist > self.target + _EPS
        onehot = np.zeros((self.n, self.k), dtype=np.int32)
        onehot[np.arange(self.n), self.a] = 1
        self.C = self.X.astype(np.int32) @ onehot
        self._count_conflicts()

    def _count_conflicts(self) -> None:
        self.conf = int(self.C[np.arange(self.n), self.a].sum()) // 2

    def run(self, deadline: float, max_iters: int) -> None:
        """Iterate until ``max_iters``, the deadline, or nothing left to lower or move."""
        self._rebuild()
        while self.it < max_iters:
            if (self.it & 15) == 0 and time.perf_counter() > deadline:
                break
            if not self._step():
                break

    def _step(self) -> bool:
        """One iteration: the best neighbour, then a new target or a kick; False to stop."""
        self.it += 1
        f = self.conf + self.lam * float(self.vpart.sum())
        cand, cs = self._candidates()
        if len(cand) == 0:
            # Nothing can change (everything locked): stop.
            return False
        best_move, move = self._best_move(cand, cs, f)
        best_swap, swap = self._best_swap(cand, cs, f)
        if not np.isfinite(min(best_move, best_swap)):
            self.since = self.stall  # everything tabu: kick
        else:
            tenure = int(self.tenure_mult * len(cand)) + int(self.rng.integers(0, self.tenure_rand))
            self._apply(move if best_move <= best_swap else swap, tenure)
        V = float(self.vpart.sum())
        f = self.conf + self.lam * V
        self.out_of_band += V > 0
        if f < self.target_best - 1e-9:
            self.target_best = f
            self.since = 0
        else:
            self.since += 1
        if self.conf == 0 and self._balanced():
            return self._lower_target()
        if self.it % 50 == 0:
            # Adapt the band weight: aim at about half of the iterations in band.
            self.lam = (
                min(self.lam * 1.3, 1e3) if self.out_of_band > 25 else max(self.lam / 1.3, 1e-2)
            )
            self.out_of_band = 0
        if self.since >= self.stall and np.isfinite(self.run_val) and len(self.movable) >= 2:
            self._perturb()
        return True

    def _candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """Units that may move (conflicting, or in a part outside a band) and their conflicts."""
        own_c = self.C[np.arange(self.n), self.a]
        mask = own_c > 0
        if float(self.vpart.sum()) > 0:
            mask |= self.vpart[self.a] > 0
        mask &= ~self.locked
        cand = np.flatnonzero(mask)
        return cand, own_c[cand]

    def _best_move(
        self, cand: np.ndarray, cs: np.ndarray, f: float
    ) -> tuple[float, list[tuple[int, int]]]:
        """Best non-tabu (or aspirated) move of a candidate to another part: score, move."""
        lo, up, sc, L, vpart = self.lo, self.up, self.sc, self.L, self.vpart
        s = self.a[cand]
        w = self.W[cand]
        d_conf = self.C[cand] - cs[:, None]
        v_s = _violation(L[s] - w, lo[s], up[s], sc[s]) - vpart[s]
        v_t = _violation(L[None] + w[:, None], lo[None], up[None], sc[None]) - vpart[None]
        mv = d_conf + self.lam * (v_s[:, None] + v_t) + self.forbid[cand]
        mv[np.arange(len(cand)), s] = np.inf
        is_tabu = self.tabu[cand] > self.it
        mv_eff = np.where(is_tabu & (f + mv >= self.target_best - 1e-9), np.inf, mv)
        mv_eff = mv_eff + self.rng.random(mv.shape) * 1e-6
        bm = int(np.argmin(mv_eff))
        r, t = divmod(bm, self.k)
        return float(mv_eff.flat[bm]), [(int(cand[r]), int(t))]

    def _best_swap(
        self, cand: np.ndarray, cs: np.ndarray, f: float
    ) -> tuple[float, list[tuple[int, int]]]:
        """Best non-tabu (or aspirated) swap of a candidate with a unit of another part.

        Only where the candidate does not gain conflicts by joining the other
        part (beyond ``slack``): prunes most pairs cheaply. ``inf`` when none.
        """
        lo, up, sc, L, vpart, C, tabu = (
            self.lo,
            self.up,
            self.sc,
            self.L,
            self.vpart,
            self.C,
            self.tabu,
        )
        s = self.a[cand]
        J = self.movable
        tj = self.a[J]
        ok = (C[cand][:, tj] <= cs[:, None] + self.slack) & (tj[None, :] != s[:, None])
        ri, ci = np.nonzero(ok)
        if not len(ri):
            return np.inf, []
        u, v = cand[ri], J[ci]
        su, tv = s[ri], tj[ci]
        d_sw = C[u, tv] - cs[ri] + C[v, su] - C[v, tv] - 2 * self.X[u, v]
        dw = self.W[v] - self.W[u]
        v_s2 = _violation(L[su] + dw, lo[su], up[su], sc[su]) - vpart[su]
        v_t2 = _violation(L[tv] - dw, lo[tv], up[tv], sc[tv]) - vpart[tv]
        sw = d_sw + self.lam * (v_s2 + v_t2) + self.forbid[u, tv] + self.forbid[v, su]
        sw_tabu = (tabu[u, tv] > self.it) | (tabu[v, su] > self.it)
        sw_eff = np.where(sw_tabu & (f + sw >= self.target_best - 1e-9), np.inf, sw)
        sw_eff = sw_eff + self.rng.random(sw.shape) * 1e-6
        bs = int(np.argmin(sw_eff))
        return float(sw_eff[bs]), [(int(u[bs]), int(tv[bs])), (int(v[bs]), int(su[bs]))]

    def _apply(self, pairs: list[tuple[int, int]], tenure: int) -> None:
        """Move each ``(unit, part)`` of ``pairs``; leaving its part is tabu for ``tenure``."""
        touched = set()
        for u, t in pairs:
            src = int(self.a[u])
            touched |= {src, t}
            row = self.X[u].astype(np.int32)
            self.C[:, src] -= row
            self.C[:, t] += row
            self.L[src] -= self.W[u]
            self.L[t] += self.W[u]
            self.a[u] = t
            self.tabu[u, src] = self.it + tenure
        for t in touched:
            self.vpart[t] = _violation(self.L[t], self.lo[t], self.up[t], self.sc[t])
        self._count_conflicts()

    def _lower_target(self) -> bool:
        """Record a balanced plan without conflicts; lower the target below it (False: none)."""
        val = max_diameter(self.dist, self.a, self.k)
        if val < self.run_val:
            self.run_best, self.run_val, self.fails = self.a.copy(), val, 0
        if val < self.best_val:
            self.best, self.best_val = self.a.copy(), val
            self.targets += 1
            self.trace.append((round(time.perf_counter() - self.t_start, 2), self.it, val))
        self.target = _largest_below(self.values, min(val, self.run_val))
        if self.target < 0:
            return False
        self._rebuild()
        self.target_best = np.inf
        self.since = 0
        return True

    def _perturb(self) -> None:
        """Kick the run's best plan (iterated local search), or restart from the start plan."""
        self.fails += 1
        if self.restart_after and self.fails > self.restart_after:
            # The kicks keep falling back into the same basin: a fresh
            # descent from the start plan (new random trajectory).
            self.restarts += 1
            self.run_best, self.run_val, self.fails = self.start_plan.copy(), self.start_val, 0
            self.target = _largest_below(self.values, self.run_val)
            self.a = self.run_best.copy()
            kicks_now = 0
        else:
            # Iterated local search: back to the run's best plan, then kick.
            self.kicks += 1
            self.a = self.run_best.copy()
            kicks_now = self.kick
        forbid, a = self.forbid, self.a
        for _ in range(kicks_now):
            u, v = (int(x) for x in self.rng.choice(self.movable, size=2, replace=False))
            if a[u] != a[v] and forbid[u, a[v]] == 0 and forbid[v, a[u]] == 0:
                a[u], a[v] = a[v], a[u]
        self._reload()
        self._rebuild()
        self.tabu[:] = 0
        self.target_best = np.inf
        self.since = 0
