"""``territory-engine adjust``: a mid-year change of a plan folder.

Thin: argument parsing and a summary; the work is in
:mod:`territory_engine.org.adjust.run`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from territory_engine.cli.errors import EXIT_INFEASIBLE, user_errors
from territory_engine.display.numbers import money
from territory_engine.errors import ScenarioError

_out = Console()
_err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add the ``adjust`` command to ``app``."""
    app.command("adjust")(user_errors(adjust))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ScenarioError(
            f"--effective {text!r} is not a date; write YYYY-MM-DD, e.g. 2027-07-01"
        ) from None


def adjust(
    plan_dir: Annotated[Path, typer.Argument(help="The plan folder to change.")],
    effective: Annotated[
        str, typer.Option("--effective", help="First day of the change (YYYY-MM-DD).")
    ],
    remove_rep: Annotated[
        list[str] | None,
        typer.Option("--remove-rep", help="A rep who leaves (repeat for several)."),
    ] = None,
    add_rep: Annotated[
        list[str] | None,
        typer.Option("--add-rep", help="A hire: 'R46:Jackson, MS[:segment]' (repeatable)."),
    ] = None,
    move_units: Annotated[
        str | None,
        typer.Option("--move-units", help="Units handed to reps: 'UNIT=REP,UNIT=REP'."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="New plan folder (default: PLAN_adjusted_DATE)."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Plan store (default: plans.sqlite beside the new folder)."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Override solver.time_limit (s).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override solver.seed.")] = None,
) -> None:
    """Re-draw PLAN_DIR from --effective on: a rep leaves, a rep joins, or units move.

    Only the territories the change touches are re-drawn (the rest stay as they
    are); quotas are pro-rated from the effective date and explained in
    quota_changes.csv. The new plan folder is recorded in the plan store as a
    new version, its parent and effective date in its plan.json.
    """
    from territory_engine.org.adjust.changes import (
        Change,
        RemoveRep,
        parse_add_rep,
        parse_move_units,
    )
    from territory_engine.org.adjust.run import adjust_plan

    when = _date(effective)
    changes: list[Change] = [RemoveRep(r.strip()) for r in remove_rep or []]
    changes += [parse_add_rep(text) for text in add_rep or []]
    if move_units is not None:
        changes.append(parse_move_units(move_units))
    result = adjust_plan(
        plan_dir, when, changes, output=output, store=store, seed=seed, time_limit=time_limit
    )
    table = Table(title=f"Adjusted plan: {result.plan_dir}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("effective", when.isoformat())
    table.add_row("re-drawn territories", ", ".join(result.redrawn))
    table.add_row("accounts moved", f"{result.moved_accounts:,}")
    table.add_row("units changed", f"{result.changed_units:,}")
    table.add_row("feasible", "yes" if result.alignment.feasible else "[red]no[/]")
    table.add_row("quota total (unchanged)", money(result.total_after / 100))
    table.add_row("seconds", f"{result.seconds:.1f}")
    _out.print(table)
    for text in result.changes["explanation"]:
        _out.print(f"- {text}", soft_wrap=True, markup=False, highlight=False)
    if result.plan_id is not None:
        _err.print(f"recorded as plan {result.plan_id} (parent {result.parent_id})", soft_wrap=True)
    if not result.alignment.feasible:
        _err.print("[red]The adjusted plan does not meet every hard rule:[/]")
        for v in result.alignment.violations[:20]:
            _err.print(f"  - {v}", markup=False)
        raise SystemExit(EXIT_INFEASIBLE)
