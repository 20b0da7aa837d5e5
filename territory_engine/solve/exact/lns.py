"""Large-neighbourhood search: re-solve groups of adjacent territories exactly.

Repair: a territory that breaks a band is re-solved together with its
neighbouring territories (then the neighbours of those) by CP-SAT
(:mod:`territory_engine.solve.exact.subproblem`), which either finds a feasible
re-assignment of the region or proves there is none inside it.

Improvement: once feasible, a random territory and its neighbours are
re-solved for a lower objective; the result is kept when the whole plan's
objective improves. The number of rounds is fixed (not the clock), so a seed
gives one plan.
"""

from __future__ import annotations

import time

import numpy as np

from territory_engine.solve.costs import CostModel
from territory_engine.solve.exact.subproblem import resolve_region
from territory_engine.solve.search.local import EPS, LocalSearch

MAX_REGION = 8


def _roots(
    search: LocalSearch, region: list[int], rng: np.random.Generator | None = None
) -> dict[int, int]:
    """Root unit per territory: a locked unit if any, else the member nearest the centre.

    With ``rng``, a random member instead: fixing roots breaks the symmetry
    of the exact model, and moving them between rounds lets repeated
    re-solves of the same region explore different partitions.
    """
    roots = {}
    for t in region:
        # Roots anchor contiguity flows: units without neighbours cannot be one.
        members = sorted(i for i in search.members[t] if search.nbrs[i])
        if not members:
            continue
        locked = [i for i in members if search.locked[i] == t]
        if locked:
            roots[t] = locked[0]
        elif rng is not None:
            roots[t] = members[int(rng.integers(len(members)))]
        else:
            roots[t] = min(members, key=lambda i: (search._dist(i, t), i))
    return roots


def _resolve(
    search: LocalSearch,
    costs: CostModel,
    region: list[int],
    seed: int,
    *,
    dt: float,
    reach: int,
    deadline: float,
    optimise: bool = True,
    rng: np.random.Generator | None = None,
    workers: int = 1,
) -> np.ndarray | None:
    """Re-solve ``region`` from the search's current state (see :func:`resolve_region`)."""
    assign = np.asarray(search.assign)
    in_region = np.isin(assign, region)
    outside = np.flatnonzero(~in_region)
    moved_outside = (
        float(costs.moved_potential(outside, assign[outside]).sum()) if len(outside) else 0.0
    )
    return resolve_region(
        search.p,
        assign,
        region,
        costs.assignment_cost,
        moved_fn=costs.moved_potential,
        moved_outside=moved_outside,
        roots=_roots(search, region, rng),
        reach=reach,
        deterministic_time=dt,
        max_seconds=deadline - time.perf_counter(),
        seed=seed,
        optimise=optimise,
        cut_weight=costs.w_compact / costs.n_edges if optimise else 0.0,
        workers=workers,
    )


def _aggregate_gap(search: LocalSearch, region: set[int]) -> float:
    """How far the region's totals are from fitting the sum of its bands (relative, 0 = fits)."""
    gap = 0.0
    for j in range(search.m):
        total = sum(search.loads[t][j] for t in region)
        lo = sum(search.lo[t][j] for t in region)
        hi = sum(search.hi[t][j] for t in region)
        ref = max(sum(search.tau[t][j] for t in region), 1e-12)
        gap += max(0.0, lo - total, total - hi) / ref
    return gap


def _grow_region(search: LocalSearch, s: int, min_size: int) -> list[int]:
    """Territory ``s`` plus neighbours, added greedily until the region's totals fit its bands.

    A region whose total lies outside the sum of its bands cannot be
    repaired inside it, so neighbours that close the aggregate gap are added
    first (ties by index); at least ``min_size`` territories, at most
    :data:`MAX_REGION`.
    """
    region = {s}
    while len(region) < MAX_REGION:
        gap = _aggregate_gap(search, region)
        if gap <= EPS and len(region) >= min_size:
            break
        frontier = set()
        for t in region:
            frontier |= search.territory_neighbours(t)
        frontier -= region
        if not frontier:
            break
        best = min(sorted(frontier), key=lambda u: _aggregate_gap(search, region | {u}))
        region.add(best)
    return sorted(region)


def lns_repair(
    search: LocalSearch,
    costs: CostModel,
    deadline: float,
    seed: int,
    max_regions: int | None = None,
) -> bool:
    """Re-solve regions around violating territories until the bands hold.

    For each violating territory (worst first) a region is grown until its
    totals fit its bands (:func:`_grow_region`) and re-solved exactly; when
    CP-SAT finds no feasible re-assignment the region grows and is tried
    again. Each CP-SAT call is bounded by deterministic time; with
    ``max_regions`` at most that many regions are tried in all.

    Returns
    -------
    bool
        True when the violation reached zero.
    """
    tried: set[tuple[int, ...]] = set()
    while search.violation() > EPS and time.perf_counter() < deadline:
        bad = sorted(range(search.k), key=lambda t: (-search.viol_t[t], t))
        progress = False
        for s in bad:
            if search.viol_t[s] <= EPS or time.perf_counter() > deadline:
                break
            for min_size in (3, 5, MAX_REGION):
                region = tuple(_grow_region(search, s, min_size))
                if region in tried:
                    continue
                if max_regions is not None and len(tried) >= max_regions:
                    return False
                tried.add(region)
                before = search.violation()
                for reach, dt in ((4, 5.0), (8, 10.0)):
                    new = _resolve(
                        search,
                        costs,
                        list(region),
                        seed,
                        dt=dt,
                        reach=reach,
                        deadline=deadline,
                        optimise=False,
                    )
                    if new is None:
                        continue
                    old = list(search.assign)
                    search.reset(new.tolist())
                    if search.violation() < before - EPS:
                        progress = True
                        break
                    search.reset(old)
                if progress:
                    break
                if time.perf_counter() > deadline:
                    break
            if progress:
                break
        if not progress:
            return False
    return search.violation() <= EPS


def lns_improve(
    search: LocalSearch,
    costs: CostModel,
    rng: np.random.Generator,
    deadline: float,
    seed: int,
    rounds: int,
    *,
    parts: int = 4,
    reach: int = 3,
    dt: float = 1.0,
    workers: int = 1,
) -> int:
    """Re-solve random regions (a territory and neighbours) for a lower objective.

    Parameters
    ----------
    rounds
        Number of regions to re-solve (the loop also stops at the deadline).
    parts
        Territories per region (a random territory and up to ``parts - 1`` of
        its neighbours); ``parts >= k`` re-solves the whole instance, with
        roots moved to the new solution each round.
    reach
        Adjacency steps a unit may move from its territory.
    dt
        CP-SAT deterministic time per region.
    workers
        CP-SAT workers (more than one is faster but not deterministic).

    Returns
    -------
    int
        Number of regions whose re-solve improved the plan.
    """
    improved = 0
    for r in range(rounds):
        if time.perf_counter() > deadline:
            break
        if parts >= search.k:
            region = list(range(search.k))
        else:
            t = int(rng.integers(search.k))
            neigh = sorted(search.territory_neighbours(t))
            if not neigh:
                continue
            pick = rng.permutation(neigh)[: min(len(neigh), parts - 1)].tolist()
            region = sorted({t, *pick})
        before = costs.objective(np.asarray(search.assign))["total"]
        new = _resolve(
            search,
            costs,
            region,
            seed + r,
            dt=dt,
            reach=reach,
            deadline=deadline,
            rng=rng if r > 0 else None,
            workers=workers,
        )
        if new is None:
            continue
        after = costs.objective(new)["total"]
        if after < before - 1e-9:
            old = list(search.assign)
            search.reset(new.tolist())
            if search.violation() > EPS:  # never trade feasibility for objective
                search.reset(old)
                continue
            improved += 1
    return improved
