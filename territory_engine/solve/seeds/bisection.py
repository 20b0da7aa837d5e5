"""Recursive bisection of the weighted unit graph: a never-empty, contiguous seed.

On clustered data (accounts in cities, empty country between them) a seed
that places centres on *cells* starves territories: a centre on an empty
cell, or two centres in one city, leaves a territory with nothing, and a
local search that moves one unit at a time cannot grow it back across the
empty cells. This seed splits *mass* instead. A region (at first a whole
eligibility group) that must hold the territories ``T`` is cut in two
connected halves whose combined weights are in the ratio of the halves'
targets, and each half is split again until it holds one territory::

    split(R, T):  T = A ∪ B,  |A| = ⌊|T|/2⌋
                  choose a tree edge e of a spanning tree of R (R − e = R_A ∪ R_B) minimising
                      1000 · Σ_j Σ_{H ∈ {A, B}} max(0, |w_j(R_H) / (σ_H · w_j(R)) − 1| − ε)
                      + (‖c(R_A) − g_A‖ + ‖c(R_B) − g_B‖) / ρ_R
                  subject to  R_A holds ≥ |A| and R_B ≥ |B| units with weight

where ``w_j`` is measure ``j`` relative to its mean target, ``σ_A`` the
share of A's territories in the region's combined target
(:func:`~territory_engine.solve.seeds.power.combined_weights`; ``σ_B = 1 − σ_A``),
``c`` a half's mass centroid, ``g_A``, ``g_B`` the mass centroids of the two sides of
the region's weighted median cut along its principal axis (so the halves are
compact, not the snakes a random tree cut gives), ``ρ_R`` the region's RMS
radius and ``ε`` = :data:`SPLIT_SLACK`. Cutting one edge of a spanning tree
leaves both sides connected, so every territory is **contiguous and holds
weight by construction**. With fixed centres the territories of ``A`` are
those whose homes lie lowest along the same axis, so homes stay on their
side, and once drawn the parts are re-matched to the homes by a min-cost
assignment (:func:`match_homes`). Trees are minimum spanning trees of the
unit graph under edge lengths times seeded lognormal noise (more per split
for small regions, :data:`TREE_WORK`; the best cut kept); every cut is then
refined by boundary moves
(:func:`~territory_engine.solve.seeds.bisection_kernel.refine_split`). The tree
and cut search is compiled (:mod:`territory_engine.solve.seeds.bisection_kernel`):
about 5 s for 27,000 units in 250 parts on our 2-core machine.

Balance is approximate (median 1 %, worst about 15 % of the combined measure
per part on the 100k national instance, where city cells hold half a share);
the local search and the regional re-draws (:mod:`territory_engine.solve.search.redraw`)
balance the measures one by one afterwards.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components

from territory_engine.problem.data import ProblemData
from territory_engine.problem.memo import per_object
from territory_engine.solve.seeds.power import combined_weights, relative_weights

TREE_WORK = 200_000
"""Units a split may spend on spanning trees: small regions (where one tree
rarely has a cut near the target) draw many trees, large ones few."""

TREES_PER_SPLIT = (4, 48)
"""Fewest and most spanning trees drawn per split; the best cut over all of them is kept."""

SPLIT_SLACK = 0.005
"""Relative deviation of a half's combined weight that costs nothing (``ε``)."""

REFINE_MOVES = 200
"""Boundary moves a refinement may make at least ..."""

REFINE_MOVES_PER_UNIT = 0.05
"""... and per unit of the region, up to :data:`REFINE_MAX_MOVES`: the top cuts of a
national graph (100,000 units a half, a weighted unit worth about 1 % of a territory)
need thousands of moves to come within the slack. Refining every cut, not only those
of regions up to 3,000 units, took the bisection seed of the 1m class (200,737 units,
1,000 territories, ±5 %) from 352 and 537 territories out of band (seeds 0, 1) to 184
and 122, at the same seconds."""

REFINE_MAX_MOVES = 10_000
"""Most boundary moves of one refinement (each scans the region once)."""

TREE_NOISE = 0.5
"""Spread of the lognormal noise on edge lengths that makes each tree different."""


def bisection_seed(
    problem: ProblemData, rng: np.random.Generator
) -> tuple[np.ndarray, dict] | None:
    """Assign units by recursive bisection (see the module docstring).

    Parameters
    ----------
    problem
        The problem. Every eligibility group's units must be connected in the
        adjacency and hold at least as many units with weight as the group
        has territories.
    rng
        Draws the spanning trees.

    Returns
    -------
    (numpy.ndarray, dict) or None
        A territory per unit and statistics (``seed_method``,
        ``seed_combined_deviation``), or ``None`` when a group's graph is not
        connected or cannot hold its territories (the caller falls back).
    """
    s, big_s = combined_weights(problem)
    assign = np.full(problem.n_units, -1)
    for g in np.unique(problem.territory_group):
        units = np.flatnonzero(problem.unit_group == g)
        terrs = np.flatnonzero(problem.territory_group == g)
        drawn = bisect_region(problem, units, terrs, rng)
        if drawn is None:
            return None
        assign[units] = drawn
    if (assign < 0).any():
        return None
    load = np.bincount(assign, weights=s, minlength=problem.n_territories)
    target = big_s * (s.sum() / max(big_s.sum(), 1e-12))
    held = target > 0
    stats = {
        "seed_method": "bisection",
        "seed_combined_deviation": float(np.max(np.abs(load[held] / target[held] - 1)))
        if held.any()
        else 0.0,
    }
    return assign, stats


def bisect_region(
    problem: ProblemData,
    units: np.ndarray,
    terrs: np.ndarray,
    rng: np.random.Generator,
    centres: np.ndarray | None = None,
) -> np.ndarray | None:
    """Split the connected ``units`` among ``terrs`` by recursive bisection.

    Each territory's share of the units' weight is its share of the
    territories' targets. With ``centres`` (the reps' homes, or the centres
    a search already uses) homes steer the cuts and the parts are then
    matched to them (:func:`match_homes`); by default the problem's fixed
    centres, none when they are free. Used for a whole group by :func:`bisection_seed`
    and for the region around a residue by the solver's regional re-draws.

    Returns
    -------
    numpy.ndarray or None
        A territory per unit of ``units``, or ``None`` when the units are not
        connected or hold fewer units with weight than there are territories.
    """
    _, big_s = combined_weights(problem)
    rel, _ = relative_weights(problem)
    xy = _plane(problem)
    if centres is None and not problem.free_centres:
        centres = np.asarray(problem.centres, dtype=float)
    pos = np.full(problem.n_units, -1)
    pos[units] = np.arange(len(units))
    out = np.full(len(units), -1)
    if len(units) == 0 or len(terrs) == 0:
        return None
    stack = [(np.asarray(units), np.asarray(terrs))]
    while stack:
        nodes, ts = stack.pop()
        if len(ts) == 1:
            out[pos[nodes]] = ts[0]
            continue
        halves = _split(problem, nodes, ts, rel, big_s, xy, rng, centres)
        if halves is None:
            return None
        stack.extend(halves)
    if centres is not None:
        out = match_homes(problem, np.asarray(units), out, np.asarray(terrs), big_s, centres)
    return out


def match_homes(
    problem: ProblemData,
    units: np.ndarray,
    drawn: np.ndarray,
    terrs: np.ndarray,
    big_s: np.ndarray,
    centres: np.ndarray,
) -> np.ndarray:
    """Give each drawn part to the rep whose home suits it: a min-cost matching.

    Bisection places homes on the right side of each cut, but inside a city
    with many reps the leaves can end up far from the home they were drawn
    for. The parts are re-matched to the territories by
    :func:`scipy.optimize.linear_sum_assignment` on ``mass_P · d(c_P, z_t)^p``
    (a part's combined weight times the distance from its mass centroid to
    the home, to the travel power); a territory whose combined target differs
    from the part's by more than :data:`SPLIT_SLACK` may not take it (bands
    scaled by capacity stay with their reps).
    """
    from scipy.optimize import linear_sum_assignment

    s, _ = combined_weights(problem)
    pos = {int(t): q for q, t in enumerate(terrs)}
    part = np.array([pos[int(t)] for t in drawn])
    k = len(terrs)
    cw = s[units] + 1e-6 * max(float(s[units].mean()), 1e-12)
    mass = np.bincount(part, weights=cw, minlength=k)
    cx = np.bincount(part, weights=cw * problem.xy[units, 0], minlength=k) / mass
    cy = np.bincount(part, weights=cw * problem.xy[units, 1], minlength=k) / mass
    homes = np.asarray(centres, dtype=float)[terrs]
    centroids = np.column_stack([cx, cy])
    # (part, home) distances, one home at a time: k × k pairs.
    dist = np.stack(
        [problem.paired_distances(centroids, np.repeat(h[None], k, 0)) for h in homes], axis=1
    )
    cost = mass[:, None] * dist**problem.travel_power
    target = big_s[terrs]
    fits = np.abs(target[None, :] / target[:, None] - 1) <= SPLIT_SLACK
    cost = np.where(fits, cost, cost.max() * k + 1.0)
    rows, cols = linear_sum_assignment(cost)
    remap = np.empty(k, dtype=int)
    remap[rows] = terrs[cols]
    return remap[part]


@per_object()
def _plane(problem: ProblemData) -> np.ndarray:
    """Unit coordinates in a local plane (lon scaled by the cosine of the mean latitude).

    Once per problem, read-only (every regional re-draw bisects with them).
    """
    xy = np.asarray(problem.xy, dtype=float).copy()
    if not problem.planar:
        xy[:, 0] *= np.cos(np.radians(np.mean(xy[:, 1])))
    xy.setflags(write=False)
    return xy


def _split(
    problem: ProblemData,
    nodes: np.ndarray,
    terrs: np.ndarray,
    rel: np.ndarray,
    big_s: np.ndarray,
    xy: np.ndarray,
    rng: np.random.Generator,
    centres: np.ndarray | None,
) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Cut region ``nodes`` (holding ``terrs``) in two; ``None`` when it cannot be cut.

    ``rel`` holds every unit's measures relative to their mean target, ``big_s``
    each territory's combined target (its share of the region is its side's share).
    """
    sub = problem.adjacency[nodes][:, nodes].tocoo()
    if connected_components(sub, directed=False)[0] > 1:
        return None
    n = len(nodes)
    mass = rel[nodes]
    # Empty units weigh a little in the centroids, so an empty half still has one.
    cw = mass.mean(axis=1) + 1e-6 * max(float(mass.mean()), 1e-12)
    pts = xy[nodes]
    axis = _principal_axis(pts, cw)
    side_a, side_b = _sides(problem, terrs, axis, centres)
    share_a = big_s[side_a].sum() / max(big_s[terrs].sum(), 1e-12)
    goal_a, goal_b, spread = _goal_centroids(pts, cw, axis, share_a)
    keep = sub.row < sub.col
    rows, cols = sub.row[keep], sub.col[keep]
    if len(rows) < n - 1:
        return None
    length = np.hypot(*(pts[rows] - pts[cols]).T) + 1e-9 * spread
    trees = int(np.clip(TREE_WORK // n, *TREES_PER_SPLIT))
    noise = rng.lognormal(0.0, TREE_NOISE, size=(trees, len(rows)))
    roots = rng.integers(n, size=trees)
    from territory_engine.solve.seeds.bisection_kernel import best_tree_cut, refine_split

    score, inside = best_tree_cut(
        rows.astype(np.int64),
        cols.astype(np.int64),
        length,
        noise,
        roots.astype(np.int64),
        mass,
        (mass > 0).any(axis=1).astype(np.float64),
        cw,
        pts,
        float(share_a),
        len(side_a),
        len(side_b),
        goal_a,
        goal_b,
        spread,
        SPLIT_SLACK,
    )
    if not np.isfinite(score):
        return None
    csr = sub.tocsr()
    moves = int(np.clip(REFINE_MOVES_PER_UNIT * n, REFINE_MOVES, REFINE_MAX_MOVES))
    inside = refine_split(
        csr.indptr.astype(np.int64),
        csr.indices.astype(np.int64),
        inside,
        mass,
        float(share_a),
        SPLIT_SLACK,
        moves,
    )
    return [(nodes[inside], side_a), (nodes[~inside], side_b)]


def _principal_axis(pts: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Unit vector of the largest weighted spread of ``pts``."""
    c = w @ pts / w.sum()
    d = pts - c
    cov = (d * w[:, None]).T @ d
    vals, vecs = np.linalg.eigh(cov)
    return vecs[:, int(np.argmax(vals))]


def _sides(
    problem: ProblemData, terrs: np.ndarray, axis: np.ndarray, centres: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Territories of the two halves: with centres, by their homes along ``axis``."""
    k_a = len(terrs) // 2
    if centres is None:
        return terrs[:k_a], terrs[k_a:]
    homes = np.asarray(centres, dtype=float)[terrs].copy()
    if not problem.planar:
        homes[:, 0] *= np.cos(np.radians(np.mean(problem.xy[:, 1])))
    order = terrs[np.argsort(homes @ axis, kind="stable")]
    return np.sort(order[:k_a]), np.sort(order[k_a:])


def _goal_centroids(
    pts: np.ndarray, w: np.ndarray, axis: np.ndarray, share_a: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Mass centroids of the weighted ``share_a`` cut along ``axis``, and the RMS radius."""
    proj = pts @ axis
    order = np.argsort(proj, kind="stable")
    cum = np.cumsum(w[order])
    low = np.zeros(len(pts), dtype=bool)
    low[order[: int(np.searchsorted(cum, share_a * cum[-1])) + 1]] = True
    goal_a = w[low] @ pts[low] / w[low].sum()
    goal_b = w[~low] @ pts[~low] / w[~low].sum() if (~low).any() else goal_a
    c = w @ pts / w.sum()
    spread = float(np.sqrt(w @ ((pts - c) ** 2).sum(axis=1) / w.sum())) or 1.0
    return goal_a, goal_b, spread
