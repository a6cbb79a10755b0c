"""Sweeps: promotions whose conditions became true with time, found by the database.

For each promotion of each pool set, its condition is compiled to SQL at the sweep's `now`
and run over the records in its `from` pools, in batches; each record found settles through
the same code as a write (so cascades and unassign behave alike) and its moves are recorded
once. On PostgreSQL the batch is locked with FOR UPDATE SKIP LOCKED, so sweepers running at
the same time share the work; on SQLite writers take turns. A moved record no longer matches,
which makes a sweep idempotent and lets the next one catch up after downtime.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

from engine.clock import Clock
from engine.conditions import NotCompilable, Trace
from engine.config.model import PromotionDef
from engine.rules import CompiledPoolSet
from engine.rules.ownership import CompiledPublicPool
from engine.service.compiled import CompiledConfig
from engine.service.configs import TenantConfigs
from engine.service.ownership import owner_columns, shielded
from engine.service.rows import decision_row, history_row
from engine.service.views import instant
from engine.storage import tables as t
from engine.storage.store import Record, Store, Tx, record_from_row

BATCH = 500


class Sweeper:
    def __init__(self, store: Store, configs: TenantConfigs, clock: Clock) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock

    def sweep(self, tenant: str, now: datetime | None = None, batch: int = BATCH) -> dict[str, int]:
        """Apply every due promotion of the tenant; moves per rule."""
        cfg = self.configs.active(tenant)
        moment = now or self.clock.now()
        moved: Counter[str] = Counter()
        for entity, pools in cfg.pools.items():
            for rule in pools.rules:
                try:
                    where = rule.condition.sql(self.store.dialect, moment, t.records.c.data)
                except NotCompilable:
                    continue  # changed()/old(): only meaningful on writes
                step = partial(self._batch, cfg, entity, pools, rule.promotion, where, moment)
                _drain(partial(step, batch, moved), batch, moved)
        for entity, public in cfg.public.items():
            if public.protection is None:
                continue
            for sweep in (self._expired, self._remind):
                _drain(partial(sweep, cfg, entity, public, moment, batch, moved), batch, moved)
        return dict(moved)

    # the public pool's clocks ----------------------------------------------------------------
    def _held(
        self,
        cfg: CompiledConfig,
        entity: str,
        public: CompiledPublicPool,
        clock: Any,
        now: datetime,
    ) -> sa.Select[Any]:
        """Owned records in the holding pools whose clock column has come due."""
        r = t.records.c
        query = sa.select(t.records).where(
            r.tenant_id == cfg.tenant,
            r.entity == entity,
            r.deleted_at.is_(None),
            r.owner.is_not(None),
            r.pool.in_(sorted(public.holding)),
            clock <= now,
        )
        return (
            query.with_for_update(skip_locked=True) if self.store.dialect == "postgresql" else query
        )

    def _expired(
        self,
        cfg: CompiledConfig,
        entity: str,
        public: CompiledPublicPool,
        now: datetime,
        size: int,
        moved: Counter[str],
    ) -> int:
        """Records whose protection ended go back to the public pool, unassigned."""
        pools = cfg.pools[entity]
        with self.store.write() as tx:
            query = self._held(cfg, entity, public, t.records.c.protected_until, now)
            rows = tx.conn.execute(query.limit(size)).fetchall()
            decisions: list[dict[str, Any]] = []
            history: list[dict[str, Any]] = []
            for row in rows:
                record = record_from_row(row)
                settled = pools.settle(record.data, public.pool, now)
                columns = {"pool": settled.pool, "pool_entered_at": now, "updated_at": now}
                columns.update(
                    owner_columns(cfg, entity, record, None, settled.pool, record.data, now)
                )
                if not tx.update_record(cfg.tenant, record.id, record.version, columns):
                    continue
                decisions.append(_expiry_row(cfg, public, record, now))
                decisions += [decision_row(cfg, record, m, now) for m in settled.moves]
                changes = {"pool": [record.pool, settled.pool], "owner": [record.owner, None]}
                after = replace(record, version=record.version + 1)
                history.append(history_row(after, "sweep", changes, "sweep", now))
                moved[f"{public.pool_set}.protection_expired"] += 1
            tx.insert_decisions(decisions)
            tx.insert_history(history)
        return len(rows)

    def _remind(
        self,
        cfg: CompiledConfig,
        entity: str,
        public: CompiledPublicPool,
        now: datetime,
        size: int,
        moved: Counter[str],
    ) -> int:
        """A reminder decision, once per protection period, N days before it ends."""
        r = t.records.c
        with self.store.write() as tx:
            query = self._held(cfg, entity, public, r.remind_at, now)
            rows = tx.conn.execute(query.limit(size)).fetchall()
            decisions = []
            for row in rows:
                done = tx.conn.execute(
                    t.records.update()
                    .where(r.tenant_id == cfg.tenant, r.id == row.id, r.remind_at == row.remind_at)
                    .values(remind_at=None)
                )
                if done.rowcount != 1:
                    continue  # another sweeper reminded first
                decisions.append(_reminder_row(cfg, public, record_from_row(row), now))
                moved[f"{public.pool_set}.protection_reminder"] += 1
            tx.insert_decisions(decisions)
        return len(rows)

    def _batch(
        self,
        cfg: CompiledConfig,
        entity: str,
        pools: CompiledPoolSet,
        promotion: PromotionDef,
        where: Any,
        now: datetime,
        size: int,
        moved: Counter[str],
    ) -> int:
        """One batch of due records, moved in one transaction; how many were found."""
        with self.store.write() as tx:
            query = sa.select(t.records).where(
                t.records.c.tenant_id == cfg.tenant,
                t.records.c.entity == entity,
                t.records.c.deleted_at.is_(None),
                where,
            )
            pool = t.records.c.pool
            sources = promotion.from_pools
            if sources is None:
                query = query.where(sa.or_(pool.is_(None), pool != promotion.to))
            else:  # a record from before its entity had pools counts as in the initial pool
                unset = pool.is_(None) if pools.initial in sources else sa.false()
                query = query.where(sa.or_(unset, pool.in_(sources)))
            if promotion.to == pools.shield and promotion.id in pools.timed:
                # owners' protection holds these back
                r = t.records.c
                query = query.where(
                    sa.or_(r.owner.is_(None), r.protected_until.is_(None), r.protected_until <= now)
                )
            query = query.limit(size)
            if self.store.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = tx.conn.execute(query).fetchall()
            decisions: list[dict[str, Any]] = []
            history: list[dict[str, Any]] = []
            for row in rows:
                record = record_from_row(row)
                for move in self._settle(tx, cfg, pools, record, now, decisions, history):
                    moved[f"{pools.definition.name}.{move}"] += 1
            tx.insert_decisions(decisions)  # one statement each per batch, not per record
            tx.insert_history(history)
        return len(rows)

    def _settle(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        pools: CompiledPoolSet,
        record: Record,
        now: datetime,
        decisions: list[dict[str, Any]],
        history: list[dict[str, Any]],
    ) -> list[str]:
        """Move one record (compare-and-set on its version); the rules that fired."""
        shield = shielded(cfg, record.entity, record, record.owner, now)
        settled = pools.settle(record.data, record.pool, now, shielded=shield)
        if settled.pool == record.pool:
            return []
        columns: dict[str, Any] = {"pool": settled.pool, "pool_entered_at": now, "updated_at": now}
        changes: dict[str, list[Any]] = {"pool": [record.pool, settled.pool]}
        owner = None if settled.unassigned else record.owner
        columns.update(
            owner_columns(cfg, record.entity, record, owner, settled.pool, record.data, now)
        )
        if "owner" in columns:
            changes["owner"] = [record.owner, None]
        if not tx.update_record(cfg.tenant, record.id, record.version, columns):
            return []  # written meanwhile: its own write has settled it
        decisions += [decision_row(cfg, record, m, now) for m in settled.moves]
        after = replace(record, version=record.version + 1)
        history.append(history_row(after, "sweep", changes, "sweep", now))
        return [m.rule for m in settled.moves]


def _drain(step: Callable[[], int], size: int, moved: Counter[str]) -> None:
    """Run batches while they come back full and change something: a full batch that
    changed nothing (all written meanwhile) would only find the same rows again."""
    while True:
        before = sum(moved.values())
        if step() < size or sum(moved.values()) == before:
            return


def _expiry_row(
    cfg: CompiledConfig, public: CompiledPublicPool, record: Record, now: datetime
) -> dict[str, Any]:
    until = instant(record.protected_until)
    trace = Trace(
        "protected_until <= now()",
        True,
        (Trace("protected_until", until), Trace("owner", record.owner)),
    )
    return {
        "tenant_id": cfg.tenant,
        "entity": record.entity,
        "record_id": record.id,
        "kind": "pool_move",
        "rule": f"{public.pool_set}.protection_expired",
        "config_version": cfg.version,
        "at": now,
        "before": {"pool": record.pool, "owner": record.owner},
        "after": {"pool": public.pool, "owner": None},
        "trace": trace.as_dict(),
    }


def _reminder_row(
    cfg: CompiledConfig, public: CompiledPublicPool, record: Record, now: datetime
) -> dict[str, Any]:
    """What a campaign can act on: whose record returns to the public pool, and when."""
    return {
        "tenant_id": cfg.tenant,
        "entity": record.entity,
        "record_id": record.id,
        "kind": "reminder",
        "rule": f"{public.pool_set}.protection_reminder",
        "config_version": cfg.version,
        "at": now,
        "before": {},
        "after": {"owner": record.owner, "protected_until": instant(record.protected_until)},
        "trace": None,
    }
