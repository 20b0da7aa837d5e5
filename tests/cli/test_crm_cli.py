"""``territory-engine run`` on a CRM export as it is, and its bad inputs (exit 2, one line).

The export is the Salesforce-style report of :mod:`tests.io.crm_files`: its own
column names (mapped by ``data.columns``), ZIP codes instead of coordinates,
segments Strategic / Mid-Market / Territory mapped by ``territories.eligibility``,
reps in the second sheet of an ``.xlsx`` workbook.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.cli_run import run_cli
from tests.io.crm_files import salesforce_case, salesforce_rows, write_csv


def run(root: Path) -> subprocess.CompletedProcess:
    return run_cli("run", "scenario.yaml", "--no-store", "--quiet", cwd=root)


def edit(root: Path, change) -> None:
    path = root / "scenario.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def assert_clean_failure(result: subprocess.CompletedProcess, root: Path, *fragments: str) -> None:
    """Exit 2, one error line holding every fragment, no traceback, no plan folder."""
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything, everything
    assert result.returncode == 2, everything
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert not (root / "out").exists()


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    salesforce_case(tmp_path, reps="reps.xlsx", extra_data="  sheets: {reps: Reps}\n")
    return tmp_path


def test_salesforce_export_runs_as_it_is(crm):
    result = run(crm)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "accounts placed by ZIP / by unit id" in result.stdout
    assert "10 / 0" in result.stdout
    plan = crm / "out" / "plan"
    manifest = json.loads((plan / "plan.json").read_text(encoding="utf-8"))
    assert manifest["problem"]["accounts_placed_by"] == {"coordinates": 0, "zip": 10, "unit_id": 0}
    assert manifest["problem"]["segments"] == ["Mid-Market", "Strategic", "Territory"]
    assignments = pd.read_csv(plan / "assignments.csv", dtype=str)
    accounts = pd.DataFrame(salesforce_rows()[1:], columns=salesforce_rows()[0])
    segment = dict(zip(accounts["Account ID"], accounts["Type"], strict=True))
    rep_segment = {"Ann Lee": "Strategic", "Dee Roy": "Strategic", "Bo Diaz": "Mid-Market"}
    rep_segment["Cy Park"] = "Territory"
    for account, rep in zip(assignments["account_id"], assignments["rep_id"], strict=True):
        allowed = ["Strategic"] if segment[account] == "Strategic" else ["Mid-Market", "Territory"]
        assert rep_segment[rep] in allowed, (account, rep)
    # The Territory rep takes Mid-Market accounts: the mapping, not the names, decides.
    assert "Cy Park" in set(assignments["rep_id"])
    validated = run_cli("validate", str(plan), "scenario.yaml", cwd=crm)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "eligibility  ok" in validated.stdout


def test_unknown_zip_exits_2_naming_row_and_column(crm):
    rows = salesforce_rows()
    rows[5][2] = "99999"
    write_csv(crm / "accounts.csv", rows)
    assert_clean_failure(
        run(crm),
        crm,
        "accounts.csv, row 6, id '00100004', column 'Billing Zip/Postal Code'",
        "ZIP code '99999' is not in the US ZIP table",
    )


def test_mapped_column_the_file_lacks_exits_2_with_did_you_mean(crm):
    edit(crm, lambda d: d["data"]["columns"]["accounts"].update(potential="Anual Revenue"))
    assert_clean_failure(
        run(crm),
        crm,
        "accounts.csv: has no column 'Anual Revenue'",
        "(did you mean 'Annual Revenue'?)",
    )


def test_missing_sheet_exits_2_listing_the_sheets(crm):
    edit(crm, lambda d: d["data"].update(sheets={"reps": "Sales reps"}))
    assert_clean_failure(
        run(crm), crm, "reps.xlsx: has no sheet 'Sales reps'", "sheets: Readme, Reps"
    )


def test_account_segment_no_rep_covers_exits_2_with_did_you_mean(crm):
    rows = salesforce_rows()
    rows[2][5] = "Mid Market"
    write_csv(crm / "accounts.csv", rows)
    edit(crm, lambda d: d["territories"].update(eligibility="segment"))
    assert_clean_failure(
        run(crm),
        crm,
        "accounts.csv, row 3, id '00100001', column 'Type'",
        "segment 'Mid Market'",
        "(did you mean 'Mid-Market'?)",
    )


def test_eligibility_segment_the_reps_lack_exits_2_with_did_you_mean(crm):
    edit(
        crm,
        lambda d: d["territories"].update(
            eligibility={"Strategic": ["Strategic"], "Mid-Market": ["Mid-Market", "Teritory"]}
        ),
    )
    assert_clean_failure(run(crm), crm, "'Teritory'", "(did you mean 'Territory'?)")


def test_whatif_rep_of_a_segment_the_data_lacks_exits_2_with_did_you_mean(crm):
    new = {"rep_id": "New", "segment": "Teritory", "lat": 33.0, "lon": -84.0}
    edit(crm, lambda d: d.update(whatif={"add_reps": [new]}))
    assert_clean_failure(
        run(crm),
        crm,
        "whatif.add_reps[0].segment: 'Teritory' is not a segment",
        "(did you mean 'Territory'?)",
    )


def test_whatif_rep_of_a_data_segment_is_spelt_as_the_data(crm):
    new = {"rep_id": "New", "segment": "territory", "lat": 33.0, "lon": -84.0}
    edit(crm, lambda d: d.update(whatif={"add_reps": [new]}))
    result = run(crm)
    assert result.returncode == 0, result.stdout + result.stderr
    reps = pd.read_csv(crm / "out" / "plan" / "reps.csv", dtype=str)
    assert reps.loc[reps["rep_id"] == "New", "segment"].tolist() == ["Territory"]
