"""The data's own segments (the team rule) and the scenario keys of CRM inputs.

``territories.eligibility`` as a mapping, ``data.columns`` and ``data.sheets``
are validated by the scenario models; the rule that groups segments into teams
(:func:`territory_engine.config.segments.teams`) is tested on plain lists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_engine.config import load_scenario
from territory_engine.config.segments import (
    POOLED,
    canonical_spellings,
    list_segments,
    teams,
)
from territory_engine.errors import ScenarioError

ACCOUNTS = ["Strategic", "Mid-Market", "Territory", "Mid-Market"]
REPS = ["Strategic", "Mid-Market", "Territory"]


def test_segment_eligibility_makes_one_team_per_segment_sorted():
    got = teams("segment", ACCOUNTS, REPS)
    assert got.names == ["Mid-Market", "Strategic", "Territory"]
    assert got.of_account_segment["Territory"] == "Territory"
    assert got.may_own("Strategic", "Strategic")
    assert not got.may_own("Strategic", "Mid-Market")


def test_no_eligibility_pools_everything():
    got = teams("none", ACCOUNTS, REPS)
    assert got.names == [POOLED]
    assert set(got.of_rep_segment.values()) == {POOLED}
    assert got.may_own("Strategic", "Territory")


def test_mapping_links_segments_into_one_team_named_by_its_rep_segments():
    got = teams(
        {"Strategic": ["Strategic"], "Mid-Market": ["Mid-Market", "Territory"]},
        ["Strategic", "Mid-Market"],
        REPS,
    )
    assert got.names == ["Mid-Market + Territory", "Strategic"]
    assert got.of_account_segment == {
        "Mid-Market": "Mid-Market + Territory",
        "Strategic": "Strategic",
    }
    assert got.of_rep_segment["Territory"] == "Mid-Market + Territory"
    assert got.may_own("Mid-Market", "Territory")
    assert not got.may_own("Strategic", "Territory")


def test_mapping_names_match_the_data_ignoring_case():
    got = teams({"mid-market": ["TERRITORY"]}, ["Mid-Market"], ["Territory"])
    assert got.allowed == {"Mid-Market": ("Territory",)}
    assert got.names == ["Territory"]


def test_mapping_whose_linked_segments_differ_is_refused_with_a_fix():
    # Territory accounts (not mapped) go to Territory reps only, Mid-Market
    # accounts to Mid-Market and Territory: one team, two different rules.
    with pytest.raises(
        ScenarioError,
        match=r"Territory accounts may go to Territory and Mid-Market accounts to Mid-Market, "
        r"Territory.*one team.*\(e\.g\. Territory: \[Mid-Market, Territory\]\)",
    ):
        teams({"Mid-Market": ["Mid-Market", "Territory"]}, ACCOUNTS, REPS)


def test_spelling_and_order_rules():
    assert canonical_spellings(["SMB", " smb ", "Enterprise"]) == {
        "smb": "SMB",
        "enterprise": "Enterprise",
    }
    assert list_segments(["b", "a"], ["c", "a", ""]) == ["a", "b", "c"]


# ------------------------------------------------------------------ scenario keys


def _scenario(tmp_path: Path, extra: str) -> Path:
    for name in ("accounts.csv", "reps.xlsx", "units.gpkg"):
        (tmp_path / name).write_text("x\n")
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: crm\ndata:\n  accounts: accounts.csv\n  reps: reps.xlsx\n  units: units.gpkg\n"
        + extra
    )
    return path


def test_columns_sheets_and_eligibility_mapping_validate(tmp_path):
    sc = load_scenario(
        _scenario(
            tmp_path,
            "  columns:\n    accounts: {account_id: Account ID, potential: Annual Revenue}\n"
            "  sheets: {reps: Reps}\n"
            "territories:\n  eligibility: {Strategic: [Strategic], Mid-Market: [Mid-Market, "
            "Territory]}\n",
        )
    )
    assert sc.data.columns.accounts == {"account_id": "Account ID", "potential": "Annual Revenue"}
    assert sc.data.columns.reps == {}
    assert sc.data.sheets.reps == "Reps"
    assert sc.data.sheets.accounts is None
    assert sc.territories.eligibility == {
        "Strategic": ["Strategic"],
        "Mid-Market": ["Mid-Market", "Territory"],
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("  columns:\n    accounts: {account_id: ' '}\n", "has an empty name"),
        ("  columns:\n    acounts: {account_id: X}\n", "acounts.*did you mean 'accounts'"),
        ("  sheets: {units: Units}\n", "units"),
        ("territories:\n  eligibility: {Strategic: []}\n", "needs a non-empty list"),
        ("territories:\n  eligibility: segments\n", "eligibility"),
    ],
)
def test_bad_crm_keys_fail_naming_the_key(tmp_path, extra, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario(_scenario(tmp_path, extra))
