"""``territory-engine score`` and ``territory-engine quota`` on plan folders.

One plan is solved per session with a short time limit (about 5 s; whether it
meets every band does not matter here). Each test copies it and scores the
copy: as written, edited by hand down to a bare ``assignments.csv``, or broken
in one cell to check the one-line errors and that nothing is written.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from territory_engine.cli.main import app
from territory_engine.config import load_scenario
from territory_engine.plan.geography import fill_empty_units, unit_owners

runner = CliRunner()


@pytest.fixture(scope="session")
def solved(baseline_scenario_file, tmp_path_factory) -> tuple[Path, dict]:
    """A plan folder of the baseline solved for 2 s, and the scorecard the pipeline wrote."""
    from territory_engine.pipeline.run import run_scenario

    scenario = load_scenario(baseline_scenario_file)
    scenario = scenario.model_copy(
        update={"solver": scenario.solver.model_copy(update={"time_limit": 2})}
    )
    out = tmp_path_factory.mktemp("score") / "plan"
    run_scenario(scenario, output=out, source=baseline_scenario_file)
    return out, json.loads((out / "scorecard.json").read_text(encoding="utf-8"))


@pytest.fixture
def plan(solved, tmp_path) -> Path:
    """A private copy of the solved plan folder."""
    copy = tmp_path / "plan"
    shutil.copytree(solved[0], copy)
    return copy


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def flat(tree: object, prefix: str = "") -> dict[str, object]:
    """Nested dicts and lists as one ``{"a.b.0.c": leaf}`` dict (for ``pytest.approx``)."""
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, list):
        items = enumerate(tree)
    else:
        return {prefix: tree}
    out: dict[str, object] = {}
    for key, value in items:
        out.update(flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


# --------------------------------------------------------------------------- score


def test_scoring_a_pipeline_plan_reproduces_its_scorecard(plan, solved):
    before = solved[1]
    (plan / "scorecard.json").unlink()
    result = run("score", plan)
    assert result.exit_code == 0, result.stderr
    assert "Scorecard" in result.stdout
    card = json.loads((plan / "scorecard.json").read_text(encoding="utf-8"))
    for key in ("balance", "travel", "disruption", "relationships"):
        got, want = flat(card[key]), flat(before[key])
        assert got.keys() == want.keys(), key
        for name, value in want.items():
            if isinstance(value, str):
                assert got[name] == value, name
            else:
                assert got[name] == pytest.approx(value, rel=1e-9), name
    assert card["quota"]["source"] == "quotas.csv"
    for key in ("total", "quota_to_potential_cv"):
        assert card["quota"][key] == pytest.approx(before["quota"][key], rel=1e-12)
    share = card["quota"]["attainment"]["share_at_or_above_100"]
    assert share == before["quota"]["attainment"]["share_at_or_above_100"]
    # units.csv says who holds the units without accounts: the same partition, so the
    # same pieces, cut edges and polygons.
    assert card["contiguity"]["empty_units_from"] == "units.csv"
    for key in ("territories_in_pieces", "max_pieces", "cut_edges"):
        assert card["contiguity"][key] == before["contiguity"][key], key
    assert flat(card["compactness"]) == pytest.approx(flat(before["compactness"]), rel=1e-9)


def test_without_units_csv_empty_units_are_filled_from_the_nearest(plan, solved):
    before = solved[1]
    (plan / "units.csv").unlink()
    result = run("score", plan)
    assert result.exit_code == 0, result.stderr
    card = json.loads((plan / "scorecard.json").read_text(encoding="utf-8"))
    assert card["contiguity"]["empty_units_from"] == "nearest"
    # A territory in one piece on the solver's partition is one piece through empty units.
    pieces = card["contiguity"]["territories_in_pieces"]
    assert pieces <= before["contiguity"]["territories_in_pieces"]
    assert card["compactness"]["polsby_popper_mean"] == pytest.approx(
        before["compactness"]["polsby_popper_mean"], rel=0.1
    )


@pytest.fixture
def bare_edited_plan(plan, tmp_path, sample_accounts) -> tuple[Path, str, str, str]:
    """Only ``assignments.csv`` with ``account_id, rep_id``, one account handed to another rep."""
    rows = read_rows(plan / "assignments.csv")
    header = rows[0]
    acc, rep = header.index("account_id"), header.index("rep_id")
    body = [[r[acc], r[rep]] for r in rows[1:]]
    segment = dict(zip(sample_accounts["account_id"], sample_accounts["segment"], strict=True))
    reps_of_segment = sorted({r for a, r in body if segment[a] == "smb"})
    moved_id, old_rep = next((a, r) for a, r in body if segment[a] == "smb")
    new_rep = next(r for r in reps_of_segment if r != old_rep)
    body = [[a, new_rep if a == moved_id else r] for a, r in body]
    bare = tmp_path / "bare"
    bare.mkdir()
    write_rows(bare / "assignments.csv", [["account_id", "rep_id"], *body])
    return bare, moved_id, old_rep, new_rep


def test_scoring_a_bare_hand_edited_plan(bare_edited_plan, baseline_scenario_file, sample_accounts):
    bare, moved_id, old_rep, new_rep = bare_edited_plan
    result = run("score", bare, "--scenario", baseline_scenario_file)
    assert result.exit_code == 0, result.stderr
    card = json.loads((bare / "scorecard.json").read_text(encoding="utf-8"))
    assignments = pd.read_csv(bare / "assignments.csv", dtype=str, keep_default_na=False)
    merged = assignments.merge(sample_accounts, on="account_id")
    # Territory totals recomputed by hand from the two files.
    by_hand = merged.groupby("rep_id")["potential"].sum()
    scored = {row["rep_id"]: row["potential"] for row in card["territories"]}
    assert scored == pytest.approx(by_hand.to_dict(), rel=1e-12)
    assert merged.loc[merged["account_id"] == moved_id, "rep_id"].item() == new_rep
    moved = (merged["current_rep_id"] != "") & (merged["current_rep_id"] != merged["rep_id"])
    assert card["disruption"]["moved_accounts"] == int(moved.sum())
    assert {row["territory_id"] for row in card["territories"]} >= {f"T-{old_rep}", f"T-{new_rep}"}
    # No quotas.csv: the scenario's allocation is scored, and it meets the target to the cent.
    assert card["quota"]["source"] == "scenario"
    target = 1.08 * sample_accounts["last_year_revenue"].sum()
    assert round(card["quota"]["total"] * 100) == round(target * 100)
    assert card["quota"]["allocation"]["caps_binding"]
    assert 0 < card["quota"]["attainment"]["share_at_or_above_100"] < 1
    assert sorted(p.name for p in bare.iterdir()) == ["assignments.csv", "scorecard.json"]


def test_score_command_line_end_to_end(bare_edited_plan, baseline_scenario_file, repo_root):
    bare = bare_edited_plan[0]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root), env.get("PYTHONPATH")]))
    env.pop("TERRITORY_ENGINE_DEBUG", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "territory_engine.cli.main",
            "score",
            str(bare),
            "-s",
            str(baseline_scenario_file),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "reps expected ≥ 100 %" in done.stdout
    assert (bare / "scorecard.json").is_file()


def edit_cell(row: int, column: str, value: str):
    def edit(folder: Path) -> None:
        rows = read_rows(folder / "assignments.csv")
        rows[row - 1][rows[0].index(column)] = value
        write_rows(folder / "assignments.csv", rows)

    return edit


def copy_row(source: int, target: int):
    def edit(folder: Path) -> None:
        rows = read_rows(folder / "assignments.csv")
        rows[target - 1] = list(rows[source - 1])
        write_rows(folder / "assignments.csv", rows)

    return edit


def drop_row(row: int):
    def edit(folder: Path) -> None:
        rows = read_rows(folder / "assignments.csv")
        del rows[row - 1]
        write_rows(folder / "assignments.csv", rows)

    return edit


def drop_column(column: str):
    def edit(folder: Path) -> None:
        rows = read_rows(folder / "assignments.csv")
        i = rows[0].index(column)
        write_rows(folder / "assignments.csv", [r[:i] + r[i + 1 :] for r in rows])

    return edit


def second_rep_on_territory(folder: Path) -> None:
    rows = read_rows(folder / "assignments.csv")
    t, r = rows[0].index("territory_id"), rows[0].index("rep_id")
    other = next(i for i in range(3, len(rows)) if rows[i][r] != rows[1][r])
    rows[other][t] = rows[1][t]
    write_rows(folder / "assignments.csv", rows)


def bad_quota(folder: Path) -> None:
    rows = read_rows(folder / "quotas.csv")
    rows[2][rows[0].index("quota")] = "12,000"
    write_rows(folder / "quotas.csv", rows)


BAD_PLANS = {
    "unknown account": (
        edit_cell(5, "account_id", "A9999999"),
        ["row 5", "column 'account_id'", "'A9999999' is not an account of"],
    ),
    "repeated account": (copy_row(4, 5), ["row 5", "duplicate account_id", "also on row 4"]),
    "unknown rep": (
        edit_cell(6, "rep_id", "R99"),
        ["row 6", "column 'rep_id'", "'R99' is not a rep of"],
    ),
    "account without a row": (
        drop_row(7),
        ["assignments.csv", "has no row (first:", "column 'account_id'"],
    ),
    "territory with two reps": (
        second_rep_on_territory,
        ["column 'rep_id'", "a territory has one rep"],
    ),
    "missing rep column": (drop_column("rep_id"), ["missing column 'rep_id'"]),
    "no assignments": (lambda f: (f / "assignments.csv").unlink(), ["needs assignments.csv"]),
    "no scenario": (lambda f: (f / "plan.json").unlink(), ["give one with --scenario"]),
    "quota not a number": (
        bad_quota,
        ["quotas.csv", "row 3", "column 'quota'", "'12,000' is not a number"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_PLANS))
def test_bad_plan_folder_exits_2_with_one_line_and_writes_nothing(plan, case):
    edit, fragments = BAD_PLANS[case]
    edit(plan)
    before = snapshot(plan)
    result = run("score", plan)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error[0], error[0]
    assert snapshot(plan) == before
    assert not [p for p in plan.parent.iterdir() if "partial" in p.name or ".old-" in p.name]


# --------------------------------------------------------------------------- quota


def variant(tmp_path: Path, baseline: Path, quota: dict) -> Path:
    path = tmp_path / "variant.yaml"
    doc = {"extends": str(baseline), "name": "quota variant", "quota": quota}
    path.write_text(json.dumps(doc), encoding="utf-8")  # JSON is YAML
    return path


def test_quota_reallocates_on_an_existing_plan(plan, tmp_path, baseline_scenario_file, solved):
    quota = {
        "ramp": {"shortfall": "hold_back"},
        "regions": {
            "Atlantic": {"members": ["GA", "SC", "NC"], "target": 4.0e8},
            "Central": {"members": ["AL", "MS", "TN", "KY"]},
        },
        "seasonality": {"period": "month", "profile": [1] * 11 + [2]},
    }
    scenario = variant(tmp_path, baseline_scenario_file, quota)
    assignments_before = (plan / "assignments.csv").read_bytes()
    report_before = (plan / "report.html").read_bytes()
    result = run("quota", plan, "--scenario", scenario)
    assert result.exit_code == 0, result.stderr
    quotas = pd.read_csv(plan / "quotas.csv", dtype={"territory_id": str}, keep_default_na=False)
    card = json.loads((plan / "scorecard.json").read_text(encoding="utf-8"))
    allocation = card["quota"]["allocation"]
    cents = np.round(quotas["quota"].to_numpy() * 100).astype(np.int64)
    # Held back (ramp) plus assigned is the target, to the cent; the region target is exact.
    assert cents.sum() + round(allocation["held_back"] * 100) == round(allocation["target"] * 100)
    assert allocation["held_back"] > 0
    atlantic = quotas[quotas["region"] == "Atlantic"]["quota"].sum()
    atlantic_held = quotas[quotas["region"] == "Atlantic"]["held_back"].sum()
    assert atlantic + atlantic_held == pytest.approx(4.0e8, abs=1000)
    assert set(quotas["region"]) == {"Atlantic", "Central"}
    splits = pd.read_csv(plan / "quota_splits.csv", dtype={"territory_id": str})
    assert splits.groupby("territory_id").size().eq(12).all()
    by_territory = splits.groupby("territory_id")["quota"].sum()
    np.testing.assert_allclose(
        by_territory[quotas["territory_id"]].to_numpy(), quotas["quota"], atol=0.005
    )
    # Only the quota part changed; other files are kept byte for byte.
    assert card["balance"] == solved[1]["balance"]
    assert (plan / "assignments.csv").read_bytes() == assignments_before
    manifest = json.loads((plan / "plan.json").read_text(encoding="utf-8"))
    assert manifest["quota"]["scenario_file"] == str(scenario.resolve())
    assert "quota_splits.csv" in manifest["files"]
    # The report shows quotas: it is re-rendered, not left stale.
    assert (plan / "report.html").read_bytes() != report_before


def test_quota_with_conflicting_caps_exits_3_naming_them_and_writes_nothing(
    plan, tmp_path, baseline_scenario_file
):
    scenario = variant(
        tmp_path, baseline_scenario_file, {"caps": {"growth_min": 0.3, "growth_max": 0.5}}
    )
    before = snapshot(plan)
    result = run("quota", plan, "--scenario", scenario)
    assert result.exit_code == 3, result.stderr
    assert "quota caps cannot all hold" in result.stderr
    assert "the quota floors sum to" in result.stderr
    assert snapshot(plan) == before


def test_baseline_quotas_hold_their_caps_ramp_and_splits(
    solved, sample_reps, baseline_scenario_file
):
    """fy_baseline.yaml's quota section on the sample: growth caps, ramp, exact splits."""
    caps = load_scenario(baseline_scenario_file).quota.caps
    quotas = pd.read_csv(solved[0] / "quotas.csv", dtype={"rep_id": str}, keep_default_na=False)
    merged = quotas.merge(sample_reps[["rep_id", "last_year_quota", "start_date"]], on="rep_id")
    veteran = merged["last_year_quota_y"] > 0
    growth = merged["quota"][veteran] / merged["last_year_quota_y"][veteran] - 1
    assert growth.min() >= caps.growth_min - 1e-9 and growth.max() <= caps.growth_max + 1e-9
    assert (merged["caps_applied"] == "growth_min").sum() > 0  # the floor binds on the sample
    hires = merged["start_date"] >= "2026-01-01"
    assert hires.sum() == 4
    assert (merged.loc[hires, "ramp_factor"] < 1).all()
    assert (merged.loc[~hires, "ramp_factor"] == 1).all()
    splits = pd.read_csv(solved[0] / "quota_splits.csv", dtype={"territory_id": str})
    cents = (splits["quota"] * 100).round().astype(np.int64).groupby(splits["territory_id"]).sum()
    expected = (quotas.set_index("territory_id")["quota"] * 100).round().astype(np.int64)
    assert cents[expected.index].tolist() == expected.tolist()


# --------------------------------------------------------------------------- helpers


def test_unit_owner_is_the_majority_territory_and_empty_units_fill_breadth_first():
    account_unit = np.array([0, 0, 0, 3, 4])
    account_territory = np.array([1, 1, 0, 0, 1])
    owner, split = unit_owners(account_unit, account_territory, 6)
    assert owner.tolist() == [1, -1, -1, 0, 1, -1]
    assert split == 1  # unit 0 holds accounts of two territories
    rows = np.array([0, 1, 2, 3, 4])
    adj = np.zeros((6, 6), bool)
    adj[rows, rows + 1] = True
    import scipy.sparse as sp

    graph = sp.csr_matrix(adj | adj.T)
    # 1 - . - . - 0 - 1 - . : unit 1 takes 1, unit 2 ties between 1 and 0 and takes 0.
    assert fill_empty_units(graph, owner).tolist() == [1, 1, 0, 0, 1, 1]
