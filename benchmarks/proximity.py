"""Time the proximity score on a generated graph: 100,000 accounts x 250 reps.

The graph has the sample's shape, scaled: each account has one to three
rep-account ties, one account in eight has a parent or partner tie, each rep
knows a handful of colleagues. Prints the build and scoring times and the peak
memory of the process.

    python benchmarks/proximity.py [--accounts 100000] [--reps 250] [--seed 0]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from territory_engine.social import proximity, tie_matrices


def generated_edges(n_accounts: int, n_reps: int, rng: np.random.Generator) -> pd.DataFrame:
    """A random relationship edge table of the sample's shape."""
    accounts = np.array([f"A{i:07d}" for i in range(n_accounts)])
    reps = np.array([f"R{i:04d}" for i in range(n_reps)])
    per = rng.integers(1, 4, n_accounts)
    src = rng.integers(0, n_reps, per.sum())
    dst = np.repeat(np.arange(n_accounts), per)
    frames = [
        pd.DataFrame(
            {
                "source": reps[src],
                "target": accounts[dst],
                "kind": "rep-account",
                "weight": rng.uniform(0.2, 1, len(src)),
            }
        )
    ]
    n_links = n_accounts // 8
    a, b = rng.integers(0, n_accounts, (2, n_links))
    keep = a != b
    frames.append(
        pd.DataFrame(
            {
                "source": accounts[a[keep]],
                "target": accounts[b[keep]],
                "kind": "account-account",
                "weight": rng.uniform(0.3, 1, keep.sum()),
            }
        )
    )
    r1, r2 = rng.integers(0, n_reps, (2, n_reps * 3))
    keep = r1 != r2
    frames.append(
        pd.DataFrame(
            {
                "source": reps[r1[keep]],
                "target": reps[r2[keep]],
                "kind": "rep-rep",
                "weight": rng.uniform(0.2, 1, keep.sum()),
            }
        )
    )
    return pd.concat(frames, ignore_index=True), reps, accounts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    edges, reps, accounts = generated_edges(args.accounts, args.reps, rng)
    t0 = time.perf_counter()
    ties = tie_matrices(edges, reps, accounts)
    t1 = time.perf_counter()
    prox = proximity(ties, decay=0.5, top=5)
    t2 = time.perf_counter()
    score, _ = prox.best()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"edges: {len(edges):,} ({args.accounts:,} accounts x {args.reps} reps)")
    print(f"tie matrices: {t1 - t0:.2f} s")
    print(f"proximity (top 5 per account): {t2 - t1:.2f} s, {prox.matrix.nnz:,} scores kept")
    print(f"accounts with a close rep: {(score > 0).mean():.1%}; mean best {score.mean():.3f}")
    print(f"peak memory: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
