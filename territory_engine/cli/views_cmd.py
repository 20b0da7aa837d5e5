"""``territory-engine compare`` and ``territory-engine rep``: pages made from plan folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from territory_engine.cli.errors import user_errors
from territory_engine.errors import InputError, did_you_mean
from territory_engine.plan.atomic import write_text_atomically

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add the ``compare`` and ``rep`` commands to ``app``."""
    app.command("compare")(user_errors(compare))
    app.command("rep")(user_errors(rep))


def compare(
    plan_a: Annotated[
        Path, typer.Argument(help="Plan folder A (the reference), or a stored plan id.")
    ],
    plan_b: Annotated[
        Path, typer.Argument(help="Plan folder B (compared with A), or a stored plan id.")
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder to write (default: compare-A-vs-B)."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Plan store for plan ids (default: out/plans.sqlite)."),
    ] = None,
) -> None:
    """Compare two plans: synchronised maps, fairness deltas, moves and per-rep changes.

    PLAN_A and PLAN_B are plan folders or ids (or id prefixes) of the plan store.
    Writes compare.html, moves.csv and rep_deltas.csv into the output folder, which is
    replaced as a whole once complete.
    """
    from territory_engine.cli.plans_cmd import resolve_plan_argument
    from territory_engine.io.safe_cells import write_csv
    from territory_engine.plan.atomic import write_folder_atomically
    from territory_engine.plan.compare import moved_accounts, rep_deltas, scorecard_deltas
    from territory_engine.plan.reader import read_plan_folder
    from territory_engine.render.compare_page import render_compare

    plan_a, name_a = resolve_plan_argument(plan_a, store)
    plan_b, name_b = resolve_plan_argument(plan_b, store)
    a, b = read_plan_folder(plan_a), read_plan_folder(plan_b)
    measures = list(dict.fromkeys([*a.measures, *b.measures]))
    measures = [m for m in measures if m in a.measures and m in b.measures]
    accounts = _union(b.accounts, a.accounts, "account_id")
    reps = _union(b.reps, a.reps, "rep_id")
    moves = moved_accounts(a.assignments, b.assignments, accounts, reps)
    deltas = rep_deltas(a.territories, b.territories, a.quotas, b.quotas, measures)
    fairness = scorecard_deltas(a.scorecard, b.scorecard)
    page = render_compare(a, b, moves=moves, deltas=deltas, fairness=fairness, measures=measures)
    target = output or Path(f"compare-{name_a}-vs-{name_b}")

    def write(folder: Path) -> None:
        (folder / "compare.html").write_text(page, encoding="utf-8")
        write_csv(moves, folder / "moves.csv")
        write_csv(deltas, folder / "rep_deltas.csv")

    done = write_folder_atomically(target, write)
    console.print(
        f"{len(moves):,} accounts change rep; wrote {done / 'compare.html'} and moves.csv"
    )


def rep(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder.")],
    rep_id: Annotated[
        str | None, typer.Option("--rep", help="Rep id (or exact name) to publish.")
    ] = None,
    all_reps: Annotated[
        bool, typer.Option("--all-reps", help="One page per rep with a territory.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder to write (default: PLAN_DIR/reps)."),
    ] = None,
) -> None:
    """Write a rep's own page: their map, accounts, quota and team standing, nobody else's.

    With --rep, writes rep_<ID>.html into the output folder (other files there are
    kept). With --all-reps, writes one page per rep and replaces the folder as a whole.
    """
    from territory_engine.plan.atomic import write_folder_atomically
    from territory_engine.plan.compare import team_standing
    from territory_engine.plan.reader import read_plan_folder
    from territory_engine.render.rep_view import render_rep_page, rep_rows

    if (rep_id is None) == (not all_reps):
        raise InputError("give either --rep REP_ID or --all-reps")
    plan = read_plan_folder(plan_dir)
    holders = [r for r in dict.fromkeys(plan.territories["rep_id"].astype(str)) if r]
    target = output or Path(plan_dir) / "reps"

    def page(rid: str) -> str:
        standing = team_standing(plan.territories, plan.quotas, rid, plan.measures)
        return render_rep_page(
            rep_rows(plan, rid), standing, plan_name=plan.name, measures=plan.measures
        )

    if all_reps:

        def write(folder: Path) -> None:
            for rid in holders:
                (folder / _page_name(rid)).write_text(page(rid), encoding="utf-8")

        write_folder_atomically(target, write)
        console.print(f"wrote {len(holders)} rep pages into {target}")
        return
    rid = _resolve_rep(str(rep_id), plan.reps, holders, plan_dir)
    path = Path(target) / _page_name(rid)
    write_text_atomically(path, page(rid))
    console.print(f"wrote {path}")


def _union(first, second, key: str):
    import pandas as pd

    return pd.concat([first, second[~second[key].isin(set(first[key]))]], ignore_index=True)


def _page_name(rep_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in rep_id)
    return f"rep_{safe}.html"


def _resolve_rep(given: str, reps, holders: list[str], plan_dir: Path) -> str:
    """The rep id meant by ``given``: an id holding a territory, or that rep's exact name."""
    if given in holders:
        return given
    names = {str(n).casefold(): str(r) for r, n in zip(reps["rep_id"], reps["name"], strict=True)}
    if given.casefold() in names and names[given.casefold()] in holders:
        return names[given.casefold()]
    known = set(reps["rep_id"].astype(str))
    why = "holds no territory in" if given in known else "is not a rep of"
    raise InputError(
        f"rep {given!r} {why} this plan{did_you_mean(given, holders)}", file=str(plan_dir)
    )
