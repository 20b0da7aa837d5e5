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

from territory_engine.org.hierarchy.draw import Hierarchy, draw_hierarchy
from territory_engine.org.hierarchy.graph import territory_adjacency
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

__all__ = ["attach_hierarchy", "plan_hierarchy", "scenario_measures"]


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
        base_dir=source.parent if source is not None else None,
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
