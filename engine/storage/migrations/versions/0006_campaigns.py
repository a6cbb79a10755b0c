"""Campaigns: jobs (the outbox workers run), firings, segment members, notifications and
per-tenant engine state.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from engine.storage.tables import BigId, Json, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Name = sa.String(63)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("run_at", UTCDateTime, nullable=False),
        sa.Column("locked_until", UTCDateTime, nullable=True),
        sa.Column("locked_by", sa.String(100), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("done_at", UTCDateTime, nullable=True),
        sa.Column("campaign", Name, nullable=True),
        sa.Column("firing_id", BigId, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("tenant_id", "key", name="uq_jobs_key"),
    )
    op.create_index("ix_jobs_due", "jobs", ["status", "run_at"])
    op.create_index("ix_jobs_firing", "jobs", ["firing_id"])
    op.create_table(
        "campaign_firings",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("campaign", Name, nullable=False),
        sa.Column("entity", Name, nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("occurrence", sa.String(100), nullable=False),
        sa.Column("variant", sa.String(40), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fired_at", UTCDateTime, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("config_version", sa.Integer, nullable=True),
        sa.Column("goal_until", UTCDateTime, nullable=True),
        sa.Column("converted_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_firings"),
        sa.UniqueConstraint(
            "tenant_id", "campaign", "record_id", "occurrence", name="uq_firings_once"
        ),
    )
    op.create_index("ix_firings_day", "campaign_firings", ["tenant_id", "campaign", "day"])
    op.create_index("ix_firings_record", "campaign_firings", ["tenant_id", "record_id"])
    op.create_table(
        "segment_members",
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("segment", Name, nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("entity", Name, nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "segment", "record_id", name="pk_segment_members"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("user_id", Name, nullable=False),
        sa.Column("entity", Name, nullable=True),
        sa.Column("record_id", sa.String(36), nullable=True),
        sa.Column("campaign", Name, nullable=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("read_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index("ix_notifications_user", "notifications", ["tenant_id", "user_id", "id"])
    op.create_table(
        "tenant_state",
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", Json, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_tenant_state"),
    )


def downgrade() -> None:
    for table in ("tenant_state", "notifications", "segment_members", "campaign_firings", "jobs"):
        op.drop_table(table)
