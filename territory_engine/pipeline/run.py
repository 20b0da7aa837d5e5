"""Run a scenario end to end: load -> ProblemData -> solve -> Plan -> scorecard.

Each step is a function of the previous step's output; this module only wires them
together and records provenance. Nothing is written unless asked:
:meth:`PlanResult.write` (or ``run_scenario(..., output=folder)``) writes the plan
folder through the one writer, :func:`territory_engine.plan.writer.write_plan_folder`.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from territory_engine import __version__
from territory_engine.config import Scenario, scenario_hash
from territory_engine.config.segments import list_segments
from territory_engine.errors import InfeasibleError
from territory_engine.io.load import Tables, load_tables
from territory_engine.io.placement import placement_counts
from territory_engine.io.whatif import base_plan_entry
from territory_engine.org.adjust.warm import warm_start
from territory_engine.org.forecast.plan import (
    PlanForecast,
    forecast_by_hierarchy,
    forecast_plan,
    write_forecasts,
)
from territory_engine.org.hierarchy.plan import plan_hierarchy
from territory_engine.pipeline.assemble import match_reps
from territory_engine.plan.files import PLAN_FILES
from territory_engine.plan.model import Plan
from territory_engine.plan.writer import write_plan_folder
from territory_engine.problem.build import ProblemIndex, build_problem
from territory_engine.problem.data import ProblemData
from territory_engine.problem.diagnose import diagnose
from territory_engine.solve import Alignment, SolveParams, solve

__all__ = ["PlanResult", "Progress", "manifest", "run_scenario", "solve_scenario"]

Progress = Callable[[str, dict], None]

_VERSIONED = ("numpy", "scipy", "pandas", "geopandas", "shapely", "networkx", "ortools", "folium")


@dataclass
class PlanResult:
    """What :func:`run_scenario` produced: the plan, its scorecard and how it was solved.

    Attributes
    ----------
    scenario
        The scenario that was run.
    plan
        The plan tables; ``plan.provenance`` is the manifest (``plan.json``).
    scorecard
        The scorecard (``scorecard.json``).
    alignment
        The solver's result (unit -> territory, centres, feasibility, statistics).
    problem, index
        The solved problem and its index back to the input tables.
    tables
        The validated input tables.
    timings
        Seconds per step (``load``, ``solve``, ``plan``, and ``write`` once written).
    plan_dir
        The plan folder once written, else ``None``.
    """

    scenario: Scenario
    plan: Plan
    scorecard: dict
    alignment: Alignment
    problem: ProblemData
    index: ProblemIndex
    tables: Tables
    timings: dict[str, float] = field(default_factory=dict)
    plan_dir: Path | None = None
    forecast: PlanForecast | None = None  # forecasts.csv with data.history (org.forecast)

    @property
    def feasible(self) -> bool:
        """Whether the plan meets every hard rule."""
        return bool(self.alignment.feasible)

    def write(self, folder: Path | str | None = None) -> Path:
        """Write the plan folder (atomically) and return its path.

        Parameters
        ----------
        folder
            Where; defaults to the scenario's ``output.folder``.
        """
        target = Path(folder) if folder is not None else Path(self.scenario.output.folder)
        manifest = self.plan.provenance

        def record_write_time(seconds: float) -> None:
            self.timings["write"] = seconds
            manifest["timings_seconds"] = {k: round(v, 3) for k, v in self.timings.items()}

        self.plan_dir = write_plan_folder(
            target,
            self.plan,
            self.scorecard,
            accounts=self.tables.accounts,
            reps=self.tables.reps,
            measures=list(self.scenario.balance),
            title=self.scenario.name,
            tiles=self.scenario.output.tiles,
            on_written=record_write_time,
        )
        if self.forecast is not None:  # forecasts.csv, added atomically (org.forecast)
            write_forecasts(self.plan_dir, self.forecast)
        return self.plan_dir


def _versions() -> dict[str, str]:
    out = {"territory_engine": __version__, "python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def solve_scenario(
    scenario: Scenario, tables: Tables, progress: Progress | None = None
) -> tuple[ProblemData, ProblemIndex, Alignment]:
    """Build the problem, diagnose it, solve it, and match reps to free centres.

    Raises
    ------
    InfeasibleError
        The diagnosis finds the scenario impossible before solving.
    """
    problem, index = build_problem(scenario, tables)
    reasons = diagnose(problem)
    if reasons:
        raise InfeasibleError("the scenario cannot be satisfied:\n  - " + "\n  - ".join(reasons))
    alignment = solve(
        problem,
        SolveParams(
            seed=scenario.solver.seed,
            time_limit=scenario.solver.time_limit,
            candidates=scenario.solver.candidates,
            lns_rounds=scenario.solver.lns_rounds,
        ),
        # A what-if from a plan (whatif.base_plan) starts from that plan.
        initial=warm_start(scenario, problem, index, tables),
        progress=progress,
    )
    index = match_reps(problem, index, tables, alignment)
    return problem, index, alignment


def manifest(
    scenario: Scenario,
    source: Path | None,
    problem: ProblemData,
    tables: Tables,
    alignment: Alignment,
) -> dict:
    """The provenance of a plan (``plan.json``): scenario, hash, seed, solver, versions."""
    return {
        "scenario_name": scenario.name,
        "scenario_file": str(source) if source else None,
        "scenario_hash": scenario_hash(scenario),
        "scenario": scenario.model_dump(mode="json"),
        "seed": scenario.solver.seed,
        "feasible": alignment.feasible,
        "violations": alignment.violations,
        "solver": alignment.stats.as_dict(),
        "problem": {
            "units": problem.n_units,
            "territories": problem.n_territories,
            "measures": list(problem.measure_names),
            "accounts": len(tables.accounts),
            # How accounts got their point: coordinates, ZIP centroid, named unit.
            "accounts_placed_by": placement_counts(tables.accounts),
            "segments": list_segments(tables.accounts["segment"], tables.reps["segment"]),
            "contiguity": problem.contiguity,
        },
        "versions": _versions(),
        "files": list(PLAN_FILES),
        **base_plan_entry(scenario),
    }


def run_scenario(
    scenario: Scenario,
    *,
    output: Path | str | None = None,
    source: Path | None = None,
    progress: Progress | None = None,
) -> PlanResult:
    """Run ``scenario``: load its data, solve, allocate quotas, score.

    Parameters
    ----------
    scenario
        The validated scenario (:func:`territory_engine.load_scenario`).
    output
        When given, the plan folder is written there (atomically); otherwise nothing
        is written (call :meth:`PlanResult.write`).
    source
        The scenario file (recorded in the manifest).
    progress
        Called with ``(step, info)``: ``load``, ``solve``, the solver's phases,
        ``plan``, ``write``.

    Returns
    -------
    PlanResult

    Raises
    ------
    InputError, ScenarioError, InfeasibleError
        Bad input or an impossible scenario (nothing is written).
    """

    def step(name: str, **info: object) -> None:
        if progress is not None:
            progress(name, dict(info))

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    step("load")
    tables = load_tables(scenario)
    timings["load"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    step("solve")
    problem, index, alignment = solve_scenario(scenario, tables, progress)
    timings["solve"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    step("plan")
    # make_plan, plus forecasts and quotas from them with data.history (org.forecast).
    plan, card, forecast = forecast_plan(scenario, tables, problem, index, alignment)
    timings["plan"] = time.perf_counter() - t2

    plan = dataclasses.replace(
        plan, provenance=manifest(scenario, source, problem, tables, alignment)
    )
    # The drawn hierarchy (hierarchy:): districts, regions, their quota totals; a no-op without.
    plan, card = plan_hierarchy(scenario, tables, problem, index, alignment, plan, card, source)
    # Forecasts reconciled through the drawn districts and regions too (org.forecast).
    plan, card, forecast = forecast_by_hierarchy(plan, card, forecast)
    result = PlanResult(
        scenario, plan, card, alignment, problem, index, tables, timings, forecast=forecast
    )
    if output is not None:
        step("write", folder=str(output))
        result.write(output)
    return result
