"""The in-memory edit session: the folder-based re-score's numbers, from tables read once."""

from __future__ import annotations

import json
import os
import threading

import pytest

from territory_engine.errors import InputError
from territory_engine.io.jsonio import to_json
from territory_engine.plan.reader import read_plan_csv, read_plan_folder
from territory_engine.studio import editing
from territory_engine.studio.editing import EditSession, Move, SessionCache, rescore_folder
from tests.studio.conftest import copy_plan


@pytest.fixture(scope="module")
def plan_copy(studio_plan, tmp_path_factory):
    return copy_plan(studio_plan, tmp_path_factory.mktemp("session") / "plan")


@pytest.fixture(scope="module")
def session(plan_copy):
    return EditSession.open(read_plan_folder(plan_copy))


def _units(plan, territory, n):
    """``n`` units of ``territory`` (most accounts first)."""
    assignments = read_plan_csv(plan / "assignments.csv")
    mine = assignments[assignments["territory_id"] == territory]
    return [str(u) for u in mine["unit_id"].value_counts().index[:n]]


def _text(card: dict) -> str:
    """The card as JSON without the folder it names (a copy's, or the plan's own)."""
    return to_json({k: v for k, v in card.items() if k != "scored"})


def test_in_memory_rescore_equals_the_folder_rescore_on_the_same_moves(
    session, plan_copy, tmp_path
):
    a, b = _units(plan_copy, "T-R30", 2)
    (c,) = _units(plan_copy, "T-R05", 1)
    # several moves, one unit moved twice (the later move wins), across segments
    moves = [Move(a, "T-R31"), Move(b, "T-R31"), Move(c, "T-R06"), Move(a, "T-R29")]
    folder = rescore_folder(session.plan, moves, tmp_path)
    memory = session.rescore(moves, tmp_path)
    assert memory.moved_accounts == folder.moved_accounts > 0
    assert memory.broken == folder.broken and folder.broken  # (the short solve breaks some)
    assert _text(memory.card) == _text(folder.card)
    assert memory.card["scored"]["scenario_hash"] == folder.card["scored"]["scenario_hash"]
    assert not memory.folder.exists()  # a preview writes nothing
    # the session is not changed by an edit: the same moves score the same again
    again = session.rescore(moves, tmp_path)
    assert _text(again.card) == _text(memory.card)
    assert session.rescore([Move(a, "T-R30")], tmp_path).moved_accounts == 0


def test_undo_is_the_list_without_the_last_move(session, plan_copy, tmp_path):
    a, b = _units(plan_copy, "T-R30", 2)
    one = session.rescore([Move(a, "T-R31")], tmp_path)
    two = session.rescore([Move(a, "T-R31"), Move(b, "T-R31")], tmp_path)
    undone = session.rescore([Move(a, "T-R31")], tmp_path)
    assert _text(two.card) != _text(one.card)
    assert _text(undone.card) == _text(one.card)
    territories = {t["territory_id"]: t for t in two.card["territories"]}
    before = {t["territory_id"]: t for t in one.card["territories"]}
    assert territories["T-R31"]["n_accounts"] > before["T-R31"]["n_accounts"]


def test_bad_moves_are_refused_by_name(session, tmp_path):
    with pytest.raises(InputError, match="no unit"):
        session.rescore([Move("99999", "T-R31")], tmp_path)
    with pytest.raises(InputError, match="T-NOPE"):
        session.rescore([Move("01001", "T-NOPE")], tmp_path)
    with pytest.raises(InputError, match="at most"):
        session.rescore([Move("01001", "T-R31")] * (editing.MAX_MOVES + 1), tmp_path)


class _Opened:
    """Stands in for :meth:`EditSession.open`: counts the opens, slowly."""

    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, plan):
        with self.lock:
            self.calls += 1
        threading.Event().wait(0.05)
        return ("session", plan.path, self.calls)


def test_the_cache_opens_a_folder_once_under_concurrency_and_again_when_it_changes(
    plan_copy, monkeypatch
):
    opened = _Opened()
    monkeypatch.setattr(EditSession, "open", staticmethod(opened))
    cache = SessionCache(size=2)
    plan = read_plan_folder(plan_copy)
    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get(plan))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opened.calls == 1 and len(got) == 6 and len(set(got)) == 1
    stat = os.stat(plan_copy / "assignments.csv")
    os.utime(plan_copy / "assignments.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    try:
        assert cache.get(plan) != got[0] and opened.calls == 2
    finally:
        os.utime(plan_copy / "assignments.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_the_cache_is_bounded(tmp_path, plan_copy, monkeypatch):
    opened = _Opened()
    monkeypatch.setattr(EditSession, "open", staticmethod(opened))
    cache = SessionCache(size=2)
    folders = []
    for name in ("a", "b", "c"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "assignments.csv").write_text("account_id,rep_id\n", encoding="utf-8")
        folders.append(type("Plan", (), {"path": folder})())
    for plan in folders:
        cache.get(plan)
    assert len(cache._sessions) == 2 and opened.calls == 3
    cache.get(folders[2])
    assert opened.calls == 3  # the newest is kept
    cache.get(folders[0])
    assert opened.calls == 4  # the oldest was dropped


def test_concurrent_edits_of_one_session_score_as_one_at_a_time(session, plan_copy, tmp_path):
    units = _units(plan_copy, "T-R30", 3)
    lists = [[Move(u, "T-R31")] for u in units]
    alone = [_text(session.rescore(moves, tmp_path).card) for moves in lists]
    together: dict[int, str] = {}

    def run(i: int) -> None:
        together[i] = _text(session.rescore(lists[i], tmp_path).card)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(lists))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [together[i] for i in range(len(lists))] == alone
    assert len(set(alone)) == len(alone)


def _moved_by_hand(plan, moves):
    """``plan``'s assignments.csv and units.csv with ``moves`` applied in plain pandas
    (the rule of :mod:`territory_engine.studio.editing` written out again: the unit's
    accounts of the target's segment change territory and rep, a later move wins)."""
    assignments = read_plan_csv(plan / "assignments.csv")
    units = read_plan_csv(plan / "units.csv")
    territories = read_plan_csv(plan / "territories.csv").set_index("territory_id")
    segment_of_account = read_plan_csv(plan / "accounts.csv").set_index("account_id")["segment"]
    account_segment = assignments["account_id"].map(segment_of_account)
    for move in moves:
        segment = territories.at[move.to_territory_id, "segment"]
        rows = (assignments["unit_id"] == move.unit_id) & (account_segment == segment)
        assignments.loc[rows, "territory_id"] = move.to_territory_id
        assignments.loc[rows, "rep_id"] = territories.at[move.to_territory_id, "rep_id"]
        drawn = (units["unit_id"] == move.unit_id) & (units["segment"] == segment)
        units.loc[drawn, "territory_id"] = move.to_territory_id
    previous = assignments["previous_rep_id"].fillna("")
    assignments["moved"] = (previous != "") & (previous != assignments["rep_id"])
    return assignments, units


def test_in_memory_rescore_equals_the_cli_score_of_the_moves_written_by_hand(
    session, plan_copy, tmp_path
):
    """The studio's card is the command line's: ``territory-engine score`` of a copy of
    the folder with the moves applied by hand (not by the studio's own move code)."""
    import shutil

    from typer.testing import CliRunner

    from territory_engine.cli.main import app
    from territory_engine.io.safe_cells import write_csv

    a, b = _units(plan_copy, "T-R30", 2)
    (c,) = _units(plan_copy, "T-R05", 1)
    moves = [Move(a, "T-R31"), Move(b, "T-R31"), Move(c, "T-R06"), Move(a, "T-R29")]
    memory = session.rescore(moves, tmp_path)
    folder = tmp_path / "by-hand"
    shutil.copytree(plan_copy, folder)
    assignments, units = _moved_by_hand(plan_copy, moves)
    write_csv(assignments, folder / "assignments.csv")
    write_csv(units, folder / "units.csv")
    result = CliRunner().invoke(app, ["score", str(folder)])
    assert result.exit_code == 0, result.output
    card = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    assert _text(memory.card) == _text(card)
    original = read_plan_csv(plan_copy / "assignments.csv")["territory_id"]
    expected = int((original != assignments["territory_id"]).sum())
    assert memory.moved_accounts >= expected > 0  # a unit moved twice counts twice


def test_the_session_keeps_its_tables_across_edits(session, plan_copy, tmp_path):
    """An edit works on copies: the session's tables (and their text) stay the folder's."""
    before = read_plan_csv(plan_copy / "assignments.csv")
    (a,) = _units(plan_copy, "T-R30", 1)
    session.rescore([Move(a, "T-R31")], tmp_path)
    assert session.assignments["territory_id"].tolist() == before["territory_id"].tolist()
    assert session.text["territory_id"].tolist() == before["territory_id"].astype(str).tolist()
    assert session.units is not None
    units = read_plan_csv(plan_copy / "units.csv")
    assert session.units["territory_id"].tolist() == units["territory_id"].tolist()
