"""The studio's first schema: users, sessions, sign-in attempts, plan versions, comments, audit.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime()


def upgrade() -> None:
    _people()
    _plans()


def _people() -> None:
    """Secrets, users, sessions and sign-in attempts."""
    op.create_table(
        "studio_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("rep_id", sa.String(64)),
        sa.Column("scope_kind", sa.String(16)),
        sa.Column("scope_value", sa.Text),
        sa.Column("created_at", _TZ, nullable=False),
        sa.CheckConstraint("role IN ('planner', 'manager', 'rep')", name="users_role_known"),
        sa.CheckConstraint(
            "scope_kind IS NULL OR scope_kind IN ('reps', 'team', 'region', 'district', 'manager')",
            name="users_scope_known",
        ),
        sa.CheckConstraint("role <> 'rep' OR rep_id IS NOT NULL", name="users_rep_has_rep_id"),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("last_seen", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
    )
    op.create_index("login_attempts_user", "login_attempts", ["username", "at"])
    op.create_index("login_attempts_client", "login_attempts", ["client", "at"])


def _plans() -> None:
    """Plan versions, comments and the audit log."""
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("plan_year", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("published_year", sa.Integer),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("plan_versions.id")),
        sa.Column("author", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'approved', 'rejected', 'published')",
            name="plan_versions_state_known",
        ),
        sa.CheckConstraint(
            "(state = 'published' AND published_year IS NOT NULL AND published_year = plan_year) "
            "OR (state <> 'published' AND published_year IS NULL)",
            name="plan_versions_published_year",
        ),
        sa.UniqueConstraint("published_year", name="plan_versions_one_published_per_year"),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "plan_version_id",
            sa.Integer,
            sa.ForeignKey("plan_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("territory_id", sa.String(64)),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_index("ix_comments_plan_version_id", "comments", ["plan_version_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(256)),
        sa.Column("detail", sa.Text),
        sa.Column("client", sa.String(64)),
    )
    op.create_index("audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "comments",
        "plan_versions",
        "login_attempts",
        "sessions",
        "users",
        "studio_secrets",
    ):
        op.drop_table(table)
