"""Recombination descent of part pairs (``recombine_descent``): invariants of its plans,
known optima, determinism by seed, locks and groups."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from territory_engine.problem.arrays import grid_problem
from territory_engine.problem.data import ProblemData, count_cut_edges
from territory_engine.solve.search.recombine import recombine_descent

from .plan_checks import check_plan


def _snake(rows: int, cols: int, k: int) -> np.ndarray:
    """Boustrophedon stripes of ``rows · cols / k`` cells: balanced, contiguous, many cut edges."""
    order = np.concatenate(
        [np.arange(r * cols, (r + 1) * cols)[:: 1 if r % 2 == 0 else -1] for r in range(rows)]
    )
    a = np.empty(rows * cols, dtype=np.int64)
    a[order] = np.arange(rows * cols) // (rows * cols // k)
    return a


def _two_measures(seed: int) -> tuple[ProblemData, np.ndarray]:
    """A 10 × 10 grid of two random measures in 4 parts (±10 % of the start's loads)."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 1.5, (100, 2))
    p = grid_problem(10, 10, n_territories=4, weights=w, tolerance=0.1, contiguity=True)
    a = _snake(10, 10, 4)
    loads = np.stack([np.bincount(a, weights=w[:, j], minlength=4) for j in range(2)], axis=1)
    return dataclasses.replace(p, lower=loads * 0.9, upper=loads * 1.1), a


@pytest.mark.parametrize(("rows", "cols", "k", "optimum"), [(4, 4, 2, 4), (6, 6, 2, 6)])
def test_exact_bands_reach_the_straight_cut(rows, cols, k, optimum):
    # Unit cells, exact halves: the straight cut is optimal; the snake start is far from it.
    p = grid_problem(rows, cols, n_territories=k, tolerance=0.0, contiguity=True)
    start = _snake(rows, cols, k)
    check_plan(p, start)
    out, stats = recombine_descent(p, start, iterations=300, seed=1)
    check_plan(p, out)
    assert stats["cut"] == count_cut_edges(p.adjacency, out) == optimum
    assert stats["start_cut"] == count_cut_edges(p.adjacency, start)


@pytest.mark.parametrize("seed", [0, 1])
def test_two_measures_stay_in_band_connected_and_the_cut_falls(seed):
    p, a = _two_measures(seed)
    start_cut = count_cut_edges(p.adjacency, a)
    out, stats = recombine_descent(p, a, iterations=400, seed=seed, temperature=1.0)
    check_plan(p, out)
    assert stats["accepted"] > 0
    assert stats["cut"] == count_cut_edges(p.adjacency, out) < start_cut


def test_same_seed_same_plan_and_another_seed_differs():
    p, a = _two_measures(2)
    one, s1 = recombine_descent(p, a, iterations=200, seed=7, temperature=1.0)
    two, s2 = recombine_descent(p, a, iterations=200, seed=7, temperature=1.0)
    three, s3 = recombine_descent(p, a, iterations=200, seed=8, temperature=1.0)
    assert one.tolist() == two.tolist() and s1 == s2
    # Both seeds may end on the same best plan; their walks differ.
    assert (three.tolist(), s3["accepted"]) != (one.tolist(), s1["accepted"])


def test_locked_units_and_groups_stay_put():
    p, a = _two_measures(3)
    locked = np.full(100, -1)
    border = np.flatnonzero(a != np.roll(a, 1))  # units where the snake changes part
    locked[border] = a[border]
    unit_group = np.zeros(100, dtype=p.unit_group.dtype)
    unit_group[a == 3] = 1  # part 3's units may only be in part 3
    territory_group = np.array([0, 0, 0, 1], dtype=p.territory_group.dtype)
    p = dataclasses.replace(
        p, locked=locked, unit_group=unit_group, territory_group=territory_group
    )
    out, stats = recombine_descent(p, a, iterations=400, seed=2, temperature=1.0)
    check_plan(p, out)
    assert stats["accepted"] > 0
    assert (out[border] == a[border]).all()
    assert (out[unit_group == 1] == 3).all() and (out[unit_group == 0] != 3).all()


def test_a_past_deadline_cuts_the_run():
    p = grid_problem(4, 4, n_territories=2, tolerance=0.0, contiguity=True)
    start = _snake(4, 4, 2)
    out, stats = recombine_descent(p, start, iterations=10**6, deadline=0.0)
    assert stats["cut_short"] and stats["iterations"] == 0
    assert out.tolist() == start.tolist()


def _subtree(parent, c: int, size: int) -> set[int]:
    """The subtree of ``c``: every node whose parent chain reaches ``c``, by search."""
    sub = {c}
    grew = True
    while grew:
        grew = False
        for x in range(1, size):
            if x not in sub and parent[x] in sub:
                sub.add(x)
                grew = True
    return sub


def _random_region(rng: np.random.Generator, rows: int = 4, cols: int = 5):
    """A connected region of ``rows · cols`` local units: a grid with a tenth of its edges
    dropped and a spanning comb kept."""
    p = grid_problem(rows, cols, n_territories=2, contiguity=True)
    adj = p.adjacency.tocoo()
    keep = (adj.row < adj.col) & (rng.random(adj.nnz) < 0.9)
    ea, eb = adj.row[keep].astype(np.int64), adj.col[keep].astype(np.int64)
    for r in range(rows):
        extra = [(r * cols + c, r * cols + c + 1) for c in range(cols - 1)]
        extra += [(r * cols, (r + 1) * cols)] if r + 1 < rows else []
        for a, b in extra:
            if not ((ea == a) & (eb == b)).any():
                ea, eb = np.append(ea, a), np.append(eb, b)
    return ea, eb, rows * cols


def _region_values(
    rng: np.random.Generator, size: int, m: int, *, parts: int, barred_part: int, barred_units: int
) -> np.ndarray:
    """Random measures and the "may not go to part p" columns, ``barred_units`` of them
    barred from ``barred_part``."""
    values = np.zeros((size, m + parts))
    values[:, :m] = rng.uniform(0.5, 1.5, (size, m))
    values[rng.choice(size, barred_units, replace=False), m + barred_part] = 1.0
    return values


def _twister_state(seed: int):
    from territory_engine.solve.search import recombine_kernel as rk

    mt = np.array(__import__("random").Random(seed).getstate()[1][:624], dtype=np.int64)
    ist = np.zeros(6, dtype=np.int64)
    ist[rk.R_MT_INDEX] = 624
    return mt, ist


def _brute_force_split(ea, eb, size, parent, values, m, bands, bound):
    """Every tree edge removed in turn, sides found by search: the fewest edges between."""
    lo_s, hi_s, lo_t, hi_t = bands
    best = (-1, False, bound)
    for c in range(1, size):
        sub = _subtree(parent, c, size)
        between = sum((a in sub) != (b in sub) for a, b in zip(ea, eb, strict=True))
        if between >= best[2]:
            continue
        in_sub = np.array([x in sub for x in range(size)])
        for to_s in (False, True):
            s_side = in_sub if to_s else ~in_sub
            load_s, load_t = values[s_side, :m].sum(0), values[~s_side, :m].sum(0)
            fits = (
                (lo_s <= load_s).all()
                and (load_s <= hi_s).all()
                and (lo_t <= load_t).all()
                and (load_t <= hi_t).all()
            )
            forbidden = values[s_side, m].sum() + values[~s_side, m + 1].sum()
            if fits and forbidden == 0:
                best = (c, to_s, between)
                break
    return best


@pytest.mark.parametrize("seed", range(6))
def test_best_tree_split_matches_brute_force(seed):
    # Random connected regions, random trees: the compiled split's cut count is the brute force's.
    from territory_engine.solve.search import recombine_kernel as rk

    rng = np.random.default_rng(seed)
    ea, eb, size = _random_region(rng)
    m = 2
    values = _region_values(rng, size, m, parts=2, barred_part=0, barred_units=2)
    total = values[:, :m].sum(0)
    bands = (total * 0.3, total * 0.7, total * 0.3, total * 0.7)
    mt, ist = _twister_state(seed)
    parent, order, depth = (np.empty(size, dtype=np.int64) for _ in range(3))
    found = 0
    for _ in range(5):
        assert rk.random_tree(ea, eb, len(ea), size, mt, ist, parent, order, depth)
        assert sorted(order.tolist()) == list(range(size)) and parent[0] == -1
        got = rk.best_tree_split(
            ea, eb, len(ea), size, parent, order, depth, values, m, *bands, len(ea) + 1
        )
        want = _brute_force_split(ea, eb, size, parent, values, m, bands, len(ea) + 1)
        assert got[2] == want[2]
        found += got[0] >= 0
    assert found > 0


@pytest.mark.parametrize(("rows", "cols", "k", "optimum"), [(2, 6, 3, 4), (2, 9, 3, 4)])
def test_three_part_steps_reach_the_straight_cuts(rows, cols, k, optimum):
    # Three parts redrawn a step, exact thirds of unit cells on a ladder: every
    # boundary between two parts cuts at least the ladder's rows, so square blocks are optimal.
    p = grid_problem(rows, cols, n_territories=k, tolerance=0.0, contiguity=True)
    start = _snake(rows, cols, k)
    assert count_cut_edges(p.adjacency, start) > optimum
    out, stats = recombine_descent(p, start, iterations=2000, seed=0, parts=3)
    check_plan(p, out)
    assert stats["cut"] == count_cut_edges(p.adjacency, out) == optimum


@pytest.mark.parametrize("seed", [0, 1])
def test_three_part_steps_keep_bands_locks_and_groups(seed):
    p, a = _two_measures(seed)
    locked = np.full(100, -1)
    locked[::13] = a[::13]
    unit_group = np.zeros(100, dtype=p.unit_group.dtype)
    unit_group[a == 3] = 1
    territory_group = np.array([0, 0, 0, 1], dtype=p.territory_group.dtype)
    p = dataclasses.replace(
        p, locked=locked, unit_group=unit_group, territory_group=territory_group
    )
    out, stats = recombine_descent(p, a, iterations=500, seed=seed, temperature=1.0, parts=3)
    check_plan(p, out)
    assert stats["accepted"] > 0
    assert stats["cut"] == count_cut_edges(p.adjacency, out) <= count_cut_edges(p.adjacency, a)
    assert (out[::13] == a[::13]).all()
    assert (out[unit_group == 1] == 3).all() and (out[unit_group == 0] != 3).all()
    again, stats_again = recombine_descent(
        p, a, iterations=500, seed=seed, temperature=1.0, parts=3
    )
    assert again.tolist() == out.tolist() and stats_again == stats


@pytest.mark.parametrize("seed", range(6))
def test_first_cut_of_three_parts_matches_brute_force(seed):
    # The piece cut off a three-part region: the compiled choice's edge count is the brute force's.
    from territory_engine.solve.search import recombine_kernel as rk

    rng = np.random.default_rng(seed)
    ea, eb, size = _random_region(rng)
    m = 2
    values = _region_values(rng, size, m, parts=3, barred_part=1, barred_units=3)
    share = values[:, :m].sum(0) / 3
    lower = np.array([share * 0.7] * 3)
    upper = np.array([share * 1.3] * 3)
    parts = np.arange(3, dtype=np.int64)
    mt, ist = _twister_state(seed)
    parent, order, depth = (np.empty(size, dtype=np.int64) for _ in range(3))
    found = 0
    for _ in range(5):
        assert rk.random_tree(ea, eb, len(ea), size, mt, ist, parent, order, depth)
        below, diff = rk._subtree_sums(ea, eb, len(ea), size, parent, order, depth, values)
        c, is_sub, p = rk._first_cut(below, diff, order, size, m, parts, lower, upper, len(ea) + 1)
        want = len(ea) + 1
        for x in range(1, size):
            sub = _subtree(parent, x, size)
            between = sum((a in sub) != (b in sub) for a, b in zip(ea, eb, strict=True))
            in_sub = np.array([y in sub for y in range(size)])
            for piece in (in_sub, ~in_sub):
                for q in range(3):
                    load, rest = values[piece, :m].sum(0), values[~piece, :m].sum(0)
                    others = [r for r in range(3) if r != q]
                    fits = (lower[q] <= load).all() and (load <= upper[q]).all()
                    fits &= (lower[others].sum(0) <= rest).all()
                    fits &= (rest <= upper[others].sum(0)).all()
                    if fits and values[piece, m + q].sum() == 0:
                        want = min(want, between)
        assert (diff[c] if c >= 0 else len(ea) + 1) == want
        if c >= 0:
            piece = np.array([y in _subtree(parent, c, size) for y in range(size)])
            piece = piece if is_sub else ~piece
            assert values[piece, m + p].sum() == 0
        found += c >= 0
    assert found > 0


def test_parts_other_than_two_or_three_are_refused():
    p = grid_problem(4, 4, n_territories=2, tolerance=0.0, contiguity=True)
    with pytest.raises(ValueError, match="parts must be 2 or 3"):
        recombine_descent(p, _snake(4, 4, 2), iterations=10, parts=4)
