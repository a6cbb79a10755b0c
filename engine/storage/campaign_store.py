"""Statements on campaign firings and segment members, inside a caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.storage import tables as t
from engine.storage.store import Tx

F = t.campaign_firings.c


def _insert(tx: Tx, table: sa.Table) -> Any:
    return (pg_insert if tx.dialect == "postgresql" else sqlite_insert)(table)


def segments_of(tx: Tx, tenant: str, record_id: str) -> set[str]:
    m = t.segment_members.c
    query = sa.select(m.segment).where(m.tenant_id == tenant, m.record_id == record_id)
    return set(tx.conn.execute(query).scalars())


def join_segments(
    tx: Tx, tenant: str, entity: str, record_id: str, names: Iterable[str], now: datetime
) -> None:
    rows = [
        {"tenant_id": tenant, "segment": s, "record_id": record_id, "entity": entity, "since": now}
        for s in sorted(names)
    ]
    if rows:
        tx.conn.execute(_insert(tx, t.segment_members).values(rows).on_conflict_do_nothing())


def leave_segments(tx: Tx, tenant: str, record_id: str, names: Iterable[str]) -> None:
    m = t.segment_members.c
    names = sorted(names)
    if names:
        where = (m.tenant_id == tenant, m.record_id == record_id, m.segment.in_(names))
        tx.conn.execute(t.segment_members.delete().where(*where))


def insert_firing(tx: Tx, row: dict[str, Any]) -> int | None:
    """The new firing's id; None when this (campaign, record, occurrence) fired already."""
    statement = _insert(tx, t.campaign_firings).values(row).on_conflict_do_nothing()
    found = tx.conn.execute(statement.returning(F.id)).scalar()
    return None if found is None else int(found)


def fired_before(tx: Tx, tenant: str, campaign: str, record_id: str) -> datetime | None:
    """When the campaign last fired for the record (held out or not), if ever."""
    query = sa.select(sa.func.max(F.fired_at)).where(
        F.tenant_id == tenant, F.campaign == campaign, F.record_id == record_id
    )
    found: datetime | None = tx.conn.execute(query).scalar()  # max() keeps the column's type
    return found


def set_firing(tx: Tx, firing_id: int, **values: Any) -> None:
    tx.conn.execute(t.campaign_firings.update().where(F.id == firing_id).values(**values))


def open_goals(tx: Tx, tenant: str, record_id: str, now: datetime) -> list[sa.Row[Any]]:
    """The record's firings whose goal may still be reached."""
    query = sa.select(F.id, F.campaign).where(
        F.tenant_id == tenant,
        F.record_id == record_id,
        F.converted_at.is_(None),
        F.goal_until >= now,
    )
    return list(tx.conn.execute(query))


def stats(tx: Tx, tenant: str, campaign: str, since: date | None) -> list[sa.Row[Any]]:
    """Per variant and day: fired, delivered, failed, held out, converted."""
    query = sa.select(
        F.variant,
        F.day,
        sa.func.count().label("fired"),
        sa.func.count().filter(F.status == "delivered").label("delivered"),
        sa.func.count().filter(F.status == "failed").label("failed"),
        sa.func.count().filter(F.status == "held_out").label("held_out"),
        sa.func.count().filter(F.status == "deferred").label("deferred"),
        sa.func.count(F.converted_at).label("converted"),
    ).where(F.tenant_id == tenant, F.campaign == campaign)
    if since is not None:
        query = query.where(F.day >= since)
    return list(tx.conn.execute(query.group_by(F.variant, F.day).order_by(F.day, F.variant)))


def data_with_columns(dialect: str) -> Any:
    """The data column with the record's pool and owner merged in: what campaign and
    segment conditions read in SQL."""
    r = t.records.c
    if dialect == "postgresql":
        return r.data.op("||")(sa.func.jsonb_build_object("pool", r.pool, "owner", r.owner))
    return sa.func.json_set(r.data, "$.pool", r.pool, "$.owner", r.owner)


def once(tx: Tx, tenant: str, key: str, now: datetime) -> bool:
    """True the first time a key is claimed (in this transaction, committed with it)."""
    row = {"tenant_id": tenant, "key": key, "value": True, "updated_at": now}
    statement = _insert(tx, t.tenant_state).values(row).on_conflict_do_nothing()
    return tx.conn.execute(statement.returning(t.tenant_state.c.key)).first() is not None
