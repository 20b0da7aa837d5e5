"""``territory-engine diff-scenarios``: the effective differences between two scenarios.

Thin: loading and printing; the comparison is
:func:`territory_engine.config.diff.diff_scenarios`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from territory_engine.cli.errors import user_errors


def register(app: typer.Typer) -> None:
    """Add the ``diff-scenarios`` command to ``app``."""

    @app.command("diff-scenarios")
    @user_errors
    def diff_scenarios_cmd(
        a: Annotated[Path, typer.Argument(help="scenario A (YAML)")],
        b: Annotated[Path, typer.Argument(help="scenario B (YAML)")],
        as_json: Annotated[
            bool,
            typer.Option("--json", help='print [{"setting", "a", "b"}, ...] as JSON instead'),
        ] = False,
    ) -> None:
        """Show the settings in which A and B differ, once loaded (extends and defaults applied).

        Paths are shown relative to the working directory when they lie under
        it. Exit code 0 whether or not they differ.
        """
        from territory_engine.config import load_scenario
        from territory_engine.config.diff import diff_scenarios, differences_json, format_value

        differences = diff_scenarios(load_scenario(a), load_scenario(b), relative_to=Path.cwd())
        if as_json:
            payload = {"a": str(a), "b": str(b), "differences": differences_json(differences)}
            typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        out = Console()
        if not differences:
            out.print(Text(f"{a} and {b} have the same effective settings"))
            return
        noun = "setting differs" if len(differences) == 1 else "settings differ"
        name_a, name_b = (a.name, b.name) if a.name != b.name else (str(a), str(b))
        table = Table(title=f"{len(differences)} {noun}", caption=f"A: {a}\nB: {b}")
        table.add_column("setting", no_wrap=True)
        table.add_column(Text(f"A: {name_a}"), overflow="fold")
        table.add_column(Text(f"B: {name_b}"), overflow="fold")
        for d in differences:
            table.add_row(Text(d.setting), Text(format_value(d.a)), Text(format_value(d.b)))
        out.print(table)
