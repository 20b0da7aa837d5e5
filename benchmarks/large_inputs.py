"""Large inputs (issue 15): a generated 1,000,000-row accounts CSV, loaded in bounded memory.

Generates ``benchmarks/out/large_inputs/accounts_<N>.csv`` (git-ignored) by tiling
the sample's ``data/accounts.csv`` with fresh ids (parents remapped within each
copy, coordinates jittered by up to 0.01 degree), then loads it in a child process
with :func:`territory_engine.io.accounts.read_accounts`, the reader every command
uses, and reports the child's wall seconds and peak RSS (``os.wait4``). A second
child only imports the reader: the difference is what the table itself costs.

It also writes a file just above the documented limit
(:data:`territory_engine.io.tables.MAX_TABLE_ROWS`) - cheaply, by appending copies
of the 1M file's body - and checks that reading it fails at once with the one-line
message, in little memory, before pandas parses anything (``--over-limit``).

Usage::

    python benchmarks/large_inputs.py [--rows 1000000] [--over-limit] [--keep]

Prints one Markdown row per measurement.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "large_inputs"

LOAD = """
import sys, time
from territory_engine.io.accounts import read_accounts
from territory_engine.errors import InputError
start = time.perf_counter()
try:
    frame = read_accounts(sys.argv[1])
    print(f"rows={len(frame)} seconds={time.perf_counter() - start:.2f}")
except InputError as exc:
    print(f"error={exc} seconds={time.perf_counter() - start:.2f}")
"""
IMPORT_ONLY = "import territory_engine.io.accounts"
HERE = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); " + (
    "from pathlib import Path; from large_inputs import generate, over_limit; "
)


def generate(rows: int, path: Path, seed: int = 0) -> Path:
    """Tile the sample's accounts to ``rows`` rows with new ids; returns ``path``."""
    import numpy as np
    import pandas as pd

    sample = pd.read_csv(ROOT / "data" / "accounts.csv", dtype=str, keep_default_na=False)
    copies = -(-rows // len(sample))
    rng = np.random.default_rng(seed)
    index = np.tile(np.arange(len(sample)), copies)[:rows]
    block = np.repeat(np.arange(copies), len(sample))[:rows]
    frame = sample.iloc[index].reset_index(drop=True)
    # Ids A0000001...; a parent id points to its copy of the parent in the same block.
    position = {a: i for i, a in enumerate(sample["account_id"])}
    new_id = np.char.add("A", np.char.zfill(np.arange(1, rows + 1).astype(str), 8))
    frame["account_id"] = new_id
    parent = sample["parent_account_id"].to_numpy()[index]
    has_parent = parent != ""
    parent_pos = np.array([position.get(p, -1) for p in parent[has_parent]])
    target = block[has_parent] * len(sample) + parent_pos
    ok = (parent_pos >= 0) & (target < rows)
    mapped = np.full(has_parent.sum(), "", dtype=object)
    mapped[ok] = new_id[target[ok]]
    parents = np.full(rows, "", dtype=object)
    parents[has_parent] = mapped
    frame["parent_account_id"] = parents
    for col in ("lat", "lon"):
        jitter = rng.uniform(-0.01, 0.01, rows)
        frame[col] = np.round(frame[col].astype(float).to_numpy() + jitter, 6)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def measure(code: str, *args: str) -> tuple[str, float, float]:
    """Run ``code`` in a child; its stdout, wall seconds and peak RSS in MB."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {out}")
    return out.strip(), seconds, usage.ru_maxrss / 1024


def over_limit(source: Path, limit_rows: int) -> Path:
    """A CSV of more than ``limit_rows`` data rows, by appending copies of ``source``'s body."""
    path = source.with_name("accounts_over_limit.csv")
    with source.open("rb") as f:
        header = f.readline()
        body = f.read()
    body_rows = body.count(b"\n")
    with path.open("wb") as f:
        f.write(header)
        written = 0
        while written <= limit_rows:
            f.write(body)  # duplicate ids do not matter: the limit is checked first
            written += body_rows
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--over-limit", action="store_true", help="also test the limit")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    # This process stays small: a child's peak RSS can start from its parent's (fork),
    # so the files are written, and the limits read, in children of their own.
    out, _, _ = measure(
        "from territory_engine.io.tables import MAX_TABLE_BYTES, MAX_TABLE_ROWS as r;"
        "print(r, MAX_TABLE_BYTES)"
    )
    max_rows, max_bytes = (int(v) for v in out.split())
    path = OUT / f"accounts_{args.rows}.csv"
    start = time.perf_counter()
    if not path.exists():
        measure(f"{HERE}generate({args.rows}, Path({str(path)!r}))")
    took = time.perf_counter() - start
    print(f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {took:.1f} s")
    print("| what | file MB | rows | wall s | peak RSS MB | result |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    _, sec, rss = measure(IMPORT_ONLY)
    print(f"| import the reader only | | | {sec:.1f} | {rss:.0f} | |")
    out, sec, rss = measure(LOAD, str(path))
    size = path.stat().st_size / 1e6
    print(f"| read_accounts | {size:.0f} | {args.rows:,} | {sec:.1f} | {rss:.0f} | {out} |")
    if args.over_limit:
        big = path.with_name("accounts_over_limit.csv")
        measure(f"{HERE}over_limit(Path({str(path)!r}), {max_rows})")
        out, sec, rss = measure(LOAD, str(big))
        size = big.stat().st_size / 1e6
        print(
            f"| over the limit ({max_rows:,} rows, {max_bytes / 2**30:.0f} GiB) "
            f"| {size:.0f} | > {max_rows:,} | {sec:.1f} | {rss:.0f} | {out} |"
        )
        if not args.keep:
            big.unlink()
    if not args.keep:
        shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
