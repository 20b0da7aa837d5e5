"""Mid-year changes (``territory-engine adjust``) on a hand-made grid with known answers.

The grid: 8 columns × 4 rows of square units, two equal accounts in each, and
four reps whose territories are the column pairs ``R1 | R2 | R3 | R4``. When R2
leaves, only R1 and R3 (its neighbours) may change; R4 keeps every unit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from territory_engine.cli.main import app
from territory_engine.config import load_scenario
from territory_engine.errors import ScenarioError
from territory_engine.org.adjust.changes import (
    AddRep,
    MoveUnits,
    RemoveRep,
    parse_add_rep,
    parse_move_units,
)
from territory_engine.org.adjust.prorate import month_shares_after, prorate_quotas
from territory_engine.org.adjust.run import QUOTA_CHANGES, adjust_plan
from territory_engine.pipeline.run import run_scenario
from territory_engine.plan.reader import read_plan_folder
from territory_engine.quota.rounding import to_cents
from territory_engine.store import PlanStore

COLS, ROWS, SIZE = 8, 4, 0.2
LON0, LAT0 = -86.0, 33.0
EFFECTIVE = date(2027, 7, 1)

SCENARIO = """\
name: grid
data:
  accounts: accounts.csv
  reps: reps.csv
  units: units.geojson
  unit_id_column: unit_id
territories: {mode: per_rep, eligibility: none}
balance:
  potential: {tolerance: 0.15}
objective: {travel: 1.0, disruption: 0.5}
constraints: {contiguity: true}
quota:
  method: potential
  rounding: 1000
  plan_start: 2027-01-01
  seasonality: {period: quarter, profile: [0.2, 0.2, 0.3, 0.3]}
solver: {seed: 7, time_limit: 5}
output: {folder: out/grid}
"""


def block_rep(col: int) -> str:
    """The rep of a column in the hand-drawn plan: columns 0-1 R1, 2-3 R2, ..."""
    return f"R{col // 2 + 1}"


def write_grid(folder: Path) -> Path:
    """Write the grid's units, accounts, reps and scenario into ``folder``; the scenario."""
    folder.mkdir(parents=True, exist_ok=True)
    cells = [(c, r) for c in range(COLS) for r in range(ROWS)]
    units = gpd.GeoDataFrame(
        {"unit_id": [f"U{c}{r}" for c, r in cells]},
        geometry=[
            shapely.box(
                LON0 + c * SIZE, LAT0 + r * SIZE, LON0 + (c + 1) * SIZE, LAT0 + (r + 1) * SIZE
            )
            for c, r in cells
        ],
        crs=4326,
    )
    units.to_file(folder / "units.geojson", driver="GeoJSON")
    rows = []
    for c, r in cells:
        for k in range(2):
            rows.append(
                {
                    "account_id": f"A{c}{r}{k}",
                    "name": f"Account {c}{r}{k}",
                    "lat": LAT0 + (r + 0.3 + 0.4 * k) * SIZE,
                    "lon": LON0 + (c + 0.5) * SIZE,
                    "potential": 1000.0 + 10 * k,
                    "last_year_revenue": 800.0,
                    "workload_hours": 5.0,
                    "current_rep_id": block_rep(c),
                }
            )
    pd.DataFrame(rows).to_csv(folder / "accounts.csv", index=False)
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{i + 1}" for i in range(4)],
            "name": [f"Rep {i + 1}" for i in range(4)],
            "home_lat": LAT0 + 2 * SIZE,
            "home_lon": [LON0 + (2 * i + 1) * SIZE for i in range(4)],
            "home_city": [f"Town{i + 1}, GA" for i in range(4)],
            "capacity_fte": 1.0,
            "start_date": "2020-01-01",
            "last_year_quota": 0.0,
        }
    )
    reps.to_csv(folder / "reps.csv", index=False)
    scenario = folder / "grid.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return scenario


@pytest.fixture(scope="module")
def grid_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The grid's plan folder (solved once for the module)."""
    folder = tmp_path_factory.mktemp("grid")
    scenario = write_grid(folder)
    result = run_scenario(load_scenario(scenario), output=folder / "plan")
    assert result.feasible
    return folder / "plan"


def owners(plan_dir: Path) -> pd.Series:
    """Unit id -> rep of a plan folder's ``units.csv``."""
    plan = read_plan_folder(plan_dir)
    assert plan.units is not None
    rep_of = dict(zip(plan.territories["territory_id"], plan.territories["rep_id"], strict=True))
    return plan.units.set_index("unit_id")["territory_id"].map(rep_of)


def test_the_grid_plan_is_the_column_pairs(grid_plan: Path) -> None:
    held = owners(grid_plan)
    assert all(held[f"U{c}{r}"] == block_rep(c) for c in range(COLS) for r in range(ROWS))


@pytest.fixture(scope="module")
def r2_left(grid_plan: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("adjusted") / "r2_left"
    return adjust_plan(
        grid_plan, EFFECTIVE, [RemoveRep("R2")], output=out, store=out.parent / "plans.sqlite"
    )


def test_removing_a_rep_changes_only_its_neighbours(grid_plan: Path, r2_left) -> None:
    assert r2_left.redrawn == ["R1", "R2", "R3"]
    assert r2_left.alignment.feasible, r2_left.alignment.violations
    before, after = owners(grid_plan), owners(r2_left.plan_dir)
    r4 = before.index[before == "R4"]
    assert (after[r4] == "R4").all() and (after == "R4").sum() == len(r4)
    # R2's units went to R1 and R3 only, and the two are balanced.
    assert set(after[before == "R2"]) <= {"R1", "R3"}
    counts = after.value_counts()
    assert abs(counts["R1"] - counts["R3"]) <= 2
    assert "R2" not in set(after)


def test_quotas_are_pro_rated_and_the_total_is_exact(grid_plan: Path, r2_left) -> None:
    parent = read_plan_folder(grid_plan)
    new = read_plan_folder(r2_left.plan_dir)
    changes = pd.read_csv(r2_left.plan_dir / QUOTA_CHANGES, dtype={"rep_id": str})
    departed = changes.loc[changes["rep_id"] == "R2", "new_quota"].sum()
    total_before = sum(to_cents(q) for q in parent.quotas["quota"])
    total_after = sum(to_cents(q) for q in new.quotas["quota"]) + to_cents(departed)
    assert total_after == total_before == r2_left.total_after
    # R4 is untouched: the same quota to the cent, no row in quota_changes.csv.
    q = dict(zip(new.quotas["rep_id"], new.quotas["quota"], strict=True))
    q0 = dict(zip(parent.quotas["rep_id"], parent.quotas["quota"], strict=True))
    assert q["R4"] == q0["R4"] and "R4" not in set(changes["rep_id"])
    # R2 keeps the first half of the plan year: Q1 + Q2 = 40 % of the year (profile).
    assert departed == pytest.approx(0.4 * q0["R2"], abs=1000)
    # Each rep's periods sum exactly to its quota.
    splits = new.quota_splits
    assert splits is not None
    by_rep = splits.groupby("rep_id")["quota"].sum()
    for rep, quota in q.items():
        assert to_cents(by_rep[rep]) == to_cents(quota)


def test_each_changed_quota_is_explained(r2_left) -> None:
    text = dict(zip(r2_left.changes["rep_id"], r2_left.changes["explanation"], strict=True))
    assert text["R2"].startswith("R2 left on 2027-07-01: 6 months of R2's quota")
    assert "quota relief" in text["R2"]
    assert "for 6 months from R2" in text["R1"] and "for 6 months from R2" in text["R3"]
    explained = read_plan_folder(r2_left.plan_dir).quotas.set_index("rep_id")["explanation"]
    assert explained["R1"] == text["R1"]


def test_the_new_version_names_its_parent_and_date(grid_plan: Path, r2_left) -> None:
    manifest = read_plan_folder(r2_left.plan_dir).manifest
    assert manifest["adjustment"]["effective_date"] == "2027-07-01"
    assert manifest["base_plan"]["path"] == str(grid_plan.resolve())
    stored = PlanStore(r2_left.plan_dir.parent / "plans.sqlite").get(r2_left.plan_id)
    assert stored.parent_id == r2_left.parent_id is not None
    assert stored.effective_date == "2027-07-01"


def test_adjust_is_deterministic(grid_plan: Path, r2_left, tmp_path: Path) -> None:
    again = adjust_plan(
        grid_plan, EFFECTIVE, [RemoveRep("R2")], output=tmp_path / "a", record=False
    )
    a = read_plan_folder(r2_left.plan_dir).assignments
    b = read_plan_folder(again.plan_dir).assignments
    assert a["rep_id"].tolist() == b["rep_id"].tolist()
    assert r2_left.changes["new_quota"].tolist() == again.changes["new_quota"].tolist()


def test_moving_units_locks_them_and_touches_only_the_two_reps(grid_plan: Path, tmp_path: Path):
    result = adjust_plan(
        grid_plan, EFFECTIVE, [MoveUnits((("U30", "R1"),))], output=tmp_path / "m", record=False
    )
    after = owners(result.plan_dir)
    assert after["U30"] == "R1"
    assert result.redrawn == ["R1", "R2"]
    before = owners(grid_plan)
    assert (after[before.isin(["R3", "R4"])] == before[before.isin(["R3", "R4"])]).all()


def test_a_hire_takes_units_near_its_home(grid_plan: Path, tmp_path: Path) -> None:
    result = adjust_plan(
        grid_plan, EFFECTIVE, [AddRep("R5", "Town4, GA")], output=tmp_path / "h", record=False
    )
    # Town4 is R4's home: R4 and its neighbour R3 share their 16 units with R5.
    assert result.redrawn == ["R3", "R4", "R5"]
    assert result.alignment.feasible, result.alignment.violations
    after = owners(result.plan_dir)
    assert 4 <= (after == "R5").sum() <= 7
    assert (after[[f"U{c}{r}" for c in range(4) for r in range(ROWS)]] != "R5").all()
    assert "R5" in set(result.changes["rep_id"])
    row = result.changes.set_index("rep_id").loc["R5"]
    assert row["status"] == "joined" and row["old_quota"] == 0


@pytest.mark.parametrize(
    ("when", "match"),
    [
        (date(2026, 12, 31), "before the plan starts \\(2027-01-01\\)"),
        (date(2028, 1, 1), "on or after the plan's end \\(2028-01-01"),
    ],
)
def test_an_effective_date_outside_the_plan_year_is_refused(grid_plan, tmp_path, when, match):
    with pytest.raises(ScenarioError, match=match):
        adjust_plan(grid_plan, when, [RemoveRep("R2")], output=tmp_path / "x", record=False)
    assert not (tmp_path / "x").exists()


def test_an_unknown_rep_is_refused_by_name(grid_plan: Path, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="--remove-rep: 'R9' is not a rep of the plan"):
        adjust_plan(grid_plan, EFFECTIVE, [RemoveRep("R9")], output=tmp_path / "x", record=False)
    with pytest.raises(ScenarioError, match="'R1' is already a rep"):
        adjust_plan(grid_plan, EFFECTIVE, [AddRep("R1", "Town1, GA")], record=False)


def test_the_cli_refuses_bad_input_in_one_line(grid_plan: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bad = [
        ["--effective", "July", "--remove-rep", "R2"],
        ["--effective", "2027-07-01", "--remove-rep", "R2x"],
        ["--effective", "2027-07-01", "--move-units", "U30"],
        ["--effective", "2027-07-01"],
    ]
    for args in bad:
        result = runner.invoke(app, ["adjust", str(grid_plan), *args, "-o", str(tmp_path / "c")])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / "c").exists()


def test_parsing_the_changes() -> None:
    assert parse_add_rep("R46:Jackson, MS:commercial") == AddRep("R46", "Jackson, MS", "commercial")
    assert parse_add_rep("R46:Jackson, MS") == AddRep("R46", "Jackson, MS", None)
    assert parse_move_units("a=R1, b=R2").moves == (("a", "R1"), ("b", "R2"))
    with pytest.raises(ScenarioError, match="write REP:CITY"):
        parse_add_rep("R46")
    with pytest.raises(ScenarioError, match="named twice"):
        parse_move_units("a=R1,a=R2")


def test_month_shares_after_a_mid_month_date() -> None:
    shares = month_shares_after(date(2027, 1, 1), date(2027, 7, 16))
    assert shares[:6].sum() == 0 and shares[7:].sum() == 5
    assert shares[6] == pytest.approx(16 / 31)


def test_pro_rating_by_hand() -> None:
    """Two reps, flat months: B takes A's second account on July 1 (half the year left)."""
    quotas = pd.DataFrame(
        {"territory_id": ["T-A", "T-B"], "rep_id": ["A", "B"], "quota": [1200.0, 600.0]}
    )
    old = pd.DataFrame(
        {
            "account_id": ["a1", "a2", "b1"],
            "territory_id": ["T-A", "T-A", "T-B"],
            "rep_id": ["A", "A", "B"],
            "potential": [1.0, 3.0, 1.0],
        }
    )
    new = pd.Series({"a1": "A", "a2": "B", "b1": "B"})
    pro = prorate_quotas(
        quotas, None, old, new, plan_start=date(2027, 1, 1), effective=EFFECTIVE, unit=0.01
    )
    # a2 holds 3/4 of A's quota; half the year left: 1200 · 3/4 · 1/2 = 450.
    assert pro.quota_cents == {"A": 75000, "B": 105000}
    assert pro.total_before == pro.total_after == 180000
    assert np.allclose(pro.monthly["B"][6:], 50 + 75)
