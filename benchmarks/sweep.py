"""Time a 16-variant sweep of the sample: a local Dask cluster against one run after another.

Usage::

    python benchmarks/sweep.py [--workers 2] [--time-limit 30] [--scenario FILE]
                               [--grid KEY=V1,V2 ...]

Runs the same variants twice with :func:`territory_engine.sweep.run_sweep`: on a local
cluster (``--workers`` single-threaded worker processes) and serially in this process,
each into a temporary folder, without recording them in a plan store. Prints a
Markdown summary (wall-clock of each, speed-up, sum of the per-variant task times) and
one row per variant: task and solve seconds in both modes, stop reason, headline
numbers, and whether both modes gave the same ``assignments.csv`` (sha256).

The default grid is potential tolerance 0.03, 0.05, 0.08, 0.10 × disruption weight 0,
0.5, 1, 2 over ``scenarios/fy_baseline.yaml``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from territory_engine.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]
GRID = ("balance.potential.tolerance=0.03,0.05,0.08,0.10", "objective.disruption=0,0.5,1,2")


def _sha(folder: str) -> str:
    if not folder:
        return ""
    return hashlib.sha256((Path(folder) / "assignments.csv").read_bytes()).hexdigest()[:10]


def _timed(label: str, **kwargs) -> tuple[float, object]:
    def progress(event: str, info: dict) -> None:
        if event == "done":
            r = info["record"]
            print(
                f"  {label} [{info['done']}/{info['total']}] {r['variant']}: {r['status']} "
                f"in {r['seconds']:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    start = time.perf_counter()
    result = run_sweep(record=False, progress=progress, **kwargs)
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "fy_baseline.yaml")
    parser.add_argument("--grid", action="append", default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args(argv)
    grid = args.grid or list(GRID)
    common = {"time_limit": args.time_limit}
    with tempfile.TemporaryDirectory() as tmp:
        parallel_s, parallel = _timed(
            "cluster",
            scenario_file=args.scenario,
            grid=grid,
            output=Path(tmp) / "parallel",
            workers=args.workers,
            **common,
        )
        serial_s, serial = _timed(
            "serial",
            scenario_file=args.scenario,
            grid=grid,
            output=Path(tmp) / "serial",
            serial=True,
            **common,
        )
        a = parallel.table.set_index("variant")
        b = serial.table.set_index("variant")
        same = {v: _sha(a.loc[v, "plan_dir"]) == _sha(b.loc[v, "plan_dir"]) for v in a.index}
        digests = {v: _sha(a.loc[v, "plan_dir"]) for v in a.index}

    n = len(a)
    print(
        f"Scenario `{args.scenario.resolve().relative_to(ROOT)}`, {n} variants "
        f"({', '.join(grid)}), time limit {args.time_limit:g} s; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}.\n"
    )
    print("| mode | wall s | sum of task s | sum of solve s | feasible | speed-up |")
    print("|---|---|---|---|---|---|")
    for name, seconds, t in (
        (f"local cluster, {args.workers} workers", parallel_s, a),
        ("serial, one process", serial_s, b),
    ):
        print(
            f"| {name} | {seconds:.1f} | {t['seconds'].sum():.1f} | "
            f"{t['solve_seconds'].sum():.1f} | {(t['status'] == 'ok').sum()}/{n} | "
            f"{serial_s / seconds:.2f} |"
        )
    print()
    print(
        "| variant | cluster task s | cluster solve s | cluster stop | serial task s | "
        "serial solve s | serial stop | worst dev % | moved % | travel km | Pareto | "
        "same plan | assignments sha256 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for v in sorted(a.index, key=lambda name: int(a.loc[name, "index"])):
        p, s = a.loc[v], b.loc[v]
        print(
            f"| {v} | {p['seconds']:.1f} | {p['solve_seconds']:.1f} | {p['stop_reason']} | "
            f"{s['seconds']:.1f} | {s['solve_seconds']:.1f} | {s['stop_reason']} | "
            f"{100 * p['balance_max_dev']:.1f} | {100 * p['moved_potential_share']:.1f} | "
            f"{p['travel_mean_km']:.0f} | {'yes' if p['pareto'] else ''} | "
            f"{'yes' if same[v] else 'no'} | {digests[v]} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
