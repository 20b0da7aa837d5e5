"""The studio's migrations, constraints, workflow and throttling on a real PostgreSQL server.

The server is :mod:`tests.studio.pg`'s (started once per test session by the tests
with ``initdb`` + ``pg_ctl``, from PATH or Debian's /usr/lib/postgresql/N/bin);
each test here gets a database of its own. Without PostgreSQL these tests skip, saying
why. The route × role matrix runs over PostgreSQL too (``tests/studio/test_matrix.py``,
its ``[postgresql]`` cases).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from territory_engine.studio.auth import LockedOut, Policy, current_session, purge, sign_in
from territory_engine.studio.db import make_engine, open_database
from territory_engine.studio.models import LoginAttempt, PlanVersion, UserSession, utcnow
from territory_engine.studio.users import add_user
from territory_engine.studio.workflow import AlreadyPublished, StaleVersion, apply_transition
from tests.studio.conftest import PASSWORD
from tests.studio.pg import postgres_database, postgres_server  # noqa: F401


@pytest.fixture()
def url(postgres_server, request):  # noqa: F811
    """A fresh database of the session's server, named after the test."""
    return postgres_database(postgres_server, f"te_{request.node.name[:40]}".lower())


def _plan(db, plan_id: str, year: int = 2027) -> PlanVersion:
    now = utcnow()
    plan = PlanVersion(
        plan_id=plan_id,
        name=plan_id,
        plan_year=year,
        state="draft",
        version=1,
        created_at=now,
        updated_at=now,
    )
    db.add(plan)
    db.commit()
    return plan


def test_migrations_create_every_table_once(url):
    open_database(url)
    open_database(url)  # migrating twice is a no-op
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"users", "sessions", "login_attempts", "plan_versions", "comments"} <= tables
        assert {"audit_log", "alembic_version"} <= tables
        with engine.connect() as conn:
            heads = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(heads) == 1
        assert engine.dialect.name == "postgresql"
    finally:
        engine.dispose()


def test_one_published_plan_per_year_and_stale_versions(url):
    factory = open_database(url)
    with factory() as db:
        pat = add_user(db, "pat", "planner", PASSWORD)
        plans = [_plan(db, f"p{i}") for i in range(2)]
        other_year = _plan(db, "p2028", year=2028)
        for p in (*plans, other_year):
            p = apply_transition(db, p, "submit", pat, seen_version=1)
            apply_transition(db, p, "approve", pat, seen_version=2)
        apply_transition(db, db.get(PlanVersion, plans[0].id), "publish", pat, seen_version=3)
        with pytest.raises(AlreadyPublished, match="another plan of 2027"):
            apply_transition(db, db.get(PlanVersion, plans[1].id), "publish", pat, seen_version=3)
        with pytest.raises(StaleVersion, match="reload"):
            apply_transition(db, db.get(PlanVersion, plans[1].id), "publish", pat, seen_version=1)
        # another year publishes alongside
        done = apply_transition(
            db, db.get(PlanVersion, other_year.id), "publish", pat, seen_version=3
        )
        assert done.state == "published"
        published = db.scalars(select(PlanVersion.plan_id).where(PlanVersion.state == "published"))
        assert sorted(published) == ["p0", "p2028"]


def test_two_concurrent_transitions_of_one_version_one_applies(url):
    factory = open_database(url)
    with factory() as db:
        pat = add_user(db, "pat", "planner", PASSWORD)
        plan_id = _plan(db, "race").id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        with factory() as db:
            plan = db.get(PlanVersion, plan_id)
            user = db.merge(pat)
            barrier.wait()
            try:
                apply_transition(db, plan, "submit", user, seen_version=1)
                outcomes.append("applied")
            except StaleVersion:
                outcomes.append("stale")

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["applied", "stale"]
    with factory() as db:
        assert db.get(PlanVersion, plan_id).version == 2


def test_throttling_locks_out_and_purging_works(url):
    factory = open_database(url)
    with factory() as db:
        add_user(db, "pat", "planner", PASSWORD)
        policy = Policy(max_user_failures=2)
        signed = sign_in(db, "pat", PASSWORD, "c", policy)
        assert signed is not None
        assert current_session(db, signed.token, policy) is not None
        for _ in range(2):
            assert sign_in(db, "pat", "wrong password!", "c", policy) is None
        with pytest.raises(LockedOut, match="locked"):
            sign_in(db, "pat", PASSWORD, "c", policy)
        # a day later the attempts and the session are gone at the next purge
        for session in db.scalars(select(UserSession)):
            session.expires_at = utcnow() - timedelta(seconds=1)
        for attempt in db.scalars(select(LoginAttempt)):
            attempt.at = utcnow() - timedelta(days=1)
        db.commit()
        assert purge(db, policy) == (1, 3)
        db.commit()
        assert sign_in(db, "pat", PASSWORD, "c", policy) is not None  # no longer locked
