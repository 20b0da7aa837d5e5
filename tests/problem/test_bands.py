"""Fair shares and balance bands on hand-made cases (tolerance, absolute, capacity)."""

from __future__ import annotations

import numpy as np
import pytest

from territory_engine.config.scenario import BandConfig
from territory_engine.problem.bands import band_bounds, fair_shares

# Two groups: territories 0 and 1 (capacity 1 and 0.5) share group 0, territory 2 is
# alone in group 1. Columns: potential, accounts.
VALUES = np.array([[10.0, 1.0], [30.0, 1.0], [20.0, 1.0], [5.0, 1.0]])
ITEM_GROUP = np.array([0, 0, 0, 1])
TERRITORY_GROUP = np.array([0, 0, 1])
CAPACITY = np.array([1.0, 0.5, 1.0])


def test_fair_shares_split_each_group_total_by_capacity():
    fair = fair_shares(VALUES, ITEM_GROUP, TERRITORY_GROUP, CAPACITY)
    # Group 0 holds potential 60 and 3 accounts: 2/3 and 1/3 of them by capacity.
    np.testing.assert_allclose(fair, [[40.0, 2.0], [20.0, 1.0], [5.0, 1.0]])


def test_relative_band_is_the_fair_share_times_one_plus_minus_tolerance():
    fair = fair_shares(VALUES, ITEM_GROUP, TERRITORY_GROUP, CAPACITY)
    lower, upper = band_bounds(fair, [BandConfig(tolerance=0.1)] * 2, CAPACITY)
    np.testing.assert_allclose(lower, fair * 0.9)
    np.testing.assert_allclose(upper, fair * 1.1)
    # The same float operations as before the bands had one home: exact, not approximate.
    assert np.array_equal(lower[:, 0], fair[:, 0] * (1 - 0.1))
    assert np.array_equal(upper[:, 0], fair[:, 0] * (1 + 0.1))


def test_absolute_bands_scale_with_capacity_and_open_sides_stay_open():
    fair = fair_shares(VALUES, ITEM_GROUP, TERRITORY_GROUP, CAPACITY)
    bands = [BandConfig(low=10.0, high=50.0), BandConfig(high=3.0)]
    lower, upper = band_bounds(fair, bands, CAPACITY)
    np.testing.assert_array_equal(lower[:, 0], [10.0, 5.0, 10.0])
    np.testing.assert_array_equal(upper[:, 0], [50.0, 25.0, 50.0])
    np.testing.assert_array_equal(lower[:, 1], [-np.inf] * 3)  # no low: no bound
    np.testing.assert_array_equal(upper[:, 1], [3.0, 1.5, 3.0])
    # The solver's problem floors an open low at 0 (a load is never negative).
    lower0, upper0 = band_bounds(fair, bands, CAPACITY, open_low=0.0)
    np.testing.assert_array_equal(lower0[:, 1], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(upper0, upper)


def test_low_only_band_has_no_upper_bound():
    lower, upper = band_bounds(np.zeros((2, 1)), [BandConfig(low=4.0)], np.array([1.0, 2.0]))
    np.testing.assert_array_equal(lower[:, 0], [4.0, 8.0])
    assert np.isinf(upper).all()


def test_mixed_bands_fill_their_own_columns():
    fair = fair_shares(VALUES, ITEM_GROUP, TERRITORY_GROUP, np.ones(3))
    lower, upper = band_bounds(
        fair, [BandConfig(tolerance=0.5), BandConfig(low=1, high=2)], np.ones(3)
    )
    assert lower[:, 0] == pytest.approx([15.0, 15.0, 2.5])
    assert upper[:, 0] == pytest.approx([45.0, 45.0, 7.5])
    np.testing.assert_array_equal(lower[:, 1], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(upper[:, 1], [2.0, 2.0, 2.0])
