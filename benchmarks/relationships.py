"""Retention vs travel vs balance on the sample as the relationship weight rises.

Runs ``scenarios/fy_baseline.yaml`` with ``objective.relationships`` set to each
weight (and once in ``objective.mode: social``) and prints one Markdown row per
run: feasibility, relationship retention (accounts and potential with a direct
tie to their new rep), potential-weighted proximity, mean travel, the largest
potential deviation and the solve time. The README's trade-off table comes
from here.

    python benchmarks/relationships.py [--weights 0,0.5,1,2,4] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from territory_engine.config import load_scenario
from territory_engine.io.load import load_tables
from territory_engine.pipeline import make_plan, solve_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="0,0.5,1,2,4")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--no-social", action="store_true", help="skip the social-mode run")
    parser.add_argument(
        "--follow",
        type=float,
        default=None,
        help="relationships.follow_min_proximity of the weighted runs (default: off)",
    )
    args = parser.parse_args()
    base = load_scenario(ROOT / "scenarios" / "fy_baseline.yaml")
    tables = load_tables(base)
    runs = [("standard", float(w), args.follow) for w in args.weights.split(",")]
    if not args.no_social:
        runs.append(("social", 1.0, None))
    print(
        "| mode | relationships weight | follow ≥ | feasible | accounts with a tie "
        "| potential with a tie "
        "| proximity (potential-weighted) | mean travel km | max potential deviation "
        "| families split | solve s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode, weight, follow in runs:
        objective = base.objective.model_copy(update={"relationships": weight, "mode": mode})
        # Without a weight nothing pulls an account away from its county: no exceptions.
        follow = follow if weight > 0 else None
        relationships = base.relationships.model_copy(update={"follow_min_proximity": follow})
        solver = base.solver.model_copy(update={"time_limit": args.time_limit})
        scenario = base.model_copy(
            update={"objective": objective, "solver": solver, "relationships": relationships}
        )
        shown = scenario.follow_min_proximity()
        t0 = time.perf_counter()
        problem, index, alignment = solve_scenario(scenario, tables)
        seconds = time.perf_counter() - t0
        _, card = make_plan(scenario, tables, problem, index, alignment)
        rel = card["relationships"]
        print(
            f"| {mode} | {weight:g} | {'off' if shown is None else f'{shown:g}'} "
            f"| {'yes' if alignment.feasible else 'no'} "
            f"| {100 * rel['accounts_with_tie_share']:.1f} % "
            f"| {100 * rel['potential_with_tie_share']:.1f} % "
            f"| {rel['potential_weighted_proximity']:.3f} "
            f"| {card['travel']['mean_km']:.0f} "
            f"| {100 * card['balance']['potential']['max_rel_dev']:.1f} % "
            f"| {card['families']['families_split']} | {seconds:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
