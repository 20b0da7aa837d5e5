"""Score any plan folder, and re-allocate the quotas of an existing plan.

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
import shutil
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_engine.config import Scenario, load_scenario, scenario_hash
from territory_engine.errors import InputError, did_you_mean
from territory_engine.io.jsonio import to_json
from territory_engine.io.load import Tables, load_tables
from territory_engine.io.tables import check_ids, is_in, raise_for_rows, read_table, row_number
from territory_engine.metrics import Scorecard, ScoringInputs, quota_section, scorecard
from territory_engine.metrics.adapters import territory_compactness
from territory_engine.metrics.card import Contiguity, QuotaSection
from territory_engine.metrics.inputs import plan_scoring_inputs
from territory_engine.metrics.scorecard import pieces_through_empty_units
from territory_engine.plan.atomic import write_folder_atomically
from territory_engine.plan.files import TERRITORY_PREFIX
from territory_engine.problem.build import ProblemIndex, build_problem
from territory_engine.problem.data import ProblemData
from territory_engine.quota import QuotaResult
from territory_engine.quota.inputs import plan_quotas

ASSIGNMENTS = "assignments.csv"


@dataclass(frozen=True)
class PlanAssignment:
    """The territories of a plan folder, aligned with the scenario's tables.

    Attributes
    ----------
    territory_ids, territory_rep
        (k,) labels and rep ids ("" for a territory without a rep).
    account_territory
        (N,) territory index of each account, in the accounts table's order.
    centres
        (k, 2) lon/lat of each territory's centre.
    """

    territory_ids: list[str]
    territory_rep: list[str]
    account_territory: np.ndarray
    centres: np.ndarray


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
        The scenario's quota allocation for this plan.
    quota_source
        ``"quotas.csv"`` or ``"scenario"``: which quotas the card scores.
    """

    card: dict
    assignment: PlanAssignment
    quotas: QuotaResult
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


def read_plan_assignment(plan_dir: Path, scenario: Scenario, tables: Tables) -> PlanAssignment:
    """Read and check ``assignments.csv`` of a plan folder against the scenario's tables.

    Raises
    ------
    InputError
        A missing file or column, an unknown or repeated account, an unknown
        rep, a row with neither rep nor territory, a territory with two reps,
        a rep with two territories, or accounts without a row; each names the
        file, the row and the column.
    """
    path = plan_dir / ASSIGNMENTS
    if not plan_dir.is_dir():
        raise InputError("plan folder not found", file=str(plan_dir))
    if not path.is_file():
        raise InputError(
            "not found; a plan folder needs assignments.csv (account_id, rep_id)", file=str(path)
        )
    frame = read_table(
        path,
        kind="assignments",
        required=("account_id", "rep_id"),
        id_column="account_id",
        text=("territory_id", "rep_id"),
    )
    if "territory_id" not in frame.columns:
        frame["territory_id"] = ""
    check_ids(frame, "account_id", file=path)
    accounts, reps = tables.accounts, tables.reps
    account_ids = accounts["account_id"].astype(str)
    accounts_file = str(scenario.data.accounts)
    raise_for_rows(
        frame,
        ~is_in(frame["account_id"], account_ids),
        file=path,
        column="account_id",
        id_column="account_id",
        describe=lambda label: (
            f"{frame.at[label, 'account_id']!r} is not an account of {accounts_file}"
            f"{did_you_mean(frame.at[label, 'account_id'], account_ids)}"
        ),
    )
    rep_ids = reps["rep_id"].astype(str)
    rep = frame["rep_id"]
    raise_for_rows(
        frame,
        (rep != "") & ~is_in(rep, rep_ids),
        file=path,
        column="rep_id",
        id_column="account_id",
        describe=lambda label: (
            f"{rep[label]!r} is not a rep of {scenario.data.reps}"
            f"{did_you_mean(rep[label], rep_ids)}"
        ),
    )
    raise_for_rows(
        frame,
        (rep == "") & (frame["territory_id"] == ""),
        file=path,
        column="rep_id",
        id_column="account_id",
        describe=lambda _: "is empty and so is territory_id; every account needs a rep",
    )
    tid = frame["territory_id"].where(frame["territory_id"] != "", TERRITORY_PREFIX + rep)
    frame["territory_id"] = tid
    _one_to_one(frame, path, "territory_id", "rep_id", "a territory has one rep")
    owned = frame[frame["rep_id"] != ""]
    _one_to_one(owned, path, "rep_id", "territory_id", "a rep holds one territory")
    missing = ~is_in(account_ids, frame["account_id"])
    if missing.any():
        first, count = account_ids[missing].iloc[0], int(missing.sum())
        raise InputError(
            f"{count} account{'s' if count > 1 else ''} of {accounts_file} "
            f"{'have' if count > 1 else 'has'} no row (first: {first!r}); "
            "every account needs a row",
            file=str(path),
            column="account_id",
        )
    # Territories in the order of their reps in the reps table (as the pipeline
    # writes them), territories without a rep last, by id.
    rep_pos = {r: i for i, r in enumerate(rep_ids)}
    territory_rep = frame.groupby("territory_id", sort=False)["rep_id"].first()
    order = sorted(territory_rep.index, key=lambda t: (rep_pos.get(territory_rep[t], 1 << 30), t))
    pos = {t: i for i, t in enumerate(order)}
    by_account = dict(zip(frame["account_id"], frame["territory_id"], strict=True))
    account_territory = np.array([pos[by_account[a]] for a in account_ids], dtype=int)
    reps_of = [str(territory_rep[t]) for t in order]
    centres = _centres(plan_dir, scenario, tables, order, reps_of, account_territory)
    return PlanAssignment(list(order), reps_of, account_territory, centres)


def _one_to_one(frame: pd.DataFrame, path: Path, key: str, value: str, rule: str) -> None:
    """Raise on the first row whose ``value`` differs from the first one of its ``key``."""
    first = frame.groupby(key, sort=False)[value].transform("first")
    first_label = frame.groupby(key, sort=False)[value].transform(lambda s: s.index[0])

    def describe(label: Hashable) -> str:
        other = row_number(frame, first_label[label])
        return (
            f"{key} {frame.at[label, key]!r} has {value} {first[label]!r} on row {other} but "
            f"{frame.at[label, value]!r} here; {rule}"
        )

    raise_for_rows(
        frame,
        frame[value] != first,
        file=path,
        column=value,
        id_column="account_id",
        describe=describe,
    )


def _centres(
    plan_dir: Path,
    scenario: Scenario,
    tables: Tables,
    territory_ids: list[str],
    territory_rep: list[str],
    account_territory: np.ndarray,
) -> np.ndarray:
    accounts, reps = tables.accounts, tables.reps
    k = len(territory_ids)
    lon, lat = accounts.geometry.x.to_numpy(), accounts.geometry.y.to_numpy()
    w = accounts["potential"].to_numpy(float) + 1e-9
    wsum = np.bincount(account_territory, weights=w, minlength=k)
    centres = np.column_stack(
        [
            np.bincount(account_territory, weights=w * lon, minlength=k) / wsum,
            np.bincount(account_territory, weights=w * lat, minlength=k) / wsum,
        ]
    )
    if scenario.territories.mode == "per_rep":
        homes = reps.set_index(reps["rep_id"].astype(str)).geometry
        for t, r in enumerate(territory_rep):
            if r:
                centres[t] = (homes[r].x, homes[r].y)
        return centres
    listed = plan_dir / "territories.csv"
    if listed.is_file():
        table = pd.read_csv(listed, dtype={"territory_id": str})
        if {"territory_id", "centre_lon", "centre_lat"} <= set(table.columns):
            known = table.set_index("territory_id")
            for t, tid in enumerate(territory_ids):
                if tid in known.index:
                    centres[t] = (known.at[tid, "centre_lon"], known.at[tid, "centre_lat"])
    return centres


def unit_owners(
    account_unit: np.ndarray, account_territory: np.ndarray, n_units: int
) -> tuple[np.ndarray, int]:
    """(n,) territory holding most accounts of each unit (-1 for none), and the split units.

    Ties go to the lower territory index.
    """
    if len(account_unit) == 0:
        return np.full(n_units, -1), 0
    k = int(account_territory.max()) + 1
    pairs, counts = np.unique(account_unit * k + account_territory, return_counts=True)
    unit, terr = pairs // k, pairs % k
    # Sort by unit, then count descending, then territory ascending: first row per unit wins.
    order = np.lexsort((terr, -counts, unit))
    unit, terr = unit[order], terr[order]
    first = np.r_[True, unit[1:] != unit[:-1]]
    owner = np.full(n_units, -1)
    owner[unit[first]] = terr[first]
    split = int(np.sum(np.bincount(unit, minlength=n_units) > 1))
    return owner, split


def fill_empty_units(adjacency: sp.csr_matrix, owner: np.ndarray) -> np.ndarray:
    """Give each unit without accounts the territory of its nearest owned unit (breadth first).

    At each step, every unowned unit touching owned units takes the lowest
    territory index among them. Units no owned unit can reach stay -1.
    """
    label = np.asarray(owner).copy()
    coo = adjacency.tocoo()
    while True:
        edge = (label[coo.row] < 0) & (label[coo.col] >= 0)
        if not edge.any():
            return label
        rows, cand = coo.row[edge], label[coo.col[edge]]
        best = pd.Series(cand).groupby(rows).min()
        label[best.index.to_numpy()] = best.to_numpy()


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
    segment = dict(zip(reps["rep_id"].astype(str), reps["segment"].astype(str), strict=True))
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


def plan_polygons(
    units: gpd.GeoDataFrame,
    index: ProblemIndex,
    unit_territory: np.ndarray,
    territory_ids: list[str],
) -> gpd.GeoDataFrame:
    """Dissolve the geo units of each territory (exception units add no polygon)."""
    keep = ~index.exception_unit & (unit_territory >= 0)
    geoms = units.set_index(units["unit_id"].astype(str)).geometry
    frame = gpd.GeoDataFrame(
        {"territory_id": np.asarray(territory_ids, dtype=object)[unit_territory[keep]]},
        geometry=geoms.loc[index.unit_geo_id[keep]].values,
        crs=units.crs,
    )
    return frame.dissolve(by="territory_id", as_index=False)[["territory_id", "geometry"]]


def read_unit_territories(
    plan_dir: Path, index: ProblemIndex, territory_ids: list[str]
) -> np.ndarray | None:
    """(n,) territory of each problem unit as the folder's ``units.csv`` draws it, or ``None``.

    ``units.csv`` (``unit_id, segment, territory_id``, written by the pipeline) says
    who holds the units without accounts. It is used only when every row names a
    unit of the scenario's layers (a plan scored against a scenario with other
    layers ignores it); territories no longer in ``assignments.csv`` count as none.
    """
    path = plan_dir / "units.csv"
    if not path.is_file():
        return None
    frame = read_table(
        path,
        kind="units",
        required=("unit_id", "segment", "territory_id"),
        text=("unit_id", "segment", "territory_id"),
    )
    layered = np.flatnonzero(~index.exception_unit)
    key = pd.Series(
        layered,
        index=pd.MultiIndex.from_arrays(
            [index.unit_geo_id[layered].astype(str), index.unit_group_name[layered].astype(str)]
        ),
    )
    rows = pd.MultiIndex.from_arrays([frame["unit_id"], frame["segment"]])
    found = key.reindex(rows)
    if found.isna().any():
        return None
    pos = {t: i for i, t in enumerate(territory_ids)}
    out = np.full(len(index.unit_geo_id), -1)
    out[found.to_numpy(dtype=int)] = [pos.get(t, -1) for t in frame["territory_id"]]
    return out


def read_plan_quotas(plan_dir: Path, territory_ids: list[str]) -> np.ndarray | None:
    """(k,) quotas from the folder's ``quotas.csv`` aligned with ``territory_ids``, or ``None``.

    Raises
    ------
    InputError
        A missing column, a quota that is not a number, an unknown, repeated
        or missing territory.
    """
    path = plan_dir / "quotas.csv"
    if not path.is_file():
        return None
    frame = read_table(
        path,
        kind="quotas",
        required=("territory_id", "quota"),
        id_column="territory_id",
        numeric=("quota",),
    )
    check_ids(frame, "territory_id", file=path)
    raise_for_rows(
        frame,
        ~is_in(frame["territory_id"], territory_ids),
        file=path,
        column="territory_id",
        id_column="territory_id",
        describe=lambda label: (
            f"{frame.at[label, 'territory_id']!r} is not a territory of assignments.csv"
            f"{did_you_mean(frame.at[label, 'territory_id'], territory_ids)}"
        ),
    )
    by_id = dict(zip(frame["territory_id"], frame["quota"].astype(float), strict=True))
    missing = [t for t in territory_ids if t not in by_id]
    if missing:
        raise InputError(
            f"territory {missing[0]!r} of assignments.csv has no quota"
            + (f" ({len(missing) - 1} more likewise)" if len(missing) > 1 else ""),
            file=str(path),
            column="territory_id",
        )
    return np.array([by_id[t] for t in territory_ids])


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
    inputs, split = scoring_inputs(scenario, tables, problem, index, plan, drawn)
    quotas = plan_quotas(
        scenario,
        tables,
        plan.account_territory,
        plan.territory_ids,
        plan.territory_rep,
        plan.centres,
    )
    from_file = read_plan_quotas(plan_dir, plan.territory_ids)
    card = scorecard(inputs)
    if from_file is None:
        quota_part = _scenario_quota(card, quotas, plan.territory_ids)
    else:
        quota_part = quota_section(
            from_file,
            _territory_potential(card),
            plan.territory_ids,
            quotas.attainment,
            source="quotas.csv",
        )
    assert inputs.unit_territory is not None  # scoring_inputs always draws the units
    polygons = plan_polygons(tables.units, index, inputs.unit_territory, plan.territory_ids)
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
    return ScoreResult(
        card.to_dict(), plan, quotas, "quotas.csv" if from_file is not None else "scenario"
    )


def _territory_potential(card: Scorecard) -> np.ndarray:
    """(k,) potential of each territory, from the scorecard's territory table."""
    return np.array([row["potential"] for row in card.territories], dtype=float)


def _scenario_quota(card: Scorecard, quotas: QuotaResult, territory_ids: list[str]) -> QuotaSection:
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


def rewrite_folder(plan_dir: Path, replace: dict[str, Callable[[Path], None]]) -> Path:
    """Rewrite ``plan_dir`` atomically: copy every other entry, then write ``replace``'s files.

    Parameters
    ----------
    plan_dir
        The existing plan folder.
    replace
        File name -> function writing that file at the path it is given.
    """
    plan_dir = Path(plan_dir)

    def write(folder: Path) -> None:
        for entry in sorted(plan_dir.iterdir()):
            if entry.name in replace:
                continue
            if entry.is_dir():
                shutil.copytree(entry, folder / entry.name)
            else:
                shutil.copy2(entry, folder / entry.name)
        for name, writer in replace.items():
            writer(folder / name)

    return write_folder_atomically(plan_dir, write)


def _report_writer(
    plan_dir: Path, card: dict, quotas: pd.DataFrame | None, scenario: Scenario
) -> Callable[[Path], None] | None:
    """A writer that re-renders ``report.html`` from the new scorecard, or ``None``.

    The report shows the scorecard and the quotas; after re-scoring or
    re-allocating it would otherwise be stale. Needs the folder's
    ``territories.csv`` (plans written by ``run``); quotas come from the new
    allocation or the folder's ``quotas.csv``.
    """
    territories_path = plan_dir / "territories.csv"
    quotas_path = plan_dir / "quotas.csv"
    if not territories_path.is_file() or (quotas is None and not quotas_path.is_file()):
        return None
    from territory_engine.render.report import render_report

    territories = pd.read_csv(territories_path, dtype={"territory_id": str, "rep_id": str})
    if quotas is None:
        quotas = pd.read_csv(quotas_path, dtype={"territory_id": str, "rep_id": str})
    html = render_report(
        card, territories, quotas, measures=list(scenario.balance), title=scenario.name
    )
    return lambda p: p.write_text(html, encoding="utf-8")


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
    replace: dict[str, Callable[[Path], None]] = {
        "scorecard.json": lambda p: p.write_text(text, encoding="utf-8")
    }
    report = _report_writer(plan_dir, result.card, None, scenario)
    if report is not None:
        replace["report.html"] = report
    rewrite_folder(plan_dir, replace)
    return result


def reallocate_quotas(plan_dir: Path, scenario_file: Path) -> ScoreResult:
    """Re-allocate the quotas of an existing plan with ``scenario_file``'s quota section.

    Rewrites ``quotas.csv``, ``quota_splits.csv`` and the ``quota`` part of
    ``scorecard.json`` (the whole scorecard when the folder has none), and
    records the quota scenario in ``plan.json``; every other file is copied
    unchanged. Atomic: on any error the folder is untouched.
    """
    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        raise InputError("plan folder not found", file=str(plan_dir))
    scenario = load_scenario(scenario_file)
    tables = load_tables(scenario)
    plan = read_plan_assignment(plan_dir, scenario, tables)
    quotas = plan_quotas(
        scenario,
        tables,
        plan.account_territory,
        plan.territory_ids,
        plan.territory_rep,
        plan.centres,
    )
    card_path = plan_dir / "scorecard.json"
    card = None
    if card_path.is_file():
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            card = None
    if isinstance(card, dict):
        k = len(plan.territory_ids)
        potential = np.bincount(
            plan.account_territory,
            weights=tables.accounts["potential"].to_numpy(float),
            minlength=k,
        )
        # The card on disk may come from another version or a hand edit: only its
        # quota section is replaced (in place in the key order), the rest is kept as is.
        card = {
            **card,
            "quota": quota_section(
                quotas.quotas["quota"].to_numpy(float),
                potential,
                plan.territory_ids,
                quotas.attainment,
                allocation=quotas.summary,
                source="scenario",
            ),
        }
    else:
        # No scorecard yet: score everything but the quotas from quotas.csv.
        card = _score_with(plan_dir, scenario, tables, quotas)
    text = to_json(card)
    replace: dict[str, Callable[[Path], None]] = {
        "quotas.csv": lambda p: quotas.quotas.to_csv(p, index=False, lineterminator="\n"),
        "quota_splits.csv": lambda p: quotas.splits.to_csv(p, index=False, lineterminator="\n"),
        "scorecard.json": lambda p: p.write_text(text, encoding="utf-8"),
    }
    report = _report_writer(plan_dir, card, quotas.quotas, scenario)
    if report is not None:
        replace["report.html"] = report
    manifest_path = plan_dir / "plan.json"
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"is not valid JSON ({exc})", file=str(manifest_path)) from None
        manifest["quota"] = {
            "scenario_file": str(Path(scenario_file).resolve()),
            "scenario_hash": scenario_hash(scenario),
            "config": scenario.quota.model_dump(mode="json"),
        }
        files = manifest.get("files")
        if isinstance(files, list) and "quota_splits.csv" not in files:
            files.append("quota_splits.csv")
        manifest_text = json.dumps(manifest, indent=2)
        replace["plan.json"] = lambda p: p.write_text(manifest_text, encoding="utf-8")
    rewrite_folder(plan_dir, replace)
    return ScoreResult(card, plan, quotas, "scenario")


def _score_with(plan_dir: Path, scenario: Scenario, tables: Tables, quotas: QuotaResult) -> dict:
    """The scorecard of ``plan_dir`` with the quotas of ``quotas`` (not the folder's)."""
    result = score_folder(plan_dir, scenario, tables)
    card = Scorecard.from_dict(result.card)
    quota_part = _scenario_quota(card, quotas, result.assignment.territory_ids)
    return dataclasses.replace(card, quota=quota_part).to_dict()


__all__ = [
    "PlanAssignment",
    "ScoreResult",
    "read_plan_assignment",
    "reallocate_quotas",
    "resolve_scenario",
    "score_folder",
    "score_plan",
]
