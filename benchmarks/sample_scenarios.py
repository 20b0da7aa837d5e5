"""Time and score every scenario of ``scenarios/`` on the bundled sample.

Usage::

    python benchmarks/sample_scenarios.py [--repeat 2] [SCENARIO ...]

Prints a Markdown table (one row per scenario and run): wall seconds of the
whole run and of the solve, feasibility, stop reason, worst deviation per
measure, travel, disruption, peak resident memory of this process, and whether
repeated runs gave byte-identical ``assignments.csv``.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sys
import tempfile
import time
from pathlib import Path

from territory_engine.config import load_scenario
from territory_engine.pipeline.run import run_scenario

ROOT = Path(__file__).resolve().parents[1]


def _row(name: str, run: int, seconds: float, result, digest: str) -> str:
    card = result.scorecard
    stats = result.alignment.stats
    dev = ", ".join(f"{m} {100 * s['max_rel_dev']:.1f} %" for m, s in card["balance"].items())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"| {name} | {run} | {seconds:.1f} | {stats.seconds:.1f} | "
        f"{'yes' if result.alignment.feasible else 'no'} | {stats.stop_reason} | {dev} | "
        f"{stats.objective.travel_ratio:.3f} | {card['travel']['mean_km']:.0f} | "
        f"{100 * card['disruption']['moved_potential_share']:.1f} % | "
        f"{card.get('contiguity', {}).get('territories_in_pieces', '-')} | {rss_mb:.0f} | "
        f"{digest[:10]} |"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    paths = args.scenarios or sorted((ROOT / "scenarios").glob("*.yaml"))
    print(
        "| scenario | run | run s | solve s | feasible | stop | max deviation | "
        "travel ratio | mean km | moved potential | in pieces | peak RSS MB | assignments sha256 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        scenario = load_scenario(path)
        for run in range(1, args.repeat + 1):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                result = run_scenario(scenario, output=Path(tmp) / "plan")
                seconds = time.perf_counter() - start
                digest = hashlib.sha256(
                    (result.plan_dir / "assignments.csv").read_bytes()
                ).hexdigest()
            print(_row(path.stem, run, seconds, result, digest), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
