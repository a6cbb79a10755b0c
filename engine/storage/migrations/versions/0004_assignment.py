"""Assignment: the queue a record waits in, each rule's rotation state, and users
deactivated through the API.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from engine.storage.tables import Json, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Name = sa.String(63)


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("queue", Name, nullable=True))
    op.create_index("ix_records_queue", "records", ["tenant_id", "entity", "queue"])
    op.create_table(
        "assignment_state",
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("state", Json, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_assignment_state"),
    )
    op.create_table(
        "user_status",
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("user_id", Name, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name="pk_user_status"),
    )


def downgrade() -> None:
    op.drop_table("user_status")
    op.drop_table("assignment_state")
    op.drop_index("ix_records_queue", "records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("queue")
