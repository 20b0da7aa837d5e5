"""``territory-engine validate``: audit a plan folder against its scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from territory_engine.cli.errors import EXIT_INFEASIBLE, user_errors


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to ``app``."""

    @app.command()
    @user_errors
    def validate(
        plan_dir: Annotated[Path, typer.Argument(help="plan folder (assignments.csv required)")],
        scenario: Annotated[Path, typer.Argument(help="scenario YAML the plan must satisfy")],
    ) -> None:
        """Check PLAN_DIR against every hard rule of SCENARIO, without trusting the solver."""
        from territory_engine.config import load_scenario
        from territory_engine.constraints import validate_plan

        report = validate_plan(plan_dir, load_scenario(scenario))
        broken = 0
        for rule, violations in report.items():
            status = "ok" if not violations else f"{len(violations)} violation(s)"
            typer.echo(f"{rule:12s} {status}")
            for v in violations:
                typer.echo(f"  - {v}")
            broken += len(violations)
        if broken:
            typer.echo(f"{plan_dir}: {broken} violation(s)", err=True)
            raise SystemExit(EXIT_INFEASIBLE)
        typer.echo(f"{plan_dir}: every rule holds")
