"""Draw districts and regions with the engine's own solver, level by level.

Level 1 groups the plan's territories, level 2 groups the level-1 groups, and
so on; each level is one call of :func:`territory_engine.solve` on a problem
built by :func:`territory_engine.problem_from_arrays` (no second solver).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_engine.config.hierarchy_models import (
    DEFAULT_TOLERANCE,
    HierarchyConfig,
    HierarchyLevel,
    ManagerConfig,
)
from territory_engine.errors import InfeasibleError, InputError, ScenarioError, did_you_mean
from territory_engine.org.hierarchy.graph import group_adjacency
from territory_engine.org.hierarchy.result import Hierarchy, LevelResult
from territory_engine.org.hierarchy.score import group_pieces, level_score
from territory_engine.problem import problem_from_arrays
from territory_engine.problem.diagnose import diagnose
from territory_engine.solve import SolveParams, solve

__all__ = ["Hierarchy", "LevelResult", "draw_hierarchy", "draw_level", "read_managers"]

#: The column of ``hierarchy.csv`` naming the manager of the territory's level-1 group.
MANAGER_COLUMN = "manager"


def draw_level(
    weights: np.ndarray,
    xy: np.ndarray,
    adjacency: sp.spmatrix,
    *,
    count: int,
    tolerance: Sequence[float],
    shares: np.ndarray | None = None,
    centres: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    disruption: float = 0.5,
    compactness: float = 0.2,
    contiguity: bool = True,
    seed: int = 0,
    time_limit: float = 10.0,
    child_ids: Sequence[str] | None = None,
    measure_names: Sequence[str] | None = None,
    name: str = "group",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Group ``n`` children into ``count`` balanced, compact (contiguous) groups.

    Formulation: with children ``i`` (weights ``w_ij``, centre ``x_i``), groups
    ``g`` (centre ``z_g``: a manager's home when given, else chosen by the
    solver), a group's fair share ``F_gj = s_g · Σ_i w_ij`` (``s_g`` = 1/count,
    or the group's share of children) and tolerances ``τ_j``::

        min  Σ_i w_i1 · d(x_i, z_{a_i}) / T*  +  c · cut(a) / |E|
             + δ · Σ_i w_i1 · [a_i ≠ p_i] / Σ_i w_i1
        s.t. (1 − τ_j) F_gj ≤ Σ_{i: a_i = g} w_ij ≤ (1 + τ_j) F_gj    every g, j
             {i : a_i = g} connected in the child graph             (contiguity)

    where ``p_i`` is last year's group (the disruption term: keeping a
    child where it was costs nothing). It is exactly the alignment problem of
    :func:`territory_engine.solve` with children as units and groups as
    territories, built by :func:`territory_engine.problem_from_arrays`.

    Parameters
    ----------
    weights
        (n, m) measures of each child.
    xy
        (n, 2) lon/lat of each child's centre.
    adjacency
        (n, n) child graph.
    count
        Number of groups.
    tolerance
        (m,) relative band of each measure.
    shares
        (count,) each group's share of the totals (default equal; sums to 1).
    centres
        (count, 2) fixed centres (managers' homes), or ``None`` for free centres.
    previous
        (n,) last year's group index of each child (-1: none), or ``None``.
    disruption, compactness
        Objective weights (travel weighs 1).
    contiguity
        Every group connected.
    seed, time_limit
        Of the solver.
    child_ids, measure_names, name
        For messages.

    Returns
    -------
    tuple
        ``(assign, centres, fair_share, lower, upper, seconds)``: ``assign`` (n,)
        group of each child, ``centres`` (count, 2), ``fair_share``, ``lower``,
        ``upper`` (count, m), and the solver's seconds.

    Raises
    ------
    InfeasibleError
        Before solving, when the level cannot hold (fewer children than groups,
        a child heavier than any band, a graph in pieces that cannot each hold
        whole groups), naming the child, piece and measure.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = w[:, None]
    n, m = w.shape
    ids = list(child_ids) if child_ids is not None else [str(i) for i in range(n)]
    names = list(measure_names) if measure_names is not None else [f"m{j}" for j in range(m)]
    tol = np.broadcast_to(np.asarray(tolerance, dtype=float), (m,))
    share = np.full(count, 1.0 / count) if shares is None else np.asarray(shares, float)
    fair = share[:, None] * w.sum(axis=0)[None, :]
    lower, upper = fair * (1 - tol), fair * (1 + tol)
    _diagnose(name, w, adjacency, count, lower, upper, contiguity, ids, names)
    problem = problem_from_arrays(
        w,
        np.asarray(xy, dtype=float),
        adjacency,
        centres=centres,
        n_territories=None if centres is not None else count,
        lower=lower,
        upper=upper,
        measure_names=names,
        unit_ids=ids,
        contiguity=contiguity,
        objective_weights={"travel": 1.0, "compactness": compactness, "disruption": disruption},
    )
    reasons = diagnose(problem)
    if reasons:
        raise InfeasibleError(
            f"hierarchy level {name!r} cannot be drawn (its units are the {name}s' members):"
            "\n  - " + "\n  - ".join(reasons)
        )
    initial = None
    if previous is not None:
        prev = np.asarray(previous, dtype=int)
        held = prev >= 0
        rows = np.flatnonzero(held)
        owned = sp.csr_matrix((w[rows, 0], (rows, prev[rows])), shape=(n, count))
        counted = sp.csr_matrix((np.ones(len(rows)), (rows, prev[rows])), shape=(n, count))
        problem = dataclasses.replace(
            problem, current=prev, owned_potential=owned, owned_count=counted
        )
        # A complete grouping of the right size is the start: where it is balanced
        # the search has nothing to gain by moving it, so last year's grouping stays.
        if held.all() and len(np.unique(prev)) == count:
            initial = prev
    problem = dataclasses.replace(
        problem, territory_ids=tuple(f"{name} {g + 1}" for g in range(count))
    )
    start = time.perf_counter()
    alignment = solve(problem, SolveParams(seed=seed, time_limit=time_limit), initial=initial)
    seconds = time.perf_counter() - start
    return alignment.assign.astype(int), alignment.centres, fair, lower, upper, seconds


def _diagnose(
    level: str,
    w: np.ndarray,
    adjacency: sp.spmatrix,
    count: int,
    lower: np.ndarray,
    upper: np.ndarray,
    contiguity: bool,
    ids: list[str],
    names: list[str],
) -> None:
    """Refuse a level that cannot hold, in a planner's words (before solving)."""
    n = len(w)
    if count > n:
        raise InfeasibleError(
            f"hierarchy level {level!r}: {count} groups of {n} members; every group needs at "
            f"least one: draw at most {n} {level}s"
        )
    reasons = []
    for j, measure in enumerate(names):
        heavy = np.flatnonzero(w[:, j] > upper[:, j].max() * (1 + 1e-9))
        if len(heavy):
            i = heavy[np.argmax(w[heavy, j])]
            reasons.append(
                f"{ids[i]} alone holds {measure} {w[i, j]:,.0f}, above a {level}'s high "
                f"{upper[:, j].max():,.0f}: raise the {level} tolerance of {measure} or draw "
                f"fewer {level}s"
            )
    if contiguity and n:
        from scipy.sparse.csgraph import connected_components

        n_comp, label = connected_components(sp.csr_matrix(adjacency), directed=False)
        if n_comp > count:
            reasons.append(
                f"the graph of {level} members is in {n_comp} pieces, more than the {count} "
                f"{level}s: {_pieces_text(label, ids)}; every {level} must be one piece, so set "
                "hierarchy.contiguity: false or draw more groups"
            )
        elif n_comp > 1:
            low, high = lower.min(axis=0), upper.max(axis=0)
            for c in range(n_comp):
                total = w[label == c].sum(axis=0)
                # A piece must hold at least one whole group within its band.
                fits = np.floor(total / np.maximum(low, 1e-12) + 1e-9)
                need = np.ceil(total / np.maximum(high, 1e-12) - 1e-9)
                if (need > fits).any() or (total < low).any():
                    j = int(np.argmax((need > fits) | (total < low)))
                    members = np.flatnonzero(label == c)
                    reasons.append(
                        f"piece {c + 1} of the {level} graph ({_names(members, ids)}) holds "
                        f"{names[j]} {total[j]:,.0f}, which no whole number of {level}s "
                        f"({low[j]:,.0f} to {high[j]:,.0f} each) can hold; each {level} must "
                        "be one piece: set hierarchy.contiguity: false or widen the tolerance"
                    )
    if reasons:
        raise InfeasibleError(
            f"hierarchy level {level!r} cannot be drawn:\n  - " + "\n  - ".join(reasons)
        )


def _names(members: np.ndarray, ids: list[str], limit: int = 6) -> str:
    shown = ", ".join(ids[i] for i in members[:limit])
    return shown + (f" and {len(members) - limit} more" if len(members) > limit else "")


def _pieces_text(label: np.ndarray, ids: list[str]) -> str:
    parts = []
    for c in range(int(label.max()) + 1):
        parts.append(f"piece {c + 1}: {_names(np.flatnonzero(label == c), ids, 3)}")
    return "; ".join(parts[:5]) + ("; ..." if len(parts) > 5 else "")


def _even_shares(n_children: int, count: int) -> np.ndarray:
    """Children per group as even as possible (8 in 3: 3, 3, 2), as shares of the total."""
    base, extra = divmod(n_children, count)
    sizes = np.array([base + 1] * extra + [base] * (count - extra), dtype=float)
    return sizes / sizes.sum()


def level_count(level: HierarchyLevel, n_territories: int, n_children: int) -> int:
    """The number of groups of ``level``: ``count``, or territories ÷ ``territories_per``."""
    if level.count is not None:
        return int(level.count)
    assert level.territories_per is not None
    return max(1, min(n_children, round(n_territories / level.territories_per)))


def draw_hierarchy(
    territories: pd.DataFrame,
    adjacency: sp.spmatrix,
    config: HierarchyConfig,
    *,
    measures: Sequence[str] | None = None,
    reps: pd.DataFrame | None = None,
    seed: int = 0,
    base_dir: Path | None = None,
) -> Hierarchy:
    """Draw every level of ``config`` over a plan's territories.

    Level 1 solves :func:`draw_level` on the territory graph (territories as
    units, each with its territory's totals, at its centre; adjacency from
    :func:`~territory_engine.org.hierarchy.graph.territory_adjacency`); level
    ``l + 1`` on the quotient graph of level ``l`` (a group's measures are its
    members' totals, its centre their weighted centre). Same inputs and seed,
    same hierarchy.

    Parameters
    ----------
    territories
        One row per territory: ``territory_id``, ``centre_lon``, ``centre_lat``,
        a column per measure, and ``rep_id`` (optional; needed for last year's
        grouping from the reps table).
    adjacency
        (k, k) territory graph, in the rows' order.
    config
        The ``hierarchy:`` section.
    measures
        The measures balanced where ``config.balance`` does not say (default:
        ``config.balance``'s, else ``potential``), at ± 10 %.
    reps
        The reps table, for ``previous: {source: reps}``.
    seed
        Solver seed.
    base_dir
        Folder that relative ``managers`` / ``previous.file`` paths are read from.

    Returns
    -------
    Hierarchy

    Raises
    ------
    ScenarioError
        A measure that is not a column of ``territories``; managers that do not
        match a level's count; a previous grouping column that is missing.
    InputError
        A managers or previous hierarchy file that is missing or malformed.
    InfeasibleError
        A level that cannot be balanced or contiguous, saying which piece or
        group and why (before solving).
    """
    start = time.perf_counter()
    k = len(territories)
    bands = _bands(config, measures, territories)
    managers = read_managers(config.managers, base_dir) if config.managers is not None else []
    previous = _previous_labels(config, territories, reps, base_dir)
    tids = territories["territory_id"].astype(str).tolist()
    rep_ids = (
        territories["rep_id"].fillna("").astype(str).tolist()
        if "rep_id" in territories
        else [""] * k
    )
    children = _Children(
        weights=territories[list(bands)].to_numpy(dtype=float),
        xy=territories[["centre_lon", "centre_lat"]].to_numpy(dtype=float),
        adjacency=sp.csr_matrix(adjacency),
        ids=tids,
        territory_group=np.arange(k),
        territory_weight=territories[next(iter(bands))].to_numpy(dtype=float),
    )
    levels: list[LevelResult] = []
    for depth, level in enumerate(config.levels):
        result = _solve_level(
            level, depth, children, bands, managers, previous.get(level.name), config, seed, k
        )
        levels.append(result)
        children = _next_children(children, result)
    measure_names = tuple(bands)
    table = _table(tids, rep_ids, levels, k)
    groups = _groups_frame(levels, measure_names, k)
    violations = [v for level in levels for v in level.violations]
    score = {
        level.name: level_score(level, measure_names, _level_tolerances(level, bands, config))
        for level in levels
    }
    return Hierarchy(
        levels=tuple(levels),
        measures=measure_names,
        table=table,
        groups=groups,
        score=score,
        feasible=not violations,
        violations=violations,
        seconds=time.perf_counter() - start,
    )


@dataclass
class _Children:
    """The members a level groups: territories for level 1, the groups below otherwise."""

    weights: np.ndarray
    xy: np.ndarray
    adjacency: sp.csr_matrix
    ids: list[str]
    territory_group: np.ndarray  # (k,) the member each territory is in
    territory_weight: np.ndarray  # (k,) each territory's first measure (for last year's labels)


def _solve_level(
    level: HierarchyLevel,
    depth: int,
    children: _Children,
    bands: dict[str, float],
    managers: list[ManagerConfig],
    prev_names: np.ndarray | None,
    config: HierarchyConfig,
    seed: int,
    k: int,
) -> LevelResult:
    """Draw one level over ``children`` and name, number and check its groups."""
    n = len(children.ids)
    count = level_count(level, k, n)
    level_bands = _level_bands(level, bands)
    share_kind = level.share or ("equal" if depth == 0 else "children")
    own = [mgr for mgr in managers if mgr.level == level.name]
    if own and len(own) != count:
        raise ScenarioError(
            f"hierarchy.managers: level {level.name!r} has {len(own)} managers "
            f"for {count} {level.name}s; give one per {level.name} or none"
        )
    prev_idx, names_from_prev = None, None
    if prev_names is not None:
        # The member's previous group: its territories' label, by weight.
        child_prev = _majority(prev_names, children.territory_group, n, children.territory_weight)
        prev_idx, names_from_prev = _index_previous(child_prev, count, own)
        complete = bool((prev_idx >= 0).all()) and len(np.unique(prev_idx)) == count
        if not complete and not own:
            # With free centres the solver's group g is last year's g only when
            # last year's grouping is the start; otherwise the term would be noise.
            prev_idx, names_from_prev = None, None
    assign, centres, fair, lower, upper, seconds = draw_level(
        children.weights,
        children.xy,
        children.adjacency,
        count=count,
        tolerance=[level_bands[mname] for mname in bands],
        shares=None if share_kind == "equal" else _even_shares(n, count),
        centres=np.array([[mgr.lon, mgr.lat] for mgr in own]) if own else None,
        previous=prev_idx,
        disruption=config.previous.weight if config.previous is not None else 0.0,
        compactness=config.compactness,
        contiguity=config.contiguity,
        seed=seed,
        time_limit=config.time_limit,
        child_ids=children.ids,
        measure_names=list(bands),
        name=level.name,
    )
    order, group_ids = _group_names(
        level, assign, children.weights, children.xy, count, own, names_from_prev
    )
    # Renumber so that group g is the g-th named (managers' order, else west to east).
    remap = np.empty(count, dtype=int)
    remap[order] = np.arange(count)
    assign = remap[assign]
    fair, lower, upper = fair[order], lower[order], upper[order]
    loads = np.zeros((count, len(bands)))
    np.add.at(loads, assign, children.weights)
    pieces = group_pieces(children.adjacency, assign, count)
    violations = _violations(level.name, group_ids, loads, lower, upper, list(bands))
    if config.contiguity:
        violations += [
            f"{level.name} {group_ids[g]} is in {pieces[g]} pieces"
            for g in range(count)
            if pieces[g] > 1
        ]
    by_group = {mgr.group or "": mgr for mgr in own}
    rows: list[ManagerConfig | None] = (
        list(own)
        if own and not any(mgr.group for mgr in own)
        else [by_group.get(gid) for gid in group_ids]
    )
    return LevelResult(
        name=level.name,
        assign=assign,
        group_ids=tuple(group_ids),
        manager_ids=tuple(mgr.manager_id if mgr else "" for mgr in rows),
        manager_names=tuple(mgr.name if mgr else "" for mgr in rows),
        centres=np.asarray(centres)[order],
        loads=loads,
        fair_share=fair,
        lower=lower,
        upper=upper,
        feasible=not violations,
        violations=violations,
        seconds=seconds,
        pieces=pieces,
    )


def group_centres(children: _Children, assign: np.ndarray, count: int) -> np.ndarray:
    """(count, 2) each group's centre, its members' positions weighted by the first measure."""
    weight0 = np.maximum(children.weights[:, 0], 1e-12)
    total = np.bincount(assign, weights=weight0, minlength=count)
    return np.column_stack(
        [
            np.bincount(assign, weights=weight0 * children.xy[:, d], minlength=count) / total
            for d in range(2)
        ]
    )


def _next_children(children: _Children, level: LevelResult) -> _Children:
    """The next level's members: this level's groups, at their weighted centres."""
    count = len(level.group_ids)
    assign = level.assign
    return _Children(
        weights=level.loads,
        xy=group_centres(children, assign, count),
        adjacency=group_adjacency(children.adjacency, assign, count),
        ids=list(level.group_ids),
        territory_group=assign[children.territory_group],
        territory_weight=children.territory_weight,
    )


def _level_tolerances(
    level: LevelResult, bands: dict[str, float], config: HierarchyConfig
) -> dict[str, float]:
    cfg = next(lv for lv in config.levels if lv.name == level.name)
    return _level_bands(cfg, bands)


def _bands(
    config: HierarchyConfig, measures: Sequence[str] | None, territories: pd.DataFrame
) -> dict[str, float]:
    """Measure -> default tolerance of every level (``hierarchy.balance``, else ± 10 %)."""
    if config.balance:
        bands = {mname: band.tolerance for mname, band in config.balance.items()}
    else:
        bands = dict.fromkeys(measures or ["potential"], DEFAULT_TOLERANCE)
    for level in config.levels:
        for mname in level.balance or {}:
            bands.setdefault(mname, DEFAULT_TOLERANCE)
    present = [str(c) for c in territories.columns]
    for mname in bands:
        if mname not in territories.columns:
            raise ScenarioError(
                f"hierarchy.balance: {mname!r} is not a measure of the plan's territories"
                f"{did_you_mean(mname, present)}; a balanced measure of the scenario (or "
                "potential) can be balanced by the hierarchy"
            )
    return bands


def _level_bands(level: HierarchyLevel, bands: dict[str, float]) -> dict[str, float]:
    out = dict(bands)
    for mname, band in (level.balance or {}).items():
        out[mname] = band.tolerance
    return out


def read_managers(
    managers: list[ManagerConfig] | Path, base_dir: Path | None
) -> list[ManagerConfig]:
    """The managers of ``hierarchy.managers``: the list, or the rows of a table file.

    The file (CSV, Excel, Parquet) has ``manager_id, lat, lon, level`` and
    optionally ``name`` and ``group``.

    Raises
    ------
    InputError
        Missing file or column, a bad number, naming file, row, id and column.
    """
    if isinstance(managers, list):
        return managers
    from territory_engine.io.tables import read_table, row_number

    path = managers if managers.is_absolute() or base_dir is None else base_dir / managers
    frame = read_table(
        path,
        kind="managers",
        required=["manager_id", "lat", "lon", "level"],
        id_column="manager_id",
        numeric=["lat", "lon"],
        text=["name", "group", "level"],
    )
    out = []
    for label, row in frame.iterrows():
        try:
            out.append(
                ManagerConfig(
                    manager_id=str(row["manager_id"]),
                    name=str(row.get("name", "") or ""),
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    level=str(row["level"]),
                    group=str(row["group"]) if str(row.get("group", "") or "") else None,
                )
            )
        except ValueError as exc:
            column = "lat" if "lat" in str(exc) else "lon" if "lon" in str(exc) else None
            raise InputError(
                "a manager's home must be a latitude in -90..90 and a longitude in -180..180",
                file=str(path),
                row=row_number(frame, label),
                id=str(row["manager_id"]),
                column=column,
            ) from None
    return out


def _previous_labels(
    config: HierarchyConfig,
    territories: pd.DataFrame,
    reps: pd.DataFrame | None,
    base_dir: Path | None,
) -> dict[str, np.ndarray]:
    """Last year's group name of each territory per level (``""``: none)."""
    prev = config.previous
    if prev is None:
        return {}
    out: dict[str, np.ndarray] = {}
    names = [level.name for level in config.levels]
    k = len(territories)
    if prev.source == "reps":
        if reps is None or "rep_id" not in territories.columns:
            raise ScenarioError("hierarchy.previous source 'reps' needs the reps table")
        table, key, what = reps, "rep_id", "the reps table"
        keys = territories["rep_id"].fillna("").astype(str)
    else:
        from territory_engine.io.tables import read_table

        assert prev.file is not None
        path = prev.file if prev.file.is_absolute() or base_dir is None else base_dir / prev.file
        table = read_table(path, kind="hierarchy", required=[], text=names)
        key = "territory_id" if "territory_id" in table.columns else "rep_id"
        if key not in table.columns:
            raise InputError("needs a territory_id or rep_id column", file=str(path))
        what = str(path)
        keys = (
            territories[key].fillna("").astype(str) if key in territories else pd.Series([""] * k)
        )
    columns = [prev.columns.get(name, name) for name in names]
    unknown = [c for c in prev.columns if c not in names]
    if unknown:
        raise ScenarioError(
            f"hierarchy.previous.columns: {unknown[0]!r} is not a level"
            f"{did_you_mean(unknown[0], names)}; levels: {', '.join(names)}"
        )
    present = [str(c) for c in table.columns]
    found = [c for c in columns if c in table.columns]
    if not found:
        raise ScenarioError(
            f"hierarchy.previous: {what} has no column {' or '.join(repr(c) for c in columns)} "
            f"holding last year's groups{did_you_mean(columns[0], present)}; name it with "
            "hierarchy.previous.columns"
        )
    lookup = table.assign(_key=table[key].astype(str)).drop_duplicates("_key").set_index("_key")
    for name, column in zip(names, columns, strict=True):
        if column in table.columns:
            values = lookup[column].fillna("").astype(str)
            out[name] = keys.map(values).fillna("").astype(str).to_numpy(dtype=object)
    return out


def _majority(labels: np.ndarray, member: np.ndarray, n: int, weight: np.ndarray) -> np.ndarray:
    """Each member's label: the heaviest label among the territories it holds.

    ``labels``, ``member`` and ``weight`` have one entry per territory; ties go to
    the label first in sorted order.
    """
    out = np.full(n, "", dtype=object)
    best = np.zeros(n)
    totals: dict[tuple[int, str], float] = {}
    for c, lab, w in zip(member, labels, np.maximum(weight, 1e-12), strict=True):
        if lab:
            totals[(int(c), str(lab))] = totals.get((int(c), str(lab)), 0.0) + float(w)
    for (c, lab), value in sorted(totals.items()):
        if value > best[c]:
            best[c], out[c] = value, lab
    return out


def _index_previous(
    child_prev: np.ndarray, count: int, managers: list[ManagerConfig]
) -> tuple[np.ndarray, list[str]]:
    """Previous names -> group indices (managers' groups first, then sorted; at most ``count``)."""
    names = [mgr.group for mgr in managers if mgr.group] if managers else []
    for lab in sorted({str(x) for x in child_prev if x}):
        if lab not in names:
            names.append(lab)
    names = names[:count]
    where = {lab: g for g, lab in enumerate(names)}
    return np.array([where.get(str(x), -1) for x in child_prev], dtype=int), names


def _group_names(
    level: HierarchyLevel,
    assign: np.ndarray,
    w: np.ndarray,
    xy: np.ndarray,
    count: int,
    managers: list[ManagerConfig],
    previous: list[str] | None,
) -> tuple[np.ndarray, list[str]]:
    """The order of the solver's groups and their names.

    Managers' groups keep the managers' order (their names, else
    ``<level>-<n>``); groups that continue last year's keep its names; other
    groups are numbered west to east by their weighted centre, so the names
    do not depend on the solver's internal numbering.
    """
    if managers:
        return np.arange(count), [
            mgr.group or f"{level.name}-{g + 1}" for g, mgr in enumerate(managers)
        ]
    weight0 = np.maximum(w[:, 0], 1e-12)
    total = np.bincount(assign, weights=weight0, minlength=count)
    lon = np.bincount(assign, weights=weight0 * xy[:, 0], minlength=count) / np.maximum(
        total, 1e-12
    )
    lat = np.bincount(assign, weights=weight0 * xy[:, 1], minlength=count) / np.maximum(
        total, 1e-12
    )
    order = np.lexsort((-lat, lon))
    names = [f"{level.name}-{i + 1}" for i in range(count)]
    if previous:
        # Solver group g started as previous group g (the initial plan); keep names where used.
        order = np.arange(count)
        used = set(previous)
        fresh = iter(
            f"{level.name}-{i + 1}" for i in range(2 * count) if f"{level.name}-{i + 1}" not in used
        )
        names = [previous[g] if g < len(previous) else next(fresh) for g in range(count)]
    return order, names


def _violations(
    level: str,
    ids: list[str],
    loads: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    measures: list[str],
) -> list[str]:
    out = []
    for g, gid in enumerate(ids):
        for j, mname in enumerate(measures):
            if loads[g, j] < lower[g, j] * (1 - 1e-9) - 1e-9:
                out.append(
                    f"{level} {gid}: {mname} {loads[g, j]:,.0f} below its band's low "
                    f"{lower[g, j]:,.0f}"
                )
            elif loads[g, j] > upper[g, j] * (1 + 1e-9) + 1e-9:
                out.append(
                    f"{level} {gid}: {mname} {loads[g, j]:,.0f} above its band's high "
                    f"{upper[g, j]:,.0f}"
                )
    return out


def _table(tids: list[str], rep_ids: list[str], levels: list[LevelResult], k: int) -> pd.DataFrame:
    """``hierarchy.csv``: a row per territory, a column per level, the level-1 manager."""
    out = pd.DataFrame({"territory_id": tids, "rep_id": rep_ids})
    group = np.arange(k)
    manager = np.full(k, "", dtype=object)
    for depth, level in enumerate(levels):
        group = level.assign[group]
        out[level.name] = np.asarray(level.group_ids, dtype=object)[group]
        if depth == 0:
            manager = np.asarray(level.manager_ids, dtype=object)[group]
    out[MANAGER_COLUMN] = manager
    return out


def _groups_frame(levels: list[LevelResult], measures: tuple[str, ...], k: int) -> pd.DataFrame:
    """One row per group of every level (``hierarchy.geojson``'s properties)."""
    rows = []
    territory_group = np.arange(k)
    for depth, level in enumerate(levels):
        territory_group = level.assign[territory_group]
        parent = levels[depth + 1] if depth + 1 < len(levels) else None
        n_terr = np.bincount(territory_group, minlength=len(level.group_ids))
        n_child = np.bincount(level.assign, minlength=len(level.group_ids))
        for g, gid in enumerate(level.group_ids):
            row: dict[str, object] = {
                "level": level.name,
                "id": gid,
                "name": f"{gid} ({level.manager_names[g]})" if level.manager_names[g] else gid,
                "parent": parent.group_ids[parent.assign[g]] if parent is not None else "",
                "manager_id": level.manager_ids[g],
                "manager_name": level.manager_names[g],
                "n_territories": int(n_terr[g]),
                "n_children": int(n_child[g]),
                "centre_lon": round(float(level.centres[g, 0]), 6),
                "centre_lat": round(float(level.centres[g, 1]), 6),
            }
            for j, mname in enumerate(measures):
                fair = level.fair_share[g, j]
                row[mname] = float(level.loads[g, j])
                row[f"{mname}_fair_share"] = float(fair)
                row[f"{mname}_low"] = float(level.lower[g, j])
                row[f"{mname}_high"] = float(level.upper[g, j])
                row[f"{mname}_dev_pct"] = (
                    round(100 * (level.loads[g, j] / fair - 1), 2) if fair > 0 else 0.0
                )
                row[f"{mname}_in_band"] = bool(
                    level.lower[g, j] * (1 - 1e-9) - 1e-9
                    <= level.loads[g, j]
                    <= level.upper[g, j] * (1 + 1e-9) + 1e-9
                )
            row["pieces"] = int(level.pieces[g]) if len(level.pieces) else 1
            rows.append(row)
    return pd.DataFrame(rows)
