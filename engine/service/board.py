"""The pool board (客户池看板): per pool of a pool set, how many records it holds and its newest
few, plus what the public pool's limits leave a user today.

Every figure is one indexed query per pool (or one GROUP BY), never a loop over records, so the
board stays fast with 100,000 records and more. Given the viewer's policy, counts and cards are
of the records they see, and each card says whether they may move it (edit it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.clock import Clock
from engine.config.model import EntityDef, PoolSetDef
from engine.errors import NotFound
from engine.rules.compiled import CompiledConfig
from engine.service.configs import TenantConfigs
from engine.service.listing import field_expr
from engine.service.owners import CLAIMS
from engine.service.policy import Parents, Policy
from engine.storage import tables as t
from engine.storage.store import Record, Store, Tx
from engine.storage.visibility import visible

PER_COLUMN = 20
# A user's records, counted through the owner index. Left to itself SQLite's planner goes
# through the pool index with some statistics (reading every record of the holding pools:
# 60 ms with 100,000 records, where the owner index takes well under one).
_SQLITE_OWNED = sa.text(
    "SELECT pool, count(*) FROM records INDEXED BY ix_records_owner "
    "WHERE tenant_id = :tenant AND entity = :entity AND owner = :owner AND deleted_at IS NULL "
    "GROUP BY pool"
)


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    title: Any  # the entity's title field as stored (None: no value)
    owner: str | None
    version: int
    created_at: datetime
    editable: bool = True  # whether the viewer may move it (edit the record)
    via: Any = None  # the entity's visible_via reference (its parent's id), if it has one


@dataclass(frozen=True, slots=True)
class Column:
    pool: str
    count: int
    cards: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class Claims:
    """What the public pool's caps leave a user: claims made today, records held."""

    today: int
    daily_cap: int | None
    held: int
    max_holdings: int | None


def title_field(entity: EntityDef) -> str | None:
    """The field that names a record: the entity's `title_field`, else `name`, else its first
    text field."""
    if entity.title_field in entity.fields:
        return entity.title_field
    if "name" in entity.fields:
        return "name"
    return next((f.name for f in entity.fields.values() if f.type in ("string", "text")), None)


def pool_set(cfg: CompiledConfig, name: str) -> PoolSetDef:
    found = cfg.bundle.pool_sets.get(name)
    if found is None:
        raise NotFound(f"no pool set '{name}'")
    return found


class PoolBoard:
    def __init__(self, store: Store, configs: TenantConfigs, clock: Clock) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock

    def columns(
        self, tenant: str, name: str, per_column: int = PER_COLUMN, policy: Policy | None = None
    ) -> list[Column]:
        """Each pool of the pool set in bundle order: its count and newest records (with a
        `policy`, of the records its caller sees, each card marked editable or not)."""
        cfg = self.configs.active(tenant)
        pools = pool_set(cfg, name)
        entity = cfg.entity(pools.entity)
        with self.store.read() as tx:
            seen = _seen(tx, tenant, entity.name, policy)
            counts = self._counts(tx, tenant, entity.name, seen)
            columns = [
                Column(
                    pool,
                    counts.get(pool, 0),
                    self._newest(tx, tenant, entity, pool, per_column, seen),
                )
                for pool in pools.pools
            ]
            if policy is None or policy.full:
                return columns
            parents = tx.parents_of(tenant)
            return [_editable(c, entity, policy, tenant, parents) for c in columns]

    def claims(self, tenant: str, entity: str, user: str) -> Claims | None:
        """The user's standing against the public pool's caps (None: no public pool)."""
        cfg = self.configs.active(tenant)
        public = cfg.public.get(entity)
        if public is None:
            return None
        day = self.clock.now().astimezone(cfg.tz).date()
        with self.store.read() as tx:
            today = tx.counters(tenant, [user], CLAIMS, day).get(user, 0)
            owned = self._owned(tx, tenant, entity, user)
        held = sum(n for pool, n in owned.items() if pool in public.holding)
        limits = public.definition
        return Claims(today, limits.daily_claims, held, limits.max_holdings)

    @staticmethod
    def _owned(tx: Tx, tenant: str, entity: str, user: str) -> dict[str, int]:
        """How many live records the user owns, per pool."""
        if tx.dialect == "sqlite":
            params = {"tenant": tenant, "entity": entity, "owner": user}
            rows = tx.conn.execute(_SQLITE_OWNED, params)
        else:
            r = t.records.c
            query = (
                sa.select(r.pool, sa.func.count())
                .where(
                    r.tenant_id == tenant,
                    r.entity == entity,
                    r.owner == user,
                    r.deleted_at.is_(None),
                )
                .group_by(r.pool)
            )
            rows = tx.conn.execute(query)
        return {str(pool): int(n) for pool, n in rows if pool is not None}

    @staticmethod
    def _counts(
        tx: Tx, tenant: str, entity: str, seen: sa.ColumnElement[bool] | None = None
    ) -> dict[str, int]:
        """Live records per pool (those `seen`, when given), from the pool index alone when
        every record counts (it ends with deleted_at)."""
        r = t.records.c
        query = (
            sa.select(r.pool, sa.func.count())
            .where(r.tenant_id == tenant, r.entity == entity, r.deleted_at.is_(None))
            .group_by(r.pool)
        )
        if seen is not None:
            query = query.where(seen)
        return {str(pool): int(n) for pool, n in tx.conn.execute(query) if pool is not None}

    @staticmethod
    def _newest(
        tx: Tx,
        tenant: str,
        entity: EntityDef,
        pool: str,
        limit: int,
        seen: sa.ColumnElement[bool] | None = None,
    ) -> tuple[Card, ...]:
        r = t.records.c
        name = title_field(entity)
        title = field_expr(entity.fields[name], tx.dialect) if name else sa.null()
        query = (
            sa.select(r.id, title.label("title"), r.owner, r.version, r.created_at)
            .where(
                r.tenant_id == tenant,
                r.entity == entity.name,
                r.pool == pool,
                r.deleted_at.is_(None),
            )
            .order_by(*_newest_first(tx.dialect))
            .limit(limit)
        )
        if seen is not None:
            query = query.where(seen)
        ref = entity.fields.get(entity.visible_via or "")
        via = field_expr(ref, tx.dialect) if ref is not None else sa.null()
        # the card's parent (visible_via), for the policy to follow
        rows = tx.conn.execute(query.add_columns(via.label("via")))
        return tuple(Card(r.id, r.title, r.owner, r.version, r.created_at, via=r.via) for r in rows)


def _seen(tx: Tx, tenant: str, entity: str, policy: Policy | None) -> sa.ColumnElement[bool] | None:
    """The WHERE clause of the records the policy's caller sees (None: every record)."""
    if policy is None:
        return None
    found = policy.visibility(entity)
    return None if found.everything else visible(found, tenant, tx.dialect)


def _editable(
    column: Column, entity: EntityDef, policy: Policy, tenant: str, parents: Parents
) -> Column:
    """The column with each card marked as the policy lets its caller edit it or not."""
    cards = []
    for card in column.cards:
        data = {entity.visible_via: card.via} if entity.visible_via else {}
        record = Record(
            tenant,
            card.id,
            entity.name,
            data,
            card.owner,
            column.pool,
            card.version,
            card.created_at,
            card.created_at,
        )
        cards.append(replace(card, editable=policy.may_edit(record, parents)))
    return replace(column, cards=tuple(cards))


def _newest_first(dialect: str) -> tuple[Any, ...]:
    """Newest records first. On SQLite the pool index (tenant_id, entity, pool, deleted_at)
    keeps a pool's live entries in rowid order, which is insertion order: reading it backwards
    finds the newest without sorting the pool, or walking all newer records of other pools
    as created_at order would. PostgreSQL's planner sorts a pool's created_at cheaply."""
    if dialect == "sqlite":
        return (sa.literal_column("records.rowid").desc(),)
    return (t.records.c.created_at.desc(), t.records.c.id.desc())
