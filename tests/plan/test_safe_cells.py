"""Formula injection: every text cell the engine writes to CSV or Excel is neutralised.

The rule is one function (:mod:`territory_engine.io.safe_cells`); these tests check
the rule, that it is reversible so plans read back as written, and that every CSV
and Excel writer of the package goes through it.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pandas as pd
import pytest

import territory_engine as te
from territory_engine.io.safe_cells import (
    TRIGGERS,
    csv_text,
    restore_frame,
    restore_text,
    safe_frame,
    safe_text,
    write_csv,
)
from territory_engine.plan.reader import read_plan_csv, read_plan_folder

PACKAGE = Path(te.__file__).resolve().parent

TEXTS = [
    "=1+1",
    "+33 1 23 45",
    "-lookup",
    "@SUM(A1:A9)",
    "\t=cmd",
    "\r=cmd",
    "'=already quoted",
    "''+two quotes",
    "'plain quote",
    "Acme",
    "",
    "a=b",
    "-",
]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_a_text_starting_with_a_trigger_gets_a_quote(trigger):
    assert safe_text(f"{trigger}HYPERLINK()") == f"'{trigger}HYPERLINK()"


@pytest.mark.parametrize("value", [-12.5, 3, 0.0, True, None, "-12.5", "+3", "-1e-3", "-.5"])
def test_numbers_stay_numbers(value):
    assert safe_text(value) is value


@pytest.mark.parametrize("text", TEXTS)
def test_restoring_gives_back_the_text_as_it_was(text):
    written = safe_text(text)
    assert isinstance(written, str)
    assert written[:1] not in TRIGGERS
    assert restore_text(written) == text


def test_safe_frame_touches_text_columns_only_and_not_the_input():
    frame = pd.DataFrame(
        {
            "name": ["=cmd|' /C calc'!A0", "Acme", "-x"],
            "delta": [-1.5, 2.0, -3.0],
            "count": [-1, 0, 1],
            "moved": [True, False, True],
        }
    )
    safe = safe_frame(frame)
    assert safe["name"].tolist() == ["'=cmd|' /C calc'!A0", "Acme", "'-x"]
    assert safe["delta"].tolist() == [-1.5, 2.0, -3.0]
    assert safe["count"].dtype == frame["count"].dtype
    assert frame.at[0, "name"] == "=cmd|' /C calc'!A0"  # the input is not changed
    text = csv_text(frame)
    assert text.splitlines()[1] == "'=cmd|' /C calc'!A0,-1.5,-1,True"
    assert restore_frame(safe.copy())["name"].tolist() == frame["name"].tolist()


def test_the_plan_reader_reads_back_what_the_writer_wrote(tmp_path):
    frame = pd.DataFrame(
        {
            "account_id": ["-A1", "A2", "=A3"],
            "name": TEXTS[:3],
            "potential": [-5.0, 1.0, 2.5],
        }
    )
    path = tmp_path / "accounts.csv"
    write_csv(frame, path)
    raw = path.read_text(encoding="utf-8").splitlines()
    assert raw[1].startswith("'-A1,'=1+1,-5.0")
    back = read_plan_csv(path)
    assert back["account_id"].tolist() == ["-A1", "A2", "=A3"]
    assert back["name"].tolist() == TEXTS[:3]
    assert back["potential"].tolist() == [-5.0, 1.0, 2.5]


def test_a_plan_with_formula_names_reads_scores_and_exports_as_written(plan_dir, tmp_path):
    """Names as a CRM might hold them survive the round trip, and every file is safe."""
    from territory_engine.plan.compare import moved_accounts
    from territory_engine.plan.workbook import plan_sheets, write_plan_workbook

    plan = tmp_path / "plan"
    shutil.copytree(plan_dir, plan)
    accounts = read_plan_csv(plan / "accounts.csv")
    reps = read_plan_csv(plan / "reps.csv")
    evil = '=HYPERLINK("http://evil","Acme")'
    moved = read_plan_csv(plan / "assignments.csv").query("moved")["account_id"].iloc[0]
    accounts.loc[accounts["account_id"] == moved, "name"] = evil
    reps.loc[0, "name"] = "@SUM(1+1)"
    write_csv(accounts, plan / "accounts.csv")
    write_csv(reps, plan / "reps.csv")
    assert f"'{evil}"[:12] in (plan / "accounts.csv").read_text(encoding="utf-8")

    folder = read_plan_folder(plan)
    assert evil in folder.accounts["name"].tolist()
    assert "@SUM(1+1)" in folder.reps["name"].tolist()
    moves = moved_accounts(folder.assignments, folder.assignments, folder.accounts, folder.reps)
    assert moves.empty  # the same plan twice: nothing moves, and nothing breaks
    sheets = plan_sheets(
        folder.territories, folder.quotas, folder.assignments, folder.accounts, folder.reps
    )
    write_plan_workbook(plan / "plan.xlsx", sheets)

    from openpyxl import load_workbook

    book = load_workbook(plan / "plan.xlsx")
    names = [c.value for c in book["assignments"]["H"]]
    assert f"'{evil}" in names
    formulas = [
        c.coordinate
        for sheet in book
        for row in sheet.iter_rows()
        for c in row
        if c.data_type == "f" or (isinstance(c.value, str) and c.value[:1] in "=+@")
    ]
    assert formulas == []
    # Scoring the folder still works (names play no part, the ids are unchanged).
    result = te.score_plan(plan)
    assert result.card["n_accounts"] == 6000


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    """Calls that write CSV or Excel: ``to_csv``, ``to_excel``, ``csv.writer``, ``Workbook()``."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        on_csv = isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "csv"
        if name in {"to_csv", "to_excel", "Workbook"} or (on_csv and "riter" in name):
            found.append((node.lineno, name))
    return found


def test_every_csv_and_excel_writer_of_the_package_goes_through_safe_cells():
    allowed = {
        # The one rule.
        "io/safe_cells.py": {"to_csv"},
        # The workbook writer: its frames pass through safe_frame first.
        "plan/workbook.py": {"Workbook"},
        # An in-memory buffer the store parses straight back (nothing reaches a file).
        "store/plan_store.py": {"writer"},
    }
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        for line, kind in _writes(ast.parse(path.read_text(encoding="utf-8"))):
            if kind not in allowed.get(name, set()):
                offenders.append(f"{name}:{line} {kind}")
    assert offenders == [], "write CSV through territory_engine.io.safe_cells:\n" + "\n".join(
        offenders
    )
