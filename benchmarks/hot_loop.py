"""Hot-loop benchmark: the compiled descent pass and annealing loop against their Python references.

On the 30,000-unit grid of ``benchmarks/scale.py`` (same construction: 173 ×
173 rook grid, lognormal potential, correlated workload, 250 centres, ±3 %,
contiguity on), from the balanced power-diagram start that ``align`` uses at
this size:

* descent: ``--passes`` successive ``LocalSearch.single_pass`` calls
  (``lam = 1``, as ``run`` begins) from the same state and the same
  generator, Python and compiled side by side; after every pass the two
  states are compared (assignment, loads, violations, moved potential,
  move count) and must be equal;
* annealing: ``anneal_cut_edges`` from that start for ``--anneal-seconds``
  each way (the same seed), reported as microseconds per proposed move.

Compile time is measured in a fresh interpreter with an empty numba cache
(``NUMBA_CACHE_DIR`` set to a new directory), and the load time of the
cached kernels in a second fresh interpreter.

Usage::

    python benchmarks/hot_loop.py [--rows 173 --cols 173 --parts 250 --passes 5]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.search.local import LocalSearch
from territory_engine.solve.seeds.power import power_seed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale import scale_problem  # the instance of benchmarks/scale.py

_COMPILE_SNIPPET = """
import time
import numpy as np
import territory_engine
t0 = time.perf_counter()
from territory_engine.solve.search import kernels
t1 = time.perf_counter()
from territory_engine.problem.arrays import grid_problem
from territory_engine.solve.search.anneal import anneal_cut_edges
from territory_engine.solve.candidates import nearest_candidates
from territory_engine.solve.costs import CostModel
from territory_engine.solve.search.local import LocalSearch
p = grid_problem(4, 4, centres=np.array([[0.0, 0.0], [0.3, 0.3]]), tolerance=0.1, contiguity=True)
a = (np.arange(16) % 4 >= 2).astype(int)
ls = LocalSearch(p, CostModel(p, p.centres), a, nearest_candidates(p, p.centres, 2))
t2 = time.perf_counter()
ls.single_pass(np.random.default_rng(0), float("inf"), compiled=True)
t3 = time.perf_counter()
anneal_cut_edges(p, a, seconds=0.0, compiled=True)
t4 = time.perf_counter()
print(t1 - t0, t3 - t2, t4 - t3)
"""


def _same(a: LocalSearch, b: LocalSearch) -> bool:
    return (
        a.assign == b.assign
        and a.loads == b.loads
        and a.viol_t == b.viol_t
        and a.size == b.size
        and a.moved == b.moved
        and a.moves == b.moves
        and a.members == b.members
    )


def compile_times() -> tuple[list[float], list[float]]:
    """(import, descent, anneal) seconds with an empty cache, then with the cache filled."""
    out = []
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for _ in range(2):
            res = subprocess.run(
                [sys.executable, "-c", _COMPILE_SNIPPET],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            out.append([float(x) for x in res.stdout.split()])
    return out[0], out[1]


def main(argv: list[str] | None = None) -> int:
    """Build, time, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=173)
    parser.add_argument("--cols", type=int, default=173)
    parser.add_argument("--parts", type=int, default=250)
    parser.add_argument("--tolerance", type=float, default=0.03)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--anneal-seconds", type=float, default=3.0)
    parser.add_argument("--no-compile-time", action="store_true")
    args = parser.parse_args(argv)

    cold, warm = ([math.nan] * 3, [math.nan] * 3)
    if not args.no_compile_time:
        cold, warm = compile_times()

    # Load the compiled kernels (from numba's cache) before any timing.
    exec(_COMPILE_SNIPPET.replace("print(", "("), {})

    problem = scale_problem(args.rows, args.cols, args.parts, args.tolerance)
    costs = CostModel(problem, problem.centres)
    cands = nearest_candidates(problem, problem.centres, 8)
    start, _ = power_seed(problem, problem.centres, cands)
    ref = LocalSearch(problem, costs, start, cands)
    fast = LocalSearch(problem, costs, start, cands)
    t = time.perf_counter()
    fast._kernel_data()  # CSR maps and the distance slots, once per search
    setup = time.perf_counter() - t
    rng_ref, rng_fast = np.random.default_rng(1), np.random.default_rng(1)
    t_ref: list[float] = []
    t_fast: list[float] = []
    moves: list[int] = []
    for _ in range(args.passes):
        t = time.perf_counter()
        m_ref = ref.single_pass(rng_ref, math.inf, 1.0, compiled=False)
        t_ref.append(time.perf_counter() - t)
        t = time.perf_counter()
        m_fast = fast.single_pass(rng_fast, math.inf, 1.0, compiled=True)
        t_fast.append(time.perf_counter() - t)
        if m_ref != m_fast or not _same(ref, fast):
            print(f"MISMATCH after pass {len(t_ref)}: {m_ref} vs {m_fast} moves", file=sys.stderr)
            return 1
        moves.append(int(m_ref or 0))

    from territory_engine.solve.search.anneal import anneal_cut_edges

    anneal_rate = {}
    for compiled in (False, True):
        # The loop runs until the clock passes the budget (checked every 256
        # proposals), so proposals / budget is its rate; set-up is not counted.
        _, st = anneal_cut_edges(
            problem, start, seconds=args.anneal_seconds, seed=0, compiled=compiled
        )
        anneal_rate[compiled] = (st["moves"], args.anneal_seconds)

    n = problem.n_units
    print(f"{n} units, {args.parts} parts, ±{100 * args.tolerance:.0f} %, contiguity on; ")
    print(f"descent passes: moves per pass {moves}; states equal after every pass\n")
    print("| loop | Python | compiled | speed-up |")
    print("|---|---|---|---|")
    for q, (a, b) in enumerate(zip(t_ref, t_fast, strict=True), start=1):
        print(f"| descent pass {q} (s) | {a:.4f} | {b:.4f} | {a / b:.0f}× |")
    mean_ref, mean_fast = float(np.mean(t_ref)), float(np.mean(t_fast))
    ratio = mean_ref / mean_fast
    print(f"| descent pass, mean (s) | {mean_ref:.4f} | {mean_fast:.4f} | {ratio:.0f}× |")
    print(f"| compiled-pass setup, once per search (s) | – | {setup:.3f} | |")
    (m0, s0), (m1, s1) = anneal_rate[False], anneal_rate[True]
    u0, u1 = 1e6 * s0 / m0, 1e6 * s1 / m1
    print(f"| anneal, µs per proposal ({m0:,} / {m1:,} in {args.anneal_seconds:g} s) "
          f"| {u0:.3f} | {u1:.3f} | {u0 / u1:.0f}× |")  # fmt: skip
    print()
    print("| first call | import numba + kernels (s) | descent kernel (s) | anneal kernel (s) |")
    print("|---|---|---|---|")
    print("| empty cache (compile) | " + " | ".join(f"{x:.2f}" for x in cold) + " |")
    print("| cache filled (load) | " + " | ".join(f"{x:.2f}" for x in warm) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
