"""``territory-engine partition``: partition a unit graph (node-link JSON or GraphML)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from territory_engine.cli.errors import EXIT_INFEASIBLE, user_errors
from territory_engine.errors import ScenarioError


def _parse_balance(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, _, tol = item.partition("=")
        try:
            value = float(tol)
        except ValueError:
            raise ScenarioError(
                f"--balance {item!r}: expected ATTR=TOL, e.g. workload=0.05"
            ) from None
        if not name or not 0 <= value < 1:
            raise ScenarioError(f"--balance {item!r}: expected ATTR=TOL with 0 <= TOL < 1")
        out[name] = value
    return out


def _parse_bounds(items: list[str]) -> dict[str, tuple[float, float]]:
    out = {}
    for item in items:
        name, _, rng = item.partition("=")
        low, _, high = rng.partition(":")
        try:
            lo, hi = float(low), float(high)
        except ValueError:
            raise ScenarioError(
                f"--bounds {item!r}: expected ATTR=LOW:HIGH, e.g. TOTPOP=757781:765396"
            ) from None
        if not name or lo > hi:
            raise ScenarioError(f"--bounds {item!r}: expected ATTR=LOW:HIGH with LOW <= HIGH")
        out[name] = (lo, hi)
    return out


def register(app: typer.Typer) -> None:
    """Add the ``partition`` command to ``app``."""

    @app.command()
    @user_errors
    def partition(
        graph: Annotated[Path, typer.Argument(help="node-link JSON or GraphML file")],
        parts: Annotated[int, typer.Option("--parts", "-k", help="number of parts")],
        output: Annotated[Path, typer.Option("--output", "-o", help="result JSON")],
        balance: Annotated[
            list[str] | None, typer.Option(help="ATTR=TOL: each part within ±TOL of the mean")
        ] = None,
        bounds: Annotated[
            list[str] | None, typer.Option(help="ATTR=LOW:HIGH: absolute bounds per part")
        ] = None,
        objective: Annotated[
            str, typer.Option(help="cut_edges | diameter | inertia | travel")
        ] = "cut_edges",
        contiguous: Annotated[bool, typer.Option("--contiguous/--no-contiguous")] = True,
        islands: Annotated[
            str,
            typer.Option(
                help="join | separate: with contiguity, join each island (graph component) "
                "to its nearest node or, without coordinates, to its county (GEOID); or "
                "give every component its own whole number of parts"
            ),
        ] = "join",
        distance_attr: Annotated[
            str | None, typer.Option(help="edge attribute for shortest paths (diameter)")
        ] = None,
        time_limit: Annotated[float, typer.Option(help="seconds")] = 60.0,
        seed: Annotated[int, typer.Option()] = 0,
    ) -> None:
        """Split GRAPH into balanced (and contiguous) parts; write the assignment as JSON."""
        from territory_engine.partition import partition
        from territory_engine.problem.graph import read_graph

        result = partition(
            read_graph(graph),
            parts=parts,
            balance=_parse_balance(balance or []),
            bounds=_parse_bounds(bounds or []),
            objective=objective,
            contiguous=contiguous,
            distance_attr=distance_attr,
            time_limit=time_limit,
            seed=seed,
            file=str(graph),
            islands=islands,
        ).to_dict()
        output = Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        # Written completely or not at all.
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
        os.replace(tmp, output)
        typer.echo(
            f"{output}: feasible={result['feasible']} objective={result['objective']} "
            f"cut_edges={result.get('cut_edges')} seconds={result['seconds']}"
        )
        notes = []
        if result.get("coordinates", "given") != "given":
            notes.append(f"coordinates derived ({result['coordinates']}, for seeding only)")
        if result.get("joins"):
            joins = ", ".join(
                f"{a}-{b} ({j['rule']})" for j in result["joins"] for a, b in [j["nodes"]]
            )
            notes.append(f"islands joined by virtual edges: {joins}")
        if result.get("components") and result["feasible"]:
            notes.append(
                "components solved apart: "
                + ", ".join(
                    f"{c['units']} units in {c['parts']} parts" for c in result["components"]
                )
            )
        for note in notes:
            typer.echo(f"  {note}")
        if not result["feasible"]:
            for v in result.get("violations", [])[:10]:
                typer.echo(f"  - {v}", err=True)
            raise SystemExit(EXIT_INFEASIBLE)
