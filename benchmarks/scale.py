"""Scale benchmark: about 30,000 units, 250 territories, two measures at ±3 %, contiguity on.

A generated instance: a rows × cols rook grid (default 173 × 173 = 29,929
units, the size 100,000 accounts aggregate to), lognormal potential and a
workload correlated with it, 250 territory centres at random cells (seeded).
Reports wall seconds, the seed used (the LP, or the power diagram at this
size), feasibility, stop reason, restarts and peak resident memory (of the
whole process, so with several seeds it is the largest run's).

Usage::

    python benchmarks/scale.py [--rows 173 --cols 173 --parts 250 --time-limit 120] [--seed 0,1,2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

from territory_engine.problem.arrays import grid_problem
from territory_engine.problem.data import ProblemData
from territory_engine.solve import align


def scale_problem(rows: int, cols: int, parts: int, tolerance: float) -> ProblemData:
    """The instance: lognormal potential, correlated workload, centres at seeded cells."""
    rng = np.random.default_rng(0)
    n = rows * cols
    potential = rng.lognormal(0.0, 1.0, n)
    workload = potential**0.6 * rng.uniform(0.7, 1.3, n)
    cells = rng.choice(n, size=parts, replace=False)
    r, c = np.divmod(cells, cols)
    centres = np.column_stack([c * 0.1, r * 0.1])
    return grid_problem(
        rows,
        cols,
        weights=np.column_stack([potential, workload]),
        centres=centres,
        tolerance=tolerance,
        contiguity=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Generate, solve, print one Markdown row per seed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=173)
    parser.add_argument("--cols", type=int, default=173)
    parser.add_argument("--parts", type=int, default=250)
    parser.add_argument("--tolerance", type=float, default=0.03)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument(
        "--seed", default="0", help="solver seeds, comma-separated (the instance is seed 0)"
    )
    args = parser.parse_args(argv)
    n = args.rows * args.cols
    print(
        "| solver seed | units | parts | tolerance | build s | seed | seed s | total s | feasible "
        "| stop | restarts | violations | travel ratio | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for solver_seed in [int(x) for x in args.seed.split(",")]:
        start = time.perf_counter()
        problem = scale_problem(args.rows, args.cols, args.parts, args.tolerance)
        built = time.perf_counter() - start
        result = align(problem, seed=solver_seed, time_limit=args.time_limit, candidates=8)
        total = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stats = result.stats
        print(
            f"| {solver_seed} | {n} | {args.parts} | ±{100 * args.tolerance:.0f} % | {built:.1f} | "
            f"{stats.seed_method or 'lp'} | {stats.seed_seconds or 0:.1f} | "
            f"{total:.1f} | "
            f"{result.feasible} | {stats.stop_reason} | {stats.restarts} | "
            f"{len(result.violations)} | {stats.objective.travel_ratio:.3f} | {rss:.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
