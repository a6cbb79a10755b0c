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
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.clock import Clock
from engine.conditions import NotCompilable
from engine.config.model import PromotionDef
from engine.rules import CompiledPoolSet
from engine.service.compiled import CompiledConfig
from engine.service.configs import TenantConfigs
from engine.service.records import decision_row, history_row
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
                while (
                    self._batch(cfg, entity, pools, rule.promotion, where, moment, batch, moved)
                    == batch
                ):
                    pass
        return dict(moved)

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
        settled = pools.settle(record.data, record.pool, now)
        if settled.pool == record.pool:
            return []
        columns: dict[str, Any] = {"pool": settled.pool, "pool_entered_at": now, "updated_at": now}
        changes: dict[str, list[Any]] = {"pool": [record.pool, settled.pool]}
        if settled.unassigned and record.owner is not None:
            columns["owner"] = None
            changes["owner"] = [record.owner, None]
        if not tx.update_record(cfg.tenant, record.id, record.version, columns):
            return []  # written meanwhile: its own write has settled it
        decisions += [decision_row(cfg, record, m, now) for m in settled.moves]
        after = replace(record, version=record.version + 1)
        history.append(history_row(after, "sweep", changes, "sweep", now))
        return [m.rule for m in settled.moves]
