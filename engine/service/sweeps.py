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
from engine.conditions.condition import ASSIGNED_AT
from engine.config.model import PromotionDef
from engine.rules import CompiledPoolSet
from engine.rules.assignment import CompiledRule
from engine.rules.compiled import CompiledConfig
from engine.rules.decisions import decision
from engine.rules.ownership import CompiledPublicPool
from engine.rules.plan import entered, plan, resettled
from engine.service.apply import apply_change
from engine.service.assigning import Assigner
from engine.service.campaign_runner import SEGMENT_TRIGGERS, RunnerFactory
from engine.service.configs import TenantConfigs
from engine.service.rows import history_row
from engine.service.views import instant
from engine.storage import tables as t
from engine.storage.campaign_store import data_with_columns
from engine.storage.store import Record, Store, Tx, record_from_row

BATCH = 500


def tx_ids(store: Store, due: sa.Select[Any]) -> list[str]:
    """The ids of the due records, found once: batches then lock them by primary key, so a
    long sweep never scans again past the records it has already moved."""
    with store.read() as tx:
        query = due.with_only_columns(t.records.c.id)
        return sorted(str(i) for i in tx.conn.execute(query).scalars())  # sorting here is cheaper


class Sweeper:
    def __init__(
        self,
        store: Store,
        configs: TenantConfigs,
        clock: Clock,
        campaigns: RunnerFactory | None = None,
    ) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock
        self.campaigns = campaigns  # records moved by sweeps fire campaigns as writes do
        # (tenant, config version) whose rules on values alone were swept: writes apply those,
        # so after one catch-up per version (records from before it) only time-based rules
        # can newly hold, and later sweeps look for those alone.
        self.caught_up: set[tuple[str, int]] = set()

    def sweep(self, tenant: str, now: datetime | None = None, batch: int = BATCH) -> dict[str, int]:
        """Apply every due promotion of the tenant; moves per rule."""
        cfg = self.configs.active(tenant)
        moment = now or self.clock.now()
        moved: Counter[str] = Counter()
        caught_up = (cfg.tenant, cfg.version) in self.caught_up
        for entity, pools in cfg.pools.items():
            for rule in pools.rules:
                if caught_up and rule.promotion.id not in pools.timed:
                    continue
                try:
                    where = rule.condition.sql(self.store.dialect, moment, t.records.c.data)
                except NotCompilable:
                    continue  # changed()/old(): only meaningful on writes
                due = self.due(cfg, entity, pools, rule.promotion, where, moment)
                ids = tx_ids(self.store, due)
                for start in range(0, len(ids), batch):
                    chunk = ids[start : start + batch]
                    self._batch(cfg, entity, pools, due, chunk, moment, moved)
        for entity, public in cfg.public.items():
            if public.protection is None:
                continue
            for sweep in (self._expired, self._remind):
                _drain(partial(sweep, cfg, entity, public, moment, batch, moved), batch, moved)
        for entity, compiled in cfg.assignment.items():
            for assign_rule in compiled.rules:
                if assign_rule.reassign is not None:
                    step = partial(self._reassign, cfg, entity, assign_rule, moment, batch, moved)
                    _drain(step, batch, moved)
        for entity in cfg.campaigns:
            self._segments(cfg, entity, moment, batch, moved)
        self.caught_up.add((cfg.tenant, cfg.version))
        return dict(moved)

    # reassignment ------------------------------------------------------------------------------
    def _reassign(
        self,
        cfg: CompiledConfig,
        entity: str,
        rule: CompiledRule,
        now: datetime,
        size: int,
        moved: Counter[str],
    ) -> int:
        """Records whose owner let the rule's reassign_when come true go to the next
        candidate, with the condition's trace as the reason."""
        assert rule.reassign is not None
        r = t.records.c
        data = _with_assigned_at(self.store.dialect)
        query = sa.select(t.records).where(
            r.tenant_id == cfg.tenant,
            r.entity == entity,
            r.deleted_at.is_(None),
            r.owner.is_not(None),
            r.owner_since.is_not(None),
            rule.reassign.sql(self.store.dialect, now, data),
        )
        if rule.when is not None:
            query = query.where(rule.when.sql(self.store.dialect, now, r.data))
        if self.store.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self.store.write() as tx:
            rows = tx.conn.execute(query.limit(size)).fetchall()
            assigner = Assigner(tx, cfg, entity, now)
            changed: list[tuple[Record, Record]] = []
            for row in rows:
                record = record_from_row(row)
                values = {**record.data, ASSIGNED_AT: instant(record.owner_since)}
                because = rule.reassign.trace(values, now).as_dict()
                found = assigner.reassign(record, rule, because)
                if found is None:
                    continue
                fresh, decisions = found
                intent = resettled(fresh.owner, tuple(decisions))
                made = plan(cfg, entity, record.id, record, intent, now)
                after = apply_change(tx, cfg, record, made, "reassign", "sweep", now, strict=False)
                if after is not None:
                    changed.append((record, after))
                    moved[f"assignment.{rule.id}.reassign"] += 1
            assigner.flush()
            self._fire(tx, cfg, entity, changed)
        return len(rows)

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
        with self.store.write() as tx:
            query = self._held(cfg, entity, public, t.records.c.protected_until, now)
            rows = tx.conn.execute(query.limit(size)).fetchall()
            changed: list[tuple[Record, Record]] = []
            for row in rows:
                record = record_from_row(row)
                lead = (_expiry_row(cfg, public, record, now),)
                intent = entered(public.pool, lead, owner=None, shield=False)
                made = plan(cfg, entity, record.id, record, intent, now)
                after = apply_change(tx, cfg, record, made, "sweep", "sweep", now, strict=False)
                if after is not None:
                    changed.append((record, after))
                    moved[f"{public.pool_set}.protection_expired"] += 1
            self._fire(tx, cfg, entity, changed)
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

    def due(
        self,
        cfg: CompiledConfig,
        entity: str,
        pools: CompiledPoolSet,
        promotion: PromotionDef,
        where: Any,
        now: datetime,
    ) -> sa.Select[Any]:
        """The records a promotion's condition holds for, in its `from` pools, now."""
        r = t.records.c
        query = sa.select(t.records).where(
            r.tenant_id == cfg.tenant, r.entity == entity, r.deleted_at.is_(None), where
        )
        sources = promotion.from_pools
        if sources is None:
            query = query.where(r.pool != promotion.to)
        else:  # every record has a pool: installing a bundle places the others (see app.py)
            query = query.where(r.pool.in_(sources))
        if promotion.to == pools.shield and promotion.id in pools.timed:
            # owners' protection holds these back
            query = query.where(
                sa.or_(r.owner.is_(None), r.protected_until.is_(None), r.protected_until <= now)
            )
        return query

    def _batch(
        self,
        cfg: CompiledConfig,
        entity: str,
        pools: CompiledPoolSet,
        due: sa.Select[Any],
        ids: list[str],
        now: datetime,
        moved: Counter[str],
    ) -> None:
        """Move a batch of the due records in one transaction. The condition is checked again
        under the lock: a record written (or swept) meanwhile is left as it now is."""
        with self.store.write() as tx:
            query = due.where(t.records.c.id.in_(ids))
            if self.store.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            updates: list[tuple[str, int, dict[str, Any]]] = []
            decisions: list[dict[str, Any]] = []
            history: list[dict[str, Any]] = []
            changed: list[tuple[Record, Record]] = []
            for row in tx.conn.execute(query):
                record = record_from_row(row)
                made = plan(cfg, entity, record.id, record, resettled(), now)
                if made.pool == record.pool:
                    continue  # written (or swept) meanwhile: left as it now is
                columns = {**made.columns, "updated_at": now, "config_version": cfg.version}
                updates.append((record.id, record.version, columns))
                after = replace(record, version=record.version + 1, **columns)
                changed.append((record, after))
                decisions += made.decisions
                history.append(history_row(after, "sweep", made.changes, "sweep", now))
                for m in made.moves:
                    moved[f"{pools.definition.name}.{m.rule}"] += 1
            # locked rows: the versions hold, so one statement per shape of change
            if tx.update_many(cfg.tenant, updates) != len(updates):
                raise RuntimeError("records changed under a sweep's lock")
            tx.insert_decisions(decisions)
            tx.insert_history(history)
            self._fire(tx, cfg, entity, changed)

    def _fire(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        entity: str,
        changed: list[tuple[Record, Record]],
        kinds: frozenset[str] | None = None,
    ) -> None:
        """Campaigns of records a sweep changed, in the sweep's transaction."""
        if self.campaigns is None or entity not in cfg.campaigns or not changed:
            return
        runner = self.campaigns(tx, cfg)
        for before, after in changed:
            runner.on_write(before, after, kinds)

    # segments that time alone changes --------------------------------------------------------
    def _segments(
        self, cfg: CompiledConfig, entity: str, now: datetime, batch: int, moved: Counter[str]
    ) -> None:
        """Records that entered or left a time-based segment since the last look (no write
        did it): their membership is brought up to date and segment campaigns fire."""
        compiled = cfg.campaigns.get(entity)
        if compiled is None or self.campaigns is None:
            return
        data = data_with_columns(self.store.dialect)
        for segment in (s for s in compiled.segments if s.timed):
            name = segment.definition.name
            holds = segment.when.sql(self.store.dialect, now, data)
            m = t.segment_members.c
            member = sa.select(m.record_id).where(m.tenant_id == cfg.tenant, m.segment == name)
            r = t.records.c
            base = sa.select(r.id).where(
                r.tenant_id == cfg.tenant, r.entity == entity, r.deleted_at.is_(None)
            )
            entering = base.where(holds, r.id.not_in(member))
            leaving = base.where(sa.not_(holds), r.id.in_(member))
            for due in (entering, leaving):
                ids = tx_ids(self.store, due)
                for start in range(0, len(ids), batch):
                    self._touch(cfg, entity, ids[start : start + batch])
                moved[f"segment.{name}"] += len(ids)

    def _touch(self, cfg: CompiledConfig, entity: str, ids: list[str]) -> None:
        with self.store.write() as tx:
            query = sa.select(t.records).where(t.records.c.id.in_(ids))
            if self.store.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            records = [record_from_row(row) for row in tx.conn.execute(query)]
            self._fire(tx, cfg, entity, [(r, r) for r in records], SEGMENT_TRIGGERS)


def _with_assigned_at(dialect: str) -> Any:
    """The data column with assigned_at (the owner_since column, in the stored datetime form)
    merged in: what a reassignment condition reads."""
    r = t.records.c
    if dialect == "postgresql":
        stamp = sa.func.to_char(
            sa.func.timezone("UTC", r.owner_since), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
        )
        return r.data.op("||")(sa.func.jsonb_build_object(ASSIGNED_AT, stamp))
    stamp = sa.func.strftime("%Y-%m-%dT%H:%M:%SZ", r.owner_since)
    return sa.func.json_set(r.data, f"$.{ASSIGNED_AT}", stamp)


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
    rule = f"{public.pool_set}.protection_expired"
    before = {"pool": record.pool, "owner": record.owner}
    after = {"pool": public.pool, "owner": None}
    return decision(
        cfg, record.entity, record.id, "pool_move", rule, now, before, after, trace.as_dict()
    )


def _reminder_row(
    cfg: CompiledConfig, public: CompiledPublicPool, record: Record, now: datetime
) -> dict[str, Any]:
    """What a campaign can act on: whose record returns to the public pool, and when."""
    rule = f"{public.pool_set}.protection_reminder"
    after = {"owner": record.owner, "protected_until": instant(record.protected_until)}
    return decision(cfg, record.entity, record.id, "reminder", rule, now, {}, after)
