"""The independent validator: the baseline plan passes, each broken rule is named."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_engine.constraints import balance as balance_rule
from territory_engine.constraints import contiguity as contiguity_rule
from territory_engine.constraints import load_view, validate_plan

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def plan_copy(plan_dir, tmp_path) -> Path:
    out = tmp_path / "plan"
    shutil.copytree(plan_dir, out)
    return out


def _edit(path: Path, fn) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(frame).to_csv(path, index=False)


def test_baseline_plan_passes_every_rule(plan_dir, baseline):
    report = validate_plan(plan_dir, baseline)
    assert report == {rule: [] for rule in report}
    assert set(report) == {
        "coverage",
        "eligibility",
        "balance",
        "locks",
        "families",
        "disruption",
        "contiguity",
    }


def test_moving_a_big_account_breaks_balance_and_is_named(plan_copy, baseline, sample_accounts):
    ent = sample_accounts[sample_accounts["segment"] == "enterprise"]
    big = ent.sort_values("potential").iloc[-1]["account_id"]

    def move(frame):
        rep = frame.loc[frame["account_id"] == big, "rep_id"].iloc[0]
        other = "R01" if rep != "R01" else "R02"
        frame.loc[frame["account_id"] == big, ["rep_id", "territory_id"]] = [other, f"T-{other}"]
        return frame

    _edit(plan_copy / "assignments.csv", move)
    view = load_view(plan_copy, baseline)
    out = balance_rule.check(view)
    assert any("potential" in v and ("above" in v or "below" in v) for v in out)


def test_missing_and_duplicate_and_wrong_segment_accounts(plan_copy, baseline, sample_accounts):
    smb = sample_accounts[sample_accounts["segment"] == "smb"]["account_id"].iloc[10]

    def break_it(frame):
        dup = frame.iloc[[5]]
        frame = frame.drop(index=0)
        frame.loc[frame["account_id"] == smb, ["rep_id", "territory_id"]] = ["R01", "T-R01"]
        return pd.concat([frame, dup])

    _edit(plan_copy / "assignments.csv", break_it)
    report = validate_plan(plan_copy, baseline)
    text = " | ".join(report["coverage"])
    assert "have no rep" in text and "more than once" in text
    assert any(smb in v and "sells to enterprise" in v for v in report["eligibility"])


def test_lock_broken(plan_copy, baseline):
    lock = baseline.constraints.locks[0]

    def break_it(frame):
        frame.loc[frame["account_id"] == lock.account, ["rep_id", "territory_id"]] = [
            "R02",
            "T-R02",
        ]
        return frame

    _edit(plan_copy / "assignments.csv", break_it)
    report = validate_plan(plan_copy, baseline)
    assert any(lock.account in v and lock.rep in v for v in report["locks"])


def test_scattered_unit_breaks_contiguity(plan_copy, baseline):
    # Hand one SMB county of a territory to a territory far away.
    units = pd.read_csv(plan_copy / "units.csv", dtype=str, keep_default_na=False)
    smb = units[units["segment"] == "smb"]
    counts = smb["territory_id"].value_counts()
    donor = counts.index[0]
    unit = smb[smb["territory_id"] == donor]["unit_id"].iloc[0]
    receiver = next(t for t in counts.index if t != donor and t not in {donor})

    def move(frame):
        frame.loc[(frame["unit_id"] == unit) & (frame["segment"] == "smb"), "territory_id"] = (
            receiver
        )
        return frame

    _edit(plan_copy / "units.csv", move)
    view = load_view(plan_copy, baseline)
    out = contiguity_rule.check(view)
    # Either the receiver is now in pieces, or the county's accounts sit outside it.
    assert out, "moving a county to another territory must be reported"


def test_cli_validate_exit_codes(plan_dir, plan_copy, baseline_scenario_file):
    cmd = [sys.executable, "-m", "territory_engine.cli.main", "validate"]
    ok = subprocess.run(
        [*cmd, str(plan_dir), str(baseline_scenario_file)], capture_output=True, text=True, cwd=ROOT
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "every rule holds" in ok.stdout
    (plan_copy / "assignments.csv").write_text("account_id,rep_id\nA000001,R99\n")
    bad = subprocess.run(
        [*cmd, str(plan_copy), str(baseline_scenario_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 3
    assert "coverage" in bad.stdout and "R99" in bad.stdout
    assert "Traceback" not in bad.stderr


def test_families_rule_reports_split_families(plan_dir, baseline):
    # The baseline does not keep families, so some are split across reps; the
    # rule (switched on here) must name them.
    keeping = baseline.model_copy(
        update={"constraints": baseline.constraints.model_copy(update={"keep_families": True})}
    )
    report = validate_plan(plan_dir, keeping)
    assert report["families"], "the baseline splits families; the rule must say so"
    assert all("is split between" in v for v in report["families"])


def test_exception_groups_merge_spread_families_and_locks():
    from territory_engine.config.scenario import ConstraintsConfig, LockConfig
    from territory_engine.problem.build import exception_groups, top_parent

    accounts = pd.DataFrame(
        {
            "account_id": ["P", "C1", "C2", "Q", "Q1", "L"],
            "parent_account_id": ["", "P", "P", "", "Q", ""],
        }
    )
    assert top_parent(accounts).tolist() == ["P", "P", "P", "Q", "Q", "L"]
    # P's family spans units 0 and 1; Q's family sits in one unit; L is locked.
    units = np.array([0, 1, 0, 2, 2, 3])

    class _Scenario:
        constraints = ConstraintsConfig(
            keep_families=True, locks=[LockConfig(account="L", rep="R1")]
        )

    groups = exception_groups(_Scenario(), accounts, units)
    assert [(lead, rows.tolist(), kind) for lead, rows, kind in groups] == [
        (0, [0, 1, 2], "family"),
        (5, [5], "account"),
    ]


def test_an_account_with_a_rep_of_another_segment_is_named_once(plan_copy, baseline):
    from territory_engine.constraints import eligibility as eligibility_rule

    assignments = pd.read_csv(plan_copy / "assignments.csv", dtype=str, keep_default_na=False)
    reps = pd.read_csv(plan_copy / "reps.csv", dtype=str, keep_default_na=False)
    smb_rep = reps.loc[reps["segment"] == "smb", "rep_id"].iloc[0]
    accounts = pd.read_csv(plan_copy / "accounts.csv", dtype=str, keep_default_na=False)
    enterprise = accounts.loc[accounts["segment"] == "enterprise", "account_id"].iloc[:2].tolist()

    def move(frame):
        rows = frame["account_id"].isin(enterprise)
        frame.loc[rows, ["rep_id", "territory_id"]] = [smb_rep, f"T-{smb_rep}"]
        return frame

    _edit(plan_copy / "assignments.csv", move)
    out = eligibility_rule.check(load_view(plan_copy, baseline))
    ordered = assignments.loc[assignments["account_id"].isin(enterprise), "account_id"].tolist()
    assert out == [
        f"account {a} (enterprise) is with rep {smb_rep}, who sells to smb" for a in ordered
    ]
