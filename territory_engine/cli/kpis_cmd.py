"""``territory-engine kpis``: the year's KPIs of a plan from a file of actuals.

Thin: argument parsing, a summary table and the folder write; the work is in
:mod:`territory_engine.org.kpis`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from territory_engine.cli.errors import user_errors
from territory_engine.display.numbers import money, percent

_out = Console()
_err = Console(stderr=True)


def _share(rate: float | None, hit: int, n: int) -> str:
    if rate is None or math.isnan(rate):
        return "–"
    return f"{percent(rate)} ({hit} of {n})"


def _summary_table(result) -> Table:
    s = result.summary
    low, high = s["healthy_band"]
    table = Table(title=escape(f"KPIs: {result.plan_name}, {result.months[0]} to {result.as_of}"))
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row(
        "reps at or above pro-rated quota",
        _share(s["share_on_pace"], s["reps_on_pace"], s["reps_counted_prorated"]),
    )
    table.add_row(
        f"  healthy {percent(low, digits=0)} to {percent(high, digits=0)}",
        escape(s["healthy_verdict"]),
    )
    table.add_row(
        "reps at or above full-year quota",
        _share(s["share_at_quota_ytd"], s["reps_at_quota_ytd"], s["reps"]),
    )
    table.add_row("YTD actual / YTD quota", f"{money(s['ytd_actual'])} / {money(s['ytd_quota'])}")
    if s["prorated_attainment_pct"] is not None:
        table.add_row("  pro-rated attainment", percent(s["prorated_attainment_pct"], scale=1.0))
    table.add_row("territories drifting out of balance", str(s["drifting_territories"]))
    if result.forecast is not None:
        for row in result.forecast.to_dict("records"):
            wape = row["wape_pct"]
            table.add_row(
                escape(f"forecast WAPE, {row['level']}"),
                "–" if math.isnan(wape) else percent(wape, scale=1.0),
            )
    return table


def kpis(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder (written by run).")],
    actuals: Annotated[
        Path,
        typer.Argument(
            help="Monthly actual revenue: account_id (or territory_id, or rep_id), month "
            "(YYYY-MM), revenue."
        ),
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Last month counted, YYYY-MM (default: the last in the file)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder to write (default PLAN_DIR/kpis)."),
    ] = None,
) -> None:
    """The year's KPIs: share of reps at quota, attainment by group, forecast accuracy, drift.

    Writes kpis.json, kpis.csv (per territory) and kpis.html atomically; nothing is
    written on bad input.
    """
    from territory_engine.org.kpis import compute_kpis, write_kpis

    result = compute_kpis(plan_dir, actuals, as_of=as_of)
    folder = write_kpis(result, output)
    _out.print(_summary_table(result))
    for note in result.notes:
        _err.print(escape(f"note: {note}"), soft_wrap=True)
    _err.print(escape(f"wrote {folder}/kpis.html, kpis.json, kpis.csv"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``kpis`` command to ``app``."""
    app.command("kpis")(user_errors(kpis))
