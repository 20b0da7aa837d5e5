"""Diagnostics before solving: infeasibility explained in a planner's words.

Each check is O(n·m) and catches a cause that would otherwise surface as a
bare "INFEASIBLE" from a solver.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components

from territory_engine.problem.data import ProblemData


def diagnose(problem: ProblemData) -> list[str]:
    """Reasons why ``problem`` cannot be solved, or an empty list.

    Checks: a unit alone above every band it could join; locks that already
    break a band; a group whose total cannot fit the sum of its bands; a
    group of units with no eligible territory; contiguity on a split graph.

    Parameters
    ----------
    problem
        The problem to check.

    Returns
    -------
    list of str
        One sentence per cause, each saying how to mend it: per group (in group
        order) the heavy units and band sums of each measure, then a split graph;
        then the locks, then the disruption cap.
    """
    out: list[str] = []
    for g in np.unique(problem.unit_group):
        out += _group_reasons(problem, int(g))
    out += _lock_reasons(problem)
    out += _forced_disruption_reasons(problem)
    return out


def _group_name(problem: ProblemData, g: int) -> str:
    """The group's name for messages (its number when the problem names none)."""
    return problem.group_names[g] if g < len(problem.group_names) else str(g)


def _group_reasons(problem: ProblemData, g: int) -> list[str]:
    """The causes within eligibility group ``g``: missing territories, bands, contiguity."""
    units = np.flatnonzero(problem.unit_group == g)
    terr = np.flatnonzero(problem.territory_group == g)
    gname = _group_name(problem, g)
    if len(terr) == 0:
        if problem.weights[units].sum() > 0:
            return [f"segment '{gname}' has accounts but no eligible territory"]
        return []
    out: list[str] = []
    for j in range(problem.n_measures):
        out += _heavy_unit_reasons(problem, units, terr, j)
        out += _band_sum_reasons(problem, units, terr, j, gname)
    out += _split_graph_reasons(problem, units, terr, gname)
    return out


def _heavy_unit_reasons(
    problem: ProblemData, units: np.ndarray, terr: np.ndarray, j: int
) -> list[str]:
    """Units of a group that alone hold more of measure ``j`` than any band's high (first 5)."""
    name = problem.measure_names[j]
    hi_max = problem.upper[terr, j].max()
    out = []
    heavy = units[problem.weights[units, j] > hi_max * (1 + 1e-9)]
    for i in heavy[:5]:
        ratio = (
            problem.weights[i, j]
            / max(problem.lower[terr, j].mean() + problem.upper[terr, j].mean(), 1e-12)
            * 2
        )
        uid = str(problem.unit_ids[i])
        if uid.startswith("family "):
            who = f"the family of {uid.removeprefix('family ')}"
            fix = (
                "a family goes to one rep: raise the tolerance or set "
                "constraints.keep_families: false"
            )
        else:
            who = f"unit {uid}"
            fix = "use a finer geography or raise the tolerance"
        out.append(
            f"{who} alone holds {name} {problem.weights[i, j]:,.0f}, "
            f"{ratio:.1f}x the per-territory target and above every band's high "
            f"({hi_max:,.0f}); {fix}"
        )
    return out


def _band_sum_reasons(
    problem: ProblemData, units: np.ndarray, terr: np.ndarray, j: int, gname: str
) -> list[str]:
    """A group's total of measure ``j`` below the sum of its lows or above the sum of highs."""
    name = problem.measure_names[j]
    total = problem.weights[units].sum(axis=0)[j]
    low_sum = problem.lower[terr, j].sum()
    high_sum = problem.upper[terr, j].sum()
    out = []
    if total < low_sum * (1 - 1e-9):
        out.append(
            f"segment '{gname}': total {name} {total:,.0f} is below the sum of the "
            f"territories' lows ({low_sum:,.0f}); lower the bands or remove territories"
        )
    if total > high_sum * (1 + 1e-9):
        out.append(
            f"segment '{gname}': total {name} {total:,.0f} is above the sum of the "
            f"territories' highs ({high_sum:,.0f}); raise the bands or add territories"
        )
    return out


def _split_graph_reasons(
    problem: ProblemData, units: np.ndarray, terr: np.ndarray, gname: str
) -> list[str]:
    """With contiguity on, a group's unit graph in more pieces than it has territories."""
    # Units without neighbours (locked accounts, families) are exempt from contiguity.
    graph_units = units[np.diff(problem.adjacency.indptr)[units] > 0]
    if not problem.contiguity or len(graph_units) <= 1:
        return []
    sub = problem.adjacency[graph_units][:, graph_units]
    n_comp, _ = connected_components(sub, directed=False)
    if n_comp <= len(terr):
        return []
    return [
        f"contiguity is on but the unit graph of segment '{gname}' falls apart into "
        f"{n_comp} pieces for {len(terr)} territories; join the pieces (adjacency) "
        "or turn contiguity off"
    ]


def _lock_reasons(problem: ProblemData) -> list[str]:
    """Territories whose locked units alone hold more than their band's high."""
    locked = problem.locked >= 0
    if not locked.any():
        return []
    names = problem.measure_names
    loads = np.zeros((problem.n_territories, problem.n_measures))
    np.add.at(loads, problem.locked[locked], problem.weights[locked])
    return [
        f"the units locked to {problem.territory_ids[t]} already hold "
        f"{names[j]} {loads[t, j]:,.0f}, above its band's high "
        f"{problem.upper[t, j]:,.0f}; unlock some or widen the band"
        for t, j in zip(*np.nonzero(loads > problem.upper * (1 + 1e-9)), strict=True)
    ]


def _forced_disruption_reasons(problem: ProblemData) -> list[str]:
    """Locks that alone move more potential to new owners than the disruption cap allows."""
    if problem.max_moved_potential is None:
        return []
    # Locked units whose lock differs from their owner move for sure.
    forced = 0.0
    for i in np.flatnonzero(problem.locked >= 0):
        row = problem.owned_potential.getrow(i)
        owned_total = row.sum()
        forced += owned_total - row[0, problem.locked[i]] if owned_total else 0.0
    if forced > problem.max_moved_potential * (1 + 1e-9):
        return [
            f"the locks alone move potential {forced:,.0f} to new owners, above the "
            f"disruption cap {problem.max_moved_potential:,.0f}"
        ]
    return []
