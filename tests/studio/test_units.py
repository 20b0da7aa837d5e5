"""Unit tests of the studio's pieces, on a fresh database and no plan folder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from territory_engine.errors import InputError
from territory_engine.studio import audit
from territory_engine.studio.auth import (
    LockedOut,
    Policy,
    current_session,
    end_session,
    sign_in,
)
from territory_engine.studio.db import open_database, server_secret
from territory_engine.studio.models import AuditEntry, PlanVersion, UserSession, utcnow
from territory_engine.studio.security import (
    CookieSigner,
    hash_password,
    token_hash,
    tokens_match,
    verify_password,
)
from territory_engine.studio.users import add_user, parse_scope, remove_user, set_password
from territory_engine.studio.workflow import (
    AlreadyPublished,
    IllegalTransition,
    StaleVersion,
    allowed_actions,
    apply_transition,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def factory(tmp_path):
    return open_database(f"sqlite:///{tmp_path / 'studio.sqlite'}")


@pytest.fixture
def people(factory):
    with factory() as db:
        add_user(db, "pat", "planner", PASSWORD)
        add_user(db, "max", "manager", PASSWORD, scope="team:smb")
        add_user(db, "rae", "rep", PASSWORD, rep_id="R01")
    return factory


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


def _user(db, name):
    from territory_engine.studio.models import User

    return db.scalar(select(User).where(User.username == name))


# ---------------------------------------------------------------- passwords and tokens


def test_password_hash_is_argon2_salted_and_verifies_only_the_right_password(
    _cheap_password_hashing,
):
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$")
    # the production hasher uses at least the RFC 9106 low-memory profile
    production = _cheap_password_hashing
    assert production.memory_cost >= 64 * 1024 and production.time_cost >= 3
    assert first != second  # salted
    assert verify_password(first, PASSWORD) == (True, False)
    assert verify_password(first, PASSWORD + "x")[0] is False
    assert verify_password(None, PASSWORD)[0] is False  # unknown user
    assert verify_password("not a hash", PASSWORD)[0] is False


def test_tokens_match_only_equal_non_empty_tokens():
    assert tokens_match("abc", "abc")
    assert not tokens_match("abc", "abd")
    assert not tokens_match("abc", None)
    assert not tokens_match(None, None)
    assert not tokens_match("", "")


def test_cookie_signer_refuses_tampered_values_and_other_salts():
    signer = CookieSigner("k" * 32, "session")
    signed = signer.sign("token")
    assert signer.unsign(signed) == "token"
    assert signer.unsign(signed[:-2] + "xx") is None
    assert CookieSigner("k" * 32, "login").unsign(signed) is None
    assert CookieSigner("other" * 8, "session").unsign(signed) is None


def test_server_secret_is_made_once_and_kept(factory):
    assert server_secret(factory) == server_secret(factory)
    assert len(server_secret(factory)) >= 40


def test_users_add_refuses_bad_input(factory):
    with factory() as db:
        with pytest.raises(InputError, match="at least 10 characters"):
            add_user(db, "ann", "planner", "short")
        with pytest.raises(InputError, match="role 'boss'"):
            add_user(db, "ann", "boss", PASSWORD)
        with pytest.raises(InputError, match="needs --rep-id"):
            add_user(db, "ann", "rep", PASSWORD)
        with pytest.raises(InputError, match="needs --scope"):
            add_user(db, "ann", "manager", PASSWORD)
        with pytest.raises(InputError, match="user name"):
            add_user(db, "'; DROP TABLE users; --", "planner", PASSWORD)
        add_user(db, "ann", "planner", PASSWORD)
        with pytest.raises(InputError, match="exists already"):
            add_user(db, "ann", "planner", PASSWORD)
    with pytest.raises(InputError, match="KIND:VALUE"):
        parse_scope("teem:smb")
    assert parse_scope("reps:R01,R02") == ("reps", "R01,R02")


# ---------------------------------------------------------------- sessions and throttling


def test_session_ends_at_sign_out_on_the_server(people):
    policy = Policy()
    with people() as db:
        signed = sign_in(db, "pat", PASSWORD, "10.0.0.1", policy)
        assert signed is not None
        assert db.get(UserSession, token_hash(signed.token)) is not None
        assert db.get(UserSession, signed.token) is None  # only the hash is stored
        assert current_session(db, signed.token, policy)[0].username == "pat"
        end_session(db, signed.token)
        assert current_session(db, signed.token, policy) is None


def test_session_expires_when_idle_and_absolutely(people):
    policy = Policy()
    with people() as db:
        idle = sign_in(db, "pat", PASSWORD, "c", policy)
        db.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_hash(idle.token))
            .values(last_seen=utcnow() - policy.idle - timedelta(seconds=1))
        )
        db.commit()
        assert current_session(db, idle.token, policy) is None
        assert db.get(UserSession, token_hash(idle.token)) is None  # removed
        old = sign_in(db, "pat", PASSWORD, "c", policy)
        db.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_hash(old.token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.commit()
        assert current_session(db, old.token, policy) is None


def test_failed_sign_ins_lock_the_user_even_with_the_right_password(people):
    policy = Policy(max_user_failures=3)
    with people() as db:
        for _ in range(3):
            assert sign_in(db, "pat", "wrong password!", "c1", policy) is None
        with pytest.raises(LockedOut, match=r"locked for 15 more minutes"):
            sign_in(db, "pat", PASSWORD, "c2", policy)
        # another user is not locked
        assert sign_in(db, "max", PASSWORD, "c1", policy) is not None
        actions = [e.action for e in audit.entries(db)]
    assert actions.count("sign_in_failed") == 4  # three wrong, one refused while locked
    assert actions.count("lock_out") == 1


def test_failures_from_one_client_lock_that_client(people):
    policy = Policy(max_user_failures=100, max_client_failures=4)
    with people() as db:
        for name in ("a1", "a2", "a3", "a4"):
            sign_in(db, name, "wrong password!", "6.6.6.6", policy)
        with pytest.raises(LockedOut):
            sign_in(db, "pat", PASSWORD, "6.6.6.6", policy)
        assert sign_in(db, "pat", PASSWORD, "7.7.7.7", policy) is not None


def test_the_lock_ends_after_the_lockout(people):
    policy = Policy(max_user_failures=2, lockout=timedelta(seconds=0))
    with people() as db:
        sign_in(db, "pat", "wrong password!", "c", policy)
        sign_in(db, "pat", "wrong password!", "c", policy)
        assert sign_in(db, "pat", PASSWORD, "c", policy) is not None


def test_set_password_and_remove_end_the_users_sessions(people):
    policy = Policy()
    with people() as db:
        signed = sign_in(db, "rae", PASSWORD, "c", policy)
        set_password(db, "rae", "another long password")
        assert current_session(db, signed.token, policy) is None
        assert sign_in(db, "rae", PASSWORD, "c", policy) is None
        again = sign_in(db, "rae", "another long password", "c", policy)
        remove_user(db, "rae")
        assert current_session(db, again.token, policy) is None
        with pytest.raises(InputError, match="no user 'pta' \\(did you mean 'pat'"):
            remove_user(db, "pta")


# ---------------------------------------------------------------- workflow


def test_the_workflow_goes_draft_submitted_approved_published(people):
    with people() as db:
        plan = _plan(db, "p1")
        pat, max_ = _user(db, "pat"), _user(db, "max")
        assert allowed_actions(plan, "planner") == ["submit"]
        assert allowed_actions(plan, "manager") == []
        plan = apply_transition(db, plan, "submit", pat, seen_version=1)
        assert (plan.state, plan.version) == ("submitted", 2)
        plan = apply_transition(db, plan, "approve", max_, seen_version=2)
        plan = apply_transition(db, plan, "publish", pat, seen_version=3)
        assert (plan.state, plan.published_year, plan.version) == ("published", 2027, 4)
        assert [e.action for e in audit.entries(db)][:3] == ["publish", "approve", "submit"]


def test_illegal_transitions_are_refused(people):
    with people() as db:
        plan = _plan(db, "p1")
        pat, max_, rae = _user(db, "pat"), _user(db, "max"), _user(db, "rae")
        with pytest.raises(IllegalTransition, match="a draft plan cannot be published"):
            apply_transition(db, plan, "publish", pat, seen_version=1)
        with pytest.raises(IllegalTransition, match="a manager may not submit"):
            apply_transition(db, plan, "submit", max_, seen_version=1)
        with pytest.raises(IllegalTransition, match="a rep may not"):
            apply_transition(db, plan, "approve", rae, seen_version=1)
        with pytest.raises(IllegalTransition, match="unknown action"):
            apply_transition(db, plan, "delete", pat, seen_version=1)
        plan = apply_transition(db, plan, "submit", pat, seen_version=1)
        with pytest.raises(IllegalTransition, match="with a comment"):
            apply_transition(db, plan, "reject", max_, seen_version=2, comment="  ")
        plan = apply_transition(db, plan, "reject", max_, seen_version=2, comment="too wide")
        assert plan.state == "rejected"
        with pytest.raises(IllegalTransition, match="cannot be published"):
            apply_transition(db, plan, "publish", pat, seen_version=3)


def test_two_changes_of_one_version_one_wins_one_is_told_to_reload(people):
    with people() as db_a, people() as db_b:
        plan_a = _plan(db_a, "p1")
        plan_b = db_b.get(PlanVersion, plan_a.id)
        apply_transition(db_a, plan_a, "submit", _user(db_a, "pat"), seen_version=1)
        # b still holds version 1 in memory: its change must not apply
        with pytest.raises(StaleVersion, match="reload"):
            apply_transition(db_b, plan_b, "submit", _user(db_b, "pat"), seen_version=1)
    with people() as db:
        assert db.get(PlanVersion, plan_a.id).version == 2
        assert [e.action for e in audit.entries(db)].count("submit") == 1


def test_only_one_published_plan_per_year_in_the_database(people):
    with people() as db:
        pat, max_ = _user(db, "pat"), _user(db, "max")
        plans = [_plan(db, f"p{i}") for i in range(2)]
        for p in plans:
            p = apply_transition(db, p, "submit", pat, seen_version=1)
            apply_transition(db, p, "approve", max_, seen_version=2)
        first = apply_transition(
            db, db.get(PlanVersion, plans[0].id), "publish", pat, seen_version=3
        )
        with pytest.raises(AlreadyPublished, match="another plan of 2027 is published"):
            apply_transition(db, db.get(PlanVersion, plans[1].id), "publish", pat, seen_version=3)
        # the database itself refuses, not only the Python code
        with pytest.raises(IntegrityError, match="UNIQUE"):
            db.execute(
                update(PlanVersion)
                .where(PlanVersion.id == plans[1].id)
                .values(state="published", published_year=2027)
            )
        db.rollback()
        # a published plan must carry its year: the CHECK constraint
        with pytest.raises(IntegrityError, match="CHECK"):
            db.execute(
                update(PlanVersion).where(PlanVersion.id == plans[1].id).values(state="published")
            )
        db.rollback()
        # another year is fine; withdrawing frees the year
        other = _plan(db, "p9", year=2028)
        other = apply_transition(db, other, "submit", pat, seen_version=1)
        other = apply_transition(db, other, "approve", pat, seen_version=2)
        apply_transition(db, other, "publish", pat, seen_version=3)
        apply_transition(db, first, "withdraw", pat, seen_version=4)
        second = apply_transition(
            db, db.get(PlanVersion, plans[1].id), "publish", pat, seen_version=3
        )
        assert second.state == "published"


def test_audit_log_is_append_only_and_its_csv_is_formula_safe(people):
    with people() as db:
        audit.record(db, '=HYPERLINK("http://x")', "comment", detail="+1 then -2", target="@x")
        db.commit()
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "comment")).one()
        entry.detail = "changed"
        with pytest.raises(audit.AuditLogError, match="append-only"):
            db.commit()
        db.rollback()
        db.delete(db.scalars(select(AuditEntry)).first())
        with pytest.raises(audit.AuditLogError):
            db.commit()
        db.rollback()
        text = audit.audit_csv(audit.entries(db))
    assert "'=HYPERLINK" in text and "'+1 then -2" in text and "'@x" in text
    assert ",=HYPERLINK" not in text
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(db, "x", "hack")


def test_two_concurrent_changes_of_one_version_exactly_one_applies(people):
    import threading

    with people() as db:
        plan_id = _plan(db, "p1").id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        with people() as db:
            plan = db.get(PlanVersion, plan_id)
            user = _user(db, "pat")
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
    with people() as db:
        assert db.get(PlanVersion, plan_id).version == 2
