"""Nearest centres without the whole (unit, centre) distance matrix: blocks and the k-d tree."""

from __future__ import annotations

import numpy as np
import pytest

import territory_engine.problem.data as data
from territory_engine.problem.arrays import problem_from_arrays


def _problem(n: int = 700, seed: int = 0):
    rng = np.random.default_rng(seed)
    # Lon/lat over the lower 48, so great-circle and plane orders differ.
    xy = np.column_stack([rng.uniform(-124, -67, n), rng.uniform(25, 49, n)])
    return problem_from_arrays(rng.uniform(1, 2, n), xy, None, n_territories=4)


def test_blocks_hold_the_same_numbers_as_the_whole_matrix():
    p = _problem()
    centres = p.xy[:37]
    units = np.arange(p.n_units)[::-1]
    whole = p.distances_to(centres, units)
    pieces = list(p.distance_blocks(centres, units, max_cells=37 * 50))
    assert len(pieces) == 14  # 700 rows in blocks of 50
    np.testing.assert_array_equal(np.vstack([d for _, d in pieces]), whole)


@pytest.mark.parametrize("q", [1, 5, 37])
def test_the_kd_tree_finds_the_centres_the_matrix_finds(monkeypatch, q):
    p = _problem()
    centres = p.xy[:37] + 0.01
    units = np.arange(p.n_units)
    whole = p.distances_to(centres, units)
    index, dist = p.nearest_centres(centres, units, q)
    expect = np.sort(whole, axis=1)[:, :q]
    np.testing.assert_array_equal(dist, expect)
    np.testing.assert_array_equal(np.take_along_axis(whole, index, axis=1), expect)
    monkeypatch.setattr(data, "KDTREE_MIN_PAIRS", 0)
    tree_index, tree_dist = p.nearest_centres(centres, units, q)
    np.testing.assert_array_equal(tree_index, index)
    np.testing.assert_allclose(tree_dist, expect, rtol=1e-12)


def test_travel_times_rank_the_centres_when_given(monkeypatch):
    from dataclasses import replace

    p = _problem(n=50)
    rng = np.random.default_rng(1)
    minutes = rng.uniform(5, 90, (p.n_units, 4))
    timed = replace(p, travel_cost=minutes)
    monkeypatch.setattr(data, "KDTREE_MIN_PAIRS", 0)  # never the tree with travel times
    index, dist = timed.nearest_centres(p.xy[:4], np.arange(50), 2, np.array([0, 2, 3]))
    expect = np.sort(minutes[:, [0, 2, 3]], axis=1)[:, :2]
    np.testing.assert_array_equal(dist, expect)
    np.testing.assert_array_equal(np.take_along_axis(minutes[:, [0, 2, 3]], index, axis=1), expect)
