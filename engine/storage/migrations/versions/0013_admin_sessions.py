"""Admin UI sessions kept on the server, and failed sign-ins counted per user and per client
address (limits that hold across processes).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from engine.storage.tables import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "admin_sessions",
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(63), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("seen_at", UTCDateTime, nullable=False),
        sa.Column("activation", BigId, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_admin_sessions"),
    )
    op.create_index("ix_admin_sessions_user", "admin_sessions", ["tenant_id", "user_id"])
    op.create_index("ix_admin_sessions_expiry", "admin_sessions", ["tenant_id", "expires_at"])
    op.create_table(
        "sign_in_failures",
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("user_key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "user_key", name="pk_sign_in_failures"),
    )
    op.create_index("ix_sign_in_failures_last", "sign_in_failures", ["tenant_id", "last_at"])
    op.create_table(
        "sign_in_address_failures",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_address_failures"),
    )
    op.create_index(
        "ix_sign_in_address_failures_client",
        "sign_in_address_failures",
        ["tenant_id", "client", "at"],
    )
    op.create_index(
        "ix_sign_in_address_failures_at", "sign_in_address_failures", ["tenant_id", "at"]
    )


def downgrade() -> None:
    op.drop_table("sign_in_address_failures")
    op.drop_table("sign_in_failures")
    op.drop_table("admin_sessions")
