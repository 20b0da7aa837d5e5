"""Scenario loading: validation, extends, did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_engine.config import deep_merge, load_scenario
from territory_engine.errors import ScenarioError


def _data_files(tmp_path: Path) -> None:
    for name in ("accounts.csv", "reps.csv", "units.gpkg"):
        (tmp_path / name).write_text("x\n")


BASE = """
name: base
data:
  accounts: accounts.csv
  reps: reps.csv
  units: units.gpkg
balance:
  potential: {tolerance: 0.05}
solver: {seed: 3, time_limit: 10}
"""


def test_minimal_scenario_resolves_paths(tmp_path):
    _data_files(tmp_path)
    (tmp_path / "s.yaml").write_text(BASE)
    sc = load_scenario(tmp_path / "s.yaml")
    assert sc.data.accounts == (tmp_path / "accounts.csv").resolve()
    assert sc.balance["potential"].tolerance == pytest.approx(0.05)
    assert sc.solver.seed == 3


def test_extends_deep_merges(tmp_path):
    _data_files(tmp_path)
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "v.yaml").write_text(
        "extends: base.yaml\nname: tight\nbalance:\n  potential: {tolerance: 0.02}\n"
        "solver: {seed: 9}\n"
    )
    sc = load_scenario(tmp_path / "v.yaml")
    assert sc.name == "tight"
    assert sc.balance["potential"].tolerance == pytest.approx(0.02)
    assert sc.solver.seed == 9
    assert sc.solver.time_limit == pytest.approx(10)  # kept from the base


def test_extends_from_other_folder_keeps_relative_paths(tmp_path):
    _data_files(tmp_path)
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "variants").mkdir()
    (tmp_path / "variants" / "v.yaml").write_text("extends: ../base.yaml\nname: v\n")
    sc = load_scenario(tmp_path / "variants" / "v.yaml")
    assert sc.data.reps == (tmp_path / "reps.csv").resolve()


def test_unknown_key_has_did_you_mean(tmp_path):
    _data_files(tmp_path)
    (tmp_path / "s.yaml").write_text(BASE + "constraints:\n  contiguty: true\n")
    with pytest.raises(ScenarioError, match=r"constraints\.contiguty.*did you mean 'contiguity'"):
        load_scenario(tmp_path / "s.yaml")


def test_unknown_top_level_key(tmp_path):
    _data_files(tmp_path)
    (tmp_path / "s.yaml").write_text(BASE + "objectve: {travel: 1}\n")
    with pytest.raises(ScenarioError, match="did you mean 'objective'"):
        load_scenario(tmp_path / "s.yaml")


def test_unknown_band_key(tmp_path):
    _data_files(tmp_path)
    (tmp_path / "s.yaml").write_text(BASE.replace("{tolerance: 0.05}", "{tolerence: 0.05}"))
    with pytest.raises(ScenarioError, match="did you mean 'tolerance'"):
        load_scenario(tmp_path / "s.yaml")


def test_bad_value_names_the_key(tmp_path):
    _data_files(tmp_path)
    (tmp_path / "s.yaml").write_text(BASE.replace("0.05", "1.5"))
    with pytest.raises(ScenarioError, match=r"balance\.potential\.tolerance"):
        load_scenario(tmp_path / "s.yaml")


def test_missing_data_file(tmp_path):
    _data_files(tmp_path)
    (tmp_path / "reps.csv").unlink()
    (tmp_path / "s.yaml").write_text(BASE)
    with pytest.raises(ScenarioError, match=r"data\.reps file not found"):
        load_scenario(tmp_path / "s.yaml")


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")


def test_invalid_yaml_and_empty_file(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(tmp_path / "bad.yaml")
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(ScenarioError, match="empty"):
        load_scenario(tmp_path / "empty.yaml")


def test_lock_needs_exactly_one_target(tmp_path):
    _data_files(tmp_path)
    (tmp_path / "s.yaml").write_text(BASE + "constraints:\n  locks:\n    - {rep: R1}\n")
    with pytest.raises(ScenarioError, match="exactly one of 'account' or 'unit'"):
        load_scenario(tmp_path / "s.yaml")


def test_deep_merge_replaces_lists_and_merges_dicts():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    out = deep_merge(base, {"a": {"y": [3]}, "c": 2})
    assert out == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
    assert base["a"]["y"] == [1, 2]  # not mutated


def test_did_you_mean_prefers_same_name_up_to_zeros_and_case():
    from territory_engine.errors import did_you_mean

    assert did_you_mean("R6", ["R36", "R06", "R60"]) == " (did you mean 'R06'?)"
    assert did_you_mean("contiguty", ["contiguity", "locks"]) == " (did you mean 'contiguity'?)"
    assert did_you_mean("zzz", ["contiguity"]) == ""


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("solver: {seed: 3, time_limit: .inf}\n", r"solver\.time_limit"),
        ("balance:\n  potential: {tolerance: .nan}\n", r"balance\.potential\.tolerance"),
        ("quota: {growth: -.inf}\n", r"quota\.growth"),
    ],
)
def test_infinite_or_nan_numbers_are_refused(tmp_path, override, key):
    # YAML spells them .inf and .nan; a time limit of infinity would never stop.
    _data_files(tmp_path)
    (tmp_path / "s.yaml").write_text(BASE + override)
    with pytest.raises(ScenarioError, match=rf"{key}.*finite number"):
        load_scenario(tmp_path / "s.yaml")
