"""Jobs name the record a campaign planned them for: re-planning finds the old plan by index
(a key prefix could not use one).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("record_id", sa.String(36), nullable=True))
    op.create_index("ix_jobs_plans", "jobs", ["tenant_id", "campaign", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_plans", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("record_id")
