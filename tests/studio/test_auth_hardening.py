"""Hardening of sign-in and scoping: purged sessions and attempts, managers outside a
plan's territories, reps without a territory in the published plan.

The users are conftest.USERS plus, per module, ``mgr-none`` (a manager of a team the
sample does not have) and ``rep-r99`` (a rep id no plan holds).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from territory_engine.studio.auth import Policy, purge, sign_in
from territory_engine.studio.db import open_database
from territory_engine.studio.models import LoginAttempt, PlanVersion, UserSession, utcnow
from territory_engine.studio.users import add_user
from tests.studio.conftest import PASSWORD, csrf_of, login

EXTRA_USERS = {
    "mgr-none": ("manager", None, "team:no-such-team"),
    "rep-r99": ("rep", "R99", None),
}


def _count(db, model) -> int:
    return int(db.scalar(select(func.count()).select_from(model)))


def _session(user_id: int, name: str, *, age: timedelta, idle: timedelta) -> UserSession:
    now = utcnow()
    return UserSession(
        token_hash=name.ljust(64, "0"),
        user_id=user_id,
        csrf_token="x",
        created_at=now - age,
        last_seen=now - idle,
        expires_at=now - age + Policy.absolute,
    )


@pytest.fixture()
def db(tmp_path):
    factory = open_database(f"sqlite:///{tmp_path / 'studio.sqlite'}")
    with factory() as session:
        yield session


def test_sign_in_purges_expired_sessions_and_attempts_too_old_to_count(db):
    policy = Policy()
    pat = add_user(db, "pat", "planner", PASSWORD)
    db.add_all(
        [
            _session(pat.id, "past-absolute", age=timedelta(hours=9), idle=timedelta(0)),
            _session(pat.id, "idle", age=timedelta(hours=1), idle=timedelta(minutes=31)),
            _session(pat.id, "alive", age=timedelta(hours=1), idle=timedelta(minutes=5)),
        ]
    )
    now = utcnow()
    for minutes, name in ((60, "old"), (20, "older-than-window"), (2, "recent")):
        db.add(
            LoginAttempt(
                username=name, client="c", at=now - timedelta(minutes=minutes), success=False
            )
        )
    db.commit()

    assert sign_in(db, "pat", PASSWORD, "c", policy) is not None

    hashes = set(db.scalars(select(UserSession.token_hash)))
    assert "alive".ljust(64, "0") in hashes
    assert not {"past-absolute".ljust(64, "0"), "idle".ljust(64, "0")} & hashes
    assert len(hashes) == 2  # the live one and the new sign-in's
    names = set(db.scalars(select(LoginAttempt.username)))
    assert names == {"recent", "pat"}  # 20 and 60 minutes are past window and lockout


def test_purging_is_bounded_per_call(db):
    pat = add_user(db, "pat", "planner", PASSWORD)
    long_ago = utcnow() - timedelta(days=3)
    for i in range(7):
        db.add(_session(pat.id, f"dead{i}", age=timedelta(days=3), idle=timedelta(days=3)))
        db.add(LoginAttempt(username=f"u{i}", client="c", at=long_ago, success=False))
    db.commit()
    assert purge(db, Policy(), batch=3) == (3, 3)
    db.commit()
    assert (_count(db, UserSession), _count(db, LoginAttempt)) == (4, 4)
    assert purge(db, Policy(), batch=10) == (4, 4)
    assert purge(db, Policy(), batch=10) == (0, 0)


def test_purging_keeps_a_lock_out_in_force(db):
    policy = Policy(max_user_failures=2)
    add_user(db, "pat", "planner", PASSWORD)
    for _ in range(2):
        assert sign_in(db, "pat", "wrong password!", "c", policy) is None
    purge(db, policy)
    db.commit()
    from territory_engine.studio.auth import LockedOut

    with pytest.raises(LockedOut):
        sign_in(db, "pat", PASSWORD, "c", policy)


# ------------------------------------------------------------------ over HTTP


@pytest.fixture(scope="module")
def extra(studio):
    """Signed-in clients of :data:`EXTRA_USERS`, the planner and the enterprise manager;
    plan 1 submitted."""
    with studio.state.factory() as db:
        for name, (role, rep_id, scope) in EXTRA_USERS.items():
            add_user(db, name, role, PASSWORD, rep_id=rep_id, scope=scope)
    made = {}
    for name in (*EXTRA_USERS, "planner", "mgr-ent"):
        client = TestClient(studio)
        assert login(client, name).status_code == 303
        made[name] = client
    planner = made["planner"]
    submitted = planner.post(
        "/api/plans/1/transition",
        json={"action": "submit", "version": 1},
        headers={"X-CSRF-Token": csrf_of(planner)},
    )
    assert submitted.status_code == 200, submitted.text
    yield made
    for client in made.values():
        client.close()


ROUTES = [
    "/plans/1",
    "/plans/1/territories.geojson",
    "/plans/1/accounts.csv",
    "/api/plans/1",
    "/api/plans/1/territories.geojson",
    "/plans/1/compare/1",
    "/api/plans/1/compare/1",
    "/plans/1/reps/R01",
]


def test_a_manager_whose_scope_holds_none_of_the_plan_gets_404_and_cannot_approve(extra, studio):
    outsider = extra["mgr-none"]
    assert outsider.get("/api/plans").json() == []
    assert "plan #1" not in outsider.get("/plans").text
    for route in ROUTES:
        assert outsider.get(route).status_code == 404, route
    token = csrf_of(outsider)
    for action in ("approve", "reject"):
        api = outsider.post(
            "/api/plans/1/transition",
            json={"action": action, "version": 2, "comment": "no"},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 404, action
        form = outsider.post(
            f"/plans/1/action/{action}",
            data={"csrf_token": token, "version": "2", "comment": "no"},
        )
        assert form.status_code == 404, action
    comment = outsider.post("/plans/1/comments", data={"csrf_token": token, "body": "hi"})
    assert comment.status_code == 404
    with studio.state.factory() as db:
        plan = db.get(PlanVersion, 1)
        assert (plan.state, plan.version) == ("submitted", 2)
    # ...while a manager whose scope holds some of it sees it and may approve
    insider = extra["mgr-ent"]
    assert insider.get("/plans/1").status_code == 200
    assert [p["id"] for p in insider.get("/api/plans").json()] == [1]


def test_a_rep_without_a_territory_in_the_published_plan_gets_the_no_territory_page(extra):
    manager, planner = extra["mgr-ent"], extra["planner"]
    approved = manager.post(
        "/api/plans/1/transition",
        json={"action": "approve", "version": 2},
        headers={"X-CSRF-Token": csrf_of(manager)},
    )
    assert approved.status_code == 200, approved.text
    published = planner.post(
        "/api/plans/1/transition",
        json={"action": "publish", "version": 3},
        headers={"X-CSRF-Token": csrf_of(planner)},
    )
    assert published.json()["state"] == "published"
    rep = extra["rep-r99"]
    home = rep.get("/me")
    assert home.status_code == 200
    assert "No published territory for you yet" in home.text
    assert rep.get("/", follow_redirects=True).url.path == "/me"
    assert rep.get("/plans/1/reps/R99").status_code == 404
    assert rep.get("/api/me").json()["published_plan"] == 1
