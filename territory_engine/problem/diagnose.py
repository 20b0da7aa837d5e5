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
    """
    out: list[str] = []
    names = problem.measure_names
    for g in np.unique(problem.unit_group):
        units = np.flatnonzero(problem.unit_group == g)
        terr = np.flatnonzero(problem.territory_group == g)
        gname = problem.group_names[g] if g < len(problem.group_names) else str(g)
        if len(terr) == 0:
            if problem.weights[units].sum() > 0:
                out.append(f"segment '{gname}' has accounts but no eligible territory")
            continue
        totals = problem.weights[units].sum(axis=0)
        hi_max = problem.upper[terr].max(axis=0)
        for j, name in enumerate(names):
            heavy = units[problem.weights[units, j] > hi_max[j] * (1 + 1e-9)]
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
                    f"({hi_max[j]:,.0f}); {fix}"
                )
            low_sum = problem.lower[terr, j].sum()
            high_sum = problem.upper[terr, j].sum()
            if totals[j] < low_sum * (1 - 1e-9):
                out.append(
                    f"segment '{gname}': total {name} {totals[j]:,.0f} is below the sum of the "
                    f"territories' lows ({low_sum:,.0f}); lower the bands or remove territories"
                )
            if totals[j] > high_sum * (1 + 1e-9):
                out.append(
                    f"segment '{gname}': total {name} {totals[j]:,.0f} is above the sum of the "
                    f"territories' highs ({high_sum:,.0f}); raise the bands or add territories"
                )
        # Units without neighbours (locked accounts, families) are exempt from contiguity.
        graph_units = units[np.diff(problem.adjacency.indptr)[units] > 0]
        if problem.contiguity and len(graph_units) > 1:
            sub = problem.adjacency[graph_units][:, graph_units]
            n_comp, _ = connected_components(sub, directed=False)
            if n_comp > len(terr):
                out.append(
                    f"contiguity is on but the unit graph of segment '{gname}' falls apart into "
                    f"{n_comp} pieces for {len(terr)} territories; join the pieces (adjacency) "
                    "or turn contiguity off"
                )
    locked = problem.locked >= 0
    if locked.any():
        loads = np.zeros((problem.n_territories, problem.n_measures))
        np.add.at(loads, problem.locked[locked], problem.weights[locked])
        for t, j in zip(*np.nonzero(loads > problem.upper * (1 + 1e-9)), strict=True):
            out.append(
                f"the units locked to {problem.territory_ids[t]} already hold "
                f"{names[j]} {loads[t, j]:,.0f}, above its band's high "
                f"{problem.upper[t, j]:,.0f}; unlock some or widen the band"
            )
    if problem.max_moved_potential is not None:
        # Locked units whose lock differs from their owner move for sure.
        forced = 0.0
        for i in np.flatnonzero(locked):
            row = problem.owned_potential.getrow(i)
            owned_total = row.sum()
            forced += owned_total - row[0, problem.locked[i]] if owned_total else 0.0
        if forced > problem.max_moved_potential * (1 + 1e-9):
            out.append(
                f"the locks alone move potential {forced:,.0f} to new owners, above the "
                f"disruption cap {problem.max_moved_potential:,.0f}"
            )
    return out
