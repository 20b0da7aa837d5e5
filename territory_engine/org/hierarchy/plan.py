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
from pydantic import ValidationError

from territory_engine.config.hierarchy_models import HierarchyConfig
from territory_engine.errors import ScenarioError
from territory_engine.org.hierarchy.draw import Hierarchy, draw_hierarchy
from territory_engine.org.hierarchy.graph import polygon_territory_adjacency, territory_adjacency
from territory_engine.org.hierarchy.tables import hierarchy_geometry
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
    "parse_levels",
    "plan_hierarchy",
    "redraw_plan_hierarchy",
    "scenario_measures",
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
    # Exception units (a locked account far away, a family) are outside geography.
    geo = ~np.asarray(index.exception_unit, dtype=bool)
    keep = np.flatnonzero(geo)
    adjacency = territory_adjacency(
        alignment.assign[keep],
        np.asarray(index.unit_geo_id)[keep],
        problem.adjacency[keep][:, keep],
        problem.n_territories,
    )
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
    quotas, totals = roll_up_drawn(plan.quotas, hierarchy.table, levels, fill=fill_pools)
    groups = hierarchy.groups.copy()
    groups["quota"] = [
        totals.get(level, {}).get(gid, 0.0)
        for level, gid in zip(groups["level"], groups["id"], strict=True)
    ]
    geometry = hierarchy_geometry(groups, hierarchy.table, plan.geometry)
    score = {}
    for level in levels:
        score[level] = {**hierarchy.score[level], "quota": totals.get(level, {})}
    card = {
        **card,
        "hierarchy": {
            "levels": levels,
            "feasible": hierarchy.feasible,
            "violations": hierarchy.violations,
            **score,
        },
    }
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
