"""Min-max diameter improvement (commercial territory design, CTDP).

The diameter of a part is the largest shortest-path distance between two of
its units; the objective is the largest diameter over all parts. Starting from
a balanced plan (the inertia objective gives compact parts), the search
repeatedly takes the part with the largest diameter and tries to move one end
of its longest pair to another part, or to swap it with a unit of another
part, such that every band still holds and no part's diameter reaches the
current maximum. All candidate swaps of one unit are evaluated at once with
numpy (O(|part|²) per candidate part). Deterministic; stops at a local
optimum or the deadline.
"""

from __future__ import annotations

import time

import numpy as np

from territory_engine.problem.data import ProblemData


def _in_bands(problem: ProblemData, load: np.ndarray, t: int) -> bool:
    return bool(np.all(load >= problem.lower[t] - 1e-9) and np.all(load <= problem.upper[t] + 1e-9))


def _diam(dist: np.ndarray, idx: np.ndarray) -> float:
    return float(dist[np.ix_(idx, idx)].max()) if len(idx) > 1 else 0.0


def reduce_diameter(
    problem: ProblemData,
    assign: np.ndarray,
    dist: np.ndarray,
    *,
    deadline: float,
    seed: int = 0,
    max_iters: int = 100_000,
) -> np.ndarray:
    """Lower the largest part diameter while keeping every band.

    Parameters
    ----------
    problem
        The problem (bands, locks, eligibility).
    assign
        (n,) balanced starting assignment (not modified).
    dist
        (n, n) all-pairs shortest-path distances.
    deadline
        ``time.perf_counter()`` value to stop at.
    seed
        Unused today (the search is deterministic); kept for the solver interface.
    max_iters
        Safety bound on improving steps.

    Returns
    -------
    numpy.ndarray
        The improved assignment.
    """
    del seed
    a = assign.copy()
    k = problem.n_territories
    w = problem.weights
    loads = np.zeros((k, problem.n_measures))
    np.add.at(loads, a, w)
    members = [np.flatnonzero(a == t) for t in range(k)]
    diam = np.array([_diam(dist, members[t]) for t in range(k)])
    locked = problem.locked >= 0
    elig = problem.eligible()
    for _ in range(max_iters):
        if time.perf_counter() > deadline:
            break
        order = np.argsort(-diam, kind="stable")
        improved = False
        for t in order[:3]:  # the worst parts, worst first
            # Both parts must end below t's own diameter: the sorted vector of
            # diameters then falls lexicographically, so the search cannot cycle.
            current_max = float(diam[t])
            idx = members[t]
            if len(idx) < 2:
                continue
            sub = dist[np.ix_(idx, idx)]
            i, j = np.unravel_index(int(np.argmax(sub)), sub.shape)
            # The farther end from the rest of the part goes first.
            ends = sorted({int(idx[i]), int(idx[j])}, key=lambda u: -dist[u, idx].sum())
            for u in ends:
                if locked[u]:
                    continue
                rest = idx[idx != u]
                d_rest = _diam(dist, rest)
                if d_rest >= diam[t] - 1e-9:
                    continue  # u is not what makes the part wide
                best: tuple[float, int, int] | None = None
                for s in range(k):
                    if s == t or not elig[u, s]:
                        continue
                    ms = members[s]
                    reach = float(dist[u, ms].max()) if len(ms) else 0.0
                    # Move u to s.
                    new_ds = max(diam[s], reach)
                    if new_ds < current_max - 1e-9:
                        lt, ls = loads[t] - w[u], loads[s] + w[u]
                        if _in_bands(problem, lt, t) and _in_bands(problem, ls, s):
                            score = max(new_ds, d_rest)
                            if best is None or score < best[0]:
                                best = (score, s, -1)
                    # Swap u with a unit v of s (vectorised over v).
                    cand = ms[~locked[ms] & elig[ms, t]]
                    if len(cand) == 0:
                        continue
                    lt = loads[t] - w[u] + w[cand]
                    ls = loads[s] + w[u] - w[cand]
                    ok = np.all(
                        (lt >= problem.lower[t] - 1e-9) & (lt <= problem.upper[t] + 1e-9), axis=1
                    ) & np.all(
                        (ls >= problem.lower[s] - 1e-9) & (ls <= problem.upper[s] + 1e-9), axis=1
                    )
                    if not ok.any():
                        continue
                    cand = cand[ok]
                    # New diameter of t with v instead of u; of s with u instead of v
                    # (bounded above by the old diameter of s, exact for the new pairs).
                    new_dt = np.maximum(d_rest, dist[np.ix_(cand, rest)].max(axis=1))
                    # max over s \ {v} of d(u, .): the max, or the runner-up where v is the argmax.
                    row = dist[u, ms]
                    if len(ms) > 1:
                        top2 = np.partition(row, len(row) - 2)[-2:]
                        arg = ms[int(np.argmax(row))]
                        d_u_s = np.where(cand == arg, top2[0], top2[1])
                    else:
                        d_u_s = np.zeros(len(cand))
                    new_ds = np.maximum(diam[s], d_u_s)
                    score = np.maximum(new_dt, new_ds)
                    b = int(np.argmin(score))
                    if score[b] < current_max - 1e-9 and (best is None or score[b] < best[0]):
                        best = (float(score[b]), s, int(cand[b]))
                if best is None:
                    continue
                _, s, v = best
                a[u] = s
                loads[t] -= w[u]
                loads[s] += w[u]
                if v >= 0:
                    a[v] = t
                    loads[s] -= w[v]
                    loads[t] += w[v]
                for x in (t, s):
                    members[x] = np.flatnonzero(a == x)
                    diam[x] = _diam(dist, members[x])
                improved = True
                break
            if improved:
                break
        if not improved:
            break
    return a
