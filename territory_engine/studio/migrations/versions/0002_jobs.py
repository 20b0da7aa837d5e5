"""Background jobs: a planner's re-optimisation around their edits, its state and progress.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TZ = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "studio_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "plan_version_id",
            sa.Integer,
            sa.ForeignKey("plan_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seen_version", sa.Integer, nullable=False),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("active_user_id", sa.Integer),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("moves", sa.Text, nullable=False),
        sa.Column("time_limit", sa.Float, nullable=False),
        sa.Column("progress", sa.Text),
        sa.Column("fraction", sa.Float, nullable=False),
        sa.Column("result_id", sa.Integer, sa.ForeignKey("plan_versions.id", ondelete="SET NULL")),
        sa.Column("error", sa.Text),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("started_at", _TZ),
        sa.Column("finished_at", _TZ),
        sa.Column("heartbeat_at", _TZ),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name="studio_jobs_state_known"
        ),
        sa.CheckConstraint(
            "(state IN ('queued', 'running') AND active_user_id IS NOT NULL "
            "AND active_user_id = user_id) "
            "OR (state NOT IN ('queued', 'running') AND active_user_id IS NULL)",
            name="studio_jobs_active_user",
        ),
        sa.UniqueConstraint("active_user_id", name="studio_jobs_one_active_per_user"),
    )
    op.create_index("ix_studio_jobs_plan_version_id", "studio_jobs", ["plan_version_id"])
    op.create_index("ix_studio_jobs_user_id", "studio_jobs", ["user_id"])


def downgrade() -> None:
    op.drop_table("studio_jobs")
