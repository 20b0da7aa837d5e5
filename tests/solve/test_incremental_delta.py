"""Local search: the incremental move evaluation agrees with the objective recomputed in full.

``LocalSearch.delta(i, t)`` returns ``(ΔV, Δf)`` in O(m + deg(i)). Here, for
many random moves on a small random instance with every objective term and
a binding disruption cap, both are compared with the difference of ``V`` and
of ``f`` (:meth:`CostModel.objective`) computed from scratch before and after.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from territory_engine.problem.arrays import grid_problem
from territory_engine.problem.data import ProblemData
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.search.local import LocalSearch

ROWS, COLS, K = 6, 7, 4


def _instance(seed: int, *, planar: bool, power: float) -> ProblemData:
    """A 6 x 7 grid, two measures, current owners, rep proximity and a disruption cap."""
    rng = np.random.default_rng(seed)
    n = ROWS * COLS
    weights = np.column_stack([rng.lognormal(0, 0.7, n), rng.uniform(1, 3, n)])
    centres = np.column_stack([rng.uniform(0, 0.6, K), rng.uniform(0, 0.5, K)])
    p = grid_problem(ROWS, COLS, weights=weights, centres=centres, tolerance=[0.05, 0.10])
    # Each unit's accounts belong to one or two current owners.
    owner = rng.integers(0, K, n)
    second = rng.integers(0, K, n)
    share = rng.uniform(0.5, 1.0, n)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([owner, second])
    owned = sp.csr_matrix(
        (np.concatenate([share, 1 - share]) * np.tile(p.unit_potential, 2), (rows, cols)),
        shape=(n, K),
    )
    counts = sp.csr_matrix((np.ones(2 * n), (rows, cols)), shape=(n, K))
    close = sp.random(n, K, density=0.4, random_state=seed, format="csr")
    affinity = close.multiply(p.unit_potential[:, None]).tocsr()
    return dataclasses.replace(
        p,
        current=owner,
        owned_potential=owned,
        owned_count=counts,
        affinity=affinity,
        max_moved_potential=0.5 * float(p.unit_potential.sum()),
        objective_weights={
            "travel": 1.0,
            "compactness": 0.7,
            "disruption": 0.4,
            "relationships": 0.3,
        },
        planar=planar,
        travel_power=power,
    )


def _violation(p: ProblemData, costs: CostModel, assign: np.ndarray) -> float:
    """``V`` from scratch: relative band excess plus the relative excess over the cap."""
    loads = np.zeros((p.n_territories, p.n_measures))
    np.add.at(loads, assign, p.weights)
    target = np.where(np.isfinite(p.upper), (p.lower + p.upper) / 2, p.lower)
    tau = np.where(target > 0, target, 1.0)
    excess = np.maximum(p.lower - loads, 0.0) + np.maximum(loads - p.upper, 0.0)
    v = float((excess / tau).sum())
    cap = p.max_moved_potential
    moved = float(costs.moved_potential(np.arange(p.n_units), assign).sum())
    if cap is not None and moved > cap:
        v += (moved - cap) / max(cap, 1e-9 * costs.total_potential, 1e-9)
    return v


@pytest.mark.parametrize(("seed", "planar", "power"), [(0, False, 1.0), (1, True, 2.0)])
def test_move_delta_matches_the_full_recomputation(seed, planar, power):
    p = _instance(seed, planar=planar, power=power)
    costs = CostModel(p, p.centres)
    rng = np.random.default_rng(100 + seed)
    start = rng.integers(0, K, p.n_units)
    search = LocalSearch(p, costs, start, nearest_candidates(p, p.centres, K))
    assert costs.w_compact and costs.w_disrupt and costs.w_relation  # every term is on
    cap_active = 0
    for _ in range(300):
        before = np.asarray(search.assign)
        i = int(rng.integers(p.n_units))
        t = int(rng.choice([u for u in range(K) if u != before[i]]))
        dv, df = search.delta(i, t)
        after = before.copy()
        after[i] = t
        v0, v1 = _violation(p, costs, before), _violation(p, costs, after)
        f0, f1 = costs.objective(before)["total"], costs.objective(after)["total"]
        assert dv == pytest.approx(v1 - v0, rel=1e-9, abs=1e-9)
        assert df == pytest.approx(f1 - f0, rel=1e-9, abs=1e-9)
        cap_active += search.moved > p.max_moved_potential
        # Walk on (take about half of the moves) so the states vary.
        if rng.random() < 0.5:
            search.apply(i, t)
            assert search.violation() == pytest.approx(v1, rel=1e-9, abs=1e-9)
    assert cap_active > 0  # the cap term was exercised, not only the bands


def test_running_totals_survive_a_reset():
    p = _instance(2, planar=False, power=1.0)
    costs = CostModel(p, p.centres)
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, K, p.n_units), rng.integers(0, K, p.n_units)
    search = LocalSearch(p, costs, a, nearest_candidates(p, p.centres, K))
    search.reset(b.tolist())
    fresh = LocalSearch(p, costs, b, nearest_candidates(p, p.centres, K))
    assert search.violation() == pytest.approx(fresh.violation(), rel=1e-9, abs=1e-12)
    assert search.violation() == pytest.approx(_violation(p, costs, b), rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(search.loads, fresh.loads, rtol=1e-12, atol=1e-9)
