"""The ``territory-engine`` command line: exit codes and planner-readable errors.

Each test copies the baseline scenario and the sample data into ``tmp_path``,
breaks one thing and runs the real command in a subprocess. Every case fails
while loading or in the diagnosis before the solver, so nothing here solves.
Exit codes: 0 success, 2 bad input or scenario, 3 infeasible.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
import yaml

from tests.cli_run import run_cli

DATA_FILES = ("accounts.csv", "reps.csv", "counties.gpkg", "social_edges.csv", "places.csv")
ROW = 5  # the spreadsheet row each accounts test breaks (the header is row 1)
ROW_ID = "A000004"  # the account on that row


@dataclass
class Case:
    """A private copy of the baseline scenario and the sample data."""

    root: Path
    repo_root: Path

    @property
    def scenario(self) -> Path:
        return self.root / "scenarios" / "fy_baseline.yaml"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def accounts(self) -> Path:
        return self.data / "accounts.csv"

    @property
    def output(self) -> Path:
        return self.root / "out"

    def read_accounts(self) -> list[list[str]]:
        with self.accounts.open(newline="", encoding="utf-8") as f:
            return list(csv.reader(f))

    def write_accounts(self, rows: list[list[str]]) -> None:
        with self.accounts.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)

    def set_account_cell(self, row: int, column: str, value: str) -> None:
        """Set one cell; ``row`` as a spreadsheet shows it (header = row 1)."""
        rows = self.read_accounts()
        rows[row - 1][rows[0].index(column)] = value
        self.write_accounts(rows)

    def edit_scenario(self, change: Callable[[dict], None]) -> None:
        doc = yaml.safe_load(self.scenario.read_text(encoding="utf-8"))
        change(doc)
        self.scenario.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    def run(self) -> subprocess.CompletedProcess:
        return run_cli(
            "run",
            str(self.scenario),
            "--output",
            str(self.output),
            cwd=self.root,
            repo_root=self.repo_root,
        )


@pytest.fixture
def case(tmp_path, sample_dir, baseline_scenario_file, repo_root) -> Case:
    (tmp_path / "scenarios").mkdir()
    shutil.copy(baseline_scenario_file, tmp_path / "scenarios" / "fy_baseline.yaml")
    (tmp_path / "data").mkdir()
    for name in DATA_FILES:
        shutil.copy(sample_dir / name, tmp_path / "data" / name)
    return Case(root=tmp_path.resolve(), repo_root=repo_root)


def assert_clean_failure(
    result: subprocess.CompletedProcess, case: Case, code: int, *fragments: str
) -> None:
    """Exit ``code``, every fragment in stderr, no traceback, no plan folder written."""
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything, everything
    assert result.returncode == code, everything
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    assert not case.output.exists()
    leftovers = [p.name for p in case.root.iterdir() if "partial" in p.name or ".old-" in p.name]
    assert leftovers == []


def account_error_fragments(case: Case, column: str, row: int = ROW) -> tuple[str, ...]:
    return (str(case.accounts), f"row {row}", f"id '{ROW_ID}'", f"column '{column}'")


# --------------------------------------------------------------------------- basics


def test_help_exits_zero_and_lists_the_run_command(tmp_path, repo_root):
    result = run_cli("--help", cwd=tmp_path, repo_root=repo_root)
    assert result.returncode == 0, result.stderr
    assert "run" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_run_help_exits_zero_and_documents_output(tmp_path, repo_root):
    result = run_cli("run", "--help", cwd=tmp_path, repo_root=repo_root)
    assert result.returncode == 0, result.stderr
    assert "--output" in result.stdout


def test_missing_scenario_file_exits_2_naming_the_path(case):
    case.scenario.unlink()
    result = case.run()
    assert_clean_failure(result, case, 2, str(case.scenario), "not found")


# --------------------------------------------------------------------------- bad accounts


def test_non_numeric_latitude_names_file_row_id_and_column(case):
    case.set_account_cell(ROW, "lat", "abc")
    result = case.run()
    assert_clean_failure(result, case, 2, *account_error_fragments(case, "lat"), "'abc'")


def test_missing_longitude_names_file_row_id_and_column(case):
    case.set_account_cell(ROW, "lon", "")
    result = case.run()
    assert_clean_failure(result, case, 2, *account_error_fragments(case, "lon"), "empty")


def test_latitude_out_of_range_names_file_row_id_and_column(case):
    case.set_account_cell(ROW, "lat", "95")
    result = case.run()
    assert_clean_failure(result, case, 2, *account_error_fragments(case, "lat"), "[-90, 90]")


def test_duplicate_account_id_names_both_rows(case):
    case.set_account_cell(10, "account_id", ROW_ID)
    result = case.run()
    # The second occurrence is reported, pointing back at the first.
    fragments = account_error_fragments(case, "account_id", row=10)
    assert_clean_failure(result, case, 2, *fragments, "duplicate", f"row {ROW}")


def test_negative_potential_names_file_row_id_and_column(case):
    case.set_account_cell(ROW, "potential", "-5")
    result = case.run()
    assert_clean_failure(result, case, 2, *account_error_fragments(case, "potential"), ">= 0")


def test_current_rep_that_is_not_a_rep_names_file_row_id_and_column(case):
    case.set_account_cell(ROW, "current_rep_id", "R99")
    result = case.run()
    fragments = account_error_fragments(case, "current_rep_id")
    assert_clean_failure(result, case, 2, *fragments, "'R99'", "reps.csv")


def test_account_outside_every_county_names_it_and_the_units_file(case):
    # The Atlantic, about 800 km off the Outer Banks.
    rows = case.read_accounts()
    rows[ROW - 1][rows[0].index("lat")] = "30"
    rows[ROW - 1][rows[0].index("lon")] = "-70"
    case.write_accounts(rows)
    result = case.run()
    fragments = account_error_fragments(case, "lat/lon")
    assert_clean_failure(result, case, 2, *fragments, "outside every unit", "counties.gpkg")


def test_empty_accounts_file_exits_2_naming_it(case):
    case.accounts.write_text("", encoding="utf-8")
    result = case.run()
    assert_clean_failure(result, case, 2, str(case.accounts), "no rows", "empty")


def test_header_only_accounts_file_exits_2_naming_it(case):
    case.write_accounts(case.read_accounts()[:1])
    result = case.run()
    assert_clean_failure(result, case, 2, str(case.accounts), "no rows", "header")


# --------------------------------------------------------------------------- bad units


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_units_layer_without_crs_exits_2_naming_it(case):
    units = case.data / "counties.gpkg"
    counties = gpd.read_file(units, layer="counties").set_crs(None, allow_override=True)
    units.unlink()
    counties.to_file(units, layer="counties", driver="GPKG")
    result = case.run()
    assert_clean_failure(result, case, 2, str(units), "no CRS", "column 'geometry'")


# --------------------------------------------------------------------------- bad scenario


def test_misspelt_scenario_key_suggests_the_right_one(case):
    def misspell(doc: dict) -> None:
        doc["constraints"]["contiguty"] = doc["constraints"].pop("contiguity")

    case.edit_scenario(misspell)
    result = case.run()
    fragments = (str(case.scenario), "constraints.contiguty", "did you mean 'contiguity'")
    assert_clean_failure(result, case, 2, *fragments)


def test_lock_to_unknown_rep_suggests_the_closest_rep(case):
    def lock(doc: dict) -> None:
        doc["constraints"]["locks"] = [{"account": "A000003", "rep": "R006"}]

    case.edit_scenario(lock)
    result = case.run()
    fragments = ("constraints.locks", "'R006'", "did you mean 'R06'")
    assert_clean_failure(result, case, 2, *fragments)


# --------------------------------------------------------------------------- infeasible


def test_band_no_territory_can_reach_exits_3_and_says_why(case):
    def impossible(doc: dict) -> None:
        doc["balance"] = {"potential": {"low": 1e12}}

    case.edit_scenario(impossible)
    result = case.run()
    fragments = ("infeasible", "total potential", "below the sum of the territories' lows")
    assert_clean_failure(result, case, 3, *fragments)


def test_unit_locks_overloading_a_rep_exit_3_and_name_the_territory(
    case, sample_accounts, sample_reps
):
    # Lock the richest smb counties to one full-time smb rep until they alone
    # hold more potential than the rep's band allows (fair share + 5 %).
    smb_reps = sample_reps[sample_reps["segment"] == "smb"]
    rep = smb_reps[smb_reps["capacity_fte"] == 1.0]["rep_id"].iloc[0]
    smb = sample_accounts[sample_accounts["segment"] == "smb"]
    high = 1.05 * smb["potential"].sum() / smb_reps["capacity_fte"].sum()
    by_county = smb.groupby("county_fips")["potential"].sum().sort_values(ascending=False)
    n_locked = int((by_county.cumsum() <= high).sum()) + 1
    counties = by_county.index[:n_locked]
    assert by_county.iloc[:n_locked].sum() > high

    def lock(doc: dict) -> None:
        doc["constraints"]["locks"] += [{"unit": fips, "rep": rep} for fips in counties]

    case.edit_scenario(lock)
    result = case.run()
    fragments = (
        "infeasible",
        f"the units locked to T-{rep} already hold potential",
        "above its band's high",
    )
    assert_clean_failure(result, case, 3, *fragments)
