"""Run a scenario end to end: load -> ProblemData -> solve -> Plan -> scorecard -> render -> write.

Each step is a function of the previous step's output; this module only
wires them together and records provenance.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from territory_engine import __version__
from territory_engine.config import Scenario, scenario_hash
from territory_engine.errors import InfeasibleError
from territory_engine.geo.distance import distance_matrix_km
from territory_engine.io.jsonio import to_json
from territory_engine.io.load import Tables, load_tables
from territory_engine.io.plan_folder import write_folder_atomically
from territory_engine.metrics import ScoringInputs, scorecard
from territory_engine.metrics.adapters import (
    account_fields,
    relationship_inputs,
    territory_compactness,
)
from territory_engine.metrics.fair_share import fair_shares
from territory_engine.plan import Plan, assignments_frame
from territory_engine.problem.build import ProblemIndex, build_problem
from territory_engine.problem.data import ProblemData
from territory_engine.problem.diagnose import diagnose
from territory_engine.quota.inputs import plan_quotas
from territory_engine.solve import Alignment, align

Progress = Callable[[str, dict], None]

PLAN_FILES = (
    "assignments.csv",
    "territories.csv",
    "territories.geojson",
    "quotas.csv",
    "quota_splits.csv",
    "units.csv",
    "scorecard.json",
    "accounts.csv",
    "reps.csv",
    "map.html",
    "report.html",
    "plan.json",
)

_VERSIONED = ("numpy", "scipy", "pandas", "geopandas", "shapely", "networkx", "ortools", "folium")


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_scenario` produced."""

    plan_dir: Path
    plan: Plan
    scorecard: dict
    alignment: Alignment


def _versions() -> dict[str, str]:
    out = {"territory_engine": __version__, "python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def match_reps(
    problem: ProblemData, index: ProblemIndex, tables: Tables, alignment: Alignment
) -> ProblemIndex:
    """With free centres, give each territory the rep living nearest its centre.

    A min-cost perfect matching (Hungarian method, ``linear_sum_assignment``)
    of reps to territories on home-to-centre distance; territories left
    without a rep (more territories than reps) get ``rep_id`` "".
    """
    if not problem.free_centres or len(tables.reps) == 0:
        return index
    homes = np.column_stack([tables.reps.geometry.x, tables.reps.geometry.y])
    d = distance_matrix_km(alignment.centres, homes)
    rows, cols = linear_sum_assignment(d)
    reps = [""] * problem.n_territories
    rep_ids = tables.reps["rep_id"].astype(str).to_numpy()
    for t, r in zip(rows, cols, strict=True):
        reps[t] = rep_ids[r]
    return dataclasses.replace(
        index,
        territory_rep=tuple(reps),
        rep_territory={r: t for t, r in enumerate(reps) if r},
    )


def make_plan(
    scenario: Scenario,
    tables: Tables,
    problem: ProblemData,
    index: ProblemIndex,
    alignment: Alignment,
) -> tuple[Plan, dict]:
    """Build the plan tables and its scorecard from a solved alignment."""
    accounts, reps = tables.accounts, tables.reps
    account_territory = alignment.assign[index.account_unit]
    unit_territory = alignment.assign.copy()
    social = relationship_inputs(
        accounts, index, account_territory, index.territory_rep, unit_territory
    )
    assignments = assignments_frame(
        accounts["account_id"].to_numpy(),
        account_territory,
        problem.territory_ids,
        index.territory_rep,
        accounts["unit_id"].to_numpy(),
        accounts["current_rep_id"].to_numpy(),
        social["account_kept"],
    )
    measures = list(dict.fromkeys([*problem.measure_names, "potential"]))
    values = np.column_stack(
        [
            np.ones(len(accounts)) if m == "accounts" else accounts[m].to_numpy(float)
            for m in measures
        ]
    )
    capacity = _territory_capacity(scenario, problem, index, reps)
    account_group = problem.unit_group[index.account_unit]
    fair = fair_shares(values, account_group, problem.territory_group, capacity)
    lower = np.full_like(fair, -np.inf)
    upper = np.full_like(fair, np.inf)
    m = problem.n_measures
    lower[:, :m], upper[:, :m] = problem.lower, problem.upper
    inputs = ScoringInputs(
        territory_ids=list(problem.territory_ids),
        rep_ids=list(index.territory_rep),
        centres=alignment.centres,
        fair_share=fair,
        lower=lower,
        upper=upper,
        measure_names=measures,
        account_territory=account_territory,
        account_values=values,
        unit_adjacency=problem.adjacency,
        unit_territory=unit_territory,
        **account_fields(accounts, tables.edges),
        **social,
    )
    # Quotas (issue 4): method, regional pools, caps, ramp, seasonality; then the scorecard
    # with expected attainment.
    quota_result = plan_quotas(
        scenario,
        tables,
        account_territory,
        problem.territory_ids,
        index.territory_rep,
        alignment.centres,
    )
    quotas = quota_result.quotas
    card = scorecard(inputs, quotas, attainment=quota_result.attainment)
    if "quota" in card:
        card["quota"]["allocation"] = quota_result.summary
    territories = pd.DataFrame(card["territories"])
    rep_info = reps.set_index(reps["rep_id"].astype(str))
    territories.insert(
        2,
        "rep_name",
        [rep_info["name"].get(r, "") if r else "" for r in index.territory_rep],
    )
    territories.insert(3, "segment", [problem.group_names[g] for g in problem.territory_group])
    territories.insert(4, "centre_lon", np.round(alignment.centres[:, 0], 6))
    territories.insert(5, "centre_lat", np.round(alignment.centres[:, 1], 6))
    geometry = territory_geometry(tables.units, problem, index, alignment, territories)
    card["compactness"] = territory_compactness(geometry, problem.territory_ids)
    plan = Plan(
        assignments=assignments,
        territories=territories,
        quotas=quotas,
        geometry=geometry,
        quota_splits=quota_result.splits,
        units=unit_table(problem, index, alignment),
    )
    return plan, card


def unit_table(problem: ProblemData, index: ProblemIndex, alignment: Alignment) -> pd.DataFrame:
    """``units.csv``: the territory of every (geo unit, segment layer); exception units left out."""
    geo = ~index.exception_unit
    return pd.DataFrame(
        {
            "unit_id": index.unit_geo_id[geo],
            "segment": index.unit_group_name[geo],
            "territory_id": np.asarray(problem.territory_ids, dtype=object)[alignment.assign[geo]],
        }
    )


def _territory_capacity(
    scenario: Scenario, problem: ProblemData, index: ProblemIndex, reps: pd.DataFrame
) -> np.ndarray:
    # Territories with free centres are equal by construction (their bands
    # ignore FTE); the rep matched afterwards does not change the fair share.
    if not scenario.scale_by_capacity or problem.free_centres:
        return np.ones(problem.n_territories)
    fte = dict(zip(reps["rep_id"].astype(str), reps["capacity_fte"].astype(float), strict=True))
    return np.array([fte.get(r, 1.0) if r else 1.0 for r in index.territory_rep])


def territory_geometry(
    units: gpd.GeoDataFrame,
    problem: ProblemData,
    index: ProblemIndex,
    alignment: Alignment,
    territories: pd.DataFrame,
) -> gpd.GeoDataFrame:
    """Dissolve each territory's geo units into one (multi)polygon.

    Exception units (a locked account far from its rep) add no polygon: the
    county is drawn in the territory that holds it geographically.
    """
    geo = ~index.exception_unit
    frame = gpd.GeoDataFrame(
        {
            "territory_id": np.asarray(problem.territory_ids, dtype=object)[alignment.assign[geo]],
            "unit_id": index.unit_geo_id[geo],
        },
        geometry=units.set_index(units["unit_id"].astype(str))
        .geometry.loc[index.unit_geo_id[geo]]
        .values,
        crs=units.crs,
    )
    dissolved = frame.dissolve(by="territory_id", as_index=False)[["territory_id", "geometry"]]
    out = territories.merge(dissolved, on="territory_id", how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=units.crs).to_crs(4326)


def solve_scenario(
    scenario: Scenario, tables: Tables, progress: Progress | None = None
) -> tuple[ProblemData, ProblemIndex, Alignment]:
    """Build the problem, diagnose it, solve it."""
    problem, index = build_problem(scenario, tables)
    reasons = diagnose(problem)
    if reasons:
        raise InfeasibleError("the scenario cannot be satisfied:\n  - " + "\n  - ".join(reasons))
    alignment = align(
        problem,
        seed=scenario.solver.seed,
        time_limit=scenario.solver.time_limit,
        candidates=scenario.solver.candidates,
        lns_rounds=scenario.solver.lns_rounds,
        progress=progress,
    )
    index = match_reps(problem, index, tables, alignment)
    return problem, index, alignment


def run_scenario(
    scenario: Scenario,
    *,
    output: Path | None = None,
    source: Path | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run ``scenario`` and write its plan folder.

    Parameters
    ----------
    scenario
        The validated scenario.
    output
        Plan folder; defaults to ``scenario.output.folder``.
    source
        The scenario file (recorded in the manifest).
    progress
        Called with ``(step, info)``.

    Returns
    -------
    RunResult

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
    plan, card = make_plan(scenario, tables, problem, index, alignment)
    timings["plan"] = time.perf_counter() - t2

    manifest = {
        "scenario_name": scenario.name,
        "scenario_file": str(source) if source else None,
        "scenario_hash": scenario_hash(scenario),
        "scenario": scenario.model_dump(mode="json"),
        "seed": scenario.solver.seed,
        "feasible": alignment.feasible,
        "violations": alignment.violations,
        "solver": alignment.stats,
        "problem": {
            "units": problem.n_units,
            "territories": problem.n_territories,
            "measures": list(problem.measure_names),
            "accounts": len(tables.accounts),
            "contiguity": problem.contiguity,
        },
        "versions": _versions(),
        "files": list(PLAN_FILES),
    }
    plan = dataclasses.replace(plan, provenance=manifest)
    target = Path(output) if output is not None else Path(scenario.output.folder)

    t3 = time.perf_counter()
    step("write", folder=str(target))

    def write(folder: Path) -> None:
        write_plan(folder, plan, card, tables, scenario)
        timings["write"] = time.perf_counter() - t3
        manifest["timings_seconds"] = {k: round(v, 3) for k, v in timings.items()}
        (folder / "plan.json").write_text(to_json(manifest), encoding="utf-8")

    plan_dir = write_folder_atomically(target, write)
    return RunResult(plan_dir=plan_dir, plan=plan, scorecard=card, alignment=alignment)


def write_plan(folder: Path, plan: Plan, card: dict, tables: Tables, scenario: Scenario) -> None:
    """Write every plan file but ``plan.json`` into ``folder`` (which exists)."""
    from territory_engine.render.plan_map import render_plan_map, save_map
    from territory_engine.render.report import render_report

    plan.assignments.to_csv(folder / "assignments.csv", index=False, lineterminator="\n")
    # Full precision: every total must be recomputable from assignments.csv.
    plan.territories.to_csv(folder / "territories.csv", index=False, lineterminator="\n")
    plan.quotas.to_csv(folder / "quotas.csv", index=False, lineterminator="\n")
    plan.quota_splits.to_csv(folder / "quota_splits.csv", index=False, lineterminator="\n")
    plan.units.to_csv(folder / "units.csv", index=False, lineterminator="\n")
    plan.geometry.to_file(folder / "territories.geojson", driver="GeoJSON")
    (folder / "scorecard.json").write_text(to_json(card), encoding="utf-8")
    # The views (compare, rep pages) work from the plan folder alone, so it keeps the
    # account and rep attributes they show.
    measures = list(scenario.balance)
    account_info = account_attributes(tables.accounts, measures)
    rep_info = rep_attributes(tables.reps, plan.territories)
    account_info.to_csv(folder / "accounts.csv", index=False, lineterminator="\n")
    rep_info.to_csv(folder / "reps.csv", index=False, lineterminator="\n")
    acc = account_info.merge(
        plan.assignments[["account_id", "territory_id", "rep_id", "moved", "kept_for_relationship"]]
    )
    m = render_plan_map(
        plan.geometry,
        acc,
        rep_info,
        measures=measures,
        title=scenario.name,
        tiles=scenario.output.tiles,
    )
    save_map(m, folder / "map.html")
    report = render_report(
        card,
        plan.territories,
        plan.quotas,
        measures=measures,
        title=scenario.name,
    )
    (folder / "report.html").write_text(report, encoding="utf-8")


def account_attributes(accounts: pd.DataFrame, measures: list[str]) -> pd.DataFrame:
    """The account attributes the plan's views show (``accounts.csv`` of a plan folder).

    Parameters
    ----------
    accounts
        The validated accounts (point geometry in EPSG:4326).
    measures
        The scenario's balance measures; each account column among them is kept.

    Returns
    -------
    pandas.DataFrame
        ``account_id, name, segment, industry (when present), lat, lon, potential,
        last_year_revenue (when present)`` and the balance measure columns.
    """
    out = pd.DataFrame(
        {
            "account_id": accounts["account_id"].astype(str).to_numpy(),
            "name": accounts["name"].astype(str).to_numpy(),
            "segment": accounts["segment"].astype(str).to_numpy(),
        }
    )
    if "industry" in accounts.columns:
        out["industry"] = accounts["industry"].astype(str).to_numpy()
    out["lat"] = accounts.geometry.y.to_numpy()
    out["lon"] = accounts.geometry.x.to_numpy()
    for column in dict.fromkeys(["potential", "last_year_revenue", *measures]):
        if column in accounts.columns and column not in out.columns:
            out[column] = accounts[column].to_numpy(float)
    return out


def rep_attributes(reps: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """The rep attributes the plan's views show (``reps.csv`` of a plan folder).

    Returns
    -------
    pandas.DataFrame
        ``rep_id, name, segment, home_lat, home_lon, home_city (when present),
        capacity_fte (when present), territory_id`` ("" for a rep without one).
    """
    out = pd.DataFrame(
        {
            "rep_id": reps["rep_id"].astype(str).to_numpy(),
            "name": reps["name"].astype(str).to_numpy(),
            "segment": reps["segment"].astype(str).to_numpy(),
            "home_lat": reps.geometry.y.to_numpy(),
            "home_lon": reps.geometry.x.to_numpy(),
        }
    )
    for column in ("home_city", "capacity_fte"):
        if column in reps.columns:
            out[column] = reps[column].to_numpy()
    rep_territory = dict(zip(territories["rep_id"], territories["territory_id"], strict=True))
    out["territory_id"] = out["rep_id"].map(rep_territory).fillna("")
    return out
