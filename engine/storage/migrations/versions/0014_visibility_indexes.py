"""Lists filtered by who sees what (issue 16) read indexes alone: a sales rep's counts per pool
(owned by her, or in the public pool) scan an index of pool and owner instead of every record;
a user's records per pool are counted from the owner index.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = "records"


def upgrade() -> None:
    op.drop_index("ix_records_owner", TABLE)
    op.create_index(
        "ix_records_owner", TABLE, ["tenant_id", "entity", "owner", "deleted_at", "pool"]
    )
    # ix_records_pool stays as it is: its live entries per pool are in rowid order (the board's
    # newest cards on SQLite); this one adds the owner for the visibility filter
    op.create_index(
        "ix_records_pool_owner", TABLE, ["tenant_id", "entity", "pool", "deleted_at", "owner"]
    )


def downgrade() -> None:
    op.drop_index("ix_records_pool_owner", TABLE)
    op.drop_index("ix_records_owner", TABLE)
    op.create_index("ix_records_owner", TABLE, ["tenant_id", "entity", "owner", "deleted_at"])
