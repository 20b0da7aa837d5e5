"""Turn a solved alignment into a :class:`~territory_engine.plan.model.Plan` and its scorecard.

The plan's tables (assignments, territories, quotas, units, polygons) and the scorecard
are functions of the scenario, its tables, the problem and the alignment; nothing here
solves or writes.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from territory_engine.config import Scenario
from territory_engine.geo.distance import distance_matrix_km
from territory_engine.io.load import Tables
from territory_engine.metrics import Scorecard, ScoringInputs, scorecard
from territory_engine.metrics.adapters import (
    RelationshipArrays,
    relationship_inputs,
    territory_compactness,
)
from territory_engine.metrics.inputs import plan_scoring_inputs
from territory_engine.plan.model import Plan, assignments_frame
from territory_engine.problem.build import ProblemIndex
from territory_engine.problem.data import ProblemData
from territory_engine.quota.inputs import plan_quotas
from territory_engine.solve import Alignment

__all__ = ["make_plan", "match_reps", "territory_geometry", "unit_table"]


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
    """Build the plan tables and its scorecard from a solved alignment.

    The scorecard is handed out as :meth:`~territory_engine.metrics.Scorecard.to_dict`,
    the JSON-shaped dict the plan writer and the report read.
    """
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
    inputs = scoring_inputs(scenario, tables, problem, index, alignment, social)
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
    card = scorecard(
        inputs, quotas, attainment=quota_result.attainment, allocation=quota_result.summary
    )
    territories = territory_table(card, reps, problem, index, alignment)
    geometry = territory_geometry(tables.units, problem, index, alignment, territories)
    card = dataclasses.replace(
        card, compactness=territory_compactness(geometry, problem.territory_ids)
    )
    plan = Plan(
        assignments=assignments,
        territories=territories,
        quotas=quotas,
        geometry=geometry,
        quota_splits=quota_result.splits,
        units=unit_table(problem, index, alignment),
    )
    return plan, card.to_dict()


def scoring_inputs(
    scenario: Scenario,
    tables: Tables,
    problem: ProblemData,
    index: ProblemIndex,
    alignment: Alignment,
    social: RelationshipArrays,
) -> ScoringInputs:
    """The account-level view of a solved alignment that the scorecard scores.

    Measures are the balance measures then ``potential``; bands are the problem's
    (measures outside the balance have none).
    """
    return plan_scoring_inputs(
        tables.accounts,
        tables.edges,
        problem,
        index,
        scenario.balance,
        territory_ids=problem.territory_ids,
        territory_rep=index.territory_rep,
        territory_group=problem.territory_group,
        capacity=_territory_capacity(scenario, problem, index, tables.reps),
        account_territory=alignment.assign[index.account_unit],
        unit_territory=alignment.assign.copy(),
        centres=alignment.centres,
        bounds=(problem.lower, problem.upper),
        relationships=social,
    )


def territory_table(
    card: Scorecard,
    reps: pd.DataFrame,
    problem: ProblemData,
    index: ProblemIndex,
    alignment: Alignment,
) -> pd.DataFrame:
    """``territories.csv``: the scorecard's territory rows with rep name, segment and centre."""
    territories = pd.DataFrame(card.territories)
    rep_info = reps.set_index(reps["rep_id"].astype(str))
    territories.insert(
        2,
        "rep_name",
        [rep_info["name"].get(r, "") if r else "" for r in index.territory_rep],
    )
    territories.insert(3, "segment", [problem.group_names[g] for g in problem.territory_group])
    territories.insert(4, "centre_lon", np.round(alignment.centres[:, 0], 6))
    territories.insert(5, "centre_lat", np.round(alignment.centres[:, 1], 6))
    return territories


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
