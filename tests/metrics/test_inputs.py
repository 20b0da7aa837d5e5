"""The one assembly of ScoringInputs: measures, values, fair shares, bands."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import shapely

from territory_engine.config.scenario import BandConfig
from territory_engine.metrics.inputs import account_values, plan_scoring_inputs, scored_measures
from territory_engine.problem.arrays import problem_from_arrays
from territory_engine.problem.build import ProblemIndex

BALANCE = {"potential": BandConfig(tolerance=0.1), "accounts": BandConfig(low=1.0, high=3.0)}


def _plan():
    """Four accounts in four units, two territories (capacity 1 and 0.5), one group."""
    accounts = gpd.GeoDataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "potential": [10.0, 30.0, 20.0, 5.0],
            "current_rep_id": ["R1", "R1", "R2", ""],
        },
        geometry=[shapely.Point(-84.0 - i / 10, 33.0) for i in range(4)],
        crs="EPSG:4326",
    )
    xy = np.column_stack([np.arange(4) * 0.1, np.zeros(4)])
    problem = problem_from_arrays(np.ones(4), xy, None, centres=xy[[0, 3]])
    index = ProblemIndex(
        account_unit=np.arange(4),
        unit_geo_id=np.array(["u0", "u1", "u2", "u3"]),
        unit_group_name=np.array(["all"] * 4),
        territory_rep=("R1", "R2"),
        rep_territory={"R1": 0, "R2": 1},
        exception_unit=np.zeros(4, dtype=bool),
    )
    kwargs = {
        "territory_ids": ["T-R1", "T-R2"],
        "territory_rep": ["R1", "R2"],
        "territory_group": np.zeros(2, dtype=int),
        "capacity": np.array([1.0, 0.5]),
        "account_territory": np.array([0, 0, 1, 1]),
        "unit_territory": np.array([0, 0, 1, 1]),
        "centres": xy[[0, 3]],
    }
    return accounts, problem, index, kwargs


def test_measures_are_the_balance_then_potential_once():
    assert scored_measures(BALANCE) == ["potential", "accounts"]
    assert scored_measures({"accounts": BandConfig(tolerance=0.1)}) == ["accounts", "potential"]


def test_account_values_count_accounts_as_one():
    accounts, *_ = _plan()
    np.testing.assert_array_equal(
        account_values(accounts, ["accounts", "potential"]),
        [[1.0, 10.0], [1.0, 30.0], [1.0, 20.0], [1.0, 5.0]],
    )


def test_bands_come_from_the_accounts_fair_shares_scaled_by_capacity():
    accounts, problem, index, kwargs = _plan()
    inputs = plan_scoring_inputs(accounts, None, problem, index, BALANCE, **kwargs)
    assert inputs.measure_names == ["potential", "accounts"]
    # Potential 65 and 4 accounts, split 2/3 : 1/3 by capacity.
    np.testing.assert_allclose(inputs.fair_share, [[65 * 2 / 3, 8 / 3], [65 / 3, 4 / 3]])
    np.testing.assert_allclose(inputs.lower[:, 0], inputs.fair_share[:, 0] * 0.9)
    np.testing.assert_allclose(inputs.upper[:, 0], inputs.fair_share[:, 0] * 1.1)
    np.testing.assert_array_equal(inputs.lower[:, 1], [1.0, 0.5])
    np.testing.assert_array_equal(inputs.upper[:, 1], [3.0, 1.5])
    assert inputs.tie_rep is None and inputs.account_family is None
    assert list(inputs.account_ids) == ["A1", "A2", "A3", "A4"]
    assert inputs.unit_adjacency is problem.adjacency


def test_given_bounds_are_kept_and_extra_measures_have_no_band():
    accounts, problem, index, kwargs = _plan()
    lower, upper = np.full((2, 1), 7.0), np.full((2, 1), 9.0)
    inputs = plan_scoring_inputs(
        accounts,
        None,
        problem,
        index,
        {"accounts": BandConfig(tolerance=0.5)},
        bounds=(lower, upper),
        **kwargs,
    )
    assert inputs.measure_names == ["accounts", "potential"]
    np.testing.assert_array_equal(inputs.lower, [[7.0, -np.inf], [7.0, -np.inf]])
    np.testing.assert_array_equal(inputs.upper, [[9.0, np.inf], [9.0, np.inf]])


def test_given_relationship_arrays_are_used_as_given():
    accounts, problem, index, kwargs = _plan()
    family = np.array(["A1", "A1", "A3", "A4"])
    social = {"account_proximity": None, "account_kept": None, "account_family": family}
    inputs = plan_scoring_inputs(
        accounts, None, problem, index, BALANCE, relationships=social, **kwargs
    )
    assert inputs.account_family is family
    with pytest.raises(dataclasses.FrozenInstanceError):
        inputs.account_family = None  # type: ignore[misc]
