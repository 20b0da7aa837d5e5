"""Scorecard additions on hand-computed values: attainment, compactness, retention, equity."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from pyproj import Geod, Transformer

from territory_engine.metrics import (
    AttainmentModel,
    attainment_summary,
    compactness_stats,
    disruption,
    expected_sales,
    local_equal_area_crs,
    polsby_popper,
    probability_at_or_above,
    quota_equity,
    relationship_retention,
    simulate_attainment,
)
from territory_engine.metrics.scorecard import pieces_through_empty_units

# --------------------------------------------------------------------------- attainment


def test_simulation_is_deterministic_by_seed():
    q, e = np.array([100.0, 200.0, 50.0]), np.array([110.0, 180.0, 50.0])
    a = simulate_attainment(q, e, 0.2, draws=500, seed=7)
    b = simulate_attainment(q, e, 0.2, draws=500, seed=7)
    c = simulate_attainment(q, e, 0.2, draws=500, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_without_variation_everyone_attains_expected_sales_over_quota():
    q, e = np.array([100.0, 200.0, 50.0, 0.0]), np.array([110.0, 180.0, 50.0, 5.0])
    sim = simulate_attainment(q, e, 0.0, draws=20, seed=1)
    np.testing.assert_allclose(sim[:, :3], np.tile([1.1, 0.9, 1.0], (20, 1)))
    assert np.isnan(sim[:, 3]).all()  # no quota, no attainment
    summary = attainment_summary(q, AttainmentModel(e, cv=0.0, draws=20), ["a", "b", "c", "d"])
    assert summary["share_at_or_above_100"] == pytest.approx(2 / 3)  # 1.1 and exactly 1.0
    assert summary["by_territory"]["d"] is None
    assert summary["flag"] == ""  # 2/3 is inside the default healthy band, 60–70 %
    narrow = AttainmentModel(e, cv=0.0, draws=20, healthy_low=0.55, healthy_high=0.65)
    assert attainment_summary(q, narrow, ["a", "b", "c", "d"])["flag"] == "high"


def test_simulated_mean_and_share_match_the_lognormal_model():
    rng = np.random.default_rng(0)
    q = rng.uniform(50, 150, 40)
    e = q * rng.uniform(0.8, 1.2, 40)
    sim = simulate_attainment(q, e, 0.25, draws=20_000, seed=3)
    # E[a_i] = E_i / q_i, and the share at or above 100 % matches the closed form.
    np.testing.assert_allclose(sim.mean(axis=0), e / q, rtol=0.01)
    exact = probability_at_or_above(q, e, 0.25)
    np.testing.assert_allclose((sim >= 1).mean(axis=0), exact, atol=0.015)
    cv = sim.std(axis=0) / sim.mean(axis=0)
    np.testing.assert_allclose(cv, 0.25, rtol=0.05)


def test_correlation_widens_the_spread_of_the_share_not_its_mean():
    q, e = np.full(50, 100.0), np.full(50, 100.0)
    independent = (simulate_attainment(q, e, 0.2, draws=4000, seed=5) >= 1).mean(axis=1)
    shared = (simulate_attainment(q, e, 0.2, correlation=0.8, draws=4000, seed=5) >= 1).mean(axis=1)
    assert shared.mean() == pytest.approx(independent.mean(), abs=0.03)
    assert shared.std() > 3 * independent.std()


def test_healthy_band_flags_low_and_high():
    q = np.full(10, 100.0)
    low = attainment_summary(
        q, AttainmentModel(np.full(10, 80.0), cv=0.1, seed=1), list("abcdefghij")
    )
    ok = attainment_summary(
        q, AttainmentModel(np.full(10, 104.0), cv=0.1, seed=1), list("abcdefghij")
    )
    assert low["flag"] == "low" and not low["in_healthy_band"]
    assert ok["flag"] == "" and ok["in_healthy_band"], ok["share_at_or_above_100"]


def test_expected_sales_from_capture_or_growth_and_ramp():
    p, s, r = np.array([100.0, 200.0]), np.array([30.0, 50.0]), np.array([1.0, 0.5])
    np.testing.assert_allclose(expected_sales(p, s, r, capture=0.4), [40, 40])
    np.testing.assert_allclose(expected_sales(p, s, r, growth=0.1), [33, 27.5])


# --------------------------------------------------------------------------- compactness


def test_polsby_popper_of_a_square_is_pi_over_four():
    assert polsby_popper([shapely.box(0, 0, 10, 10)])[0] == pytest.approx(np.pi / 4)


def test_polsby_popper_of_a_circle_is_about_one():
    circle = shapely.Point(0, 0).buffer(1000, quad_segs=256)
    assert polsby_popper([circle])[0] == pytest.approx(1.0, abs=1e-4)


def test_polsby_popper_of_a_long_rectangle_and_an_empty_territory():
    pp = polsby_popper([shapely.box(0, 0, 1, 10), None])
    assert pp[0] == pytest.approx(4 * np.pi * 10 / 22**2)
    assert np.isnan(pp[1])
    stats = compactness_stats(["a", "b"], [shapely.box(0, 0, 1, 10), None])
    assert stats["polsby_popper"]["b"] is None
    assert stats["polsby_popper_min"] == pytest.approx(pp[0])


def test_local_equal_area_projection_keeps_areas():
    # A 1° × 1° cell in Georgia: its projected area equals the geodesic area.
    lon, lat = [-84.0, -83.0, -83.0, -84.0], [33.0, 33.0, 34.0, 34.0]
    geodesic, _ = Geod(ellps="WGS84").polygon_area_perimeter(lon, lat)
    crs = local_equal_area_crs((-90.0, 30.0, -75.0, 39.0))
    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to.transform(lon, lat)
    assert shapely.Polygon(zip(x, y, strict=True)).area == pytest.approx(abs(geodesic), rel=1e-3)


# --------------------------------------------------------------------------- contiguity


def path_graph(n: int) -> sp.csr_matrix:
    rows = np.arange(n - 1)
    adj = sp.csr_matrix((np.ones(n - 1, bool), (rows, rows + 1)), shape=(n, n))
    return (adj + adj.T).tocsr()


def test_a_territory_is_one_piece_through_empty_units():
    # 0 - . - 0 - 1 - 1 : territory 0 joins through the empty unit
    pieces = pieces_through_empty_units(path_graph(5), np.array([0, -1, 0, 1, 1]), 2)
    assert pieces.tolist() == [1, 1]


def test_a_territory_cut_by_another_is_in_pieces():
    # 0 - 1 - 0 : territory 0 has two pieces; an empty region shared by both stays usable
    assert pieces_through_empty_units(path_graph(3), np.array([0, 1, 0]), 2).tolist() == [2, 1]
    owner = np.array([0, -1, -1, 1, 0])
    assert pieces_through_empty_units(path_graph(5), owner, 2).tolist() == [2, 1]


# --------------------------------------------------------------------------- equity, retention


def test_quota_to_potential_equity():
    out = quota_equity(np.array([1.0, 2.0, 5.0]), np.array([10.0, 10.0, 0.0]), ["a", "b", "c"])
    assert out["quota_to_potential_mean"] == pytest.approx(0.15)
    assert out["quota_to_potential_cv"] == pytest.approx(0.05 / 0.15)
    assert out["quota_to_potential"] == {
        "a": pytest.approx(0.1),
        "b": pytest.approx(0.2),
        "c": None,
    }


def test_relationship_retention_by_hand():
    accounts = np.array(["A1", "A2", "A3", "A4"])
    new = np.array(["R1", "R2", "R2", "R1"])
    prev = np.array(["R1", "R1", "", "R2"])
    potential = np.array([10.0, 20.0, 30.0, 40.0])
    ties_rep, ties_acc = np.array(["R1", "R1", "R2"]), np.array(["A1", "A2", "A3"])
    out = relationship_retention(accounts, new, prev, potential, ties_rep, ties_acc)
    assert out["accounts_with_tie_share"] == pytest.approx(2 / 4)  # A1 (R1), A3 (R2)
    assert out["potential_with_tie_share"] == pytest.approx(40 / 100)
    assert out["previous_accounts_with_tie_share"] == pytest.approx(2 / 3)  # A1, A2 of 3 owned
    assert out["ties_kept_share"] == pytest.approx(1 / 2)  # A1 kept, A2 lost its tie
    assert out["ties_broken"] == 1


def test_disruption_details_each_affected_rep():
    prev = np.array(["R1", "R1", "", "R2", "R3"])
    new = np.array(["R1", "R2", "R2", "R3", "R3"])
    d = disruption(prev, new, np.array([1.0, 2.0, 4.0, 8.0, 16.0]))
    assert d["reps_affected"] == 3
    assert d["reps_affected_detail"] == [
        {
            "rep_id": "R1",
            "accounts_lost": 1,
            "accounts_gained": 0,
            "potential_lost": 2.0,
            "potential_gained": 0.0,
        },
        {
            "rep_id": "R2",
            "accounts_lost": 1,
            "accounts_gained": 1,
            "potential_lost": 8.0,
            "potential_gained": 2.0,
        },
        {
            "rep_id": "R3",
            "accounts_lost": 0,
            "accounts_gained": 1,
            "potential_lost": 0.0,
            "potential_gained": 8.0,
        },
    ]
