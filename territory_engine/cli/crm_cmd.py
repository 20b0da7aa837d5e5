"""``territory-engine assign`` and ``territory-engine export``: the plan and the CRM.

Thin: argument parsing, a table and the file write; the work is in
:mod:`territory_engine.crm`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from territory_engine.cli.errors import user_errors
from territory_engine.display.numbers import money

_out = Console()
_err = Console(stderr=True)


def _drift_table(result, plan_dir: Path) -> Table:
    """Territories that receive new accounts: what each measure gains, and its band."""
    drift = result.drift[result.drift["new_accounts"] > 0]
    table = Table(title=f"Balance drift of the new accounts: {plan_dir}")
    table.add_column("territory")
    table.add_column("rep")
    table.add_column("new", justify="right")
    for m in result.measures:
        table.add_column(f"{m} added", justify="right")
        table.add_column("change", justify="right")
        if f"{m}_in_band_after" in drift.columns:
            table.add_column("in band", justify="center")
    for _, row in drift.iterrows():
        cells = [str(row["territory_id"]), str(row["rep_id"]), f"{row['new_accounts']:,}"]
        for m in result.measures:
            added = row[f"{m}_added"]
            cells.append(money(added) if m == "potential" else f"{added:,.1f}")
            change = row[f"{m}_change_pct"]
            cells.append("" if math.isnan(change) else f"{change:+.1f} %")
            if f"{m}_in_band_after" in drift.columns:
                cells.append("yes" if row[f"{m}_in_band_after"] else "[red]no[/]")
        table.add_row(*cells)
    return table


def assign(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder (written by run).")],
    new_accounts: Annotated[Path, typer.Argument(help="Table of the new accounts.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="CSV to write (default: NEW_ACCOUNTS_assigned.csv beside it)."
        ),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", "-s", help="Scenario (default: the one in plan.json)."),
    ] = None,
) -> None:
    """Give each new account its owner by the plan's rules and report the balance drift.

    Rules, in order: a lock, the parent's owner, the territory of its unit in its
    segment, else the nearest eligible territory (flagged). The output CSV is
    written atomically; nothing is written on bad input.
    """
    from territory_engine.crm.route import route_new_accounts
    from territory_engine.io.safe_cells import csv_text
    from territory_engine.plan.atomic import write_text_atomically

    result = route_new_accounts(plan_dir, new_accounts, scenario)
    target = output or new_accounts.with_name(f"{new_accounts.stem}_assigned.csv")
    write_text_atomically(target, csv_text(result.assignments))
    _out.print(_drift_table(result, plan_dir))
    counts = ", ".join(f"{n:,} by {rule}" for rule, n in result.rule_counts().items() if n)
    _err.print(
        f"{len(result.assignments):,} new accounts: {counts}; wrote {target}", soft_wrap=True
    )
    flagged = result.assignments[result.assignments["flagged"]]
    for _, row in flagged.head(10).iterrows():
        _err.print(
            f"  flagged: {row['account_id']} lies outside every unit; nearest territory "
            f"{row['territory_id']} ({row['distance_km']:.1f} km)",
            soft_wrap=True,
        )


def export(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder.")],
    format: Annotated[str, typer.Option("--format", "-f", help="salesforce (Id, OwnerId) or csv.")],
    users: Annotated[
        Path | None,
        typer.Option("--users", help="rep_id,user_id table (salesforce: the CRM owner ids)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Export folder (default PLAN_DIR/export_FORMAT)."),
    ] = None,
    effective_date: Annotated[
        str | None,
        typer.Option("--effective-date", help="YYYY-MM-DD for csv (default: quota.plan_start)."),
    ] = None,
) -> None:
    """Write the plan's ownership changes against last year and its territory hierarchy.

    salesforce: owner_changes.csv with Id, OwnerId for Data Loader (reps mapped to
    CRM users by --users); csv: account_id, old_owner, new_owner, effective_date.
    Both write territory_hierarchy.csv (territory, rep, segment, region, district).
    """
    from territory_engine.crm.export import export_plan

    result = export_plan(
        plan_dir, format=format, users=users, output=output, effective_date=effective_date
    )
    _out.print(
        f"{len(result.changes):,} accounts change owner ({result.new_owners:,} had none last "
        f"year); wrote {result.folder / 'owner_changes.csv'} and territory_hierarchy.csv "
        f"({len(result.hierarchy):,} territories)",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add the ``assign`` and ``export`` commands to ``app``."""
    app.command("assign")(user_errors(assign))
    app.command("export")(user_errors(export))
