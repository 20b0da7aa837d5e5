"""The planner's edit endpoint: unit moves re-scored by the public scorer, saved as versions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from territory_engine.plan.reader import read_plan_csv
from territory_engine.store import PlanStore
from tests.studio.conftest import PASSWORD, copy_plan, csrf_of, login, make_studio


@pytest.fixture(scope="module")
def edit_plan(studio_plan, tmp_path_factory):
    """A copy of the studio plan with a store of its own (saved edits land beside it)."""
    folder = copy_plan(studio_plan, tmp_path_factory.mktemp("edit") / "out" / "fy_baseline")
    PlanStore(folder.parent / "plans.sqlite").record_folder(folder)
    return folder


@pytest.fixture(scope="module")
def app_clients(edit_plan, tmp_path_factory):
    app = make_studio(edit_plan, tmp_path_factory.mktemp("edit-db"))
    made = {}
    for name in ("planner", "mgr-ent", "rep-r01"):
        made[name] = TestClient(app)
        assert login(made[name], name).status_code == 303
    return made


def _a_move(plan):
    """A unit of T-R30 (SMB) with SMB accounts, to give to T-R31; and those accounts."""
    assignments = read_plan_csv(plan / "assignments.csv")
    accounts = read_plan_csv(plan / "accounts.csv").set_index("account_id")
    mine = assignments[assignments["territory_id"] == "T-R30"]
    unit = mine["unit_id"].value_counts().index[0]
    moving = mine[mine["unit_id"] == unit]
    return unit, moving, accounts.loc[moving["account_id"], "potential"].astype(float).sum()


def _post(client, payload, token=None):
    headers = {"X-CSRF-Token": token if token is not None else csrf_of(client)}
    return client.post("/api/plans/1/edit", json=payload, headers=headers)


def test_a_move_is_rescored_by_the_public_scorer(app_clients, edit_plan):
    unit, moving, potential = _a_move(edit_plan)
    before = {
        t["territory_id"]: t
        for t in read_plan_csv(edit_plan / "territories.csv").to_dict("records")
    }
    response = _post(
        app_clients["planner"], {"moves": [{"unit_id": unit, "to_territory_id": "T-R31"}]}
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["moved_accounts"] == len(moving) > 0
    after = {t["territory_id"]: t for t in data["territories"]}
    assert after["T-R31"]["potential"] == pytest.approx(
        float(before["T-R31"]["potential"]) + potential
    )
    assert after["T-R30"]["potential"] == pytest.approx(
        float(before["T-R30"]["potential"]) - potential
    )
    assert isinstance(data["broken"], list) and data["saved"] is None
    # a preview changes nothing on disk
    assert read_plan_csv(edit_plan / "assignments.csv")["territory_id"].eq("T-R30").sum() >= len(
        moving
    )


def test_saving_makes_a_new_version_and_a_second_save_of_it_gets_409(app_clients, edit_plan):
    planner = app_clients["planner"]
    unit, _, _ = _a_move(edit_plan)
    version = planner.get("/api/plans/1").json()["version"]
    payload = {
        "moves": [{"unit_id": unit, "to_territory_id": "T-R31"}],
        "save": True,
        "version": version,
        "reason": "balance R31",
    }
    first = _post(planner, payload)
    assert first.status_code == 200, first.text
    saved = first.json()["saved"]
    assert saved["parent_id"] == 1
    second = _post(planner, payload)
    assert second.status_code == 409 and "reload" in second.json()["error"]
    child = planner.get(f"/api/plans/{saved['id']}").json()
    assert child["state"] == "draft" and child["plan_id"] == saved["plan_id"]
    folder = PlanStore(edit_plan.parent / "plans.sqlite").folder_of(saved["plan_id"])
    moved = read_plan_csv(folder / "assignments.csv")
    assert set(moved.loc[moved["unit_id"] == unit, "territory_id"]) >= {"T-R31"}
    assert "save_version" in planner.get("/audit.csv").text
    assert "balance R31" in planner.get("/audit.csv").text


def test_edits_refuse_bad_moves_other_roles_and_missing_csrf(app_clients, edit_plan):
    planner = app_clients["planner"]
    bad_unit = _post(planner, {"moves": [{"unit_id": "99999' OR 1=1", "to_territory_id": "T-R31"}]})
    assert bad_unit.status_code == 400 and "no unit" in bad_unit.json()["error"]
    bad_territory = _post(planner, {"moves": [{"unit_id": "01001", "to_territory_id": "T-NOPE"}]})
    assert bad_territory.status_code == 400 and "T-NOPE" in bad_territory.json()["error"]
    assert _post(planner, {"moves": []}).status_code == 400
    assert _post(planner, {"moves": [{"unit_id": 1}]}).status_code == 400
    save_without_reason = _post(
        planner, {"moves": [{"unit_id": "01001", "to_territory_id": "T-R31"}], "save": True}
    )
    assert save_without_reason.status_code == 400
    move = {"moves": [{"unit_id": "01001", "to_territory_id": "T-R31"}]}
    assert _post(planner, move, token="wrong").status_code == 403
    # the manager cannot see a draft, the rep sees no plan at all
    assert _post(app_clients["mgr-ent"], move).status_code == 404
    assert _post(app_clients["rep-r01"], move).status_code == 404


def test_a_region_manager_is_scoped_by_the_plans_hierarchy_csv(app_clients, edit_plan):
    from territory_engine.studio.users import add_user

    territories = read_plan_csv(edit_plan / "territories.csv")
    east = {"T-R02", "T-R09", "T-R30"}
    hierarchy = territories[["territory_id", "rep_id"]].copy()
    hierarchy["region"] = ["East" if t in east else "West" for t in hierarchy["territory_id"]]
    hierarchy["district"] = "D-" + hierarchy["region"]  # districts nest in regions
    hierarchy["manager"] = "someone"
    hierarchy.to_csv(edit_plan / "hierarchy.csv", index=False)
    app = app_clients["planner"].app
    with app.state.factory() as db:
        add_user(db, "mgr-east", "manager", "correct horse battery", scope="region:East")
    planner = app_clients["planner"]
    version = planner.get("/api/plans/1").json()["version"]
    submitted = planner.post(
        "/api/plans/1/transition",
        json={"action": "submit", "version": version},
        headers={"X-CSRF-Token": csrf_of(planner)},
    )
    assert submitted.status_code == 200, submitted.text
    with TestClient(app) as manager:
        assert login(manager, "mgr-east").status_code == 303
        geo = manager.get("/plans/1/territories.geojson").json()
        assert {f["properties"]["territory_id"] for f in geo["features"]} == east
        assert manager.get("/plans/1/reps/R30").status_code == 200
        assert manager.get("/plans/1/reps/R31").status_code == 404
        move = {"moves": [{"unit_id": "01001", "to_territory_id": "T-R31"}]}
        edit = manager.post(
            "/api/plans/1/edit", json=move, headers={"X-CSRF-Token": csrf_of(manager)}
        )
        assert edit.status_code == 403 and "only a planner" in edit.json()["error"]


def test_two_planners_saving_one_version_at_once_one_wins_the_other_reloads(
    app_clients, edit_plan, monkeypatch
):
    """Both saves pass the cheap version check and write their folders at the same time
    (a barrier holds each inside the folder write until the other arrives); the
    conditional version bump lets exactly one through, the other gets 409 and its
    folder is removed: no lost update, no orphan version."""
    import threading

    from territory_engine.studio import app as studio_app
    from territory_engine.studio.models import PlanVersion
    from territory_engine.studio.users import add_user

    app = app_clients["planner"].app
    with app.state.factory() as db:
        add_user(db, "planner-b", "planner", PASSWORD)
    second = TestClient(app)
    assert login(second, "planner-b").status_code == 303
    planner = app_clients["planner"]
    version = planner.get("/api/plans/1").json()["version"]
    unit, _, _ = _a_move(edit_plan)
    barrier = threading.Barrier(2, timeout=60)
    real = studio_app.save_folder
    written: list = []

    def both_inside(edit, target):
        barrier.wait()
        written.append(target)
        return real(edit, target)

    monkeypatch.setattr(studio_app, "save_folder", both_inside)
    statuses: dict[str, int] = {}

    def save(name, client, to):
        payload = {
            "moves": [{"unit_id": unit, "to_territory_id": to}],
            "save": True,
            "version": version,
            "reason": f"race by {name}",
        }
        statuses[name] = _post(client, payload).status_code

    threads = [
        threading.Thread(target=save, args=("a", planner, "T-R31")),
        threading.Thread(target=save, args=("b", second, "T-R32")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses.values()) == [200, 409], statuses
    with app.state.factory() as db:
        assert db.get(PlanVersion, 1).version == version + 1  # bumped once
        children = db.query(PlanVersion).filter(PlanVersion.reason.like("race by %")).all()
    assert len(children) == 1
    assert len(written) == 2 and sum(p.exists() for p in written) == 1  # the loser's is gone
    second.close()
