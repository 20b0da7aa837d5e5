"""One headline of a scorecard, and the units each caller stores it in."""

from __future__ import annotations

import math

import pytest

from territory_engine.metrics import Headline, headline
from territory_engine.store.plan_store import headline as store_headline
from territory_engine.sweep.run import headline as sweep_headline

from .cards import full_card

CARD = {
    "n_territories": 3,
    "n_accounts": 120,
    "balance": {
        "potential": {"max_rel_dev": 0.04, "balance_index": 98.5},
        "accounts": {"max_rel_dev": 0.12, "balance_index": 91.0},
    },
    "travel": {"mean_km": 41.5},
    "disruption": {"moved_potential_share": 0.2, "moved_accounts_share": 0.25},
    "relationships": {"ties_kept_share": 0.8, "potential_with_tie_share": 0.7},
    "quota": {"total": 1.5e6},
}


def test_headline_of_a_small_card_names_its_units():
    head = headline(CARD, ["potential", "accounts"])
    assert head == Headline(
        n_territories=3,
        n_accounts=120,
        balance_max_dev_share=0.12,
        potential_max_dev_share=0.04,
        potential_balance_index=98.5,
        travel_mean_km=41.5,
        moved_potential_share=0.2,
        moved_accounts_share=0.25,
        ties_kept_share=0.8,
        potential_with_tie_share=0.7,
        quota_total=1.5e6,
    )
    assert head.potential_max_dev_pct == pytest.approx(4.0)


def test_missing_and_non_finite_numbers_are_none():
    head = headline({"balance": {"potential": {"max_rel_dev": None}}, "travel": {}}, ["x"])
    assert head.balance_max_dev_share is None
    assert head.potential_max_dev_share is None
    assert head.potential_max_dev_pct is None
    assert head.travel_mean_km is None
    assert head.n_territories is None
    assert headline({"quota": {"total": float("inf")}}).quota_total is None
    assert headline({"quota": {"total": True}}).quota_total is None
    assert headline({"quota": {"total": "12.5"}}).quota_total == 12.5


def test_the_store_keeps_the_deviation_as_a_percentage():
    row = store_headline(CARD, {"timings_seconds": {"solve": 2.0, "load": 0.5}})
    assert row == {
        "n_territories": 3,
        "n_accounts": 120,
        "potential_max_dev_pct": 100.0 * 0.04,
        "potential_balance_index": 98.5,
        "travel_mean_km": 41.5,
        "moved_potential_share": 0.2,
        "relationship_potential_share": 0.7,
        "quota_total": 1.5e6,
        "solve_seconds": 2.0,
        "total_seconds": 2.5,
    }
    assert store_headline({}, {"solver": {"seconds": 3.0}})["solve_seconds"] == 3.0


def test_the_sweep_keeps_shares_and_nan_for_missing_numbers():
    record = sweep_headline(CARD, ["potential", "accounts"])
    assert record == {
        "balance_max_dev": 0.12,
        "potential_max_dev": 0.04,
        "potential_balance_index": 98.5,
        "travel_mean_km": 41.5,
        "moved_potential_share": 0.2,
        "moved_accounts_share": 0.25,
        "retention_share": 0.8,
    }
    bare = sweep_headline({"balance": {}}, ["potential"])
    assert all(math.isnan(v) for v in bare.values())


def test_headline_reads_a_scorecard_object_like_its_json():
    card = full_card()
    measures = ["potential", "accounts"]
    assert headline(card, measures) == headline(card.to_dict(), measures)
    head = headline(card, measures)
    assert head.quota_total == pytest.approx(70.0)
    assert head.balance_max_dev_share == pytest.approx(7.5 / 32.5)
