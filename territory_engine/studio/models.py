"""The studio's own tables (SQLAlchemy 2 declarative models).

The plans themselves live in the plan store and their folders; the studio keeps only
what the web application adds around them: who may sign in, their sessions, the
sign-in attempts (for throttling), each plan version's workflow state, comments and
the audit log. The schema is created and upgraded by the Alembic migrations in
``territory_engine/studio/migrations`` (never by ``create_all``), and every column
type is portable: the same models run on SQLite and PostgreSQL.

Rules the database enforces itself (so that no code path, a second process
included, can break them):

- one published plan per plan year: ``plan_versions.published_year`` is set (to the
  plan year) exactly when the state is ``published``, and it is ``UNIQUE``; NULLs
  do not collide on either engine;
- a role is one of :data:`ROLES` and a state one of :data:`STATES` (``CHECK``);
- a user name is unique.

Times are naive UTC (``TIMESTAMP WITHOUT TIME ZONE``): the same value on both engines,
compared in SQL without a session time zone getting in the way (:func:`utcnow`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "JOB_STATES",
    "ROLES",
    "SCOPE_KINDS",
    "STATES",
    "AuditEntry",
    "Base",
    "Comment",
    "Job",
    "LoginAttempt",
    "PlanVersion",
    "Secret",
    "User",
    "UserSession",
    "utcnow",
]

#: The three roles (see the README's "Territory Studio" section).
ROLES = ("planner", "manager", "rep")
#: What a manager's scope names: rep ids, a segment team, a region, a district, or
#: the manager column of the plan's ``hierarchy.csv``.
SCOPE_KINDS = ("reps", "team", "region", "district", "manager")
#: Workflow states of a plan version.
STATES = ("draft", "submitted", "approved", "rejected", "published")
#: States of a background job (a re-optimisation); the first two are "active".
JOB_STATES = ("queued", "running", "done", "failed")


def utcnow() -> datetime:
    """Now, UTC, without a time zone (how every time of the studio's tables is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Base of the studio's models."""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Secret(Base):
    """Server secrets made on first start (the cookie-signing key)."""

    __tablename__ = "studio_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256), nullable=False)


class User(Base):
    """A person who may sign in.

    ``rep_id`` links a rep user to their rep of the plans; ``scope_kind`` and
    ``scope_value`` give a manager's scope (``scope_value`` is a comma-separated list
    for ``reps``).
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="users_role_known"),
        CheckConstraint(
            f"scope_kind IS NULL OR {_in('scope_kind', SCOPE_KINDS)}", name="users_scope_known"
        ),
        CheckConstraint("role <> 'rep' OR rep_id IS NOT NULL", name="users_rep_has_rep_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(256), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    rep_id: Mapped[str | None] = mapped_column(String(64))
    scope_kind: Mapped[str | None] = mapped_column(String(16))
    scope_value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)


class UserSession(Base):
    """A signed-in session. The cookie holds a random token; only its SHA-256 is stored,
    so a copy of the database does not let anyone take over a session."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)
    last_seen: Mapped[datetime] = mapped_column(DateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)


class LoginAttempt(Base):
    """One sign-in attempt, counted by user name and by client for throttling."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("login_attempts_user", "username", "at"),
        Index("login_attempts_client", "client", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    client: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)


class PlanVersion(Base):
    """One plan of the plan store as the workflow sees it.

    ``version`` is the optimistic lock: every change is an ``UPDATE ... WHERE
    version = <the version the client saw>`` that also increments it, so of two
    concurrent changes of one version exactly one applies.
    """

    __tablename__ = "plan_versions"
    __table_args__ = (
        CheckConstraint(_in("state", STATES), name="plan_versions_state_known"),
        CheckConstraint(
            "(state = 'published' AND published_year IS NOT NULL AND published_year = plan_year) "
            "OR (state <> 'published' AND published_year IS NULL)",
            name="plan_versions_published_year",
        ),
        UniqueConstraint("published_year", name="plan_versions_one_published_per_year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    plan_year: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    published_year: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    author: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)


class Comment(Base):
    """A comment on a plan version, or on one of its territories."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    territory_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)


class AuditEntry(Base):
    """One line of the append-only audit log: who, when, what.

    Rows are only ever inserted; :mod:`territory_engine.studio.audit` refuses any
    update or delete of this table in the session (``before_flush``). ``username`` is
    copied, not joined, so the log still says who after a user is removed.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    target: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(String(64))


class Job(Base):
    """A background job of a planner: a re-optimisation of a plan version around their edits.

    The row is the job's whole state, so any server process (or the job's own child
    process, which writes its progress here) can report it. ``active_user_id`` is the
    user's id exactly while the job is queued or running, and ``UNIQUE``: the database
    itself keeps a user to one active job, whichever process starts the second.
    ``heartbeat_at`` is refreshed by the running child; a server starting up fails the
    active jobs whose heartbeat stopped (their process died with a server).
    """

    __tablename__ = "studio_jobs"
    __table_args__ = (
        CheckConstraint(_in("state", JOB_STATES), name="studio_jobs_state_known"),
        CheckConstraint(
            "(state IN ('queued', 'running') AND active_user_id IS NOT NULL "
            "AND active_user_id = user_id) "
            "OR (state NOT IN ('queued', 'running') AND active_user_id IS NULL)",
            name="studio_jobs_active_user",
        ),
        UniqueConstraint("active_user_id", name="studio_jobs_one_active_per_user"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, default="reoptimise")
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    seen_version: Mapped[int] = mapped_column(Integer, nullable=False)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    active_user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    #: The planner's unit moves, JSON ``[{unit_id, to_territory_id}, ...]``.
    moves: Mapped[str] = mapped_column(Text, nullable=False)
    time_limit: Mapped[float] = mapped_column(Float, nullable=False)
    progress: Mapped[str | None] = mapped_column(Text)
    fraction: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    result_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="SET NULL")
    )
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime())
