"""``territory-engine assign``: new accounts routed by the plan's rules, and the drift.

Runs on the baseline plan solved once per session (``plan_dir`` in
``tests/conftest.py``); each test writes its own small new-accounts file.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from territory_engine.crm.eligibility import account_layer, eligible_reps, plan_segment
from territory_engine.crm.route import balance_drift, route_new_accounts
from territory_engine.errors import InputError
from tests.cli_run import run_cli

HEADER = "account_id,name,segment,lat,lon,potential,workload_hours,parent_account_id\n"


@pytest.fixture(scope="module")
def plan_tables(plan_dir):
    """accounts.csv joined to assignments.csv, and units.csv, of the baseline plan."""
    from territory_engine.plan.reader import read_plan_folder, read_plan_table

    folder = read_plan_folder(plan_dir)
    view = folder.account_view().merge(folder.assignments[["account_id", "unit_id"]])
    units = read_plan_table(plan_dir, "units.csv", ["unit_id", "segment", "territory_id"])
    return view, units, folder


def write_new(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def located_at(view: pd.DataFrame, segment: str, exclude_rep: str = "") -> pd.Series:
    """A plan account of ``segment`` that lies in its unit's territory (not kept elsewhere)."""
    rows = view[(view["segment"] == segment) & (view["rep_id"] != exclude_rep)]
    return rows.iloc[len(rows) // 2]


def unit_territory(units: pd.DataFrame, unit: str, segment: str) -> str:
    row = units[(units["unit_id"] == unit) & (units["segment"] == segment)]
    assert len(row) == 1
    return str(row["territory_id"].iloc[0])


def test_an_account_goes_to_the_territory_that_holds_its_unit_in_its_segment(
    plan_dir, plan_tables, tmp_path
):
    view, units, _ = plan_tables
    rows, expected = [], {}
    for i, segment in enumerate(("enterprise", "commercial", "smb")):
        at = located_at(view, segment)
        rows.append(f"N{i},New {i},{segment},{at['lat']},{at['lon']},1000,1,")
        expected[f"N{i}"] = unit_territory(units, at["unit_id"], segment)
    result = route_new_accounts(plan_dir, write_new(tmp_path / "new.csv", rows))
    routed = result.assignments.set_index("account_id")
    for account, territory in expected.items():
        assert routed.at[account, "territory_id"] == territory
        assert routed.at[account, "rule"] == "unit"
        assert not routed.at[account, "flagged"]
    # The rep is the one holding that territory.
    reps = plan_tables[2].territories.set_index("territory_id")["rep_id"]
    assert (routed["rep_id"] == routed["territory_id"].map(reps)).all()


def test_one_segment_layer_per_account_even_at_the_same_place(plan_dir, plan_tables, tmp_path):
    view, units, _ = plan_tables
    at = located_at(view, "commercial")
    rows = [
        f"C1,,commercial,{at['lat']},{at['lon']},1,1,",
        f"S1,,SMB,{at['lat']},{at['lon']},1,1,",  # the plan's spelling is found without case
    ]
    routed = route_new_accounts(plan_dir, write_new(tmp_path / "new.csv", rows)).assignments
    assert routed["territory_id"].tolist() == [
        unit_territory(units, at["unit_id"], "commercial"),
        unit_territory(units, at["unit_id"], "smb"),
    ]
    assert routed["segment"].tolist() == ["commercial", "smb"]


def test_a_child_goes_with_its_parent_even_across_units(plan_dir, plan_tables, tmp_path):
    view, _, _ = plan_tables
    parent = located_at(view, "commercial")
    elsewhere = located_at(view, "commercial", exclude_rep=parent["rep_id"])
    rows = [
        f"K1,Kid,commercial,{elsewhere['lat']},{elsewhere['lon']},10,1,{parent['account_id']}",
        # A grandchild whose parent is the new K1: routed after it, to the same rep.
        f"K2,Grandkid,commercial,{elsewhere['lat']},{elsewhere['lon']},10,1,K1",
        # A parent of another segment's team: the segment rule wins (no keep_families).
        f"K3,Other,smb,{elsewhere['lat']},{elsewhere['lon']},10,1,{parent['account_id']}",
    ]
    routed = route_new_accounts(plan_dir, write_new(tmp_path / "new.csv", rows)).assignments
    assert routed["rep_id"].tolist()[:2] == [parent["rep_id"]] * 2
    assert routed["rule"].tolist() == ["parent", "parent", "unit"]
    assert routed["rep_id"].iloc[2] != parent["rep_id"]


def test_locks_of_the_scenario_decide_first(plan_dir, plan_tables, tmp_path, repo_root):
    view, units, folder = plan_tables
    at = located_at(view, "commercial")
    holder = unit_territory(units, at["unit_id"], "commercial")
    commercial = folder.territories[folder.territories["segment"] == "commercial"]
    other = commercial[commercial["territory_id"] != holder]["rep_id"].tolist()
    scenario = tmp_path / "locked.yaml"
    scenario.write_text(
        f"extends: {repo_root / 'scenarios' / 'fy_baseline.yaml'}\n"
        "constraints:\n  locks:\n"
        f"    - {{account: L1, rep: {other[0]}}}\n"
        f"    - {{unit: '{at['unit_id']}', rep: {other[1]}}}\n",
        encoding="utf-8",
    )
    rows = [
        f"L1,Locked,commercial,{at['lat']},{at['lon']},10,1,",
        f"L2,In a locked unit,commercial,{at['lat']},{at['lon']},10,1,",
    ]
    routed = route_new_accounts(plan_dir, write_new(tmp_path / "new.csv", rows), scenario)
    assert routed.assignments["rep_id"].tolist() == other[:2]
    assert routed.assignments["rule"].tolist() == ["lock", "lock"]


def test_a_lock_to_a_rep_of_another_segment_is_an_error(plan_dir, plan_tables, tmp_path, repo_root):
    folder = plan_tables[2]
    smb_rep = folder.territories[folder.territories["segment"] == "smb"]["rep_id"].iloc[0]
    scenario = tmp_path / "locked.yaml"
    scenario.write_text(
        f"extends: {repo_root / 'scenarios' / 'fy_baseline.yaml'}\n"
        f"constraints:\n  locks:\n    - {{account: L1, rep: {smb_rep}}}\n",
        encoding="utf-8",
    )
    new = write_new(tmp_path / "new.csv", ["L1,,enterprise,33.75,-84.39,10,1,"])
    with pytest.raises(InputError, match=rf"row 2, id 'L1', column 'account_id'.*{smb_rep}"):
        route_new_accounts(plan_dir, new, scenario)


def test_an_account_outside_every_unit_goes_to_the_nearest_eligible_territory_flagged(
    plan_dir, plan_tables, tmp_path
):
    # Off the coast of Georgia, about 160 km from the nearest county.
    new = write_new(tmp_path / "new.csv", ["O1,Offshore,enterprise,30.0,-80.0,10,1,"])
    routed = route_new_accounts(plan_dir, new).assignments.iloc[0]
    assert routed["rule"] == "nearest_outside"
    assert bool(routed["flagged"])
    assert 100 < routed["distance_km"] < 250
    territories = plan_tables[2].territories.set_index("territory_id")
    assert territories.at[routed["territory_id"], "segment"] == "enterprise"
    units = plan_tables[1]
    assert routed["territory_id"] == unit_territory(units, routed["unit_id"], "enterprise")


def test_the_drift_adds_the_new_accounts_to_their_territories(plan_dir, plan_tables, tmp_path):
    view, _, folder = plan_tables
    at = located_at(view, "smb")
    rows = [f"D{i},,smb,{at['lat']},{at['lon']},1000000,50," for i in range(3)]
    result = route_new_accounts(plan_dir, write_new(tmp_path / "new.csv", rows))
    drift = result.drift.set_index("territory_id")
    territory = result.assignments["territory_id"].iloc[0]
    before = folder.territories.set_index("territory_id").at[territory, "potential"]
    assert drift.at[territory, "new_accounts"] == 3
    assert drift.at[territory, "potential_added"] == pytest.approx(3_000_000)
    assert drift.at[territory, "potential_after"] == pytest.approx(before + 3_000_000)
    assert drift.at[territory, "potential_change_pct"] == pytest.approx(300_000_000 / before)
    assert drift.at[territory, "workload_hours_added"] == pytest.approx(150)
    untouched = drift.drop(index=territory)
    assert (untouched["new_accounts"] == 0).all()
    assert (untouched["potential_change_pct"] == 0).all()
    assert result.measures == ["potential", "workload_hours"]


def test_balance_drift_is_a_pure_function_of_the_tables():
    territories = pd.DataFrame(
        {
            "territory_id": ["T1", "T2", "T3"],
            "rep_id": ["R1", "R2", ""],
            "n_accounts": [10, 20, 0],
            "potential": [100.0, 200.0, 0.0],
            "potential_fair_share": [150.0, 150.0, 150.0],
            "potential_low": [140.0, 140.0, 140.0],
            "potential_high": [160.0, 160.0, 160.0],
        }
    )
    routed = pd.DataFrame({"territory_id": ["T1", "T1", "T3"], "potential": [30.0, 20.0, 5.0]})
    drift = balance_drift(territories, routed, ["potential", "accounts"]).set_index("territory_id")
    assert drift["new_accounts"].tolist() == [2, 0, 1]
    assert drift["potential_after"].tolist() == [150.0, 200.0, 5.0]
    assert drift.at["T1", "potential_change_pct"] == pytest.approx(50.0)
    assert math.isnan(drift.at["T3", "potential_change_pct"])  # nothing before: no ratio
    assert drift["potential_in_band_after"].tolist() == [True, False, False]
    assert drift.at["T1", "potential_dev_pct_after"] == pytest.approx(0.0)
    assert drift["accounts_after"].tolist() == [12.0, 20.0, 1.0]


def test_eligibility_follows_the_scenario(baseline):
    reps = pd.DataFrame(
        {"segment": ["Strategic", "Mid-Market", "Territory"]}, index=["R1", "R2", "R3"]
    )
    mapped = baseline.model_copy(
        update={
            "territories": baseline.territories.model_copy(
                update={"eligibility": {"Mid-Market": ["Mid-Market", "Territory"]}}
            )
        }
    )
    assert eligible_reps(mapped, "Mid-Market", reps) == ["R2", "R3"]
    assert eligible_reps(mapped, "Strategic", reps) == ["R1"]  # unlisted: its own segment
    assert eligible_reps(baseline, plan_segment(" territory", reps["segment"]), reps) == ["R3"]
    # The layer of units.csv is the team the mapping links (as the plan named it).
    assert account_layer(mapped, "Mid-Market", reps) == "Mid-Market + Territory"
    assert account_layer(baseline, "Strategic", reps) == "Strategic"
    pooled = baseline.model_copy(
        update={"territories": baseline.territories.model_copy(update={"eligibility": "none"})}
    )
    assert eligible_reps(pooled, "anything", reps) == ["R1", "R2", "R3"]
    assert account_layer(pooled, "anything", reps) == "all"
    assert plan_segment("mid-market", reps["segment"]) == "Mid-Market"


# --------------------------------------------------------------------------- the command


def test_assign_writes_the_routed_csv_and_prints_the_drift(plan_dir, plan_tables, tmp_path):
    view, units, _ = plan_tables
    at = located_at(view, "commercial")
    new = write_new(
        tmp_path / "new.csv",
        [
            f'N1,"=HYPERLINK(""http://x"",""y"")",commercial,{at["lat"]},{at["lon"]},5000,2,',
            "N2,Offshore,enterprise,30.0,-80.0,10,1,",
        ],
    )
    out = tmp_path / "routed.csv"
    done = run_cli("assign", str(plan_dir), str(new), "--output", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Balance drift" in done.stdout
    assert "1 by unit, 1 by nearest_outside" in done.stderr
    assert "flagged: N2" in done.stderr
    routed = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(routed.columns[:10]) == [
        "account_id",
        "name",
        "segment",
        "unit_id",
        "territory_id",
        "rep_id",
        "rep_name",
        "rule",
        "flagged",
        "distance_km",
    ]
    assert routed.at[0, "territory_id"] == unit_territory(units, at["unit_id"], "commercial")
    assert routed.at[0, "name"] == '\'=HYPERLINK("http://x","y")'  # neutralised
    assert routed["rule"].tolist() == ["unit", "nearest_outside"]


def test_assign_default_output_is_beside_the_new_accounts(plan_dir, tmp_path):
    new = write_new(tmp_path / "arrivals.csv", ["N1,,smb,33.75,-84.39,1,1,"])
    done = run_cli("assign", str(plan_dir), str(new), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "arrivals_assigned.csv").is_file()


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (
            ["X1,,partner,33.75,-84.39,1,1,"],
            HEADER,
            r"new\.csv, row 2, id 'X1', column 'segment': 'partner': no rep of the plan sells "
            r"to this segment; segments covered: commercial, enterprise, smb",
        ),
        (
            ["X1,,smb,abc,-84.39,1,1,"],
            HEADER,
            r"new\.csv, row 2, id 'X1', column 'lat': 'abc' is not a number",
        ),
        (
            ["X1,,smb,33.75,-284.39,1,1,"],
            HEADER,
            r"new\.csv, row 2, id 'X1', column 'lon'",
        ),
        (
            ["X1,,smb,33.75,-84.39,1,1,A000001"],
            HEADER.replace("parent_account_id", "parent_acount_id"),
            r"new\.csv, column 'parent_acount_id': unknown column 'parent_acount_id' "
            r"\(did you mean 'parent_account_id'\?\)",
        ),
        (
            ["X1,,smb,33.75,-84.39,1,1,"],
            HEADER.replace("workload_hours", "hours"),
            r"new\.csv, column 'workload_hours': missing column 'workload_hours'",
        ),
        (
            ["A000001,,smb,33.75,-84.39,1,1,"],
            HEADER,
            r"new\.csv, row 2, id 'A000001', column 'account_id': is already an account of the "
            "plan",
        ),
        (
            ["X1,,smb,33.75,-84.39,1,1,X2", "X2,,smb,33.75,-84.39,1,1,X1"],
            HEADER,
            r"new\.csv, row \d, id 'X\d', column 'parent_account_id': the parents of this "
            "account lead back to it",
        ),
        (
            ["X1,,smb,33.75,-84.39,-1,1,"],
            HEADER,
            r"new\.csv, row 2, id 'X1', column 'potential'",
        ),
    ],
)
def test_bad_new_accounts_fail_in_one_line_and_write_nothing(
    plan_dir, tmp_path, rows, header, message
):
    new = tmp_path / "new.csv"
    new.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.csv"
    done = run_cli("assign", str(plan_dir), str(new), "--output", str(out), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    import re

    assert re.search(message, lines[0]), lines[0]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv"]


def test_h3_plans_place_new_accounts_in_their_cell_and_the_rest_nearest(baseline):
    """``data.units: {h3: RES}``: the cell of the point, else the nearest cell of the plan."""
    from types import SimpleNamespace

    import geopandas as gpd
    import h3

    from territory_engine.config.scenario import H3UnitsConfig
    from territory_engine.crm.locate import locate_new_accounts

    centre = h3.latlng_to_cell(33.75, -84.39, 5)
    ring = sorted(h3.grid_ring(centre, 1))
    units = pd.DataFrame(
        {
            "unit_id": [centre, *ring],
            "segment": "smb",
            "territory_id": ["T-A", *["T-B"] * len(ring)],
        }
    )
    folder = SimpleNamespace(
        territories=pd.DataFrame({"territory_id": ["T-A", "T-B"], "rep_id": ["RA", "RB"]})
    )
    scenario = baseline.model_copy(
        update={"data": baseline.data.model_copy(update={"units": H3UnitsConfig(h3=5)})}
    )
    accounts = gpd.GeoDataFrame(
        {"account_id": ["IN", "FAR"]},
        geometry=gpd.points_from_xy([-84.39, -83.0], [33.75, 34.5]),
        crs="EPSG:4326",
    )
    segment = pd.Series(["smb", "smb"], index=accounts.index)
    out = locate_new_accounts(
        accounts, units, segment, {"smb": ["RA", "RB"]}, {"smb": "smb"}, folder, scenario
    )
    assert out["unit_id"][0] == centre and out["rep_id"][0] == "RA"
    assert list(out["rule"]) == ["unit", "nearest_outside"]
    assert out["unit_id"][1] in ring and out["rep_id"][1] == "RB"
    assert out["distance_km"][1] > 50


def test_new_accounts_may_come_with_the_crm_headers_the_scenario_maps(
    plan_dir, plan_tables, tmp_path, repo_root
):
    view, units, _ = plan_tables
    at = located_at(view, "smb")
    scenario = tmp_path / "mapped.yaml"
    scenario.write_text(
        f"extends: {repo_root / 'scenarios' / 'fy_baseline.yaml'}\n"
        "data:\n  columns:\n    accounts:\n"
        "      account_id: Account ID\n      name: Account Name\n"
        "      potential: Annual Revenue\n      workload_hours: Annual Revenue\n",
        encoding="utf-8",
    )
    new = tmp_path / "report.csv"
    new.write_text(
        "Account ID,Account Name,segment,lat,lon,Annual Revenue,Billing City\n"
        f"SF1,Acme,smb,{at['lat']},{at['lon']},1200,Atlanta\n",
        encoding="utf-8",
    )
    routed = route_new_accounts(plan_dir, new, scenario).assignments.iloc[0]
    assert (routed["account_id"], routed["name"]) == ("SF1", "Acme")
    assert routed["potential"] == routed["workload_hours"] == 1200.0  # one header, two columns
    assert routed["territory_id"] == unit_territory(units, at["unit_id"], "smb")
