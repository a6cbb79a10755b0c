"""The public forms' rate limits read indexes alone: the form's count covers outcome and
client, the address's count is per form.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLE = "form_submissions"


def upgrade() -> None:
    op.drop_index("ix_form_submissions_form", TABLE)
    op.drop_index("ix_form_submissions_client", TABLE)
    op.create_index(
        "ix_form_submissions_form", TABLE, ["tenant_id", "form", "at", "outcome", "client"]
    )
    op.create_index("ix_form_submissions_client", TABLE, ["tenant_id", "form", "client", "at"])


def downgrade() -> None:
    op.drop_index("ix_form_submissions_form", TABLE)
    op.drop_index("ix_form_submissions_client", TABLE)
    op.create_index("ix_form_submissions_form", TABLE, ["tenant_id", "form", "at"])
    op.create_index("ix_form_submissions_client", TABLE, ["tenant_id", "client", "at"])
