"""Values kept per live object: computed once, recomputed for a new object, dropped with it."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from territory_engine.problem.arrays import problem_from_arrays
from territory_engine.problem.memo import per_object
from territory_engine.solve.seeds.power import combined_weights, relative_weights


class _Box:
    """A plain object that can be weakly referenced."""


def test_computed_once_per_object_and_again_for_an_equal_new_one():
    calls = []

    @per_object(kept=4)
    def value(obj):
        calls.append(obj)
        return len(calls)

    a, b = _Box(), _Box()
    assert value(a) == 1
    assert value(a) == 1
    assert value(b) == 2
    assert value(a) == 1
    assert len(calls) == 2


def test_an_entry_goes_with_its_object_and_the_cache_is_bounded():
    calls = []

    @per_object(kept=2)
    def value(obj):
        calls.append(1)
        return len(calls)

    boxes = [_Box() for _ in range(3)]
    for box in boxes:
        value(box)
    # The first box was evicted (at most two kept): asking again recomputes.
    assert value(boxes[0]) == 4
    del boxes
    gc.collect()
    fresh = _Box()
    assert value(fresh) == 5


def test_relative_weights_are_shared_and_read_only():
    rng = np.random.default_rng(0)
    problem = problem_from_arrays(rng.random((20, 2)), rng.random((20, 2)), None, n_territories=4)
    rel, target = relative_weights(problem)
    assert relative_weights(problem)[0] is rel
    s, big_s = combined_weights(problem)
    np.testing.assert_allclose(s, rel.mean(axis=1))
    np.testing.assert_allclose(big_s, target.mean(axis=1))
    with pytest.raises(ValueError):
        rel[0, 0] = 1.0
    with pytest.raises(ValueError):
        s[0] = 1.0
