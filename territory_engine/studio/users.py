"""User management (the ``territory-engine users`` commands) and the demo set for the sample.

Every change is audited with the name of the operator (``cli:<OS user>``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from territory_engine.errors import InputError, did_you_mean
from territory_engine.plan.reader import PlanFolder
from territory_engine.studio import audit
from territory_engine.studio.models import ROLES, SCOPE_KINDS, User, UserSession, utcnow
from territory_engine.studio.security import check_password_rules, hash_password

__all__ = [
    "DemoUser",
    "add_user",
    "demo_users",
    "list_users",
    "parse_scope",
    "remove_user",
    "set_password",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True)
class DemoUser:
    """A demo user and the password made for them (printed once)."""

    username: str
    role: str
    password: str
    rep_id: str | None = None
    scope: str | None = None


def parse_scope(scope: str | None) -> tuple[str | None, str | None]:
    """``KIND:VALUE`` (``team:smb``, ``region:South``, ``reps:R01,R02``) as (kind, value)."""
    if scope is None:
        return None, None
    kind, sep, value = scope.partition(":")
    if not sep or kind not in SCOPE_KINDS or not value.strip():
        raise InputError(
            f"--scope {scope!r}: write KIND:VALUE with KIND one of {', '.join(SCOPE_KINDS)}"
            + did_you_mean(kind, SCOPE_KINDS)
        )
    return kind, value.strip()


def _check(username: str, role: str, rep_id: str | None, scope: str | None) -> None:
    if not _NAME.match(username):
        raise InputError(
            f"user name {username!r}: use 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    if role not in ROLES:
        raise InputError(f"role {role!r}: one of {', '.join(ROLES)}" + did_you_mean(role, ROLES))
    if role == "rep" and not rep_id:
        raise InputError(f"user {username!r}: a rep needs --rep-id (their rep_id in the plans)")
    if role == "manager" and not scope:
        raise InputError(f"user {username!r}: a manager needs --scope KIND:VALUE")
    if role != "rep" and rep_id:
        raise InputError(f"user {username!r}: only a rep has a --rep-id")
    if role != "manager" and scope:
        raise InputError(f"user {username!r}: only a manager has a --scope")


def add_user(
    db: Session,
    username: str,
    role: str,
    password: str,
    *,
    rep_id: str | None = None,
    scope: str | None = None,
    operator: str = "cli",
) -> User:
    """Add a user.

    Raises
    ------
    InputError
        A bad name, role, scope or password, or the name is taken.
    """
    _check(username, role, rep_id, scope)
    why = check_password_rules(password)
    if why:
        raise InputError(f"user {username!r}: {why}")
    kind, value = parse_scope(scope)
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise InputError(f"user {username!r} exists already (set-password changes a password)")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        rep_id=rep_id,
        scope_kind=kind,
        scope_value=value,
        created_at=utcnow(),
    )
    db.add(user)
    detail = (
        f"role {role}" + (f", rep {rep_id}" if rep_id else "") + (f", {scope}" if scope else "")
    )
    audit.record(db, operator, "user_add", target=f"user {username}", detail=detail)
    db.commit()
    return user


def _get(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        names = list(db.scalars(select(User.username)))
        raise InputError(f"no user {username!r}" + did_you_mean(username, names))
    return user


def list_users(db: Session) -> list[User]:
    """Every user, by name."""
    return list(db.scalars(select(User).order_by(User.username)))


def remove_user(db: Session, username: str, *, operator: str = "cli") -> None:
    """Remove a user and end their sessions."""
    user = _get(db, username)
    db.execute(delete(UserSession).where(UserSession.user_id == user.id))
    db.delete(user)
    audit.record(db, operator, "user_remove", target=f"user {username}")
    db.commit()


def set_password(db: Session, username: str, password: str, *, operator: str = "cli") -> None:
    """Change a password and end the user's sessions (a stolen session dies with it)."""
    user = _get(db, username)
    why = check_password_rules(password)
    if why:
        raise InputError(f"user {username!r}: {why}")
    user.password_hash = hash_password(password)
    db.execute(delete(UserSession).where(UserSession.user_id == user.id))
    audit.record(db, operator, "user_set_password", target=f"user {username}")
    db.commit()


def _password() -> str:
    return secrets.token_urlsafe(12)


def demo_users(db: Session, plan: PlanFolder, *, operator: str = "cli") -> list[DemoUser]:
    """Seed the demo set for a plan: a planner, a manager per region (or per team when the
    plan has no regions), a rep per rep of the plan.

    Users that exist already are left as they are (and not listed).

    Returns
    -------
    list[DemoUser]
        The users made, with their passwords (shown once, stored only as hashes).
    """
    made: list[DemoUser] = []
    existing = set(db.scalars(select(User.username)))

    def add(username: str, role: str, rep_id: str | None = None, scope: str | None = None):
        if username in existing:
            return
        password = _password()
        add_user(db, username, role, password, rep_id=rep_id, scope=scope, operator=operator)
        existing.add(username)
        made.append(DemoUser(username, role, password, rep_id, scope))

    add("planner", "planner")
    regions: list[str] = []
    hierarchy = plan.path / "hierarchy.csv"
    if hierarchy.is_file():
        from territory_engine.plan.reader import read_plan_csv

        frame = read_plan_csv(hierarchy)
        if "region" in frame:
            regions = sorted({str(r) for r in frame["region"].dropna() if str(r)})
    if not regions and "region" in plan.quotas:
        regions = sorted({str(r) for r in plan.quotas["region"].dropna() if str(r)})
    if regions:
        for region in regions:
            add(f"manager-{_slug(region)}", "manager", scope=f"region:{region}")
    elif "segment" in plan.territories:
        for team in sorted({str(t) for t in plan.territories["segment"].dropna() if str(t)}):
            add(f"manager-{_slug(team)}", "manager", scope=f"team:{team}")
    for rep_id in plan.territories["rep_id"].astype(str):
        if rep_id:
            add(f"rep-{_slug(rep_id)}", "rep", rep_id=rep_id)
    return made


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "x"
