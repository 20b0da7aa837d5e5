"""What-ifs from a plan (``whatif.base_plan``, ``run --from-plan``) on the hand-made grid.

The accounts' own ``current_rep_id`` (last year's owners) is replaced by the
plan's owner of each account, so disruption is counted against the plan the
what-if changes, and the solver starts from that plan.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from territory_engine.cli.main import app
from territory_engine.config import load_scenario
from territory_engine.config.whatif import with_base_plan
from territory_engine.errors import InputError
from territory_engine.io.load import load_tables
from territory_engine.pipeline.run import run_scenario
from territory_engine.plan.reader import read_plan_folder
from tests.org.test_adjust import write_grid

VARIANT = """\
extends: grid.yaml
name: grid + hire
whatif:
  add_reps: [{rep_id: R5, segment: all, lat: 33.4, lon: -84.5}]
  base_plan: plan
"""


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The grid's folder with its plan in ``plan/``; last year's owners all R1."""
    folder = tmp_path_factory.mktemp("from_plan")
    scenario = write_grid(folder)
    run_scenario(load_scenario(scenario), output=folder / "plan")
    # Last year's owners now differ from the plan: every account was R1's.
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str)
    accounts["current_rep_id"] = "R1"
    accounts.to_csv(folder / "accounts.csv", index=False)
    (folder / "variant.yaml").write_text(VARIANT, encoding="utf-8")
    return folder


def test_base_plan_is_relative_to_the_scenario(grid: Path) -> None:
    scenario = load_scenario(grid / "variant.yaml")
    assert scenario.whatif.base_plan == (grid / "plan").resolve()


def test_current_owners_come_from_the_plan(grid: Path) -> None:
    scenario = load_scenario(grid / "variant.yaml")
    tables = load_tables(scenario)
    plan = read_plan_folder(grid / "plan").assignments.set_index("account_id")["rep_id"]
    current = tables.accounts.set_index("account_id")["current_rep_id"]
    assert (current == plan.reindex(current.index)).all()
    assert set(current) == {"R1", "R2", "R3", "R4"}


def test_disruption_is_counted_against_the_plan(grid: Path) -> None:
    from_plan = run_scenario(load_scenario(grid / "variant.yaml"))
    base = read_plan_folder(grid / "plan").assignments.set_index("account_id")["rep_id"]
    a = from_plan.plan.assignments.set_index("account_id")
    assert (a["previous_rep_id"] == base.reindex(a.index)).all()
    moved = int((a["rep_id"] != base.reindex(a.index)).sum())
    assert from_plan.scorecard["disruption"]["moved_accounts"] == moved
    assert from_plan.feasible, from_plan.alignment.violations
    assert (a["rep_id"] == "R5").any()
    # The old way counts against last year's owners (all R1): nearly everything moved.
    variant = load_scenario(grid / "variant.yaml")
    without = variant.whatif.model_copy(update={"base_plan": None})
    old_way = run_scenario(variant.model_copy(update={"whatif": without}))
    assert old_way.scorecard["disruption"]["moved_accounts"] > moved


def test_an_unchanged_what_if_from_its_plan_moves_nothing(grid: Path) -> None:
    base = load_scenario(grid / "grid.yaml")
    result = run_scenario(with_base_plan(base, grid / "plan"))
    assert result.scorecard["disruption"]["moved_accounts"] == 0
    assert result.alignment.stats.as_dict()["start"] == "initial"


def test_the_manifest_names_the_base_plan(grid: Path, tmp_path: Path) -> None:
    result = run_scenario(load_scenario(grid / "variant.yaml"), output=tmp_path / "v")
    entry = json.loads((tmp_path / "v" / "plan.json").read_text())["base_plan"]
    digest = hashlib.sha256((grid / "plan" / "assignments.csv").read_bytes()).hexdigest()
    assert entry["path"] == str((grid / "plan").resolve())
    assert entry["assignments_sha256"] == digest
    assert entry["scenario_name"] == "grid"
    assert result.plan.provenance["base_plan"] == entry


def test_from_plan_is_deterministic(grid: Path) -> None:
    a = run_scenario(load_scenario(grid / "variant.yaml")).plan.assignments
    b = run_scenario(load_scenario(grid / "variant.yaml")).plan.assignments
    assert a["rep_id"].tolist() == b["rep_id"].tolist()


def test_a_missing_base_plan_is_refused(grid: Path, tmp_path: Path) -> None:
    scenario = with_base_plan(load_scenario(grid / "grid.yaml"), tmp_path / "nope")
    with pytest.raises(InputError, match="no plan folder here"):
        load_tables(scenario)


def test_run_from_plan_on_the_command_line(grid: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "run",
            str(grid / "grid.yaml"),
            "--from-plan",
            str(grid / "plan"),
            "-o",
            str(tmp_path / "cli"),
            "--no-store",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "cli" / "plan.json").read_text())
    assert manifest["scenario"]["whatif"]["base_plan"] == str((grid / "plan").resolve())
    bad = runner.invoke(
        app, ["run", str(grid / "grid.yaml"), "--from-plan", str(tmp_path / "none"), "--no-store"]
    )
    assert bad.exit_code == 2 and "no plan folder here" in bad.output
    assert "Traceback" not in bad.output
