"""A plan folder keeps its organisation layers when ``score``, ``quota`` and ``adjust`` rewrite it.

The grid of :mod:`tests.org.test_adjust` (four reps on column pairs ``R1 | R2 | R3 |
R4``) with a drawn hierarchy of two districts in one region, and a hand-made
forecast layer (``forecasts.csv`` and the scorecard's ``forecast`` section, as a
plan with ``data.history`` has them; no model is fitted here).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from territory_engine.config import load_scenario
from territory_engine.org.adjust.changes import AddRep, RemoveRep
from territory_engine.org.adjust.run import adjust_plan
from territory_engine.org.hierarchy import read_hierarchy
from territory_engine.org.hierarchy.tables import read_hierarchy_geometry
from territory_engine.pipeline.run import run_scenario
from territory_engine.plan.requota import reallocate_quotas
from territory_engine.plan.score import score_plan
from tests.org.test_adjust import EFFECTIVE, SCENARIO, write_grid

LAYERED = SCENARIO.replace(
    "solver: {seed: 7, time_limit: 5}", "solver: {seed: 7, time_limit: 2}"
) + (
    "hierarchy:\n"
    "  levels:\n"
    "    - {name: district, count: 2}\n"
    "    - {name: region, count: 1}\n"
    "  balance: {potential: {tolerance: 0.15}}\n"
    "  time_limit: 2\n"
)

FORECAST = {
    "reconciliation": "bottom_up",
    "backtest": {"territory": {"wape": 0.1, "mape": 0.1, "naive_wape": 0.2, "naive_mape": 0.2}},
    "plan_year": {"months": "2027-01..2027-12", "company_forecast": 4800.0},
}


def _forecasts() -> pd.DataFrame:
    rows = [
        {"level": "company", "id": "company", "month": f"2027-{m:02d}", "forecast": 400.0}
        for m in range(1, 13)
    ]
    frame = pd.DataFrame(rows)
    for column in ("lo_80", "hi_80", "lo_95", "hi_95"):
        frame[column] = frame["forecast"]
    return frame


@pytest.fixture(scope="module")
def layered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(scenario file, plan folder) of the grid with a hierarchy and a forecast layer."""
    folder = tmp_path_factory.mktemp("layered")
    scenario = write_grid(folder)
    scenario.write_text(LAYERED, encoding="utf-8")
    plan = folder / "plan"
    result = run_scenario(load_scenario(scenario), output=plan)
    assert result.feasible
    card = json.loads((plan / "scorecard.json").read_text())
    card["forecast"] = FORECAST
    (plan / "scorecard.json").write_text(json.dumps(card, indent=2))
    _forecasts().to_csv(plan / "forecasts.csv", index=False)
    return scenario, plan


def _copy(plan: Path, tmp_path: Path) -> Path:
    out = tmp_path / "plan"
    shutil.copytree(plan, out)
    return out


def _card(plan: Path) -> dict:
    return json.loads((plan / "scorecard.json").read_text())


def _move_column(plan: Path, column: int, rep: str) -> None:
    """Hand every account of grid column ``column`` to ``rep`` in ``assignments.csv``."""
    rows = pd.read_csv(plan / "assignments.csv", dtype=str, keep_default_na=False)
    tid = rows.loc[rows["rep_id"] == rep, "territory_id"].iloc[0]
    hit = rows["account_id"].str.startswith(f"A{column}")
    rows.loc[hit, "rep_id"], rows.loc[hit, "territory_id"] = rep, tid
    rows.to_csv(plan / "assignments.csv", index=False)


def test_the_grid_is_drawn_in_two_districts_of_column_pairs(layered) -> None:
    _, plan = layered
    table = read_hierarchy(plan)
    assert table is not None
    groups = table.groupby("district")["rep_id"].apply(frozenset)
    assert set(groups) == {frozenset({"R1", "R2"}), frozenset({"R3", "R4"})}


def test_score_keeps_the_hierarchy_and_follows_a_balance_change(layered, tmp_path) -> None:
    _, plan = layered
    before = _card(plan)["hierarchy"]
    folder = _copy(plan, tmp_path)
    table = (folder / "hierarchy.csv").read_bytes()
    score_plan(folder)
    kept = _card(folder)
    assert kept["hierarchy"]["levels"] == ["district", "region"]
    assert kept["hierarchy"] == before  # unchanged plan: the section the run wrote
    assert kept["forecast"] == FORECAST  # same assignment: carried as it was
    # R2's column 3 goes to R3: the district of R1, R2 loses a quarter of its load.
    _move_column(folder, 3, "R3")
    score_plan(folder)
    moved = _card(folder)
    dev = moved["hierarchy"]["district"]["balance"]["potential"]["max_rel_dev"]
    assert dev == pytest.approx(0.25, abs=0.01)
    assert dev > before["district"]["balance"]["potential"]["max_rel_dev"] + 0.2
    assert moved["hierarchy"]["district"]["balance"]["potential"]["out_of_band"] == 2
    assert not moved["hierarchy"]["feasible"] and moved["hierarchy"]["violations"]
    assert (folder / "hierarchy.csv").read_bytes() == table  # the groups are not redrawn
    assert moved["forecast"]["stale"] is True
    assert "re-run the scenario" in moved["forecast"]["stale_reason"]


def test_quota_keeps_region_and_district_and_the_group_totals(layered, tmp_path) -> None:
    scenario, plan = layered
    folder = _copy(plan, tmp_path)
    raised = tmp_path / "raised.yaml"
    raised.write_text(
        scenario.read_text().replace("rounding: 1000", "rounding: 1000\n  target: 9000000"),
        encoding="utf-8",
    )
    # The scenario's data paths are relative to its own folder.
    shutil.copy(raised, scenario.parent / "raised.yaml")
    forecasts = (folder / "forecasts.csv").read_bytes()
    reallocate_quotas(folder, scenario.parent / "raised.yaml")
    quotas = pd.read_csv(folder / "quotas.csv", dtype={"district": str, "region": str})
    table = read_hierarchy(folder)
    assert table is not None
    drawn = dict(zip(table["territory_id"], table["district"], strict=True))
    assert quotas["district"].tolist() == [drawn[t] for t in quotas["territory_id"]]
    assert (quotas["region"] == table["region"].iloc[0]).all()
    assert quotas["quota"].sum() == pytest.approx(9_000_000)
    card = _card(folder)
    totals = quotas.groupby("district")["quota"].sum()
    assert card["hierarchy"]["district"]["quota"] == pytest.approx(totals.to_dict())
    assert sum(card["hierarchy"]["region"]["quota"].values()) == pytest.approx(9_000_000)
    shapes = read_hierarchy_geometry(folder)
    assert shapes is not None
    districts = shapes[shapes["level"] == "district"].set_index("id")["quota"]
    assert districts.to_dict() == pytest.approx(totals.to_dict())
    assert card["forecast"] == FORECAST
    assert (folder / "forecasts.csv").read_bytes() == forecasts


@pytest.mark.parametrize(
    ("change", "gone", "new"),
    [(RemoveRep("R2"), "R2", None), (AddRep("R5", "Town4, GA"), None, "R5")],
)
def test_adjust_keeps_the_hierarchy_and_the_parent_forecast(
    layered, tmp_path, change, gone, new
) -> None:
    _, plan = layered
    result = adjust_plan(plan, EFFECTIVE, [change], output=tmp_path / "adj", record=False)
    out = result.plan_dir
    table = read_hierarchy(out)
    parent = read_hierarchy(plan)
    assert table is not None and parent is not None
    territories = pd.read_csv(out / "territories.csv", dtype=str)
    # Every territory of the new plan in exactly one group of each level.
    assert sorted(table["territory_id"]) == sorted(territories["territory_id"])
    assert table["territory_id"].is_unique and (table[["district", "region"]] != "").all().all()
    assert set(table["district"]) <= set(parent["district"])
    stayed = parent[parent["rep_id"] != gone].set_index("rep_id")["district"]
    now = table.set_index("rep_id")["district"]
    assert all(now[r] == stayed[r] for r in stayed.index)
    if new is not None:  # the hire took its units from R3 and R4, both in one district
        assert now[new] == stayed["R4"] == stayed["R3"]
    assert gone not in set(table["rep_id"])
    card = _card(out)
    assert card["hierarchy"]["levels"] == ["district", "region"]
    assert card["hierarchy"]["district"]["n_groups"] == 2
    quotas = pd.read_csv(out / "quotas.csv", dtype={"district": str})
    assert (
        quotas["district"].tolist()
        == table.set_index("territory_id").loc[quotas["territory_id"], "district"].tolist()
    )
    assert card["forecast"]["from_parent"] == str(plan.resolve())
    assert card["forecast"]["stale"] is True
    assert pd.read_csv(out / "forecasts.csv").equals(pd.read_csv(plan / "forecasts.csv"))
    files = json.loads((out / "plan.json").read_text())["files"]
    assert {"hierarchy.csv", "hierarchy.geojson", "forecasts.csv", "quota_changes.csv"} <= set(
        files
    )
    assert all((out / f).is_file() for f in files)


def test_a_kept_hierarchy_whose_levels_do_not_nest_is_an_input_error_in_words():
    import pandas as pd

    from territory_engine.errors import InputError
    from territory_engine.org.hierarchy.plan import kept_config

    table = pd.DataFrame(
        {
            "territory_id": ["T1", "T2"],
            "rep_id": ["R1", "R2"],
            "district": ["D1", "D1"],
            "region": ["East", "West"],  # one district in two regions
            "manager": ["m", "m"],
        }
    )
    with pytest.raises(InputError, match=r"^hierarchy.csv: level 'region' has 2 groups"):
        kept_config(table, None, None, ["potential"])
