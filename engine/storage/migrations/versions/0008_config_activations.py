"""Config activations: which version was switched to, from which, when and by whom.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from engine.storage.tables import BigId, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_activations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("previous", sa.Integer, nullable=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_config_activations"),
    )
    op.create_index("ix_config_activations_tenant", "config_activations", ["tenant_id", "id"])


def downgrade() -> None:
    op.drop_table("config_activations")
