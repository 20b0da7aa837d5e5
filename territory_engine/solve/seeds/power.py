"""Balanced power-diagram seed: the fast start for large instances.

Each unit goes to the candidate territory that minimises its distance to the
territory's centre plus a price per territory::

    a_i = argmin_{t ∈ C_i}  d(i, z_t)^p / δ + π_t

With the price independent of the unit's weights, territories are cells of an
additively weighted Voronoi (power) diagram around their centres, so they are
(on a fine enough graph) connected by construction: the contiguity repair has
little to undo. The prices ``π`` balance one combined measure, the mean of
each unit's measures relative to the territories' mean target
(``s_i = (1/m) Σ_j w_ij / μ_j``). They solve the entropy-regularised
semi-discrete transport problem, a smooth concave maximisation::

    max_π  Σ_i s_i · softmin_ε,t∈C_i (d_it / δ + π_t)  −  Σ_t π_t S_t

whose gradient is the territory's soft load minus its target ``S_t``
(targets rescaled to the units' total); L-BFGS solves it in a few hundred
evaluations of O(Σ_i |C_i|) numpy work. ``δ`` is the median spread of a
unit's candidate distances (so ``ε`` is relative) and ``softmin_ε(x) =
−ε log Σ exp(−x/ε)``.

Why not the LP (:mod:`territory_engine.solve.seeds.lp`) at this size: the LP
balances every measure exactly but takes over 200 s at 240,000 variables
(30,000 units × 8 candidates) on our 2-core machine, and its rounding
scatters units (the LP sends a heavy unit and a light neighbour to different
territories), so after the contiguity repair its seed was further from the
bands (total relative violation 17.8) than this one (9.4), which takes 2–5 s.
The local search balances the individual measures.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult, minimize
from scipy.spatial import cKDTree
from scipy.special import logsumexp

from territory_engine.problem.data import ProblemData
from territory_engine.problem.memo import per_object

SMOOTHING = 0.003
"""``ε`` relative to the median candidate-distance spread: small, so rounding barely moves loads."""

MAX_ITERATIONS = 300
"""L-BFGS iterations for the prices (deterministic)."""

MAX_EVALUATIONS = 2 * MAX_ITERATIONS
"""Dual evaluations for the prices, line searches included: on clustered data the line
searches can take 5,000 evaluations in 300 iterations (200 s at 30,000 units), and the
bisection replaces a diagram that starves territories anyway."""

JITTER = 0.25
"""Restart noise: centres are shifted by this share of the typical centre spacing."""


def _read_only(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two arrays, no longer writable (they are shared through the cache)."""
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


@per_object()
def relative_weights(problem: ProblemData) -> tuple[np.ndarray, np.ndarray]:
    """``(r, R)``: units' and territories' measures relative to each measure's mean target.

    Computed once per problem (the regional re-draws of a national plan ask for them
    thousands of times) and read-only.

    Only measures with a positive mean target are kept (``(n, m')`` and
    ``(k, m')``); a territory's target is the middle of its band (its low when
    the band is open above). Without any such measure, one column of ones.
    """
    target = np.where(
        np.isfinite(problem.upper), (problem.lower + problem.upper) / 2, problem.lower
    )
    mu = target.mean(axis=0)
    used = mu > 0
    if not used.any():
        return _read_only(np.ones((problem.n_units, 1)), np.ones((problem.n_territories, 1)))
    return _read_only(
        np.ascontiguousarray(problem.weights[:, used] / mu[used]),
        target[:, used] / mu[used],
    )


@per_object()
def combined_weights(problem: ProblemData) -> tuple[np.ndarray, np.ndarray]:
    """``(s, S)``: each unit's combined relative weight and each territory's target (unscaled).

    Computed once per problem and read-only, as :func:`relative_weights`.
    """
    rel, rel_target = relative_weights(problem)
    return _read_only(rel.mean(axis=1), rel_target.mean(axis=1))


def power_seed(
    problem: ProblemData,
    centres: np.ndarray,
    candidates: list[np.ndarray],
    rng: np.random.Generator | None = None,
    units: np.ndarray | None = None,
    territories: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """Assign units by a balanced power diagram (see the module docstring).

    Parameters
    ----------
    problem
        The problem.
    centres
        (k, 2) territory centres.
    candidates
        Candidate territories per unit (a locked unit has only its lock); with
        ``units``, per unit of ``units``.
    rng
        With a generator, the diagram's centres are jittered (restarts start
        from another diagram); the travel term still uses the true centres.
    units, territories
        Re-draw only these units among only these territories (a region
        around a residue): the territories' targets are rescaled to what the
        units hold, and the candidates must lie among the territories.

    Returns
    -------
    (numpy.ndarray, dict)
        A territory per unit (of ``units`` when given), and statistics
        (iterations, the combined measure's largest relative deviation).
    """
    k = problem.n_territories
    idx = np.arange(problem.n_units) if units is None else np.asarray(units, dtype=int)
    n = len(idx)
    table, pad = _candidate_table(candidates)
    width = table.shape[1]
    z = np.asarray(centres, dtype=float)
    if rng is not None and k > 1:
        # Jitter in coordinate units, scaled by the typical nearest-centre spacing.
        gap = cKDTree(z).query(z, k=2)[0][:, 1]
        z = z + rng.normal(0.0, JITTER * float(np.median(gap)), size=z.shape)
    rows = idx[np.repeat(np.arange(n), width)]
    if problem.travel_cost is not None:
        # Travel times are per (unit, territory), not between points: a restart
        # perturbs the times rather than the centres.
        dist = problem.travel_cost[rows, table.ravel()].reshape(n, width)
        if rng is not None:
            dist = dist * rng.lognormal(0.0, JITTER, size=dist.shape)
    else:
        dist = problem.paired_distances(problem.xy[rows], z[table.ravel()]).reshape(n, width)
    dist = dist**problem.travel_power
    spread = np.ptp(np.where(pad, np.nan, dist), axis=1) if width > 1 else np.ones(n)
    delta = float(np.nanmedian(spread)) if width > 1 else 1.0
    delta = delta if np.isfinite(delta) and delta > 0 else 1.0
    cost = np.where(pad, np.inf, dist / delta)
    s, big_s = combined_weights(problem)
    s = s[idx]
    if territories is not None:
        big_s = np.where(np.isin(np.arange(k), territories), big_s, 0.0)
    # The prices only exist when the targets add up to what the units hold.
    big_s = big_s * (s.sum() / max(big_s.sum(), 1e-12))
    res = _prices(cost, table, s, big_s)
    reduced = cost + res.x[table]
    # Ties (a unit on a diagram edge) go to the first candidate, deterministically.
    assign = table[np.arange(n), np.argmin(reduced, axis=1)]
    load = np.bincount(assign, weights=s, minlength=k)
    held = big_s > 0
    stats = {
        "seed_method": "power_diagram",
        "seed_iterations": int(res.nit),
        "seed_combined_deviation": float(np.max(np.abs(load[held] / big_s[held] - 1)))
        if held.any()
        else 0.0,
    }
    return assign, stats


def _candidate_table(candidates: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Padded (n, width) candidate table and its padding mask.

    Padding repeats a unit's first candidate (at infinite distance in the
    caller, so it never wins).
    """
    lens = np.array([len(c) for c in candidates])
    width = int(lens.max())
    table = np.zeros((len(candidates), width), dtype=int)
    pad = np.arange(width)[None, :] >= lens[:, None]
    flat = np.concatenate(candidates).astype(int)
    table[~pad] = flat
    table[pad] = np.repeat(table[:, 0], width - lens)
    return table, pad


def _prices(
    cost: np.ndarray, table: np.ndarray, s: np.ndarray, big_s: np.ndarray
) -> OptimizeResult:
    """The prices ``π`` (``res.x``): L-BFGS on the smoothed dual of the module docstring.

    ``cost`` (n, width) holds ``d_it / δ`` per candidate of ``table``; ``s`` the
    units' combined weights, ``big_s`` the territories' targets.
    """
    k = len(big_s)
    eps = SMOOTHING
    table_flat = table.ravel()

    def neg_dual(pi: np.ndarray) -> tuple[float, np.ndarray]:
        reduced = -(cost + pi[table]) / eps
        lse = logsumexp(reduced, axis=1, keepdims=True)
        share = np.exp(reduced - lse)
        value = float(np.sum(-eps * lse[:, 0] * s) - pi @ big_s)
        load = np.bincount(table_flat, weights=(share * s[:, None]).ravel(), minlength=k)
        return -value, -(load - big_s)

    return minimize(
        neg_dual,
        np.zeros(k),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": MAX_ITERATIONS, "maxfun": MAX_EVALUATIONS},
    )
