"""Campaigns inside a write's transaction: segment membership, trigger matching, limits, the
split, the firing, and its actions — in the database at once, leaving it as jobs (outbox).

Actions that write records (set, move, create_task, assign) go through a `RecordWriter`,
the record service's own write path, so their changes are validated, scored, pooled and seen
by campaigns again, up to MAX_DEPTH writes deep.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from engine.config.campaigns import parse_duration
from engine.config.model import ActionDef
from engine.errors import ServiceError
from engine.rules.campaigns import (
    HOLDOUT,
    LATE_GRACE,
    Change,
    CompiledCampaign,
    CompiledCampaigns,
    in_quiet_hours,
    instant_of,
)
from engine.rules.compiled import CompiledConfig
from engine.rules.decisions import decision
from engine.service.jobs import Jobs
from engine.service.mailer import configured as smtp_configured
from engine.service.masking import Mask
from engine.storage import campaign_store as cs
from engine.storage import tables as t
from engine.storage.store import Record, Tx, transient
from engine.templating import TemplateError, render, render_value, shared_budget

log = logging.getLogger("tidepool.campaigns")
MAX_DEPTH = 3  # writes caused by campaigns' actions, caused by campaigns' actions, …
STEP_JOB, PLANNED_JOB = "campaign_step", "campaign_fire"
SEGMENT_TRIGGERS = frozenset({"segment_enter", "segment_leave"})
WRITES = frozenset({"set", "move", "assign", "create_task"})  # actions that write records
MAX_KEY = 255  # jobs.key


class RecordWriter(Protocol):
    """The record service's write path, inside the caller's transaction."""

    def patch(
        self, tx: Tx, cfg: CompiledConfig, record: Record, values: dict[str, Any], depth: int
    ) -> Record: ...

    def move(
        self, tx: Tx, cfg: CompiledConfig, record: Record, pool: str, depth: int
    ) -> Record: ...

    def create(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        entity: str,
        values: dict[str, Any],
        owner: str | None,
        depth: int,
    ) -> Record: ...

    def assign(
        self, tx: Tx, cfg: CompiledConfig, record: Record, rule: str, depth: int
    ) -> Record: ...


def snapshot(record: Record) -> dict[str, Any]:
    """What campaign conditions see: the values with the record's pool and owner."""
    return {**record.data, "pool": record.pool, "owner": record.owner}


@dataclass
class Firing:
    """One campaign firing for one record, as its actions see it."""

    campaign: CompiledCampaign
    record: Record
    firing_id: int
    occurrence: str
    variant: str | None
    step: int = 0
    external: int = 0  # jobs written for it (webhooks, emails)
    failed: bool = False  # an action of it failed

    def key(self, action: int, *more: str) -> str:
        c, r = self.campaign.id, self.record.id
        return job_key(f"{c}:{r}:{self.occurrence}:s{self.step}:a{action}", *more)


def job_key(*parts: str) -> str:
    """A job's idempotency key; one too long for the column keeps a readable head and a
    hash of the whole."""
    key = ":".join(parts)
    if len(key) <= MAX_KEY:
        return key
    return f"{key[:180]}#{hashlib.sha256(key.encode()).hexdigest()[:32]}"


class CampaignRunner:
    """Campaigns for the writes of one transaction."""

    def __init__(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        now: datetime,
        writer: RecordWriter,
        queue: Jobs,
        depth: int = 0,
    ) -> None:
        self.tx, self.cfg, self.now, self.writer, self.depth = tx, cfg, now, writer, depth
        self.queue = queue
        self.latest: dict[str, Record] = {}  # records the actions wrote, as they are now
        self._switched_off: frozenset[str] | None = None  # users switched off at run time

    # a record changed ------------------------------------------------------------------------
    def on_write(
        self, before: Record | None, after: Record, kinds: frozenset[str] | None = None
    ) -> list[dict[str, Any]]:
        """Decision rows of the campaigns this write fired (already stored); `kinds` limits
        the triggers looked at (a segment sweep changes no values)."""
        compiled = self.cfg.campaigns.get(after.entity)
        if compiled is None or not compiled.active or self.depth > MAX_DEPTH:
            return []
        entered, left = self._segments(compiled, before, after)
        old = snapshot(before) if before is not None else None
        change = Change(after.id, after.version, old, snapshot(after), entered, left)
        rows: list[dict[str, Any]] = []
        for campaign in compiled.on_change:
            if kinds is not None and campaign.definition.trigger.kind not in kinds:
                continue
            if campaign.matches(change, self.now):
                occurrence = change.occurrence(campaign.definition.trigger, self.now)
                current = self.latest.get(after.id, after)
                rows += self.fire(campaign, current, occurrence, self._why(campaign, change))
        latest = self.latest.get(after.id, after)  # as the actions left it
        self._plan(compiled, before, latest)
        self._goals(compiled, latest)
        return rows

    def _segments(
        self, compiled: CompiledCampaigns, before: Record | None, after: Record
    ) -> tuple[frozenset[str], frozenset[str]]:
        """Segments entered and left. A segment on values alone is compared with the old
        values (no storage); one that time can change (days_since…) is kept in
        segment_members, which sweeps compare with the clock."""
        if not compiled.segments:
            return frozenset(), frozenset()
        now_in = compiled.members(snapshot(after), self.now)
        old = compiled.members(snapshot(before), self.now) if before is not None else frozenset()
        timed = compiled.timed_names
        if timed:
            stored = cs.segments_of(self.tx, self.cfg.tenant, after.id) if before else set()
            old = (old - timed) | (frozenset(stored) & timed)
            joined, gone = (now_in - old) & timed, (old - now_in) & timed
            cs.join_segments(self.tx, self.cfg.tenant, after.entity, after.id, joined, self.now)
            cs.leave_segments(self.tx, self.cfg.tenant, after.id, gone)
        return now_in - old, old - now_in

    def _why(self, campaign: CompiledCampaign, change: Change) -> dict[str, Any]:
        trigger = campaign.definition.trigger
        why: dict[str, Any] = {"trigger": {"kind": trigger.kind}}
        for name in ("field", "pool", "segment"):
            if getattr(trigger, name) is not None:
                why["trigger"][name] = getattr(trigger, name)
        if campaign.when is not None:
            why["when"] = campaign.when.trace(change.after, self.now, change.before).as_dict()
        return why

    # firing --------------------------------------------------------------------------------
    def fire(
        self, campaign: CompiledCampaign, record: Record, occurrence: str, why: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Fire once for (campaign, record, occurrence) unless a limit says no; the decision."""
        refused = self._limited(campaign, record)
        if refused is not None:
            return [self._decision(campaign, record, "campaign_limited", {"limit": refused}, why)]
        variant = campaign.variant(record.id)
        firing_id = self._insert_firing(campaign, record, occurrence, variant)
        if firing_id is None:
            return []  # this occurrence fired already
        self._count(campaign)
        firing = Firing(campaign, record, firing_id, occurrence, variant)
        after = {"occurrence": occurrence, **({"variant": variant} if variant else {})}
        row = self._decision(campaign, record, "campaign", after, why)
        if variant == HOLDOUT:
            cs.set_firing(self.tx, firing_id, status="held_out")
            return [row]
        wait = in_quiet_hours(
            campaign.definition.limits.quiet_hours, self.now.astimezone(self.cfg.tz)
        )
        if wait is not None:
            self._later(firing, 0, self.now + wait)
            cs.set_firing(self.tx, firing_id, status="deferred")
            return [{**row, "after": {**after, "deferred_until": (self.now + wait).isoformat()}}]
        self.run_step(firing)
        return [row]

    def _limited(self, campaign: CompiledCampaign, record: Record) -> str | None:
        limits = campaign.definition.limits
        if limits.once_per_record or limits.cooldown is not None:
            last = cs.fired_before(self.tx, self.cfg.tenant, campaign.id, record.id)
            if last is not None and limits.once_per_record:
                return "once_per_record"
            if last is not None and limits.cooldown and self.now - last < limits.cooldown:
                return "cooldown"
        if limits.max_per_day is not None:
            day = self.now.astimezone(self.cfg.tz).date()
            # one row per campaign and day, locked: concurrent writes take turns at the cap
            fired = self.tx.lock_counter(self.cfg.tenant, campaign.id, "campaign", day)
            if fired >= limits.max_per_day:
                return "max_per_day"
        return None

    def _count(self, campaign: CompiledCampaign) -> None:
        """A new firing counts toward its campaign's daily cap (its row is locked already)."""
        if campaign.definition.limits.max_per_day is not None:
            day = self.now.astimezone(self.cfg.tz).date()
            self.tx.add_to_counter(self.cfg.tenant, campaign.id, "campaign", day)

    def _insert_firing(
        self, campaign: CompiledCampaign, record: Record, occurrence: str, variant: str | None
    ) -> int | None:
        goal = campaign.definition.goal
        return cs.insert_firing(
            self.tx,
            {
                "tenant_id": self.cfg.tenant,
                "campaign": campaign.id,
                "entity": record.entity,
                "record_id": record.id,
                "occurrence": occurrence,
                "variant": variant,
                "status": "delivered",  # until it writes jobs: then they decide
                "fired_at": self.now,
                "day": self.now.astimezone(self.cfg.tz).date(),
                "config_version": self.cfg.version,
                "goal_until": self.now + goal.within if goal else None,
            },
        )

    def _decision(
        self,
        campaign: CompiledCampaign,
        record: Record,
        kind: str,
        after: Mapping[str, Any],
        why: dict[str, Any],
    ) -> dict[str, Any]:
        row = decision(
            self.cfg,
            record.entity,
            record.id,
            kind,
            f"campaign.{campaign.id}",
            self.now,
            {},
            after,
            why,
        )
        self.tx.insert_decisions([row])
        return row

    # steps and actions ---------------------------------------------------------------------
    def run_step(self, firing: Firing) -> None:
        """The step's actions for the firing's variant; then the next step is planned."""
        step = firing.campaign.step(firing.step)
        for index, action in enumerate(step.actions):
            if action.variant is not None and action.variant != firing.variant:
                continue
            with shared_budget(self.cfg.bundle.tenant.template_budget_ms):  # all its texts
                record = self._act(firing, action, index)
            if record is not firing.record:
                self.latest[record.id] = firing.record = record
        if firing.failed:
            cs.set_firing(self.tx, firing.firing_id, status="failed")
        elif firing.external:
            cs.set_firing(self.tx, firing.firing_id, status="sent")
        following = firing.step + 1
        if following < len(firing.campaign.definition.steps):
            wait = firing.campaign.step(following).wait
            self._later(firing, following, self.now + wait)

    def _act(self, firing: Firing, action: ActionDef, index: int) -> Record:
        """One action. One that fails (a template that cannot render, a task the entity
        refuses) is undone alone and recorded: the write that fired it goes on."""
        try:
            if action.kind not in WRITES:
                return ACTIONS[action.kind](self, firing, action, index)
            with self.tx.conn.begin_nested():
                return ACTIONS[action.kind](self, firing, action, index)
        except sa.exc.DBAPIError as exc:
            if transient(exc):
                raise  # a deadlock: the whole write is tried again
            log.exception("campaign %s: action %s failed", firing.campaign.id, action.pointer)
            return self._failed(firing, action, "the database refused it")
        except (ServiceError, TemplateError) as exc:
            errors = (
                [e.as_dict("en") for e in exc.errors]
                if isinstance(exc, ServiceError)
                else [exc.as_dict()]  # its code: the reason shown in zh-CN too
            )
            return self._failed(firing, action, str(exc), errors)
        except Exception:  # one action never fails the write that fired it
            log.exception("campaign %s: action %s failed", firing.campaign.id, action.pointer)
            return self._failed(firing, action, "an internal error (logged)")

    def _failed(
        self, firing: Firing, action: ActionDef, error: str, errors: list[Any] | None = None
    ) -> Record:
        """A failed action: a campaign_error decision, and the firing counts as failed."""
        why: dict[str, Any] = {"action": action.pointer, "kind": action.kind, "error": error}
        if errors:
            why["errors"] = errors
        self._decision(firing.campaign, firing.record, "campaign_error", {"step": firing.step}, why)
        firing.failed = True
        return firing.record

    def _later(self, firing: Firing, step: int, at: datetime) -> None:
        payload = {
            "campaign": firing.campaign.id,
            "entity": firing.record.entity,
            "record": firing.record.id,
            "occurrence": firing.occurrence,
            "variant": firing.variant,
            "step": step,
            "firing": firing.firing_id,
        }
        key = job_key(firing.campaign.id, firing.record.id, firing.occurrence, f"step{step}")
        self.queue.enqueue(
            self.tx,
            self.cfg.tenant,
            STEP_JOB,
            key,
            payload,
            run_at=at,
            campaign=firing.campaign.id,
            firing_id=firing.firing_id,
        )

    def context(self, firing: Firing, viewer: Mask) -> dict[str, Any]:
        """What templates see: the record as `viewer`, who reads what is rendered, sees it."""
        record, bundle = firing.record, self.cfg.bundle
        owner = bundle.tenant.users.get(record.owner or "")
        definition = firing.campaign.definition
        return {
            "record": {
                **viewer.data(record.entity, record.data),
                "id": record.id,
                "owner": record.owner,
                "pool": record.pool,
                "created_at": record.created_at,
                "updated_at": record.updated_at,
                "queue": record.queue,
            },
            "owner": {"id": owner.id, "name": owner.name, "email": owner.email} if owner else {},
            "campaign": {
                "id": definition.id,
                "label": definition.label.get(bundle.tenant.locale)
                if definition.label
                else definition.id,
            },
            "variant": firing.variant,
            "now": self.now,
            "tenant": {
                "id": bundle.tenant.id,
                "name": bundle.tenant.name.get(bundle.tenant.locale),
            },
        }

    def text(self, firing: Firing, template: str, viewer: Mask) -> str:
        return render(
            template,
            self.context(firing, viewer),
            tz=self.cfg.tz,
            locale=self.cfg.bundle.tenant.locale,
            budget_ms=self.cfg.bundle.tenant.template_budget_ms,
        )

    def value(self, firing: Firing, raw: Any, viewer: Mask) -> Any:
        return render_value(
            raw,
            self.context(firing, viewer),
            tz=self.cfg.tz,
            locale=self.cfg.bundle.tenant.locale,
            budget_ms=self.cfg.bundle.tenant.template_budget_ms,
        )

    # whose eyes a text is rendered for -------------------------------------------------------
    def mask_of(self, user: str | None) -> Mask:
        """A person's mask: a user of the bundle's own (fail closed once switched off);
        nobody (None: a task without assignee) sees as a stranger."""
        if user is None:
            return Mask.stranger(self.cfg)
        if self._switched_off is None:
            self._switched_off = frozenset(self.tx.switched_off(self.cfg.tenant))
        return Mask(self.cfg, user, self._switched_off)

    @property
    def unmasked(self) -> Mask:
        """For values written back to records (`set`) and webhooks with `pii: include`."""
        return Mask(self.cfg, None)

    # plans and goals -------------------------------------------------------------------------
    def _plan(self, compiled: CompiledCampaigns, before: Record | None, after: Record) -> None:
        """Relative campaigns: a job at the date ± offset, planned again when the date moves
        (the old plan is cancelled); a moment already past when planned is not fired."""
        for campaign in compiled.relative:
            name = campaign.definition.trigger.field or ""
            if before is None and after.data.get(name) is None:
                continue  # a new record without the date: nothing to plan or cancel
            if before is None or before.data.get(name) != after.data.get(name):
                self.plan(campaign, after)

    def plan(self, campaign: CompiledCampaign, record: Record) -> None:
        """(Re)plan one relative campaign for a record: one pending plan at most. The
        firing's occurrence is the date, so it fires once however often it was planned."""
        value = record.data.get(campaign.definition.trigger.field or "")
        moment = instant_of(value, self.cfg.tz)
        offset = campaign.definition.trigger.offset
        due = None if moment is None else moment + offset
        plan = None
        if moment is not None and due is not None and self._relevant(moment, offset):
            due = max(due, self.now)  # planned late (a contract ending in 20 days): now
            payload = {
                "campaign": campaign.id,
                "entity": record.entity,
                "record": record.id,
                "occurrence": f"relative:{value}",
            }
            plan = (job_key("plan", campaign.id, record.id, str(value)), payload, due)
        self.queue.replan(self.tx, self.cfg.tenant, PLANNED_JOB, campaign.id, record.id, plan)

    def _relevant(self, moment: datetime, offset: timedelta) -> bool:
        """Whether a date still calls for its campaign: it (or the moment after it) is at most
        a day past. Older dates — history loaded into a new campaign — do not fire."""
        return max(moment, moment + offset) + LATE_GRACE >= self.now

    def _goals(self, compiled: CompiledCampaigns, after: Record) -> None:
        """Firings of this record whose goal now holds count as converted (looked up only
        when a goal holds for the record's values)."""
        values = snapshot(after)
        reached = {
            c.id for c in compiled.goals if c.goal is not None and c.goal.evaluate(values, self.now)
        }
        if not reached:
            return
        for row in cs.open_goals(self.tx, self.cfg.tenant, after.id, self.now):
            if row.campaign in reached:
                cs.set_firing(self.tx, row.id, converted_at=self.now)


# actions ---------------------------------------------------------------------------------------
Action = Callable[[CampaignRunner, Firing, ActionDef, int], Record]


def _set(runner: CampaignRunner, firing: Firing, action: ActionDef, index: int) -> Record:
    record, values = firing.record, dict(firing.record.data)
    for name, raw in action.params.items():
        if isinstance(raw, dict):  # tags: add / remove
            tags = [x for x in values.get(name) or [] if x not in raw.get("remove", [])]
            values[name] = tags + [x for x in raw.get("add", []) if x not in tags]
        else:
            values[name] = runner.value(firing, raw, runner.unmasked)  # stored, not shown
    patch = {k: v for k, v in values.items() if record.data.get(k) != v}
    if not patch:
        return record
    return runner.writer.patch(runner.tx, runner.cfg, record, patch, runner.depth + 1)


def _move(runner: CampaignRunner, firing: Firing, action: ActionDef, index: int) -> Record:
    pool = action.params if isinstance(action.params, str) else action.params["pool"]
    if firing.record.pool == pool:
        return firing.record
    return runner.writer.move(runner.tx, runner.cfg, firing.record, pool, runner.depth + 1)


def _assign(runner: CampaignRunner, firing: Firing, action: ActionDef, index: int) -> Record:
    rule = action.params if isinstance(action.params, str) else action.params["rule"]
    return runner.writer.assign(runner.tx, runner.cfg, firing.record, rule, runner.depth + 1)


def _create_task(runner: CampaignRunner, firing: Firing, action: ActionDef, index: int) -> Record:
    params = action.params
    entity = params.get("entity", "task")
    task = runner.cfg.bundle.entities[entity]
    owner = _people(runner, firing, params.get("assignee", "owner"))
    viewer = runner.mask_of(owner[0] if owner else None)  # the task is the assignee's to read
    values: dict[str, Any] = {"title": runner.text(firing, params["title"], viewer)}
    if "due_in" in params:
        values["due_at"] = (runner.now + parse_duration(params["due_in"])).isoformat()
    for name, raw in (params.get("fields") or {}).items():
        values[name] = runner.value(firing, raw, viewer)
    link = params.get("link") or next(
        (n for n, f in task.fields.items() if f.ref_entity == firing.record.entity), None
    )
    if link is not None:
        values[link] = firing.record.id
    runner.writer.create(
        runner.tx, runner.cfg, entity, values, owner[0] if owner else None, runner.depth + 1
    )
    return firing.record


def _notify(runner: CampaignRunner, firing: Firing, action: ActionDef, index: int) -> Record:
    params = action.params
    users = _people(runner, firing, params["to"])
    texts = _per_reader(runner, firing, users, params)
    rows = [
        {
            "tenant_id": runner.cfg.tenant,
            "user_id": user,
            "entity": firing.record.entity,
            "record_id": firing.record.id,
            "campaign": firing.campaign.id,
            "title": texts[user][0],
            "body": texts[user][1],
            "created_at": runner.now,
        }
        for user in users
    ]
    if rows:
        runner.tx.conn.execute(t.notifications.insert(), rows)
    if params.get("email"):
        _emails(runner, firing, users, texts, index)
    return firing.record


def _per_reader(
    runner: CampaignRunner, firing: Firing, users: list[str], params: Mapping[str, Any]
) -> dict[str, tuple[str, str | None]]:
    """Each user's title and body, rendered as they see the record: once per distinct set
    of masked fields (a sales rep's phone masked, a manager's in full)."""
    by_mask: dict[frozenset[str], tuple[str, str | None]] = {}
    out: dict[str, tuple[str, str | None]] = {}
    for user in users:
        viewer = runner.mask_of(user)
        hidden = viewer.fields(firing.record.entity)
        if hidden not in by_mask:
            title = runner.text(firing, params["title"], viewer)[:500]
            body = runner.text(firing, params["body"], viewer) if params.get("body") else None
            by_mask[hidden] = (title, body)
        out[user] = by_mask[hidden]
    return out


def _emails(
    runner: CampaignRunner,
    firing: Firing,
    users: list[str],
    texts: Mapping[str, tuple[str, str | None]],
    index: int,
) -> None:
    if not smtp_configured():  # in-app only: "email through SMTP when configured"
        return
    known = runner.cfg.bundle.tenant.users
    for user in users:
        email = known[user].email if user in known else None
        if email:
            title, body = texts[user]
            payload = {"to": email, "subject": title, "body": body or title}
            _enqueue(runner, firing, "email", firing.key(index, user), payload)


def _webhook(runner: CampaignRunner, firing: Firing, action: ActionDef, index: int) -> Record:
    params = action.params
    body = params.get("body", {"record": "{{ record.id }}"})
    # a machine the consultant configured: pii as a stranger sees it unless they said include
    viewer = runner.unmasked if params.get("pii") == "include" else Mask.stranger(runner.cfg)
    payload = {
        "url": params["url"],
        "body": runner.value(firing, body, viewer),
        "headers": dict(params.get("headers") or {}),
        "timeout": params.get("timeout", 10),
    }
    _enqueue(runner, firing, "webhook", firing.key(index), payload, params.get("max_attempts", 8))
    return firing.record


def _enqueue(
    runner: CampaignRunner,
    firing: Firing,
    kind: str,
    key: str,
    payload: dict[str, Any],
    tries: int = 8,
) -> None:
    runner.queue.enqueue(
        runner.tx,
        runner.cfg.tenant,
        kind,
        key,
        payload,
        run_at=runner.now,
        max_attempts=tries,
        campaign=firing.campaign.id,
        firing_id=firing.firing_id,
    )
    firing.external += 1


def _people(runner: CampaignRunner, firing: Firing, who: Any) -> list[str]:
    """Active users meant by owner / {user} / {role} / {team}."""
    users = runner.cfg.bundle.tenant.users
    if who == "owner":
        found = [firing.record.owner] if firing.record.owner else []
    elif "user" in who:
        found = [who["user"]]
    elif "role" in who:
        found = [u.id for u in users.values() if who["role"] in u.roles]
    else:
        found = [u.id for u in users.values() if who.get("team") in u.teams]
    return [u for u in found if u in users and users[u].active]


ACTIONS: dict[str, Action] = {
    "set": _set,
    "move": _move,
    "assign": _assign,
    "create_task": _create_task,
    "notify": _notify,
    "webhook": _webhook,
}


RunnerFactory = Callable[[Tx, CompiledConfig], CampaignRunner]
