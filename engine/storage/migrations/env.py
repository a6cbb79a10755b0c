"""Alembic environment: run on the connection the caller hands over (see engine.storage.db)."""

from typing import Any

from alembic import context

from engine.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through engine.storage.db.migrate(url)")


def include_object(obj: Any, name: Any, type_: str, reflected: bool, compare_to: Any) -> bool:
    # Field indexes (ix_rec_*) come from bundles (engine.service.indexes), not migrations.
    return not (type_ == "index" and str(name).startswith(("ix_rec_", "ix_rep_")))


context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
