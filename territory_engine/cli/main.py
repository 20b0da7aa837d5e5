"""The ``territory-engine`` command: argument parsing; progress is shown by ``cli/progress.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from territory_engine.cli import (
    adjust_cmd,
    capacity_cmd,
    crm_cmd,
    hierarchy_cmd,
    kpis_cmd,
    partition_cmd,
    plans_cmd,
    quota_cmd,
    scenario_cmd,
    studio_cmd,
    sweep_cmd,
    validate_cmd,
    views_cmd,
)
from territory_engine.cli.errors import EXIT_INFEASIBLE, user_errors
from territory_engine.cli.progress import Mode, RunProgress
from territory_engine.display.numbers import money, percent
from territory_engine.errors import InfeasibleError, InputError, ScenarioError
from territory_engine.metrics.card import travel_unit

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Sales territory design and quota optimisation.",
)
console = Console(stderr=True)


partition_cmd.register(app)
validate_cmd.register(app)
views_cmd.register(app)
quota_cmd.register(app)
scenario_cmd.register(app)
plans_cmd.register(app)
sweep_cmd.register(app)
crm_cmd.register(app)
capacity_cmd.register(app)
kpis_cmd.register(app)
studio_cmd.register(app)
adjust_cmd.register(app)
hierarchy_cmd.register(app)


@app.callback()
def _root() -> None:
    """Sales territory design and quota optimisation."""


def _summary(result) -> Table:
    card = result.scorecard
    table = Table(title=f"Plan: {result.plan_dir}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("territories", str(card["n_territories"]))
    table.add_row("accounts", f"{card['n_accounts']:,}")
    placed = result.plan.provenance.get("problem", {}).get("accounts_placed_by", {})
    if placed.get("zip") or placed.get("unit_id"):
        table.add_row(
            "accounts placed by ZIP / by unit id", f"{placed['zip']:,} / {placed['unit_id']:,}"
        )
    table.add_row("feasible", "yes" if result.alignment.feasible else "[red]no[/]")
    for name, stats in card["balance"].items():
        table.add_row(
            f"{name}: max deviation / out of band",
            f"{percent(stats['max_rel_dev'])} / {stats['territories_out_of_band']}",
        )
        table.add_row(f"{name}: balance index", f"{stats['balance_index']:.1f}")
    table.add_row(
        f"travel: mean / max {travel_unit(card)}",
        f"{card['travel']['mean_km']:.0f} / {card['travel']['max_km']:.0f}",
    )
    d = card["disruption"]
    table.add_row(
        "moved: accounts / potential",
        f"{d['moved_accounts']:,} ({percent(d['moved_accounts_share'])}) / "
        f"{percent(d['moved_potential_share'])}",
    )
    if "contiguity" in card:
        table.add_row("territories in pieces", str(card["contiguity"]["territories_in_pieces"]))
    if "quota" in card:
        table.add_row("quota total", money(card["quota"]["total"]))
    table.add_row("solve seconds", f"{result.alignment.stats.seconds:.1f}")
    return table


@app.command()
@user_errors
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Plan folder (overrides the scenario's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override solver.seed.")] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Override solver.time_limit (s).")
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Log every solver step (each local search pass)."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress output, only the summary.")
    ] = False,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Plan store to record the run in (default: output.store, else "
            "plans.sqlite beside the plan folder).",
        ),
    ] = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not record the run in a plan store.")
    ] = False,
    from_plan: Annotated[
        Path | None,
        typer.Option(
            "--from-plan",
            help="Start from this plan folder: its owners are the current owners "
            "(disruption) and the solver's start (sets whatif.base_plan).",
        ),
    ] = None,
) -> None:
    """Run SCENARIO, write its plan folder and record it in the plan store."""
    from territory_engine.config import load_scenario
    from territory_engine.pipeline.run import run_scenario

    if store is not None and no_store:
        raise InputError("give --store or --no-store, not both")
    if verbose and quiet:
        raise InputError("give --verbose or --quiet, not both")
    sc = load_scenario(scenario)
    overrides = {}
    if seed is not None:
        overrides["seed"] = seed
    if time_limit is not None:
        overrides["time_limit"] = time_limit
    if overrides:
        sc = sc.model_copy(update={"solver": sc.solver.model_copy(update=overrides)})
    if from_plan is not None:
        from territory_engine.config.whatif import with_base_plan

        sc = with_base_plan(sc, from_plan)
    mode: Mode = "quiet" if quiet else "verbose" if verbose else "live"
    try:
        with RunProgress(console, mode=mode, time_limit=sc.solver.time_limit) as progress:
            result = run_scenario(
                sc, output=output or sc.output.folder, source=scenario, progress=progress
            )
    except (ScenarioError, InfeasibleError) as exc:
        # Problems found after validation (a lock naming an unknown rep, an
        # impossible band) still say which scenario they come from.
        raise type(exc)(f"{scenario}: {exc}") from None
    Console().print(_summary(result))
    if not no_store:
        _record(result.plan_dir, store or sc.output.store)
    if not result.alignment.feasible:
        console.print("[red]The plan does not meet every hard rule:[/]")
        for v in result.alignment.violations[:20]:
            console.print(f"  - {v}")
        raise SystemExit(EXIT_INFEASIBLE)


def _record(plan_dir: Path, store: Path | None) -> None:
    """Record the plan folder in the plan store (infeasible plans too) and say so."""
    from territory_engine.store import PlanStore, StoreError, default_store_path

    path = Path(store) if store is not None else default_store_path(plan_dir)
    try:
        plan_id = PlanStore(path).record_folder(plan_dir)
    except StoreError as exc:
        raise StoreError(f"the plan was written to {plan_dir} but not recorded: {exc}") from None
    console.print(f"recorded as plan {plan_id} in {path}", soft_wrap=True)


def main() -> None:
    """Entry point of the ``territory-engine`` script."""
    app()


if __name__ == "__main__":
    main()
