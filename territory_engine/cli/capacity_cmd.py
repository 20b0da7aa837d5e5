"""``territory-engine capacity``: how many reps the target needs (the plan at each headcount)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from territory_engine.cli.errors import user_errors
from territory_engine.cli.sweep_cmd import _Progress
from territory_engine.display.numbers import money, number, percent
from territory_engine.errors import InputError

console = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``capacity`` command to ``app``."""
    app.command("capacity")(user_errors(capacity))


def _summary(result) -> Table:
    table = Table(
        title=f"Capacity plan {result.capacity_id} ({result.scope}): {result.capacity_dir}"
    )
    for name in (
        "reps",
        "change",
        "status",
        "at quota",
        "hours booked",
        "potential / FTE",
        "quota / head",
        "travel km",
        "worst dev.",
    ):
        table.add_column(name, justify="left" if name in ("change", "status") else "right")
    for r in result.table.sort_values("headcount").to_dict("records"):
        mark = " ★" if r["recommended"] else ""
        table.add_row(
            f"{r['headcount']}{mark}",
            str(r["change"]),
            str(r["status"]).replace("_", " "),
            percent(r.get("share_at_quota")),
            percent(r.get("utilisation")),
            money(r.get("potential_per_fte")),
            money(r.get("quota_per_head")),
            number(r.get("travel_mean_km"), 0),
            percent(r.get("balance_max_dev")),
        )
    return table


def _changes(result) -> list[str]:
    """Who is cut and who is hired, in order, and by which rule (the folder has the rest)."""
    rows = result.table.sort_values("headcount")
    lines = []
    cut = str(rows.iloc[0]["removed"] or "")
    if cut:
        lines.append(
            f"cut in this order: {cut} (the least-stretched team first, then the smallest "
            "book today, the most recent start first on ties)"
        )
    top = int(rows.iloc[-1]["headcount"])
    hired = result.hiring[result.hiring["headcount"] == top]
    if len(hired):
        who = "; ".join(
            f"{r.rep_id} {r.city or f'{r.lat}, {r.lon}'} ({r.segment}, {r.placed_by}, "
            f"starts {r.start_date})"
            for r in hired.itertuples()
        )
        lines.append(f"hired in this order: {who}")
    return lines


def _split(text: str | None) -> list[str]:
    """The ``--hire-in`` cities: ``"Jackson, MS,Macon, GA"`` or ``"Jackson, MS;Macon, GA"``.

    With commas only, a two-letter part is the state of the city before it.
    """
    if not text:
        return []
    if ";" in text:
        return [c.strip() for c in text.split(";") if c.strip()]
    cities: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if re.fullmatch(r"[A-Za-z]{2}", part) and cities and "," not in cities[-1]:
            cities[-1] = f"{cities[-1]}, {part.upper()}"
        else:
            cities.append(part)
    return cities


def capacity(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file (territories per rep).")],
    reps: Annotated[
        str,
        typer.Option(
            "--reps", help="Headcounts FIRST:LAST[:STEP], e.g. 40:60 or 40:60:2 (ends included)."
        ),
    ],
    segment: Annotated[
        str | None,
        typer.Option(help="Vary only this segment's team; the headcounts are its reps."),
    ] = None,
    hire_in: Annotated[
        str | None,
        typer.Option(
            "--hire-in",
            help="Cities of the first hires, in order: 'Jackson, MS,Macon, GA' (or separated "
            "by ';'); later hires are placed where new territories pay most.",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="Start date of the hires YYYY-MM-DD, or one per hire separated by ',' "
            "(the last repeats); default the plan start. Their quotas follow quota.ramp."
        ),
    ] = None,
    target_share: Annotated[
        str | None,
        typer.Option(
            help="Band of the share of reps expected at quota, LOW:HIGH "
            "(default the scenario's quota.attainment.healthy_low:healthy_high).",
        ),
    ] = None,
    hours_per_fte: Annotated[
        float,
        typer.Option(min=1.0, help="Selling hours a year of one full-time rep."),
    ] = 1600.0,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Capacity folder (default: capacity_<scenario> beside the plan folder).",
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
        bool, typer.Option("--serial", help="Solve the headcounts one after another, no Dask.")
    ] = False,
    store: Annotated[
        Path | None,
        typer.Option(help="Plan store (default: plans.sqlite beside the capacity folder)."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Every headcount's solver.time_limit (s).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Solve SCENARIO at every headcount of --reps and recommend one.

    Below today's headcount, reps are cut (the least-stretched team first, the
    smallest book first); above it, reps are hired (the most-stretched team first,
    at --hire-in cities, then where new territories pay most). Writes a plan folder
    per headcount, capacity.csv, hiring.csv and capacity.html; records the plans in
    the plan store. Recommends the smallest feasible headcount whose expected share of
    reps at quota is in the --target-share band. Exit codes as for sweep.
    """
    from territory_engine.org.capacity import CapacitySettings, plan_capacity
    from territory_engine.org.capacity.headcount import (
        parse_band,
        parse_headcounts,
        parse_start_dates,
    )

    if scheduler and (serial or workers):
        raise InputError("--scheduler runs the plans on that cluster: drop --serial and --workers")
    counts = parse_headcounts(reps)
    band = parse_band(target_share) if target_share is not None else None
    starts = parse_start_dates(start)
    result = plan_capacity(
        scenario,
        counts,
        segment=segment,
        hire_in=_split(hire_in),
        start_dates=starts,
        settings=CapacitySettings(hours_per_fte=hours_per_fte, band=band),
        output=output,
        scheduler=scheduler,
        workers=workers,
        serial=serial,
        store=store,
        time_limit=time_limit,
        progress=_Progress(quiet),
    )
    out = Console(width=max(Console().width, 140), soft_wrap=True)
    out.print(_summary(result))
    out.print(result.recommendation.reason, highlight=False, markup=False)
    for line in _changes(result):
        out.print(line, highlight=False, markup=False)
    failed = result.table[result.table["status"] != "ok"]
    for r in failed.to_dict("records"):
        console.print(
            f"  - {r['headcount']} reps ({str(r['status']).replace('_', ' ')}): {r['error']}",
            highlight=False,
            markup=False,
        )
    console.print(
        f"wrote {result.capacity_dir / 'capacity.html'}, capacity.csv and hiring.csv in "
        f"{result.seconds:.1f} s; plans recorded in {result.store_path}",
        highlight=False,
        markup=False,
    )
    if result.exit_code:
        raise SystemExit(result.exit_code)
