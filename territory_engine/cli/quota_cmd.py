"""``territory-engine quota`` and ``territory-engine score``: quotas and scores of a plan folder.

Thin: argument parsing and a summary table; the work is in
:mod:`territory_engine.plan.score`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from territory_engine.cli.errors import user_errors
from territory_engine.display.numbers import money, percent
from territory_engine.metrics.card import travel_unit

_out = Console()
_err = Console(stderr=True)


def _quota_rows(table: Table, quota: dict) -> None:
    table.add_row("quota total", money(quota["total"]))
    allocation = quota.get("allocation")
    if allocation:
        table.add_row("target", money(allocation["target"]))
        if allocation["held_back"]:
            table.add_row("held back (ramp)", money(allocation["held_back"]))
        binding = ", ".join(f"{k} {v}" for k, v in allocation["caps_binding"].items()) or "none"
        table.add_row("caps binding (territories)", binding)
        table.add_row("ramped reps", str(len(allocation["ramped_reps"])))
    table.add_row(
        "quota / potential: mean / CV",
        (f"{quota['quota_to_potential_mean']:.3f} / {quota['quota_to_potential_cv']:.3f}"),
    )
    att = quota.get("attainment")
    if att and "share_at_or_above_100" in att:
        low, high = att["healthy_band"]
        note = {"low": " [red](below the healthy band)[/]", "high": " [red](above it)[/]"}
        table.add_row(
            f"reps expected ≥ 100 % (healthy {100 * low:.0f}–{100 * high:.0f} %)",
            f"{percent(att['share_at_or_above_100'])}{note.get(att['flag'], '')}",
        )


def _score_table(card: dict, title: str) -> Table:
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("territories", str(card["n_territories"]))
    table.add_row("accounts", f"{card['n_accounts']:,}")
    for name, stats in card["balance"].items():
        table.add_row(
            f"{name}: max deviation / out of band / index",
            f"{percent(stats['max_rel_dev'])} / {stats['territories_out_of_band']} / "
            f"{stats['balance_index']:.1f}",
        )
    table.add_row(
        f"travel: mean / max {travel_unit(card)}",
        f"{card['travel']['mean_km']:.0f} / {card['travel']['max_km']:.0f}",
    )
    d = card["disruption"]
    table.add_row(
        "moved: accounts / potential / reps",
        f"{d['moved_accounts']:,} / {percent(d['moved_potential_share'])} / {d['reps_affected']}",
    )
    if "contiguity" in card:
        c = card["contiguity"]
        table.add_row(
            "territories in pieces / cut edges", f"{c['territories_in_pieces']} / {c['cut_edges']}"
        )
    comp = card.get("compactness", {})
    if comp.get("polsby_popper_mean") is not None:
        table.add_row(
            "Polsby–Popper: mean / min",
            f"{comp['polsby_popper_mean']:.3f} / {comp['polsby_popper_min']:.3f}",
        )
    if "relationships" in card:
        r = card["relationships"]
        table.add_row(
            "accounts / potential with a tie to their rep",
            f"{percent(r['accounts_with_tie_share'])} / {percent(r['potential_with_tie_share'])}",
        )
    if "quota" in card:
        _quota_rows(table, card["quota"])
    return table


def quota(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder (assignments.csv is required).")],
    scenario: Annotated[
        Path, typer.Option("--scenario", "-s", help="Scenario whose quota section to apply.")
    ],
) -> None:
    """Re-allocate the quotas of the plan in PLAN_DIR without re-solving territories.

    Rewrites quotas.csv, quota_splits.csv, plan.xlsx and the quota part of scorecard.json
    atomically; every other file is kept.
    """
    from territory_engine.plan.requota import reallocate_quotas

    _err.print(f"re-allocating quotas of {plan_dir} with {scenario}")
    result = reallocate_quotas(plan_dir, scenario)
    table = Table(title=f"Quotas: {plan_dir}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("territories", str(len(result.assignment.territory_ids)))
    _quota_rows(table, result.card["quota"])
    _out.print(table)


def score(
    plan_dir: Annotated[Path, typer.Argument(help="Plan folder (assignments.csv is required).")],
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario", "-s", help="Scenario to score against (default: the one in plan.json)."
        ),
    ] = None,
) -> None:
    """Score the plan in PLAN_DIR and write its scorecard.json.

    Any plan folder works, including one edited by hand or exported from
    another tool: only assignments.csv (account_id, rep_id, optionally
    territory_id) is required.
    """
    from territory_engine.plan.score import score_plan

    _err.print(f"scoring {plan_dir}")
    result = score_plan(plan_dir, scenario)
    _out.print(_score_table(result.card, f"Scorecard: {plan_dir}"))


def register(app: typer.Typer) -> None:
    """Add the ``quota`` and ``score`` commands to ``app``."""
    app.command("quota")(user_errors(quota))
    app.command("score")(user_errors(score))
