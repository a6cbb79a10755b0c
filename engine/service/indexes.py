"""Expression indexes for fields a bundle marks `indexed: true` (and rollups' links, sticky
assignment's fields and the dates time-based promotions read).

Each index is on (tenant_id, entity, <the field's SQL expression>) — the very expression that
conditions, filters and sorts generate (see conditions.compile_sql.field_sql), so the planner
can use it for `field == x`, `field < x`, `field in [...]`, `between` and ORDER BY field.
"""

from __future__ import annotations

import hashlib
from datetime import UTC

import sqlalchemy as sa

from engine.conditions import compile_any, entity_scope, reads_clock
from engine.conditions import types as T
from engine.conditions.compile_sql import field_sql
from engine.conditions.nodes import field_names
from engine.config.model import Bundle
from engine.storage import tables as t

_INDEXABLE = frozenset({"text", "integer", "decimal", "date", "datetime", "boolean"})


def field_indexes(bundle: Bundle, dialect: str) -> list[sa.Index]:
    # Built on a copy of the table: an Index joins its table's metadata, and these belong to
    # one bundle, not to the schema the migrations describe.
    records = t.records.to_metadata(sa.MetaData())
    out = []
    links = {(r.source, r.via) for r in bundle.rollups}  # read on every related write
    # sticky assignment looks up the newest owned record with the same value on every create
    sticky = {(r.entity, name) for r in bundle.assignment for name in r.sticky_by}
    swept = _swept(bundle)
    for entity in bundle.entities.values():
        for field in entity.fields.values():
            kind = T.field_type(field.type, field.option_values)
            wanted = field.indexed or (entity.name, field.name) in links | sticky | swept
            if not wanted or kind.name not in _INDEXABLE:
                continue
            expr = field_sql(dialect, field.name, kind, records.c.data)
            digest = hashlib.sha1(f"{entity.name}.{field.name}.{kind.name}".encode()).hexdigest()
            name = f"ix_rec_{entity.name[:20]}_{field.name[:20]}_{digest[:8]}"
            element = sa.Grouping(expr) if dialect == "postgresql" else expr  # (expr) in DDL
            out.append(sa.Index(name, records.c.tenant_id, records.c.entity, element))
            if (entity.name, field.name) in swept:  # sweeps ask "in these pools and due"
                pooled = f"ix_rep_{entity.name[:20]}_{field.name[:20]}_{digest[:8]}"
                out.append(
                    sa.Index(pooled, records.c.tenant_id, records.c.entity, records.c.pool, element)
                )
    return out


def _swept(bundle: Bundle) -> set[tuple[str, str]]:
    """Date and time fields that time-based promotions read: sweeps look for them by pool."""
    out = set()
    for pool_set in bundle.pool_sets.values():
        entity = bundle.entities[pool_set.entity]
        scope = entity_scope(entity, UTC)
        for promotion in pool_set.promotions:
            tree = compile_any(promotion.when, scope)[0].tree
            if reads_clock(tree):
                for name in field_names(tree):
                    if entity.fields[name].type in ("date", "datetime"):
                        out.add((entity.name, name))
    return out


def index_names(conn: sa.Connection) -> set[str]:
    """Names of the records table's indexes (reflection skips expression indexes)."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"
    else:
        query = (
            "SELECT indexname FROM pg_indexes WHERE tablename = 'records' "
            "AND schemaname = current_schema()"
        )
    return {str(name) for name in conn.exec_driver_sql(query).scalars()}


def ensure_indexes(engine: sa.Engine, bundle: Bundle) -> list[str]:
    """Create the bundle's field indexes that do not exist yet; their names."""
    created = []
    with engine.begin() as conn:
        existing = index_names(conn)
        for index in field_indexes(bundle, engine.dialect.name):
            if index.name not in existing:
                index.create(conn)
                created.append(str(index.name))
    return created
