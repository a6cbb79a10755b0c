"""Which records a viewer sees, as SQL: the policy (engine/service/policy.py) describes it,
this module writes the WHERE clause lists, counts and exports add."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from engine.conditions import types as C
from engine.conditions.compile_sql import field_sql
from engine.storage import tables as t


@dataclass(frozen=True, slots=True)
class Visibility:
    """The records of one entity a viewer sees: every one, or those owned by `owners`, those
    in `public_pool`, unowned ones outside `other_public` (the entity's public pool, if any)
    when `unowned`, and those whose `via` reference names a parent the viewer sees."""

    everything: bool = False
    owners: frozenset[str] = frozenset()
    public_pool: str | None = None
    unowned: bool = False
    other_public: str | None = None
    via: tuple[str, str, Visibility] | None = field(default=None)


def visible(
    v: Visibility,
    tenant: str,
    dialect: str,
    table: sa.FromClause = t.records,
    depth: int = 0,
) -> ColumnElement[bool]:
    """The WHERE clause of the records `v` lets a viewer see (`table` is the records table
    or an alias of it)."""
    if v.everything:
        return sa.true()
    c = table.c
    parts: list[ColumnElement[bool]] = []
    if v.owners:
        parts.append(c.owner.in_(sorted(v.owners)))
    if v.public_pool is not None:
        parts.append(c.pool == v.public_pool)
    if v.unowned:
        outside = c.pool.is_(None) | (c.pool != v.other_public) if v.other_public else sa.true()
        parts.append(sa.and_(c.owner.is_(None), outside))
    if v.via is not None:
        name, parent_entity, parent = v.via
        ref = field_sql(dialect, name, C.STRING, c.data)
        up = t.records.alias(f"visible_parent_{depth}")
        parents = sa.select(up.c.id).where(
            up.c.tenant_id == tenant,
            up.c.entity == parent_entity,
            up.c.deleted_at.is_(None),
            visible(parent, tenant, dialect, up, depth + 1),
        )
        parts.append(ref.in_(parents))
    return sa.or_(*parts) if parts else sa.false()
