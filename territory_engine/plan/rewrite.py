"""Rewrite files of an existing plan folder atomically (scores, quotas, the report)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from territory_engine.config import Scenario
from territory_engine.plan.atomic import is_temp_name, write_folder_atomically
from territory_engine.plan.files import WORKBOOK
from territory_engine.plan.reader import read_plan_csv


def rewrite_folder(plan_dir: Path, replace: dict[str, Callable[[Path], None]]) -> Path:
    """Rewrite ``plan_dir`` atomically: copy every other entry, then write ``replace``'s files.

    Parameters
    ----------
    plan_dir
        The existing plan folder.
    replace
        File name -> function writing that file at the path it is given.
    """
    plan_dir = Path(plan_dir)

    def write(folder: Path) -> None:
        for entry in sorted(plan_dir.iterdir()):
            # A temporary entry of a killed writer (``rep --all-reps`` into
            # ``PLAN_DIR/reps``) is not part of the plan: it is not copied.
            if entry.name in replace or is_temp_name(entry.name):
                continue
            if entry.is_dir():
                shutil.copytree(entry, folder / entry.name)
            else:
                shutil.copy2(entry, folder / entry.name)
        for name, writer in replace.items():
            writer(folder / name)

    return write_folder_atomically(plan_dir, write)


def report_writer(
    plan_dir: Path, card: dict, quotas: pd.DataFrame | None, scenario: Scenario
) -> Callable[[Path], None] | None:
    """A writer that re-renders ``report.html`` from the new scorecard, or ``None``.

    The report shows the scorecard and the quotas; after re-scoring or
    re-allocating it would otherwise be stale. Needs the folder's
    ``territories.csv`` (plans written by ``run``); quotas come from the new
    allocation or the folder's ``quotas.csv``.
    """
    territories_path = plan_dir / "territories.csv"
    quotas_path = plan_dir / "quotas.csv"
    if not territories_path.is_file() or (quotas is None and not quotas_path.is_file()):
        return None
    from territory_engine.render.report import render_report

    territories = read_plan_csv(territories_path)
    if quotas is None:
        quotas = read_plan_csv(quotas_path)
    html = render_report(
        card, territories, quotas, measures=list(scenario.balance), title=scenario.name
    )
    return text_writer(html)


def workbook_writer(plan_dir: Path, quotas: pd.DataFrame) -> Callable[[Path], None] | None:
    """A writer that rebuilds ``plan.xlsx`` with new ``quotas``, or ``None``.

    Only for a folder that has a workbook already and the tables it is built from
    (``territories.csv``, ``assignments.csv``, ``accounts.csv``, ``reps.csv``).
    """
    from territory_engine.plan.workbook import plan_sheets, write_plan_workbook

    names = ("territories.csv", "assignments.csv", "accounts.csv", "reps.csv")
    if not (plan_dir / WORKBOOK).is_file() or not all((plan_dir / n).is_file() for n in names):
        return None
    territories, assignments, accounts, reps = (read_plan_csv(plan_dir / n) for n in names)
    sheets = plan_sheets(territories, quotas, assignments, accounts, reps)

    def write(path: Path) -> None:
        write_plan_workbook(path, sheets)

    return write


def text_writer(text: str) -> Callable[[Path], None]:
    """A writer of ``text`` (UTF-8) for :func:`rewrite_folder`."""

    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write
