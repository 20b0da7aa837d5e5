"""Edit previews in a process of their own: the in-thread re-score's numbers and errors."""

from __future__ import annotations

import os
import signal

import pytest

from territory_engine.errors import InputError
from territory_engine.io.jsonio import to_json
from territory_engine.plan.reader import read_plan_csv, read_plan_folder
from territory_engine.studio.editing import Move, rescore
from territory_engine.studio.previews import Previews
from tests.studio.conftest import copy_plan


@pytest.fixture(scope="module")
def plan(studio_plan, tmp_path_factory):
    return read_plan_folder(copy_plan(studio_plan, tmp_path_factory.mktemp("previews") / "plan"))


@pytest.fixture(scope="module")
def previews():
    pool = Previews(1)
    yield pool
    pool.close()


def _moves(plan) -> list[Move]:
    assignments = read_plan_csv(plan.path / "assignments.csv")
    mine = assignments[assignments["territory_id"] == "T-R30"]
    a, b = (str(u) for u in mine["unit_id"].value_counts().index[:2])
    return [Move(a, "T-R31"), Move(b, "T-R29")]


def _text(card: dict) -> str:
    return to_json(card)


def test_a_preview_process_gives_the_in_thread_card(plan, previews, tmp_path):
    moves = _moves(plan)
    there = previews.rescore(plan, moves, tmp_path)
    here = rescore(plan, moves, tmp_path)
    assert there.moved_accounts == here.moved_accounts > 0
    assert there.broken == here.broken
    assert _text(there.card) == _text(here.card)
    # what a save needs comes back: this process's plan folder and the moves
    assert there.source is plan and there.moves == tuple(moves)
    assert not there.folder.exists()


def test_a_bad_move_is_the_same_input_error_from_the_preview_process(plan, previews, tmp_path):
    with pytest.raises(InputError) as here:
        rescore(plan, [Move("no-such-unit", "T-R31")], tmp_path)
    with pytest.raises(InputError) as there:
        previews.rescore(plan, [Move("no-such-unit", "T-R31")], tmp_path)
    assert str(there.value) == str(here.value) and "no-such-unit" in str(there.value)


def test_a_killed_preview_process_is_replaced(plan, previews, tmp_path):
    previews.rescore(plan, [], tmp_path)
    pool = previews._pool
    assert pool is not None
    for pid in list(pool._processes):  # the pool's own processes, nothing else
        os.kill(pid, signal.SIGKILL)
    again = previews.rescore(plan, _moves(plan), tmp_path)
    assert again.moved_accounts > 0
    assert previews._pool is not pool


def test_no_processes_rescore_in_the_calling_thread(plan, tmp_path):
    inline = Previews(0)
    assert inline._pool is None
    assert inline.rescore(plan, [], tmp_path).moved_accounts == 0
    assert inline._pool is None
    with pytest.raises(ValueError):
        Previews(-1)
