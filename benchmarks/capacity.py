"""Time a capacity plan of the sample: 21 headcounts on a local Dask cluster of 2 workers.

Usage::

    python benchmarks/capacity.py [--reps 35:55] [--workers 2] [--time-limit S]
                                  [--segment S] [--scenario FILE] [--serial]

Runs :func:`territory_engine.org.capacity.plan_capacity` once into a temporary folder,
without recording the plans in a store, and prints a Markdown summary: wall time
(the issue's target is under 5 minutes for 21 headcounts on 2 workers), the sum of
the per-headcount task times, the machine's load average before and after (the
machine may be shared), and one row per headcount with its capacity numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from territory_engine.org.capacity import plan_capacity

ROOT = Path(__file__).resolve().parents[1]


def _pct(x: float) -> str:
    return "" if x != x else f"{100 * x:.1f}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "fy_baseline.yaml"))
    parser.add_argument("--reps", default="35:55")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--segment", default=None)
    parser.add_argument("--serial", action="store_true")
    args = parser.parse_args(argv)

    def progress(event: str, info: dict) -> None:
        if event == "done":
            r = info["record"]
            print(
                f"  [{info['done']}/{info['total']}] {r['variant']}: {r['status']} "
                f"in {r['seconds']:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = plan_capacity(
            args.scenario,
            args.reps,
            segment=args.segment,
            output=Path(tmp) / "capacity",
            workers=args.workers,
            serial=args.serial,
            record=False,
            time_limit=args.time_limit,
            progress=progress,
        )
        wall = time.perf_counter() - start
    load_after = os.getloadavg()
    table = result.table.sort_values("headcount")
    print(f"## Capacity plan: {len(table)} headcounts ({args.reps}, {result.scope})\n")
    print(
        f"- machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average (1, 5, 15 min) before "
        f"{', '.join(f'{x:.2f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.2f}' for x in load_after)}"
    )
    print(f"- mode: {result.mode}; time limit per solve: {args.time_limit or 'scenario'}")
    print(f"- wall: {wall:.1f} s; sum of task s: {table['seconds'].sum():.1f}")
    print(f"- feasible: {int((table['status'] == 'ok').sum())}/{len(table)}")
    print(f"- recommendation: {result.recommendation.reason}\n")
    print(
        "| reps | change | status | task s | at quota % | uncapped % | hours booked % | "
        "potential/FTE $M | quota/head $M | travel km | worst dev % | cut | hired |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in table.to_dict("records"):
        print(
            f"| {r['headcount']} | {r['change']} | {r['status']} | {r['seconds']:.1f} | "
            f"{_pct(r.get('share_at_quota', float('nan')))} | "
            f"{_pct(r.get('share_at_quota_uncapped', float('nan')))} | "
            f"{_pct(r.get('utilisation', float('nan')))} | "
            f"{r.get('potential_per_fte', float('nan')) / 1e6:.1f} | "
            f"{r.get('quota_per_head', float('nan')) / 1e6:.2f} | "
            f"{r.get('travel_mean_km', float('nan')):.0f} | "
            f"{_pct(r.get('balance_max_dev', float('nan')))} | {r['removed']} | {r['added']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
