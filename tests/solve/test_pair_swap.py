"""Pair-exchange annealing with hard bands (``swap_anneal``): the compiled kernel against
its Python reference, the invariants after every accepted move, known optima."""

from __future__ import annotations

import dataclasses
import random
import time

import numpy as np
import pytest

from territory_engine.problem.arrays import grid_problem
from territory_engine.problem.data import ProblemData, count_cut_edges
from territory_engine.solve.search import anneal
from territory_engine.solve.search.anneal import (
    swap_anneal,
    swap_anneal_chain,
    swap_anneal_reference,
)

from .plan_checks import check_plan


def _stripes(rows: int, cols: int, k: int) -> np.ndarray:
    """Row-major stripes of ``rows · cols / k`` cells: balanced and contiguous."""
    return (np.arange(rows * cols) // (rows * cols // k)).astype(np.int64)


def _random_case(seed: int) -> tuple[ProblemData, np.ndarray]:
    """A 10 × 10 grid of random weights in 4 parts (±8 %), started from 4 column blocks.

    The start's bands are met by construction: its loads set the band's centre
    (``bounds`` from the start itself), so single moves and exchanges both occur.
    """
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 1.5, 100)
    a = (np.arange(100) % 10 * 4 // 10).astype(np.int64)
    p = grid_problem(10, 10, n_territories=4, weights=w, tolerance=0.08, contiguity=True)
    loads = np.bincount(a, weights=w, minlength=4)
    lower = (loads * 0.92).reshape(4, 1)
    upper = (loads * 1.08).reshape(4, 1)
    return dataclasses.replace(p, lower=lower, upper=upper), a


def _reference_args(p: ProblemData, a: np.ndarray) -> list[list]:
    """The first 14 kernel arguments of :func:`swap_anneal`, as lists, for the reference."""
    st = anneal._AnnealState(p, a)
    ptr, ind, entry_edge, edges, cut_list, cut_pos = anneal._edge_arrays(st)
    arrays = [
        list(st.part),
        list(st.size),
        [list(r) for r in st.load],
        st.w,
        st.lo,
        st.hi,
        st.movable,
        st.group_ok,
        ptr.tolist(),
        ind.tolist(),
        entry_edge.tolist(),
        edges.tolist(),
        cut_list.tolist(),
        cut_pos.tolist(),
    ]
    return arrays


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_and_reference_take_the_same_moves(seed):
    p, a = _random_case(seed)
    kw = {"iterations": 30_000, "seed": seed + 10, "t_start": 2.0, "p_single": 0.4}
    fast, fast_stats = swap_anneal(p, a, compiled=True, **kw)
    slow, slow_stats = swap_anneal(p, a, compiled=False, **kw)
    assert fast.tolist() == slow.tolist()
    assert fast_stats == slow_stats
    assert fast_stats["singles"] > 0 and fast_stats["swaps"] > 0
    assert fast_stats["cut"] == count_cut_edges(p.adjacency, fast) < fast_stats["start_cut"]
    check_plan(p, fast)


@pytest.mark.parametrize("seed", [3, 4])
def test_every_accepted_move_keeps_bands_connectivity_and_its_cut_delta(seed):
    p, a = _random_case(seed)
    seen = {"moves": 0, "cut": int(count_cut_edges(p.adjacency, a))}

    def on_move(part: list[int], n_cut: int, d: int) -> None:
        plan = np.asarray(part)
        recount = int(count_cut_edges(p.adjacency, plan))
        assert n_cut == recount  # the running cut list
        assert recount - seen["cut"] == d  # the delta the move was accepted on
        check_plan(p, plan)
        seen["moves"] += 1
        seen["cut"] = recount

    best, best_cut, counts = swap_anneal_reference(
        _reference_args(p, a),
        random.Random(seed),
        iterations=4_000,
        t_start=2.0,
        t_end=0.05,
        p_single=0.4,
        walk=6,
        on_move=on_move,
    )
    assert seen["moves"] == counts["singles"] + counts["swaps"] > 20
    assert counts["swaps"] > 0
    assert best_cut == count_cut_edges(p.adjacency, np.asarray(best))


@pytest.mark.parametrize(
    ("rows", "cols", "k", "optimum"),
    [(4, 4, 2, 4), (6, 6, 4, 12), (6, 6, 2, 6)],
)
def test_exact_bands_reach_the_known_optimum(rows, cols, k, optimum):
    # Unit cells, exact equal sizes (tolerance 0): no single move keeps the bands,
    # only exchanges move. Straight cuts (halves, quadrants) are optimal.
    p = grid_problem(rows, cols, n_territories=k, tolerance=0.0, contiguity=True)
    start = _stripes(rows, cols, k)
    if k == 2:  # the halves with two cells exchanged across the straight cut
        c = np.arange(rows * cols) % cols
        start = (c >= cols // 2).astype(np.int64)
        start[cols // 2] = 0
        start[(rows - 1) * cols + cols // 2 - 1] = 1
    check_plan(p, start)
    assert count_cut_edges(p.adjacency, start) > optimum
    out, stats = swap_anneal(p, start, iterations=60_000, seed=1, t_start=1.5)
    check_plan(p, out)
    assert stats["cut"] == count_cut_edges(p.adjacency, out) == optimum
    assert stats["singles"] == 0 and stats["swaps"] > 0


def test_same_seed_same_plan_and_another_seed_moves_differently():
    p, a = _random_case(5)
    one, s1 = swap_anneal(p, a, iterations=50_000, seed=7)
    two, s2 = swap_anneal(p, a, iterations=50_000, seed=7)
    _, s3 = swap_anneal(p, a, iterations=50_000, seed=8)
    assert one.tolist() == two.tolist() and s1 == s2
    assert (s3["singles"], s3["swaps"]) != (s1["singles"], s1["swaps"])


def test_locked_units_and_groups_stay_put():
    p, a = _random_case(6)
    locked = np.full(100, -1)
    border = np.flatnonzero(np.arange(100) % 10 == 2)  # a column on a part boundary
    locked[border] = a[border]
    unit_group = np.zeros(100, dtype=p.unit_group.dtype)
    unit_group[np.arange(100) % 10 == 9] = 1  # the last column belongs to part 3 only
    territory_group = np.array([0, 0, 0, 1], dtype=p.territory_group.dtype)
    col = np.arange(100) % 10
    a = np.where(col == 9, 3, col * 3 // 9).astype(np.int64)  # part 3 is the last column
    loads = np.bincount(a, weights=p.weights[:, 0], minlength=4).reshape(4, 1)
    p = dataclasses.replace(
        p,
        locked=locked,
        unit_group=unit_group,
        territory_group=territory_group,
        lower=loads * 0.92,
        upper=loads * 1.08,
    )
    out, stats = swap_anneal(p, a, iterations=50_000, seed=2, t_start=2.0)
    check_plan(p, out)
    assert stats["singles"] + stats["swaps"] > 0
    assert (out[border] == a[border]).all()
    assert (out[unit_group == 1] == 3).all() and (out[unit_group == 0] != 3).all()


def test_a_start_out_of_band_is_refused_and_a_past_deadline_cuts_the_run():
    p = grid_problem(4, 4, n_territories=2, tolerance=0.0, contiguity=True)
    with pytest.raises(ValueError, match="within every band"):
        swap_anneal(p, np.array([0] * 9 + [1] * 7), iterations=100)
    start = _stripes(4, 4, 2)
    out, stats = swap_anneal(p, start, iterations=10**6, deadline=0.0)
    assert stats["cut_short"] and stats["iterations"] == 0
    assert out.tolist() == start.tolist()


def test_chain_keeps_the_best_of_its_runs():
    p, a = _random_case(7)
    out, stats = swap_anneal_chain(
        p, a, deadline=time.perf_counter() + 1.0, seed=3, iterations=20_000
    )
    check_plan(p, out)
    assert stats["runs"] >= 1
    assert (
        stats["cut"]
        == count_cut_edges(p.adjacency, out)
        == min([count_cut_edges(p.adjacency, a), *stats["cuts"]])
    )


def test_multistart_keeps_the_best_start_and_gives_up_without_starts():
    p, a = _random_case(8)
    starts = [a, None, a]
    out, stats = anneal.swap_multistart(
        p,
        lambda r: starts[r] if r < len(starts) else None,
        deadline=time.perf_counter() + 1.5,
        seed=1,
        run_seconds=0.3,
    )
    assert out is not None
    check_plan(p, out)
    assert stats["starts"] == 2 and stats["cut"] == min(stats["run_cuts"])
    assert stats["cut"] == count_cut_edges(p.adjacency, out)
    none, stats = anneal.swap_multistart(p, lambda r: None, deadline=time.perf_counter() + 5)
    assert none is None and stats["starts"] == 0 and stats["cut"] is None


def test_partition_takes_the_exchanges_at_few_units_a_part():
    # 16 x 12 grid, 8 parts of 22-26 cells (24 a part: at most SWAP_UNITS_PER_PART,
    # so the tree starts go to the pair-exchange chains); 4 x 6 blocks cut 52 edges.
    import networkx as nx

    from territory_engine.partition import partition

    g = nx.grid_2d_graph(16, 12)
    for r, c in g.nodes:
        g.nodes[r, c].update(TOTPOP=1, C_X=c * 0.1, C_Y=r * 0.1)
    g = nx.convert_node_labels_to_integers(g, ordering="sorted")
    res = partition(g, parts=8, balance={}, bounds={"TOTPOP": (22, 26)}, time_limit=6)
    assert res.feasible
    assert "run_cuts" in res.anneal and "final_cuts" not in res.anneal  # the swap path
    assert res.cut_edges <= min(res.anneal["run_cuts"]) and res.cut_edges <= 60
    plan = np.array([res.assignment[str(v)] for v in g.nodes])
    assert all(22 <= x <= 26 for x in np.bincount(plan, minlength=8))
    for t in range(8):
        assert nx.is_connected(g.subgraph(np.flatnonzero(plan == t).tolist()))
