"""Diagnostics before solving: infeasibility explained in a planner's words.

Each check is O(n·m) and catches a cause that would otherwise surface as a
bare "INFEASIBLE" from a solver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components

from territory_engine.problem.data import ProblemData
from territory_engine.problem.pendants import Pendant, impossible_pendants

PENDANTS_NAMED = 3
"""Impossible pendants a message names (nested ones of equal weight count once)."""


def diagnose(problem: ProblemData) -> list[str]:
    """Reasons why ``problem`` cannot be solved, or an empty list.

    Checks: a unit alone above every band it could join; locks that already
    break a band; a group whose total cannot fit the sum of its bands; a
    group of units with no eligible territory; contiguity on a split graph
    (more pieces than territories, or pieces that cannot each hold a whole
    number of territories: :func:`component_message`); with contiguity on,
    units beyond one cut vertex whose measures fit no count of territories
    at once (:mod:`territory_engine.problem.pendants`).

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
    if not out:
        out += _pendant_reasons(problem, units, terr, gname)
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
    n_comp, labels = connected_components(sub, directed=False)
    if n_comp <= len(terr):
        if len(graph_units) < len(units) or n_comp == 1:
            return []  # units outside the graph may fill any piece's gap
        message = component_message(
            problem,
            labels,
            graph_units,
            terr,
            what=f"the unit graph of segment '{gname}'",
            noun="territories",
            fix="join the pieces (adjacency) or turn contiguity off",
        )
        return [] if message is None else [message]
    return [
        f"contiguity is on but the unit graph of segment '{gname}' falls apart into "
        f"{n_comp} pieces for {len(terr)} territories; join the pieces (adjacency) "
        "or turn contiguity off"
    ]


def _pendant_reasons(
    problem: ProblemData, units: np.ndarray, terr: np.ndarray, gname: str
) -> list[str]:
    """With contiguity on, units beyond one cut vertex that fit no whole number of territories.

    See :mod:`territory_engine.problem.pendants`. Only for a connected group
    graph without units outside it (those could fill any gap).
    """
    if not problem.contiguity or len(units) < 3:
        return []
    if (np.diff(problem.adjacency.indptr)[units] == 0).any():
        return []
    sub = problem.adjacency[units][:, units]
    if connected_components(sub, directed=False)[0] > 1:
        return []
    lower = problem.lower[terr].min(axis=0)
    upper = problem.upper[terr].max(axis=0)
    found = impossible_pendants(sub, problem.weights[units], lower, upper)
    named: list[str] = []
    # Nested sides along a chain of empty units hold the same weight: name one of them.
    distinct: dict[tuple, Pendant] = {}
    for pendant in found:
        distinct.setdefault(tuple(np.round(pendant.weight, 6)), pendant)
    mean = problem.weights[units].sum(axis=0) / len(terr)
    for pendant in list(distinct.values())[:PENDANTS_NAMED]:
        ids = [str(problem.unit_ids[units[i]]) for i in pendant.units[:3]]
        sample = ", ".join(ids) + (", …" if len(pendant.units) > 3 else "")
        held = ", ".join(
            f"{name} {pendant.weight[j]:,.0f} ({pendant.weight[j] / mean[j]:.3f} of a "
            f"territory's mean: {_count_text(*pendant.counts[j])})"
            for j, name in enumerate(problem.measure_names)
            if mean[j] > 0
        )
        named.append(
            f"the {len(pendant.units):,} units ({sample}) joined to the rest only through "
            f"unit {problem.unit_ids[units[pendant.cut]]} hold {held}"
        )
    if not named:
        return []
    more = f" ({len(distinct)} such sides in all)" if len(distinct) > len(named) else ""
    return [
        f"contiguity is on but in segment '{gname}' "
        + "; ".join(named)
        + f"{more}: a territory crossing a cut unit holds it, so such units are whole "
        f"territories plus part of one, and no count of territories fits every measure "
        f"within {_band_text(problem, terr)}; widen the bands or join these units to the "
        "rest by more edges"
    ]


def _count_text(low: int, high: int) -> str:
    """``1 whole territory plus part of one``, ``1–3 whole territories …`` or ``no count``."""
    if low > high:
        return "no count of territories"
    if low == high:
        return f"{low} whole {'territory' if low == 1 else 'territories'} plus part of one"
    return f"{low}–{high} whole territories plus part of one"


@dataclass(frozen=True)
class ComponentCapacity:
    """How many parts one connected component of the unit graph can hold.

    With contiguity on every part lies inside one component, so a component of
    total weight ``W`` (per measure) holds ``p`` parts only if ``p·L ≤ W ≤ p·U``
    for every measure: ``p`` in ``[ceil(W/U), floor(W/L)]`` (at least 1, at
    most its number of units), with ``L`` the lowest and ``U`` the highest band.
    ``low > high`` means it can hold none.
    """

    units: np.ndarray
    weight: np.ndarray
    low: int
    high: int


def component_capacities(
    problem: ProblemData,
    labels: np.ndarray,
    units: np.ndarray | None = None,
    terr: np.ndarray | None = None,
) -> list[ComponentCapacity]:
    """Per component (``labels`` over ``units``, all units by default) its part range.

    Components in label order; bands of the territories ``terr`` (all by default).
    """
    units = np.arange(problem.n_units) if units is None else np.asarray(units)
    terr = np.arange(problem.n_territories) if terr is None else np.asarray(terr)
    lo = problem.lower[terr].min(axis=0)
    hi = problem.upper[terr].max(axis=0)
    out = []
    for c in range(int(labels.max()) + 1 if len(labels) else 0):
        members = units[labels == c]
        weight = problem.weights[members].sum(axis=0)
        low, high = 1, len(members)
        for j in range(problem.n_measures):
            if np.isfinite(hi[j]) and hi[j] > 0:
                low = max(low, math.ceil(weight[j] / hi[j] - 1e-9))
            elif weight[j] > 0 and hi[j] <= 0:
                high = 0
            if lo[j] > 0:
                high = min(high, math.floor(weight[j] / lo[j] + 1e-9))
        out.append(ComponentCapacity(units=members, weight=weight, low=low, high=high))
    return out


def allocate_parts(capacities: list[ComponentCapacity], k: int) -> list[int] | None:
    """Parts per component, each within its range and summing to ``k``, or ``None``.

    Every component starts at its fewest parts; the rest go one at a time to the
    component furthest below its share of the first measure (ties: the first).
    """
    if any(c.low > c.high for c in capacities):
        return None
    counts = [c.low for c in capacities]
    if sum(counts) > k or sum(c.high for c in capacities) < k:
        return None
    total = sum(float(c.weight[0]) for c in capacities) if capacities else 0.0
    while sum(counts) < k:
        best, gap = -1, -math.inf
        for i, c in enumerate(capacities):
            if counts[i] >= c.high:
                continue
            share = float(c.weight[0]) / total * k if total > 0 else len(c.units)
            if share - counts[i] > gap:
                best, gap = i, share - counts[i]
        counts[best] += 1
    return counts


def _band_text(problem: ProblemData, terr: np.ndarray) -> str:
    """The per-part bands, e.g. ``TOTPOP 686,040–699,900``."""
    lo = problem.lower[terr].min(axis=0)
    hi = problem.upper[terr].max(axis=0)
    return ", ".join(
        f"{name} {lo[j]:,.0f}–{hi[j]:,.0f}"
        for j, name in enumerate(problem.measure_names)
        if lo[j] > 0 or np.isfinite(hi[j])
    )


def component_message(
    problem: ProblemData,
    labels: np.ndarray,
    units: np.ndarray | None = None,
    terr: np.ndarray | None = None,
    *,
    what: str = "the graph",
    noun: str = "parts",
    unit: str = "unit",
    fix: str = "join the components or turn contiguity off",
) -> str | None:
    """One sentence naming each component and the parts it could hold, or ``None``.

    ``None`` when the components can share the territories (:func:`allocate_parts`).
    Each component is named by its size, up to three unit ids, its weight and
    its range of parts (``none`` when empty), largest component first.
    """
    terr = np.arange(problem.n_territories) if terr is None else np.asarray(terr)
    caps = component_capacities(problem, labels, units, terr)
    k = len(terr)
    if allocate_parts(caps, k) is not None:
        return None
    one = noun[:-3] + "y" if noun.endswith("ies") else noun.removesuffix("s")
    pieces = []
    for c in sorted(caps, key=lambda c: (-len(c.units), int(c.units[0]))):
        ids = [str(problem.unit_ids[i]) for i in c.units[:3]]
        sample = ", ".join(ids) + (", …" if len(c.units) > 3 else "")
        size = f"{len(c.units):,} {unit}{'s' if len(c.units) != 1 else ''}"
        weight = ", ".join(
            f"{name} {c.weight[j]:,.0f}" for j, name in enumerate(problem.measure_names)
        )
        if c.low > c.high:
            holds = f"no {one}"
        elif c.low == c.high:
            holds = f"{c.low} {noun if c.low != 1 else one}"
        else:
            holds = f"{c.low}–{c.high} {noun}"
        pieces.append(f"{size} ({sample}), {weight}: holds {holds}")
    total = ""
    if all(c.low <= c.high for c in caps):
        low, high = sum(c.low for c in caps), sum(c.high for c in caps)
        total = f" (together {low}–{high} {noun}, not {k})" if low < high else ""
        total = total or f" (together {low} {noun}, not {k})"
    return (
        f"contiguity is on but {what} falls apart into {len(caps)} components that cannot "
        f"each hold a whole number of the {k} {noun} (each within "
        f"{_band_text(problem, terr)}): " + "; ".join(pieces) + f"{total}; {fix}"
    )


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
