"""``align``: the solver's entry point — seed, repair, improve, report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.data import ProblemData
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.centres import choose_centres, recentre
from territory_engine.solve.contiguity import repair_contiguity
from territory_engine.solve.costs import CostModel
from territory_engine.solve.lns import lns_improve, lns_repair
from territory_engine.solve.local_search import EPS, TABU_MAX_WORK, LocalSearch
from territory_engine.solve.power_seed import power_seed
from territory_engine.solve.seed import lp_seed

ProgressFn = Callable[[str, dict], None]


@dataclass(frozen=True)
class Alignment:
    """A solved assignment of units to territories.

    Attributes
    ----------
    assign
        (n,) territory index of each unit.
    centres
        (k, 2) lon/lat of territory centres used by the travel term.
    feasible
        True when every band, the disruption cap and (if on) contiguity hold.
    violations
        Human-readable list of what does not hold (empty when feasible).
    stats
        Solver statistics (timings, objective terms, stop reason).
    """

    assign: np.ndarray
    centres: np.ndarray
    feasible: bool
    violations: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def band_violations(problem: ProblemData, assign: np.ndarray, rtol: float = 1e-9) -> list[str]:
    """Every (territory, measure) whose total lies outside its band, in words."""
    loads = np.zeros((problem.n_territories, problem.n_measures))
    np.add.at(loads, assign, problem.weights)
    out = []
    for t, j in zip(*np.nonzero(loads < problem.lower * (1 - rtol) - 1e-9), strict=True):
        out.append(
            f"{problem.territory_ids[t]}: {problem.measure_names[j]} {loads[t, j]:,.1f} "
            f"below its band's low {problem.lower[t, j]:,.1f}"
        )
    for t, j in zip(*np.nonzero(loads > problem.upper * (1 + rtol) + 1e-9), strict=True):
        out.append(
            f"{problem.territory_ids[t]}: {problem.measure_names[j]} {loads[t, j]:,.1f} "
            f"above its band's high {problem.upper[t, j]:,.1f}"
        )
    return out


def check_alignment(problem: ProblemData, assign: np.ndarray, costs: CostModel) -> list[str]:
    """Every hard rule of ``problem`` that ``assign`` breaks, in words."""
    out = band_violations(problem, assign)
    bad_elig = np.flatnonzero(problem.unit_group != problem.territory_group[assign])
    out += [f"unit {problem.unit_ids[i]} is assigned to an ineligible territory" for i in bad_elig]
    bad_lock = np.flatnonzero((problem.locked >= 0) & (problem.locked != assign))
    out += [f"unit {problem.unit_ids[i]} is not with its locked territory" for i in bad_lock]
    if problem.contiguity:
        pieces = pieces_per_territory(problem.adjacency, assign, problem.n_territories)
        out += [
            f"{problem.territory_ids[t]} is in {pieces[t]} separate pieces"
            for t in np.flatnonzero(pieces > 1)
        ]
    if problem.max_moved_potential is not None:
        moved = float(costs.moved_potential(np.arange(problem.n_units), assign).sum())
        if moved > problem.max_moved_potential * (1 + 1e-9):
            out.append(
                f"potential changing owner {moved:,.0f} exceeds the cap "
                f"{problem.max_moved_potential:,.0f}"
            )
    return out


def _lp_seed_rounds(
    problem: ProblemData,
    rng: np.random.Generator,
    candidates: int,
    stats: dict,
    report: Callable[[str, dict], None],
) -> tuple[np.ndarray, np.ndarray, CostModel, list[np.ndarray]]:
    """LP seed, with re-centring rounds when centres are free.

    Returns the rounded assignment, the centres, their cost model and the
    candidate territories per unit.
    """
    if problem.free_centres:
        centres = choose_centres(problem, rng)
    else:
        centres = np.asarray(problem.centres, dtype=float)
    rounds = 4 if problem.free_centres else 1
    for r in range(rounds):
        costs = CostModel(problem, centres)
        cands = nearest_candidates(problem, centres, candidates)
        t0 = time.perf_counter()
        assign, lp_stats = _seed(problem, costs, cands)
        stats.update(lp_stats)
        stats["seed_seconds"] = round(time.perf_counter() - t0, 3)
        report("seed", {"round": r + 1, "rounds": rounds, **lp_stats})
        if problem.free_centres and r < rounds - 1:
            new_centres = recentre(problem, assign, centres)
            if np.allclose(new_centres, centres):
                break
            centres = new_centres
    return assign, centres, costs, cands


LP_MAX_VARIABLES = 100_000
"""Above this many (unit, candidate) pairs the seed is a power diagram, not the LP.

The LP's time depends on the structure as much as on the size: 35 s for a
10,000-unit grid with 80 territories (80,000 pairs), 2 s for the sample's
social what-if (63,000 pairs, most of them exception units), over 200 s for
30,000 units and 250 territories (240,000 pairs)."""


def _seed(
    problem: ProblemData,
    costs: CostModel,
    cands: list[np.ndarray],
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, dict]:
    """The balanced start: the LP (:func:`lp_seed`) or, for large models, a power diagram.

    The LP balances every measure but grows superlinearly (over 200 s at
    240,000 variables on 2 cores); the power diagram
    (:func:`territory_engine.solve.power_seed.power_seed`) takes seconds and
    starts closer to contiguity. With ``rng`` (a restart) the LP's costs or the
    diagram's centres are perturbed.
    """
    if sum(len(c) for c in cands) > LP_MAX_VARIABLES:
        return power_seed(problem, costs.centres, cands, rng=rng)
    return lp_seed(problem, costs if rng is None else _NoisyCosts(costs, rng), cands)


MAX_RESTARTS = 8
"""Perturbed LP seeds tried when local search stalls with bands still broken."""

RESTART_NOISE = 0.3
"""Spread of the multiplicative noise on the seed LP's costs in a restart."""


class _NoisyCosts:
    """A :class:`CostModel` whose linear costs carry fixed multiplicative noise.

    Used only to seed a restart: the LP then rounds to a different vertex (a
    different basin for local search); the search itself uses the true costs.
    """

    def __init__(self, base: CostModel, rng: np.random.Generator) -> None:
        self.base = base
        n, k = base.problem.n_units, base.problem.n_territories
        self.noise = rng.lognormal(0.0, RESTART_NOISE, size=(n, k))

    def __getattr__(self, name: str):
        return getattr(self.base, name)

    def assignment_cost(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        return self.base.assignment_cost(units, terrs) * self.noise[units, terrs]


def _restarts(
    problem: ProblemData,
    costs: CostModel,
    cands: list[np.ndarray],
    search: LocalSearch,
    stop: str,
    rng: np.random.Generator,
    deadline: float,
    report: Callable[[str, dict], None],
    seed: int,
    min_share: float = 0.0,
    search_share: float = 2 / 3,
) -> tuple[LocalSearch, str, int, bool]:
    """Re-seed from perturbed LPs until one local search ends feasible.

    Local search on a seed sometimes stalls in a basin where a small band
    violation cannot be repaired by any move it knows (a territory above one
    band and below another, hemmed in by full neighbours). It stalls within
    seconds, so trying other basins is cheap: the LP's costs get seeded
    multiplicative noise (:class:`_NoisyCosts`; on large instances the power
    diagram's centres are jittered), the seed is repaired and searched with
    the true costs, and a residue is handed to the exact region repair. The
    first feasible search wins; with none, the least violated one is kept. At
    most :data:`MAX_RESTARTS`, each with an equal share of the time left (the
    first share is kept back for the exact repair that follows), but never
    less than ``min_share`` (what the first seed and search took), and none
    when less than half of that is left. ``search_share`` of each share goes
    to the local search. Restarts happen only when the first search fails, so
    a plan that converges on its first seed stays deterministic.

    Returns
    -------
    (LocalSearch, str, int, bool)
        The kept search, its stop reason, the restarts tried, and whether the
        clock cut any of them short (the result then depends on machine speed).
    """
    best, best_stop, tried, cut = search, stop, 0, False
    for r in range(MAX_RESTARTS):
        now = time.perf_counter()
        if deadline - now < min_share / 2:
            # Not even time to seed and descend once: a restart would only overrun.
            break
        tried = r + 1
        # Each restart gets an equal share of the time left, so one slow basin
        # cannot eat the others' chances; but at least what the first seed and
        # descent took, or on a large instance no restart gets anywhere.
        budget = min(deadline, now + max((deadline - now) / (MAX_RESTARTS - r + 1), min_share))
        # Local search gets two thirds of the share, the exact repair the rest
        # (on large instances the search gets all of it).
        search_until = now + (budget - now) * search_share
        assign, _ = _seed(problem, costs, cands, rng)
        if problem.contiguity:
            assign = repair_contiguity(problem, assign, costs)
        trial = LocalSearch(problem, costs, assign, cands)
        trial_stop = trial.run(rng, search_until, progress=lambda info: report("search", info))
        if trial.violation() > EPS and time.perf_counter() < budget:
            # Another basin often leaves a residue an exact region re-solve can fix.
            lns_repair(trial, costs, budget, seed)
            trial_stop = trial.run(rng, budget, progress=lambda info: report("search", info))
        cut = cut or trial_stop == "time_limit" or time.perf_counter() >= budget
        report("restart", {"restart": tried, "violation": trial.violation()})
        if trial.violation() < best.violation() - EPS:
            best, best_stop = trial, trial_stop
        if best.violation() <= EPS:
            break
    return best, best_stop, tried, cut


REGION_HOPS = 2
"""Rings of neighbouring territories re-drawn around a residue on large instances."""

REGIONAL_TABU_WORK = 200_000
"""Tabu budget (units scanned) of each regional retry: a retry that stalls is cheap to redo."""


def _regional_reseeds(
    problem: ProblemData,
    costs: CostModel,
    cands: list[np.ndarray],
    search: LocalSearch,
    rng: np.random.Generator,
    deadline: float,
    report: Callable[[str, dict], None],
) -> tuple[str, int, bool]:
    """Large instances: re-draw the region around the residue until the bands hold.

    When a search on tens of thousands of units stalls, its residue is a few
    territories in an otherwise balanced plan; a whole restart would throw
    that away (each costs a seed and a full descent, 25 s at 30,000 units).
    Instead the violating territories and :data:`REGION_HOPS` rings of their
    neighbours are re-drawn by a power diagram restricted to them, with
    jittered centres (:func:`power_seed` with ``units`` and
    ``territories``), repaired for contiguity and searched again. A retry
    that ends more violated is undone; the next draws another diagram. Stops
    when feasible or at the deadline.

    Returns
    -------
    (str, int, bool)
        The last stop reason, the retries made, and whether the clock cut them.
    """
    k = problem.n_territories
    best_v, best = search.violation(), list(search.assign)
    search.tabu_work = REGIONAL_TABU_WORK
    stop, tried = "stalled_infeasible", 0
    while search.violation() > EPS and time.perf_counter() < deadline:
        tried += 1
        bad = [t for t in range(k) if search.viol_t[t] > EPS]
        region, ring = set(bad), set(bad)
        for _ in range(REGION_HOPS):
            ring = set().union(*(search.territory_neighbours(t) for t in ring)) - region
            region |= ring
        inside = np.zeros(k, dtype=bool)
        inside[sorted(region)] = True
        assign = np.asarray(search.assign)
        units = np.flatnonzero(inside[assign] & (problem.locked < 0))
        sub = []
        for i in units.tolist():
            c = cands[i][inside[cands[i]]]
            sub.append(c if len(c) else np.array([assign[i]]))
        drawn, _ = power_seed(
            problem, costs.centres, sub, rng=rng, units=units, territories=np.flatnonzero(inside)
        )
        trial = assign.copy()
        trial[units] = drawn
        if problem.contiguity:
            trial = repair_contiguity(problem, trial, costs)
        search.reset(trial.tolist())
        stop = search.run(rng, deadline, progress=lambda info: report("search", info))
        report("regional", {"retry": tried, "region": len(region), "violation": search.violation()})
        if search.violation() < best_v - EPS:
            best_v, best = search.violation(), list(search.assign)
        else:
            search.reset(best)
    search.tabu_work = TABU_MAX_WORK
    return stop, tried, stop == "time_limit"


def align(
    problem: ProblemData,
    *,
    seed: int = 0,
    time_limit: float = 30.0,
    candidates: int = 8,
    lns_rounds: int = 0,
    lns_parts: int = 4,
    lns_reach: int = 3,
    lns_seconds: float = 1.0,
    lns_workers: int = 1,
    initial: np.ndarray | None = None,
    progress: ProgressFn | None = None,
) -> Alignment:
    """Assign units to territories: balanced, optionally contiguous, low travel.

    Steps: (1) territory centres — rep homes, or chosen by weighted k-means++
    and refined by alternating assignment and re-centring when free;
    (2) the LP seed on the ``candidates`` nearest eligible territories per unit
    (:mod:`territory_engine.solve.seed`), rounded; (3) contiguity repair when
    contiguity is on; (4) local search (:mod:`territory_engine.solve.local_search`)
    until a local optimum or the time limit.

    Parameters
    ----------
    problem
        The problem.
    seed
        Seeds every random choice: the same problem and seed give the same
        alignment whenever the search converges before the time limit
        (``stats["stop_reason"] == "converged"``); when the clock cut a repair or
        restart short (``stats["clock_cut"]``), the stop reason is ``"time_limit"``.
    time_limit
        Seconds for the whole solve; the best assignment found is returned.
    candidates
        Nearest eligible territories a unit considers in the seed.
    lns_rounds
        Regions (a territory and up to three neighbours) re-solved exactly by
        CP-SAT to improve a feasible plan; CP-SAT always repairs bands that
        local search cannot.
    lns_parts, lns_reach, lns_seconds
        Territories per LNS region (``>= k``: the whole instance), adjacency
        steps a unit may move, CP-SAT deterministic seconds per region.
    lns_workers
        CP-SAT workers in LNS (more than one: faster, not deterministic).
    initial
        A starting assignment (for example a spanning-tree seed); replaces
        the LP seed and the contiguity repair.
    progress
        Called with ``(phase, info)`` as the solve advances.

    Returns
    -------
    Alignment
    """
    start = time.perf_counter()
    deadline = start + time_limit
    rng = np.random.default_rng(seed)
    stats: dict = {"seed": seed, "time_limit": time_limit, "candidates": candidates}

    def report(phase: str, info: dict) -> None:
        if progress is not None:
            progress(phase, info)

    if initial is not None:
        assign = np.asarray(initial, dtype=int).copy()
        centres = (
            recentre(problem, assign, problem.xy[np.zeros(problem.n_territories, dtype=int)])
            if problem.free_centres
            else np.asarray(problem.centres, dtype=float)
        )
        costs = CostModel(problem, centres)
        cands = nearest_candidates(problem, centres, candidates)
        stats["start"] = "initial"
    else:
        stats["start"] = "lp"
        assign, centres, costs, cands = _lp_seed_rounds(problem, rng, candidates, stats, report)
        if problem.contiguity:
            assign = repair_contiguity(problem, assign, costs)
            report("contiguity", {"violations": len(band_violations(problem, assign))})
    stats["seed_objective"] = costs.objective(assign)
    stats["seed_violation_count"] = len(band_violations(problem, assign))

    search = LocalSearch(problem, costs, assign, cands)
    t0 = time.perf_counter()
    stop = search.run(rng, deadline, progress=lambda info: report("search", info))
    first_search = time.perf_counter() - t0
    restarts = 0
    # Phases whose outcome the wall clock decided: with any, the plan may differ
    # between machines even when the last search converges.
    clock_cut: list[str] = []
    # Large instances (power-diagram seed): exact region repairs rarely finish
    # there (regions of 2 to 8 territories around a residue at 30,000 units ran
    # 5 to 40 s each without a plan), so the time goes to restarts first.
    large = stats.get("seed_method") == "power_diagram"
    if search.violation() > EPS and time.perf_counter() < deadline and not large:
        # Exact repair first, on a third of the time left: it usually fixes a
        # small residue quickly, and when it cannot, the restarts get the rest.
        share = time.perf_counter() + (deadline - time.perf_counter()) / 3
        repaired = lns_repair(search, costs, share, seed)
        report("repair", {"feasible": repaired, "violation": search.violation()})
        if not repaired and time.perf_counter() >= share:
            clock_cut.append("repair")
        # Even a partial repair moves the search to a new basin: descend again.
        stop = search.run(rng, deadline, progress=lambda info: report("search", info))
    if search.violation() > EPS and initial is None and large:
        stop, restarts, cut = _regional_reseeds(
            problem, costs, cands, search, rng, deadline, report
        )
        if cut:
            clock_cut.append("regional_reseeds")
    elif search.violation() > EPS and initial is None:
        search, stop, restarts, cut = _restarts(
            problem,
            costs,
            cands,
            search,
            stop,
            rng,
            deadline,
            report,
            seed,
            min_share=stats.get("seed_seconds", 0.0) + first_search,
            search_share=1.0 if large else 2 / 3,
        )
        if cut:
            clock_cut.append("restarts")
    stats["restarts"] = restarts
    if search.violation() > EPS and time.perf_counter() < deadline:
        repaired = lns_repair(search, costs, deadline, seed)
        report("repair", {"feasible": repaired, "violation": search.violation()})
        stop = search.run(rng, deadline, progress=lambda info: report("search", info))
    lns_gain = 0
    if search.violation() <= EPS and lns_rounds > 0 and time.perf_counter() < deadline:
        lns_gain = lns_improve(
            search,
            costs,
            rng,
            deadline,
            seed,
            lns_rounds,
            parts=lns_parts,
            reach=lns_reach,
            dt=lns_seconds,
            workers=lns_workers,
        )
        report("lns", {"improved_regions": lns_gain, "rounds": lns_rounds})
        stop = search.run(rng, deadline, progress=lambda info: report("search", info))
    stats["lns_improved_regions"] = lns_gain
    assign = np.asarray(search.assign, dtype=int)
    stats["search_seconds"] = round(time.perf_counter() - t0, 3)
    stats["search_moves"] = search.moves
    if stop == "converged" and clock_cut:
        stop = "time_limit"
    stats["stop_reason"] = stop
    stats["clock_cut"] = clock_cut
    stats["objective"] = costs.objective(assign)
    stats["seconds"] = round(time.perf_counter() - start, 3)
    violations = check_alignment(problem, assign, costs)
    return Alignment(
        assign=assign,
        centres=centres,
        feasible=not violations,
        violations=violations,
        stats=stats,
    )
