"""``solve``: the solver's entry point — seed, repair, improve, report (``align``: keywords)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.data import ProblemData
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.exact.lns import lns_improve, lns_repair
from territory_engine.solve.params import DEFAULT_PARAMS, SolveParams
from territory_engine.solve.search.contiguity import repair_contiguity
from territory_engine.solve.search.local import EPS, TABU_MAX_WORK, LocalSearch
from territory_engine.solve.search.redraw import redraw_rounds
from territory_engine.solve.search.transfers import transfer_rounds
from territory_engine.solve.seeds.bisection import bisection_seed
from territory_engine.solve.seeds.centres import choose_centres, recentre
from territory_engine.solve.seeds.lp import lp_seed
from territory_engine.solve.seeds.power import combined_weights, power_seed
from territory_engine.solve.stats import ObjectiveTerms, SolverStats, StopReason

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
        Solver statistics (timings, objective terms, stop reason); ``stats.as_dict()``
        is what ``plan.json`` records.
    """

    assign: np.ndarray
    centres: np.ndarray
    feasible: bool
    violations: list[str] = field(default_factory=list)
    stats: SolverStats = field(kw_only=True)


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
    report: Callable[[str, dict], None],
) -> tuple[np.ndarray, np.ndarray, CostModel, list[np.ndarray], dict]:
    """LP seed, with re-centring rounds when centres are free.

    Returns the rounded assignment, the centres, their cost model, the
    candidate territories per unit and the seed's statistics (every round's
    keys, each with its last round's value, and ``seed_seconds`` of the last).
    """
    stats: dict = {}
    if problem.free_centres:
        centres = choose_centres(problem, rng)
    else:
        centres = np.asarray(problem.centres, dtype=float)
    if _large(problem, centres, candidates):
        t0 = time.perf_counter()
        if not problem.free_centres:
            # Reps' homes spread like the accounts (a uniform grid): the power
            # diagram is centred on them and travels less; on clustered data it
            # starves territories, and the bisection takes over.
            costs = CostModel(problem, centres)
            cands = nearest_candidates(problem, centres, candidates)
            assign, stats = power_seed(problem, centres, cands)
            if not _starved(problem, assign):
                stats["seed_seconds"] = round(time.perf_counter() - t0, 3)
                report("seed", {"round": 1, "rounds": 1, **stats})
                return assign, centres, costs, cands, stats
        drawn = bisection_seed(problem, rng)
        if drawn is not None:
            assign, stats = drawn
            if problem.free_centres:
                centres = recentre(problem, assign, centres)
            cands = nearest_candidates(problem, centres, candidates)
            # Locks win over the drawing; the contiguity repair then tidies around them.
            locked = problem.locked >= 0
            stats["seed_lock_changes"] = int((assign[locked] != problem.locked[locked]).sum())
            assign[locked] = problem.locked[locked]
            stats["seed_seconds"] = round(time.perf_counter() - t0, 3)
            report("seed", {"round": 1, "rounds": 1, **stats})
            costs = CostModel(problem, centres)
            return assign, centres, costs, cands, stats
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
    return assign, centres, costs, cands, stats


def _large(problem: ProblemData, centres: np.ndarray, candidates: int) -> bool:
    """Whether the LP would exceed :data:`LP_MAX_VARIABLES` (unit, candidate) pairs."""
    groups = int(max(problem.territory_group.max(), problem.unit_group.max())) + 1
    k_group = np.bincount(problem.territory_group, minlength=groups)[problem.unit_group]
    return int(np.minimum(k_group, candidates).sum()) > LP_MAX_VARIABLES


STARVED_SHARE = 0.5
"""A territory holding less than this share of its combined target is starved."""


def _starved(problem: ProblemData, assign: np.ndarray) -> bool:
    """Whether a territory of ``assign`` holds less than :data:`STARVED_SHARE` of its target."""
    s, big_s = combined_weights(problem)
    target = big_s * (s.sum() / max(big_s.sum(), 1e-12))
    load = np.bincount(assign, weights=s, minlength=problem.n_territories)
    return bool(np.any(load < STARVED_SHARE * target))


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
    (:func:`territory_engine.solve.seeds.power.power_seed`) takes seconds and
    starts closer to contiguity. With ``rng`` (a restart) the LP's costs or the
    diagram's centres are perturbed.
    """
    if sum(len(c) for c in cands) > LP_MAX_VARIABLES:
        return power_seed(problem, costs.centres, cands, rng=rng)
    return lp_seed(problem, costs if rng is None else _NoisyCosts(costs, rng), cands)


MAX_RESTARTS = 8
"""Perturbed LP seeds tried when local search stalls with bands still broken."""

REPAIR_REGIONS = 6
"""Exact region re-solves the early repair and each restart's repair may make (a count,
so that where the repair stops does not depend on machine speed)."""

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

    def assignment_cost(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        return self.base.assignment_cost(units, terrs) * self.noise[units, terrs]

    def moved_potential(self, units: np.ndarray, terrs: np.ndarray) -> np.ndarray:
        # The disruption cap is a constraint of the LP, not a cost: no noise.
        return self.base.moved_potential(units, terrs)


def _restarts(
    problem: ProblemData,
    costs: CostModel,
    cands: list[np.ndarray],
    search: LocalSearch,
    stop: StopReason,
    rng: np.random.Generator,
    deadline: float,
    report: Callable[[str, dict], None],
    seed: int,
) -> tuple[LocalSearch, StopReason, int, bool]:
    """Re-seed from perturbed LPs until one local search ends feasible.

    Local search on a seed sometimes stalls in a basin where a small band
    violation cannot be repaired by any move it knows (a territory above one
    band and below another, hemmed in by full neighbours). It stalls within
    seconds, so trying other basins is cheap: the LP's costs get seeded
    multiplicative noise (:class:`_NoisyCosts`; on large instances the power
    diagram's centres are jittered), the seed is repaired and searched with
    the true costs, and a residue is handed to the exact region repair
    (at most :data:`REPAIR_REGIONS` region re-solves). The first feasible
    search wins; with none, the least violated one is kept. At most
    :data:`MAX_RESTARTS`, each run to its own end: bounded by counts, not by
    shares of the clock, so the plan is the same on any machine unless the
    time limit cuts a restart short (then ``cut`` says so). Restarts happen
    only when the first search fails.

    Returns
    -------
    (LocalSearch, str, int, bool)
        The kept search, its stop reason, the restarts tried, and whether the
        clock cut any of them short (the result then depends on machine speed).
    """
    best, best_stop, tried, cut = search, stop, 0, False
    for r in range(MAX_RESTARTS):
        if time.perf_counter() >= deadline:
            cut = True
            break
        tried = r + 1
        assign, _ = _seed(problem, costs, cands, rng)
        if problem.contiguity:
            assign = repair_contiguity(problem, assign, costs)
        trial = LocalSearch(problem, costs, assign, cands)
        trial_stop = trial.run(rng, deadline, progress=lambda info: report("search", info))
        if trial.violation() > EPS and time.perf_counter() < deadline:
            # Another basin often leaves a residue an exact region re-solve can fix.
            lns_repair(trial, costs, deadline, seed, max_regions=REPAIR_REGIONS)
            trial_stop = trial.run(rng, deadline, progress=lambda info: report("search", info))
        cut = cut or trial_stop == "time_limit" or time.perf_counter() >= deadline
        report("restart", {"restart": tried, "violation": trial.violation()})
        if trial.violation() < best.violation() - EPS:
            best, best_stop = trial, trial_stop
        if best.violation() <= EPS:
            break
    return best, best_stop, tried, cut


TRANSFER_MIN_UNITS = 2_000
"""Plans from this many units get the transfers across empty country (step 6 of :func:`solve`)."""

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
) -> tuple[StopReason, int, bool]:
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
    stop: StopReason = "stalled_infeasible"
    tried = 0
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


class _SolveRun:
    """The state one :func:`solve` carries from step to step.

    Each method is one step of :func:`solve` (see its docstring); they share
    the clock, the random generator and the current :class:`LocalSearch`.
    """

    # Set by the start (steps 1–3: :meth:`seed` or :meth:`start_from`).
    start: Literal["lp", "initial"]
    assign: np.ndarray
    centres: np.ndarray
    costs: CostModel
    cands: list[np.ndarray]
    seed_objective: dict[str, float]
    seed_violation_count: int
    # Set by the first local search (step 4) and updated by the later steps.
    search: LocalSearch
    search_started: float
    first_search_seconds: float
    stop: StopReason

    def __init__(self, problem: ProblemData, params: SolveParams, progress: ProgressFn | None):
        self.problem = problem
        self.params = params
        self.progress = progress
        self.started = time.perf_counter()
        self.deadline = self.started + params.time_limit
        self.rng = np.random.default_rng(params.seed)
        self.seed_stats: dict = {}
        self.restarts = 0
        self.lns_gain = 0
        # Whether step 5 re-drew regions (step 6 then searches with every repair).
        self.redrawn = False
        # Phases whose outcome the wall clock decided: with any, the plan may differ
        # between machines even when the last search converges.
        self.clock_cut: list[str] = []

    def report(self, phase: str, info: dict) -> None:
        if self.progress is not None:
            self.progress(phase, info)

    def _search_report(self, info: dict) -> None:
        self.report("search", info)

    def _descend(self) -> StopReason:
        return self.search.run(self.rng, self.deadline, progress=self._search_report)

    @property
    def large(self) -> bool:
        """Whether the seed was the bisection or power diagram (too many variables for the LP)."""
        return self.seed_stats.get("seed_method") in ("power_diagram", "bisection")

    def start_from(self, initial: np.ndarray) -> None:
        """Steps 1–3 with ``initial``: its centres (when free) and its assignment, as given."""
        problem = self.problem
        self.assign = np.asarray(initial, dtype=int).copy()
        self.centres = (
            recentre(problem, self.assign, problem.xy[np.zeros(problem.n_territories, dtype=int)])
            if problem.free_centres
            else np.asarray(problem.centres, dtype=float)
        )
        self.costs = CostModel(problem, self.centres)
        self.cands = nearest_candidates(problem, self.centres, self.params.candidates)
        self.start = "initial"
        self._record_start()

    def seed(self) -> None:
        """Steps 1–3: centres, the seed (with re-centring rounds) and the contiguity repair."""
        self.start = "lp"
        self.assign, self.centres, self.costs, self.cands, self.seed_stats = _lp_seed_rounds(
            self.problem, self.rng, self.params.candidates, self.report
        )
        # A bisection is contiguous by construction, unless locks overrode it.
        drawn_whole = self.seed_stats.get("seed_lock_changes") == 0
        if self.problem.contiguity and not drawn_whole:
            self.assign = repair_contiguity(self.problem, self.assign, self.costs)
            self.report(
                "contiguity", {"violations": len(band_violations(self.problem, self.assign))}
            )
        self._record_start()

    def _record_start(self) -> None:
        self.seed_objective = self.costs.objective(self.assign)
        self.seed_violation_count = len(band_violations(self.problem, self.assign))

    def local_search(self) -> None:
        """Step 4: local search from the start, without the repairs step 5 precedes."""
        self.search = LocalSearch(self.problem, self.costs, self.assign, self.cands)
        # The compound moves are cheap on small instances; on large ones (and the
        # tabu repair everywhere) they cost more than the re-draws of step 5.
        self.search.repair_passes = not self.large
        self.search.tabu = False
        self.search_started = time.perf_counter()
        self.stop = self._descend()
        self.search.repair_passes = self.search.tabu = True
        self.first_search_seconds = time.perf_counter() - self.search_started

    def _infeasible(self) -> bool:
        return self.search.violation() > EPS

    def redraw(self) -> None:
        """Step 5: regional re-draws of the residue (step 6 then searches with every repair).

        Re-drawing the few territories around each violating one by bisection
        (:func:`~territory_engine.solve.search.redraw.redraw_rounds`) spreads the
        residue over them; on the sample's tight bands (potential ±3 %,
        workload ±10 %, no disruption weight) two rounds took 0.3 s where the
        tabu repair spent 20 s without a plan, and on a national instance it
        is the only repair that keeps pace.
        """
        if not self._infeasible() or time.perf_counter() >= self.deadline:
            return
        rounds, _, cut = redraw_rounds(
            self.search,
            self.rng,
            self.deadline,
            self.params.seed,
            lambda info: self.report("redraw", info),
        )
        self.restarts += rounds
        self.redrawn = True
        if cut:
            self.clock_cut.append("redraws")
        if not self._infeasible():
            self.stop = "converged"

    def transfers(self) -> None:
        """Step 6: grown-region re-draws and chain transfers, then local search with every repair.

        What the regional re-draws leave on national instances sits in
        isolated metros whose total is not a whole number of territories:
        weight must travel across empty country
        (:func:`~territory_engine.solve.search.transfers.transfer_rounds`).
        Only from :data:`TRANSFER_MIN_UNITS` units: smaller plans keep the
        repairs that already serve them (the exact repair and the restarts).
        The transfers run before the search with every repair because on
        national instances that search's tabu repair takes all the time left
        (120 s runs of the 100k-split class ended inside it).
        """
        if (
            self.problem.n_units >= TRANSFER_MIN_UNITS
            and self._infeasible()
            and time.perf_counter() < self.deadline
        ):
            _, _, cut = transfer_rounds(
                self.search, self.rng, self.deadline, lambda info: self.report("transfers", info)
            )
            if cut:
                self.clock_cut.append("transfers")
        if not self.redrawn:
            return
        if self._infeasible() and time.perf_counter() < self.deadline:
            self.stop = self._descend()
        elif not self._infeasible():
            self.stop = "converged"

    def early_repair(self) -> None:
        """Step 7: exact region repair (:data:`REPAIR_REGIONS` re-solves), then local search.

        Skipped on large instances: exact region repairs rarely finish there
        (regions of 2 to 8 territories around a residue at 30,000 units ran 5
        to 40 s each without a plan), so the time goes to re-seeds first.
        """
        if not self._infeasible() or time.perf_counter() >= self.deadline or self.large:
            return
        # It usually fixes a small residue quickly; when it cannot, the
        # restarts get the rest. Bounded by a count of regions, not a share of the clock.
        repaired = lns_repair(
            self.search, self.costs, self.deadline, self.params.seed, max_regions=REPAIR_REGIONS
        )
        self.report("repair", {"feasible": repaired, "violation": self.search.violation()})
        if not repaired and time.perf_counter() >= self.deadline:
            self.clock_cut.append("repair")
        # Even a partial repair moves the search to a new basin: descend again.
        self.stop = self._descend()

    def reseed(self) -> None:
        """Step 8: power-diagram re-draws (large instances) or perturbed restarts."""
        if not self._infeasible():
            return
        if self.seed_stats.get("seed_method") == "bisection":
            # The power-diagram re-draws below could empty a territory: never after a bisection.
            return
        if self.large:
            self.stop, self.restarts, cut = _regional_reseeds(
                self.problem,
                self.costs,
                self.cands,
                self.search,
                self.rng,
                self.deadline,
                self.report,
            )
            if cut:
                self.clock_cut.append("regional_reseeds")
            return
        self.search, self.stop, self.restarts, cut = _restarts(
            self.problem,
            self.costs,
            self.cands,
            self.search,
            self.stop,
            self.rng,
            self.deadline,
            self.report,
            self.params.seed,
        )
        if cut:
            self.clock_cut.append("restarts")

    def final_repair(self) -> None:
        """Step 9: exact region repair with all the time left, then local search."""
        if not self._infeasible() or time.perf_counter() >= self.deadline:
            return
        repaired = lns_repair(self.search, self.costs, self.deadline, self.params.seed)
        self.report("repair", {"feasible": repaired, "violation": self.search.violation()})
        self.stop = self._descend()

    def improve(self) -> None:
        """Step 10: LNS improvement of a feasible plan, then local search."""
        p = self.params
        if self._infeasible() or p.lns_rounds <= 0 or time.perf_counter() >= self.deadline:
            return
        self.lns_gain = lns_improve(
            self.search,
            self.costs,
            self.rng,
            self.deadline,
            p.seed,
            p.lns_rounds,
            parts=p.lns_parts,
            reach=p.lns_reach,
            dt=p.lns_seconds,
            workers=p.lns_workers,
        )
        self.report("lns", {"improved_regions": self.lns_gain, "rounds": p.lns_rounds})
        self.stop = self._descend()

    def result(self) -> Alignment:
        """Step 11: validate the final assignment and gather the statistics."""
        assign = np.asarray(self.search.assign, dtype=int)
        search_seconds = round(time.perf_counter() - self.search_started, 3)
        stop = self.stop
        if stop == "converged" and self.clock_cut:
            stop = "time_limit"
        objective = self.costs.objective(assign)
        seed_stats = self.seed_stats
        stats = SolverStats(
            seed=self.params.seed,
            time_limit=self.params.time_limit,
            candidates=self.params.candidates,
            start=self.start,
            seed_method=seed_stats.get("seed_method"),
            lp_objective=seed_stats.get("lp_objective"),
            lp_fractional_vars=seed_stats.get("lp_fractional_vars"),
            lp_band_slack=seed_stats.get("lp_band_slack"),
            lp_variables=seed_stats.get("lp_variables"),
            seed_iterations=seed_stats.get("seed_iterations"),
            seed_combined_deviation=seed_stats.get("seed_combined_deviation"),
            seed_seconds=seed_stats.get("seed_seconds"),
            seed_objective=ObjectiveTerms.from_dict(self.seed_objective),
            seed_violation_count=self.seed_violation_count,
            restarts=self.restarts,
            lns_improved_regions=self.lns_gain,
            search_seconds=search_seconds,
            search_moves=self.search.moves,
            stop_reason=stop,
            clock_cut=tuple(self.clock_cut),
            objective=ObjectiveTerms.from_dict(objective),
            seconds=round(time.perf_counter() - self.started, 3),
        )
        violations = check_alignment(self.problem, assign, self.costs)
        return Alignment(
            assign=assign,
            centres=self.centres,
            feasible=not violations,
            violations=violations,
            stats=stats,
        )


def solve(
    problem: ProblemData,
    params: SolveParams = DEFAULT_PARAMS,
    *,
    initial: np.ndarray | None = None,
    progress: ProgressFn | None = None,
) -> Alignment:
    """Assign units to territories: balanced, optionally contiguous, low objective ``f``.

    Formulation (terms as in :mod:`territory_engine.solve.costs`)::

        min  f(a) = w_T · Σ_i ω_i d(i, z_{a_i})^p / T*  +  w_C · cut(a) / |E|
                  + w_D · Σ_i δ_i(a_i) / P  +  w_R · Σ_i (P_i − A_i(a_i)) / P
        s.t. L_tj ≤ Σ_{i: a_i = t} w_ij ≤ U_tj       every territory t, measure j
             group(a_i) = group(i);  a_i = ℓ_i if locked   eligibility, locks
             Σ_i δ_i(a_i) ≤ D                         disruption cap (when set)
             {i : a_i = t} connected                  every t (when contiguity is on)

    The steps, in the order they run:

    1. *Centres*: fixed centres (the reps' homes) as given; free centres
       chosen by weighted k-means++
       (:func:`~territory_engine.solve.seeds.centres.choose_centres`), or with
       ``initial`` placed on its territories
       (:func:`~territory_engine.solve.seeds.centres.recentre`).
    2. *Seed* (skipped with ``initial``): the LP of the balanced
       transportation problem on the ``params.candidates`` nearest eligible
       territories per unit, rounded (:mod:`territory_engine.solve.seeds.lp`);
       with free centres up to four rounds of seeding and re-centring. Above
       :data:`LP_MAX_VARIABLES` pairs: with fixed centres the balanced power
       diagram (:mod:`territory_engine.solve.seeds.power`) unless it starves a
       territory (:func:`_starved`), otherwise the recursive bisection of the
       weighted graph (:mod:`territory_engine.solve.seeds.bisection`), which
       gives every territory a connected share of weight; the power diagram
       again when a group's graph is split.
    3. *Contiguity repair* of the seed when contiguity is on (skipped with
       ``initial``, and after a bisection that no lock overrode).
    4. *Local search* (:mod:`territory_engine.solve.search.local`): descent,
       plus on small instances the compound moves, not yet the tabu repair.
    5. *Regional re-draws* while bands break
       (:func:`~territory_engine.solve.search.redraw.redraw_rounds`).
    6. *Transfers across empty country* while bands break, from
       :data:`TRANSFER_MIN_UNITS` units
       (:func:`~territory_engine.solve.search.transfers.transfer_rounds`):
       regions grown until their totals fit inside their bands are re-drawn,
       and chain transfers pass a territory's excess along a path of
       territories to one with room; then (after step 5) local search with
       every repair.
    7. *Exact repair* while bands break (not on large instances): CP-SAT
       re-solves at most :data:`REPAIR_REGIONS` regions around the violations
       (:func:`~territory_engine.solve.exact.lns.lns_repair`), then local search.
    8. *Restarts* while bands break (skipped with ``initial``, and after a
       bisection): on power-diagram instances the region around the residue is
       re-drawn (:func:`_regional_reseeds`), otherwise up to
       :data:`MAX_RESTARTS` perturbed seeds are searched (:func:`_restarts`).
    9. *Exact repair* while bands break, with all the time left, then local search.
    10. *LNS improvement* of a feasible plan when ``params.lns_rounds > 0``
        (:func:`~territory_engine.solve.exact.lns.lns_improve`), then local search.
    11. *Validation*: :func:`check_alignment` lists what the plan breaks, and
        the statistics are gathered (:class:`SolverStats`).

    Every step is bounded by counts or CP-SAT's deterministic time, so a run
    that ends ``converged`` gives the same plan on any machine; the time limit
    only cuts a run short, and ``stats.clock_cut`` names the steps it cut.

    Parameters
    ----------
    problem
        The problem.
    params
        Seed, time limit, candidates and LNS settings (:class:`SolveParams`).
    initial
        A starting assignment (for example a spanning-tree seed); replaces
        steps 2, 3 and 8.
    progress
        Called with ``(phase, info)`` as the solve advances.

    Returns
    -------
    Alignment
    """
    run = _SolveRun(problem, params, progress)
    if initial is not None:
        run.start_from(initial)
    else:
        run.seed()
    run.local_search()
    run.redraw()
    run.transfers()
    run.early_repair()
    if initial is None:
        run.reseed()
    run.final_repair()
    run.improve()
    return run.result()


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
    """:func:`solve` with its :class:`SolveParams` given as keywords (same defaults).

    Parameters
    ----------
    problem
        The problem.
    seed, time_limit, candidates, lns_rounds, lns_parts, lns_reach, lns_seconds, lns_workers
        The fields of :class:`SolveParams`.
    initial, progress
        As in :func:`solve`.

    Returns
    -------
    Alignment
    """
    params = SolveParams(
        seed=seed,
        time_limit=time_limit,
        candidates=candidates,
        lns_rounds=lns_rounds,
        lns_parts=lns_parts,
        lns_reach=lns_reach,
        lns_seconds=lns_seconds,
        lns_workers=lns_workers,
    )
    return solve(problem, params, initial=initial, progress=progress)
