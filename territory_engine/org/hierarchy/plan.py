"""Attach a drawn hierarchy to a plan: the pipeline's step and the CLI's.

:func:`plan_hierarchy` is the pipeline's one call (after the territories are
solved and the plan is made): it draws the scenario's ``hierarchy:`` on the
territory graph of the solved units and :func:`attach_hierarchy` adds the
outputs: ``hierarchy.csv``, ``hierarchy.geojson``, the quotas' region and
district from the drawn groups (unless ``quota.regions`` sets them) with the
totals per group, the scorecard's ``hierarchy`` section, and the manifest's
file list.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import ValidationError

from territory_engine.config.hierarchy_models import DEFAULT_TOLERANCE, HierarchyConfig
from territory_engine.errors import InputError, ScenarioError
from territory_engine.org.hierarchy.draw import (
    Hierarchy,
    _bands,
    _Children,
    _groups_frame,
    _level_bands,
    _next_children,
    _table,
    _violations,
    draw_hierarchy,
    group_centres,
)
from territory_engine.org.hierarchy.graph import polygon_territory_adjacency, territory_adjacency
from territory_engine.org.hierarchy.result import LevelResult
from territory_engine.org.hierarchy.score import group_pieces, level_score
from territory_engine.org.hierarchy.tables import (
    carry_hierarchy,
    hierarchy_geometry,
    hierarchy_levels,
    read_hierarchy,
    read_hierarchy_geometry,
)
from territory_engine.plan.files import plan_files
from territory_engine.plan.model import Plan
from territory_engine.quota.hierarchy import roll_up_drawn

if TYPE_CHECKING:
    from territory_engine.config import Scenario
    from territory_engine.io.load import Tables
    from territory_engine.problem.build import ProblemIndex
    from territory_engine.problem.data import ProblemData
    from territory_engine.solve import Alignment

__all__ = [
    "attach_hierarchy",
    "hierarchy_outputs",
    "kept_config",
    "kept_hierarchy",
    "parse_levels",
    "plan_hierarchy",
    "redraw_plan_hierarchy",
    "regroup_hierarchy",
    "requota_hierarchy",
    "scenario_measures",
    "solved_adjacency",
]


def scenario_measures(scenario: Scenario) -> list[str]:
    """The measures a hierarchy balances by default: the scenario's balance measures."""
    return list(scenario.balance)


def plan_hierarchy(
    scenario: Scenario,
    tables: Tables,
    problem: ProblemData,
    index: ProblemIndex,
    alignment: Alignment,
    plan: Plan,
    card: dict,
    source: Path | None = None,
) -> tuple[Plan, dict]:
    """The pipeline's hierarchy step: ``(plan, card)`` unchanged without ``hierarchy:``.

    Parameters
    ----------
    scenario, tables, problem, index, alignment
        The solved scenario.
    plan, card
        The plan and its scorecard (as :func:`~territory_engine.pipeline.assemble.make_plan`
        made them).
    source
        The scenario file: relative ``hierarchy.managers`` / ``previous.file`` are
        read from its folder.

    Raises
    ------
    ScenarioError, InputError, InfeasibleError
        See :func:`~territory_engine.org.hierarchy.draw.draw_hierarchy`.
    """
    cfg = scenario.hierarchy
    if cfg is None:
        return plan, card
    adjacency = solved_adjacency(problem, index, alignment.assign)
    hierarchy = draw_hierarchy(
        plan.territories,
        adjacency,
        cfg,
        measures=scenario_measures(scenario),
        reps=tables.reps,
        seed=scenario.solver.seed,
        base_dir=Path(source).resolve().parent if source is not None else None,
    )
    return attach_hierarchy(plan, card, hierarchy, fill_pools=not scenario.quota.regions)


def attach_hierarchy(
    plan: Plan, card: dict, hierarchy: Hierarchy, *, fill_pools: bool = True
) -> tuple[Plan, dict]:
    """``plan`` and ``card`` with the hierarchy's outputs (see the module docstring).

    Parameters
    ----------
    plan, card
        The plan and its scorecard dict.
    hierarchy
        The drawn hierarchy of the plan's territories.
    fill_pools
        Fill ``quotas.csv``'s ``region``/``district`` from the drawn levels
        (``False`` when ``quota.regions`` defines them).
    """
    levels = hierarchy.level_names
    quotas, groups, section = hierarchy_outputs(plan.quotas, hierarchy, fill_pools=fill_pools)
    geometry = hierarchy_geometry(groups, hierarchy.table, plan.geometry)
    card = {**card, "hierarchy": section}
    provenance = dict(plan.provenance)
    if provenance:
        provenance["files"] = list(plan_files(hierarchy=True))
        provenance["hierarchy"] = {
            "levels": levels,
            "feasible": hierarchy.feasible,
            "violations": hierarchy.violations,
            "seconds": round(hierarchy.seconds, 3),
        }
    plan = dataclasses.replace(
        plan,
        quotas=quotas,
        hierarchy=hierarchy.table,
        hierarchy_geometry=geometry,
        provenance=provenance,
    )
    return plan, card


def solved_adjacency(
    problem: ProblemData,
    index: ProblemIndex,
    unit_territory: np.ndarray,
    n_territories: int | None = None,
) -> sp.csr_matrix:
    """The territory graph of a solved plan (``unit_territory``: problem unit -> territory).

    Exception units (a locked account far away, a family) are outside geography.
    ``n_territories`` defaults to the problem's.
    """
    keep = np.flatnonzero(~np.asarray(index.exception_unit, dtype=bool))
    return territory_adjacency(
        np.asarray(unit_territory)[keep],
        np.asarray(index.unit_geo_id)[keep],
        problem.adjacency[keep][:, keep],
        problem.n_territories if n_territories is None else n_territories,
    )


def hierarchy_outputs(
    quotas: pd.DataFrame, hierarchy: Hierarchy, *, fill_pools: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The quotas, groups and scorecard section of ``hierarchy``: one rule for every writer.

    Returns
    -------
    tuple
        ``quotas`` with ``region``/``district`` from the drawn levels (when
        ``fill_pools``), the groups with each group's total ``quota``, and the
        scorecard's ``hierarchy`` section (:func:`~.score.level_score` per level
        with its ``quota`` totals).
    """
    levels = hierarchy.level_names
    quotas, totals = roll_up_drawn(quotas, hierarchy.table, levels, fill=fill_pools)
    groups = hierarchy.groups.copy()
    groups["quota"] = [
        totals.get(level, {}).get(gid, 0.0)
        for level, gid in zip(groups["level"], groups["id"], strict=True)
    ]
    score = {}
    for level in levels:
        score[level] = {**hierarchy.score[level], "quota": totals.get(level, {})}
    section = {
        "levels": levels,
        "feasible": hierarchy.feasible,
        "violations": hierarchy.violations,
        **score,
    }
    return quotas, groups, section


def parse_levels(text: str, tolerance: float | None = None) -> HierarchyConfig:
    """``district:8,region:3`` (name:count, bottom up) as a :class:`HierarchyConfig`.

    Raises
    ------
    ScenarioError
        A part that is not ``name:count`` with a whole count, or levels the
        hierarchy refuses (more groups above than below, a reserved name).
    """
    levels = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        name, sep, count = part.partition(":")
        if not sep or not count.strip().isdigit() or int(count) < 1:
            raise ScenarioError(
                f"--levels: {part!r} is not name:count (for example district:8,region:3)"
            )
        levels.append({"name": name.strip(), "count": int(count)})
    if not levels:
        raise ScenarioError("--levels: give at least one level, for example district:8,region:3")
    raw: dict = {"levels": levels}
    if tolerance is not None:
        # The measures are the plan's: redraw_plan_hierarchy applies the band to each.
        raw["balance"] = {"potential": {"tolerance": tolerance}}
    try:
        return HierarchyConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ScenarioError(f"--levels: {first['msg']}") from None


def redraw_plan_hierarchy(
    plan_dir: Path | str,
    config: HierarchyConfig,
    *,
    seed: int | None = None,
    tolerance: float | None = None,
) -> tuple[Path, Hierarchy]:
    """Draw a hierarchy on an existing plan folder and rewrite it atomically.

    The territory graph comes from the plan's ``territories.geojson``
    (territories whose polygons meet or overlap are adjacent); the measures are
    the plan's balance measures (``tolerance`` each, default ± 10 %). Rewrites
    ``hierarchy.csv``, ``hierarchy.geojson``, ``quotas.csv`` (region and
    district from the drawn groups unless the plan's scenario has
    ``quota.regions``), ``scorecard.json``, ``map.html``, ``plan.xlsx`` and
    ``plan.json``; every other file is copied as it is.

    Parameters
    ----------
    plan_dir
        A plan folder written by ``run``.
    config
        The hierarchy to draw.
    seed
        Solver seed (default: the plan's own).
    tolerance
        Band of every measure at every level (default: ``config.balance``, else ± 10 %).

    Returns
    -------
    tuple
        The folder and the drawn :class:`Hierarchy`.
    """
    from territory_engine.io.jsonio import to_json
    from territory_engine.io.safe_cells import write_csv
    from territory_engine.metrics.card import travel_unit
    from territory_engine.plan.files import HIERARCHY, HIERARCHY_GEOJSON, MANIFEST
    from territory_engine.plan.reader import read_plan_folder
    from territory_engine.plan.rewrite import rewrite_folder, workbook_writer
    from territory_engine.render.plan_map import render_plan_map, save_map

    folder = read_plan_folder(plan_dir)
    if tolerance is not None:
        band = {"tolerance": tolerance}
        config = config.model_copy(update={"balance": None})
        config = HierarchyConfig.model_validate(
            {
                **config.model_dump(),
                "balance": {m: band for m in folder.measures or ["potential"]},
            }
        )
    territories = folder.territories
    shapes = folder.geometry.set_index(folder.geometry["territory_id"].astype(str))
    ordered = shapes.reindex(territories["territory_id"].astype(str)).reset_index(drop=True)
    adjacency = polygon_territory_adjacency(ordered.set_geometry(ordered.geometry))
    scenario = folder.manifest.get("scenario") or {}
    hierarchy = draw_hierarchy(
        territories,
        adjacency,
        config,
        measures=folder.measures or ["potential"],
        reps=None,
        seed=int(folder.manifest.get("seed", 0)) if seed is None else seed,
    )
    plan = Plan(
        assignments=folder.assignments,
        territories=territories,
        quotas=folder.quotas,
        geometry=folder.geometry,
        provenance=dict(folder.manifest),
    )
    regions = (scenario.get("quota") or {}).get("regions")
    plan, card = attach_hierarchy(plan, folder.scorecard, hierarchy, fill_pools=not regions)
    geometry = plan.hierarchy_geometry
    assert geometry is not None and plan.hierarchy is not None
    table, quotas = plan.hierarchy, plan.quotas

    def write_map(path: Path) -> None:
        keep = ["account_id", "territory_id", "rep_id", "moved"]
        if "kept_for_relationship" in folder.assignments.columns:
            keep.append("kept_for_relationship")
        accounts = folder.accounts.merge(folder.assignments[keep], on="account_id")
        m = render_plan_map(
            folder.geometry,
            accounts,
            folder.reps,
            measures=folder.measures,
            title=folder.name,
            tiles=(scenario.get("output") or {}).get("tiles"),
            travel_unit=travel_unit(card),
            hierarchy=geometry,
        )
        save_map(m, path)

    replace = {
        HIERARCHY: lambda p: write_csv(table, p),
        HIERARCHY_GEOJSON: lambda p: geometry.to_file(p, driver="GeoJSON"),
        "quotas.csv": lambda p: write_csv(quotas, p),
        "scorecard.json": lambda p: p.write_text(to_json(card), encoding="utf-8"),
        "map.html": write_map,
    }
    workbook = workbook_writer(folder.path, quotas)
    if workbook is not None:
        replace["plan.xlsx"] = workbook
    if folder.manifest:
        replace[MANIFEST] = lambda p: p.write_text(to_json(plan.provenance), encoding="utf-8")
    return rewrite_folder(folder.path, replace), hierarchy


def kept_config(
    table: pd.DataFrame, config: HierarchyConfig | None, section: dict | None, measures: list[str]
) -> HierarchyConfig:
    """The rules a kept ``hierarchy.csv`` is scored by.

    The scenario's ``hierarchy:`` when it names the table's levels; else (a
    hierarchy drawn on the folder by ``territory-engine hierarchy``) the
    tolerances the scorecard's ``hierarchy`` section recorded per level and
    measure, else ``measures`` at ± 10 %. The counts are the table's.
    """
    levels = hierarchy_levels(table)
    if config is not None and [lv.name for lv in config.levels] == levels:
        return config
    raw_levels = []
    for name in levels:
        balance = ((section or {}).get(name) or {}).get("balance") or {}
        bands = {m: {"tolerance": v["tolerance"]} for m, v in balance.items() if "tolerance" in v}
        count = max(1, int(table[name].astype(str).replace("", pd.NA).nunique()))
        raw_levels.append({"name": name, "count": count, "balance": bands or None})
    default = {m: {"tolerance": DEFAULT_TOLERANCE} for m in measures or ["potential"]}
    try:
        return HierarchyConfig.model_validate({"levels": raw_levels, "balance": default})
    except ValidationError as exc:  # a hand-edited table whose levels do not nest
        reason = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise InputError(f"hierarchy.csv: {reason}") from None


def _natural(name: str) -> tuple:
    """Sort key: ``district-2`` before ``district-10``."""
    import re

    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def _group_order(labels: np.ndarray, level: str, previous: pd.DataFrame | None) -> list[str]:
    """The groups of a level still holding members, in ``previous``'s order, else natural."""
    present = {str(x) for x in labels if str(x)}
    order: list[str] = []
    if previous is not None and {"level", "id"} <= set(previous.columns):
        order = [g for g in previous.loc[previous["level"] == level, "id"].astype(str)]
    kept = [g for g in order if g in present]
    return kept + sorted(present - set(kept), key=_natural)


def _managers(
    level: str, group_ids: list[str], table_managers: dict[str, str], previous: pd.DataFrame | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ids, names) of each group's manager: ``previous``'s, else ``hierarchy.csv``'s."""
    ids = {g: table_managers.get(g, "") for g in group_ids}
    names = dict.fromkeys(group_ids, "")
    if previous is not None and {"level", "id", "manager_id"} <= set(previous.columns):
        rows = previous[previous["level"] == level]
        for gid, mid, mname in zip(
            rows["id"].astype(str),
            rows["manager_id"].fillna("").astype(str),
            rows.get("manager_name", pd.Series([""] * len(rows))).fillna("").astype(str),
            strict=True,
        ):
            if gid in ids:
                ids[gid], names[gid] = mid or ids[gid], mname
    return tuple(ids[g] for g in group_ids), tuple(names[g] for g in group_ids)


def _kept_level(
    name: str,
    depth: int,
    children: _Children,
    labels: np.ndarray,
    config: HierarchyConfig,
    bands: dict[str, float],
    managers: tuple[tuple[str, ...], tuple[str, ...]],
    group_ids: list[str],
) -> LevelResult:
    """One level with its groups as given (``labels``: each child's group), scored."""
    cfg = next(lv for lv in config.levels if lv.name == name)
    where = {g: i for i, g in enumerate(group_ids)}
    assign = np.array([where[str(x)] for x in labels], dtype=int)
    count = len(group_ids)
    level_bands = _level_bands(cfg, bands)
    tol = np.array([level_bands[m] for m in bands], dtype=float)
    sizes = np.bincount(assign, minlength=count).astype(float)
    equal = (cfg.share or ("equal" if depth == 0 else "children")) == "equal"
    share = np.full(count, 1.0 / count) if equal else sizes / max(sizes.sum(), 1.0)
    fair = share[:, None] * children.weights.sum(axis=0)[None, :]
    lower, upper = fair * (1 - tol), fair * (1 + tol)
    loads = np.zeros((count, len(bands)))
    np.add.at(loads, assign, children.weights)
    pieces = group_pieces(children.adjacency, assign, count)
    violations = _violations(name, group_ids, loads, lower, upper, list(bands))
    if config.contiguity:
        violations += [
            f"{name} {group_ids[g]} is in {pieces[g]} pieces" for g in range(count) if pieces[g] > 1
        ]
    centres = group_centres(children, assign, count)
    return LevelResult(
        name=name,
        assign=assign,
        group_ids=tuple(group_ids),
        manager_ids=managers[0],
        manager_names=managers[1],
        centres=centres,
        loads=loads,
        fair_share=fair,
        lower=lower,
        upper=upper,
        feasible=not violations,
        violations=violations,
        pieces=pieces,
    )


def regroup_hierarchy(
    table: pd.DataFrame,
    territories: pd.DataFrame,
    adjacency: sp.spmatrix,
    config: HierarchyConfig,
    *,
    measures: list[str] | None = None,
    previous: pd.DataFrame | None = None,
) -> Hierarchy:
    """The hierarchy of ``table``'s groups over ``territories`` as they are now, scored.

    Nothing is redrawn: each territory stays in its ``hierarchy.csv`` groups;
    each level's loads, fair shares (equal, or the group's share of children),
    bands (``config``'s tolerances), pieces and violations are recomputed as
    :func:`~territory_engine.org.hierarchy.draw.draw_hierarchy` computes them,
    and scored by :func:`~territory_engine.org.hierarchy.score.level_score`. A
    group left without members is dropped.

    Parameters
    ----------
    table
        ``hierarchy.csv``, with a row for every territory of ``territories``
        (see :func:`~territory_engine.org.hierarchy.tables.carry_hierarchy`).
    territories
        ``territory_id``, ``rep_id``, the measures, and optionally
        ``centre_lon``/``centre_lat``.
    adjacency
        (k, k) territory graph in ``territories``' order.
    previous
        ``hierarchy.geojson``'s properties: the groups' order and managers.

    Raises
    ------
    InputError
        A territory without a row in ``table``.
    """
    tids = territories["territory_id"].astype(str).tolist()
    rows = table.assign(territory_id=table["territory_id"].astype(str)).drop_duplicates(
        "territory_id"
    )
    rows = rows.set_index("territory_id")
    missing = [t for t in tids if t not in rows.index]
    if missing:
        raise InputError(f"has no row for territory {missing[0]}", file="hierarchy.csv")
    rows = rows.loc[tids]
    bands = _bands(config, measures, territories)
    k = len(tids)
    xy = (
        territories[["centre_lon", "centre_lat"]].to_numpy(dtype=float)
        if {"centre_lon", "centre_lat"} <= set(territories.columns)
        else np.zeros((k, 2))
    )
    weights = territories[list(bands)].to_numpy(dtype=float)
    children = _Children(weights, xy, sp.csr_matrix(adjacency), tids, np.arange(k), weights[:, 0])
    level_names = hierarchy_levels(table)
    table_managers = dict(
        zip(rows[level_names[0]].astype(str), rows["manager"].astype(str), strict=True)
    )
    levels: list[LevelResult] = []
    for depth, name in enumerate(level_names):
        labels = np.empty(len(children.ids), dtype=object)
        labels[children.territory_group] = rows[name].astype(str).to_numpy()
        group_ids = _group_order(labels, name, previous)
        managers = _managers(name, group_ids, table_managers if depth == 0 else {}, previous)
        level = _kept_level(name, depth, children, labels, config, bands, managers, group_ids)
        levels.append(level)
        children = _next_children(children, level)
    names = tuple(bands)
    rep_ids = (
        territories["rep_id"].fillna("").astype(str).tolist()
        if "rep_id" in territories
        else [""] * k
    )
    violations = [v for level in levels for v in level.violations]
    score = {
        level.name: level_score(
            level,
            names,
            _level_bands(next(lv for lv in config.levels if lv.name == level.name), bands),
        )
        for level in levels
    }
    return Hierarchy(
        levels=tuple(levels),
        measures=names,
        table=_table(tids, rep_ids, levels, k),
        groups=_groups_frame(levels, names, k),
        score=score,
        feasible=not violations,
        violations=violations,
        seconds=0.0,
    )


def _adjacent_donors(
    table: pd.DataFrame, territories: pd.DataFrame, adjacency: sp.spmatrix
) -> dict[str, str]:
    """A territory missing from ``table``: its most connected neighbour that is in it."""
    tids = territories["territory_id"].astype(str).tolist()
    known = set(table["territory_id"].astype(str))
    adj = sp.csr_matrix(adjacency)
    out = {}
    for t, tid in enumerate(tids):
        if tid in known:
            continue
        row = adj.getrow(t)
        ranked = sorted(
            zip(row.data, row.indices, strict=True), key=lambda x: (-float(x[0]), int(x[1]))
        )
        found = next((tids[j] for _, j in ranked if tids[j] in known), None)
        if found is not None:
            out[tid] = found
    return out


def kept_hierarchy(
    plan_dir: Path,
    scenario: Scenario,
    territories: pd.DataFrame,
    adjacency: sp.spmatrix,
    quotas: pd.DataFrame,
    *,
    section: dict | None = None,
    donors: dict[str, str] | None = None,
) -> tuple[Hierarchy, pd.DataFrame, pd.DataFrame, dict] | None:
    """The folder's ``hierarchy.csv`` kept over its current territories, re-scored.

    ``None`` when the folder has no ``hierarchy.csv``. The groups are not redrawn
    (:func:`~.tables.carry_hierarchy`, then :func:`regroup_hierarchy`); a territory
    not in the file joins the groups of ``donors[territory]``, else of its most
    connected neighbour.

    Parameters
    ----------
    plan_dir
        The folder whose ``hierarchy.csv`` (and ``hierarchy.geojson``: order and
        managers of the groups) is kept.
    scenario
        The plan's scenario (its ``hierarchy:`` rules, measures, ``quota.regions``).
    territories, adjacency
        The territories now (``territory_id``, ``rep_id``, the measures, centres)
        and their graph.
    quotas
        ``territory_id, quota`` (and ``region``, ``district``) of the plan now.
    section
        The scorecard's old ``hierarchy`` section (tolerances when the scenario has
        no ``hierarchy:``).

    Returns
    -------
    tuple or None
        The hierarchy, the quotas (region and district from it), the groups with
        their quota, and the scorecard's ``hierarchy`` section (:func:`hierarchy_outputs`).
    """
    table = read_hierarchy(plan_dir)
    if table is None:
        return None
    measures = scenario_measures(scenario)
    config = kept_config(table, scenario.hierarchy, section, measures)
    given = {**_adjacent_donors(table, territories, adjacency), **(donors or {})}
    table = carry_hierarchy(table, territories, given)
    previous = read_hierarchy_geometry(plan_dir)
    hierarchy = regroup_hierarchy(
        table, territories, adjacency, config, measures=measures, previous=previous
    )
    quotas, groups, out = hierarchy_outputs(
        quotas, hierarchy, fill_pools=not scenario.quota.regions
    )
    return hierarchy, quotas, groups, out


def requota_hierarchy(
    plan_dir: Path, quotas: pd.DataFrame, section: dict | None, *, fill_pools: bool
) -> tuple[pd.DataFrame, dict | None, pd.DataFrame | None] | None:
    """New quotas of a plan whose territories did not change, under its kept hierarchy.

    ``None`` without ``hierarchy.csv``. The groups' balance is what it was (the
    assignment is the same); only the quotas move, so this rolls ``quotas`` up
    the groups of ``hierarchy.csv`` (:func:`~territory_engine.quota.hierarchy.roll_up_drawn`):
    region and district filled from it (when ``fill_pools``), each level's
    ``quota`` totals in ``section`` and the ``quota`` column of ``hierarchy.geojson``.

    Returns
    -------
    tuple or None
        The quotas, the section (``None`` when ``section`` is) and the
        ``hierarchy.geojson`` frame with the new totals (``None`` without the file).
    """
    table = read_hierarchy(plan_dir)
    if table is None:
        return None
    levels = hierarchy_levels(table)
    quotas, totals = roll_up_drawn(quotas, table, levels, fill=fill_pools)
    if section is not None:
        section = dict(section)
        for level in levels:
            if isinstance(section.get(level), dict):
                section[level] = {**section[level], "quota": totals.get(level, {})}
    geometry = read_hierarchy_geometry(plan_dir)
    if geometry is not None and {"level", "id", "quota"} <= set(geometry.columns):
        geometry = geometry.copy()
        geometry["quota"] = [
            totals.get(level, {}).get(gid, 0.0)
            for level, gid in zip(geometry["level"], geometry["id"], strict=True)
        ]
    return quotas, section, geometry
