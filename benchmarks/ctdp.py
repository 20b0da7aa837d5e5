"""CTDP benchmark: the largest territory diameter against published LNS and VNS results.

Instances and references come from ``../shared/benchmarks/ctdp`` (read, never
copied): p = 10 territories, workload, demand and n_customers each within ±5 %
of the mean, no contiguity, minimise the largest shortest-path diameter.

Usage::

    python benchmarks/ctdp.py [--time-limit 60] [--group group1] [--limit 10]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from territory_engine.partition import partition
from territory_engine.problem.graph import read_graph

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "ctdp"
MEASURES = ("workload", "demand", "n_customers")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--group", default="all")
    parser.add_argument("--limit", type=int, default=0, help="first N instances of each group")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = list(csv.DictReader((SHARED / "reference.csv").open()))
    if args.group != "all":
        rows = [r for r in rows if r["group"] == args.group]
    if args.limit:
        kept, seen = [], {}
        for r in rows:
            seen[r["group"]] = seen.get(r["group"], 0) + 1
            if seen[r["group"]] <= args.limit:
                kept.append(r)
        rows = kept
    print("| instance | group | lns_60s | vns_low | engine | engine / lns_60s | feasible | s |")
    print("|---|---|---|---|---|---|---|---|")
    ratios, feasible = [], 0
    for r in rows:
        res = partition(
            read_graph(SHARED / r["file"]),
            parts=10,
            balance=dict.fromkeys(MEASURES, 0.05),
            bounds={},
            objective="diameter",
            contiguous=False,
            distance_attr="distance",
            time_limit=args.time_limit,
            seed=args.seed,
        )
        ok = res.feasible
        feasible += ok
        ref = float(r["lns_60s"]) if r["lns_60s"] else None
        ratio = res.objective / ref if ok and ref else None
        if ratio is not None:
            ratios.append(ratio)
        print(
            f"| {r['instance']} | {r['group']} | {r['lns_60s']} | {r['vns_low']} | "
            f"{res.objective:.3f} | {'' if ratio is None else f'{ratio:.3f}'} | {ok} | "
            f"{res.seconds:.0f} |",
            flush=True,
        )
    mean = sum(ratios) / len(ratios) if ratios else float("nan")
    print(f"\nfeasible {feasible}/{len(rows)}; mean engine / lns_60s {mean:.3f} over {len(ratios)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
