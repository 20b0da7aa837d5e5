"""``territory-engine sweep``: run a grid of scenario variants in parallel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from territory_engine.cli.errors import user_errors
from territory_engine.display.numbers import number, percent
from territory_engine.errors import InputError

# soft_wrap: a progress line or a command to paste is never broken over two lines.
console = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``sweep`` command to ``app``."""
    app.command("sweep")(user_errors(sweep))


class _Progress:
    """One line on stderr per finished variant: ``[5/16] v04_... done in 12.3 s: ...``."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, event: str, info: dict) -> None:
        if self.quiet:
            return
        if event == "start":
            console.print(f"running {info['total']} variants ({info['mode']})")
        elif event == "done":
            r = info["record"]
            head = f"[{info['done']}/{info['total']}] {r['variant']}"
            if r["status"] in ("ok", "infeasible") and r["plan_dir"]:
                flag = "feasible" if r["status"] == "ok" else "[red]infeasible[/]"
                console.print(
                    f"{escape(head)} done in {r['seconds']:.1f} s: {flag}, balance "
                    f"{percent(r['balance_max_dev'])}, "
                    f"moved {percent(r['moved_potential_share'])}, "
                    f"travel {number(r['travel_mean_km'], 0)} km",
                    highlight=False,
                )
            else:
                console.print(
                    f"{escape(head)} [red]{r['status'].replace('_', ' ')}[/] after "
                    f"{r['seconds']:.1f} s: {escape(r['error'])}",
                    highlight=False,
                )
        elif event == "write":
            console.print(f"writing {info['folder']}")


def _summary(result) -> Table:
    table = Table(title=f"Sweep {result.sweep_id}: {result.sweep_dir}")
    for name, justify in (
        ("rank", "right"),
        ("variant", "left"),
        ("status", "left"),
        ("★", "center"),
        ("balance", "right"),
        ("moved pot.", "right"),
        ("travel km", "right"),
        ("ties kept", "right"),
        ("solve s", "right"),
        ("plan id", "left"),
    ):
        table.add_column(name, justify=justify)
    for r in result.table.to_dict("records"):
        rank = "" if r["rank"] is None or str(r["rank"]) == "<NA>" else str(r["rank"])
        table.add_row(
            rank,
            r["variant"],
            r["status"].replace("_", " "),
            "★" if r["pareto"] else "",
            percent(r["balance_max_dev"]),
            percent(r["moved_potential_share"]),
            number(r["travel_mean_km"], 0),
            percent(r["retention_share"]),
            number(r["solve_seconds"], 1),
            str(r.get("plan_id") or ""),
        )
    return table


def sweep(
    scenario: Annotated[Path, typer.Argument(help="Base scenario YAML file.")],
    grid: Annotated[
        list[str],
        typer.Option(
            "--grid",
            "-g",
            help="KEY=V1,V2,... : a scenario key (dotted) and its values; repeat for more "
            "axes (the sweep runs every combination).",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Sweep folder (default: sweep_<scenario> beside the scenario's plan folder).",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes of the local cluster (default: one per core)."),
    ] = None,
    serial: Annotated[
        bool, typer.Option("--serial", help="Run the variants one after another, no Dask.")
    ] = False,
    store: Annotated[
        Path | None,
        typer.Option(
            help="Plan store (default: the scenario's output.store, else plans.sqlite beside "
            "the sweep folder)."
        ),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Every variant's solver.time_limit (s).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Run every combination of the --grid values over SCENARIO, in parallel.

    Every key and value is checked before anything runs. Writes one plan folder per
    variant, sweep.csv (every variant's headline numbers and error) and sweep.html (the
    table and the Pareto charts); records the plans in the plan store. Exit 0 when every
    variant gave a feasible plan, 3 when some are infeasible, 2 when some failed on bad
    input, 4 on an internal error.
    """
    from territory_engine.sweep.run import run_sweep

    if scheduler and (serial or workers):
        raise InputError("--scheduler runs the sweep on that cluster: drop --serial and --workers")
    result = run_sweep(
        scenario,
        grid,
        output=output,
        scheduler=scheduler,
        workers=workers,
        serial=serial,
        store=store,
        time_limit=time_limit,
        progress=_Progress(quiet),
    )
    # Never narrower than 160 columns, so the table stays readable in pipes and logs.
    out = Console(width=max(Console().width, 160), soft_wrap=True)
    out.print(_summary(result))
    failed = result.table[result.table["status"] != "ok"]
    if len(failed):
        console.print(
            f"[red]{len(failed)} of {len(result.table)} variants have no feasible plan:[/]"
        )
        for r in failed.to_dict("records"):
            console.print(
                f"  - {r['variant']} ({r['status'].replace('_', ' ')}): {r['error']}",
                highlight=False,
                markup=False,
            )
    console.print(
        f"wrote {result.sweep_dir / 'sweep.html'} and sweep.csv in {result.seconds:.1f} s; "
        f"plans recorded in {result.store_path}",
        highlight=False,
    )
    out.print(f"list the plans:   {result.list_command}", highlight=False, markup=False)
    if result.compare_command:
        a, b = result.best[:2]
        out.print(
            f"two best plans:   {a['plan_id']} ({a['variant']}), {b['plan_id']} ({b['variant']})",
            highlight=False,
            markup=False,
        )
        out.print(f"compare them:     {result.compare_command}", highlight=False, markup=False)
    else:
        out.print("fewer than two feasible plans: nothing to compare", highlight=False)
    if result.exit_code:
        raise SystemExit(result.exit_code)
