"""``territory-engine export``: ownership changes for Salesforce or as CSV, and the hierarchy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from territory_engine.crm.export import export_plan, owner_changes, territory_hierarchy
from territory_engine.errors import InputError
from territory_engine.plan.reader import read_plan_folder
from tests.cli_run import run_cli


@pytest.fixture
def plan_copy(plan_dir, tmp_path) -> Path:
    copy = tmp_path / "plan"
    shutil.copytree(plan_dir, copy)
    return copy


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write_users(path: Path, reps: list[str]) -> Path:
    lines = ["rep_id,user_id,email"] + [f"{r},005{r:0>15},{r}@example.com" for r in reps]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_owner_changes_are_the_accounts_whose_rep_differs_from_last_year():
    assignments = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "rep_id": ["R1", "R2", "R3", "R1"],
            "previous_rep_id": ["R1", "R1", "", "R9"],
        }
    )
    changes = owner_changes(assignments)
    assert changes.to_dict("records") == [
        {"account_id": "A2", "old_owner": "R1", "new_owner": "R2"},
        {"account_id": "A3", "old_owner": "", "new_owner": "R3"},
        {"account_id": "A4", "old_owner": "R9", "new_owner": "R1"},
    ]


def test_csv_export_lists_every_change_with_the_plan_start(plan_dir, tmp_path):
    out = tmp_path / "crm"
    done = run_cli("export", str(plan_dir), "--format", "csv", "--output", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    changes = read(out / "owner_changes.csv")
    assert list(changes.columns) == ["account_id", "old_owner", "new_owner", "effective_date"]
    plan = read(plan_dir / "assignments.csv")
    changed = plan[plan["rep_id"] != plan["previous_rep_id"]]
    assert changes["account_id"].tolist() == changed["account_id"].tolist()
    assert (changes["new_owner"].to_numpy() == changed["rep_id"].to_numpy()).all()
    assert (changes["old_owner"].to_numpy() == changed["previous_rep_id"].to_numpy()).all()
    assert set(changes["effective_date"]) == {"2027-01-01"}  # quota.plan_start of the baseline
    assert f"{len(changes):,} accounts change owner" in done.stdout
    hierarchy = read(out / "territory_hierarchy.csv")
    assert list(hierarchy.columns) == [
        "territory_id",
        "rep_id",
        "rep_name",
        "segment",
        "region",
        "district",
    ]
    assert len(hierarchy) == 45
    assert set(hierarchy["region"]) == {""}  # the baseline has no quota regions


def test_salesforce_export_maps_new_owners_to_crm_users(plan_dir, tmp_path):
    reps = read(plan_dir / "reps.csv")["rep_id"].tolist()
    users = write_users(tmp_path / "users.csv", reps)
    result = export_plan(plan_dir, format="salesforce", users=users, output=tmp_path / "sf")
    table = read(tmp_path / "sf" / "owner_changes.csv")
    assert list(table.columns) == ["Id", "OwnerId"]
    plan = read(plan_dir / "assignments.csv").set_index("account_id")
    for account, owner in zip(table["Id"].head(50), table["OwnerId"].head(50), strict=True):
        assert owner == f"005{plan.at[account, 'rep_id']:0>15}"
    assert len(table) == len(result.changes)


def test_a_rep_missing_from_the_user_map_fails_naming_the_rep(plan_dir, tmp_path):
    reps = read(plan_dir / "reps.csv")["rep_id"].tolist()
    plan = read(plan_dir / "assignments.csv")
    gaining = plan[plan["rep_id"] != plan["previous_rep_id"]]["rep_id"].iloc[0]
    users = write_users(tmp_path / "users.csv", [r for r in reps if r != gaining])
    out = tmp_path / "sf"
    done = run_cli(
        "export", str(plan_dir), "--format", "salesforce", "--users", str(users),
        "--output", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"users.csv, column 'rep_id': rep '{gaining}' has no row" in line
    assert not out.exists()


def test_salesforce_needs_a_user_map_and_csv_refuses_one(plan_dir, tmp_path):
    with pytest.raises(InputError, match="--format salesforce needs --users"):
        export_plan(plan_dir, format="salesforce", output=tmp_path / "x")
    users = write_users(tmp_path / "users.csv", ["R01"])
    with pytest.raises(InputError, match="--users is for --format salesforce"):
        export_plan(plan_dir, format="csv", users=users, output=tmp_path / "x")
    with pytest.raises(InputError, match="unknown export format 'hubspot'"):
        export_plan(plan_dir, format="hubspot", output=tmp_path / "x")  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()


def test_user_map_rows_are_checked(plan_dir, tmp_path):
    users = tmp_path / "users.csv"
    users.write_text("rep_id,user_id\nR01,005A\nR01,005B\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"users\.csv, row 3, .*column 'rep_id'"):
        export_plan(plan_dir, format="salesforce", users=users, output=tmp_path / "x")
    users.write_text("rep_id,user_id\nR01,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"users\.csv, row 2, id 'R01', column 'user_id'"):
        export_plan(plan_dir, format="salesforce", users=users, output=tmp_path / "x")


def test_the_effective_date_comes_from_the_option_when_the_plan_has_none(plan_copy, tmp_path):
    manifest = json.loads((plan_copy / "plan.json").read_text(encoding="utf-8"))
    manifest["scenario"]["quota"]["plan_start"] = None
    (plan_copy / "plan.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match="--effective-date YYYY-MM-DD"):
        export_plan(plan_copy, format="csv")
    with pytest.raises(InputError, match="'July' is not a date"):
        export_plan(plan_copy, format="csv", effective_date="July")
    result = export_plan(plan_copy, format="csv", effective_date="2027-07-01")
    assert result.folder == (plan_copy / "export_csv").resolve()
    assert set(read(result.folder / "owner_changes.csv")["effective_date"]) == {"2027-07-01"}


def test_regions_of_the_quota_pools_fill_the_hierarchy(plan_copy):
    quotas = read(plan_copy / "quotas.csv")
    quotas["region"] = ["Atlantic" if i % 2 else "Central" for i in range(len(quotas))]
    quotas["district"] = ["Carolinas" if i % 2 else "" for i in range(len(quotas))]
    quotas.to_csv(plan_copy / "quotas.csv", index=False)
    hierarchy = territory_hierarchy(read_plan_folder(plan_copy))
    assert hierarchy["region"].tolist() == quotas["region"].tolist()
    assert hierarchy["district"].tolist() == quotas["district"].tolist()
    assert hierarchy["territory_id"].tolist() == quotas["territory_id"].tolist()


def test_an_export_never_replaces_a_folder_of_other_files(plan_dir, tmp_path):
    other = tmp_path / "documents"
    other.mkdir()
    (other / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="is not an export folder"):
        export_plan(plan_dir, format="csv", output=other)
    assert (other / "keep.txt").read_text(encoding="utf-8") == "mine"
    # An earlier export is replaced whole.
    first = export_plan(plan_dir, format="csv", output=tmp_path / "crm")
    again = export_plan(plan_dir, format="csv", output=tmp_path / "crm")
    assert first.folder == again.folder
    assert sorted(p.name for p in again.folder.iterdir()) == [
        "owner_changes.csv",
        "territory_hierarchy.csv",
    ]
