"""Ownership clocks on records (protection, reminders), per-user daily counters, and an
index to find a record's unique values.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from engine.storage.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Name = sa.String(63)


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("owner_since", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("protected_until", UTCDateTime, nullable=True))
        batch.add_column(sa.Column("remind_at", UTCDateTime, nullable=True))
    op.create_index("ix_records_protected", "records", ["tenant_id", "entity", "protected_until"])
    op.create_index("ix_records_remind", "records", ["tenant_id", "entity", "remind_at"])
    op.create_index("ix_record_unique_record", "record_unique", ["tenant_id", "record_id"])
    op.create_table(
        "user_counters",
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("user_id", Name, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", "kind", "day", name="pk_user_counters"),
    )


def downgrade() -> None:
    op.drop_table("user_counters")
    op.drop_index("ix_record_unique_record", "record_unique")
    op.drop_index("ix_records_remind", "records")
    op.drop_index("ix_records_protected", "records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("remind_at")
        batch.drop_column("protected_until")
        batch.drop_column("owner_since")
