"""The planner's map editor: its page, the units' GeoJSON, and re-optimising around edits."""

from __future__ import annotations

import time
from datetime import timedelta

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from territory_engine.plan.reader import read_plan_csv
from territory_engine.store import PlanStore
from tests.studio.conftest import PASSWORD, REPO_ROOT, copy_plan, csrf_of, login, make_studio
from tests.studio.pg import make_studio_on, postgres_database, postgres_server  # noqa: F401

COUNTIES = REPO_ROOT / "data" / "counties.gpkg"


@pytest.fixture(scope="module")
def editor_plan(studio_plan, tmp_path_factory):
    """A copy of the studio plan with a store of its own (new versions land beside it)."""
    folder = copy_plan(studio_plan, tmp_path_factory.mktemp("editor") / "out" / "fy_baseline")
    PlanStore(folder.parent / "plans.sqlite").record_folder(folder)
    return folder


@pytest.fixture(scope="module")
def app_clients(editor_plan, tmp_path_factory):
    from territory_engine.studio.users import add_user

    app = make_studio(editor_plan, tmp_path_factory.mktemp("editor-db"))
    with app.state.factory() as db:
        add_user(db, "planner-2", "planner", PASSWORD)
    made = {}
    for name in ("planner", "planner-2", "mgr-ent", "rep-r01"):
        made[name] = TestClient(app)
        assert login(made[name], name).status_code == 303
    yield made
    for client in made.values():
        client.close()


def neighbour_move(plan, segment: str = "smb") -> tuple[str, str, str]:
    """(unit, its territory, a territory of ``segment`` holding a unit that touches it)."""
    units = read_plan_csv(plan / "units.csv")
    units = units[units["segment"] == segment].set_index("unit_id")["territory_id"]
    shapes = gpd.read_file(COUNTIES, layer="counties")
    shapes["unit_id"] = shapes["unit_id"].astype(str)
    shapes["territory_id"] = shapes["unit_id"].map(units)
    pairs = gpd.sjoin(shapes, shapes, predicate="touches")
    pairs = pairs[pairs["territory_id_left"] != pairs["territory_id_right"]].dropna(
        subset=["territory_id_left", "territory_id_right"]
    )
    first = pairs.sort_values(["unit_id_left", "unit_id_right"]).iloc[0]
    return first["unit_id_left"], first["territory_id_left"], first["territory_id_right"]


def _post(client, url, payload, token=None):
    headers = {"X-CSRF-Token": token if token is not None else csrf_of(client)}
    return client.post(url, json=payload, headers=headers)


def test_units_geojson_holds_every_unit_once_with_its_territory(app_clients, editor_plan):
    data = app_clients["planner"].get("/api/plans/1/units.geojson?segment=smb")
    assert data.status_code == 200 and data.headers["content-type"].startswith("application/geo+")
    features = data.json()["features"]
    ids = [f["properties"]["unit_id"] for f in features]
    counties = gpd.read_file(COUNTIES, layer="counties")
    assert len(ids) == len(set(ids)) == len(counties)
    units = read_plan_csv(editor_plan / "units.csv")
    smb = units[units["segment"] == "smb"].set_index("unit_id")["territory_id"].to_dict()
    assert {f["properties"]["unit_id"]: f["properties"]["territory_id"] for f in features} == smb
    assignments = read_plan_csv(editor_plan / "assignments.csv")
    accounts = read_plan_csv(editor_plan / "accounts.csv")
    mine = assignments.merge(accounts, on="account_id")
    mine = mine[mine["segment"] == "smb"]
    assert sum(f["properties"]["n_accounts"] for f in features) == len(mine)
    assert sum(f["properties"]["potential"] for f in features) == pytest.approx(
        mine["potential"].astype(float).sum()
    )
    one = features[0]
    assert one["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert {"name", "rep_id", "cx", "cy", "workload_hours"} <= set(one["properties"])
    # another segment is another layer of the same units
    enterprise = app_clients["planner"].get("/api/plans/1/units.geojson?segment=enterprise")
    assert len(enterprise.json()["features"]) == len(counties)
    bad = app_clients["planner"].get("/api/plans/1/units.geojson?segment=<script>")
    assert bad.status_code == 400


def test_the_base_state_is_the_plan_rescored_without_a_move(app_clients, editor_plan):
    data = app_clients["planner"].get("/api/plans/1/edit").json()
    assert data["moved_accounts"] == 0 and data["saved"] is None
    saved = read_plan_csv(editor_plan / "territories.csv").set_index("territory_id")
    for row in data["territories"]:
        assert row["potential"] == pytest.approx(float(saved.loc[row["territory_id"], "potential"]))
    assert isinstance(data["broken"], list) and data["headline"]


def test_the_editor_is_for_planners_only(app_clients, editor_plan):
    planner = app_clients["planner"]
    page = planner.get("/plans/1/edit")
    assert page.status_code == 200
    assert 'id="editor-map"' in page.text and "/static/editor.js" in page.text
    assert 'href="/plans/1/edit"' in planner.get("/plans/1").text
    # a manager sees the submitted plan, but neither its editor nor its units
    version = planner.get("/api/plans/1").json()["version"]
    submitted = _post(planner, "/api/plans/1/transition", {"action": "submit", "version": version})
    assert submitted.status_code == 200, submitted.text
    manager, rep = app_clients["mgr-ent"], app_clients["rep-r01"]
    assert manager.get("/plans/1").status_code == 200
    assert 'href="/plans/1/edit"' not in manager.get("/plans/1").text
    unit, _, to = neighbour_move(editor_plan)
    move = {"moves": [{"unit_id": unit, "to_territory_id": to}]}
    for client in (manager, rep):
        assert client.get("/plans/1/edit").status_code == 404
        assert client.get("/api/plans/1/units.geojson").status_code == 404
        assert client.get("/api/plans/1/edit").status_code == 404
        assert _post(client, "/api/plans/1/reoptimise", move).status_code == 404
    for bad in ("999", "1' OR '1'='1", "99999999999999999999", "%27%20OR%201=1"):
        for url in (f"/plans/{bad}/edit", f"/api/plans/{bad}/units.geojson", f"/api/jobs/{bad}"):
            assert planner.get(url).status_code in (400, 404), url
    with TestClient(planner.app) as anonymous:
        assert anonymous.get("/plans/1/edit", follow_redirects=False).status_code == 303
        assert anonymous.get("/api/plans/1/units.geojson").status_code == 401
        assert anonymous.get("/api/jobs/1").status_code == 401


def _wait(client, job_id: int, timeout: float = 150.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}")
        assert job.status_code == 200, job.text
        data = job.json()
        if data["state"] in ("done", "failed") or time.monotonic() > deadline:
            return data
        time.sleep(0.5)


def test_reoptimising_around_edits_keeps_them_and_records_a_version(app_clients, editor_plan):
    planner = app_clients["planner"]
    unit, was, to = neighbour_move(editor_plan)
    move = {"moves": [{"unit_id": unit, "to_territory_id": to}], "time_limit": 2}
    assert _post(planner, "/api/plans/1/reoptimise", move, token="wrong").status_code == 403
    bad = {"moves": [{"unit_id": "nope", "to_territory_id": to}]}
    assert _post(planner, "/api/plans/1/reoptimise", bad).status_code == 400
    assert _post(planner, "/api/plans/1/reoptimise", {**move, "time_limit": -1}).status_code == 400
    started = _post(planner, "/api/plans/1/reoptimise", move)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] in ("queued", "running") and job["time_limit"] == 2
    # one active job per user; nobody else reads it
    assert _post(planner, "/api/plans/1/reoptimise", move).status_code == 409
    assert app_clients["planner-2"].get(f"/api/jobs/{job['id']}").status_code == 404
    assert app_clients["mgr-ent"].get(f"/api/jobs/{job['id']}").status_code == 404
    assert planner.get("/api/jobs/99999").status_code == 404
    done = _wait(planner, job["id"])
    assert done["state"] == "done", done
    assert done["fraction"] == 1.0 and done["result"] is not None
    result = planner.get(f"/api/plans/{done['result']}").json()
    assert result["state"] == "draft"
    with planner.app.state.factory() as db:
        from territory_engine.studio.models import PlanVersion

        row = db.get(PlanVersion, done["result"])
        assert row.parent_id == 1 and row.author == "planner"
        assert row.reason == "re-optimised around 1 edits"
    folder = PlanStore(editor_plan.parent / "plans.sqlite").folder_of(result["plan_id"])
    before = read_plan_csv(editor_plan / "assignments.csv")
    after = read_plan_csv(folder / "assignments.csv")
    accounts = read_plan_csv(editor_plan / "accounts.csv").set_index("account_id")["segment"]
    # every account assigned exactly once, the same accounts as before
    assert after["account_id"].is_unique
    assert set(after["account_id"]) == set(before["account_id"])
    # the planner's unit (its SMB accounts) stayed where they put it
    moved = after[(after["unit_id"] == unit) & (after["account_id"].map(accounts) == "smb")]
    assert len(moved) > 0 and set(moved["territory_id"]) == {to} != {was}
    units = read_plan_csv(folder / "units.csv")
    drawn = units[(units["unit_id"] == unit) & (units["segment"] == "smb")]
    assert drawn["territory_id"].tolist() == [to]
    audit = planner.get("/audit.csv").text
    assert f"job {job['id']}: 1 unit moves locked" in audit
    # the start is audited too (who asked for the run), besides the version it stored
    assert f',reoptimise,plan 1,"job {job["id"]}: 1 unit moves locked, at most 2 s",' in audit
    listed = planner.get("/api/jobs").json()
    assert listed[0]["id"] == job["id"] and listed[0]["state"] == "done"
    assert app_clients["planner-2"].get("/api/jobs").json() == []
    assert app_clients["mgr-ent"].get("/api/jobs").status_code == 404
    # the job's slot is free again: the planner may start the next one
    with planner.app.state.factory() as db:
        from territory_engine.studio.models import Job

        assert db.get(Job, job["id"]).active_user_id is None


def test_jobs_a_dead_server_left_running_fail_on_start_up(app_clients, editor_plan):
    from territory_engine.studio import Policy, create_app
    from territory_engine.studio.models import Job, User, utcnow

    app = app_clients["planner"].app
    with app.state.factory() as db:
        user = db.query(User).filter_by(username="planner-2").one()
        old = utcnow() - timedelta(minutes=10)
        job = Job(
            plan_version_id=1,
            seen_version=1,
            user_id=user.id,
            active_user_id=user.id,
            username=user.username,
            state="running",
            moves="[]",
            time_limit=5,
            fraction=0.3,
            created_at=old,
            heartbeat_at=old,
        )
        db.add(job)
        fresh = Job(**{**_columns(job), "heartbeat_at": utcnow(), "created_at": utcnow()})
        db.commit()
        orphan = job.id
        # a second active job of the same user is refused by the database itself
        db.add(fresh)
        with pytest.raises(Exception, match=r"(?i)unique"):
            db.commit()
        db.rollback()
    url = str(app.state.factory.kw["bind"].url)
    create_app(url, editor_plan.parent / "plans.sqlite", policy=Policy())
    with app.state.factory() as db:
        found = db.get(Job, orphan)
        assert found.state == "failed" and found.active_user_id is None
        assert "server stopped" in found.error
    with TestClient(app) as other:
        assert login(other, "planner-2").status_code == 303
        assert other.get(f"/api/jobs/{orphan}").json()["state"] == "failed"


def _columns(job) -> dict:
    return {
        c: getattr(job, c)
        for c in (
            "plan_version_id",
            "seen_version",
            "user_id",
            "active_user_id",
            "username",
            "state",
            "moves",
            "time_limit",
            "fraction",
        )
    }


def test_units_of_a_plan_without_units_csv_take_their_accounts_territory(editor_plan, tmp_path):
    from territory_engine.plan.reader import read_plan_folder
    from territory_engine.studio.editor import units_geojson

    folder = copy_plan(editor_plan, tmp_path / "plan")
    (folder / "units.csv").unlink()
    features = units_geojson(read_plan_folder(folder), "smb")["features"]
    assignments = read_plan_csv(folder / "assignments.csv")
    accounts = read_plan_csv(folder / "accounts.csv")[["account_id", "segment"]]
    smb = assignments.merge(accounts, on="account_id")
    smb = smb[smb["segment"] == "smb"]
    counts = smb.groupby(["unit_id", "territory_id"]).size()
    most = counts.groupby("unit_id").max()
    got = pd.Series({f["properties"]["unit_id"]: f["properties"]["territory_id"] for f in features})
    held = [counts.get((u, got[u]), 0) for u in most.index]
    assert held == most.tolist()  # each unit goes to a territory holding most of its accounts
    assert (got.drop(most.index) == "").all()


def test_locked_scenario_locks_each_moved_unit_to_its_last_move(editor_plan, tmp_path):
    from territory_engine.plan.reader import read_plan_folder
    from territory_engine.plan.score import resolve_scenario
    from territory_engine.studio.editing import Move, apply_moves
    from territory_engine.studio.reoptimise import MAX_SECONDS, locked_scenario

    folder = copy_plan(editor_plan, tmp_path / "edited")
    plan = read_plan_folder(editor_plan)
    scenario = resolve_scenario(editor_plan, None)
    assert any(lk.account == "A000003" and lk.rep == "R06" for lk in scenario.constraints.locks)
    assignments = read_plan_csv(editor_plan / "assignments.csv")
    strategic = assignments.set_index("account_id").loc["A000003"]
    enterprise = ["T-R05", "T-R04"] if strategic["territory_id"] != "T-R05" else ["T-R04", "T-R03"]
    unit, _, to = neighbour_move(editor_plan)
    moves = [
        Move(unit, to),
        Move(strategic["unit_id"], enterprise[0]),
        Move(strategic["unit_id"], enterprise[1]),  # the later move of the unit wins
    ]
    apply_moves(plan, moves, folder)
    locked = locked_scenario(scenario, folder, moves, 999)
    locks = {lk.account: lk.rep for lk in locked.constraints.locks if lk.account}
    unit_locks = {lk.unit: lk.rep for lk in locked.constraints.locks if lk.unit}
    rep_of = dict(zip(plan.territories["territory_id"], plan.territories["rep_id"], strict=True))
    # each moved unit is locked as a unit (so its polygon stays), to its last move's rep
    assert unit_locks == {unit: rep_of[to], strategic["unit_id"]: rep_of[enterprise[1]]}
    # the planner's move of the strategic account replaces the scenario's own lock of it
    assert locks["A000003"] == rep_of[enterprise[1]]
    assert sum(lk.account == "A000003" for lk in locked.constraints.locks) == 1
    assert locked.solver.time_limit == MAX_SECONDS
    assert locked.whatif.base_plan == folder.resolve()


def test_progress_reports_phases_and_the_solvers_time_in_words():
    from territory_engine.studio.reoptimise import _Reporter

    seen: list[tuple[str, float]] = []
    report = _Reporter(lambda text, fraction: seen.append((text, fraction)), time_limit=10)
    report("load", {})
    report("solve", {})
    report("search", {"pass": 3, "moves": 5, "violation": 0.1})  # too soon after "solve"
    report.last -= 1.0
    report.solve_started -= 5.0
    report("search", {"pass": 4, "moves": 2, "violation": 0.0})
    report("unknown-step", {})
    report("write", {"folder": "/secret/path"})
    texts = [t for t, _ in seen]
    assert texts[0].startswith("1/4") and texts[1].startswith("2/4") and len(seen) == 4
    assert "local search pass 4" in texts[2] and "of 10 s" in texts[2]
    assert seen[2][1] == pytest.approx(0.1 + 0.8 * 0.5, abs=0.05)
    assert texts[3] == "4/4 writing the plan"  # no server path in the planner's text
    assert [f for _, f in seen] == sorted(f for _, f in seen)


@pytest.fixture(scope="module")
def pg_planner(editor_plan, postgres_server):  # noqa: F811
    """A signed-in planner of the studio on PostgreSQL, over the module's plan copy."""
    app = make_studio_on(postgres_database(postgres_server, "te_editor"), editor_plan)
    with TestClient(app) as client:
        assert login(client, "planner").status_code == 303
        yield client
    app.state.factory.kw["bind"].dispose()


def test_on_postgresql_the_editor_serves_and_a_user_has_one_active_job(pg_planner):
    from territory_engine.studio.models import Job, User, utcnow
    from territory_engine.studio.reoptimise import fail_orphans

    assert pg_planner.get("/plans/1/edit").status_code == 200
    features = pg_planner.get("/api/plans/1/units.geojson").json()["features"]
    assert len(features) == len({f["properties"]["unit_id"] for f in features}) > 0
    with pg_planner.app.state.factory() as db:
        user = db.query(User).filter_by(username="planner").one()
        old = utcnow() - timedelta(minutes=5)
        fields = {
            "plan_version_id": 1,
            "seen_version": 1,
            "user_id": user.id,
            "active_user_id": user.id,
            "username": user.username,
            "state": "running",
            "moves": "[]",
            "time_limit": 5,
            "fraction": 0.0,
            "created_at": old,
            "heartbeat_at": old,
        }
        db.add(Job(**fields))
        db.commit()
        db.add(Job(**{**fields, "heartbeat_at": utcnow()}))
        with pytest.raises(Exception, match=r"(?i)unique"):
            db.commit()
        db.rollback()
        assert fail_orphans(db) == 1
        assert db.query(Job).filter(Job.active_user_id.is_not(None)).count() == 0


@pytest.mark.slow
def test_on_postgresql_a_reoptimisation_runs_to_its_new_version(pg_planner, editor_plan):
    unit, _, to = neighbour_move(editor_plan)
    move = {"moves": [{"unit_id": unit, "to_territory_id": to}], "time_limit": 1}
    started = _post(pg_planner, "/api/plans/1/reoptimise", move)
    assert started.status_code == 202, started.text
    done = _wait(pg_planner, started.json()["id"])
    assert done["state"] == "done", done
    assert pg_planner.get(f"/api/plans/{done['result']}").json()["state"] == "draft"
