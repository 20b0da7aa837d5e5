"""Sign-in, sessions and throttling: the server side of who is signed in.

- :func:`sign_in` checks the password (Argon2, :mod:`.security`) after the
  throttle: :data:`Policy.max_user_failures` failed sign-ins for one user name, or
  :data:`Policy.max_client_failures` from one client, within
  :data:`Policy.window` lock that name (or client) for :data:`Policy.lockout`; a
  locked sign-in is refused even with the right password, and says for how long.
  Failures, lock-outs and sign-ins are audited.
- A session is a row of ``sessions`` keyed by the SHA-256 of a random token; it
  ends at :data:`Policy.absolute` after sign-in or :data:`Policy.idle` after the
  last request, whichever is first, and at sign-out (the row is deleted, so a copied
  cookie is worthless afterwards).
- Every sign-in also purges (:func:`purge`) up to :data:`PURGE_BATCH` expired
  sessions and sign-in attempts too old to count, so neither table grows without
  bound and no request does more than a bounded amount of that work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from territory_engine.studio import audit
from territory_engine.studio.models import LoginAttempt, User, UserSession, utcnow
from territory_engine.studio.security import (
    hash_password,
    new_token,
    token_hash,
    verify_password,
)

__all__ = [
    "LockedOut",
    "Policy",
    "SignedIn",
    "current_session",
    "end_session",
    "lock_remaining",
    "purge",
    "sign_in",
]


@dataclass(frozen=True)
class Policy:
    """How long sessions last and when sign-in is throttled."""

    #: A session ends this long after sign-in, whatever happens.
    absolute: timedelta = timedelta(hours=8)
    #: A session ends after this long without a request.
    idle: timedelta = timedelta(minutes=30)
    #: Failures counted over this window...
    window: timedelta = timedelta(minutes=15)
    #: ...lock the user name at this many...
    max_user_failures: int = 5
    #: ...or the client at this many (many names from one address)...
    max_client_failures: int = 20
    #: ...for this long after the last failure.
    lockout: timedelta = timedelta(minutes=15)


#: At most this many expired sessions, and as many old sign-in attempts, are deleted per
#: sign-in: the work stays bounded even after a long time without any sign-in.
PURGE_BATCH = 500


class LockedOut(Exception):
    """Too many failed sign-ins; ``minutes`` until the next try is accepted."""

    def __init__(self, minutes: int) -> None:
        super().__init__(
            f"too many failed sign-ins: signing in is locked for {minutes} more "
            f"minute{'s' if minutes != 1 else ''}"
        )
        self.minutes = minutes


@dataclass(frozen=True)
class SignedIn:
    """A new session: the raw token (for the cookie only) and its CSRF token."""

    user: User
    token: str
    csrf_token: str


def _failures(db: Session, column, value: str, since: datetime) -> tuple[int, datetime | None]:
    count, last = db.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            column == value, LoginAttempt.success.is_(False), LoginAttempt.at >= since
        )
    ).one()
    return int(count), last


def lock_remaining(db: Session, username: str, client: str, policy: Policy) -> timedelta | None:
    """How long ``username`` (or ``client``) stays locked, or ``None`` when not locked.

    Only failures since the last successful sign-in of the name count, so a user who
    finally types the right password starts afresh.
    """
    now = utcnow()
    last_ok = db.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.success.is_(True)
        )
    )
    since = now - policy.window
    user_since = max(since, last_ok) if last_ok is not None else since
    remaining: list[timedelta] = []
    for column, value, limit, start in (
        (LoginAttempt.username, username, policy.max_user_failures, user_since),
        (LoginAttempt.client, client, policy.max_client_failures, since),
    ):
        count, last = _failures(db, column, value, start)
        if count >= limit and last is not None and last + policy.lockout > now:
            remaining.append(last + policy.lockout - now)
    return max(remaining) if remaining else None


def purge(db: Session, policy: Policy, *, batch: int = PURGE_BATCH) -> tuple[int, int]:
    """Delete up to ``batch`` expired sessions and ``batch`` sign-in attempts that can no
    longer count (older than both :data:`Policy.window` and :data:`Policy.lockout`).

    Not committed: the caller's transaction carries it.

    Returns
    -------
    tuple of int
        (sessions deleted, attempts deleted).
    """
    now = utcnow()
    dead = (
        select(UserSession.token_hash)
        .where((UserSession.expires_at <= now) | (UserSession.last_seen <= now - policy.idle))
        .limit(batch)
    )
    # The keys are read first and deleted by key: a DELETE with LIMIT is not portable.
    hashes = list(db.scalars(dead))
    if hashes:
        db.execute(delete(UserSession).where(UserSession.token_hash.in_(hashes)))
    horizon = now - max(policy.window, policy.lockout)
    old = select(LoginAttempt.id).where(LoginAttempt.at < horizon).limit(batch)
    ids = list(db.scalars(old))
    if ids:
        db.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(ids)))
    return len(hashes), len(ids)


def _minutes(delta: timedelta) -> int:
    return max(1, -(-int(delta.total_seconds()) // 60))


def sign_in(
    db: Session, username: str, password: str, client: str, policy: Policy
) -> SignedIn | None:
    """Check the name and password; start a session when they are right.

    Returns
    -------
    SignedIn or None
        ``None`` for a wrong name or password (one message for both, so names cannot
        be probed).

    Raises
    ------
    LockedOut
        The name or the client is locked (the attempt is audited, not counted).
    """
    username = username.strip()[:64]
    client = client[:64]
    purge(db, policy)
    remaining = lock_remaining(db, username, client, policy)
    if remaining is not None:
        audit.record(db, username, "sign_in_failed", detail="locked out", client=client)
        db.commit()
        raise LockedOut(_minutes(remaining))
    user = db.scalar(select(User).where(User.username == username))
    ok, rehash = verify_password(user.password_hash if user else None, password)
    now = utcnow()
    db.add(LoginAttempt(username=username, client=client, at=now, success=ok))
    if not ok or user is None:
        audit.record(db, username, "sign_in_failed", client=client)
        db.flush()
        if lock_remaining(db, username, client, policy) is not None:
            audit.record(
                db,
                username,
                "lock_out",
                detail=f"locked for {_minutes(policy.lockout)} minutes",
                client=client,
            )
        db.commit()
        return None
    if rehash:
        user.password_hash = hash_password(password)
    token, csrf = new_token(), new_token()
    db.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen=now,
            expires_at=now + policy.absolute,
        )
    )
    audit.record(db, user.username, "sign_in", client=client)
    db.commit()
    return SignedIn(user, token, csrf)


def current_session(
    db: Session, token: str | None, policy: Policy
) -> tuple[User, UserSession] | None:
    """The user and session of a cookie's token, or ``None`` when unknown or expired.

    An expired session's row is deleted here; a live one's ``last_seen`` moves on.
    """
    if not token:
        return None
    row = db.get(UserSession, token_hash(token))
    if row is None:
        return None
    now = utcnow()
    if row.expires_at <= now or row.last_seen + policy.idle <= now:
        db.delete(row)
        db.commit()
        return None
    user = db.get(User, row.user_id)
    if user is None:
        return None
    # Write last_seen at most once a minute: a page with several requests is one write.
    if now - row.last_seen > timedelta(minutes=1):
        row.last_seen = now
        db.commit()
    return user, row


def end_session(db: Session, token: str | None, client: str | None = None) -> None:
    """Delete the session of ``token`` (sign-out), auditing who signed out."""
    if not token:
        return
    row = db.get(UserSession, token_hash(token))
    if row is None:
        return
    user = db.get(User, row.user_id)
    db.execute(delete(UserSession).where(UserSession.token_hash == row.token_hash))
    audit.record(db, user.username if user else "?", "sign_out", client=client)
    db.commit()
