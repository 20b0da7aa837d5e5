"""``territory-engine plans list|show|delete``: the plans recorded in the plan store.

Without ``--store`` these commands read ``out/plans.sqlite`` relative to the current
directory, the store ``territory-engine run`` writes for plan folders under ``out/``
(``<parent of the plan folder>/plans.sqlite``). A missing store is an error, never
a new empty file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from territory_engine.cli.errors import user_errors
from territory_engine.display.numbers import money, number
from territory_engine.errors import InputError
from territory_engine.metrics.card import travel_unit

#: The store the ``plans`` commands (and ``compare``) read without ``--store``.
DEFAULT_CLI_STORE = Path("out") / "plans.sqlite"

console = Console(stderr=True)

plans_app = typer.Typer(
    no_args_is_help=True,
    help="The plans recorded in the plan store (default: out/plans.sqlite).",
)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Plan store file (default: out/plans.sqlite in the current directory).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``plans`` command group to ``app``."""
    app.add_typer(plans_app, name="plans")


def open_store(store: Path | None):
    """The existing plan store ``store`` (default :data:`DEFAULT_CLI_STORE`).

    Raises
    ------
    territory_engine.store.StoreError
        "no plan store at X; run a scenario first" when the file is missing.
    """
    from territory_engine.store import PlanStore

    return PlanStore(store if store is not None else DEFAULT_CLI_STORE, create=False)


def resolve_plan_argument(given: Path, store: Path | None) -> tuple[Path, str]:
    """A ``compare`` argument as a plan folder: a folder as is, else a plan id looked up.

    Parameters
    ----------
    given
        A plan folder, or a plan id (or an unambiguous prefix) of the store.
    store
        The plan store (default :data:`DEFAULT_CLI_STORE`).

    Returns
    -------
    tuple[pathlib.Path, str]
        The plan folder, and a short name for it (the folder's name, or the id).

    Raises
    ------
    InputError
        Neither an existing folder nor a plan id; the plan's folder is gone or holds
        another plan since.
    """
    path = Path(given)
    text = str(given)
    # Anything that names a path (a separator, an existing file) keeps the folder rules.
    if path.is_dir() or path.exists() or "/" in text or "\\" in text:
        return path, path.resolve().name
    store_file = store if store is not None else DEFAULT_CLI_STORE
    if not Path(store_file).is_file():
        raise InputError(
            f"no plan folder here, and no plan store at {store_file} to look it up "
            "as a plan id (give --store)",
            file=text,
        )
    plans = open_store(store)
    plan_id = plans.resolve_id(text)
    return plans.folder_of(plan_id), plan_id


def _short_folder(folder: Path, store: Path) -> str:
    """``folder`` relative to the store's folder when inside it; marked when gone."""
    try:
        shown = str(folder.relative_to(Path(store).resolve().parent))
    except ValueError:
        shown = str(folder)
    return shown if folder.is_dir() else f"{shown} [red](gone)[/]"


def _stdout() -> Console:
    """The console for tables on stdout: the terminal's width, 200 columns into a pipe."""
    out = Console()
    return out if out.is_terminal else Console(width=200)


def _missing(value: object) -> bool:
    import pandas as pd

    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _text(value: object) -> str:
    return "" if _missing(value) else str(value)


@plans_app.command("list")
@user_errors
def list_plans(
    store: StoreOption = None,
    sweep: Annotated[
        str | None, typer.Option("--sweep", help="Only the plans of this sweep id.")
    ] = None,
) -> None:
    """List the recorded plans, oldest first, with their headline numbers."""
    plans = open_store(store)
    frame = plans.list(sweep_id=sweep)
    if frame.empty:
        where = f" of sweep {sweep!r}" if sweep is not None else ""
        console.print(f"no plans{where} recorded in {plans.path}")
        return
    table = Table(title=f"Plans in {plans.path} (folders relative to its folder)")
    for name, justify in (
        ("id", "left"),
        ("recorded (UTC)", "left"),
        ("scenario", "left"),
        ("label", "left"),
        ("sweep", "left"),
        ("seed", "right"),
        ("feasible", "left"),
        ("pot. dev %", "right"),
        ("balance", "right"),
        ("travel km", "right"),
        ("moved %", "right"),
        ("tied %", "right"),
        ("solve s", "right"),
        ("folder", "left"),
    ):
        wraps = name in ("scenario", "label", "sweep", "folder")
        table.add_column(name, justify=justify, overflow="fold", no_wrap=not wraps)
    for row in frame.itertuples(index=False):
        table.add_row(
            row.id,
            row.created_at.replace("T", " ").rstrip("Z")[:16],
            row.scenario,
            _text(row.label),
            _text(row.sweep_id),
            _text(row.seed),
            "yes" if row.feasible else "[red]no[/]",
            number(row.potential_max_dev_pct, 1, grouping=False),
            number(row.potential_balance_index, 1, grouping=False),
            number(row.travel_mean_km, 0, grouping=False),
            number(row.moved_potential_share, 1, scale=100, grouping=False),
            number(row.relationship_potential_share, 1, scale=100, grouping=False),
            number(row.solve_seconds, 1, grouping=False),
            _short_folder(Path(row.folder), plans.path),
        )
    _stdout().print(table)
    console.print(
        "pot. dev %: largest potential deviation from the fair share; balance: potential "
        "balance index (0-100); travel km: mean home-to-account distance; moved %: share "
        "of potential changing rep; tied %: share of potential whose rep has a direct tie"
    )


@plans_app.command("show")
@user_errors
def show_plan(
    plan_id: Annotated[str, typer.Argument(help="Plan id (or an unambiguous prefix).")],
    store: StoreOption = None,
) -> None:
    """Show one plan: provenance, timings, headline scorecard and its territories."""
    plans = open_store(store)
    plan = plans.get(plan_id)
    out = _stdout()
    meta = Table(title=f"Plan {plan.id}", show_header=False)
    meta.add_column("field")
    meta.add_column("value", overflow="fold")
    meta.add_row("scenario", plan.scenario_name)
    meta.add_row("scenario hash", plan.scenario_hash)
    if plan.manifest.get("scenario_file"):
        meta.add_row("scenario file", str(plan.manifest["scenario_file"]))
    meta.add_row("seed", _text(plan.seed))
    meta.add_row("recorded (UTC)", plan.created_at)
    if plan.label:
        meta.add_row("label", plan.label)
    if plan.sweep_id:
        meta.add_row("sweep", plan.sweep_id)
    meta.add_row("feasible", "yes" if plan.feasible else "[red]no[/]")
    folder_state = "" if plan.folder.is_dir() else " [red](no longer exists)[/]"
    meta.add_row("folder", f"{plan.folder}{folder_state}")
    timings = plan.timings
    if timings:
        meta.add_row("timings (s)", ", ".join(f"{k} {float(v):.1f}" for k, v in timings.items()))
    versions = plan.manifest.get("versions") or {}
    if "territory_engine" in versions:
        meta.add_row("territory-engine", str(versions["territory_engine"]))
    out.print(meta)

    card = plan.scorecard
    head = Table(title="Scorecard", show_header=False)
    head.add_column("measure")
    head.add_column("value", justify="right")
    head.add_row(
        "territories / accounts", f"{card.get('n_territories')} / {card.get('n_accounts')}"
    )
    for name, stats in (card.get("balance") or {}).items():
        head.add_row(
            f"{name}: max deviation % / out of band",
            f"{number(stats.get('max_rel_dev'), 1, scale=100, grouping=False)} / "
            f"{stats.get('territories_out_of_band')}",
        )
        head.add_row(
            f"{name}: balance index", number(stats.get("balance_index"), 1, grouping=False)
        )
    travel = card.get("travel") or {}
    if travel:
        head.add_row(
            f"travel: mean / max {travel_unit(card)}",
            f"{number(travel.get('mean_km'), 0, grouping=False)} / "
            f"{number(travel.get('max_km'), 0, grouping=False)}",
        )
    moved = card.get("disruption") or {}
    if moved:
        head.add_row(
            "moved: accounts / potential %",
            f"{moved.get('moved_accounts')} / "
            f"{number(moved.get('moved_potential_share'), 1, scale=100, grouping=False)}",
        )
    ties = card.get("relationships") or {}
    if ties:
        head.add_row(
            "potential with a rep tie %",
            number(ties.get("potential_with_tie_share"), 1, scale=100, grouping=False),
        )
    quota = card.get("quota") or {}
    if "total" in quota:
        head.add_row("quota total", money(float(quota["total"])))
        head.add_row(
            "quota-to-potential CV", number(quota.get("quota_to_potential_cv"), 3, grouping=False)
        )
    out.print(head)
    if plan.violations:
        out.print("[red]Hard rules broken:[/]")
        for v in plan.violations[:20]:
            out.print(f"  - {v}")
    out.print(_territory_table(plan))


def _territory_table(plan) -> Table:
    """Per territory: rep, segment, accounts, potential and its deviation, travel, quota."""
    import pandas as pd

    if plan.territories is not None:
        terr = plan.territories.copy()
    else:
        terr = pd.DataFrame(plan.scorecard.get("territories") or [])
    table = Table(title=f"Territories ({len(terr)})")
    if terr.empty:
        return table
    quotas = dict(zip(plan.quotas["territory_id"].astype(str), plan.quotas["quota"], strict=False))
    columns = [
        ("territory", "territory_id", None),
        ("rep", "rep_id", None),
        ("name", "rep_name", None),
        ("segment", "segment", None),
        ("accounts", "n_accounts", 0),
        ("potential", "potential", 0),
        ("potential dev %", "potential_dev_pct", 1),
        ("travel mean km", "travel_mean_km", 0),
    ]
    columns = [c for c in columns if c[1] in terr.columns]
    for title, _, digits in columns:
        table.add_column(title, justify="left" if digits is None else "right")
    table.add_column("quota", justify="right")
    for _, row in terr.iterrows():
        cells = []
        for _, key, digits in columns:
            value = row[key]
            if digits is None:
                cells.append(_text(value))
            elif digits == 0:
                cells.append(
                    number(value, 0, grouping=False) if key != "potential" else f"{value:,.0f}"
                )
            else:
                cells.append(number(value, digits, grouping=False))
        q = quotas.get(str(row["territory_id"]))
        cells.append("" if q is None else money(float(q)))
        table.add_row(*cells)
    return table


@plans_app.command("delete")
@user_errors
def delete_plan(
    plan_id: Annotated[str, typer.Argument(help="Plan id (or an unambiguous prefix).")],
    store: StoreOption = None,
    remove_folder: Annotated[
        bool,
        typer.Option("--remove-folder", help="Also remove the plan folder from disk."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a plan from the store (its folder stays unless --remove-folder)."""
    plans = open_store(store)
    full = plans.resolve_id(plan_id)
    folder = plans.folder_of(full, check=False)
    existed = folder.is_dir()
    if not yes:
        also = f" and remove its folder {folder}" if remove_folder else ""
        typer.confirm(f"Delete plan {full} from {plans.path}{also}?", abort=True)
    plans.delete(full, remove_folder=remove_folder)
    if remove_folder:
        gone = f"; removed {folder}" if existed else f"; its folder {folder} was already gone"
    else:
        gone = f"; its folder {folder} is kept"
    console.print(f"deleted plan {full}{gone}", soft_wrap=True)
