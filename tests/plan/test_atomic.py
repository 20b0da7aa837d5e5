"""Atomic folder and file writes: what a killed writer leaves, and how the next write mends it.

A SIGKILL cannot be caught, so these tests lay out by hand what a writer killed at
each step leaves (its temporary entries carry its host and pid), then check what the
next write does. ``tests/hardening/test_kills.py`` kills real commands.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from territory_engine.plan import atomic
from territory_engine.plan.atomic import (
    clean_stale_temps,
    is_temp_name,
    recover_folder,
    temp_name,
    write_folder_atomically,
    write_text_atomically,
)
from territory_engine.plan.rewrite import rewrite_folder, text_writer


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def stale(parent: Path, target: str, kind: str, pid: int | None = None) -> Path:
    """A temporary folder as a writer of ``target`` with ``pid`` would name it."""
    name = f".{target}.{kind}-{atomic._host_tag()}-{pid or dead_pid()}-x1y2"
    folder = parent / name
    folder.mkdir()
    (folder / "half.csv").write_text("a,b\n1,", encoding="utf-8")
    return folder


def fill(text: str):
    def write(folder: Path) -> None:
        (folder / "plan.json").write_text(text, encoding="utf-8")

    return write


def test_temporary_names_carry_host_and_pid_and_are_recognised(tmp_path):
    prefix = temp_name("fy_baseline", "partial")
    assert prefix.startswith(".fy_baseline.partial-")
    assert f"-{os.getpid()}-" in prefix
    assert is_temp_name(prefix + "abc123")
    assert not is_temp_name("fy_baseline")
    assert not is_temp_name(".fy_baseline.partial-abc")  # no host and pid: not ours
    with pytest.raises(ValueError, match="unknown temporary kind"):
        temp_name("x", "scratch")


def test_the_next_write_removes_what_a_killed_writer_left(tmp_path):
    target = tmp_path / "plan"
    write_folder_atomically(target, fill("old"))
    left = stale(tmp_path, "plan", "partial")
    write_folder_atomically(target, fill("new"))
    assert not left.exists()
    assert (target / "plan.json").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_a_live_writers_temporary_folder_is_kept(tmp_path):
    target = tmp_path / "plan"
    live = stale(tmp_path, "plan", "partial", pid=os.getppid())
    other = stale(tmp_path, "other", "partial")  # another target's: not this write's business
    write_folder_atomically(target, fill("new"))
    assert live.is_dir() and other.is_dir()


def test_another_hosts_temporary_folder_is_kept_until_it_is_old(tmp_path):
    name = f".plan.partial-000000-{os.getpid()}-zz"
    foreign = tmp_path / name
    foreign.mkdir()
    assert clean_stale_temps(tmp_path / "plan") == []
    old = foreign.stat().st_mtime - atomic.FOREIGN_TEMP_MAX_AGE_SECONDS - 60
    os.utime(foreign, (old, old))
    assert clean_stale_temps(tmp_path / "plan") == [foreign]
    assert not foreign.exists()


def test_replacing_swaps_in_one_step_where_the_system_can(tmp_path, monkeypatch):
    if atomic._renameat2 is None:
        pytest.skip("no renameat2 here")
    target = tmp_path / "plan"
    write_folder_atomically(target, fill("old"))

    def no_two_step(*args, **kwargs):
        raise AssertionError("the two-step replace ran although the exchange is available")

    monkeypatch.setattr(atomic, "make_temp_dir", _only_partial(atomic.make_temp_dir, no_two_step))
    write_folder_atomically(target, fill("new"))
    assert (target / "plan.json").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def _only_partial(real, fail):
    def make(target: Path, kind: str = "partial") -> Path:
        if kind != "partial":
            fail()
        return real(target, kind)

    return make


def test_a_kill_between_the_two_renames_is_mended_by_the_next_write(tmp_path, monkeypatch):
    """Without the atomic exchange the old folder is moved aside first; killed right
    then, ``target`` is missing and the old folder sits aside: it goes back."""
    monkeypatch.setattr(atomic, "_renameat2", None)
    target = tmp_path / "plan"
    write_folder_atomically(target, fill("old"))
    aside = tmp_path / f".plan.old-{atomic._host_tag()}-{dead_pid()}-k1"
    os.rename(target, aside)
    half_new = stale(tmp_path, "plan", "partial")
    assert recover_folder(target)
    assert (target / "plan.json").read_text(encoding="utf-8") == "old"
    assert not aside.exists() and not half_new.exists()
    write_folder_atomically(target, fill("new"))  # and the two-step replace works
    assert (target / "plan.json").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]


def test_a_killed_text_writes_temporary_file_is_removed_by_the_next(tmp_path):
    path = tmp_path / "sweep.csv"
    left = tmp_path / f".sweep.csv.partial-{atomic._host_tag()}-{dead_pid()}-q9"
    left.write_text("half", encoding="utf-8")
    write_text_atomically(path, "whole\n")
    assert path.read_text(encoding="utf-8") == "whole\n"
    assert not left.exists()


def test_rewriting_a_plan_folder_drops_a_killed_writers_leftovers(tmp_path):
    """``rep --all-reps`` writes ``PLAN_DIR/reps`` beside itself; killed, it leaves a
    temporary folder inside the plan folder, which ``score``/``quota`` must not copy."""
    plan = tmp_path / "plan"
    write_folder_atomically(plan, fill("old"))
    stale(plan, "reps", "partial")
    rewrite_folder(plan, {"scorecard.json": text_writer("{}")})
    assert sorted(p.name for p in plan.iterdir()) == ["plan.json", "scorecard.json"]
