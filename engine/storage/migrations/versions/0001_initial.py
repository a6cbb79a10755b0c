"""Initial schema: tenants, config versions, records, uniques, history, API keys, idempotency.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from engine.storage.tables import BigId, Json, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Name = sa.String(63)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", Name, primary_key=True),
        sa.Column("name", Json, nullable=False),
        sa.Column("active_version", sa.Integer, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
    )
    op.create_table(
        "config_versions",
        sa.Column("tenant_id", Name, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("files", Json, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "number", name="pk_config_versions"),
    )
    op.create_table(
        "records",
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("entity", Name, nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("owner", Name, nullable=True),
        sa.Column("pool", Name, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("config_version", sa.Integer, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("deleted_at", UTCDateTime, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_records"),
    )
    op.create_index("ix_records_list", "records", ["tenant_id", "entity", "created_at", "id"])
    op.create_index("ix_records_owner", "records", ["tenant_id", "entity", "owner"])
    op.create_index("ix_records_pool", "records", ["tenant_id", "entity", "pool"])
    op.create_table(
        "record_unique",
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("entity", Name, nullable=False),
        sa.Column("field", Name, nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "entity", "field", "value", name="pk_record_unique"),
    )
    op.create_table(
        "record_history",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("entity", Name, nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("changes", Json, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_record_history"),
    )
    op.create_index("ix_history_record", "record_history", ["tenant_id", "record_id", "id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("tenant_id", Name, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", Name, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("result", Json, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "api_keys",
        "record_history",
        "record_unique",
        "records",
        "config_versions",
        "tenants",
    ):
        op.drop_table(table)
