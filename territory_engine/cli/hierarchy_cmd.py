"""``territory-engine hierarchy``: draw districts and regions on an existing plan folder.

Thin: argument parsing and a summary table; the work is in
:func:`territory_engine.org.hierarchy.plan.redraw_plan_hierarchy`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from territory_engine.cli.errors import EXIT_INFEASIBLE, user_errors
from territory_engine.display.numbers import percent

_out = Console()
_err = Console(stderr=True)


def hierarchy(
    plan_dir: Annotated[Path, typer.Argument(help="A plan folder written by run.")],
    levels: Annotated[
        str,
        typer.Option("--levels", help="Levels bottom up as name:count, e.g. district:8,region:3."),
    ],
    tolerance: Annotated[
        float | None,
        typer.Option(
            "--tolerance", min=0.0, max=0.99, help="Band of every measure (default 0.10)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Default: the plan's seed.")] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, help="Solver seconds per level.")
    ] = 10.0,
) -> None:
    """Draw a hierarchy on PLAN_DIR and rewrite it atomically (hierarchy.csv, hierarchy.geojson,
    quotas.csv's region and district, scorecard.json, map.html, plan.xlsx, plan.json)."""
    from territory_engine.org.hierarchy.plan import parse_levels, redraw_plan_hierarchy

    config = parse_levels(levels).model_copy(update={"time_limit": time_limit})
    folder, drawn = redraw_plan_hierarchy(plan_dir, config, seed=seed, tolerance=tolerance)
    table = Table(title=f"hierarchy of {folder}")
    table.add_column("level")
    table.add_column("groups", justify="right")
    table.add_column("territories per group", justify="right")
    for measure in drawn.measures:
        table.add_column(f"{measure}: max dev / out of band", justify="right")
    table.add_column("in pieces", justify="right")
    for name in drawn.level_names:
        score = drawn.score[name]
        counts = drawn.table[name].value_counts()
        row = [name, str(score["n_groups"]), f"{counts.min()}–{counts.max()}"]
        for measure in drawn.measures:
            b = score["balance"][measure]
            row.append(f"{percent(b['max_rel_dev'])} / {b['out_of_band']}")
        row.append(str(score["contiguity"]["groups_in_pieces"]))
        table.add_row(*row)
    _out.print(table)
    if not drawn.feasible:
        for line in drawn.violations:
            _err.print(f"violation: {line}", highlight=False, markup=False)
        raise typer.Exit(EXIT_INFEASIBLE)


def register(app: typer.Typer) -> None:
    """Add the ``hierarchy`` command to ``app``."""
    app.command("hierarchy")(user_errors(hierarchy))
