"""Killed runs: SIGKILL to ``run``, ``quota``, ``score``, ``rep --all-reps``, ``compare``,
``sweep`` and a plan-store write, then check what is left.

After every kill: each plan folder is the old complete one (same files, same
SHA-256) or a new complete one (every file whole), the plan store passes ``PRAGMA
integrity_check`` with every plan whole, no process of the command still runs, and
the temporary entries the kill left are removed by what the next write of the target
runs first (``clean_stale_temps``: a SIGKILL cannot be caught, so the next run
cleans, see ``territory_engine/plan/atomic.py``). The harness is
``benchmarks/kills.py``; the default suite kills each command once, in its write
phase; ``-m slow`` kills each at eight points over its run and write, then checks
that one complete run leaves a new complete folder and no temporary entry.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import kills  # noqa: E402

#: One kill per command in the default suite: where it bites hardest. A faster machine
#: may finish a write phase before the point, so each command has earlier points to
#: fall back on; the test needs one kill that lands before the command ends.
DEFAULT_POINTS = {
    "run": [{"after_temp_ms": 300}, {"after_temp_ms": 50}, {"after_temp_ms": 0}],
    "quota": [{"after_temp_ms": 100}, {"after_temp_ms": 20}, {"after_temp_ms": 0}],
    "score": [{"after_temp_ms": 100}, {"after_temp_ms": 20}, {"after_temp_ms": 0}],
    "rep": [{"after_temp_ms": 200}, {"after_temp_ms": 50}, {"after_temp_ms": 0}],
    "compare": [{"after_temp_ms": 0}],
    "sweep": [{"after_temp_ms": 0}],  # the finished variants being moved in
    "store": [{"after_ms": 4500}, {"after_ms": 1500}],  # recording 60 plans one by one
}


def light_sweep(argv: list[str]) -> list[str]:
    out = ["solver.seed=1" if a == "solver.seed=1,2" else a for a in argv]
    at = out.index("--workers")
    return [*out[:at], "--serial", *out[at + 2 :]]


def judge(outcome: kills.Outcome) -> None:
    assert all(s in ("old", "new") for s in outcome.states), outcome
    assert outcome.store_ok, outcome.store_problem
    assert outcome.temp_cleaned, outcome
    assert outcome.processes_left == 0, outcome
    assert not outcome.broken


@pytest.fixture(scope="module")
def work(plan_dir, tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kills")


@pytest.mark.parametrize("command", list(DEFAULT_POINTS))
def test_a_killed_command_leaves_the_old_or_the_new_complete_folder(command, plan_dir, work):
    (case,) = kills.build_cases(plan_dir, work / "cases", [command])
    if command == "sweep":  # one variant, no Dask start-up (the slow test uses two workers)
        case.argv = light_sweep(case.argv)
    landed = False
    for point in DEFAULT_POINTS[command]:
        outcome = kills.kill_at(case, work, **point)
        judge(outcome)  # whether or not the kill landed, nothing may be broken
        if not outcome.exited_first:
            landed = True
            break
    assert landed, "the command ended before every kill point: move the points"


def test_the_next_run_after_a_kill_cleans_up_and_writes_the_new_folder(plan_dir, work):
    """For real: ``rep --all-reps`` killed mid-write (its pages take seconds to write),
    then run to its end."""
    (case,) = kills.build_cases(plan_dir, work / "next", ["rep"])
    outcome = kills.kill_at(case, work, after_temp_ms=100, clean=False)
    assert outcome.states == ["old"]
    leftovers = kills.temp_entries(*case.temp_parents)
    assert leftovers, "the kill left no temporary folder: nothing to clean"
    assert kills.final_run_is_clean(case, work) is None  # no reset: from what the kill left
    assert not [p for p in leftovers if p.exists()]


@pytest.mark.slow
@pytest.mark.parametrize("command", kills.COMMANDS)
def test_many_kills_never_break_a_folder_or_the_store(command, plan_dir, work):
    (case,) = kills.build_cases(plan_dir, work / "slow", [command])
    case.reset()
    runtime, write = kills.complete_run(case, work)
    for point in kills.kill_points(runtime, write, 8):
        judge(kills.kill_at(case, work, **point))
    case.reset()
    assert kills.final_run_is_clean(case, work) is None
