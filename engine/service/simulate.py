"""The dry run: what a candidate bundle would do to a tenant's stored records, without writing.

Records are read in batches (keyset by id) in one read-only transaction that is rolled back,
and each goes through the candidate's pure compiled rules (simulate_record.py); the result is
compared with what is stored. One record the candidate cannot evaluate is reported, never the
end of the run. The report (simulate_report.py) says, per entity, how many records would move
between which pools and by which rules, who would lose or change owners, which scores and grades
would differ, and which campaigns would fire — each with a few example records.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from cronsim import CronSim

from engine.config.activation import deactivated_users, new_relative
from engine.config.diff import diff_bundles
from engine.config.loader import load_bundle
from engine.config.model import Bundle
from engine.errors import Invalid, NotFound
from engine.fields.validator import FieldError
from engine.rules.campaigns import CompiledCampaign
from engine.rules.compiled import CompiledConfig
from engine.service.masking import STARS, Mask, mask_value
from engine.service.permissions import require
from engine.service.policy import Policy
from engine.service.simulate_record import (
    Outcome,
    RecordSimulator,
    Snapshot,
)
from engine.service.simulate_report import (
    ERRORS,
    TRANSITIONS,
    CampaignHit,
    EntityReport,
    Example,
    FieldChange,
    Note,
    OwnerChange,
    PoolMove,
    RecordError,
    RuleCount,
    SimulationReport,
    Tally,
    hashable,
    texts,
)
from engine.storage import tables as t
from engine.storage.store import Store
from engine.storage.visibility import visible

if TYPE_CHECKING:
    from engine.service.app import Services

BATCH = 2000  # records read per query
Progress = Callable[[str, int, int], None]  # (entity, records done, records to do)
Source = Bundle | Mapping[str, Any] | int  # a bundle, its files, or a stored version's number


# entry points ----------------------------------------------------------------------------------
def simulate(
    svc: Services,
    tenant: str,
    bundle: Bundle,
    *,
    now: datetime | None = None,
    sample: int | None = None,
    progress: Progress | None = None,
    version: int | None = None,
    by: str | None = None,
) -> SimulationReport:
    """The dry run of `bundle` against the tenant's stored records (nothing is written),
    its example records as `by` may see them (None: a tenant-wide key, in full).
    NotFound when the tenant has no active config; Invalid for another tenant's bundle."""
    active = active_config(svc, tenant)
    if bundle.id != tenant:
        detail = f"this bundle is tenant '{bundle.id}', not '{tenant}'"
        raise Invalid(detail, [FieldError("files", "tenant", {"value": bundle.id})])
    if sample is not None and sample < 1:
        raise Invalid("sample must be at least 1", [FieldError("sample", "too_small", {"n": 1})])
    candidate = CompiledConfig.compile(bundle, version or 0)
    moment = (now or svc.clock.now()).astimezone(UTC)
    return Simulation(svc.store, active, candidate, moment, sample, progress, version, by).run()


def dry_run(
    svc: Services,
    tenant: str,
    source: Source,
    *,
    now: datetime | None = None,
    sample: int | None = None,
    progress: Progress | None = None,
    by: str | None = None,
) -> SimulationReport:
    """A dry run for a caller acting for `by` (a role that can configure, as for a push):
    of a bundle, of its files ({name: YAML text}; BundleInvalid with every error) or of a
    stored version by number."""
    require(active_config(svc, tenant), by, "configure")
    version = None
    if isinstance(source, Bundle):
        bundle = source
    elif isinstance(source, int):
        version = _whole(source, "version", 1)
        bundle = svc.configs.bundle(tenant, version)
    else:
        bundle = load_bundle(_files(source))
    return simulate(
        svc, tenant, bundle, now=now, sample=sample, progress=progress, version=version, by=by
    )


def dry_run_request(svc: Services, tenant: str, body: Any, by: str | None) -> SimulationReport:
    """The API's body: {"files": {…}} or {"version": n}, with optional "now" (ISO time with
    an offset) and "sample" (records per entity)."""
    if not isinstance(body, Mapping):
        raise Invalid("send a JSON object", [FieldError("body", "type", {"expected": "an object"})])
    has_files, has_version = body.get("files") is not None, body.get("version") is not None
    if has_files == has_version:
        detail = 'send the candidate as {"files": {"tenant.yaml": "…", …}} or {"version": n}'
        raise Invalid(detail, [FieldError("files", "required")])
    source: Source = body["files"] if has_files else _whole(body["version"], "version", 1)
    if has_files and not isinstance(source, Mapping):
        raise Invalid(
            'send the bundle as {"files": {"tenant.yaml": "…", …}}',
            [FieldError("files", "type", {"expected": "an object"})],
        )
    sample = None if body.get("sample") is None else _whole(body["sample"], "sample", 1)
    return dry_run(svc, tenant, source, now=parse_now(body.get("now")), sample=sample, by=by)


def active_config(svc: Services, tenant: str) -> CompiledConfig:
    try:
        return svc.configs.active(tenant)
    except NotFound:
        raise NotFound(
            f"tenant '{tenant}' has no active config to compare with: load a bundle first "
            "(tidepool load)"
        ) from None


def parse_now(raw: Any) -> datetime | None:
    """An ISO time with an offset (a dry run "as of" then); None when not given."""
    if raw is None:
        return None
    error = Invalid("now must be an ISO time with an offset", [FieldError("now", "datetime")])
    if not isinstance(raw, str):
        raise error
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise error from None
    if moment.tzinfo is None:
        raise error
    return moment


def _whole(raw: Any, name: str, least: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise Invalid(
            f"{name} must be a whole number",
            [FieldError(name, "type", {"expected": "a whole number"})],
        )
    if raw < least:
        raise Invalid(
            f"{name} must be at least {least}", [FieldError(name, "too_small", {"n": least})]
        )
    return raw


def _files(raw: Mapping[str, Any]) -> dict[str, str]:
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise Invalid(
            'send the bundle as {"files": {"tenant.yaml": "…", …}}',
            [FieldError("files", "type", {"expected": "text"})],
        )
    return dict(raw)


# the run ---------------------------------------------------------------------------------------
class Simulation:
    def __init__(
        self,
        store: Store,
        active: CompiledConfig,
        candidate: CompiledConfig,
        now: datetime,
        sample: int | None = None,
        progress: Progress | None = None,
        version: int | None = None,
        by: str | None = None,
    ) -> None:
        self.store, self.active, self.candidate = store, active, candidate
        self.now, self.sample, self.progress, self.version = now, sample, progress, version
        self.read_seconds = 0.0
        # the examples are shown to `by`: masked as either version masks them for them,
        # and only records the active version lets them see (the counts are of all)
        self.masks = (Mask(active, by), Mask(candidate, by))
        self.policy = Policy(active, by)

    def run(self) -> SimulationReport:
        began = time.perf_counter()
        with read_only(self.store) as conn:
            entities = tuple(self._entity(conn, name) for name in self._entities())
        bundle = self.candidate.bundle
        return SimulationReport(
            tenant=bundle.id,
            active_version=self.active.version,
            candidate_version=self.version,
            candidate_digest=bundle.digest,
            now=self.now,
            sample=self.sample,
            locale=bundle.tenant.locale,
            entities=entities,
            changes=tuple(c.as_dict() for c in diff_bundles(self.active.bundle, bundle)),
            notes=self._notes(entities),
            seconds=round(time.perf_counter() - began, 3),
            read_seconds=round(self.read_seconds, 3),
        )

    def _entities(self) -> list[str]:
        """Entities the candidate has rules for (or whose fields it changes): the others
        have nothing to report."""
        cand, old = self.candidate, self.active.bundle
        fresh = new_relative(old, cand.bundle)
        ruled = set(cand.derived) | set(cand.pools)
        ruled |= {
            e
            for e, c in cand.campaigns.items()
            if c.on_change or c.scheduled or any(r.id in fresh for r in c.relative)
        }
        ruled |= {e for e, a in cand.assignment.items() if any(r.reassign for r in a.rules)}
        if deactivated_users(old, cand.bundle):
            ruled |= set(cand.assignment) | set(cand.public)
        ruled |= {e for e in cand.bundle.entities if self._fields_changed(e)}
        return [e for e in cand.bundle.entities if e in ruled]

    def _fields_changed(self, entity: str) -> bool:
        return not same(
            self.active.bundle.entities.get(entity), self.candidate.bundle.entities[entity]
        )

    def _entity(self, conn: sa.Connection, entity: str) -> EntityReport:
        began = time.perf_counter()
        rules = RecordSimulator(
            self.active, self.candidate, entity, self.now, validate=self._fields_changed(entity)
        )
        hidden = frozenset(f for mask in self.masks for f in mask.fields(entity))
        run = _EntityRun(self.candidate, entity, rules, hidden)
        shown = self.policy.visibility(entity)
        seen = (
            None if shown.everything else visible(shown, self.candidate.tenant, conn.dialect.name)
        )
        total = self._count(conn, entity)
        todo = total if self.sample is None else min(total, self.sample)
        after = ""
        while run.scanned < todo:
            batch, unseen = self._read(conn, entity, after, min(BATCH, todo - run.scanned), seen)
            if not batch:
                break
            members = self._members(conn, rules, batch) if rules.needs_members else {}
            run.unseen = unseen
            run.batch(batch, members, self._fired(conn, run))
            after = batch[-1].id
            if self.progress is not None:
                self.progress(entity, run.scanned, todo)
        run.finish(self._fired_today(conn, run))
        return run.report(total, time.perf_counter() - began)

    # reading ----------------------------------------------------------------------------------
    def _live(self, entity: str) -> tuple[sa.ColumnElement[bool], ...]:
        r = t.records.c
        return (r.tenant_id == self.candidate.tenant, r.entity == entity, r.deleted_at.is_(None))

    def _count(self, conn: sa.Connection, entity: str) -> int:
        query = sa.select(sa.func.count()).select_from(t.records).where(*self._live(entity))
        return int(conn.execute(query).scalar_one())

    def _read(
        self,
        conn: sa.Connection,
        entity: str,
        after: str,
        limit: int,
        seen: sa.ColumnElement[bool] | None = None,
    ) -> tuple[list[Snapshot], frozenset[str]]:
        """A batch of records, and the ids of those `seen` does not let the reader see."""
        began = time.perf_counter()
        r = t.records.c
        shown = sa.true() if seen is None else seen
        query = (
            sa.select(r.id, r.data, r.owner, r.pool, r.owner_since, r.protected_until)
            .add_columns(shown.label("seen"))
            .where(*self._live(entity), r.id > after)
            .order_by(r.id)
            .limit(limit)
        )
        found = conn.execute(query).all()
        rows = [Snapshot(*row[:6]) for row in found]
        unseen = frozenset(row.id for row in found if not row.seen)
        self.read_seconds += time.perf_counter() - began
        return rows, unseen

    def _members(
        self, conn: sa.Connection, rules: RecordSimulator, batch: list[Snapshot]
    ) -> dict[str, frozenset[str]]:
        """The batch's stored memberships of time-based segments (one query)."""
        m = t.segment_members.c
        query = sa.select(m.record_id, m.segment).where(
            m.tenant_id == self.candidate.tenant,
            m.segment.in_(sorted(rules.timed)),
            m.record_id >= batch[0].id,
            m.record_id <= batch[-1].id,
        )
        found: dict[str, set[str]] = defaultdict(set)
        for record_id, segment in conn.execute(query):
            found[str(record_id)].add(str(segment))
        return {k: frozenset(v) for k, v in found.items()}

    def _fired(
        self, conn: sa.Connection, run: _EntityRun
    ) -> Callable[[list[str]], dict[tuple[str, str], datetime]]:
        """A look-up of when limited campaigns last fired for some records (one query)."""
        limited = sorted(run.once_or_cooldown)

        def look(ids: list[str]) -> dict[tuple[str, str], datetime]:
            if not limited or not ids:
                return {}
            f = t.campaign_firings.c
            query = (
                sa.select(f.campaign, f.record_id, sa.func.max(f.fired_at))
                .where(
                    f.tenant_id == self.candidate.tenant,
                    f.campaign.in_(limited),
                    f.record_id.in_(sorted(set(ids))),
                )
                .group_by(f.campaign, f.record_id)
            )
            return {(str(c), str(r)): at for c, r, at in conn.execute(query)}

        return look

    def _fired_today(self, conn: sa.Connection, run: _EntityRun) -> dict[str, int]:
        """Today's firings of campaigns with a daily cap (their locked counters, read)."""
        capped = sorted(run.capped)
        if not capped:
            return {}
        c = t.user_counters.c
        day = self.now.astimezone(self.candidate.tz).date()
        query = sa.select(c.user_id, c.count).where(
            c.tenant_id == self.candidate.tenant,
            c.kind == "campaign",
            c.day == day,
            c.user_id.in_(capped),
        )
        return {str(k): int(n) for k, n in conn.execute(query)}

    # notes ------------------------------------------------------------------------------------
    def _notes(self, entities: tuple[EntityReport, ...]) -> tuple[Note, ...]:
        notes: list[Note] = []
        if self.sample is not None:
            notes.append(Note("sampled", {"n": self.sample}))
        old = {r.name: r for r in self.active.bundle.rollups}
        for rollup in self.candidate.bundle.rollups:
            if not same(old.get(rollup.name), rollup):
                notes.append(
                    Note("rollup_as_stored", {"rollup": rollup.name, "entity": rollup.entity})
                )
        if any(e.field_changes for e in entities):
            notes.append(Note("derived_on_write"))
        return tuple(notes)


def same(a: Any, b: Any) -> bool:
    """Equal config items, wherever they were written (their `loc` is not compared)."""
    if is_dataclass(a) and type(a) is type(b):
        return all(
            f.name == "loc" or same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a)
        )
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@contextmanager
def read_only(store: Store) -> Iterator[sa.Connection]:
    """One transaction for the whole read, rolled back at the end: on PostgreSQL read-only
    with one snapshot (repeatable read); on SQLite a deferred read (WAL keeps its snapshot)."""
    with store.engine.connect() as conn:
        transaction = conn.begin()
        try:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn
        finally:
            transaction.rollback()


# tallying one entity -----------------------------------------------------------------------------
class _EntityRun:
    """An entity's records as they are scanned: counts, examples and pending firings."""

    def __init__(
        self,
        cfg: CompiledConfig,
        entity: str,
        rules: RecordSimulator,
        hidden: frozenset[str] = frozenset(),
    ) -> None:
        self.cfg, self.entity, self.rules = cfg, entity, rules
        self.hidden = hidden  # fields the reader sees masked
        self.unseen: frozenset[str] = frozenset()  # the batch's records the reader may not see
        definition = cfg.bundle.entities[entity]
        self.types = {name: f.type for name, f in definition.fields.items()}
        self.title_field = definition.title_field or next(
            (f for f in ("name", "title", "summary") if f in definition.fields), None
        )
        self.scanned = self.changed = self.errors = 0
        self.error_examples: list[RecordError] = []
        self.moves: dict[tuple[str | None, str], Tally] = defaultdict(Tally)
        self.owners: dict[tuple[str, str], Tally] = defaultdict(Tally)
        self.fields: dict[str, Tally] = defaultdict(Tally)
        self.campaigns: dict[str, Tally] = defaultdict(Tally)
        self.planned: Counter[tuple[str, str]] = Counter()  # (campaign, due_now | skipped | later)
        campaigns = [*rules.on_change, *rules.relative, *rules.scheduled]
        self.by_id: dict[str, CompiledCampaign] = {c.id: c for c in campaigns}
        limits = {c.id: c.definition.limits for c in campaigns}
        self.once_or_cooldown = {k for k, v in limits.items() if v.once_per_record or v.cooldown}
        self.capped = {k: v.max_per_day for k, v in limits.items() if v.max_per_day is not None}

    def title(self, record: Snapshot) -> str | None:
        value = self.shown(self.title_field, record.data.get(self.title_field or ""))
        return None if value is None else str(value)

    def shown(self, name: str | None, value: Any) -> Any:
        """A field's value as the reader sees it."""
        if name is None or name not in self.hidden:
            return value
        return mask_value(self.types.get(name, "string"), value)

    def batch(
        self,
        records: list[Snapshot],
        members: Mapping[str, frozenset[str]],
        fired: Callable[[list[str]], dict[tuple[str, str], datetime]],
    ) -> None:
        pending: list[tuple[CompiledCampaign, Snapshot]] = []
        for record in records:
            self.scanned += 1
            try:
                outcome = self.rules.evaluate(record, members.get(record.id, frozenset()))
            except Exception as exc:  # one record never ends the run: it is reported
                said = STARS if self.hidden else str(exc)  # it may quote any value
                self._error(record, "failed", f"{type(exc).__name__}: {said}")
                continue
            if outcome.invalid:
                message = "; ".join(
                    f"{e.field}: {STARS if e.field in self.hidden else e.message('en')}"
                    for e in outcome.invalid
                )
                self._error(record, "invalid", message)
            if outcome.changed(record) or outcome.fires:
                self.changed += 1
            self._tally(record, outcome)
            pending += [(c, record) for c in outcome.fires]
        self._limit(pending, fired([r.id for c, r in pending if c.id in self.once_or_cooldown]))

    def _error(self, record: Snapshot, code: str, message: str) -> None:
        self.errors += 1
        if len(self.error_examples) < ERRORS and record.id not in self.unseen:
            self.error_examples.append(RecordError(record.id, self.title(record), code, message))

    def _tally(self, record: Snapshot, out: Outcome) -> None:
        title = self.title(record)
        seen = record.id not in self.unseen  # else counted, never an example
        if out.pool != record.pool or out.path:
            example = Example(record.id, title, record.pool, out.pool, tuple(out.path))
            self.moves[(record.pool, out.pool or "")].add(example, tuple(set(out.path)), seen)
        for reason, rule in out.owners:
            example = Example(record.id, title, record.owner, out.owner)
            self.owners[(reason, rule)].add(example, shown=seen)
        for item in out.derived:
            tally = self.fields[item.name]
            before, after = self.shown(item.field, item.before), self.shown(item.field, item.after)
            tally.add(Example(record.id, title, before, after), shown=seen)
            tally.pairs[(hashable(before), hashable(after))] += 1
        for campaign, state in out.planned:
            self.planned[(campaign.id, state)] += 1

    def _limit(
        self,
        pending: list[tuple[CompiledCampaign, Snapshot]],
        last: dict[tuple[str, str], datetime],
    ) -> None:
        """Each firing, unless once_per_record or a cooldown refuses it (as the engine)."""
        for campaign, record in pending:
            tally = self.campaigns[campaign.id]
            limits = campaign.definition.limits
            before = last.get((campaign.id, record.id))
            if before is not None and limits.once_per_record:
                tally.extra["limited:once_per_record"] += 1
            elif (
                before is not None and limits.cooldown and self.rules.now - before < limits.cooldown
            ):
                tally.extra["limited:cooldown"] += 1
            else:
                tally.extra[f"variant:{campaign.variant(record.id) or ''}"] += 1
            tally.add(Example(record.id, self.title(record)), shown=record.id not in self.unseen)

    def finish(self, today: Mapping[str, int]) -> None:
        """A daily cap refuses what today's firings and these leave no room for."""
        for name, cap in self.capped.items():
            tally = self.campaigns.get(name)
            if tally is None:
                continue
            going = sum(n for k, n in tally.extra.items() if k.startswith("variant:"))
            over = going - max(0, cap - today.get(name, 0))
            if over > 0:
                tally.extra["limited:max_per_day"] += over

    # the report ---------------------------------------------------------------------------------
    def report(self, total: int, seconds: float) -> EntityReport:
        entity = self.cfg.bundle.entities[self.entity]
        return EntityReport(
            entity=self.entity,
            label=texts(entity.label, self.entity),
            total=total,
            scanned=self.scanned,
            changed=self.changed,
            errors=self.errors,
            error_examples=tuple(self.error_examples),
            pool_moves=self._pool_moves(),
            owner_changes=self._owner_changes(),
            field_changes=self._field_changes(),
            campaigns=self._campaign_hits(),
            seconds=round(seconds, 3),
        )

    def _pool_moves(self) -> tuple[PoolMove, ...]:
        pools = self.cfg.pools.get(self.entity)
        if pools is None:
            return ()
        definition = pools.definition
        promotions = {p.id: p.label for p in definition.promotions}

        def label(pool: str | None) -> dict[str, str] | None:
            found = definition.pools.get(pool or "")
            return None if pool is None else texts(found.label if found else None, pool)

        out = [
            PoolMove(
                pool_set=definition.name,
                before=before,
                after=after,
                count=tally.count,
                before_label=label(before),
                after_label=label(after) or {"*": after},
                rules=tuple(
                    RuleCount(
                        rule, n, texts(promotions[rule], rule) if promotions.get(rule) else None
                    )
                    for rule, n in tally.rules.most_common()
                ),
                examples=tuple(tally.examples),
            )
            for (before, after), tally in self.moves.items()
        ]
        return tuple(sorted(out, key=lambda m: (-m.count, m.before or "", m.after)))

    def _owner_changes(self) -> tuple[OwnerChange, ...]:
        users = self.cfg.bundle.tenant.users
        pools = self.cfg.pools.get(self.entity)
        promotions = {p.id: p.label for p in pools.definition.promotions} if pools else {}
        rules = {r.id: r.definition.label for r in self._assignment_rules()}

        def label(reason: str, rule: str) -> dict[str, str] | None:
            if reason.startswith("deactivated") and rule in users:
                return {"*": users[rule].name}
            found = promotions.get(rule) if reason == "unassigned" else rules.get(rule)
            return texts(found, rule) if found is not None else None

        out = [
            OwnerChange(reason, rule, tally.count, label(reason, rule), tuple(tally.examples))
            for (reason, rule), tally in self.owners.items()
        ]
        return tuple(sorted(out, key=lambda o: (-o.count, o.reason, o.rule)))

    def _assignment_rules(self) -> list[Any]:
        compiled = self.cfg.assignment.get(self.entity)
        return list(compiled.rules) if compiled else []

    def _field_changes(self) -> tuple[FieldChange, ...]:
        fields = self.cfg.bundle.entities[self.entity].fields
        out = []
        for item in self.cfg.bundle.derived:
            tally = self.fields.get(item.name)
            if item.entity != self.entity or tally is None:
                continue
            defined = fields.get(item.field)
            pairs = tally.pairs.most_common(TRANSITIONS)
            out.append(
                FieldChange(
                    rule=item.name,
                    kind=item.kind,
                    field=item.field,
                    count=tally.count,
                    label=texts(defined.label, item.field) if defined else None,
                    transitions=tuple((a, b, n) for (a, b), n in pairs),
                    examples=tuple(tally.examples),
                )
            )
        return tuple(out)

    def _campaign_hits(self) -> tuple[CampaignHit, ...]:
        out = []
        names = sorted(set(self.campaigns) | {c for c, _ in self.planned})
        for name in names:
            campaign = self.by_id[name]
            tally = self.campaigns.get(name) or Tally()
            definition = campaign.definition
            out.append(
                CampaignHit(
                    campaign=name,
                    trigger=definition.trigger.kind,
                    count=tally.count,
                    label=texts(definition.label, name) if definition.label else None,
                    limited={k[8:]: n for k, n in tally.extra.items() if k.startswith("limited:")},
                    variants={
                        k[8:] or "-": n for k, n in tally.extra.items() if k.startswith("variant:")
                    },
                    detail=self._detail(campaign),
                    examples=tuple(tally.examples),
                )
            )
        return tuple(sorted(out, key=lambda c: (-c.count, c.campaign)))

    def _detail(self, campaign: CompiledCampaign) -> dict[str, Any]:
        trigger = campaign.definition.trigger
        if trigger.kind == "relative":
            states = {s: self.planned[(campaign.id, s)] for s in ("due_now", "skipped", "later")}
            return {"planned": sum(states.values()), **states}
        if trigger.kind == "schedule":
            return {"next_at": next_tick(trigger.cron or "", self.cfg, self.rules.now)}
        if trigger.segment is not None:
            return {"segment": trigger.segment}
        return {k: v for k, v in (("field", trigger.field), ("pool", trigger.pool)) if v}


def next_tick(cron: str, cfg: CompiledConfig, now: datetime) -> str | None:
    """The schedule's next time after `now`, in the tenant's zone."""
    local = now.astimezone(cfg.tz).replace(tzinfo=None)
    for tick in CronSim(cron, local):
        return tick.replace(tzinfo=cfg.tz).isoformat()
    return None
