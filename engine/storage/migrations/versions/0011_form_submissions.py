"""Public forms: the submissions log (rate limits, report) and the duplicate window.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from engine.storage.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "form_submissions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("form", sa.String(63), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("channel", Json, nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("record_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_form_submissions"),
    )
    op.create_index("ix_form_submissions_form", "form_submissions", ["tenant_id", "form", "at"])
    op.create_index("ix_form_submissions_client", "form_submissions", ["tenant_id", "client", "at"])
    op.create_table(
        "form_dedupe",
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("form", sa.String(63), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "form", "key", name="pk_form_dedupe"),
    )


def downgrade() -> None:
    op.drop_table("form_dedupe")
    op.drop_table("form_submissions")
