"""National benchmark runner (issue 13): clustered accounts at US places, H3 units.

Generates (or reuses) an instance of ``benchmarks/national_instance.py`` and
runs every seed as its own child process of the command line:

- ``partition``: ``territory-engine partition graph.json -k K --balance
  potential=TOL --balance workload=TOL --objective inertia --contiguous``;
- ``run``: ``territory-engine run scenario/scenario.yaml --seed S`` (travel
  objective, contiguity, no disruption weight, one rep per territory).

Each child's wall seconds and peak RSS are measured (``os.wait4``), and the
result is re-checked from its files: units per part, parts without any account
(counted from the assignment), the largest relative deviation per measure
against the mean. Prints one Markdown row per run.

Usage::

    python benchmarks/national.py --class 100k --seeds 0,1,2,3,4 --time-limit 30 \\
        [--mode partition|run|both] [--instance-seed 0] [--out DIR] [--engine SRC]
        [--tolerance T]

``--engine SRC`` puts a source checkout (a folder holding ``territory_engine/``)
first on the children's ``PYTHONPATH``, to measure a fixed commit while the
working tree changes (``git archive HEAD territory_engine | tar -x -C SRC``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import national_instance

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "| class | mode | seed | units | empty units | parts | parts empty | feasible "
    "| max dev potential | max dev workload | stop | seconds | peak RSS MB | exit |"
)


def ensure_instance(cls: str, seed: int, out: Path, rebuild: bool = False) -> dict:
    """The instance's statistics; generated unless ``out`` already holds it for this seed."""
    info = out / "instance.json"
    if not rebuild and info.is_file() and (out / "graph.json").is_file():
        stats = json.loads(info.read_text(encoding="utf-8"))
        if stats.get("class") == cls and stats.get("seed") == seed:
            return stats
    return national_instance.generate(cls, seed, out)


def cli() -> list[str]:
    """The territory-engine command beside this interpreter (else on PATH)."""
    exe = Path(sys.executable).with_name("territory-engine")
    return [str(exe)] if exe.exists() else [shutil.which("territory-engine") or "territory-engine"]


def run_child(
    argv: list[str], cwd: Path, engine: Path | None, log: Path, kill_after: float | None = None
) -> tuple[int, float, float]:
    """Run one child; (exit code, wall seconds, peak RSS MB of the child and its children).

    A child still running ``kill_after`` seconds after its start is killed (exit -9).
    """
    env = dict(os.environ)
    if engine is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(engine.resolve()), *filter(None, [env.get("PYTHONPATH")])]
        )
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=err, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if kill_after is not None and time.perf_counter() - start > kill_after:
                os.kill(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait
    return proc.returncode, time.perf_counter() - start, usage.ru_maxrss / 1024


def part_stats(
    assign: np.ndarray, k: int, loads: dict[str, np.ndarray], accounts: np.ndarray
) -> tuple[int, dict[str, float]]:
    """(parts without any account, measure -> max |part total / mean − 1|)."""
    per_part = np.bincount(assign, weights=accounts, minlength=k)[:k]
    empty = int((per_part == 0).sum())
    dev = {}
    for name, values in loads.items():
        totals = np.bincount(assign, weights=values, minlength=k)[:k]
        dev[name] = float(np.abs(totals / (values.sum() / k) - 1.0).max())
    return empty, dev


def check_partition(graph_path: Path, result_path: Path, k: int) -> dict:
    """Re-check a partition result against the graph: coverage, empty parts, deviations."""
    graph = json.loads(graph_path.read_text(encoding="utf-8"))
    result = json.loads(result_path.read_text(encoding="utf-8"))
    nodes = graph["nodes"]
    assignment = result.get("assignment") or {}
    missing = sum(1 for v in nodes if str(v["id"]) not in assignment)
    assign = np.array([assignment.get(str(v["id"]), k) for v in nodes], dtype=np.int64)
    loads = {
        "potential": np.array([v["potential"] for v in nodes], dtype=float),
        "workload": np.array([v["workload"] for v in nodes], dtype=float),
    }
    accounts = np.array([v["accounts"] for v in nodes], dtype=float)
    empty, dev = part_stats(assign, k, loads, accounts)  # unassigned nodes (index k) left out
    stop = (result.get("solver") or {}).get("stop_reason")
    return {
        "feasible": bool(result.get("feasible")),
        "empty": empty,
        "dev": dev,
        "stop": stop or ("diagnosed" if "objective_name" not in result else "-"),
        "missing": missing,
    }


def check_plan(plan_dir: Path, k: int) -> dict:
    """Re-check a plan folder: accounts per territory, deviations against the fair share."""
    import pandas as pd

    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    accounts = pd.read_csv(plan_dir / "assignments.csv", dtype={"account_id": str})
    measures = pd.read_csv(plan_dir / "accounts.csv", dtype={"account_id": str})
    frame = accounts.merge(measures, on="account_id", how="left", suffixes=("", "_acc"))
    terr = pd.read_csv(plan_dir / "territories.csv", dtype={"territory_id": str})
    ids = sorted(terr["territory_id"])
    code = {t: i for i, t in enumerate(ids)}
    assign = frame["territory_id"].astype(str).map(code).fillna(len(ids)).to_numpy(int)
    loads = {
        "potential": frame["potential"].to_numpy(float),
        "workload": frame["workload_hours"].to_numpy(float),
    }
    empty, dev = part_stats(assign, len(ids), loads, np.ones(len(frame)))
    solver = plan.get("solver") or {}
    return {
        "feasible": bool(plan.get("feasible")),
        "empty": empty,
        "dev": dev,
        "stop": solver.get("stop_reason", "-"),
        "missing": int((assign >= len(ids)).sum()),
    }


def fmt_dev(dev: dict[str, float], name: str) -> str:
    return f"{100 * dev[name]:.1f} %" if name in dev else "-"


def scenario_at(scenario: Path, class_tol: float, tol: float) -> Path:
    """The instance's scenario with both bands at ``tol`` (a sibling file when it differs)."""
    if tol == class_tol:
        return scenario
    text = scenario.read_text(encoding="utf-8")
    old = f"{{tolerance: {class_tol}}}"
    if text.count(old) != 2:
        raise SystemExit(f"{scenario}: expected two bands '{old}' to re-set")
    other = scenario.with_name(f"scenario_tol{tol}.yaml")
    other.write_text(text.replace(old, f"{{tolerance: {tol}}}"), encoding="utf-8")
    return other


def main(argv: list[str] | None = None) -> int:
    """Generate or reuse the instance, run each seed, print one Markdown row per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--class", dest="cls", choices=sorted(national_instance.CLASSES), default="10k"
    )
    parser.add_argument("--seeds", default="0", help="solver seeds, comma-separated")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--mode", choices=("partition", "run", "both"), default="partition")
    parser.add_argument("--instance-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="instance folder")
    parser.add_argument("--engine", type=Path, default=None, help="source checkout to run")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the instance")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="band tolerance of both measures (default: the class's)",
    )
    parser.add_argument(
        "--kill-after",
        type=float,
        default=None,
        help="kill a child still running after this many seconds (default: 4 x limit + 60)",
    )
    args = parser.parse_args(argv)
    spec = national_instance.CLASSES[args.cls]
    out = (args.out or ROOT / "benchmarks" / "instances" / args.cls).resolve()
    stats = ensure_instance(args.cls, args.instance_seed, out, args.rebuild)
    k = spec.parts
    tol = spec.tolerance if args.tolerance is None else args.tolerance
    scenario = scenario_at(out / "scenario" / "scenario.yaml", spec.tolerance, tol)
    kill_after = args.kill_after or 4 * args.time_limit + 60
    print(
        f"instance {args.cls}: {stats['accounts']:,} accounts, {stats['units']:,} units "
        f"(res {stats['resolution']}), {stats['edges']:,} edges, "
        f"{100 * stats['empty_share']:.1f} % empty, heaviest unit "
        f"{100 * stats['heaviest_unit_share_of_fair_potential']:.0f} % of a fair share, "
        f"built in {stats['build_seconds']} s",
        file=sys.stderr,
        flush=True,
    )
    print(HEADER)
    print("|---" * (HEADER.count("|") - 1) + "|")
    modes = ["partition", "run"] if args.mode == "both" else [args.mode]
    runs = out / "runs"
    runs.mkdir(exist_ok=True)
    for mode in modes:
        for seed in [int(s) for s in args.seeds.split(",")]:
            log = runs / f"{mode}_seed{seed}.log"
            if mode == "partition":
                result = runs / f"partition_seed{seed}.json"
                result.unlink(missing_ok=True)
                argv_ = [
                    *cli(),
                    "partition",
                    str(out / "graph.json"),
                    "-k",
                    str(k),
                    "--balance",
                    f"potential={tol}",
                    "--balance",
                    f"workload={tol}",
                    "--objective",
                    "inertia",
                    "--contiguous",
                    "--time-limit",
                    str(args.time_limit),
                    "--seed",
                    str(seed),
                    "-o",
                    str(result),
                ]
                code, seconds, rss = run_child(argv_, out, args.engine, log, kill_after)
                check = check_partition(out / "graph.json", result, k) if result.is_file() else None
            else:
                plan = runs / f"plan_seed{seed}"
                argv_ = [
                    *cli(),
                    "run",
                    str(scenario),
                    "--seed",
                    str(seed),
                    "--time-limit",
                    str(args.time_limit),
                    "--output",
                    str(plan),
                    "--no-store",
                    "--quiet",
                ]
                code, seconds, rss = run_child(argv_, out, args.engine, log, kill_after)
                check = check_plan(plan, k) if (plan / "plan.json").is_file() else None
            if check is None:
                tail = log.read_text(encoding="utf-8").strip().splitlines()[-1:] or ["no output"]
                why = f"killed after {seconds:.0f} s" if code in (-6, -9) else f"failed: {tail[0]}"
                check = {"feasible": False, "empty": "-", "dev": {}, "stop": why}
            print(
                f"| {args.cls} | {mode} | {seed} | {stats['units']:,} | "
                f"{100 * stats['empty_share']:.1f} % | {k} | {check['empty']} | "
                f"{check['feasible']} | {fmt_dev(check['dev'], 'potential')} | "
                f"{fmt_dev(check['dev'], 'workload')} | {check['stop']} | {seconds:.1f} | "
                f"{rss:.0f} | {code} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
