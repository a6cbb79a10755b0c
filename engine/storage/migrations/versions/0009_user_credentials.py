"""Admin UI sign-in: users' password hashes and the installation's session secret.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from engine.storage.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_credentials",
        sa.Column("tenant_id", sa.String(63), nullable=False),
        sa.Column("user_id", sa.String(63), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name="pk_user_credentials"),
    )
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_app_secrets"),
    )


def downgrade() -> None:
    op.drop_table("app_secrets")
    op.drop_table("user_credentials")
