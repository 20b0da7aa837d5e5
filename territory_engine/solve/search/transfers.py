"""Transfers across empty country: regions grown until they fit, and chain transfers.

What the regional re-draws (:mod:`territory_engine.solve.search.redraw`) leave
on national instances are **isolated metros**: a city whose total weight is
not a whole number of territories (El Paso at 0.95 of a share, Salt Lake City
with three territories at 1.03–1.05), ringed by rural territories of mostly
empty cells. The fix needs weight to travel across the empty country to
territories several rings away, which a re-draw of the neighbourhood (whose
total does not fit its bands either) cannot find. Two moves do:

1. **Grown regions** (:func:`grown_region`). Around a violating territory
   ``t`` the region grows over the territory adjacency graph, one
   neighbouring territory at a time (the one leaving the smallest gap, ties
   by the distance of its centre from ``t``'s), until its totals fit
   *inside* the sum of its bands for every measure ``j``::

       Σ_R L_rj + μ Σ_R (τ_rj − L_rj)  ≤  Σ_R w_j(r)  ≤  Σ_R U_rj − μ Σ_R (U_rj − τ_rj)

   (``μ`` = :data:`FIT_MARGIN`, ``τ`` the band's centre), at most
   :data:`MAX_REGION_TERRITORIES` territories and :data:`MAX_REGION_UNITS`
   units. The region is re-drawn by bisection
   (:func:`~territory_engine.solve.seeds.bisection.bisect_region`), the
   search runs with its repair passes (no tabu) scoped to the region and its
   ring of neighbouring territories (:attr:`LocalSearch.scope`), and the
   re-draw is kept when the plan's total violation falls (else the whole
   plan is restored).
2. **Chain transfers** (:func:`chain_transfer`, ejection chains). From a
   violating territory ``s`` paths ``s = t0, t1, …, tr`` to territories
   that break a band the other way or lie inside their bands are found on
   the weighted territory graph
   (:func:`networkx.single_source_dijkstra`; an arc costs
   ``1 + 1 / (β + b_ab)`` with ``b_ab`` the boundary weight between the two
   territories in shares of a territory, so arcs with little weight on their
   border are avoided). Each arc is realised by moving *chunks*: a weighted
   boundary unit with the chain of (often empty) units that joins it to the
   border (:meth:`LocalSearch._chunk_candidates`), so empty units carry
   contiguity across empty country. The holder of the excess (``s`` first,
   then each ``t_q`` that received it) exchanges chunks with the next
   territory, either way, while that lowers ``E_a + γ E_b``: the band
   excesses of holder and receiver, scored on the *vector* of measures
   against bands tightened by :data:`TIGHTEN` (a chunk that cures one
   measure and breaks another scores the sum; ``γ`` =
   :data:`RECEIVER_WEIGHT`). A chain is kept when the plan's total
   violation falls, else undone.

Every territory part stays connected (a chunk touches its receiver, and its
giver is checked to stay connected and non-empty), and everything is bounded
by counts (rounds, regions, paths, chunks), never by shares of the clock, so
a run that is not cut by its deadline is the same on any machine.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import networkx as nx
import numpy as np

from territory_engine.solve.search.local import EPS, LocalSearch
from territory_engine.solve.seeds.bisection import bisect_region

FIT_MARGIN = 0.5
"""Share ``μ`` of each half-band a grown region's mean load must keep from the band's edges."""

MAX_REGION_TERRITORIES = 64
"""Territories a grown region may hold.

A regional deficit at a million accounts (Utah, Idaho and Montana, 28 territories
at the low edge of their bands) fits only in regions of 10 to 91 territories:
with 24 at most, 1 grown region of the 23 tried was found."""

MAX_REGION_UNITS = 24_000
"""Units a grown region may hold (a bisection of more is a seed, not a repair)."""

MAX_ROUNDS = 6
"""Rounds of grown-region re-draws and chain transfers (each ends with a descent)."""

MAX_REGIONS = 12
"""Grown regions re-drawn per round (each costs a bisection and a search of its ring)."""

REGION_TRIES = 2
"""Bisections (different trees) tried per grown region."""

MAX_PATHS = 8
"""Paths to territories with room tried per violating territory."""

MAX_HOPS = 16
"""Longest path (in territories) a chain may follow."""

MAX_CHUNKS = 12
"""Chunks one arc of a chain may move."""

CHUNK_LEN = 24
"""Longest chunk (units, mostly empty ones) an arc may move at once."""

TIGHTEN = 0.5
"""Share of each half-band removed when a chain scores its holder (so the holders end inside)."""

RECEIVER_WEIGHT = 0.5
"""Weight ``γ`` of the receiver's tightened excess in an arc's score: a chunk is passed when
``E_a + γ E_b`` falls, so the excess travels on (``γ < 1``) without growing on the way."""

BORDER_BETA = 0.05
"""``β`` of an arc's cost ``1 + 1/(β + b_ab)``: the cost of an arc without weight on its border."""


def transfer_rounds(
    search: LocalSearch,
    rng: np.random.Generator,
    deadline: float,
    progress: Callable[[dict], None] | None = None,
) -> tuple[int, int, bool]:
    """Grown-region re-draws, then chain transfers, in rounds while the bands break.

    A round visits the violating territories worst first: a grown region
    around each of the first :data:`MAX_REGIONS` (:func:`grown_region`,
    re-drawn by :func:`redraw_grown`),
    then chains from each still violating one (:func:`chain_transfer`), then
    the search descends. Rounds stop when the plan is feasible, when a round
    keeps nothing, after :data:`MAX_ROUNDS`, or at the deadline.

    Parameters
    ----------
    search
        The search whose plan is repaired in place.
    rng
        Source of the bisection's trees.
    deadline
        ``time.perf_counter()`` value at which to stop.
    progress
        Called after each round with its counts and the violation.

    Returns
    -------
    (int, int, bool)
        Rounds run, moves kept (re-draws plus chains), and whether the deadline
        cut the rounds short.
    """
    rounds = kept_total = 0
    saved = search.repair_passes, search.tabu
    search.repair_passes = search.tabu = False
    try:
        for _ in range(MAX_ROUNDS):
            if search.violation() <= EPS:
                break
            if time.perf_counter() > deadline:
                return rounds, kept_total, True
            rounds += 1
            regions = chains = 0
            touched: set[int] = set()
            for t in _violating(search)[:MAX_REGIONS]:
                if time.perf_counter() > deadline:
                    return rounds, kept_total, True
                if search.viol_t[t] <= EPS or t in touched:
                    continue
                region = grown_region(search, t)
                if region is None or touched.intersection(region):
                    continue
                if redraw_grown(search, region, rng, deadline):
                    regions += 1
                    touched.update(region)
            for t in _violating(search):
                if time.perf_counter() > deadline:
                    return rounds, kept_total, True
                if search.viol_t[t] > EPS and chain_transfer(search, t, deadline=deadline):
                    chains += 1
            stop = search.run(rng, deadline)
            kept_total += regions + chains
            if progress is not None:
                progress(
                    {
                        "round": rounds,
                        "regions": regions,
                        "chains": chains,
                        "violation": search.violation(),
                    }
                )
            if stop == "time_limit":
                return rounds, kept_total, True
            if not regions + chains:
                break
    finally:
        search.repair_passes, search.tabu = saved
    return rounds, kept_total, False


def _violating(search: LocalSearch) -> list[int]:
    """Violating territories, worst first (ties by index)."""
    return sorted(
        (t for t in range(search.k) if search.viol_t[t] > EPS),
        key=lambda t: (-search.viol_t[t], t),
    )


def _gap(search: LocalSearch, region: list[int] | set[int], margin: float) -> float:
    """How far the region's totals lie outside its summed bands, ``margin`` of a half-band in.

    Summed over measures, each relative to the region's summed targets; 0 when the region fits.
    """
    gap = 0.0
    for j in range(search.m):
        total = sum(search.loads[t][j] for t in region)
        lo = sum(search.lo[t][j] for t in region)
        hi = sum(search.hi[t][j] for t in region)
        tau = sum(search.tau[t][j] for t in region)
        low = lo + margin * (tau - lo)
        high = hi - margin * (hi - tau) if np.isfinite(hi) else np.inf
        gap += max(0.0, low - total, total - high) / max(tau, 1e-12)
    return gap


def grown_region(
    search: LocalSearch,
    t: int,
    margin: float = FIT_MARGIN,
    max_territories: int = MAX_REGION_TERRITORIES,
    max_units: int = MAX_REGION_UNITS,
) -> list[int] | None:
    """Territory ``t`` plus neighbours until the region's totals fit (module doc).

    The frontier (territories adjacent to the region, in ``t``'s eligibility
    group) is added one territory at a time: the one that leaves the smallest
    gap (:func:`_gap`), ties by the distance of its centre from ``t``'s, then
    by index. Returns the sorted region, or ``None`` when no region within the
    limits fits.
    """
    problem = search.p
    group = problem.territory_group[t]
    z = search.c.centres
    size = len(search.members[t])
    region = {t}
    while _gap(search, region, margin) > EPS:
        frontier = set()
        for r in region:
            frontier |= search.territory_neighbours(r)
        frontier = {u for u in frontier - region if problem.territory_group[u] == group}
        if not frontier or len(region) >= max_territories:
            return None
        u = min(
            sorted(frontier),
            key=lambda u: (_gap(search, region | {u}, margin), float(np.sum((z[u] - z[t]) ** 2))),
        )
        size += len(search.members[u])
        if size > max_units:
            return None
        region.add(u)
    if len(region) < 2:
        return None
    return sorted(region)


def redraw_grown(
    search: LocalSearch,
    region: list[int],
    rng: np.random.Generator,
    deadline: float,
    tries: int = REGION_TRIES,
) -> bool:
    """Re-draw ``region`` by bisection and search; keep when the plan's violation falls.

    The search after the bisection runs with the chain, chunk, path and
    exchange repairs (:attr:`LocalSearch.repair_passes`) but without the tabu
    repair, over the region and its ring only (:attr:`LocalSearch.scope`):
    a search of the whole plan took 116 s per re-draw at a million accounts.
    Up to ``tries`` bisections (each its own trees) are tried; the plan is
    restored after each that does not lower the total violation. Regions
    holding a locked unit are left alone.
    """
    problem = search.p
    units = np.array(sorted(i for r in region for i in search.members[r]), dtype=int)
    if (problem.locked[units] >= 0).any():
        return False
    before = search.violation()
    ring = sorted(set(region).union(*(search.territory_neighbours(r) for r in region)))
    for _ in range(tries):
        if time.perf_counter() > deadline:
            return False
        drawn = bisect_region(problem, units, np.asarray(region), rng, search.c.centres)
        if drawn is None:
            return False
        old = list(search.assign)
        moves = search.moves
        for i, r in zip(units.tolist(), drawn.tolist(), strict=True):
            if search.assign[i] != r:
                search.apply(i, r)
        # A bisection breaks bands the descent alone rarely mends (measured on the
        # 100k-split residue: 0.107 -> 0.120 by descent, 0.080 with the repair passes).
        saved = search.repair_passes, search.tabu, search.scope
        search.repair_passes, search.tabu, search.scope = True, False, ring
        search.run(rng, deadline)
        search.repair_passes, search.tabu, search.scope = saved
        if search.violation() < before - EPS:
            return True
        search.reset(old)
        search.moves = moves
    return False


def territory_graph(search: LocalSearch) -> nx.Graph:
    """The territory adjacency graph, each arc weighted ``1 + 1/(β + b_ab)``.

    ``b_ab`` is the smaller of the two sides' boundary weights: the weight of
    the units of ``a`` touching ``b`` (and of ``b`` touching ``a``), summed over
    measures relative to the territories' targets.
    """
    assign = np.asarray(search.assign)
    rows, cols = search._adj_rows, search._adj_cols
    a, b = assign[rows], assign[cols]
    cut = a != b
    rows, a, b = rows[cut], a[cut], b[cut]
    tau = np.asarray(search.tau)
    weights = np.asarray(search.w, dtype=float)
    # Each unit counts once per neighbouring territory, not once per edge.
    pairs = np.unique(np.stack([rows, a, b], axis=1), axis=0)
    rel = (weights[pairs[:, 0]] / tau[pairs[:, 1]]).sum(axis=1)
    border: dict[tuple[int, int], float] = {}
    for (_, x, y), w in zip(pairs.tolist(), rel.tolist(), strict=True):
        border[(x, y)] = border.get((x, y), 0.0) + w
    graph = nx.Graph()
    graph.add_nodes_from(range(search.k))
    for (x, y), w in border.items():
        if x < y:
            b_xy = min(w, border.get((y, x), 0.0))
            graph.add_edge(x, y, weight=1.0 + 1.0 / (BORDER_BETA + b_xy))
    return graph


def _tight_viol(search: LocalSearch, t: int, load: list[float]) -> float:
    """Band excess of ``t`` at ``load`` against its band tightened by :data:`TIGHTEN`."""
    v = 0.0
    lo, hi, tau = search.lo[t], search.hi[t], search.tau[t]
    for j in range(search.m):
        x = load[j]
        low = lo[j] + TIGHTEN * (tau[j] - lo[j])
        if x < low:
            v += (low - x) / tau[j]
        elif np.isfinite(hi[j]):
            high = hi[j] - TIGHTEN * (hi[j] - tau[j])
            if x > high:
                v += (x - high) / tau[j]
    return v


def chain_transfer(
    search: LocalSearch,
    s: int,
    max_paths: int = MAX_PATHS,
    graph: nx.Graph | None = None,
    deadline: float = float("inf"),
) -> bool:
    """Pass ``s``'s band excess along a path to a territory with room (module doc).

    Destinations are the territories of ``s``'s group at most :data:`MAX_HOPS`
    arcs away that break a band the other way (first) or lie inside their
    tightened bands (:func:`_tight_viol` is 0), each nearest first on the
    weighted territory graph (:func:`territory_graph`). Up
    to ``max_paths`` paths are tried; the first whose chain lowers the plan's
    total violation is kept.

    Returns
    -------
    bool
        Whether a chain was kept.
    """
    problem = search.p
    if graph is None:
        graph = territory_graph(search)
    group = problem.territory_group[s]
    same = [u for u in graph.nodes if problem.territory_group[u] == group]
    dist, paths = nx.single_source_dijkstra(graph.subgraph(same), s)
    need = _need(search, s)
    dests = []
    for u in dist:
        if u == s or len(paths[u]) - 1 > MAX_HOPS:
            continue
        # A territory short of what ``s`` has too much of (or the reverse) absorbs
        # the chain best; one inside its tightened band can absorb it too.
        takes = any(a * b < 0 for a, b in zip(need, _need(search, u), strict=True))
        if takes or _tight_viol(search, u, search.loads[u]) <= EPS:
            dests.append((0 if takes else 1, dist[u], u))
    dests = [u for *_, u in sorted(dests)]
    for u in dests[:max_paths]:
        if time.perf_counter() > deadline:
            return False
        if _try_chain(search, paths[u]):
            return True
    return False


def _need(search: LocalSearch, t: int) -> list[int]:
    """Per measure: +1 when ``t`` is above its band, -1 below, 0 inside."""
    return [
        1
        if search.loads[t][j] > search.hi[t][j] + EPS
        else -1
        if search.loads[t][j] < search.lo[t][j] - EPS
        else 0
        for j in range(search.m)
    ]


def _try_chain(search: LocalSearch, path: list[int]) -> bool:
    """Realise the chain along ``path`` (``s`` first); keep it when the violation falls."""
    before = search.violation()
    done: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(path):
        # ``a`` holds the excess and passes it to ``b``.
        moved = _pass_on(search, a, b, done)
        if not moved or _tight_viol(search, b, search.loads[b]) <= EPS:
            break
    if search.violation() < before - EPS:
        return True
    for i, t in reversed(done):
        search.apply(i, t)
        search.moves -= 2
    return False


def _pass_on(search: LocalSearch, a: int, b: int, done: list[tuple[int, int]]) -> int:
    """Move chunks between ``a`` and ``b``, either way, while ``a``'s tightened excess falls.

    Chunks of ``a`` bordering ``b`` go to ``b`` and chunks of ``b`` bordering
    ``a`` come to ``a``, best first by ``a``'s excess on the vector of
    measures: a territory above one band and below another gives the units
    rich in the first and takes those rich in the second (an exchange).
    Returns the number of chunks moved; each unit's previous territory is
    appended to ``done`` for undoing.
    """
    moved = 0
    for _ in range(MAX_CHUNKS):
        if _tight_viol(search, a, search.loads[a]) <= EPS:
            break
        current = _tight_viol(search, a, search.loads[a]) + RECEIVER_WEIGHT * _tight_viol(
            search, b, search.loads[b]
        )
        scored = []
        for src, dst, sign in ((a, b, -1.0), (b, a, 1.0)):
            for chunk in search._chunk_candidates(src, dst, CHUNK_LEN):
                delta = [sum(search.w[i][j] for i in chunk) for j in range(search.m)]
                load_a = [x + sign * d for x, d in zip(search.loads[a], delta, strict=True)]
                load_b = [x - sign * d for x, d in zip(search.loads[b], delta, strict=True)]
                score = _tight_viol(search, a, load_a) + RECEIVER_WEIGHT * _tight_viol(
                    search, b, load_b
                )
                if score < current - EPS:
                    scored.append((score, len(chunk), src, chunk[0], chunk))
        scored.sort(key=lambda c: c[:4])
        for _, _, src, _, chunk in scored:
            if search._stays_connected(src, set(chunk)):
                dst = b if src == a else a
                for i in chunk:
                    done.append((i, src))
                    search.apply(i, dst)
                moved += 1
                break
        else:
            break
    return moved
