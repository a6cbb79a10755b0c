"""Counts of live records by pool, owner or queue read the index alone: the three indexes end
with deleted_at (the admin UI's board, dashboard and assignment pages count these).

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = ("owner", "pool", "queue")


def upgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_records_{column}", "records")
        op.create_index(
            f"ix_records_{column}", "records", ["tenant_id", "entity", column, "deleted_at"]
        )


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_records_{column}", "records")
        op.create_index(f"ix_records_{column}", "records", ["tenant_id", "entity", column])
