"""What-if operations (``whatif:``) and ``territory-engine diff-scenarios``.

Each operation is tested on small hand-made tables (no solve); two end-to-end
runs of the sample's what-if scenarios check that a hired rep gets a territory
and that a rep who leaves keeps nothing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from territory_engine.config import load_scenario
from territory_engine.config.diff import MISSING, diff_scenarios, format_value
from territory_engine.config.scenario import Scenario
from territory_engine.config.whatif import expand_lock_accounts
from territory_engine.errors import InfeasibleError, InputError, ScenarioError
from territory_engine.io.accounts import check_account_owners, read_accounts
from territory_engine.io.load import Tables
from territory_engine.io.reps import read_reps
from territory_engine.io.whatif import apply_whatif, check_lock_accounts
from territory_engine.quota import QuotaInputs, allocate
from tests.cli_run import run_cli

REPS_CSV = """rep_id,name,home_lat,home_lon,home_city,segment,capacity_fte,start_date,\
last_year_quota
R01,Ann,36.0,-86.0,"Hermitage, TN",commercial,1.0,2020-01-01,1000000
R02,Bob,34.0,-84.0,"Atlanta, GA",commercial,1.0,2019-05-01,900000
R03,Cat,35.0,-85.0,,smb,1.0,2021-03-01,300000
"""

ACCOUNTS_CSV = """account_id,name,lat,lon,county_fips,industry,segment,potential,\
last_year_revenue,workload_hours,current_rep_id,parent_account_id
A01,One,36.1,-86.1,,Retail,commercial,100,30,5,R01,
A02,Two,34.1,-84.1,,Retail,commercial,200,60,6,R02,
A03,Three,34.2,-84.2,,Retail,commercial,300,90,7,R02,
A04,Four,35.1,-85.1,,Retail,smb,50,10,2,R03,
A05,Five,35.2,-85.2,,Retail,smb,40,0,2,,
"""

PLACES_CSV = """name,state,lat,lon,population
Franklin,TN,35.925060,-86.868890,72639
Nashville,GA,31.207420,-83.250150,4854
Nashville,TN,36.165890,-86.784440,689447
Nashville,TN,35.000000,-85.000000,10
"""


@pytest.fixture
def small(tmp_path: Path):
    """Hand-made reps, accounts and gazetteer files, and a scenario builder over them."""
    for name, text in (
        ("reps.csv", REPS_CSV),
        ("accounts.csv", ACCOUNTS_CSV),
        ("places.csv", PLACES_CSV),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
    accounts = read_accounts(tmp_path / "accounts.csv")
    reps = read_reps(tmp_path / "reps.csv")
    tables = Tables(accounts=accounts, reps=reps, units=gpd.GeoDataFrame())

    def scenario(whatif: dict, places: bool = True, **more) -> Scenario:
        data = {
            "accounts": str(tmp_path / "accounts.csv"),
            "reps": str(tmp_path / "reps.csv"),
            "units": str(tmp_path / "units.gpkg"),
        }
        if places:
            data["places"] = str(tmp_path / "places.csv")
        raw = {"name": "small", "data": data, "whatif": whatif, **more}
        raw.setdefault("quota", {"plan_start": "2027-01-01"})
        return Scenario.model_validate(raw)

    return tmp_path, tables, scenario


# --------------------------------------------------------------------------- add_reps


def test_added_rep_gets_the_city_coordinates_and_ramps_from_plan_start(small):
    _, tables, scenario = small
    new = {"rep_id": "R09", "name": "Nia", "segment": "Commercial", "city": "nashville, tn"}
    out = apply_whatif(scenario({"add_reps": [new]}), tables)
    assert list(out.reps["rep_id"]) == ["R01", "R02", "R03", "R09"]
    row = out.reps[out.reps["rep_id"] == "R09"].iloc[0]
    # The most populous Nashville of Tennessee, not the small one nor Georgia's.
    assert (row["home_lat"], row["home_lon"]) == (36.16589, -86.78444)
    assert (row.geometry.y, row.geometry.x) == (36.16589, -86.78444)
    assert row["home_city"] == "Nashville, TN"
    assert row["segment"] == "commercial"
    assert row["capacity_fte"] == 1.0
    assert row["last_year_quota"] == 0.0
    assert pd.Timestamp(row["start_date"]) == pd.Timestamp("2027-01-01")
    assert out.reps.crs == tables.reps.crs
    assert tables.reps["rep_id"].tolist() == ["R01", "R02", "R03"]  # the input is not changed


def test_added_rep_by_unique_name_by_home_city_and_by_coordinates(small):
    _, tables, scenario = small
    new = [
        {"rep_id": "R10", "segment": "smb", "city": "Franklin"},  # one state only
        {"rep_id": "R11", "segment": "smb", "city": "Hermitage, TN"},  # a rep's home_city
        {"rep_id": "R12", "segment": "smb", "lat": 33.5, "lon": -86.8, "capacity_fte": 0.5},
    ]
    reps = apply_whatif(scenario({"add_reps": new}), tables).reps.set_index("rep_id")
    assert (reps.at["R10", "home_lat"], reps.at["R10", "home_city"]) == (35.92506, "Franklin, TN")
    assert (reps.at["R11", "home_lat"], reps.at["R11", "home_lon"]) == (36.0, -86.0)
    assert (reps.at["R12", "home_lat"], reps.at["R12", "capacity_fte"]) == (33.5, 0.5)
    assert reps.at["R12", "name"] == "New rep R12"


def test_unknown_city_names_the_key_and_suggests(small):
    _, tables, scenario = small
    new = {"rep_id": "R09", "segment": "smb", "city": "Nashvile, TN"}
    with pytest.raises(ScenarioError) as err:
        apply_whatif(scenario({"add_reps": [new]}), tables)
    assert "whatif.add_reps[0].city" in str(err.value)
    assert "did you mean 'Nashville, TN'?" in str(err.value)


def test_ambiguous_city_lists_its_states(small):
    _, tables, scenario = small
    with pytest.raises(ScenarioError, match=r"several states \(GA, TN\)"):
        apply_whatif(
            scenario({"add_reps": [{"rep_id": "R09", "segment": "smb", "city": "Nashville"}]}),
            tables,
        )


def test_city_without_a_gazetteer_says_to_set_data_places(small):
    _, tables, scenario = small
    new = {"rep_id": "R09", "segment": "smb", "city": "Nashville, TN"}
    with pytest.raises(ScenarioError, match=r"data\.places"):
        apply_whatif(scenario({"add_reps": [new]}, places=False), tables)


def test_added_rep_id_already_taken_is_an_error(small):
    _, tables, scenario = small
    with pytest.raises(ScenarioError, match="'R02' is already a rep"):
        apply_whatif(
            scenario({"add_reps": [{"rep_id": "R02", "segment": "smb", "lat": 1, "lon": 1}]}),
            tables,
        )


# --------------------------------------------------------------------------- remove_reps


def test_removed_rep_leaves_the_table_but_keeps_its_accounts_as_old_owner(small):
    _, tables, scenario = small
    out = apply_whatif(scenario({"remove_reps": ["R02"]}), tables)
    assert list(out.reps["rep_id"]) == ["R01", "R03"]
    owners = out.accounts.set_index("account_id")["current_rep_id"]
    assert owners["A02"] == owners["A03"] == "R02"  # so they count as moved
    # The owner check accepts the removed rep, and only it.
    check_account_owners(out.accounts, out.reps, accounts_file="accounts.csv", removed=["R02"])
    with pytest.raises(InputError, match="current_rep_id"):
        check_account_owners(out.accounts, out.reps, accounts_file="accounts.csv")


def test_removing_an_unknown_rep_suggests_the_id(small):
    _, tables, scenario = small
    with pytest.raises(ScenarioError, match=r"'R2' is not a rep_id .*did you mean 'R02'"):
        apply_whatif(scenario({"remove_reps": ["R2"]}), tables)


def test_a_lock_to_a_removed_rep_is_an_error(small):
    _, tables, scenario = small
    sc = scenario(
        {"remove_reps": ["R02"]}, constraints={"locks": [{"account": "A02", "rep": "R02"}]}
    )
    with pytest.raises(ScenarioError, match="account A02 is locked to rep R02, whom whatif"):
        apply_whatif(sc, tables)


def test_removing_every_rep_of_a_segment_says_which_accounts_need_one(small):
    _, tables, scenario = small
    with pytest.raises(InfeasibleError, match=r"every smb rep \(R03\), but 2 smb accounts"):
        apply_whatif(scenario({"remove_reps": ["R03"]}), tables)


# --------------------------------------------------------------------------- lock_accounts


def test_lock_accounts_expand_into_constraints_locks_inline_and_from_a_file(small):
    tmp, tables, scenario = small
    (tmp / "locks.csv").write_text("account_id,note\nA02,key\nA03,\nA02,twice\n", encoding="utf-8")
    sc = scenario(
        {
            "lock_accounts": [
                {"rep": "R01", "accounts": ["A01"]},
                {"rep": "R02", "file": str(tmp / "locks.csv")},
            ]
        },
        constraints={"locks": [{"account": "A01", "rep": "R01"}]},
    )
    expanded = expand_lock_accounts(sc)
    locks = [(lk.account, lk.rep) for lk in expanded.constraints.locks]
    assert locks == [("A01", "R01"), ("A02", "R02"), ("A03", "R02")]
    assert expand_lock_accounts(expanded).constraints.locks == expanded.constraints.locks
    check_lock_accounts(expanded, tables.accounts)  # every id is an account


def test_lock_file_with_an_unknown_account_names_file_row_and_column(small):
    tmp, tables, scenario = small
    (tmp / "locks.csv").write_text("account_id\nA02\nA3\n", encoding="utf-8")
    sc = scenario({"lock_accounts": [{"rep": "R02", "file": str(tmp / "locks.csv")}]})
    with pytest.raises(InputError) as err:
        check_lock_accounts(sc, tables.accounts)
    assert (err.value.file, err.value.row, err.value.column) == (
        str(tmp / "locks.csv"),
        3,
        "account_id",
    )
    assert "did you mean 'A03'?" in str(err.value)


def test_an_account_locked_to_two_reps_is_an_error(small):
    _, _, scenario = small
    sc = scenario(
        {"lock_accounts": [{"rep": "R02", "accounts": ["A01"]}]},
        constraints={"locks": [{"account": "A01", "rep": "R01"}]},
    )
    with pytest.raises(ScenarioError, match="A01 is locked to rep R02 here and to rep R01"):
        expand_lock_accounts(sc)


def test_lock_file_is_relative_to_the_scenario_that_names_it(tmp_path, baseline_scenario_file):
    (tmp_path / "locks.csv").write_text("account_id\nA000010\nA000011\n", encoding="utf-8")
    variant = tmp_path / "variant.yaml"
    variant.write_text(
        f"extends: {baseline_scenario_file}\nname: locks\n"
        "whatif: {lock_accounts: [{rep: R06, file: locks.csv}]}\n",
        encoding="utf-8",
    )
    sc = load_scenario(variant)
    assert sc.whatif.lock_accounts[0].file == tmp_path / "locks.csv"
    assert [(lk.account, lk.rep) for lk in sc.constraints.locks] == [
        ("A000003", "R06"),
        ("A000010", "R06"),
        ("A000011", "R06"),
    ]


# --------------------------------------------------------------------------- target_change


def _quota_inputs(n: int = 3) -> QuotaInputs:
    return QuotaInputs(
        territory_id=[f"T{i}" for i in range(n)],
        rep_id=[f"R{i}" for i in range(n)],
        history=np.array([123_456.78, 234_567.89, 345_678.91]),
        potential=np.array([500_000.0, 700_000.0, 900_000.0]),
        capacity=np.ones(n),
        last_year_revenue_total=703_703.58,
    )


@pytest.mark.parametrize("target", [None, 2_000_000.0])
def test_target_change_scales_the_target_exactly_to_the_cent(target):
    from territory_engine.config.scenario import QuotaConfig

    cfg = QuotaConfig(method="blended", target=target, growth=0.08, rounding=1000)
    base = target if target is not None else 1.08 * 703_703.58
    plain = allocate(cfg, _quota_inputs())
    changed = allocate(cfg, _quota_inputs(), target_change=0.05)
    assert plain.summary["target"] == round(base, 2)
    assert changed.summary["target"] == round(base * 1.05, 2)
    cents = np.round(changed.quotas["quota"].to_numpy() * 100).astype(np.int64)
    assert int(cents.sum()) == round(base * 1.05 * 100)
    assert changed.quotas["quota"].sum() > plain.quotas["quota"].sum()


def test_target_change_scales_regional_targets_too():
    from territory_engine.config.scenario import QuotaConfig

    regions = {"East": {"members": ["GA"], "target": 1_000_000}, "West": {"members": ["TN"]}}
    cfg = QuotaConfig(method="potential", target=1_500_000, rounding=1, regions=regions)
    inputs = _quota_inputs()
    inputs = QuotaInputs(**{**inputs.__dict__, "region_key": np.array(["GA", "TN", "TN"])})
    out = allocate(cfg, inputs, target_change=0.10)
    pools = {p["name"]: p["target"] for p in out.summary["pools"]}
    assert pools == {"region East": 1_100_000.0, "company": 550_000.0}
    assert out.quotas["quota"].sum() == pytest.approx(1_650_000.0, abs=0.005)


# --------------------------------------------------------------------------- diff-scenarios


def test_a_two_line_variant_diffs_to_exactly_its_keys(tmp_path, baseline_scenario_file):
    variant = tmp_path / "variant.yaml"
    variant.write_text(
        f"extends: {baseline_scenario_file}\n"
        "balance: {potential: {tolerance: 0.03}}\n"
        "whatif: {target_change: 0.05}\n",
        encoding="utf-8",
    )
    base = load_scenario(baseline_scenario_file)
    diffs = diff_scenarios(base, load_scenario(variant))
    assert [(d.setting, d.a, d.b) for d in diffs] == [
        ("balance.potential.tolerance", 0.05, 0.03),
        ("whatif.target_change", 0.0, 0.05),
    ]
    assert diff_scenarios(base, base) == []


def test_diff_shows_absent_settings_lists_whole_and_paths_relative(
    tmp_path, baseline_scenario_file
):
    variant = tmp_path / "variant.yaml"
    variant.write_text(
        f"extends: {baseline_scenario_file}\n"
        "balance: {accounts: {low: 80, high: 160}}\n"
        "whatif: {remove_reps: [R07]}\n"
        "output: {folder: out/v}\n",
        encoding="utf-8",
    )
    diffs = {
        d.setting: d
        for d in diff_scenarios(
            load_scenario(baseline_scenario_file), load_scenario(variant), relative_to=tmp_path
        )
    }
    assert set(diffs) == {"balance.accounts", "whatif.remove_reps", "output.folder"}
    assert diffs["balance.accounts"].a is MISSING
    assert format_value(diffs["balance.accounts"].a) == "(absent)"
    assert format_value(diffs["balance.accounts"].b) == "{low: 80, high: 160}"
    assert (diffs["whatif.remove_reps"].a, diffs["whatif.remove_reps"].b) == ([], ["R07"])
    assert format_value(diffs["whatif.remove_reps"].b) == "[R07]"
    assert diffs["output.folder"].b == "out/v"  # under tmp_path: shown relative
    assert Path(diffs["output.folder"].a).is_absolute()  # elsewhere: kept absolute


# --------------------------------------------------------------------------- command line


def _cli(*args: str, repo_root: Path, cwd: Path) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, repo_root=repo_root, timeout=180)


def test_diff_scenarios_command_prints_the_differences_and_exits_0(repo_root):
    scenarios = repo_root / "scenarios"
    done = _cli(
        "diff-scenarios",
        "scenarios/fy_baseline.yaml",
        "scenarios/whatif_remove_rep.yaml",
        "--json",
        repo_root=repo_root,
        cwd=repo_root,
    )
    assert done.returncode == 0, done.stderr
    rows = {d["setting"]: d for d in json.loads(done.stdout)["differences"]}
    assert set(rows) == {"name", "output.folder", "whatif.remove_reps"}
    assert rows["output.folder"]["b"] == "out/whatif_remove_rep"
    assert rows["whatif.remove_reps"]["b"] == ["R07"]
    text = _cli(
        "diff-scenarios",
        str(scenarios / "fy_baseline.yaml"),
        str(scenarios / "whatif_tight_balance.yaml"),
        repo_root=repo_root,
        cwd=repo_root,
    )
    assert text.returncode == 0, text.stderr
    assert "balance.potential.tolerance" in text.stdout and "0.03" in text.stdout
    assert "data.accounts" not in text.stdout


def test_hired_rep_gets_a_territory_with_accounts(repo_root, tmp_path):
    out = tmp_path / "plan"
    done = _cli(
        "run",
        "scenarios/whatif_hire_jackson.yaml",
        "-o",
        str(out),
        "--time-limit",
        "20",
        "-q",
        repo_root=repo_root,
        cwd=repo_root,
    )
    assert done.returncode == 0, done.stderr
    reps = pd.read_csv(out / "reps.csv", dtype=str).set_index("rep_id")
    assert reps.at["R46", "home_city"] == "Jackson, MS"
    assert reps.at["R46", "territory_id"] == "T-R46"
    territories = pd.read_csv(out / "territories.csv", dtype={"rep_id": str}).set_index("rep_id")
    assert territories.at["R46", "n_accounts"] > 20
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    owned = assignments[assignments["rep_id"] == "R46"]
    assert len(owned) == territories.at["R46", "n_accounts"]
    accounts = pd.read_csv(repo_root / "data" / "accounts.csv", dtype=str).set_index("account_id")
    assert set(accounts.loc[owned["account_id"], "segment"]) == {"commercial"}
    quotas = pd.read_csv(out / "quotas.csv", dtype={"rep_id": str}).set_index("rep_id")
    assert 0 < quotas.at["R46", "ramp_factor"] < 1  # a new hire ramps from the plan start


def test_removed_rep_owns_nothing_and_their_accounts_count_as_moved(repo_root, tmp_path):
    out = tmp_path / "plan"
    done = _cli(
        "run",
        "scenarios/whatif_remove_rep.yaml",
        "-o",
        str(out),
        "--time-limit",
        "20",
        "-q",
        repo_root=repo_root,
        cwd=repo_root,
    )
    # Within 20 s the plan may still break a band elsewhere (exit 3); it is written either way.
    assert done.returncode in (0, 3), done.stderr
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    assert not (assignments["rep_id"] == "R07").any()
    theirs = assignments[assignments["previous_rep_id"] == "R07"]
    assert len(theirs) > 0
    assert (theirs["moved"] == "True").all()
    assert (theirs["rep_id"] != "").all()
    assert "R07" not in set(pd.read_csv(out / "reps.csv", dtype=str)["rep_id"])
    card = json.loads((out / "scorecard.json").read_text())
    assert card["disruption"]["moved_accounts"] >= len(theirs)
