"""Time the planner's edit re-score in the studio on the sample (issue 16, item 3).

Usage::

    python benchmarks/studio_edit.py [--edits 30] [--time-limit 2]

Solves ``scenarios/fy_baseline.yaml`` with a short time limit, records the plan in a
plan store, starts the studio in-process (FastAPI ``TestClient``: the whole request
path, CSRF and scoping included), signs in as a planner and times ``--edits``
previews of ``POST /api/plans/1/edit``: the first edits move one county each
(a different one each time), the rest send several moves (the list a planner has
built since the version: 2, 3, ... moves). The first (cold) edit opens the edit
session (reads the scenario's data once) and is reported apart; median and p95 are
over the warm edits. For comparison, the folder-based re-score the studio used
before (copy the folder, apply the moves, ``score_plan`` + ``validate_plan``) is
timed on a few of the same moves. Target: warm edits within 300 ms. Prints one
JSON document, with the CPU time of the edits and the machine's load average
(wall-clock times on a shared machine follow its load).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "fy_baseline.yaml"
PASSWORD = "correct horse battery"


def build_plan(base: Path, time_limit: float) -> Path:
    """The sample baseline solved with ``time_limit`` seconds, recorded in a store."""
    from territory_engine.config import load_scenario
    from territory_engine.pipeline.run import run_scenario
    from territory_engine.store import PlanStore

    scenario = load_scenario(SCENARIO)
    scenario = scenario.model_copy(
        update={"solver": scenario.solver.model_copy(update={"time_limit": time_limit})}
    )
    out = base / "out" / "fy_baseline"
    run_scenario(scenario, output=out, source=SCENARIO)
    PlanStore(base / "out" / "plans.sqlite").record_folder(out)
    return out


def signed_in_planner(plan: Path, base: Path) -> TestClient:
    """A studio over ``plan``'s store and a client signed in as its planner."""
    import re

    from territory_engine.studio import create_app
    from territory_engine.studio.db import open_database
    from territory_engine.studio.users import add_user

    url = f"sqlite:///{base / 'studio.sqlite'}"
    with open_database(url)() as db:
        add_user(db, "planner", "planner", PASSWORD)
    client = TestClient(create_app(url, plan.parent / "plans.sqlite"))
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={"username": "planner", "password": PASSWORD, "login_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def edit_lists(plan: Path, edits: int) -> list[list[dict]]:
    """The move lists of the edits: single moves of distinct counties, then growing lists."""
    from territory_engine.plan.reader import read_plan_csv

    assignments = read_plan_csv(plan / "assignments.csv")
    territories = sorted(assignments["territory_id"].astype(str).unique())
    moves = []
    for unit, rows in assignments.groupby("unit_id", sort=True):
        here = rows["territory_id"].astype(str).iloc[0]
        other = territories[(territories.index(here) + 1) % len(territories)]
        moves.append({"unit_id": str(unit), "to_territory_id": other})
    singles = (edits * 2) // 3
    out = [[m] for m in moves[:singles]]
    out += [moves[singles : singles + n] for n in range(2, 2 + edits - singles)]
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def time_edits(client: TestClient, lists: list[list[dict]]) -> tuple[list[float], list[float]]:
    """Milliseconds of each edit preview, wall clock and CPU (all must succeed).

    The CPU time is the process's (every thread: the app runs in the client's
    worker thread), so it shows the work of a request when the machine is shared.
    """
    token = client.get("/api/me").json()["csrf_token"]
    took, cpu = [], []
    for moves in lists:
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.post(
            "/api/plans/1/edit", json={"moves": moves}, headers={"X-CSRF-Token": token}
        )
        took.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.text
    return took, cpu


def time_folder_rescore(plan: Path, lists: list[list[dict]], workdir: Path) -> list[float]:
    """Milliseconds of the folder-based re-score (the studio's former path) on ``lists``."""
    import shutil

    from territory_engine.plan.reader import read_plan_folder
    from territory_engine.studio.editing import Move, rescore_folder

    folder = read_plan_folder(plan)
    took = []
    for moves in lists:
        start = time.perf_counter()
        edit = rescore_folder(folder, [Move(**m) for m in moves], workdir)
        took.append((time.perf_counter() - start) * 1000)
        shutil.rmtree(edit.folder, ignore_errors=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--time-limit", type=float, default=2.0)
    parser.add_argument("--folder-edits", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        plan = build_plan(base, args.time_limit)
        client = signed_in_planner(plan, base)
        lists = edit_lists(plan, args.edits)
        load_before = os.getloadavg()[0]
        took, cpu = time_edits(client, lists)
        load_after = os.getloadavg()[0]
        warm = took[1:]
        folder = time_folder_rescore(plan, lists[: args.folder_edits], base)
        print(
            json.dumps(
                {
                    "edits": len(took),
                    "moves_per_edit": [len(m) for m in lists],
                    "cold_first_edit_ms": round(took[0], 1),
                    "warm_median_ms": round(statistics.median(warm), 1),
                    "warm_p95_ms": round(p95(warm), 1),
                    "warm_max_ms": round(max(warm), 1),
                    "single_move_median_ms": round(
                        statistics.median(
                            [t for t, m in zip(took[1:], lists[1:], strict=True) if len(m) == 1]
                        ),
                        1,
                    ),
                    "several_moves_median_ms": round(
                        statistics.median(
                            [t for t, m in zip(took, lists, strict=True) if len(m) > 1]
                        ),
                        1,
                    ),
                    "cold_first_edit_cpu_ms": round(cpu[0], 1),
                    "warm_cpu_median_ms": round(statistics.median(cpu[1:]), 1),
                    "warm_cpu_p95_ms": round(p95(cpu[1:]), 1),
                    "folder_rescore_median_ms": round(statistics.median(folder), 1),
                    "load_average_1min": [round(load_before, 2), round(load_after, 2)],
                    "target_ms": 300,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
