"""The typed scorecard: its key order, its immutability and its one serialiser."""

from __future__ import annotations

import dataclasses
import json

import pytest

from territory_engine.io.jsonio import to_json
from territory_engine.metrics import Scorecard, scorecard

from .cards import full_card, small_inputs

# The top-level keys of scorecard.json as the pipeline writes them (scorecard.json is
# byte-compared by benchmarks/sample_guard.py), with a re-scored folder's ``scored`` last.
FULL_KEYS = [
    "n_territories",
    "n_accounts",
    "balance",
    "travel",
    "disruption",
    "contiguity",
    "quota",
    "relationships",
    "families",
    "territories",
    "compactness",
    "scored",
]


def test_to_dict_keys_follow_the_scorecard_json_order():
    out = full_card().to_dict()
    assert list(out) == FULL_KEYS
    assert list(Scorecard.KEYS) == FULL_KEYS
    assert list(out["quota"]) == [
        "total",
        "quota_to_potential_mean",
        "quota_to_potential_cv",
        "quota_to_potential_min",
        "quota_to_potential_max",
        "quota_to_potential_gini",
        "quota_to_potential",
        "attainment",
        "allocation",
    ]
    assert list(out["balance"]["potential"])[-1] == "territories_out_of_band"
    assert list(out["relationships"]) == [
        "edges",
        "accounts_with_tie_share",
        "potential_with_tie_share",
        "previous_accounts_with_tie_share",
        "previous_potential_with_tie_share",
        "ties_kept_share",
        "ties_broken",
        "mean_proximity",
        "potential_weighted_proximity",
        "accounts_with_proximity_share",
        "kept_for_relationship",
    ]


def test_absent_sections_are_left_out_of_the_dict():
    bare = small_inputs(unit_adjacency=None, tie_rep=None, tie_account=None, account_family=None)
    out = scorecard(bare).to_dict()
    assert list(out) == [
        "n_territories",
        "n_accounts",
        "balance",
        "travel",
        "disruption",
        "territories",
    ]


def test_scorecard_numbers_on_the_hand_made_plan():
    card = full_card()
    assert (card.n_territories, card.n_accounts) == (2, 4)
    assert card.balance["potential"]["mean"] == pytest.approx(32.5)
    assert card.balance["potential"]["max_rel_dev"] == pytest.approx(7.5 / 32.5)
    assert card.balance["potential"]["territories_out_of_band"] == 2
    assert card.disruption["moved_accounts"] == 1  # A2: R2 -> R1; A4 had no owner
    assert card.contiguity == {"territories_in_pieces": 0, "max_pieces": 1, "cut_edges": 1}
    assert card.families == {"families": 1, "families_split": 0, "accounts_in_split_families": 0}
    assert card.quota is not None and card.quota["total"] == pytest.approx(70.0)
    assert card.quota["allocation"] == {"method": "potential", "target": 70.0}
    assert [row["territory_id"] for row in card.territories] == ["T-R1", "T-R2"]


def test_no_section_is_shared_between_two_dicts_or_with_the_card():
    card = full_card()
    first, second = card.to_dict(), card.to_dict()
    assert first == second
    first["balance"]["potential"]["mean"] = -1.0
    first["quota"]["allocation"]["method"] = "edited"
    first["quota"]["attainment"]["by_territory"]["T-R1"] = None
    first["contiguity"]["split_units"] = 9
    first["territories"][0]["potential"] = -1.0
    first["territories"].pop()
    first["scored"]["plan_folder"] = "elsewhere"
    first.pop("compactness")
    third = card.to_dict()
    assert third == second
    assert card.balance["potential"]["mean"] == pytest.approx(32.5)
    assert card.quota is not None and card.quota["allocation"]["method"] == "potential"


def test_a_scorecard_cannot_be_changed_in_place():
    card = full_card()
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.quota = None  # type: ignore[misc]
    changed = dataclasses.replace(card, scored=None)
    assert "scored" not in changed.to_dict()
    assert "scored" in card.to_dict()


def test_from_dict_round_trips_through_json():
    card = full_card()
    text = to_json(card.to_dict())
    again = Scorecard.from_dict(json.loads(text))
    assert to_json(again.to_dict()) == text
    parsed = json.loads(text)
    Scorecard.from_dict(parsed).to_dict()["travel"]["mean_km"] = -1.0
    assert parsed["travel"]["mean_km"] >= 0  # from_dict copies its input


def test_from_dict_rejects_unknown_and_missing_sections():
    out = full_card().to_dict()
    with pytest.raises(ValueError, match="not a scorecard section: extra"):
        Scorecard.from_dict({**out, "extra": 1})
    del out["travel"]
    with pytest.raises(ValueError, match="lacks travel"):
        Scorecard.from_dict(out)
