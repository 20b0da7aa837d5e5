"""The actuals reader: every bad cell named by file, row, id and column (issue 17, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_engine.errors import InputError
from territory_engine.io.actuals import read_actuals
from territory_engine.org.kpis import compute_kpis

MONTHS = [f"2027-{m:02d}" for m in range(1, 13)]
KNOWN = {
    "account_id": {"A1": "T-R1", "A2": "T-R1", "A3": "T-R2"},
    "territory_id": {"T-R1": "T-R1", "T-R2": "T-R2"},
    "rep_id": {"R1": "T-R1", "R2": "T-R2"},
}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def read(path: Path, months=MONTHS):
    return read_actuals(path, territory_of=KNOWN, plan_months=months)


def test_per_account_rows_are_tied_to_their_territory(tmp_path):
    f = write(tmp_path / "a.csv", "account_id,month,revenue\nA1,2027-01,10\nA3,2027-02,5.5\n")
    actuals = read(f)
    assert actuals.by == "account_id"
    assert actuals.rows["territory_id"].tolist() == ["T-R1", "T-R2"]
    assert actuals.rows["revenue"].tolist() == [10.0, 5.5]
    assert actuals.months == ("2027-01", "2027-02")


@pytest.mark.parametrize(("column", "key"), [("territory_id", "T-R2"), ("rep_id", "R2")])
def test_per_territory_or_per_rep(tmp_path, column, key):
    f = write(tmp_path / "t.csv", f"{column},month,revenue\n{key},2027-03,7\n")
    actuals = read(f)
    assert actuals.by == column and actuals.rows["territory_id"].tolist() == ["T-R2"]


def test_a_spreadsheet_date_is_read_as_its_month(tmp_path):
    f = write(tmp_path / "a.csv", "account_id,month,revenue\nA1,2027-04-01,1\n")
    assert read(f).rows["month"].tolist() == ["2027-04"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "A1,2027-01,10\nA11,2027-01,5\n",
            r"a\.csv, row 3, id 'A11', column 'account_id': 'A11' is not an account of the plan "
            r"\(did you mean 'A1'\?\); a new account is not in the plan yet",
        ),
        (
            "A1,2027-01,10\nA2,2027-01,1\nA1,2027-01,3\n",
            r"row 4, id 'A1', column 'month': account 'A1' has two rows for 2027-01 "
            r"\(also on row 2\); give one total per month",
        ),
        (
            "A1,2026-12,10\n",
            r"row 2, id 'A1', column 'month': '2026-12' is outside the plan year "
            r"\(2027-01 to 2027-12\)",
        ),
        ("A1,2027-13,10\n", r"row 2, id 'A1', column 'month': '2027-13' is not a month"),
        ("A1,Jan 2027,10\n", r"column 'month': 'Jan 2027' is not a month; write it as YYYY-MM"),
        ("A1,,10\n", r"row 2, id 'A1', column 'month': is empty; write the month as YYYY-MM"),
        (
            "A1,2027-01,-4\n",
            r"row 2, id 'A1', column 'revenue': -4 is not allowed; it must be >= 0",
        ),
        ('A1,2027-01,"1,200"\n', r"column 'revenue': '1,200' is not a number \(write plain"),
        ("A1,2027-01,inf\n", r"column 'revenue': 'inf' is not a finite number"),
        (",2027-01,3\n", r"row 2, column 'account_id': account_id is empty"),
    ],
)
def test_bad_rows_are_named(tmp_path, body, message):
    f = write(tmp_path / "a.csv", "account_id,month,revenue\n" + body)
    with pytest.raises(InputError, match=message):
        read(f)


def test_a_rep_unknown_to_the_plan_is_named(tmp_path):
    f = write(tmp_path / "r.csv", "rep_id,month,revenue\nR1,2027-01,1\nR7,2027-01,1\n")
    with pytest.raises(InputError, match=r"row 3, id 'R7', column 'rep_id': 'R7' is not a rep"):
        read(f)


def test_missing_columns_list_what_the_file_has(tmp_path):
    f = write(tmp_path / "a.csv", "customer,month,revenue\nA1,2027-01,1\n")
    with pytest.raises(InputError, match=r"missing column 'account_id'.*columns: customer"):
        read(f)
    f = write(tmp_path / "b.csv", "account_id,month,amount\nA1,2027-01,1\n")
    with pytest.raises(InputError, match=r"missing column 'revenue'"):
        read(f)


def test_a_missing_or_empty_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read(tmp_path / "nope.csv")
    f = write(tmp_path / "a.csv", "account_id,month,revenue\n")
    with pytest.raises(InputError, match="the actuals table has no rows"):
        read(f)


def test_without_a_plan_year_any_month_passes(tmp_path):
    f = write(tmp_path / "a.csv", "account_id,month,revenue\nA1,2031-05,1\n")
    assert read(f, months=None).months == ("2031-05",)


def test_more_than_a_year_of_actuals_without_a_plan_start_fails(tmp_path):
    from tests.org.test_kpis import write_plan

    plan = write_plan(tmp_path / "plan", plan_start=None)
    f = write(tmp_path / "a.csv", "account_id,month,revenue\nA1,2027-01,1\nA1,2028-01,1\n")
    with pytest.raises(InputError, match=r"month 2028-01 lies more than a year after"):
        compute_kpis(plan, f)
