"""The plan store: recording plan folders, lookup by id, transactions, and its commands.

Every test works from the baseline solved once per session (``conftest.plan_dir``,
read-only): tests record it as is, or a copy of it. Only
``test_run_records_the_plan_in_the_store_given`` solves (with a 5 s limit); the other
``run`` tests replace the solver by a stub that writes a copy of the baseline.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from territory_engine.cli.main import app
from territory_engine.errors import InputError
from territory_engine.plan.reader import read_plan_folder
from territory_engine.store import PlanStore, StoreError, default_store_path
from territory_engine.store import plan_store as plan_store_module

runner = CliRunner()

#: The files ``record_folder`` reads: enough for a copy that the store accepts.
RECORDED_FILES = ("plan.json", "scorecard.json", "assignments.csv", "quotas.csv", "territories.csv")


def slim_copy(plan_dir: Path, target: Path) -> Path:
    """A copy of the files the store reads (not the maps), under another path."""
    target.mkdir(parents=True)
    for name in RECORDED_FILES:
        shutil.copy2(plan_dir / name, target / name)
    return target


def count_rows(store: Path, table: str) -> int:
    con = sqlite3.connect(store)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def move_accounts(folder: Path, n: int) -> list[str]:
    """Give the ``n`` first accounts of a territory's rep to another rep of its segment."""
    assignments = pd.read_csv(folder / "assignments.csv", dtype=str, keep_default_na=False)
    territories = pd.read_csv(folder / "territories.csv", dtype=str, keep_default_na=False)
    smb = territories[territories["segment"] == "smb"]
    first, second = smb.iloc[0], smb.iloc[1]
    chosen = assignments.index[assignments["rep_id"] == first["rep_id"]][:n]
    assignments.loc[chosen, ["territory_id", "rep_id"]] = [
        second["territory_id"],
        second["rep_id"],
    ]
    assignments.to_csv(folder / "assignments.csv", index=False, lineterminator="\n")
    return list(assignments.loc[chosen, "account_id"])


@pytest.fixture
def store_file(tmp_path) -> Path:
    return tmp_path / "out" / "plans.sqlite"


# --------------------------------------------------------------------------- the store


def test_round_trip_gives_back_the_plan_folder_tables(plan_dir, store_file):
    store = PlanStore(store_file)
    plan_id = store.record_folder(plan_dir, label="baseline", sweep_id="s1")
    folder = read_plan_folder(plan_dir)
    plan = store.get(plan_id)
    pd.testing.assert_frame_equal(plan.assignments, folder.assignments)
    pd.testing.assert_frame_equal(plan.quotas, folder.quotas)
    pd.testing.assert_frame_equal(plan.territories, folder.territories)
    assert plan.scorecard == json.loads((plan_dir / "scorecard.json").read_text())
    manifest = json.loads((plan_dir / "plan.json").read_text())
    assert plan.manifest == manifest
    assert plan.scenario == manifest["scenario"]
    assert (plan.scenario_name, plan.scenario_hash, plan.seed) == (
        manifest["scenario_name"],
        manifest["scenario_hash"],
        manifest["seed"],
    )
    assert plan.feasible is manifest["feasible"]
    assert plan.timings == manifest["timings_seconds"]
    assert (plan.label, plan.sweep_id, plan.folder) == ("baseline", "s1", plan_dir.resolve())
    assert plan.created_at.endswith("Z") and len(plan.created_at) == 20
    assert plan.assignments["moved"].dtype == bool and plan.assignments["moved"].any()


def test_ids_are_short_hex_and_any_unambiguous_prefix_finds_the_plan(plan_dir, store_file):
    store = PlanStore(store_file)
    plan_id = store.record_folder(plan_dir)
    assert len(plan_id) == 10 and int(plan_id, 16) >= 0
    assert store.get(plan_id[:4]).id == plan_id
    assert store.get(plan_id.upper()).id == plan_id
    assert store.folder_of(plan_id[:6]) == plan_dir.resolve()


def test_recording_a_folder_again_keeps_its_id_and_label(plan_dir, store_file):
    store = PlanStore(store_file)
    first = store.record_folder(plan_dir, label="keep me")
    again = store.record_folder(plan_dir)
    assert again == first
    assert len(store.list()) == 1
    assert store.get(first).label == "keep me"
    assert count_rows(store_file, "assignments") == len(read_plan_folder(plan_dir).assignments)


def test_the_same_plan_in_another_folder_or_changed_is_another_plan(plan_dir, store_file, tmp_path):
    store = PlanStore(store_file)
    original = store.record_folder(plan_dir)
    copy = slim_copy(plan_dir, tmp_path / "copy")
    elsewhere = store.record_folder(copy)
    move_accounts(copy, 2)
    changed = store.record_folder(copy)
    assert len({original, elsewhere, changed}) == 3
    assert len(store.list()) == 3


def test_list_has_one_row_per_plan_with_headline_numbers(plan_dir, store_file, tmp_path):
    store = PlanStore(store_file)
    a = store.record_folder(plan_dir, label="A", sweep_id="sw")
    b = store.record_folder(slim_copy(plan_dir, tmp_path / "b"), label="B")
    frame = store.list()
    assert list(frame["id"]) == [a, b]
    assert list(frame.columns) == list(plan_store_module.LIST_COLUMNS)
    card = json.loads((plan_dir / "scorecard.json").read_text())
    row = frame.iloc[0]
    assert row["scenario"] == "FY2027 baseline" and row["label"] == "A"
    assert row["potential_max_dev_pct"] == pytest.approx(
        100 * card["balance"]["potential"]["max_rel_dev"]
    )
    assert row["potential_balance_index"] == pytest.approx(
        card["balance"]["potential"]["balance_index"]
    )
    assert row["travel_mean_km"] == pytest.approx(card["travel"]["mean_km"])
    assert row["moved_potential_share"] == pytest.approx(
        card["disruption"]["moved_potential_share"]
    )
    assert row["relationship_potential_share"] == pytest.approx(
        card["relationships"]["potential_with_tie_share"]
    )
    manifest = json.loads((plan_dir / "plan.json").read_text())
    assert row["solve_seconds"] == pytest.approx(manifest["timings_seconds"]["solve"])
    assert row["feasible"] == manifest["feasible"] and row["seed"] == manifest["seed"]
    assert row["folder"] == str(plan_dir.resolve())
    assert list(store.list(sweep_id="sw")["id"]) == [a]


def test_unknown_and_ambiguous_ids_fail_with_a_clear_message(
    plan_dir, store_file, tmp_path, monkeypatch
):
    ids = iter(["abc1230001", "abc1230002"])
    monkeypatch.setattr(plan_store_module, "_free_id", lambda con, digest: next(ids))
    store = PlanStore(store_file)
    store.record_folder(plan_dir)
    store.record_folder(slim_copy(plan_dir, tmp_path / "b"))
    with pytest.raises(StoreError, match="ambiguous") as ambiguous:
        store.get("abc")
    assert "abc1230001" in str(ambiguous.value) and "abc1230002" in str(ambiguous.value)
    with pytest.raises(InputError, match="no plan 'abc1230003'") as unknown:
        store.get("abc1230003")
    assert "did you mean 'abc123000" in str(unknown.value)
    assert str(store_file) in str(unknown.value)
    with pytest.raises(StoreError, match="no plan 'ffff'"):
        store.folder_of("ffff")
    assert store.get("abc1230002").id == "abc1230002"


def test_delete_cascades_and_keeps_the_folder_unless_asked(plan_dir, store_file, tmp_path):
    store = PlanStore(store_file)
    copy = slim_copy(plan_dir, tmp_path / "copy")
    keep = store.record_folder(plan_dir)
    gone = store.record_folder(copy)
    store.delete(gone[:5])
    assert copy.is_dir()
    assert list(store.list()["id"]) == [keep]
    n_accounts = len(read_plan_folder(plan_dir).assignments)
    assert count_rows(store_file, "assignments") == n_accounts
    assert count_rows(store_file, "quotas") == count_rows(store_file, "territories") == 45
    again = store.record_folder(copy)
    store.delete(again, remove_folder=True)
    assert not copy.exists()
    store.delete(keep)
    for table in ("plans", "assignments", "quotas", "territories"):
        assert count_rows(store_file, table) == 0, table
    assert plan_dir.is_dir()


def test_folder_of_says_when_the_folder_is_gone_or_holds_another_plan(
    plan_dir, store_file, tmp_path
):
    store = PlanStore(store_file)
    copy = slim_copy(plan_dir, tmp_path / "copy")
    plan_id = store.record_folder(copy)
    move_accounts(copy, 1)  # a re-run wrote another plan into the folder
    with pytest.raises(StoreError, match="now holds another plan"):
        store.folder_of(plan_id)
    with pytest.raises(StoreError, match="now holds another plan"):
        store.delete(plan_id, remove_folder=True)
    assert copy.is_dir() and store.get(plan_id).id == plan_id  # nothing deleted
    assert store.folder_of(plan_id, check=False) == copy.resolve()
    shutil.rmtree(copy)
    with pytest.raises(StoreError, match="no longer exists"):
        store.folder_of(plan_id)


def test_a_failure_midway_leaves_no_partial_plan(plan_dir, store_file, monkeypatch):
    store = PlanStore(store_file)
    old = store.record_folder(plan_dir, label="old")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    # Assignments are inserted before quotas: the failure strikes mid-transaction,
    # after the old rows of this plan were deleted to be replaced.
    monkeypatch.setattr(PlanStore, "_insert_table", staticmethod(broken))
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.record_folder(plan_dir, label="new")
    monkeypatch.undo()
    assert store.get(old).label == "old"
    assert count_rows(store_file, "plans") == 1
    assert count_rows(store_file, "assignments") == len(read_plan_folder(plan_dir).assignments)
    store.delete(old)

    monkeypatch.setattr(PlanStore, "_insert_table", staticmethod(broken))
    with pytest.raises(RuntimeError):
        store.record_folder(plan_dir)
    for table in ("plans", "assignments", "quotas", "territories"):
        assert count_rows(store_file, table) == 0, table


def _record_all(store: str, folders: list[str], start) -> None:
    start.wait(60)
    plans = PlanStore(Path(store))
    for folder in folders:
        plans.record_folder(Path(folder), sweep_id="parallel")


def test_two_processes_recording_at_once_lose_nothing(plan_dir, store_file, tmp_path):
    folders = [str(slim_copy(plan_dir, tmp_path / f"p{i}")) for i in range(8)]
    PlanStore(store_file)  # the schema exists before the workers start
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [
        ctx.Process(target=_record_all, args=(str(store_file), folders[i::2], start))
        for i in range(2)
    ]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    frame = PlanStore(store_file).list(sweep_id="parallel")
    assert sorted(frame["folder"]) == sorted(str(Path(f).resolve()) for f in folders)
    n_accounts = len(read_plan_folder(plan_dir).assignments)
    assert count_rows(store_file, "assignments") == 8 * n_accounts


def test_schema_is_versioned_with_wal_and_cascading_keys(store_file):
    PlanStore(store_file)
    con = sqlite3.connect(store_file)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == plan_store_module.SCHEMA_VERSION
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        keys = con.execute("PRAGMA foreign_key_list(assignments)").fetchall()
        assert [(k[2], k[6]) for k in keys] == [("plans", "CASCADE")]
    finally:
        con.close()


def test_a_file_that_is_not_a_plan_store_fails_in_one_line(tmp_path, plan_dir):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database, just some bytes " * 40)
    with pytest.raises(StoreError, match="not a database") as exc:
        PlanStore(garbage)
    assert "\n" not in str(exc.value) and str(garbage) in str(exc.value)
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a plan store"):
        PlanStore(other)
    newer = tmp_path / "newer.sqlite"
    con = sqlite3.connect(newer)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer territory-engine"):
        PlanStore(newer)
    with pytest.raises(StoreError, match=r"no plan store at .*; run a scenario first"):
        PlanStore(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


def test_an_incomplete_folder_is_refused_naming_the_file(plan_dir, store_file, tmp_path):
    copy = slim_copy(plan_dir, tmp_path / "copy")
    (copy / "quotas.csv").unlink()
    store = PlanStore(store_file)
    with pytest.raises(StoreError, match=r"quotas\.csv: missing"):
        store.record_folder(copy)
    with pytest.raises(StoreError, match="no plan folder"):
        store.record_folder(tmp_path / "nowhere")
    assert store.list().empty


def test_default_store_path_is_beside_the_plan_folder(tmp_path):
    assert default_store_path(tmp_path / "out" / "fy") == (tmp_path / "out" / "plans.sqlite")


# --------------------------------------------------------------------------- plans CLI


def test_plans_list_show_delete(plan_dir, store_file, tmp_path):
    store = PlanStore(store_file)
    copy = slim_copy(plan_dir, tmp_path / "copy")
    a = store.record_folder(plan_dir, label="baseline-label")
    b = store.record_folder(copy, sweep_id="sweep-7")

    listed = runner.invoke(app, ["plans", "list", "--store", str(store_file)])
    assert listed.exit_code == 0, listed.output
    assert a in listed.output and b in listed.output and "baseline-label" in listed.output
    swept = runner.invoke(app, ["plans", "list", "--store", str(store_file), "--sweep", "sweep-7"])
    assert b in swept.output and a not in swept.output

    shown = runner.invoke(app, ["plans", "show", a[:5], "--store", str(store_file)])
    assert shown.exit_code == 0, shown.output
    manifest = json.loads((plan_dir / "plan.json").read_text())
    for text in (a, manifest["scenario_hash"], "FY2027 baseline", "balance index", "T-R01"):
        assert text in shown.output, text
    quota = read_plan_folder(plan_dir).quotas.iloc[0]["quota"]
    assert f"${quota:,.0f}" in shown.output

    refused = runner.invoke(app, ["plans", "delete", b, "--store", str(store_file)], input="n\n")
    assert refused.exit_code != 0 and len(store.list()) == 2
    deleted = runner.invoke(
        app, ["plans", "delete", b, "--store", str(store_file), "--remove-folder", "--yes"]
    )
    assert deleted.exit_code == 0, deleted.output
    assert f"deleted plan {b}" in deleted.output and not copy.exists()
    assert list(store.list()["id"]) == [a]

    unknown = runner.invoke(app, ["plans", "show", "zzz", "--store", str(store_file)])
    assert unknown.exit_code == 2 and "no plan 'zzz'" in unknown.output


def test_plans_without_a_store_say_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["plans", "list"])
    assert result.exit_code == 2
    assert "no plan store at out/plans.sqlite; run a scenario first" in result.output
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- run


def test_run_records_the_plan_in_the_store_given(baseline_scenario_file, tmp_path):
    out = tmp_path / "out" / "plan"
    store = tmp_path / "stores" / "mine.sqlite"
    result = runner.invoke(
        app,
        [
            "run",
            str(baseline_scenario_file),
            "--output",
            str(out),
            "--time-limit",
            "5",
            "--store",
            str(store),
            "--quiet",
        ],
    )
    assert result.exit_code in (0, 3), result.output  # 3: the short limit left it infeasible
    plans = PlanStore(store).list()
    assert len(plans) == 1
    plan_id = plans["id"].iloc[0]
    assert f"recorded as plan {plan_id} in {store}" in result.output
    manifest = json.loads((out / "plan.json").read_text())
    assert plans["folder"].iloc[0] == str(out.resolve())
    assert bool(plans["feasible"].iloc[0]) is manifest["feasible"]
    assert (result.exit_code == 0) is manifest["feasible"]
    assert not default_store_path(out).exists()  # --store replaces the default


@pytest.fixture
def stub_run(plan_dir, monkeypatch):
    """Replace the solver: ``run`` writes a copy of the baseline (made infeasible on demand)."""
    settings = {"feasible": True}

    def fake_run_scenario(scenario, *, output=None, source=None, progress=None):
        target = Path(output or scenario.output.folder).resolve()
        shutil.rmtree(target, ignore_errors=True)
        slim_copy(plan_dir, target)
        manifest = json.loads((target / "plan.json").read_text())
        manifest["feasible"] = settings["feasible"]
        manifest["violations"] = [] if settings["feasible"] else ["T-R01: potential out of band"]
        (target / "plan.json").write_text(json.dumps(manifest))
        card = json.loads((target / "scorecard.json").read_text())
        alignment = SimpleNamespace(
            feasible=settings["feasible"],
            violations=manifest["violations"],
            stats=SimpleNamespace(seconds=0.1),
        )
        plan = SimpleNamespace(provenance=manifest)
        return SimpleNamespace(plan_dir=target, plan=plan, scorecard=card, alignment=alignment)

    monkeypatch.setattr("territory_engine.pipeline.run.run_scenario", fake_run_scenario)
    return settings


def test_run_records_in_the_default_store_beside_the_folder_even_when_infeasible(
    stub_run, baseline_scenario_file, tmp_path
):
    stub_run["feasible"] = False
    out = tmp_path / "out" / "plan"
    result = runner.invoke(app, ["run", str(baseline_scenario_file), "-o", str(out), "-q"])
    assert result.exit_code == 3, result.output
    store = tmp_path / "out" / "plans.sqlite"
    plans = PlanStore(store).list()
    assert list(plans["feasible"]) == [False]
    assert f"recorded as plan {plans['id'].iloc[0]} in {store}" in result.output
    assert PlanStore(store).get(plans["id"].iloc[0]).violations == ["T-R01: potential out of band"]


def test_the_store_flag_beats_the_scenario_which_beats_the_default(
    stub_run, baseline_scenario_file, tmp_path
):
    scenario = tmp_path / "sc" / "with_store.yaml"
    scenario.parent.mkdir()
    scenario.write_text(
        yaml.safe_dump(
            {"extends": str(baseline_scenario_file), "output": {"store": "../stores/sc.sqlite"}}
        )
    )
    from_scenario = tmp_path / "stores" / "sc.sqlite"  # relative to the scenario file
    out = tmp_path / "out" / "plan"
    first = runner.invoke(app, ["run", str(scenario), "-o", str(out), "-q"])
    assert first.exit_code == 0, first.output
    assert len(PlanStore(from_scenario).list()) == 1
    flag = tmp_path / "flag.sqlite"
    second = runner.invoke(app, ["run", str(scenario), "-o", str(out), "-q", "--store", str(flag)])
    assert second.exit_code == 0, second.output
    assert len(PlanStore(flag).list()) == 1 and len(PlanStore(from_scenario).list()) == 1
    assert not (tmp_path / "out" / "plans.sqlite").exists()
    skipped = runner.invoke(app, ["run", str(scenario), "-o", str(out), "-q", "--no-store"])
    assert skipped.exit_code == 0 and "recorded as plan" not in skipped.output
    assert len(PlanStore(flag).list()) == 1 and len(PlanStore(from_scenario).list()) == 1
    both = runner.invoke(
        app, ["run", str(scenario), "-o", str(out), "--no-store", "--store", str(flag)]
    )
    assert both.exit_code == 2 and "not both" in both.output


def test_a_store_that_cannot_record_fails_in_one_line_and_keeps_the_folder(
    stub_run, baseline_scenario_file, tmp_path
):
    out = tmp_path / "out" / "plan"
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"garbage, not sqlite " * 100)
    result = runner.invoke(
        app, ["run", str(baseline_scenario_file), "-o", str(out), "-q", "--store", str(broken)]
    )
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "not recorded" in errors[0] and str(broken) in errors[0] and str(out) in errors[0]
    assert "Traceback" not in result.output
    assert (out / "plan.json").is_file()


# --------------------------------------------------------------------------- compare by id


def test_compare_takes_plan_ids(plan_dir, tmp_path):
    a_dir = tmp_path / "out" / "a"
    b_dir = tmp_path / "out" / "b"
    shutil.copytree(plan_dir, a_dir)
    shutil.copytree(plan_dir, b_dir)
    moved = move_accounts(b_dir, 3)
    store_file = default_store_path(a_dir)
    store = PlanStore(store_file)
    a, b = store.record_folder(a_dir), store.record_folder(b_dir)
    target = tmp_path / "cmp"
    result = runner.invoke(
        app, ["compare", a[:6], b, "--store", str(store_file), "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    moves = pd.read_csv(target / "moves.csv", dtype=str)
    assert sorted(moves["account_id"]) == sorted(moved)

    shutil.rmtree(b_dir)
    gone = runner.invoke(
        app, ["compare", a, b, "--store", str(store_file), "-o", str(tmp_path / "x")]
    )
    assert gone.exit_code == 2 and "no longer exists" in gone.output
    assert str(b_dir) in gone.output and not (tmp_path / "x").exists()
    unknown = runner.invoke(
        app, ["compare", a, "nosuchplan", "--store", str(store_file), "-o", str(tmp_path / "y")]
    )
    assert unknown.exit_code == 2 and "no plan 'nosuchplan'" in unknown.output


def test_compare_of_an_unknown_name_without_a_store_says_no_plan_folder(
    plan_dir, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["compare", str(plan_dir), "nope", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "nope" in result.output and "no plan folder" in result.output
    assert "no plan store at out/plans.sqlite" in result.output
