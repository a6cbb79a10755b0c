"""Campaigns outside a record's write: planned firings and later steps (jobs the worker runs),
scheduled campaigns (cron, swept), what their jobs became, and the stats.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cronsim import CronSim

from engine.clock import Clock
from engine.errors import Invalid, NotFound
from engine.fields.validator import FieldError
from engine.rules.campaigns import CompiledCampaign, in_quiet_hours
from engine.rules.compiled import CompiledConfig
from engine.rules.decisions import decision
from engine.service.campaign_runner import (
    PLANNED_JOB,
    STEP_JOB,
    CampaignRunner,
    Firing,
    job_key,
    snapshot,
)
from engine.service.configs import TenantConfigs
from engine.service.jobs import JobRow
from engine.service.masking import STARS, Mask
from engine.service.policy import Policy
from engine.service.records import RecordService
from engine.service.views import instant
from engine.storage import campaign_store as cs
from engine.storage import tables as t
from engine.storage.campaign_store import data_with_columns
from engine.storage.store import Record, Store, Tx, record_from_row

log = logging.getLogger("tidepool.campaigns")
SCHEDULE_BATCH = 500
MAX_CATCH_UP = timedelta(days=7)  # a schedule's missed times older than this are skipped


class CampaignService:
    def __init__(
        self, store: Store, configs: TenantConfigs, clock: Clock, records: RecordService
    ) -> None:
        self.store, self.configs, self.clock, self.records = store, configs, clock, records

    def handlers(self) -> dict[str, Callable[[JobRow], None]]:
        """The worker's handlers for campaign jobs."""
        return {STEP_JOB: self.run_step, PLANNED_JOB: self.fire_planned}

    # jobs ----------------------------------------------------------------------------------
    def run_step(self, job: JobRow) -> None:
        """A later step (or a first one deferred by quiet hours) of one firing: once, even
        when the worker runs its job again (a marker is written with the step's effects)."""
        payload, now = job.payload, self.clock.now()
        with self.store.write() as tx:
            found = self._load(tx, job)
            if found is None:
                return
            cfg, campaign, record = found
            step = int(payload["step"])
            if self._quiet(tx, cfg, campaign, job, now):
                return
            if not cs.once(tx, cfg.tenant, f"step:{payload['firing']}:{step}", now):
                return  # this step ran already
            firing = Firing(
                campaign,
                record,
                int(payload["firing"]),
                payload["occurrence"],
                payload["variant"],
                step,
            )
            condition = campaign.steps[step]
            if condition is not None and not condition.evaluate(snapshot(record), now):
                why = {"step": step, "when": condition.trace(snapshot(record), now).as_dict()}
                self._note(tx, cfg, campaign, record, "campaign_step_skipped", {"step": step}, why)
                return
            if step == 0:
                cs.set_firing(tx, firing.firing_id, status="delivered")
            self._runner(tx, cfg).run_step(firing)
            self._note(tx, cfg, campaign, record, "campaign_step", {"step": step}, {"step": step})

    def _quiet(
        self, tx: Tx, cfg: CompiledConfig, campaign: CompiledCampaign, job: JobRow, now: datetime
    ) -> bool:
        """In the campaign's quiet hours a step waits for their end (a new job)."""
        wait = in_quiet_hours(campaign.definition.limits.quiet_hours, now.astimezone(cfg.tz))
        if wait is None:
            return False
        at = now + wait
        key = job_key(job.key, f"quiet{at:%Y%m%dT%H%M}")
        jobs = self.records.jobs
        jobs.enqueue(
            tx,
            cfg.tenant,
            STEP_JOB,
            key,
            dict(job.payload),
            run_at=at,
            campaign=job.campaign,
            firing_id=job.firing_id,
        )
        return True

    def fire_planned(self, job: JobRow) -> None:
        """A relative campaign's moment has come (or came while nothing ran: catch-up)."""
        with self.store.write() as tx:
            found = self._load(tx, job)
            if found is None:
                return
            cfg, campaign, record = found
            now, values = self.clock.now(), snapshot(record)
            if campaign.when is not None and not campaign.when.evaluate(values, now):
                return
            trigger = campaign.definition.trigger
            why: dict[str, Any] = {"trigger": {"kind": "relative", "field": trigger.field}}
            why["due"] = job.run_at.isoformat()
            if campaign.when is not None:
                why["when"] = campaign.when.trace(values, now).as_dict()
            self._runner(tx, cfg).fire(campaign, record, str(job.payload["occurrence"]), why)

    def _load(self, tx: Tx, job: JobRow) -> tuple[CompiledConfig, CompiledCampaign, Record] | None:
        """The job's config, campaign and record — None (nothing to do) when the bundle
        dropped the campaign or the record is gone."""
        payload = job.payload
        cfg = self.configs.active(job.tenant)
        compiled = cfg.campaigns.get(str(payload["entity"]))
        campaigns = (
            []
            if compiled is None
            else [*compiled.on_change, *compiled.relative, *compiled.scheduled]
        )
        campaign = next((c for c in campaigns if c.id == payload["campaign"]), None)
        record = tx.get_record(
            job.tenant, str(payload["entity"]), str(payload["record"]), for_update=True
        )
        if campaign is None or record is None:
            log.info("job %s: campaign or record gone, nothing to do", job.key)
            return None
        return cfg, campaign, record

    def _runner(self, tx: Tx, cfg: CompiledConfig) -> CampaignRunner:
        return self.records.campaign_runner(tx, cfg)

    def _note(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        campaign: CompiledCampaign,
        record: Record,
        kind: str,
        after: dict[str, Any],
        why: dict[str, Any],
    ) -> None:
        rule = f"campaign.{campaign.id}"
        row = decision(cfg, record.entity, record.id, kind, rule, self.clock.now(), {}, after, why)
        tx.insert_decisions([row])

    def settle(self, tx: Tx, job: JobRow, status: str) -> None:
        """A job of a firing ended (the worker's on_finish): the firing is failed while one
        of its jobs is dead, delivered when all are done (also after a dead one was retried
        and got through). The firing row is locked: two jobs ending at once see each other."""
        if job.firing_id is None or job.kind in (STEP_JOB, PLANNED_JOB):
            return
        f, c = t.campaign_firings.c, t.jobs.c
        lock = sa.select(f.status).where(f.id == job.firing_id)
        if tx.dialect == "postgresql":
            lock = lock.with_for_update()
        if tx.conn.execute(lock).scalar() in (None, "held_out", "deferred"):
            return
        mine = (c.firing_id == job.firing_id, c.kind.not_in([STEP_JOB, PLANNED_JOB]))
        query = sa.select(c.status, sa.func.count()).where(*mine).group_by(c.status)
        counts: dict[str, int] = {str(k): int(n) for k, n in tx.conn.execute(query).all()}
        if counts.get("dead"):
            cs.set_firing(tx, job.firing_id, status="failed")
        elif not counts.get("pending"):
            cs.set_firing(tx, job.firing_id, status="delivered")

    def plan_existing(self, tenant: str, campaign_ids: list[str]) -> int:
        """Plan relative campaigns (new or with a changed trigger) for the records that exist
        already, in batches; how many records were looked at."""
        cfg = self.configs.active(tenant)
        seen = 0
        for compiled in cfg.campaigns.values():
            for campaign in compiled.relative:
                if campaign.id in campaign_ids:
                    seen += self._plan_all(cfg, campaign)
        return seen

    def _plan_all(self, cfg: CompiledConfig, campaign: CompiledCampaign) -> int:
        r, entity, after, seen = t.records.c, campaign.definition.entity, "", 0
        while True:
            with self.store.write() as tx:
                query = sa.select(t.records).where(
                    r.tenant_id == cfg.tenant,
                    r.entity == entity,
                    r.deleted_at.is_(None),
                    r.id > after,
                )
                batch = [
                    record_from_row(row)
                    for row in tx.conn.execute(query.order_by(r.id).limit(SCHEDULE_BATCH))
                ]
                runner = self._runner(tx, cfg)
                for record in batch:
                    runner.plan(campaign, record)
            if len(batch) < SCHEDULE_BATCH:
                return seen + len(batch)
            seen, after = seen + len(batch), batch[-1].id

    # schedules -------------------------------------------------------------------------------
    def sweep_schedules(self, tenant: str, now: datetime | None = None) -> int:
        """Scheduled campaigns whose time came: every matching record fires once for that
        time (the latest missed one after downtime, within MAX_CATCH_UP)."""
        cfg = self.configs.active(tenant)
        fired = 0
        for entity, compiled in cfg.campaigns.items():
            for campaign in compiled.scheduled:
                fired += self._sweep_schedule(cfg, entity, campaign, now or self.clock.now())
        return fired

    def _sweep_schedule(
        self, cfg: CompiledConfig, entity: str, campaign: CompiledCampaign, now: datetime
    ) -> int:
        key = f"schedule:{campaign.id}"
        with self.store.read() as tx:
            last = _state(tx, cfg.tenant, key)
        if last is None:  # the first look: times from now on count, none before
            with self.store.write() as tx:
                _save_state(tx, cfg.tenant, key, now.isoformat(), now)
            return 0
        tick = _latest_tick(campaign.definition.trigger.cron or "", cfg, last, now)
        if tick is None:
            return 0
        occurrence, fired, after = f"schedule:{tick.isoformat()}", 0, ""
        while ids := self._matching(cfg, entity, campaign, now, after):
            fired += self._fire_scheduled(cfg, campaign, ids, occurrence, tick, now)
            after = ids[-1]
        # only now: a sweep that failed half way takes the same time again (the firings'
        # occurrences keep it from firing twice)
        with self.store.write() as tx:
            _save_state(tx, cfg.tenant, key, tick.isoformat(), now)
        return fired

    def _fire_scheduled(
        self,
        cfg: CompiledConfig,
        campaign: CompiledCampaign,
        ids: list[str],
        occurrence: str,
        tick: datetime,
        now: datetime,
    ) -> int:
        """One batch: each record locked and read afresh, `when` checked on what it is now."""
        fired = 0
        with self.store.write() as tx:
            query = sa.select(t.records).where(t.records.c.id.in_(ids))
            if tx.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            runner = self._runner(tx, cfg)
            for row in tx.conn.execute(query).all():
                record = record_from_row(row)
                values = snapshot(record)
                if campaign.when is not None and not campaign.when.evaluate(values, now):
                    continue
                why: dict[str, Any] = {"trigger": {"kind": "schedule", "at": tick.isoformat()}}
                if campaign.when is not None:
                    why["when"] = campaign.when.trace(values, now).as_dict()
                fired += len(runner.fire(campaign, record, occurrence, why))
        return fired

    def _matching(
        self,
        cfg: CompiledConfig,
        entity: str,
        campaign: CompiledCampaign,
        now: datetime,
        after: str,
    ) -> list[str]:
        r = t.records.c
        data = data_with_columns(self.store.dialect)
        query = sa.select(r.id).where(
            r.tenant_id == cfg.tenant, r.entity == entity, r.deleted_at.is_(None), r.id > after
        )
        if campaign.when is not None:
            query = query.where(campaign.when.sql(self.store.dialect, now, data))
        with self.store.read() as tx:
            return list(tx.conn.execute(query.order_by(r.id).limit(SCHEDULE_BATCH)).scalars())

    # notifications and overview ----------------------------------------------------------------
    def notifications(
        self, tenant: str, user: str | None, unread: bool, limit: int, by: str | None = None
    ) -> list[dict[str, Any]]:
        """A user's notifications; a key acting for a user reads only that user's. Each was
        rendered as its recipient sees the record: a reader who sees a field masked that
        the recipient sees in full gets its title and body masked."""
        cfg = self.configs.active(tenant)
        if user is None:
            raise Invalid("say whose notifications", [FieldError("user", "required")])
        if user not in cfg.bundle.tenant.users:
            raise NotFound(f"no user '{user}' in this tenant")
        if by is not None and user != by:
            # someone else's: a manager's role, and a user whose records the reader sees
            with self.store.read() as tx:
                policy = Policy(cfg, by, tx.switched_off(tenant))
            policy.require("assign")
            if not policy.sees_user(user):
                raise NotFound(f"no user '{user}' in this tenant")
        n = t.notifications.c
        query = sa.select(t.notifications).where(n.tenant_id == tenant, n.user_id == user)
        if unread:
            query = query.where(n.read_at.is_(None))
        with self.store.read() as tx:
            rows = list(tx.conn.execute(query.order_by(n.id.desc()).limit(limit)))
            off = tx.switched_off(tenant) if by is not None and by != user else set()
        notes = [_note_json(row) for row in rows]
        if by is None or by == user:
            return notes
        reader, recipient = Mask(cfg, by, off), Mask(cfg, user, off)
        return [
            {**note, "title": STARS, "body": None if note["body"] is None else STARS}
            if reader.fields(note["entity"]) - recipient.fields(note["entity"])
            else note
            for note in notes
        ]

    def mark_read(self, tenant: str, notification: int, by: str | None = None) -> dict[str, Any]:
        n = t.notifications.c
        with self.store.write() as tx:
            row = tx.conn.execute(
                sa.select(t.notifications).where(n.tenant_id == tenant, n.id == notification)
            ).first()
            if row is None or (by is not None and row.user_id != by):
                raise NotFound(f"no notification {notification}")
            update = t.notifications.update().where(n.id == notification, n.read_at.is_(None))
            tx.conn.execute(update.values(read_at=self.clock.now()))
            fresh = tx.conn.execute(sa.select(t.notifications).where(n.id == notification)).one()
        return _note_json(fresh)

    def overview(self, tenant: str) -> list[dict[str, Any]]:
        cfg = self.configs.active(tenant)
        locale = cfg.bundle.tenant.locale
        return [
            {
                "id": c.id,
                "label": c.label.get(locale) if c.label else c.id,
                "entity": c.entity,
                "trigger": c.trigger.kind,
                "enabled": c.enabled,
                "steps": len(c.steps),
                "split": dict(c.split),
                "goal": None if c.goal is None else {"within_days": c.goal.within.days},
            }
            for c in cfg.bundle.campaigns
        ]

    # stats -----------------------------------------------------------------------------------
    def stats(self, tenant: str, campaign_id: str, since: date | None = None) -> dict[str, Any]:
        """Fired / delivered / failed / held out / converted per variant and day, and totals."""
        cfg = self.configs.active(tenant)
        definition = next((c for c in cfg.bundle.campaigns if c.id == campaign_id), None)
        if definition is None:
            known = ", ".join(c.id for c in cfg.bundle.campaigns) or "none"
            raise NotFound(f"no campaign '{campaign_id}' (campaigns: {known})")
        with self.store.read() as tx:
            rows = cs.stats(tx, tenant, campaign_id, since)
        keys = ("fired", "delivered", "failed", "held_out", "deferred", "converted")
        days = [
            {
                "variant": r.variant,
                "day": r.day.isoformat(),
                **{k: int(getattr(r, k)) for k in keys},
            }
            for r in rows
        ]
        variants: dict[str, dict[str, float]] = {}
        for day in days:
            total = variants.setdefault(day["variant"] or "-", dict.fromkeys(keys, 0))
            for k in keys:
                total[k] += day[k]
        for total in variants.values():
            total["conversion_pct"] = (
                round(100 * total["converted"] / total["fired"], 1) if total["fired"] else 0
            )
        return {"campaign": campaign_id, "variants": variants, "days": days}


def _note_json(row: sa.Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "user": row.user_id,
        "entity": row.entity,
        "record": row.record_id,
        "campaign": row.campaign,
        "title": row.title,
        "body": row.body,
        "created_at": instant(row.created_at),
        "read_at": instant(row.read_at),
    }


def _state(tx: Tx, tenant: str, key: str) -> str | None:
    c = t.tenant_state.c
    query = sa.select(c.value).where(c.tenant_id == tenant, c.key == key)
    found = tx.conn.execute(query).scalar()
    return None if found is None else str(found)


def _save_state(tx: Tx, tenant: str, key: str, value: str, now: datetime) -> None:
    c = t.tenant_state.c
    done = tx.conn.execute(
        t.tenant_state.update()
        .where(c.tenant_id == tenant, c.key == key)
        .values(value=value, updated_at=now)
    )
    if not done.rowcount:
        tx.conn.execute(
            t.tenant_state.insert().values(tenant_id=tenant, key=key, value=value, updated_at=now)
        )


def _latest_tick(cron: str, cfg: CompiledConfig, last: str, now: datetime) -> datetime | None:
    """The newest cron time after `last` and not after now (tenant's zone), or None."""
    local_now = now.astimezone(cfg.tz)
    start = max(datetime.fromisoformat(last).astimezone(cfg.tz), local_now - MAX_CATCH_UP)
    found = None
    for tick in CronSim(cron, start.replace(tzinfo=None)):
        moment = tick.replace(tzinfo=cfg.tz)
        if moment > local_now:
            break
        found = moment
    return found
