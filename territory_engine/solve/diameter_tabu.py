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
    rng = np.random.default_rng(seed)
    n, k = len(assign), problem.n_territories
    W = problem.weights.astype(float)
    lo, up, sc = problem.lower, problem.upper, _scales(problem)
    locked = problem.locked >= 0
    # Ineligible parts cost far more than any conflict count.
    forbid = np.where(problem.eligible(), 0.0, 1e9)
    movable = np.flatnonzero(~locked)
    values = np.unique(dist)

    a = assign.copy()
    L = np.zeros((k, W.shape[1]))
    np.add.at(L, a, W)
    vpart = _violation(L, lo, up, sc)

    def balanced(loads: np.ndarray) -> bool:
        return bool(np.all(loads >= lo - 1e-7) and np.all(loads <= up + 1e-7))

    best = a.copy()
    best_val = max_diameter(dist, a, k) if balanced(L) else np.inf
    if np.isfinite(best_val):
        target = _largest_below(values, best_val)
    else:
        # No balanced start: first reach balance at the start's own diameter.
        target = _largest_below(values, max_diameter(dist, a, k) + 1.0)
    run_best, run_val = best.copy(), best_val
    start_val, fails = best_val, 0
    stats = {"iterations": 0, "kicks": 0, "targets": 0, "restarts": 0}
    trace: list[tuple[float, int, float]] = []
    t_start = time.perf_counter()
    if target < 0:
        # Every distance is 0: nothing to lower.
        stats.update(diameter=best_val, trace=trace)
        return best, stats

    def rebuild() -> tuple[np.ndarray, np.ndarray]:
        X = dist > target + _EPS
        onehot = np.zeros((n, k), dtype=np.int32)
        onehot[np.arange(n), a] = 1
        C = X.astype(np.int32) @ onehot
        return X, C

    X, C = rebuild()
    conf = int(C[np.arange(n), a].sum()) // 2
    lam = 1.0
    tabu = np.zeros((n, k), dtype=np.int64)
    target_best = np.inf
    since = 0
    out_of_band = 0
    it = 0
    while it < max_iters:
        if (it & 15) == 0 and time.perf_counter() > deadline:
            break
        it += 1
        V = float(vpart.sum())
        f = conf + lam * V
        # Candidates: conflicting units, plus units of parts outside a band.
        own_c = C[np.arange(n), a]
        mask = own_c > 0
        if V > 0:
            mask |= vpart[a] > 0
        mask &= ~locked
        cand = np.flatnonzero(mask)
        if len(cand) == 0:
            # Nothing can change (everything locked): stop.
            break
        s = a[cand]
        w = W[cand]
        cs = own_c[cand]
        # Moves cand -> every part t.
        d_conf = C[cand] - cs[:, None]
        v_s = _violation(L[s] - w, lo[s], up[s], sc[s]) - vpart[s]
        v_t = _violation(L[None] + w[:, None], lo[None], up[None], sc[None]) - vpart[None]
        mv = d_conf + lam * (v_s[:, None] + v_t) + forbid[cand]
        mv[np.arange(len(cand)), s] = np.inf
        is_tabu = tabu[cand] > it
        mv_eff = np.where(is_tabu & (f + mv >= target_best - 1e-9), np.inf, mv)
        mv_eff = mv_eff + rng.random(mv.shape) * 1e-6
        bm = int(np.argmin(mv_eff))
        best_move = float(mv_eff.flat[bm])
        # Swaps cand <-> a movable unit j of another part t, only where i
        # does not gain conflicts by joining t (prunes most pairs cheaply).
        J = movable
        tj = a[J]
        ok = (C[cand][:, tj] <= cs[:, None] + slack) & (tj[None, :] != s[:, None])
        ri, ci = np.nonzero(ok)
        best_swap = np.inf
        if len(ri):
            u, v = cand[ri], J[ci]
            su, tv = s[ri], tj[ci]
            d_sw = C[u, tv] - cs[ri] + C[v, su] - C[v, tv] - 2 * X[u, v]
            dw = W[v] - W[u]
            v_s2 = _violation(L[su] + dw, lo[su], up[su], sc[su]) - vpart[su]
            v_t2 = _violation(L[tv] - dw, lo[tv], up[tv], sc[tv]) - vpart[tv]
            sw = d_sw + lam * (v_s2 + v_t2) + forbid[u, tv] + forbid[v, su]
            sw_tabu = (tabu[u, tv] > it) | (tabu[v, su] > it)
            sw_eff = np.where(sw_tabu & (f + sw >= target_best - 1e-9), np.inf, sw)
            sw_eff = sw_eff + rng.random(sw.shape) * 1e-6
            bs = int(np.argmin(sw_eff))
            best_swap = float(sw_eff[bs])
        if not np.isfinite(min(best_move, best_swap)):
            since = stall  # everything tabu: kick
        else:
            tenure = int(tenure_mult * len(cand)) + int(rng.integers(0, tenure_rand))
            if best_move <= best_swap:
                r, t = divmod(bm, k)
                pairs = [(int(cand[r]), int(t))]
            else:
                pairs = [(int(u[bs]), int(tv[bs])), (int(v[bs]), int(su[bs]))]
            touched = set()
            for u, t in pairs:
                src = int(a[u])
                touched |= {src, t}
                row = X[u].astype(np.int32)
                C[:, src] -= row
                C[:, t] += row
                L[src] -= W[u]
                L[t] += W[u]
                a[u] = t
                tabu[u, src] = it + tenure
            for t in touched:
                vpart[t] = _violation(L[t], lo[t], up[t], sc[t])
            conf = int(C[np.arange(n), a].sum()) // 2
        V = float(vpart.sum())
        f = conf + lam * V
        out_of_band += V > 0
        if f < target_best - 1e-9:
            target_best = f
            since = 0
        else:
            since += 1
        if conf == 0 and balanced(L):
            val = max_diameter(dist, a, k)
            if val < run_val:
                run_best, run_val, fails = a.copy(), val, 0
            if val < best_val:
                best, best_val = a.copy(), val
                stats["targets"] += 1
                trace.append((round(time.perf_counter() - t_start, 2), it, val))
            target = _largest_below(values, min(val, run_val))
            if target < 0:
                break
            X, C = rebuild()
            conf = int(C[np.arange(n), a].sum()) // 2
            target_best = np.inf
            since = 0
            continue
        if it % 50 == 0:
            # Adapt the band weight: aim at about half of the iterations in band.
            lam = min(lam * 1.3, 1e3) if out_of_band > 25 else max(lam / 1.3, 1e-2)
            out_of_band = 0
        if since >= stall and np.isfinite(run_val) and len(movable) >= 2:
            fails += 1
            if restart_after and fails > restart_after:
                # The kicks keep falling back into the same basin: a fresh
                # descent from the start plan (new random trajectory).
                stats["restarts"] += 1
                run_best, run_val, fails = assign.copy(), start_val, 0
                target = _largest_below(values, run_val)
                a = run_best.copy()
                kicks_now = 0
            else:
                # Iterated local search: back to the run's best plan, then kick.
                stats["kicks"] += 1
                a = run_best.copy()
                kicks_now = kick
            for _ in range(kicks_now):
                u, v = (int(x) for x in rng.choice(movable, size=2, replace=False))
                if a[u] != a[v] and forbid[u, a[v]] == 0 and forbid[v, a[u]] == 0:
                    a[u], a[v] = a[v], a[u]
            L = np.zeros_like(L)
            np.add.at(L, a, W)
            vpart = _violation(L, lo, up, sc)
            X, C = rebuild()
            conf = int(C[np.arange(n), a].sum()) // 2
            tabu[:] = 0
            target_best = np.inf
            since = 0
    stats["iterations"] = it
    stats["diameter"] = best_val
    stats["trace"] = trace
    return best, stats
