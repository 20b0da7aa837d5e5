"""Recombination benchmark: steps a second and cut edges of ``recombine_descent`` on a tract graph.

The graph is read from ``../shared/benchmarks/districting/graphs/tract/`` and
built as :func:`territory_engine.partition` builds it (TOTPOP within ±1 %,
contiguity on, islands joined). The start is the best plan of the pair-exchange
chains (``swap_multistart``) after ``--start-seconds``, from the same seed, so
every variant below starts from one plan:

* ``T`` (for example ``1.0``): one chain of ``--steps`` steps at temperature
  ``T`` with ``--trees`` trees a step;
* ``burst:L:T``: bursts of ``L`` steps, each from the best plan so far;
* ``trees:N:T``: one chain with ``N`` trees a step;
* ``three:T``: one chain recombining three parts a step.

Prints the start's cut edges and, per variant, the steps run, steps a second,
the best cut edges and the seconds. The first call of a process compiles the
kernel (or loads it from numba's cache): a short warm-up run precedes the table.

Usage::

    python benchmarks/recombine.py --state ME --k 18 --steps 300000 --variants "1.0;burst:2000:1"
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from territory_engine.problem.data import count_cut_edges
from territory_engine.problem.graph import problem_from_graph, read_graph
from territory_engine.solve.search.anneal import swap_multistart
from territory_engine.solve.search.recombine import recombine_descent
from territory_engine.solve.seeds.tree import best_tree_partition

TRACTS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "districting" / "graphs"
TRACTS = TRACTS / "tract"


def run_variant(problem, start: np.ndarray, spec: str, steps: int, trees: int, seed: int):
    """Best plan and steps run of one variant (module docstring) from ``start``."""
    kind, *args = spec.split(":")
    if kind == "burst":
        length, temperature = int(args[0]), float(args[1])
        best, done = start, 0
        for i in range(max(steps // length, 1)):
            best, stats = recombine_descent(
                problem, best, iterations=length, seed=seed + i, temperature=temperature
            )
            done += stats["iterations"]
        return best, done
    parts = 2
    if kind == "trees":
        trees, temperature = int(args[0]), float(args[1])
    elif kind == "three":
        parts, temperature = 3, float(args[0])
    else:
        temperature = float(kind)
    best, stats = recombine_descent(
        problem,
        start,
        iterations=steps,
        seed=seed,
        trees=trees,
        temperature=temperature,
        parts=parts,
    )
    return best, stats["iterations"]


def main(argv: list[str] | None = None) -> int:
    """Build the problem, find the start, run every variant and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", default="ME")
    parser.add_argument("--k", type=int, default=18)
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--trees", type=int, default=8)
    parser.add_argument("--start-seconds", type=float, default=10.0)
    parser.add_argument("--variants", default="1.0", help="';'-separated (module docstring)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = TRACTS / f"{args.state}.json"
    graph = read_graph(path)
    problem = problem_from_graph(
        graph,
        parts=args.k,
        balance={"TOTPOP": 0.01},
        bounds={},
        objective="cut_edges",
        contiguous=True,
        file=path.name,
    ).problem

    def cut(a: np.ndarray) -> float:
        return float(count_cut_edges(problem.adjacency, a))

    def tree_start(r: int) -> np.ndarray | None:
        return best_tree_partition(problem, cut, seconds=0.5, seed=args.seed * 1_000_003 + r)[0]

    begun = time.perf_counter()
    start, _ = swap_multistart(
        problem, tree_start, deadline=begun + args.start_seconds, seed=args.seed
    )
    if start is None:
        print(f"{args.state} k={args.k}: no balanced start in {args.start_seconds} s")
        return 1
    recombine_descent(problem, start, iterations=10, seed=args.seed)  # compile or load
    print(f"{args.state} k={args.k}: {problem.n_units} units, start {cut(start):.0f} cut edges")
    print("| variant | steps | steps/s | cut edges | s |")
    print("|---|---|---|---|---|")
    for spec in args.variants.split(";"):
        t = time.perf_counter()
        best, done = run_variant(problem, start, spec, args.steps, args.trees, args.seed)
        seconds = time.perf_counter() - t
        print(
            f"| {spec} | {done:,} | {done / seconds:,.0f} | {cut(best):.0f} | {seconds:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
