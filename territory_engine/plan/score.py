"""Score any plan folder (the quotas of an existing plan are re-allocated by :mod:`.requota`).

A plan folder needs only ``assignments.csv`` (``account_id, rep_id``, and
optionally ``territory_id``): a plan this engine wrote, one edited by hand,
or one imported from another tool. Everything else is recomputed from the
scenario's input data, with the same pure functions the pipeline uses, so a
plan scores the same whichever way it was made.

How a plan folder is read
-------------------------
* A territory is ``territory_id``, or ``T-<rep_id>`` when the column or cell
  is empty; a territory has one rep and a rep one territory.
* Every account of the scenario's accounts table has exactly one row.
* Territory centres (for travel): the rep's home in ``per_rep`` mode; in
  ``count`` mode the centre in ``territories.csv`` when there is one, else the
  potential-weighted centroid of the territory's accounts.
* Contiguity and polygons: a geo unit (per segment layer) belongs to the
  territory holding most of its accounts (units whose accounts are split between
  territories are counted as ``split_units``). Units without accounts are drawn as
  the folder's ``units.csv`` draws them, so an unedited plan scores exactly as the
  pipeline scored it; without ``units.csv`` they take the territory of the nearest
  assigned unit in the unit graph (breadth first, ties to the earlier territory),
  and a territory counts as one piece when it connects through its own units or
  units without accounts.
* Quotas: ``quotas.csv`` when the folder has one (``territory_id, quota``),
  else the scenario's allocation.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from territory_engine.config import Scenario, load_scenario, scenario_hash
from territory_engine.config.segments import teams
from territory_engine.errors import InputError
from territory_engine.io.jsonio import to_json
from territory_engine.io.load import Tables, load_tables
from territory_engine.metrics import Scorecard, ScoringInputs, quota_section, scorecard
from territory_engine.metrics.adapters import territory_compactness
from territory_engine.metrics.card import Contiguity, QuotaSection
from territory_engine.metrics.inputs import plan_scoring_inputs
from territory_engine.metrics.scorecard import pieces_through_empty_units
from territory_engine.plan.assignment import (
    PlanAssignment,
    read_plan_assignment,
    read_plan_quotas,
    read_unit_territories,
)
from territory_engine.plan.geography import fill_empty_units, plan_polygons, unit_owners
from territory_engine.plan.rewrite import report_writer, rewrite_folder, text_writer
from territory_engine.problem.build import ProblemIndex, build_problem
from territory_engine.problem.data import ProblemData
from territory_engine.quota import QuotaResult
from territory_engine.quota.inputs import plan_attainment, plan_quotas


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score_folder` computed.

    Attributes
    ----------
    card
        The scorecard (as written to ``scorecard.json``).
    assignment
        The plan's territories.
    quotas
        The scenario's quota allocation for this plan; ``None`` when the card scores
        the folder's ``quotas.csv`` (nothing was allocated).
    quota_source
        ``"quotas.csv"`` or ``"scenario"``: which quotas the card scores.
    """

    card: dict
    assignment: PlanAssignment
    quotas: QuotaResult | None
    quota_source: str


def resolve_scenario(plan_dir: Path, scenario_file: Path | None) -> Scenario:
    """The scenario to score ``plan_dir`` with.

    ``scenario_file`` when given; else the validated scenario recorded in the
    folder's ``plan.json``; else its ``scenario_file``.

    Raises
    ------
    InputError
        No scenario given and no usable ``plan.json``.
    """
    if scenario_file is not None:
        return load_scenario(scenario_file)
    manifest_path = plan_dir / "plan.json"
    if not manifest_path.is_file():
        raise InputError(
            "has no plan.json to name its scenario; give one with --scenario", file=str(plan_dir)
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"is not valid JSON ({exc}); give --scenario", file=str(manifest_path)
        ) from None
    if isinstance(manifest.get("scenario"), dict):
        try:
            return Scenario.model_validate(manifest["scenario"])
        except ValueError:
            pass  # recorded by another version: fall back to the file
    source = manifest.get("scenario_file")
    if source and Path(source).is_file():
        return load_scenario(source)
    raise InputError(
        "names no scenario this version can read; give one with --scenario",
        file=str(manifest_path),
    )


def scoring_inputs(
    scenario: Scenario,
    tables: Tables,
    problem: ProblemData,
    index: ProblemIndex,
    plan: PlanAssignment,
    drawn_units: np.ndarray | None = None,
) -> tuple[ScoringInputs, int]:
    """Account-level view of a plan read from a folder, and its number of split units.

    ``drawn_units`` gives, per problem unit, the territory ``units.csv`` drew it in
    (-1 for none); it decides the units without accounts, which are otherwise
    filled breadth first (:func:`fill_empty_units`).
    """
    accounts, reps = tables.accounts, tables.reps
    k = len(plan.territory_ids)
    account_group = problem.unit_group[index.account_unit]
    group_pos = {g: i for i, g in enumerate(problem.group_names)}
    groups = teams(scenario.territories.eligibility, accounts["segment"], reps["segment"])
    segment = dict(
        zip(
            reps["rep_id"].astype(str),
            reps["segment"].astype(str).map(groups.of_rep_segment),
            strict=True,
        )
    )
    territory_group = np.zeros(k, dtype=int)
    for t, r in enumerate(plan.territory_rep):
        if len(problem.group_names) > 1:
            if r:
                territory_group[t] = group_pos[segment[r]]
            else:
                held = account_group[plan.account_territory == t]
                territory_group[t] = int(np.bincount(held).argmax()) if len(held) else 0
    fte = dict(zip(reps["rep_id"].astype(str), reps["capacity_fte"].astype(float), strict=True))
    if scenario.scale_by_capacity and scenario.territories.mode == "per_rep":
        capacity = np.array([fte.get(r, 1.0) if r else 1.0 for r in plan.territory_rep])
    else:
        capacity = np.ones(k)
    owner, split = unit_owners(index.account_unit, plan.account_territory, problem.n_units)
    if drawn_units is not None:
        owner = np.where(owner < 0, drawn_units, owner)
    inputs = plan_scoring_inputs(
        accounts,
        tables.edges,
        problem,
        index,
        scenario.balance,
        territory_ids=plan.territory_ids,
        territory_rep=plan.territory_rep,
        territory_group=territory_group,
        capacity=capacity,
        account_territory=plan.account_territory,
        unit_territory=fill_empty_units(problem.adjacency, owner),
        centres=plan.centres,
    )
    return inputs, split


def score_folder(plan_dir: Path, scenario: Scenario, tables: Tables | None = None) -> ScoreResult:
    """Score the plan in ``plan_dir`` (nothing is written).

    Parameters
    ----------
    plan_dir
        A folder with ``assignments.csv`` (and optionally ``quotas.csv``,
        ``territories.csv``).
    scenario
        The scenario whose data and rules the plan is scored against.
    tables
        The scenario's tables, when already loaded.
    """
    plan_dir = Path(plan_dir)
    tables = load_tables(scenario) if tables is None else tables
    plan = read_plan_assignment(plan_dir, scenario, tables)
    problem, index = build_problem(scenario, tables)
    drawn = read_unit_territories(plan_dir, index, plan.territory_ids)
    loaded = LoadedInputs(scenario, tables, problem, index)
    return score_assignment(
        plan_dir, loaded, plan, drawn, lambda: read_plan_quotas(plan_dir, plan.territory_ids)
    )


#: How many territory polygons a :class:`LoadedInputs` memo holds before it starts over.
POLYGON_MEMO_SIZE = 2000


@dataclass(frozen=True)
class LoadedInputs:
    """What scoring any assignment of one scenario needs, loaded once.

    Attributes
    ----------
    scenario, tables
        The scenario and its loaded tables.
    problem, index
        :func:`~territory_engine.problem.build.build_problem` of them.
    polygons
        A memo of territory polygons by their units, for scoring many assignments
        of one scenario (an edit session); ``None`` dissolves every territory, as
        :func:`score_folder` does. The polygons are the same either way.
    """

    scenario: Scenario
    tables: Tables
    problem: ProblemData
    index: ProblemIndex
    polygons: dict[tuple[str, bytes], object] | None = None


def _territory_polygons(
    loaded: LoadedInputs, unit_territory: np.ndarray, territory_ids: list[str]
) -> gpd.GeoDataFrame:
    """:func:`plan_polygons`, re-using the memo's union of a territory whose units are unchanged.

    Each territory's polygon is the union of its units in the order
    :func:`plan_polygons` dissolves them (the same ``union_all`` of the same
    geometries), so the result equals the dissolve's.
    """
    units, index, memo = loaded.tables.units, loaded.index, loaded.polygons
    if memo is None:
        return plan_polygons(units, index, unit_territory, territory_ids)
    keep = np.flatnonzero(~index.exception_unit & (unit_territory >= 0))
    geoms = units.set_index(units["unit_id"].astype(str)).geometry
    owner = np.asarray(territory_ids, dtype=object)[unit_territory[keep]]
    names, shapes = [], []
    for tid in sorted(set(owner.tolist())):
        mine = keep[owner == tid]
        key = (tid, mine.tobytes())
        shape = memo.get(key)  # one lookup: another request may clear the memo meanwhile
        if shape is None:
            if len(memo) >= POLYGON_MEMO_SIZE:
                memo.clear()
            shape = memo[key] = shapely.union_all(geoms.loc[index.unit_geo_id[mine]].to_numpy())
        names.append(tid)
        shapes.append(shape)
    return gpd.GeoDataFrame(
        {"territory_id": np.asarray(names, dtype=object)}, geometry=shapes, crs=units.crs
    )


def score_assignment(
    plan_dir: Path,
    loaded: LoadedInputs,
    plan: PlanAssignment,
    drawn: np.ndarray | None,
    file_quotas: Callable[[], np.ndarray | None],
) -> ScoreResult:
    """Score ``plan`` with inputs already loaded (what :func:`score_folder` does after reading).

    ``plan_dir`` is the folder the card names and whose organisation layers
    (``hierarchy.csv``, the old ``scorecard.json``'s forecast) are kept; ``drawn``
    is its ``units.csv`` (:func:`read_unit_territories`); ``file_quotas`` gives its
    ``quotas.csv`` quotas (:func:`read_plan_quotas`, ``None`` without the file). The
    scenario's quotas are allocated only for a folder without ``quotas.csv``: with
    it, the card scores the folder's quotas (a cap the scenario's allocation could
    not meet is then not an error).
    """
    scenario, tables, problem, index = loaded.scenario, loaded.tables, loaded.problem, loaded.index
    inputs, split = scoring_inputs(scenario, tables, problem, index, plan, drawn)
    territories = (plan.account_territory, plan.territory_ids, plan.territory_rep, plan.centres)
    from_file = file_quotas()
    card = scorecard(inputs)
    quotas: QuotaResult | None = None
    if from_file is None:
        quotas = plan_quotas(scenario, tables, *territories)
        quota_part = scenario_quota(card, quotas, plan.territory_ids)
    else:
        # The card scores the folder's quotas: the scenario's allocation is not needed,
        # only the attainment model (the target and the ramp).
        quota_part = quota_section(
            from_file,
            _territory_potential(card),
            plan.territory_ids,
            plan_attainment(scenario, tables, *territories),
            source="quotas.csv",
        )
    assert inputs.unit_territory is not None  # scoring_inputs always draws the units
    polygons = _territory_polygons(loaded, inputs.unit_territory, plan.territory_ids)
    card = dataclasses.replace(
        card,
        quota=quota_part,
        contiguity=_folder_contiguity(card, index, plan, problem, drawn, split),
        compactness=territory_compactness(polygons, plan.territory_ids),
        scored={
            "plan_folder": str(plan_dir.resolve()),
            "scenario_name": scenario.name,
            "scenario_hash": scenario_hash(scenario),
        },
    )
    quota_values = from_file if quotas is None else quotas.quotas["quota"].to_numpy(float)
    assert quota_values is not None  # allocated exactly when the folder has no quotas.csv
    kept = _kept_layers(
        plan_dir,
        scenario,
        card.to_dict(),
        problem,
        index,
        inputs.unit_territory,
        plan,
        quota_values,
    )
    return ScoreResult(kept, plan, quotas, "scenario" if quotas is not None else "quotas.csv")


#: The scorecard sections of a plan folder's organisation layers (``org``), in no fixed order.
LAYER_SECTIONS = ("forecast", "hierarchy")


def read_card(plan_dir: Path) -> dict:
    """The folder's ``scorecard.json`` as it is, or ``{}`` when absent or unreadable."""
    path = Path(plan_dir) / "scorecard.json"
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return card if isinstance(card, dict) else {}


def _kept_layers(
    plan_dir: Path,
    scenario: Scenario,
    card: dict,
    problem: ProblemData,
    index: ProblemIndex,
    unit_territory: np.ndarray,
    plan: PlanAssignment,
    quota: np.ndarray,
) -> dict:
    """``card`` with the folder's organisation layers: hierarchy re-scored, forecast carried.

    A folder with ``hierarchy.csv`` gets its ``hierarchy`` section recomputed from
    its current assignment, groups kept
    (:func:`~territory_engine.org.hierarchy.plan.kept_hierarchy`); the old card's
    ``forecast`` section is carried
    (:func:`~territory_engine.org.forecast.plan.kept_forecast`: marked stale when
    the territories' books changed). A folder with neither is scored as before.
    """
    from territory_engine.org.hierarchy.tables import read_hierarchy

    old = read_card(plan_dir)
    has_table = read_hierarchy(plan_dir) is not None
    if not has_table and "forecast" not in old:
        return card
    keys = [k for k in old if k in LAYER_SECTIONS]
    if has_table and "hierarchy" not in keys:
        keys.append("hierarchy")
    out = dict(card)
    for key in keys:
        if key == "forecast":
            from territory_engine.org.forecast.plan import kept_forecast

            out[key] = kept_forecast(old[key], old.get("territories"), card.get("territories"))
        elif has_table:
            out[key] = _hierarchy_section(
                plan_dir, scenario, card, problem, index, unit_territory, plan, quota, old
            )
    return out


def _hierarchy_section(
    plan_dir: Path,
    scenario: Scenario,
    card: dict,
    problem: ProblemData,
    index: ProblemIndex,
    unit_territory: np.ndarray,
    plan: PlanAssignment,
    quota: np.ndarray,
    old: dict,
) -> dict:
    """The ``hierarchy`` section of the folder's kept groups over its territories now."""
    import pandas as pd

    from territory_engine.org.hierarchy.plan import kept_hierarchy, solved_adjacency

    territories = pd.DataFrame(card["territories"])
    centres = np.asarray(plan.centres, dtype=float)
    if centres.shape == (len(territories), 2):
        territories["centre_lon"], territories["centre_lat"] = centres[:, 0], centres[:, 1]
    quotas = pd.DataFrame({"territory_id": plan.territory_ids, "quota": quota})
    adjacency = solved_adjacency(problem, index, unit_territory, len(plan.territory_ids))
    section = old.get("hierarchy") if isinstance(old.get("hierarchy"), dict) else None
    kept = kept_hierarchy(plan_dir, scenario, territories, adjacency, quotas, section=section)
    assert kept is not None  # the caller saw hierarchy.csv
    return kept[3]


def _territory_potential(card: Scorecard) -> np.ndarray:
    """(k,) potential of each territory, from the scorecard's territory table."""
    return np.array([row["potential"] for row in card.territories], dtype=float)


def scenario_quota(card: Scorecard, quotas: QuotaResult, territory_ids: list[str]) -> QuotaSection:
    """The ``quota`` section of the scenario's own allocation (``source: scenario``)."""
    return quota_section(
        quotas.quotas["quota"].to_numpy(float),
        _territory_potential(card),
        territory_ids,
        quotas.attainment,
        allocation=quotas.summary,
        source="scenario",
    )


def _folder_contiguity(
    card: Scorecard,
    index: ProblemIndex,
    plan: PlanAssignment,
    problem: ProblemData,
    drawn: np.ndarray | None,
    split: int,
) -> Contiguity:
    """``contiguity`` of a plan folder: pieces, cut edges, split units, who drew empty units.

    Without ``units.csv`` nobody says who holds the units without accounts: a
    territory is one piece when it connects through them (see
    :func:`~territory_engine.metrics.scorecard.pieces_through_empty_units`); cut
    edges and polygons use the breadth-first fill.
    """
    assert card.contiguity is not None  # a folder is scored on its problem's unit graph
    pieces_in, max_pieces = card.contiguity["territories_in_pieces"], card.contiguity["max_pieces"]
    if drawn is None:
        owner, _ = unit_owners(index.account_unit, plan.account_territory, problem.n_units)
        pieces = pieces_through_empty_units(problem.adjacency, owner, len(plan.territory_ids))
        pieces_in = int(np.sum(pieces > 1))
        max_pieces = int(pieces.max()) if len(pieces) else 0
    return {
        "territories_in_pieces": pieces_in,
        "max_pieces": max_pieces,
        "cut_edges": card.contiguity["cut_edges"],
        "split_units": split,
        "empty_units_from": "units.csv" if drawn is not None else "nearest",
    }


def score_plan(plan_dir: Path, scenario_file: Path | None = None) -> ScoreResult:
    """Score ``plan_dir`` and (re)write its ``scorecard.json`` atomically.

    Raises
    ------
    InputError, ScenarioError, InfeasibleError
        Bad plan folder, scenario or data; nothing is written.
    """
    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        raise InputError("plan folder not found", file=str(plan_dir))
    scenario = resolve_scenario(plan_dir, scenario_file)
    result = score_folder(plan_dir, scenario)
    text = to_json(result.card)
    replace: dict[str, Callable[[Path], None]] = {"scorecard.json": text_writer(text)}
    report = report_writer(plan_dir, result.card, None, scenario)
    if report is not None:
        replace["report.html"] = report
    rewrite_folder(plan_dir, replace)
    return result


__all__ = [
    "LAYER_SECTIONS",
    "LoadedInputs",
    "ScoreResult",
    "read_card",
    "resolve_scenario",
    "score_assignment",
    "score_folder",
    "score_plan",
    "scoring_inputs",
]
