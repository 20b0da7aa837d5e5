"""Regional re-draws: spread a residue of band violations over the neighbours by bisection.

When the local search stalls on a large instance, what is left is a few
territories a few per cent outside their bands, each hemmed in by
neighbours near their own band edges: no single, chunk or path move fixes
them. The region ``R = {t} ∪ N(t)`` around a violating territory ``t`` (its
neighbours in the territory graph) holds about ``|R|`` shares of weight;
re-drawing it by recursive bisection
(:func:`~territory_engine.solve.seeds.bisection.bisect_region`, its parts
matched to the territories' centres) spreads its imbalance over all of its
territories, which then usually fit their bands.
A re-draw is kept when the region's total violation falls::

    accept  Σ_{r ∈ R} V_r(after) + V_cap(after)  <  Σ_{r ∈ R} V_r(before) + V_cap(before)

The parts of a bisection are connected and hold weight by construction, so a
re-draw never breaks contiguity and never empties a territory. A round visits
the violating territories worst first (regions of one round do not overlap),
then the local search descends; rounds stop when :data:`PATIENCE` rounds in a
row keep nothing (on large plans: remove less than :data:`MIN_ROUND_GAIN` of the
violation), after
:data:`MAX_ROUNDS`, or at the deadline. Everything is bounded by counts, not
by the clock, so a run that finishes is the same on any machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from territory_engine.solve.exact.lns import _grow_region
from territory_engine.solve.search.local import EPS, LocalSearch
from territory_engine.solve.seeds.bisection import bisect_region

MAX_ROUNDS = 40
"""Rounds of re-draws (each followed by a descent)."""

REGION_MIN_TERRITORIES = (3, 5)
"""Sizes of the grown regions tried after the neighbourhood (grown until their totals
fit their bands, as LNS does)."""

PATIENCE = 2
"""Rounds in a row that may gain little before the re-draws stop (new trees each round)."""

MIN_ROUND_GAIN = 0.02
"""Share of the violation a round must remove to count as a gain (for :data:`PATIENCE`),
on plans of :data:`MIN_GAIN_FROM_UNITS` units or more; below, any kept re-draw counts.

At a million accounts (211,000 units) late rounds kept one or two re-draws each
for 13 s and 0.3–2 % of the violation; the transfers that follow
(:mod:`territory_engine.solve.search.transfers`) remove a regional deficit the
re-draws cannot, and need that time (seed 2 of the 1m-split class became feasible)."""

MIN_GAIN_FROM_UNITS = 100_000
"""Plans from this many units end their re-draw rounds on small gains.

At 30,000 units (the 100k-split class, 30 s) a round costs about a second and
the late ones still pay: ending on small gains raised the worst deviation of
five seeds from 6.2 % to 7.2 % on average."""

MAX_REGION_UNITS = 5_000
"""Regions larger than this are not re-drawn (a bisection of them is a seed, not a repair)."""


def redraw_rounds(
    search: LocalSearch,
    rng: np.random.Generator,
    deadline: float,
    seed: int = 0,
    progress: Callable[[dict], None] | None = None,
) -> tuple[int, int, bool]:
    """Re-draw regions around violating territories until the bands hold (module docstring).

    Returns
    -------
    (int, int, bool)
        Rounds run, re-draws kept, and whether the deadline cut the rounds short.
    """
    kept_total = 0
    rounds = idle = 0
    min_gain = MIN_ROUND_GAIN if search.n >= MIN_GAIN_FROM_UNITS else 0.0
    for _ in range(MAX_ROUNDS):
        if search.violation() <= EPS:
            break
        if time.perf_counter() > deadline:
            return rounds, kept_total, True
        rounds += 1
        before = search.violation()
        kept = _one_round(search, rng, deadline)
        kept_total += kept
        search.repair_passes = search.tabu = False
        stop = search.run(rng, deadline)
        search.repair_passes = search.tabu = True
        if progress is not None:
            progress({"round": rounds, "kept": kept, "violation": search.violation()})
        if stop == "time_limit":
            return rounds, kept_total, True
        gained = kept and search.violation() <= (1.0 - min_gain) * before
        idle = 0 if gained else idle + 1
        if idle >= PATIENCE:
            break
    return rounds, kept_total, False


def _one_round(search: LocalSearch, rng: np.random.Generator, deadline: float) -> int:
    """One pass of re-draws over the violating territories, worst first."""
    order = sorted(
        (t for t in range(search.k) if search.viol_t[t] > EPS), key=lambda t: (-search.viol_t[t], t)
    )
    touched: set[int] = set()
    kept = 0
    for t in order:
        if time.perf_counter() > deadline:
            break
        if t in touched or search.viol_t[t] <= EPS:
            continue
        for region in _regions(search, t):
            if touched.intersection(region):
                break
            if _try_redraw(search, region, rng):
                kept += 1
                touched.update(region)
                break
    return kept


def _regions(search: LocalSearch, t: int) -> list[list[int]]:
    """Regions tried around ``t``, smallest first: its neighbours, then grown until they fit."""
    out = [sorted({t} | search.territory_neighbours(t))]
    for size in REGION_MIN_TERRITORIES:
        region = _grow_region(search, t, size)
        if region not in out:
            out.append(region)
    return out


def _try_redraw(search: LocalSearch, region: list[int], rng: np.random.Generator) -> bool:
    """Re-draw ``region`` by bisection; keep it when its violation falls, else undo."""
    problem = search.p
    units = np.array(sorted(i for r in region for i in search.members[r]), dtype=int)
    if len(units) > MAX_REGION_UNITS or (problem.locked[units] >= 0).any():
        return False
    if len(np.unique(problem.territory_group[region])) > 1:
        return False
    drawn = bisect_region(problem, units, np.asarray(region), rng, search.c.centres)
    if drawn is None:
        return False
    before = _region_violation(search, region)
    # The units' own entries: converting the whole assignment list cost a tenth of
    # a 1m-unit run, re-draw after re-draw.
    old = np.array([search.assign[i] for i in units.tolist()])
    _assign(search, units, drawn)
    if _region_violation(search, region) < before - EPS:
        return True
    _assign(search, units, old)
    search.moves -= 2 * int((old != drawn).sum())
    return False


def _region_violation(search: LocalSearch, region: list[int]) -> float:
    return sum(search.viol_t[r] for r in region) + search._cap_viol(search.moved)


def _assign(search: LocalSearch, units: np.ndarray, terrs: np.ndarray) -> None:
    """Give each of ``units`` its territory of ``terrs`` through the search's own bookkeeping."""
    for i, t in zip(units.tolist(), terrs.tolist(), strict=True):
        if search.assign[i] != t:
            search.apply(i, t)
