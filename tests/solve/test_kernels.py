"""The compiled hot loops (:mod:`territory_engine.solve.search.kernels`) against Python.

The kernels are transcriptions of ``LocalSearch.single_pass`` (with
``_best_single``, ``delta``, ``can_leave``) and of the move loop of
``anneal_cut_edges``; they must take exactly the same moves. On random
instances (grid and Delaunay graphs, one to three measures, contiguity on
and off, every objective term, locks, a disruption cap, units without
neighbours):

* every move's ``(ΔV, Δf)`` from the kernel equals ``LocalSearch.delta``
  bit for bit, and both equal the change of ``V`` and ``f`` recomputed from
  scratch;
* one compiled descent pass from the same state and permutation leaves the
  same assignment, loads, violations, sizes, members, moved potential and
  move count as the Python pass;
* a whole ``LocalSearch.run`` ends at the same plan;
* the annealing, with the same seed and the same clock readings, returns the
  same plan and statistics; its Mersenne Twister matches ``random.Random``.
"""

from __future__ import annotations

import dataclasses
import math
import random
import types

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial import Delaunay

from territory_engine.problem.arrays import grid_problem, problem_from_arrays
from territory_engine.problem.data import ProblemData, count_cut_edges
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.search import anneal, kernels
from territory_engine.solve.search import local as local_search
from territory_engine.solve.search.local import LocalSearch

from .test_incremental_delta import _violation

TERMS = {"travel": 1.0, "compactness": 0.7, "disruption": 0.4, "relationships": 0.3}


def _graph(rng: np.random.Generator, n: int, kind: str) -> tuple[np.ndarray, sp.csr_matrix]:
    """Coordinates (lon, lat) and a symmetric adjacency: a rook grid or a Delaunay graph."""
    if kind == "grid":
        cols = int(math.sqrt(n))
        rows = n // cols
        n = rows * cols
        r, c = np.divmod(np.arange(n), cols)
        xy = np.column_stack([c * 0.1, r * 0.1]) + rng.normal(0, 0.01, (n, 2))
        right = np.flatnonzero(c < cols - 1)
        down = np.flatnonzero(r < rows - 1)
        i = np.concatenate([right, down])
        j = np.concatenate([right + 1, down + cols])
    else:
        xy = rng.uniform(0, 1.5, (n, 2))
        tri = Delaunay(xy).simplices
        e = np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]])
        e = np.unique(np.sort(e, axis=1), axis=0)
        i, j = e[:, 0], e[:, 1]
    adj = sp.csr_matrix((np.ones(len(i), bool), (i, j)), shape=(n, n))
    return xy, (adj + adj.T).tocsr()


def _instance(
    seed: int,
    *,
    n: int = 64,
    k: int = 4,
    m: int = 2,
    kind: str = "grid",
    contiguity: bool = True,
    planar: bool = False,
    power: float = 1.0,
    terms: dict[str, float] | None = None,
    cap: float | None = 0.4,
    locks: int = 3,
    isolated: int = 2,
) -> ProblemData:
    """A random instance with current owners, rep proximity, locks and isolated units."""
    rng = np.random.default_rng(seed)
    xy, adj = _graph(rng, n, kind)
    n = adj.shape[0]
    # Units without neighbours (a locked account, a family) are exempt from contiguity.
    lonely = rng.choice(n, size=isolated, replace=False)
    keep = np.ones(n, bool)
    keep[lonely] = False
    adj = sp.diags(keep.astype(float)) @ adj @ sp.diags(keep.astype(float))
    adj = sp.csr_matrix(adj, dtype=bool)
    adj.eliminate_zeros()
    weights = np.column_stack(
        [rng.lognormal(0, 0.7, n), rng.uniform(1, 3, n), rng.integers(0, 3, n).astype(float)][:m]
    )
    centres = xy[rng.choice(n, size=k, replace=False)] + rng.normal(0, 0.02, (k, 2))
    locked = np.full(n, -1)
    if locks:
        locked[rng.choice(n, size=locks, replace=False)] = rng.integers(0, k, locks)
    p = problem_from_arrays(
        weights,
        xy,
        adj,
        centres=centres,
        tolerance=[0.05, 0.10, 0.2][:m],
        locked=locked,
        contiguity=contiguity,
        objective_weights=TERMS if terms is None else terms,
    )
    owner = rng.integers(0, k, n)
    second = rng.integers(0, k, n)
    share = rng.uniform(0.5, 1.0, n)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([owner, second])
    owned = sp.csr_matrix(
        (np.concatenate([share, 1 - share]) * np.tile(p.unit_potential, 2), (rows, cols)),
        shape=(n, k),
    )
    counts = sp.csr_matrix((np.ones(2 * n), (rows, cols)), shape=(n, k))
    close = sp.random(n, k, density=0.4, random_state=seed, format="csr")
    return dataclasses.replace(
        p,
        current=owner,
        owned_potential=owned,
        owned_count=counts,
        affinity=close.multiply(p.unit_potential[:, None]).tocsr(),
        max_moved_potential=None if cap is None else cap * float(p.unit_potential.sum()),
        planar=planar,
        travel_power=power,
    )


def _start(p: ProblemData, seed: int, voronoi: bool) -> np.ndarray:
    """Nearest-centre (near-contiguous) or random start, locks respected."""
    rng = np.random.default_rng(seed)
    if voronoi:
        d = ((p.xy[:, None, :] - p.centres[None, :, :]) ** 2).sum(axis=2)
        a = d.argmin(axis=1)
    else:
        a = rng.integers(0, p.n_territories, p.n_units)
    return np.where(p.locked >= 0, p.locked, a)


def _search(p: ProblemData, a: np.ndarray) -> LocalSearch:
    costs = CostModel(p, p.centres)
    return LocalSearch(p, costs, a, nearest_candidates(p, p.centres, min(3, p.n_territories)))


def _state(s: LocalSearch) -> tuple:
    """Everything a pass changes, with each member set's iteration order."""
    return (
        s.assign,
        s.loads,
        s.viol_t,
        s.size,
        s.moved,
        s.moves,
        [list(x) for x in s.members],
    )


CASES = [
    # (seed, keywords)
    (0, {}),
    (1, {"kind": "delaunay", "planar": True, "power": 2.0}),
    (2, {"contiguity": False, "m": 1}),
    (3, {"kind": "delaunay", "contiguity": False, "m": 3, "planar": True}),
    (4, {"m": 3, "power": 1.5, "cap": 0.05}),
    (5, {"kind": "delaunay", "cap": None, "locks": 0, "isolated": 0}),
    (6, {"terms": {"travel": 1.0}, "m": 1}),
    (7, {"terms": {"compactness": 1.0}, "kind": "delaunay", "planar": True}),
    (8, {"terms": {"disruption": 1.0, "relationships": 1.0}, "contiguity": False}),
]


def _kernel_delta(s: LocalSearch, i: int, t: int) -> tuple[float, float]:
    kd = s._kernel_data()
    return kernels.move_delta(
        i, t, kd["indptr"], kd["indices"], kd["w"], kd["lo"], kd["hi"], kd["tau"],
        kd["own_ptr"], kd["own_idx"], kd["own_val"], kd["cl_ptr"], kd["cl_idx"], kd["cl_val"],
        kd["tw"], kd["xy"], kd["z"], kd["params"], kd["flags"],
        np.array(s.assign, dtype=np.int64), np.array(s.loads).reshape(s.k, s.m),
        np.array(s.viol_t), float(s.moved),
    )  # fmt: skip


@pytest.mark.parametrize(("seed", "kw"), CASES)
def test_kernel_delta_equals_python_delta_and_the_full_recomputation(seed, kw):
    p = _instance(seed, **kw)
    costs = CostModel(p, p.centres)
    rng = np.random.default_rng(100 + seed)
    search = _search(p, _start(p, seed, voronoi=False))
    k = p.n_territories
    for _ in range(150):
        before = np.asarray(search.assign)
        i = int(rng.integers(p.n_units))
        t = int(rng.choice([u for u in range(k) if u != before[i]]))
        dv, df = search.delta(i, t)
        assert _kernel_delta(search, i, t) == (dv, df)  # bit for bit
        after = before.copy()
        after[i] = t
        v0, v1 = _violation(p, costs, before), _violation(p, costs, after)
        f0, f1 = costs.objective(before)["total"], costs.objective(after)["total"]
        assert dv == pytest.approx(v1 - v0, rel=1e-9, abs=1e-9)
        assert df == pytest.approx(f1 - f0, rel=1e-9, abs=1e-9)
        if rng.random() < 0.5:
            search.apply(i, t)


@pytest.mark.parametrize(("seed", "kw"), CASES)
@pytest.mark.parametrize("lam", [math.inf, 1.0, 1e3])
def test_one_compiled_pass_equals_the_python_pass(seed, kw, lam):
    p = _instance(seed, **kw)
    start = _start(p, seed, voronoi=p.contiguity)
    ref, fast = _search(p, start), _search(p, start)
    for q in range(3):  # three passes: the later ones start from a moved state
        r = ref.single_pass(np.random.default_rng(q), math.inf, lam, compiled=False)
        f = fast.single_pass(np.random.default_rng(q), math.inf, lam, compiled=True)
        assert r == f
        assert _state(ref) == _state(fast)


def test_compiled_pass_moves_equal_the_reference_moves_one_by_one():
    # Every move the kernel takes is the move the reference takes at that step:
    # the running totals after it equal apply()'s, and its delta the Python one.
    p = _instance(11, kind="delaunay", n=90, planar=True)
    start = _start(p, 11, voronoi=True)
    ref, fast = _search(p, start), _search(p, start)
    moves = []
    original = ref.apply

    def logged(i: int, t: int) -> None:
        moves.append((i, ref.assign[i], t, ref.delta(i, t), _kernel_delta(ref, i, t)))
        original(i, t)

    ref.apply = logged  # type: ignore[method-assign]
    ref.single_pass(np.random.default_rng(3), math.inf, 1.0, compiled=False)
    fast.single_pass(np.random.default_rng(3), math.inf, 1.0, compiled=True)
    kd = fast._kernel_data()
    assert moves and len(moves) == fast.moves
    assert [(i, s, t) for i, s, t, _, _ in moves] == list(
        zip(
            kd["log_i"][: len(moves)].tolist(),
            kd["log_s"][: len(moves)].tolist(),
            kd["log_t"][: len(moves)].tolist(),
            strict=True,
        )
    )
    assert all(py == kern for *_, py, kern in moves)


def test_border_scan_and_deadline(monkeypatch):
    # The border-only scan of large instances (lowered threshold) and a
    # deadline already passed behave as in the reference.
    monkeypatch.setattr(local_search, "BORDER_SCAN_FROM_UNITS", 10)
    p = _instance(12, n=100)
    start = _start(p, 12, voronoi=True)
    ref, fast = _search(p, start), _search(p, start)
    kd = fast._kernel_data()
    mask = kernels.movable_mask(kd["indptr"], kd["indices"], np.array(start, dtype=np.int64))
    assert mask.tolist() == ref._movable_mask().tolist()
    for q in range(3):
        r = ref.single_pass(np.random.default_rng(q), math.inf, 4.0, compiled=False)
        f = fast.single_pass(np.random.default_rng(q), math.inf, 4.0, compiled=True)
        assert r == f and _state(ref) == _state(fast)
    assert fast.single_pass(np.random.default_rng(0), -math.inf, compiled=True) is None
    assert ref.single_pass(np.random.default_rng(0), -math.inf, compiled=False) is None
    assert _state(ref) == _state(fast)


# Cases whose run stops without the clock (case 4, whose cap cannot be met,
# alternates between repair moves and their undoing until the deadline).
@pytest.mark.parametrize(("seed", "kw"), [CASES[q] for q in (0, 1, 3, 5, 8)])
def test_whole_run_ends_at_the_same_plan(seed, kw):
    p = _instance(seed, n=100, **kw)
    start = _start(p, seed, voronoi=p.contiguity)
    ends = []
    for compiled in (False, True):
        s = _search(p, start)
        s.compiled = compiled
        stop = s.run(np.random.default_rng(seed), math.inf)
        ends.append((stop, _state(s)))
    assert ends[0] == ends[1]


def test_small_instances_stay_in_python_by_default():
    p = _instance(0)
    s = _search(p, _start(p, 0, voronoi=True))
    assert s.compiled is None and s.n < s.compile_from_units
    s.single_pass(np.random.default_rng(0), math.inf)
    assert s._kd is None  # the kernel data was never built


@pytest.mark.parametrize("planar", [True, False])
@pytest.mark.parametrize("power", [1.0, 2.0, 1.5, 2])
def test_kernel_distances_equal_the_reference_bit_for_bit(planar, power):
    rng = np.random.default_rng(int(power * 10) + planar)
    n = 20_000
    if planar:
        xy = rng.uniform(-50, 50, (n, 2))
    else:
        xy = np.column_stack([rng.uniform(-180, 180, n), rng.uniform(-89, 89, n)])
    z = xy[rng.permutation(n)] + rng.normal(0, 0.3, (n, 2))
    z[:50] = xy[:50]  # zero distances
    fake = types.SimpleNamespace(xy=xy.tolist(), z=z.tolist(), planar=planar, power=power)
    ref = [LocalSearch._dist_uncached(fake, i, i) for i in range(n)]  # type: ignore[arg-type]
    out = kernels.travel_dists(xy, z, np.arange(n), np.arange(n), planar, float(power), 2.0)
    assert out.tolist() == ref


def test_py_hypot_is_cpythons_hypot():
    rng = np.random.default_rng(0)
    a = np.concatenate(
        [
            rng.uniform(-20, 20, 20_000),
            np.round(rng.uniform(-17, 17, 20_000), 1),
            rng.standard_normal(5_000) * 10.0 ** rng.uniform(-300, 300, 5_000),
            rng.standard_normal(1_000) * 1e-310,
            [0.0, -0.0, math.inf, math.nan, 3.0, math.inf, -3.5000000000000013],
        ]
    )
    b = np.concatenate(
        [
            rng.uniform(-20, 20, 20_000),
            np.round(rng.uniform(-17, 17, 20_000), 1),
            rng.standard_normal(5_000) * 10.0 ** rng.uniform(-300, 300, 5_000),
            rng.standard_normal(1_000) * 1e-312,
            [0.0, 0.0, math.nan, math.inf, 4.0, 1.0, -8.400000000000002],
        ]
    )
    out = [kernels.py_hypot(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    ref = [math.hypot(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    assert [x for x in out if x == x] == [x for x in ref if x == x]
    assert [x != x for x in out] == [x != x for x in ref]


def test_mersenne_twister_matches_random_random():
    r = random.Random(12345)
    state = r.getstate()[1]
    mt = np.array(state[:624], dtype=np.int64)
    ist = np.zeros(7, dtype=np.int64)
    ist[kernels.A_MT_INDEX] = state[624]
    ref = random.Random(12345)
    for n in [*range(1, 700), 2**20 + 7, 2**31 - 1, 2**32 - 1]:
        assert kernels.mt_randbelow(mt, ist, n) == ref.randrange(n)
        assert kernels.mt_random(mt, ist) == ref.random()


class _FakeTime:
    """A clock that advances by ``dt`` at every reading (both paths read it alike)."""

    def __init__(self, dt: float) -> None:
        self.now, self.dt = 0.0, dt

    def perf_counter(self) -> float:
        self.now += self.dt
        return self.now


def _anneal_case(name: str) -> tuple[ProblemData, np.ndarray]:
    if name == "tight":
        p = grid_problem(8, 9, n_territories=3, tolerance=0.03, contiguity=True)
        a = np.repeat(np.arange(3), 24)
        return p, a
    if name == "locks":
        p = grid_problem(10, 10, n_territories=4, tolerance=0.08, contiguity=True)
        r, c = np.divmod(np.arange(100), 10)
        a = 2 * (r >= 5) + (c >= 5)
        locked = np.full(100, -1)
        locked[[0, 9, 90, 99]] = a[[0, 9, 90, 99]]
        return dataclasses.replace(p, locked=locked), a
    # Two measures, one that starts infeasible, with eligibility groups.
    rng = np.random.default_rng(3)
    w = np.column_stack([rng.uniform(0.5, 1.5, 81), rng.uniform(0.5, 1.5, 81)])
    p = grid_problem(9, 9, n_territories=3, weights=w, tolerance=0.05, contiguity=True)
    r, c = np.divmod(np.arange(81), 9)
    a = np.minimum(c // 3, 2)
    a[(r == 0) & (c == 3)] = 0  # a bulge
    unit_group = np.zeros(81, dtype=p.unit_group.dtype)
    unit_group[c == 8] = 1
    territory_group = np.array([0, 0, 0], dtype=p.territory_group.dtype)
    return dataclasses.replace(p, unit_group=unit_group, territory_group=territory_group), a


@pytest.mark.parametrize("name", ["tight", "locks", "groups"])
@pytest.mark.parametrize("seed", [0, 5])
def test_anneal_compiled_equals_python(monkeypatch, name, seed):
    p, start = _anneal_case(name)
    results = []
    for compiled in (False, True):
        # The clock decides the temperature and the stop: give both the same readings.
        monkeypatch.setattr(anneal, "time", _FakeTime(4e-3))
        out, stats = anneal.anneal_cut_edges(p, start, seconds=1.0, seed=seed, compiled=compiled)
        results.append((out.tolist(), stats))
    assert results[0] == results[1]
    out, stats = results[1]
    assert stats["moves"] > 30_000 and stats["accepted"] > 0
    assert stats["cut"] == count_cut_edges(p.adjacency, np.asarray(out)) or not stats["feasible"]


def test_moves_made_in_python_between_compiled_passes_are_seen():
    # apply() outside the kernel (repairs, reset) changes territories: the
    # kernel's remembered contiguity failures must not outlive them.
    p = _instance(13, n=100, kind="delaunay")
    start = _start(p, 13, voronoi=True)
    other = _start(p, 14, voronoi=False)
    ref, fast = _search(p, start), _search(p, start)
    rng = np.random.default_rng(0)
    for q in range(6):
        for s in (ref, fast):
            s.single_pass(np.random.default_rng(q), math.inf, 1.0, compiled=s is fast)
        assert _state(ref) == _state(fast)
        units = rng.choice(p.n_units, size=10, replace=False)
        for s in (ref, fast):
            for i in units.tolist():
                if s.locked[i] < 0:
                    s.apply(i, int(other[i]))
