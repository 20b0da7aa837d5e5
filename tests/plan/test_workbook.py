"""``plan.xlsx``: the plan folder's workbook (sheets, formats, panes, kept in step)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from openpyxl import load_workbook

from territory_engine.plan.files import PLAN_FILES, WORKBOOK
from territory_engine.plan.reader import read_plan_csv
from territory_engine.plan.workbook import MONEY_FORMAT, PERCENT_FORMAT, SHEETS


@pytest.fixture(scope="module")
def book(plan_dir):
    return load_workbook(plan_dir / WORKBOOK)


def header(sheet) -> list[str]:
    return [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]


def column(sheet, name: str) -> list:
    i = header(sheet).index(name)
    return [row[i] for row in sheet.iter_rows(min_row=2)]


def test_the_workbook_is_part_of_the_plan_folder_contract(plan_dir, book):
    assert WORKBOOK in PLAN_FILES
    assert (plan_dir / WORKBOOK).is_file()
    assert book.sheetnames == list(SHEETS)


def test_every_sheet_has_a_bold_frozen_header_and_fitted_widths(book):
    for sheet in book:
        assert sheet.freeze_panes == "B2", sheet.title
        first = next(sheet.iter_rows(min_row=1, max_row=1))
        assert all(c.font.bold for c in first), sheet.title
        widths = [sheet.column_dimensions[c.column_letter].width for c in first]
        assert all(8 <= w <= 60 for w in widths), (sheet.title, widths)
        assert widths != [widths[0]] * len(widths)


def test_the_sheets_hold_the_plan_tables(plan_dir, book):
    territories = read_plan_csv(plan_dir / "territories.csv")
    quotas = read_plan_csv(plan_dir / "quotas.csv")
    assignments = read_plan_csv(plan_dir / "assignments.csv")
    assert header(book["territories"]) == list(territories.columns)
    assert header(book["quotas"]) == list(quotas.columns)
    assert "explanation" in header(book["quotas"])
    assert header(book["assignments"])[:7] == list(assignments.columns)
    assert book["assignments"].max_row == len(assignments) + 1
    assert book["moves"].max_row == int(assignments["moved"].sum()) + 1
    quota_cells = column(book["quotas"], "quota")
    assert [c.value for c in quota_cells] == pytest.approx(quotas["quota"].tolist())
    assert [c.value for c in column(book["quotas"], "explanation")] == quotas[
        "explanation"
    ].tolist()


def test_money_and_percent_columns_are_formatted(plan_dir, book):
    territories = read_plan_csv(plan_dir / "territories.csv")
    potential = column(book["territories"], "potential")
    assert {c.number_format for c in potential} == {MONEY_FORMAT}
    assert {c.number_format for c in column(book["quotas"], "quota")} == {MONEY_FORMAT}
    dev = column(book["territories"], "potential_dev_pct")
    assert {c.number_format for c in dev} == {PERCENT_FORMAT}
    # The CSV holds percent, the workbook the fraction Excel's percent format expects.
    assert [c.value for c in dev] == pytest.approx(
        (territories["potential_dev_pct"] / 100).tolist()
    )
    assert {c.data_type for c in column(book["territories"], "rep_id")} == {"s"}


def test_moves_are_the_accounts_whose_owner_changes(plan_dir, book):
    assignments = read_plan_csv(plan_dir / "assignments.csv")
    moved = assignments[assignments["moved"]].set_index("account_id")
    rows = list(book["moves"].iter_rows(min_row=2, values_only=True))
    names = header(book["moves"])
    got = pd.DataFrame(rows, columns=names).set_index("account_id")
    assert set(got.index) == set(moved.index)
    assert (got["from_rep_id"] == moved.loc[got.index, "previous_rep_id"]).all()
    assert (got["to_rep_id"] == moved.loc[got.index, "rep_id"]).all()
    assert got["potential"].is_monotonic_decreasing


def test_requota_rewrites_the_workbook_with_the_new_quotas(plan_dir, tmp_path, repo_root):
    from territory_engine.plan.requota import reallocate_quotas

    plan = tmp_path / "plan"
    shutil.copytree(plan_dir, plan)
    scenario = tmp_path / "flat.yaml"
    scenario.write_text(
        f"extends: {repo_root / 'scenarios' / 'fy_baseline.yaml'}\nquota: {{method: flat}}\n",
        encoding="utf-8",
    )
    reallocate_quotas(plan, scenario)
    quotas = read_plan_csv(plan / "quotas.csv")
    assert set(quotas["method"]) == {"flat"}
    book = load_workbook(plan / WORKBOOK)
    assert [c.value for c in column(book["quotas"], "method")] == ["flat"] * len(quotas)
    assert [c.value for c in column(book["quotas"], "quota")] == pytest.approx(
        quotas["quota"].tolist()
    )
