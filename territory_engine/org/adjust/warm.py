"""Start a solve from a plan: who holds each problem unit, and the warm start.

A what-if run from a plan (``whatif.base_plan``, ``run --from-plan``) and a
mid-year change (:mod:`territory_engine.org.adjust.run`) both start the solver
from the plan they change. The accounts' ``current_rep_id`` already holds that
plan's owners (:func:`territory_engine.io.whatif.apply_whatif`); here they are
turned into one owner per problem unit, empty units given the owner of their
neighbours, so the start is the plan itself wherever the plan still applies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_engine.config.scenario import Scenario
from territory_engine.io.model import Tables
from territory_engine.plan.reader import PlanFolder, read_plan_folder
from territory_engine.problem.build import ProblemIndex
from territory_engine.problem.data import ProblemData

__all__ = ["base_unit_owners", "fill_from_neighbours", "territory_neighbours", "warm_start"]


def base_unit_owners(
    problem: ProblemData,
    index: ProblemIndex,
    accounts: pd.DataFrame,
    plan: PlanFolder | None = None,
) -> np.ndarray:
    """(n,) rep id holding each problem unit in the accounts' ``current_rep_id`` ("" for none).

    The owner of a unit is the rep holding most of its potential (ties: most
    accounts, then the smaller rep id). Unlike ``problem.current`` it names reps
    who are no longer reps of the problem (a departed rep), so the caller can
    tell which units they held. With ``plan``, the geo units its ``units.csv``
    names take their owner from it (so empty units stay where the plan drew them).
    """
    rep = accounts["current_rep_id"].astype(str).to_numpy()
    frame = pd.DataFrame(
        {
            "unit": index.account_unit,
            "rep": rep,
            "potential": accounts["potential"].to_numpy(float),
            "count": 1,
        }
    )
    frame = frame[frame["rep"] != ""]
    sums = frame.groupby(["unit", "rep"], sort=True)[["potential", "count"]].sum().reset_index()
    sums = sums.sort_values(
        ["unit", "potential", "count", "rep"], ascending=[True, False, False, True], kind="stable"
    )
    best = sums.drop_duplicates("unit")
    out = np.full(problem.n_units, "", dtype=object)
    out[best["unit"].to_numpy(int)] = best["rep"].to_numpy()
    if plan is not None and plan.units is not None:
        _owners_from_units(out, index, plan)
    return out


def _owners_from_units(out: np.ndarray, index: ProblemIndex, plan: PlanFolder) -> None:
    """Set the owner of each geo unit the plan's ``units.csv`` names (empty units too)."""
    units = plan.units
    if units is None or not {"unit_id", "segment", "territory_id"} <= set(units.columns):
        return
    rep_of = dict(
        zip(plan.territories["territory_id"], plan.territories["rep_id"].astype(str), strict=True)
    )
    held = {
        (str(u), str(g)): rep_of.get(str(t), "")
        for u, g, t in zip(units["unit_id"], units["segment"], units["territory_id"], strict=True)
    }
    for i in np.flatnonzero(~index.exception_unit):
        rep = held.get((str(index.unit_geo_id[i]), str(index.unit_group_name[i])))
        if rep:
            out[i] = rep


def fill_from_neighbours(assign: np.ndarray, adjacency: sp.csr_matrix) -> np.ndarray:
    """``assign`` (territory indices, -1 for none), each -1 unit given its neighbours' territory.

    Rounds in unit order: a unit without a territory takes the one most of its
    assigned neighbours hold (ties: the smaller index), until no unit changes.
    Units with no assigned unit in reach stay -1. Deterministic.
    """
    out = np.asarray(assign, dtype=int).copy()
    indptr, indices = adjacency.indptr, adjacency.indices
    changed = True
    while changed and (out < 0).any():
        changed = False
        for i in np.flatnonzero(out < 0):
            near = out[indices[indptr[i] : indptr[i + 1]]]
            near = near[near >= 0]
            if len(near):
                values, counts = np.unique(near, return_counts=True)
                out[i] = int(values[np.argmax(counts)])
                changed = True
    return out


def _nearest_eligible(problem: ProblemData, assign: np.ndarray) -> np.ndarray:
    """Units still without a territory go to the nearest territory centre of their group."""
    out = assign.copy()
    centres = np.asarray(problem.centres, dtype=float)
    for i in np.flatnonzero(out < 0):
        eligible = np.flatnonzero(problem.territory_group == problem.unit_group[i])
        if len(eligible):
            d = ((centres[eligible] - problem.xy[i]) ** 2).sum(axis=1)
            out[i] = int(eligible[np.argmin(d)])
    return out


def plan_start(problem: ProblemData, index: ProblemIndex, owners: np.ndarray) -> np.ndarray:
    """(n,) a complete start: each unit with its owner's territory, the rest filled.

    Units whose owner is not a territory of ``problem`` (a departed rep, an
    empty unit) take their neighbours' territory, then the nearest eligible
    centre; locked units their lock.
    """
    start = np.array([index.rep_territory.get(str(r), -1) for r in owners], dtype=int)
    wrong = (start >= 0) & (problem.territory_group[np.maximum(start, 0)] != problem.unit_group)
    start[wrong] = -1
    start = _nearest_eligible(problem, fill_from_neighbours(start, problem.adjacency))
    locked = problem.locked >= 0
    start[locked] = problem.locked[locked]
    for t in np.flatnonzero(np.bincount(start, minlength=problem.n_territories) == 0):
        _grow_from_home(problem, start, int(t))
    return start


def _keeps_connected(assign: np.ndarray, adjacency: sp.csr_matrix, i: int) -> bool:
    """Whether unit ``i``'s territory stays in one piece around ``i`` without it."""
    indptr, indices = adjacency.indptr, adjacency.indices
    own = assign[i]
    near = [int(j) for j in indices[indptr[i] : indptr[i + 1]] if assign[j] == own and j != i]
    if len(near) <= 1:
        return True
    seen = {near[0], i}
    todo = [near[0]]
    while todo:
        u = todo.pop()
        for v in indices[indptr[u] : indptr[u + 1]]:
            if assign[v] == own and int(v) not in seen:
                seen.add(int(v))
                todo.append(int(v))
    return all(j in seen for j in near)


def _grow_from_home(problem: ProblemData, start: np.ndarray, t: int) -> None:
    """Give territory ``t`` (a new rep, holding nothing) a connected start around its home.

    Local moves cannot open an empty territory when contiguity is on (no unit
    touches it), so it takes the unlocked unit of its group nearest its home,
    then the frontier unit nearest its home, until its load reaches the low end
    of its band in every measure. Changes ``start`` in place.
    """
    centre = np.asarray(problem.centres, dtype=float)[t]
    free = (problem.unit_group == problem.territory_group[t]) & (problem.locked < 0)
    free &= np.diff(problem.adjacency.indptr) > 0  # geo units, not exception units
    if not free.any():
        return
    dist = ((problem.xy - centre) ** 2).sum(axis=1)
    load = np.zeros(problem.n_measures)
    frontier = {int(np.flatnonzero(free)[np.argmin(dist[free])])}
    taken: set[int] = set()
    indptr, indices = problem.adjacency.indptr, problem.adjacency.indices
    while frontier and (load < problem.lower[t]).any():
        i = min(frontier, key=lambda u: (dist[u], u))
        frontier.discard(i)
        if not free[i] or i in taken:
            continue
        if (load + problem.weights[i] > problem.upper[t]).any():
            continue
        if not _keeps_connected(start, problem.adjacency, i):
            continue  # taking it would cut its territory in two
        start[i] = t
        taken.add(i)
        load += problem.weights[i]
        frontier.update(int(j) for j in indices[indptr[i] : indptr[i + 1]] if j not in taken)


def warm_start(
    scenario: Scenario, problem: ProblemData, index: ProblemIndex, tables: Tables
) -> np.ndarray | None:
    """The solver's start for a run from ``whatif.base_plan``, else ``None`` (the LP seed).

    ``None`` too with free centres (``territories.mode: count``), where the
    plan's territories are not the problem's.
    """
    if scenario.whatif.base_plan is None or problem.free_centres or problem.centres is None:
        return None
    plan = read_plan_folder(scenario.whatif.base_plan)
    owners = base_unit_owners(problem, index, tables.accounts, plan)
    return plan_start(problem, index, owners)


def territory_neighbours(
    adjacency: sp.csr_matrix, unit_owner: np.ndarray, owners: set[str]
) -> set[str]:
    """The owners of the units adjacent to the units of ``owners`` (``owners`` left out).

    Parameters
    ----------
    adjacency
        (n, n) unit graph (segment layers are separate blocks, so a neighbour
        is always of the same segment).
    unit_owner
        (n,) owner label of each unit ("" for none).
    owners
        The labels whose neighbours are wanted.
    """
    inside = np.isin(unit_owner.astype(str), list(owners))
    touched = adjacency[np.flatnonzero(inside)].indices
    found = {str(r) for r in unit_owner[touched]}
    return found - set(owners) - {""}
