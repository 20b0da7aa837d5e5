"""Managers' compare: two plan versions side by side, scoped like every other route.

Plan A is the studio plan; plan B is A with four units given to another rep: one of
R01 (holding the account named ``<script>``) to R02, one of R02 to R08 (across teams),
one of R08 to R09 and one of R30 to R31. Plan C is a copy of A left in draft. A and B
are submitted, so managers see them. The users are conftest.USERS: a planner, the
enterprise manager (R01–R07), the manager of R08 only, and the reps R01 and R02.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from territory_engine.io.safe_cells import write_csv
from territory_engine.plan.compare import moved_accounts
from territory_engine.plan.reader import read_plan_csv, read_plan_folder
from territory_engine.store import PlanStore
from tests.studio.conftest import SCRIPT_NAME, USERS, copy_plan, csrf_of, login, make_studio

ENTERPRISE = {f"R{i:02d}" for i in range(1, 8)}
#: (from rep, to rep) of plan B's unit moves.
MOVES = [("R01", "R02"), ("R02", "R08"), ("R08", "R09"), ("R30", "R31")]
ROUTES = [
    "/plans/{a}/compare/{b}",
    "/api/plans/{a}/compare/{b}",
    "/api/plans/{a}/compare/{b}/moves.geojson",
]
HOSTILE = ["1' OR '1'='1", "1;DROP TABLE users", "99999999999999999999", "-1", "R01"]


def _move_units(folder, moves) -> None:
    """Give one unit of each ``from`` rep to ``to`` in ``folder`` (assignments, units and
    the territory totals the per-rep changes read)."""
    assignments = read_plan_csv(folder / "assignments.csv")
    units = read_plan_csv(folder / "units.csv")
    accounts = read_plan_csv(folder / "accounts.csv").set_index("account_id")
    script_account = accounts.index[accounts["name"] == SCRIPT_NAME][0]
    for source, target in moves:
        mine = assignments[assignments["rep_id"] == source]
        unit = mine["unit_id"].value_counts().index[0]
        if source == "R01":  # the unit of the account named <script>
            unit = mine.loc[mine["account_id"] == script_account, "unit_id"].iloc[0]
        rows = (assignments["rep_id"] == source) & (assignments["unit_id"] == unit)
        assignments.loc[rows, ["territory_id", "rep_id"]] = [f"T-{target}", target]
        units.loc[units["unit_id"] == unit, "territory_id"] = f"T-{target}"
    write_csv(assignments, folder / "assignments.csv")
    write_csv(units, folder / "units.csv")
    territories = read_plan_csv(folder / "territories.csv")
    potential = accounts["potential"].astype(float)
    grouped = assignments.assign(potential=assignments["account_id"].map(potential))
    totals = grouped.groupby("territory_id").agg(n=("account_id", "size"), p=("potential", "sum"))
    territories["n_accounts"] = territories["territory_id"].map(totals["n"]).fillna(0)
    territories["potential"] = territories["territory_id"].map(totals["p"]).fillna(0.0)
    write_csv(territories, folder / "territories.csv")


@pytest.fixture(scope="module")
def plans(studio_plan, tmp_path_factory):
    """Folders A, B (A with :data:`MOVES`) and C (a copy of A), recorded in that order."""
    base = tmp_path_factory.mktemp("compare") / "out"
    a = copy_plan(studio_plan, base / "plan_a")
    b = copy_plan(studio_plan, base / "plan_b")
    c = copy_plan(studio_plan, base / "plan_c")
    _move_units(b, MOVES)
    store = PlanStore(base / "plans.sqlite")
    for folder in (a, b, c):
        store.record_folder(folder)
    return a, b, c


@pytest.fixture(scope="module")
def users(plans, tmp_path_factory):
    """Signed-in clients of every user; plans 1 (A) and 2 (B) submitted, 3 (C) a draft."""
    app = make_studio(plans[0], tmp_path_factory.mktemp("compare-db"))
    made = {}
    for name in USERS:
        made[name] = TestClient(app)
        assert login(made[name], name).status_code == 303
    planner = made["planner"]
    token = csrf_of(planner)
    for plan in (1, 2):
        done = planner.post(
            f"/api/plans/{plan}/transition",
            json={"action": "submit", "version": 1},
            headers={"X-CSRF-Token": token},
        )
        assert done.status_code == 200 and done.json()["state"] == "submitted", done.text
    yield made
    for client in made.values():
        client.close()


def _foreign(plans, keep: set[str]) -> tuple[list[str], list[str], list[str]]:
    """Rep ids, rep names and account ids outside ``keep`` in both A and B."""
    a, b = read_plan_folder(plans[0]), read_plan_folder(plans[1])
    reps = a.reps[~a.reps["rep_id"].isin(keep)]
    both = a.assignments.merge(b.assignments, on="account_id", suffixes=("_a", "_b"))
    outside = both[~both["rep_id_a"].isin(keep) & ~both["rep_id_b"].isin(keep)]
    names = [n for n in reps["name"] if len(n) > 6]
    return reps["rep_id"].tolist(), names, outside["account_id"].tolist()


def _assert_no_leak(body: str, plans, keep: set[str]) -> None:
    rep_ids, names, accounts = _foreign(plans, keep)
    for rep_id in rep_ids:
        assert not re.search(rf"\b{rep_id}\b", body), f"leaked rep id {rep_id}"
    for name in names:
        assert name not in body, f"leaked rep name {name!r}"
    for account in accounts[:600]:
        assert account not in body, f"leaked account {account}"


def test_the_planner_sees_every_move_as_the_compare_command_computes_them(users, plans):
    a, b = read_plan_folder(plans[0]), read_plan_folder(plans[1])
    expected = moved_accounts(a.assignments, b.assignments, b.accounts, b.reps)
    data = users["planner"].get("/api/plans/1/compare/2").json()
    assert len(data["moves"]) == len(expected) > 0
    assert {(m["from_rep_id"], m["to_rep_id"]) for m in data["moves"]} == set(MOVES)
    assert data["summary"]["moved_potential"] == pytest.approx(expected["potential"].sum())
    deltas = {r["rep_id"]: r for r in data["rep_deltas"]}
    assert len(deltas) == len(a.territories)
    moved_out = expected[expected["from_rep_id"] == "R30"]
    assert deltas["R30"]["n_accounts_delta"] == -len(moved_out)
    assert deltas["R31"]["potential_delta"] == pytest.approx(moved_out["potential"].sum())
    assert any(f["section"] == "disruption" for f in data["fairness"])
    geo = users["planner"].get("/api/plans/1/compare/2/moves.geojson").json()
    assert {f["properties"]["account_id"] for f in geo["features"]} == set(expected["account_id"])


def test_the_enterprise_manager_sees_only_moves_and_reps_of_the_team(users, plans):
    client = users["mgr-ent"]
    data = client.get("/api/plans/1/compare/2").json()
    pairs = {(m["from_rep_id"], m["to_rep_id"]) for m in data["moves"]}
    assert pairs == {("R01", "R02"), ("R02", "")}  # R02 -> R08 leaves the team
    assert {m["to_rep_name"] for m in data["moves"] if not m["to_rep_id"]} == {"outside your scope"}
    assert {r["rep_id"] for r in data["rep_deltas"]} == ENTERPRISE
    assert data["fairness"] and not any("detail" in f["section"] for f in data["fairness"])
    for route in ROUTES:
        response = client.get(route.format(a=1, b=2))
        assert response.status_code == 200, route
        _assert_no_leak(response.text, plans, ENTERPRISE)


def test_the_manager_of_one_rep_sees_that_reps_moves_in_and_out(users, plans):
    client = users["mgr-r08"]
    data = client.get("/api/plans/2/compare/1").json()  # B against A: the reverse moves
    pairs = {(m["from_rep_id"], m["to_rep_id"]) for m in data["moves"]}
    assert pairs == {("R08", ""), ("", "R08")}
    assert [r["rep_id"] for r in data["rep_deltas"]] == ["R08"]
    for route in ROUTES:
        response = client.get(route.format(a=2, b=1))
        assert response.status_code == 200, route
        _assert_no_leak(response.text, plans, {"R08"})


@pytest.mark.parametrize("name", ["rep-r01", "rep-r02"])
def test_a_rep_gets_404_on_every_compare_route(users, name):
    client = users[name]
    for route in [*ROUTES, "/plans/{a}/compare?b={b}"]:
        for a, b in ((1, 2), (2, 1), (1, 1), (1, 3)):
            assert client.get(route.format(a=a, b=b)).status_code == 404, (route, a, b)


def test_a_draft_is_compared_by_the_planner_only(users):
    assert users["planner"].get("/api/plans/1/compare/3").json()["moves"] == []
    for name in ("mgr-ent", "mgr-r08"):
        for route in ROUTES:
            for a, b in ((1, 3), (3, 1), (3, 3)):
                assert users[name].get(route.format(a=a, b=b)).status_code == 404, (name, route)


def test_hostile_or_unknown_ids_are_404_for_everyone(users):
    for name in USERS:
        for bad in HOSTILE:
            for route in ROUTES:
                for a, b in ((bad, 1), (1, bad)):
                    response = users[name].get(route.format(a=a, b=b))
                    assert response.status_code == 404, (name, route, bad)


def test_the_plan_page_offers_the_visible_versions_and_the_pick_redirects(users):
    page = users["mgr-ent"].get("/plans/1").text
    offered = set(re.findall(r'<option value="(\d+)">#', page))
    assert offered == {"2"}  # the draft (3) is not the manager's to see
    planner_page = users["planner"].get("/plans/1").text
    assert set(re.findall(r'<option value="(\d+)">#', planner_page)) == {"2", "3"}
    picked = users["mgr-ent"].get("/plans/1/compare?b=2", follow_redirects=False)
    assert picked.status_code == 303 and picked.headers["location"] == "/plans/1/compare/2"


def test_the_page_has_no_inline_script_and_hostile_names_stay_text(users):
    response = users["planner"].get("/plans/1/compare/2")
    body = response.text
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", body, flags=re.S)
    assert scripts and all('src="/' in attrs and not text.strip() for attrs, text in scripts)
    assert SCRIPT_NAME not in body and "&lt;script&gt;alert(" in body
    assert 'data-moves="/api/plans/1/compare/2/moves.geojson"' in body
    assert 'data-a="/plans/1/territories.geojson"' in body


def test_signed_out_compare_goes_to_sign_in(users):
    with TestClient(users["planner"].app) as anon:
        page = anon.get("/plans/1/compare/2", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"
        assert anon.get("/api/plans/1/compare/2").status_code == 401


def test_the_moves_table_matches_the_json_for_a_manager(users):
    client = users["mgr-ent"]
    data = client.get("/api/plans/1/compare/2").json()
    page = client.get("/plans/1/compare/2").text
    for move in data["moves"]:
        assert move["account_id"] in page
    frame = pd.DataFrame(data["moves"])
    assert (frame["from_rep_id"].isin(ENTERPRISE) | frame["to_rep_id"].isin(ENTERPRISE)).all()


def test_a_rep_page_made_once_for_the_planner_is_still_scoped_for_a_manager(users):
    """Rep pages' parts are kept per loaded plan: a page the planner opened (and so made)
    is still 404 for a manager whose scope does not hold that rep."""
    planner, manager = users["planner"], users["mgr-r08"]
    for route in ("/plans/1/reps/R09", "/api/plans/1/reps/R09/territory.geojson"):
        assert planner.get(route).status_code == 200
        assert manager.get(route).status_code == 404
    first = planner.get("/api/plans/1/reps/R09").json()
    assert planner.get("/api/plans/1/reps/R09").json() == first
    assert {a["rep_id"] for a in first["accounts"]} == {"R09"}
    assert manager.get("/plans/1/reps/R08/accounts.csv").status_code == 200


def test_a_managers_scoped_view_leaves_the_shared_comparison_whole(users):
    """The full comparison of two folders is made once and shared; scoping a manager's
    view of it must not blank anything in what the planner gets afterwards."""
    assert users["mgr-r08"].get("/api/plans/1/compare/2").status_code == 200
    assert users["mgr-ent"].get("/api/plans/1/compare/2").status_code == 200
    data = users["planner"].get("/api/plans/1/compare/2").json()
    assert {(m["from_rep_id"], m["to_rep_id"]) for m in data["moves"]} == set(MOVES)
    assert "outside your scope" not in {m["to_rep_name"] for m in data["moves"]}
