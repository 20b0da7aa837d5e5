"""The views on the sample: plan folder extras, report, compare, rep pages and their CLI.

Plan A is the baseline solved once per session; plan B is A with a known set of
accounts handed to other reps (and a scorecard number changed), so every difference
the compare page reports is known in advance.
"""

from __future__ import annotations

import functools
import html as htmllib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from territory_engine.cli.main import app
from territory_engine.plan.compare import moved_accounts, scorecard_deltas
from territory_engine.plan.reader import read_plan_folder
from territory_engine.render.assets import external_references

runner = CliRunner()

#: Accounts plan B hands to another rep: (account_id, new rep) filled by the fixture.
N_MOVES = 12


def sample_plans(plan_a: Path, tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    """Plan A (the solved baseline) and plan B (A with ``N_MOVES`` reassignments).

    Plan A is ``conftest.plan_dir``, solved once per session; plan B is built once
    per session and shared by every module that calls this (it lives under the
    session's base temporary directory).
    """
    base = tmp_path_factory.getbasetemp() / "views_plans"
    b = base / "plan_b"
    expected = base / "expected_moves.csv"
    if not expected.exists():
        base.mkdir(parents=True, exist_ok=True)
        shutil.copytree(plan_a, b)
        assignments = pd.read_csv(b / "assignments.csv", dtype=str, keep_default_na=False)
        territories = pd.read_csv(b / "territories.csv", dtype=str, keep_default_na=False)
        smb = territories[territories["segment"] == "smb"][["territory_id", "rep_id"]]
        first, second = smb.iloc[0], smb.iloc[1]
        # The largest accounts of the first smb rep go to the second smb rep.
        accounts = pd.read_csv(b / "accounts.csv", dtype={"account_id": str})
        mine = assignments[assignments["rep_id"] == first["rep_id"]]["account_id"]
        chosen = (
            accounts[accounts["account_id"].isin(set(mine))]
            .sort_values("potential", ascending=False)["account_id"]
            .head(N_MOVES)
        )
        rows = assignments["account_id"].isin(set(chosen))
        assignments.loc[rows, "territory_id"] = second["territory_id"]
        assignments.loc[rows, "rep_id"] = second["rep_id"]
        assignments.to_csv(b / "assignments.csv", index=False, lineterminator="\n")
        card = json.loads((b / "scorecard.json").read_text(encoding="utf-8"))
        card["balance"]["potential"]["cv"] += 0.01
        (b / "scorecard.json").write_text(json.dumps(card), encoding="utf-8")
        pd.DataFrame(
            {
                "account_id": list(chosen),
                "from_rep_id": first["rep_id"],
                "to_rep_id": second["rep_id"],
            }
        ).to_csv(expected, index=False)
    return plan_a, b, pd.read_csv(expected, dtype=str)


@pytest.fixture(scope="session")
def plans(plan_dir, tmp_path_factory):
    return sample_plans(plan_dir, tmp_path_factory)


@pytest.fixture(scope="session")
def plan_a(plans) -> Path:
    return plans[0]


@pytest.fixture(scope="session")
def compare_dir(plans, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "cmp"
    result = runner.invoke(app, ["compare", str(plans[0]), str(plans[1]), "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def all_reps_dir(plan_a, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reps") / "reps"
    result = runner.invoke(app, ["rep", str(plan_a), "--all-reps", "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


# --------------------------------------------------------------------------- plan folder


def test_plan_folder_has_the_view_files_and_an_offline_report(plan_a):
    for name in ("accounts.csv", "reps.csv", "report.html", "map.html"):
        assert (plan_a / name).stat().st_size > 0, name
    manifest = json.loads((plan_a / "plan.json").read_text(encoding="utf-8"))
    assert {"accounts.csv", "reps.csv", "report.html"} <= set(manifest["files"])
    for page in ("map.html", "report.html"):
        text = (plan_a / page).read_text(encoding="utf-8")
        assert external_references(text) == [], page


def test_accounts_csv_matches_the_input_accounts(plan_a, sample_accounts):
    accounts = pd.read_csv(plan_a / "accounts.csv", dtype={"account_id": str})
    assert list(accounts["account_id"]) == list(sample_accounts["account_id"])
    assert accounts["potential"].sum() == pytest.approx(sample_accounts["potential"].sum())
    assert accounts["lat"].to_numpy() == pytest.approx(sample_accounts["lat"].to_numpy())
    assert {"name", "segment", "lon", "workload_hours"} <= set(accounts.columns)


def test_reps_csv_gives_each_rep_their_territory(plan_a, sample_reps):
    reps = pd.read_csv(plan_a / "reps.csv", dtype=str, keep_default_na=False)
    territories = pd.read_csv(plan_a / "territories.csv", dtype=str)
    assert list(reps["rep_id"]) == list(sample_reps["rep_id"])
    assert dict(zip(reps["rep_id"], reps["territory_id"], strict=True)) == dict(
        zip(territories["rep_id"], territories["territory_id"], strict=True)
    )


def test_report_shows_scorecard_charts_and_every_territory(plan_a):
    page = (plan_a / "report.html").read_text(encoding="utf-8")
    card = json.loads((plan_a / "scorecard.json").read_text(encoding="utf-8"))
    territories = pd.read_csv(plan_a / "territories.csv", dtype=str)
    for title in ("potential: load vs fair share", "workload hours: load vs fair share"):
        assert title in page
    assert "Quota vs territory potential" in page and "Mean travel per territory" in page
    assert page.count("<svg") >= 5
    # One dot per territory in each balance chart.
    chart = page[page.index("potential: load vs fair share") :]
    chart = chart[: chart.index("</svg>")]
    assert chart.count("<circle") == len(territories)
    assert f"{card['balance']['potential']['balance_index']:.1f}" in page
    table = page[page.index('id="territories"') :]
    for tid in territories["territory_id"]:
        assert f"<td>{tid}</td>" in table


# --------------------------------------------------------------------------- compare


def test_compare_writes_page_moves_and_rep_deltas(compare_dir):
    assert sorted(p.name for p in compare_dir.iterdir()) == [
        "compare.html",
        "moves.csv",
        "rep_deltas.csv",
    ]
    assert not [p for p in compare_dir.parent.iterdir() if p.name.startswith(".")]


def test_moves_csv_is_exactly_the_reassigned_accounts(compare_dir, plans):
    expected = plans[2]
    moves = pd.read_csv(compare_dir / "moves.csv", dtype=str)
    assert sorted(moves["account_id"]) == sorted(expected["account_id"])
    assert set(moves["from_rep_id"]) == set(expected["from_rep_id"])
    assert set(moves["to_rep_id"]) == set(expected["to_rep_id"])
    potential = moves["potential"].astype(float)
    assert list(potential) == sorted(potential, reverse=True)


def test_rep_deltas_move_exactly_the_moved_potential(compare_dir, plans):
    # Plan B's territories.csv was not recomputed, so its per-rep totals equal A's:
    # the deltas are zero here; the helper is checked on its own below.
    deltas = pd.read_csv(compare_dir / "rep_deltas.csv", dtype={"rep_id": str})
    assert len(deltas) == 45
    assert {"potential_a", "potential_b", "potential_delta", "quota_delta"} <= set(deltas)


def test_compare_page_has_both_maps_tables_and_the_moves(compare_dir, plans):
    page = (compare_dir / "compare.html").read_text(encoding="utf-8")
    assert external_references(page) == []
    assert page.count('class="folium-map"') == 2
    for table in ('id="fairness"', 'id="rep-deltas"', 'id="moves"'):
        assert table in page
    moves_table = page[page.index('id="moves"') :]
    for account in plans[2]["account_id"]:
        assert f"<td>{account}</td>" in moves_table
    assert "changes rep between A and B" in page  # the map legend of highlighted accounts
    fairness = page[page.index('id="fairness"') : page.index('id="rep-deltas"')]
    assert "+0.010" in fairness  # the cv raised by 0.01 in plan B


def test_scorecard_deltas_mark_the_better_plan():
    a = {"balance": {"potential": {"cv": 0.05, "balance_index": 90.0}}, "territories": [1]}
    b = {"balance": {"potential": {"cv": 0.04, "balance_index": 88.0}}, "extra": 3}
    rows = {r.key: r for r in scorecard_deltas(a, b)}
    assert rows["cv"].delta == pytest.approx(-0.01) and rows["cv"].better == "b"
    assert rows["balance_index"].better == "a"
    assert rows["extra"].a is None and rows["extra"].delta is None
    assert "territories" not in rows


def test_moved_accounts_ignores_renamed_territories_of_the_same_rep():
    a = pd.DataFrame(
        {
            "account_id": ["x", "y", "z"],
            "territory_id": ["T1", "T1", "T2"],
            "rep_id": ["R1"] * 2 + ["R2"],
        }
    )
    b = a.assign(territory_id=["U1", "U2", "U2"], rep_id=["R1", "R2", "R2"])
    accounts = pd.DataFrame(
        {"account_id": ["x", "y", "z"], "name": ["X", "Y", "Z"], "potential": [1, 2, 3]}
    )
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "name": ["Ann", "Bo"]})
    moves = moved_accounts(a, b, accounts, reps)
    assert list(moves["account_id"]) == ["y"]
    assert moves.iloc[0][["from_rep_name", "to_rep_name", "to_territory_id"]].tolist() == [
        "Ann",
        "Bo",
        "U2",
    ]


def test_compare_of_a_missing_folder_fails_in_one_line(tmp_path, plan_a):
    result = runner.invoke(
        app, ["compare", str(plan_a), str(tmp_path / "nope"), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "nope" in result.output and "no plan folder" in result.output
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- rep pages


@functools.cache
def _plan_people(plan: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    reps = pd.read_csv(plan / "reps.csv", dtype=str, keep_default_na=False)
    return reps, read_plan_folder(plan).account_view()


def assert_only_this_rep(page: str, plan: Path, rep_id: str) -> None:
    """Fail if the page names another rep, or holds another rep's account.

    Ids are matched as whole words (``R07`` is not found in ``R070``), names as text.
    """
    reps, accounts = _plan_people(plan)
    words = set(re.findall(r"\w+", page))
    others = reps[reps["rep_id"] != rep_id]
    leaked = sorted(set(others["rep_id"]) & words)
    assert not leaked, f"other reps' ids in the page: {leaked[:5]}"
    for name in others["name"]:
        assert htmllib.escape(name) not in page, name
    own = accounts[accounts["rep_id"] == rep_id]
    foreign = accounts[accounts["rep_id"] != rep_id]
    leaked = sorted(set(foreign["account_id"]) & words)
    assert not leaked, f"other reps' accounts in the page: {leaked[:5]}"
    # Names may repeat or contain one another; check those no own account name holds.
    own_names = list(own["name"])
    names = [n for n in foreign["name"].drop_duplicates() if not any(n in o for o in own_names)]
    for name in pd.Series(names).sample(min(400, len(names)), random_state=7):
        assert htmllib.escape(name) not in page, name


def test_rep_page_shows_their_quota_explanation_and_accounts(plan_a, tmp_path):
    result = runner.invoke(app, ["rep", str(plan_a), "--rep", "R07", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "rep_R07.html").read_text(encoding="utf-8")
    quotas = pd.read_csv(plan_a / "quotas.csv", dtype={"rep_id": str})
    mine = quotas[quotas["rep_id"] == "R07"].iloc[0]
    assert f"${mine['quota']:,.0f}" in page
    assert htmllib.escape(mine["explanation"]) in page
    view = read_plan_folder(plan_a).account_view()
    for account in view[view["rep_id"] == "R07"]["account_id"]:
        assert f"<td>{account}</td>" in page
    assert "team median" in page and "team range" in page
    assert external_references(page) == []


def test_rep_page_holds_nothing_of_any_other_rep(plan_a, tmp_path):
    runner.invoke(app, ["rep", str(plan_a), "--rep", "R07", "-o", str(tmp_path)])
    page = (tmp_path / "rep_R07.html").read_text(encoding="utf-8")
    assert_only_this_rep(page, plan_a, "R07")


def test_the_privacy_check_catches_a_leak(plan_a, tmp_path):
    runner.invoke(app, ["rep", str(plan_a), "--rep", "R07", "-o", str(tmp_path)])
    page = (tmp_path / "rep_R07.html").read_text(encoding="utf-8")
    with pytest.raises(AssertionError):
        assert_only_this_rep(page + "<td>R08</td>", plan_a, "R07")


def test_all_reps_writes_one_private_page_per_rep(all_reps_dir, plan_a):
    territories = pd.read_csv(plan_a / "territories.csv", dtype=str)
    pages = sorted(p.name for p in all_reps_dir.iterdir())
    assert pages == sorted(f"rep_{r}.html" for r in territories["rep_id"])
    for rep_id in ("R01", "R20", "R45"):
        page = (all_reps_dir / f"rep_{rep_id}.html").read_text(encoding="utf-8")
        assert_only_this_rep(page, plan_a, rep_id)


def test_rep_page_shows_the_quarterly_split_when_the_plan_has_one(plan_a, tmp_path):
    plan = tmp_path / "plan"
    shutil.copytree(plan_a, plan)
    quotas = pd.read_csv(plan / "quotas.csv", dtype={"rep_id": str, "territory_id": str})
    rows = []
    for q in quotas.itertuples():
        quarter = q.quota // 4
        for i, period in enumerate(["Q1", "Q2", "Q3", "Q4"]):
            rows.append(
                (q.territory_id, q.rep_id, period, quarter if i < 3 else q.quota - 3 * quarter)
            )
    pd.DataFrame(rows, columns=["territory_id", "rep_id", "period", "quota"]).to_csv(
        plan / "quota_splits.csv", index=False
    )
    result = runner.invoke(app, ["rep", str(plan), "--rep", "R07", "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "o" / "rep_R07.html").read_text(encoding="utf-8")
    split = page[page.index('id="splits"') :]
    mine = quotas[quotas["rep_id"] == "R07"].iloc[0]
    for period in ("Q1", "Q2", "Q3", "Q4"):
        assert f"<td>{period}</td>" in split
    assert f"${mine['quota'] // 4:,.0f}" in split
    assert_only_this_rep(page, plan, "R07")


def test_unknown_rep_fails_with_a_suggestion(plan_a, tmp_path):
    result = runner.invoke(app, ["rep", str(plan_a), "--rep", "R7", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "'R7'" in result.output and "did you mean 'R07'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_rep_needs_exactly_one_of_rep_and_all_reps(plan_a, tmp_path):
    for args in ([], ["--rep", "R07", "--all-reps"]):
        result = runner.invoke(app, ["rep", str(plan_a), *args, "-o", str(tmp_path)])
        assert result.exit_code == 2
        assert "--rep" in result.output


def test_rep_can_be_named(plan_a, tmp_path):
    reps = pd.read_csv(plan_a / "reps.csv", dtype=str)
    name = reps.loc[reps["rep_id"] == "R07", "name"].iloc[0]
    result = runner.invoke(app, ["rep", str(plan_a), "--rep", name.upper(), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rep_R07.html").is_file()
