"""The record service: every write of a record goes through here, from any shell.

One write is one transaction: validated values, reference and uniqueness checks, the record row,
its history row and (when asked) the idempotency row commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from engine.clock import Clock
from engine.conditions.nodes import field_names
from engine.conditions.stored import storable
from engine.config.model import RESERVED_FIELDS, FormDef
from engine.errors import (
    BadQuery,
    DuplicateValue,
    Forbidden,
    IdempotencyMismatch,
    Invalid,
    NotFound,
    Refused,
    TooLarge,
    VersionConflict,
)
from engine.fields.validator import EntityValidator, FieldError, FormRules
from engine.i18n import choices_hint
from engine.rules.compiled import CompiledConfig
from engine.rules.decisions import decision
from engine.rules.forms import FormInput
from engine.rules.plan import Intent, Plan, entered, owned, plan, written
from engine.rules.rollups import RollupOverflow
from engine.service import submissions
from engine.service.apply import apply_change
from engine.service.assigning import Assigner
from engine.service.campaign_runner import CampaignRunner
from engine.service.configs import TenantConfigs
from engine.service.jobs import Jobs
from engine.service.listing import ListCompiler, ListQuery, Search, parse_filters
from engine.service.masking import Mask
from engine.service.ownership import owner_error, shielded
from engine.service.policy import Policy
from engine.service.rollups import (
    Pair,
    lock_parents,
    recompute,
    rollup_row,
    touched_parents,
)
from engine.service.rows import (
    decision_json,
    history_row,
    record_row,
    timeline_json,
)
from engine.service.unique_keys import unique_key
from engine.service.views import history_json, instant, record_json, related_json
from engine.storage import tables as t
from engine.storage.store import HistoryEntry, Record, Store, Tx, UniqueTaken, transient
from engine.storage.visibility import visible

MAX_BATCH = 1000
_COLUMNS = frozenset({"pool", "owner"})  # a plan's changes that are columns, not values
DUPLICATE_OF = "duplicate_of"  # in a form submission's answer: the earlier record's id
DEADLOCK_RETRIES = 3  # tries of a write PostgreSQL picked as a deadlock's victim


@dataclass(frozen=True, slots=True)
class Idem:
    """An Idempotency-Key and the fingerprint of the request it came with."""

    key: str
    fingerprint: str

    @staticmethod
    def of(key: str, *parts: Any) -> Idem:
        body = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
        return Idem(key, hashlib.sha256(body.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class Written:
    """The JSON result of a write, and whether it was replayed from an earlier identical one."""

    result: Any
    replayed: bool = False


@dataclass
class _Item:
    index: int
    values: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    records: list[Record]
    next_cursor: str | None


class RecordService:
    def __init__(
        self,
        store: Store,
        configs: TenantConfigs,
        clock: Clock,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock
        self.new_id = new_id
        self.jobs = Jobs(store, clock)  # campaigns' outbox, written in the records' writes

    # creating ------------------------------------------------------------------------------
    def create(
        self,
        tenant: str,
        entity: str,
        data: Any,
        *,
        actor: str | None = None,
        idem: Idem | None = None,
        policy: Policy | None = None,
    ) -> Written:
        """Create a record. With a `policy` (the caller's), an owner given must be the caller
        themselves or need `assign`, references must name records the caller sees, and a
        refusal shows values as the caller may see them."""
        cfg = self.configs.active(tenant)
        validator = cfg.validator(entity)
        with _shown_to(policy, entity):
            return self._idempotent(
                tenant,
                idem,
                lambda tx: self._create_one(tx, cfg, validator, data, None, actor, policy=policy),
            )

    def submit_form(
        self,
        tenant: str,
        form: str,
        data: Any,
        *,
        params: Mapping[str, str] | None = None,
        actor: str | None = None,
        idem: Idem | None = None,
        client: str | None = None,
        guard: Callable[[Tx], None] | None = None,
        policy: Policy | None = None,
    ) -> Written:
        """Create a record through a form, with the form's conditional logic.

        `data` is what the visitor entered, by field name. `params` is the query of the page
        the form was filled on (the hosted page passes `request.query_params`; the REST route
        passes the submit URL's query): each hidden field takes the parameter its `from_url`
        names, unless `data` names the field itself; other parameters are ignored. Then:

        - a field whose `visible_when` does not hold on the submitted values (coerced, with
          defaults) is not visible: a value sent for it is dropped, never stored, and it is
          not required (even with `required: true`); it counts as empty (or its default) for
          the other fields' conditions;
        - a visible field whose `required_when` holds must have a value, else a 422 with the
          error code `required_when` on that field;
        - everything else is the usual create: types, options, `required`, defaults, unique
          values; hidden fields are stored like any field (e.g. `source`, `activity`).

        With the form's `duplicates` rule, a submission whose `by` values equal one made
        within the window makes no record: the answer is the earlier record with
        `duplicate_of` set. Every submission that makes or finds a record is logged with its
        channel (the hidden fields' values) and `client` (the hosted page's keyed hash of the
        visitor's address) for the rate limits and the submissions report. `guard` runs
        first in the write's transaction (the hosted page's rate limits): what it raises
        undoes the write.
        """
        cfg = self.configs.active(tenant)
        entity, compiled = cfg.form(form)
        validator = cfg.validator(entity)
        given = compiled.prepare(validator, data, params, self.clock.now())
        with _shown_to(policy, entity):
            return self._idempotent(
                tenant,
                idem,
                lambda tx: self._submit(
                    tx, cfg, form, validator, given, actor, client, guard, policy
                ),
            )

    def _submit(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        form: str,
        validator: EntityValidator,
        given: FormInput,
        actor: str | None,
        client: str | None,
        guard: Callable[[Tx], None] | None,
        policy: Policy | None = None,
    ) -> dict[str, Any]:
        """One submission: the duplicate window, the record, the log row — one transaction."""
        if guard is not None:
            guard(tx)
        tenant, now = cfg.bundle.id, self.clock.now()
        form_def = cfg.bundle.forms[form]
        values, _ = validator.clean(given.data, given.rules.allowed, given.rules.name)
        with_defaults = {**validator.defaults, **given.rules.defaults, **values}
        channel = submissions.channel_of(tuple(form_def.url_params.values()), with_defaults)
        rule = form_def.duplicates
        key = submissions.dedupe_key(rule, values) if rule else None
        if rule is not None and key is not None:
            earlier = self._earlier(tx, cfg, form_def, key, now, validator, given)
            if earlier is not None:
                submissions.log(
                    tx,
                    tenant,
                    form,
                    now,
                    submissions.DUPLICATE,
                    channel=channel,
                    client=client,
                    record_id=earlier.id,
                )
                return {**record_json(earlier), DUPLICATE_OF: earlier.id}
        result = self._create_one(
            tx,
            cfg,
            validator,
            given.data,
            given.rules,
            actor or f"form:{form}",
            given.errors,
            policy=policy,
        )
        if key is not None:
            submissions.hold(tx, tenant, form, key, result["id"])
        submissions.log(
            tx,
            tenant,
            form,
            now,
            submissions.CREATED,
            channel=channel,
            client=client,
            record_id=result["id"],
        )
        return result

    def _earlier(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        form: FormDef,
        key: str,
        now: datetime,
        validator: EntityValidator,
        given: FormInput,
    ) -> Record | None:
        """The record an identical submission made within the window, if it still exists
        (this submission must be valid all the same: a refusal says what is wrong)."""
        assert form.duplicates is not None
        within = timedelta(minutes=form.duplicates.within_minutes)
        held = submissions.claim(tx, cfg.bundle.id, form.name, key, now, within)
        if held is None:
            return None
        _, errors = validator.for_create(given.data, given.rules)
        if errors or given.errors:
            raise _error_for(errors + list(given.errors))
        record = tx.get_record(cfg.bundle.id, form.entity, held) if held else None
        if record is None:  # deleted meanwhile, or its write failed: this one makes a new one
            submissions.take_over(tx, cfg.bundle.id, form.name, key, now)
        return record

    def create_many(
        self,
        tenant: str,
        entity: str,
        items: Any,
        *,
        actor: str | None = None,
        idem: Idem | None = None,
        locale: str | None = None,
        policy: Policy | None = None,
    ) -> Written:
        if not isinstance(items, list):
            raise Invalid(
                "records must be a list", [FieldError("records", "type", {"expected": "a list"})]
            )
        if len(items) > MAX_BATCH:
            raise TooLarge(f"at most {MAX_BATCH} records per batch, got {len(items)}")
        cfg = self.configs.active(tenant)
        validator = cfg.validator(entity)
        return self._idempotent(
            tenant,
            idem,
            lambda tx: self._create_batch(tx, cfg, validator, items, actor, locale, policy),
        )

    def _create_one(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        validator: EntityValidator,
        data: Any,
        form: FormRules | None,
        actor: str | None,
        form_errors: Sequence[FieldError] = (),
        *,
        policy: Policy | None = None,
    ) -> dict[str, Any]:
        data, owner, owner_errors, given = (
            _take_owner(cfg, data) if form is None else (data, None, [], False)
        )
        if given and policy is not None:
            policy.require_owner_change(owner, None)
        values, errors = validator.for_create(data, form)
        item = _Item(0, values, owner_errors + errors + list(form_errors), owner)
        self._check_refs(tx, cfg, validator, [item], policy)
        self._check_owners(tx, cfg, [item])
        self._check_unique(tx, cfg, validator, [item])
        if item.errors:
            raise _error_for(item.errors)
        try:
            records = self._insert(tx, cfg, validator, [item], actor, savepoint=False)
        except UniqueTaken:
            raise DuplicateValue(
                "a unique value was taken meanwhile",
                [
                    FieldError(n, "unique", {"value": values[n]})
                    for n in validator.unique
                    if n in values
                ],
            ) from None
        return record_json(records[0])

    def _create_batch(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        validator: EntityValidator,
        items: Sequence[Any],
        actor: str | None,
        locale: str | None,
        policy: Policy | None = None,
    ) -> dict[str, Any]:
        prepared = [self._prepare(cfg, validator, i, data, policy) for i, data in enumerate(items)]
        self._check_refs(tx, cfg, validator, prepared, policy)
        self._check_owners(tx, cfg, prepared)
        self._check_unique(tx, cfg, validator, prepared)
        valid = [p for p in prepared if not p.errors]
        try:
            # one savepoint for the batch: a refusal undoes its decisions and rollups too
            with tx.conn.begin_nested():
                records = self._insert(tx, cfg, validator, valid, actor, savepoint=False)
            stored = dict(zip([p.index for p in valid], records, strict=True))
        except UniqueTaken:  # a concurrent writer took a value: fall back to one by one
            stored = self._insert_each(tx, cfg, validator, valid, actor)
        if policy is not None:
            for p in prepared:
                p.errors = policy.shown_errors(validator.entity.name, p.errors)
        return {"results": [_batch_result(p, stored.get(p.index), locale) for p in prepared]}

    @staticmethod
    def _prepare(
        cfg: CompiledConfig,
        validator: EntityValidator,
        index: int,
        data: Any,
        policy: Policy | None = None,
    ) -> _Item:
        data, owner, owner_errors, given = _take_owner(cfg, data)
        if given and policy is not None:
            try:
                policy.require_owner_change(owner, None)
            except Forbidden as exc:
                owner_errors = [*owner_errors, *(replace(e, field="owner") for e in exc.errors)]
        values, errors = validator.for_create(data)
        return _Item(index, values, owner_errors + errors, owner)

    def _insert_each(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        validator: EntityValidator,
        items: list[_Item],
        actor: str | None,
    ) -> dict[int, Record]:
        stored: dict[int, Record] = {}
        for item in items:
            try:
                with tx.conn.begin_nested():
                    stored[item.index] = self._insert(
                        tx, cfg, validator, [item], actor, savepoint=False
                    )[0]
            except UniqueTaken:
                item.errors = [
                    FieldError(n, "unique", {"value": item.values.get(n)})
                    for n in validator.unique
                    if n in item.values
                ]
        return stored

    def _insert(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        validator: EntityValidator,
        items: list[_Item],
        actor: str | None,
        *,
        savepoint: bool = True,
        depth: int = 0,
    ) -> list[Record]:
        now = self.clock.now()
        entity = validator.entity.name
        # A batch's records are a microsecond apart, in order: "newest first" and `last`
        # rollups keep the order they were sent in.
        ids = [self.new_id() for _ in items]
        plans = [
            (i, plan(cfg, entity, i, None, written(item.values, item.owner), now))
            for i, item in zip(ids, items, strict=True)
        ]
        records = [
            Record(
                cfg.tenant,
                record_id,
                entity,
                made.values,
                made.owner,
                made.pool,
                1,
                now + timedelta(microseconds=i),
                now + timedelta(microseconds=i),
                None,
                cfg.version,
                actor,
                pool_entered_at=made.columns.get("pool_entered_at"),
            )
            for i, (record_id, made) in enumerate(plans)
        ]
        tx.claim_unique(
            [
                {
                    "tenant_id": cfg.tenant,
                    "entity": entity,
                    "field": name,
                    "value": unique_key(r.data[name], name in validator.folded),
                    "record_id": r.id,
                }
                for r in records
                for name in validator.unique
                if name in r.data
            ],
            savepoint=savepoint,
        )
        # Assignment locks its rule's rotation until the commit: it comes last, and what it
        # decides is written with the records and decisions (one statement on PostgreSQL).
        assigner = Assigner(tx, cfg, entity, now)
        records, rows = self._own_new(cfg, assigner, records, [p for _, p in plans], now)
        tx.write_new(assigner.pending([record_row(r) for r in records], rows))
        # No history row for a create: who and when are on the record (created_by,
        # created_at) and history() rebuilds the first values by undoing later changes.
        related = self._roll_up(tx, cfg, entity, [(None, r.data) for r in records], fired=depth)
        records = [self._campaigns_after(tx, cfg, None, r, depth) for r in records]
        return [_with_related(r, _reached(r, related)) for r in records] if related else records

    def campaign_runner(self, tx: Tx, cfg: CompiledConfig, depth: int = 0) -> CampaignRunner:
        """Campaigns for writes in `tx`, their record-writing actions through this service."""
        return CampaignRunner(tx, cfg, self.clock.now(), _Writer(self), self.jobs, depth)

    def _campaigns_after(
        self, tx: Tx, cfg: CompiledConfig, before: Record | None, after: Record, depth: int
    ) -> Record:
        """The campaigns this write fires (their decisions join the record's)."""
        if after.entity not in cfg.campaigns:
            return after
        runner = self.campaign_runner(tx, cfg, depth)
        rows = runner.on_write(before, after)
        latest = runner.latest.get(after.id)
        if latest is not None:  # an action wrote the record: answer with it as it is now
            after = replace(latest, decisions=after.decisions, related=after.related)
        if not rows:
            return after
        return replace(after, decisions=(*after.decisions, *(decision_json(d) for d in rows)))

    # owners of new records -----------------------------------------------------------------
    @staticmethod
    def _own_new(
        cfg: CompiledConfig,
        assigner: Assigner,
        records: list[Record],
        plans: list[Plan],
        now: datetime,
    ) -> tuple[list[Record], list[dict[str, Any]]]:
        """Owners (or queues) by assignment completing each new record's plan; the records
        with their decisions, and every decision row of the write."""
        out: list[Record] = []
        rows: list[dict[str, Any]] = []
        assigner.prepare(records)
        for record, made in zip(records, plans, strict=True):
            record, assigned = assigner.assign(record)
            made = owned(cfg, record.entity, made, record.owner, record.queue, assigned, now)
            record = replace(
                record,
                owner=made.owner,
                owner_since=made.columns.get("owner_since"),
                protected_until=made.columns.get("protected_until"),
                remind_at=made.columns.get("remind_at"),
                decisions=tuple(decision_json(d) for d in made.decisions),
            )
            rows += made.decisions
            out.append(record)
        return out, rows

    # rollups -------------------------------------------------------------------------------
    def _roll_up(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        entity: str,
        pairs: list[Pair],
        depth: int = 0,
        *,
        fired: int = 0,
    ) -> list[Record]:
        """Recompute the rollups of the parents these writes touch, each through the same
        path as an update (scores, grades, promotions, history); then their own parents."""
        touched = touched_parents(cfg, entity, pairs)
        if not touched or depth > len(cfg.bundle.rollups):  # the loader refuses loops
            return []
        if depth == 0:
            lock_parents(tx, cfg, entity, pairs)
        now = self.clock.now()
        out: list[Record] = []
        for parent in sorted(touched):
            for parent_id in sorted(touched[parent]):  # one lock order: no deadlocks
                found = self._roll_up_one(tx, cfg, parent, parent_id, now, entity, fired=fired)
                if found is not None:
                    before, after = found
                    out.append(after)
                    pair: list[Pair] = [(before.data, after.data)]
                    out += self._roll_up(tx, cfg, parent, pair, depth + 1, fired=fired)
        return out

    def refresh_rollups(self, tenant: str, entity: str | None = None, batch: int = 200) -> int:
        """Recompute every rollup of existing records (e.g. after a bundle adds one), in
        batches of one transaction each, through the same path as a related write; how many
        records changed."""
        cfg = self.configs.active(tenant)
        changed = 0
        for parent in [entity] if entity else sorted(cfg.rollups):
            cfg.entity(parent)
            after = ""
            while ids := self._ids(tenant, parent, after, batch):
                with self.store.write() as tx:
                    for record_id in ids:
                        found = self._roll_up_one(tx, cfg, parent, record_id, self.clock.now())
                        if found is not None:
                            changed += 1
                            self._roll_up(tx, cfg, parent, [(found[0].data, found[1].data)], 1)
                after = ids[-1]
        return changed

    def _ids(self, tenant: str, entity: str, after: str, limit: int) -> list[str]:
        with self.store.read() as tx:
            return tx.record_ids(tenant, entity, after, limit)

    def _roll_up_one(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        entity: str,
        record_id: str,
        now: datetime,
        source: str | None = None,
        *,
        fired: int = 0,
    ) -> tuple[Record, Record] | None:
        """Recompute a parent's rollups (those fed by `source`, or all) and store changes;
        `fired`: how deep in campaign actions the write that touched it is."""
        current = tx.get_record(cfg.tenant, entity, record_id, for_update=True)
        if current is None:
            return None
        old = current.data
        try:
            computed = recompute(tx, cfg, entity, record_id, now, source)
        except RollupOverflow as exc:
            raise Refused(
                f"the {entity} {record_id} cannot hold its new {exc.field}",
                [FieldError(f"{entity}.{exc.field}", exc.error.code, exc.error.params)],
            ) from None
        rolled = [r for r in computed if old.get(r.field) != r.value]
        if not rolled:
            return None
        values = {k: v for k, v in old.items() if k not in {r.field for r in rolled}}
        values.update({r.field: r.value for r in rolled if r.value is not None})
        rows = [rollup_row(cfg, entity, record_id, old.get(r.field), r, now) for r in rolled]
        made = plan(cfg, entity, record_id, current, Intent(values, lead=tuple(rows)), now)
        validator = cfg.validators[entity]
        updated = self._apply_update(tx, cfg, validator, current, made, "rollup")
        updated = self._campaigns_after(tx, cfg, current, updated, fired)
        return current, updated

    # checks --------------------------------------------------------------------------------
    def _check_refs(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        validator: EntityValidator,
        items: Sequence[_Item],
        policy: Policy | None = None,
    ) -> None:
        """References name live records — with a `policy`, records its caller sees: a record
        they may not see is answered as one that does not exist."""
        for name, target in validator.references.items():
            wanted = {i.values[name] for i in items if i.values.get(name) is not None}
            seen = None
            if policy is not None and not policy.full:
                seen = visible(policy.visibility(target), cfg.tenant, self.store.dialect)
            found = tx.existing_ids(cfg.tenant, target, wanted, seen) if wanted else set()
            for item in items:
                value = item.values.get(name)
                if value is not None and value not in found:
                    item.errors.append(
                        FieldError(name, "reference", {"entity": target, "id": value})
                    )

    @staticmethod
    def _check_owners(tx: Tx, cfg: CompiledConfig, items: Sequence[_Item]) -> None:
        """Owners given must not be switched off through the API (the bundle's own
        inactive users are refused earlier)."""
        if not any(i.owner for i in items):
            return
        off = tx.switched_off(cfg.tenant)
        for item in items:
            if item.owner in off:
                item.errors.append(FieldError("owner", "inactive_owner", {"value": item.owner}))

    def _check_unique(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        validator: EntityValidator,
        items: Sequence[_Item],
        exclude: str | None = None,
    ) -> None:
        for name in validator.unique:
            fold = name in validator.folded
            keys = {
                unique_key(i.values[name], fold) for i in items if i.values.get(name) is not None
            }
            taken = tx.unique_holders(cfg.tenant, validator.entity.name, name, keys)
            seen: set[str] = set()
            for item in items:
                if item.values.get(name) is None:
                    continue
                key = unique_key(item.values[name], fold)
                holder = taken.get(key)
                if (holder is not None and holder != exclude) or key in seen:
                    item.errors.append(FieldError(name, "unique", {"value": item.values[name]}))
                if not item.errors:  # an item that will not be stored holds no value
                    seen.add(key)

    # reading -------------------------------------------------------------------------------
    def get(self, tenant: str, entity: str, record_id: str, policy: Policy | None = None) -> Record:
        """A live record; with a `policy`, NotFound unless its caller may see it."""
        self.configs.active(tenant).entity(entity)
        with self.store.read() as tx:
            record = tx.get_record(tenant, entity, record_id)
            if record is None:
                raise NotFound(f"no {entity} record with id {record_id}")
            if policy is not None:
                policy.require_see(record, tx.parents_of(tenant))
        return record

    def policy_for(self, tenant: str, user: str | None) -> Policy:
        """The access policy (and mask) of a caller acting for `user` (None: a tenant-wide
        key) under the tenant's active config; Forbidden for a user switched off in the
        bundle or through the API, or one the bundle does not know."""
        cfg = self.configs.active(tenant)
        if user is None:
            return Policy(cfg, None)
        with self.store.read() as tx:
            off = tx.switched_off(tenant)
        policy = Policy(cfg, user, off)
        policy.require_active()
        return policy

    def mask_for(self, tenant: str, user: str | None) -> Mask:
        """What `user` (None: a tenant-wide key, which sees everything) sees masked under the
        tenant's active config; a user switched off through the API sees every PII field
        masked, like one the bundle does not know."""
        cfg = self.configs.active(tenant)
        if user is None:
            return Mask(cfg, None)
        with self.store.read() as tx:
            off = tx.switched_off(tenant)
        return Mask(cfg, user, off)

    def search(
        self,
        tenant: str,
        entity: str,
        search: Search,
        mask: Mask | None = None,
        policy: Policy | None = None,
    ) -> Page:
        """Filters, a condition and a saved view together (all must hold). With a `mask`,
        filters, a condition and a sort on a field it masks are refused (Forbidden), also a
        saved view's sort (its cursors would carry the values; `sort=` sorts it otherwise);
        a saved view's condition, written by the bundle's authors, may read any field."""
        cfg = self.configs.active(tenant)
        filters = parse_filters(cfg.entity(entity), search.params)
        conditions = [self.where(tenant, entity, search.where)] if search.where else []
        view_sort = None
        if search.view:
            view_where, view_sort = self.view(tenant, entity, search.view)
            conditions.append(view_where)
        sort = search.sort or view_sort or "-created_at"
        if mask is not None and mask.fields(entity):
            read = field_names(cfg.condition(entity, search.where).tree) if search.where else ()
            mask.refuse_query(entity, filters, read, sort)
        if policy is not None and not policy.full:
            conditions.append(self.visible(tenant, entity, policy))
        where = sa.and_(*conditions) if conditions else None
        return self.query(
            tenant, entity, ListQuery(filters, sort, search.limit, search.cursor, where)
        )

    def move(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        pool: Any,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        policy: Policy | None = None,
    ) -> Record:
        """Move a record by hand into a pool the bundle marks `manual`; promotions then
        apply from there, as after any write. With a `policy`, its caller must be able to
        edit the record."""
        cfg = self.configs.active(tenant)
        pools = cfg.pools.get(entity)
        if pools is None:
            raise NotFound(f"{entity} records have no pools")
        target = pools.definition.pools.get(pool) if isinstance(pool, str) else None
        if target is None:
            hint = choices_hint(str(pool), pools.definition.pools, "pools")
            raise Invalid(
                "unknown pool",
                [FieldError("pool", "filter", {"message": f"no pool '{pool}' — {hint}"})],
            )
        if not target.manual:
            raise Refused(
                f"records are not moved into '{target.id}' by hand",
                [
                    FieldError(
                        "pool",
                        "filter",
                        {"message": "the bundle does not allow moving records here by hand"},
                    )
                ],
            )
        with self.store.write() as tx:
            current = self._current(tx, cfg, entity, record_id, expected_version, policy, "edit")
            by = f"by {actor or 'someone'}"
            return self._move_in(tx, cfg, current, target.id, actor, "manual_move", by)

    def _move_in(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        current: Record,
        target: str,
        actor: str | None,
        kind: str,
        rule: str,
        depth: int = 0,
    ) -> Record:
        """A move into `target` (then promotions from there) inside the caller's transaction."""
        now, entity, record_id = self.clock.now(), current.entity, current.id
        before, after = {"pool": current.pool}, {"pool": target}
        manual = decision(cfg, entity, record_id, kind, rule, now, before, after)
        made = plan(cfg, entity, record_id, current, entered(target, (manual,)), now)
        moved = apply_change(tx, cfg, current, made, "move", actor, now)
        assert moved is not None
        return self._campaigns_after(tx, cfg, current, moved, depth)

    def explain(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        locale: str | None = None,
        mask: Mask | None = None,
        policy: Policy | None = None,
    ) -> dict[str, Any]:
        """The record's decisions with their traces, and for its pool, why it has not moved;
        with a `mask`, as its viewer may see them (values, traces and explanations)."""
        cfg = self.configs.active(tenant)
        record = self.get(tenant, entity, record_id, policy)
        lang = locale or cfg.bundle.tenant.locale
        with self.store.read() as tx:
            rows = tx.decisions(tenant, record_id)
        if mask is not None:
            rows = [mask.stored_decision(entity, r) for r in rows]
        pools = cfg.pools.get(entity)
        why_not = []
        now = self.clock.now()
        if pools is not None and record.pool is not None:
            shield = shielded(cfg, entity, record, record.owner, now)
            for rule, trace in pools.why_not(record.data, record.pool, now):
                shown = trace if mask is None else mask.live_trace(entity, trace)
                entry = {
                    "rule": rule.id,
                    "to": rule.to,
                    "holds": trace.value is True,
                    "explanation": shown.render(lang),
                }
                if shield and rule.to == pools.shield and rule.id in pools.timed:
                    entry["waits_until"] = instant(record.protected_until)  # owner protected
                why_not.append(entry)
        shown_record = record_json(record)
        return {
            "record": shown_record if mask is None else mask.record(shown_record),
            "timeline": [timeline_json(r, lang) for r in rows],
            "why_not": why_not,
        }

    def check(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        text: str,
        locale: str | None = None,
        mask: Mask | None = None,
        policy: Policy | None = None,
    ) -> dict[str, Any]:
        """Does a condition hold for a stored record, and why (or why not)? With a `mask`, a
        condition reading a field it masks is refused (Forbidden), as in list queries."""
        cfg = self.configs.active(tenant)
        if not storable(text):
            raise BadQuery("bad condition", [FieldError("where", "text")])
        condition = cfg.condition(entity, text)
        if mask is not None:
            mask.refuse_query(entity, where=field_names(condition.tree))
        record = self.get(tenant, entity, record_id, policy)
        trace = condition.trace(record.data, self.clock.now())
        return {
            "result": trace.value is True,
            "condition": condition.text,
            "trace": trace.as_dict(),
            "explanation": trace.render(locale or cfg.bundle.tenant.locale),
        }

    def visible(self, tenant: str, entity: str, policy: Policy) -> ColumnElement[bool]:
        """The WHERE clause of the records of `entity` the policy's caller sees."""
        return visible(policy.visibility(entity), tenant, self.store.dialect)

    def where(self, tenant: str, entity: str, text: str) -> ColumnElement[bool]:
        """A condition as a WHERE clause at the current time (BadQuery when it is wrong)."""
        cfg = self.configs.active(tenant)
        if not storable(text):
            raise BadQuery("bad condition", [FieldError("where", "text")])
        condition = cfg.condition(entity, text)
        return condition.sql(self.store.dialect, self.clock.now(), t.records.c.data)

    def view(self, tenant: str, entity: str, name: str) -> tuple[ColumnElement[bool], str | None]:
        """A saved view of the bundle as (WHERE clause now, its sort)."""
        condition, sort = self.configs.active(tenant).view(entity, name)
        return condition.sql(self.store.dialect, self.clock.now(), t.records.c.data), sort

    def query(self, tenant: str, entity: str, query: ListQuery) -> Page:
        cfg = self.configs.active(tenant)
        compiler = ListCompiler(cfg.entity(entity), cfg.validator(entity), self.store.dialect)
        stmt = compiler.select(tenant, query)
        with self.store.read() as tx:
            records = tx.select_records(stmt)
        limit = max(1, min(query.limit, 500))
        if len(records) <= limit:
            return Page(records, None)
        last = records[limit - 1]
        values = {
            **last.data,
            "created_at": last.created_at,
            "updated_at": last.updated_at,
            "owner": last.owner,
            "pool": last.pool,
            "id": last.id,
        }
        return Page(records[:limit], compiler.cursor_for(values, last.id))

    def history(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        mask: Mask | None = None,
        policy: Policy | None = None,
    ) -> list[dict[str, Any]]:
        """Every change of a record, its creation first (with a `mask`, as its viewer sees
        them; with a `policy`, NotFound unless its caller may see the record — a deleted
        one only with an `all` scope)."""
        self.configs.active(tenant).entity(entity)
        with self.store.read() as tx:
            entries = tx.history(tenant, record_id)
            record = tx.get_record(tenant, entity, record_id, deleted=True)
            if record is not None and policy is not None:
                if record.deleted_at is not None and policy.scope(entity, "see") != "all":
                    record = None
                else:
                    policy.require_see(record, tx.parents_of(tenant))
        if record is None:
            raise NotFound(f"no {entity} record with id {record_id}")
        created = HistoryEntry(entity, 1, "create", record.created_by, record.created_at, {})
        out = [history_json(e) for e in _with_created_values([created, *entries], record.data)]
        return out if mask is None else mask.history(entity, out)

    # changing ------------------------------------------------------------------------------
    def update(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        patch: Any,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        mask: Mask | None = None,
        policy: Policy | None = None,
    ) -> Record:
        """Change some fields. With a `mask` (the writer's), a masked field sent back as it
        was shown (`138****5678`) is left as stored: what a masked user reads and saves
        back never overwrites the real value. Any other value is written as usual. With a
        `policy`, its caller must be able to edit the record; the owner changes only with
        `assign`; references must name records the caller sees."""
        cfg = self.configs.active(tenant)
        cfg.validator(entity)
        with _shown_to(policy, entity), self.store.write() as tx:
            current = self._current(tx, cfg, entity, record_id, expected_version, policy, "edit")
            if mask is not None:
                patch = mask.without_echoes(entity, current.data, patch)
            return self._update_in(tx, cfg, current, patch, actor, policy=policy)

    def _update_in(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        current: Record,
        patch: Any,
        actor: str | None,
        depth: int = 0,
        *,
        policy: Policy | None = None,
    ) -> Record:
        """An update inside the caller's transaction (the record locked by the caller)."""
        entity, record_id = current.entity, current.id
        validator = cfg.validator(entity)
        patch, owner, owner_errors, given = _take_owner(cfg, patch)
        if given and policy is not None:
            policy.require_owner_change(owner, current.owner)
        if given and owner is not None and _in_public(cfg, current):
            raise Refused(
                "a record in the public pool is claimed, not assigned",
                [FieldError("owner", "claim_instead")],
            )
        values, changes, errors = validator.for_update(current.data, patch)
        errors = owner_errors + errors
        owner = owner if given else current.owner
        made = None
        if not errors:
            made = plan(cfg, entity, record_id, current, written(values, owner), self.clock.now())
            changes = {k: v for k, v in made.changes.items() if k not in _COLUMNS}
        new_owner = owner if owner != current.owner else None
        checked = made.values if made is not None else values
        item = _Item(0, {k: checked.get(k) for k in changes}, errors, new_owner)
        self._check_refs(tx, cfg, validator, [item], policy)
        self._check_owners(tx, cfg, [item])
        self._check_unique(tx, cfg, validator, [item], exclude=record_id)
        if item.errors:
            raise _error_for(item.errors)
        assert made is not None
        if not changes and owner == current.owner:
            return current
        updated = self._apply_update(tx, cfg, validator, current, made, actor)
        related = self._roll_up(tx, cfg, entity, [(current.data, made.values)], fired=depth)
        updated = self._campaigns_after(tx, cfg, current, updated, depth)
        return _with_related(updated, related)

    def _current(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        entity: str,
        record_id: str,
        expected_version: int | None,
        policy: Policy | None = None,
        action: str = "edit",
    ) -> Record:
        """The record locked for a change (NotFound when gone or not the caller's to see;
        Forbidden when the caller sees it but may not do `action`), at the expected version."""
        current = tx.get_record(cfg.tenant, entity, record_id, for_update=True)
        if current is None:
            raise NotFound(f"no {entity} record with id {record_id}")
        if policy is not None:
            policy.require_change(current, action, tx.parents_of(cfg.tenant))
        if expected_version is not None and expected_version != current.version:
            raise VersionConflict(
                f"record is at version {current.version}, not {expected_version}", current.version
            )
        return current

    def _apply_update(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        validator: EntityValidator,
        current: Record,
        made: Plan,
        actor: str | None,
    ) -> Record:
        """Store an update's plan: unique values moved, then the record, decisions, history."""
        values = made.values
        moved = [n for n in validator.unique if n in made.changes]
        if moved:
            tx.release_unique(cfg.tenant, current.entity, current.id, moved)
        try:
            tx.claim_unique(
                [
                    {
                        "tenant_id": cfg.tenant,
                        "entity": current.entity,
                        "field": n,
                        "value": unique_key(values[n], n in validator.folded),
                        "record_id": current.id,
                    }
                    for n in moved
                    if values.get(n) is not None
                ]
            )
        except UniqueTaken:
            raise DuplicateValue(
                "a unique value was taken meanwhile",
                [FieldError(n, "unique", {"value": values.get(n)}) for n in moved],
            ) from None
        updated = apply_change(tx, cfg, current, made, "update", actor, self.clock.now())
        assert updated is not None
        return updated

    def delete(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
        policy: Policy | None = None,
    ) -> None:
        """Delete (soft); with a `policy`, its caller must be able to delete the record."""
        cfg = self.configs.active(tenant)
        cfg.entity(entity)
        with self.store.write() as tx:
            current = self._current(tx, cfg, entity, record_id, expected_version, policy, "delete")
            now = self.clock.now()
            tx.release_unique(cfg.tenant, entity, record_id)
            if not tx.update_record(
                cfg.tenant, record_id, current.version, {"deleted_at": now, "updated_at": now}
            ):
                raise VersionConflict("record changed meanwhile", current.version + 1)
            gone = replace(current, version=current.version + 1, updated_at=now, deleted_at=now)
            tx.insert_history([history_row(gone, "delete", {}, actor, now)])
            self._roll_up(tx, cfg, entity, [(current.data, None)])

    # idempotency ---------------------------------------------------------------------------
    def _idempotent(
        self, tenant: str, idem: Idem | None, work: Callable[[Tx], dict[str, Any]]
    ) -> Written:
        """The write in one transaction; again, from the start, when PostgreSQL chose it
        to break a deadlock (the whole transaction was undone: nothing half-stored)."""
        for attempt in range(1, DEADLOCK_RETRIES + 1):
            try:
                return self._idempotent_once(tenant, idem, work)
            except sa.exc.OperationalError as exc:
                if attempt == DEADLOCK_RETRIES or not transient(exc):
                    raise
        raise AssertionError("unreachable")

    def _idempotent_once(
        self, tenant: str, idem: Idem | None, work: Callable[[Tx], dict[str, Any]]
    ) -> Written:
        if idem is None:
            with self.store.write() as tx:
                return Written(work(tx))
        try:
            with self.store.write() as tx:
                earlier = self._replay(tx, tenant, idem)
                if earlier is not None:
                    return earlier
                result = work(tx)
                tx.save_idempotent(tenant, idem.key, idem.fingerprint, result, self.clock.now())
                return Written(result)
        except (sa.exc.IntegrityError, DuplicateValue):
            # The same request, sent again while the first was still being written, waited on
            # the first one's rows and lost: once that has committed, replay its answer.
            with self.store.read() as tx:
                earlier = self._replay(tx, tenant, idem)
            if earlier is None:
                raise
            return earlier

    @staticmethod
    def _replay(tx: Tx, tenant: str, idem: Idem) -> Written | None:
        found = tx.idempotent_result(tenant, idem.key)
        if found is None:
            return None
        if found[0] != idem.fingerprint:
            raise IdempotencyMismatch(
                f"Idempotency-Key '{idem.key}' was used with another "
                "request; use a new key for a new request"
            )
        return Written(found[1], replayed=True)


def _take_owner(cfg: CompiledConfig, data: Any) -> tuple[Any, str | None, list[FieldError], bool]:
    """Split `owner` (a column, not a field) off a payload: (rest, owner, errors, given)."""
    if not isinstance(data, Mapping) or "owner" not in data:
        return data, None, [], False
    rest = {k: v for k, v in data.items() if k != "owner"}
    owner = data["owner"] if data["owner"] != "" else None
    error = owner_error(cfg, owner)
    return rest, (None if error else owner), [error] if error else [], True


def _in_public(cfg: CompiledConfig, record: Record) -> bool:
    public = cfg.public.get(record.entity)
    return public is not None and record.pool == public.pool


def _reached(record: Record, related: list[Record]) -> list[Record]:
    """The related records one record's write reached: those its references name, then
    theirs (`related` lists each parent before its own parents)."""
    ids = {v for v in record.data.values() if isinstance(v, str)}
    out = []
    for parent in related:
        if parent.id in ids:
            out.append(parent)
            ids |= {v for v in parent.data.values() if isinstance(v, str)}
    return out


def _with_related(record: Record, related: list[Record]) -> Record:
    """The written record with the related records its write updated (their rollups)."""
    if not related:
        return record
    return replace(record, related=tuple(related_json(r) for r in related))


@contextmanager
def _shown_to(policy: Policy | None, entity: str) -> Iterator[None]:
    """A refusal's values as the caller may see them: a unique value on a field they see
    masked is not echoed back in full."""
    try:
        yield
    except (Invalid, DuplicateValue) as exc:
        if policy is not None:
            exc.errors = policy.shown_errors(entity, exc.errors)
        raise


def _error_for(errors: list[FieldError]) -> Invalid | DuplicateValue:
    if all(e.code == "unique" for e in errors):
        return DuplicateValue("a value that must be unique is already used", errors)
    return Invalid("the record has invalid fields", errors)


def _batch_result(item: _Item, record: Record | None, locale: str | None) -> dict[str, Any]:
    if record is not None:
        return {"index": item.index, "status": 201, "record": record_json(record)}
    status = 409 if all(e.code == "unique" for e in item.errors) else 422
    return {
        "index": item.index,
        "status": status,
        "errors": [e.as_dict(locale) for e in item.errors],
    }


def _with_created_values(
    entries: list[HistoryEntry], current: Mapping[str, Any]
) -> list[HistoryEntry]:
    """Fill in the create entry's values by undoing later changes from the current data."""
    state = dict(current)
    out: list[HistoryEntry] = []
    for entry in reversed(entries):
        if entry.action == "create" and not entry.changes:
            entry = replace(entry, changes={k: [None, v] for k, v in state.items()})
        for name, (old, _new) in entry.changes.items() if entry.action == "update" else ():
            if name in RESERVED_FIELDS:  # a column such as owner, not a value
                continue
            if old is None:
                state.pop(name, None)
            else:
                state[name] = old
        out.append(entry)
    return out[::-1]


class _Writer:
    """The record service's write path for campaign actions (RecordWriter), inside the
    transaction of the write that fired them."""

    ACTOR = "campaign"

    def __init__(self, service: RecordService) -> None:
        self.service = service

    def patch(
        self, tx: Tx, cfg: CompiledConfig, record: Record, values: dict[str, Any], depth: int
    ) -> Record:
        current = self._fresh(tx, cfg, record)
        return self.service._update_in(tx, cfg, current, values, self.ACTOR, depth)

    def move(self, tx: Tx, cfg: CompiledConfig, record: Record, pool: str, depth: int) -> Record:
        current = self._fresh(tx, cfg, record)
        rule = "campaign"
        return self.service._move_in(
            tx, cfg, current, pool, self.ACTOR, "campaign_move", rule, depth
        )

    def create(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        entity: str,
        values: dict[str, Any],
        owner: str | None,
        depth: int,
    ) -> Record:
        validator = cfg.validator(entity)
        cleaned, errors = validator.for_create(values)
        item = _Item(0, cleaned, list(errors), owner)
        self.service._check_refs(tx, cfg, validator, [item])
        self.service._check_owners(tx, cfg, [item])
        self.service._check_unique(tx, cfg, validator, [item])
        if item.errors:
            raise _error_for(item.errors)
        return self.service._insert(tx, cfg, validator, [item], self.ACTOR, depth=depth)[0]

    def assign(self, tx: Tx, cfg: CompiledConfig, record: Record, rule: str, depth: int) -> Record:
        current = self._fresh(tx, cfg, record)
        compiled = cfg.assignment.get(current.entity)
        chosen = next((r for r in compiled.rules if r.id == rule), None) if compiled else None
        if chosen is None or current.owner is not None:
            return current  # the loader checked the rule; an owned record keeps its owner
        assigner = Assigner(tx, cfg, current.entity, self.service.clock.now())
        found = assigner.assign_by(chosen, current)
        assigner.flush()
        if found is None:
            return current
        fresh, rows = found
        tx.insert_decisions(rows)
        return self.service._update_in(tx, cfg, current, {"owner": fresh.owner}, self.ACTOR, depth)

    @staticmethod
    def _fresh(tx: Tx, cfg: CompiledConfig, record: Record) -> Record:
        current = tx.get_record(cfg.tenant, record.entity, record.id, for_update=True)
        if current is None:
            raise NotFound(f"no {record.entity} record with id {record.id}")
        return current
