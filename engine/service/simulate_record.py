"""One stored record under a candidate bundle, computed with the pure compiled rules only:
what it would become, and why. No database, no clock (the time comes in).

The record is taken as activation and the next write or sweep would take it, in the engine's
order: placed in its pool set's initial pool if it has none (activation), handed over if the
candidate deactivates its owner (activation), scores and grades recomputed (rollups are read
as stored), promotions settled from its pool, an owner's expired protection sending it back to
the public pool, reassignment rules handing it on; then the campaigns that change would fire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.conditions.condition import ASSIGNED_AT
from engine.config.activation import deactivated_users, new_relative
from engine.fields.validator import FieldError
from engine.rules import Derivation, Move
from engine.rules.assignment import CompiledAssignment
from engine.rules.campaigns import LATE_GRACE, Change, CompiledCampaign, instant_of
from engine.rules.compiled import CompiledConfig
from engine.rules.plan import plan, written
from engine.service.views import instant

SEGMENT_TRIGGERS = frozenset({"segment_enter", "segment_leave"})
PLACED, POOL_REMOVED, HANDOVER, EXPIRED = "placed", "pool_removed", "handover", "protection_expired"
OUTSIDE = "outside_rule"  # the owner stays, but the candidate's rules would not pick them
NOTICES = frozenset({OUTSIDE})  # owner "changes" that change nothing by themselves


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stored record as read for the dry run: its values and the columns rules read."""

    id: str
    data: Mapping[str, Any]
    owner: str | None
    pool: str | None
    owner_since: datetime | None = None
    protected_until: datetime | None = None
    remind_at: datetime | None = None
    queue: str | None = None


@dataclass
class Outcome:
    """What the candidate makes of one record."""

    values: Mapping[str, Any]
    pool: str | None
    owner: str | None
    path: list[str] = field(default_factory=list)  # pool rules (and pseudo-rules) on the way
    owners: list[tuple[str, str]] = field(default_factory=list)  # (reason, rule)
    derived: list[Derivation] = field(default_factory=list)
    fires: list[CompiledCampaign] = field(default_factory=list)  # at once (or next schedule)
    planned: list[tuple[CompiledCampaign, str]] = field(default_factory=list)  # due_now, …
    invalid: list[FieldError] = field(default_factory=list)

    def written(self, before: Snapshot) -> bool:
        """Whether the record itself would change (a write campaigns see)."""
        return self.pool != before.pool or self.owner != before.owner or self.values != before.data

    def changed(self, before: Snapshot) -> bool:
        """Whether anything at all would change for it (also an owner handed on)."""
        return self.written(before) or any(r not in NOTICES for r, _ in self.owners)


class RecordSimulator:
    """The candidate's rules for one entity, applied to snapshots of its records."""

    def __init__(
        self,
        active: CompiledConfig,
        candidate: CompiledConfig,
        entity: str,
        now: datetime,
        *,
        validate: bool = False,
    ) -> None:
        self.cfg, self.entity, self.now = candidate, entity, now
        self.pools = candidate.pools.get(entity)
        self.derived = candidate.derived.get(entity)
        self.public = candidate.public.get(entity)
        assignment = candidate.assignment.get(entity)
        self.reassign = [r for r in assignment.rules if r.reassign] if assignment else []
        self.can_reassign = assignment is not None
        self.assign_then, self.assign_now = assignment, active.assignment.get(entity)
        self.gone = deactivated_users(active.bundle, candidate.bundle)
        self.validator = candidate.validators[entity] if validate else None
        compiled = candidate.campaigns.get(entity)
        self.on_change = list(compiled.on_change) if compiled else []
        used = {c.definition.trigger.segment for c in self.on_change}
        self.segments = (
            [s for s in compiled.segments if s.definition.name in used] if compiled else []
        )
        self.timed = frozenset(s.definition.name for s in self.segments if s.timed)
        fresh = new_relative(active.bundle, candidate.bundle)
        self.relative = [c for c in compiled.relative if c.id in fresh] if compiled else []
        self.scheduled = list(compiled.scheduled) if compiled else []

    @property
    def needs_members(self) -> bool:
        """Whether stored segment membership must be read (segments time alone changes)."""
        return bool(self.timed)

    def evaluate(self, record: Snapshot, members: frozenset[str] = frozenset()) -> Outcome:
        """`members`: the record's stored memberships of time-based segments."""
        out = Outcome(record.data, record.pool, record.owner)
        if self.validator is not None:
            out.invalid = self._invalid(record)
        self._place(record, out)
        self._hand_over(record, out)
        self._write(record, out)
        self._expire(record, out)
        self._reassign(record, out)
        self._outside(record, out)
        self._campaigns(record, out, members)
        return out

    # values -----------------------------------------------------------------------------------
    def _invalid(self, record: Snapshot) -> list[FieldError]:
        """Stored values the candidate's fields refuse (removed fields stay stored unread)."""
        assert self.validator is not None
        known = self.validator.entity.fields
        client = {
            k: v for k, v in record.data.items() if k in known and k not in self.validator.computed
        }
        _, errors = self.validator.for_create(client)
        return errors

    # pools and owners -------------------------------------------------------------------------
    def _place(self, record: Snapshot, out: Outcome) -> None:
        """Activation puts records without a pool into the initial one; a pool the candidate
        no longer has is read as the initial one too (as settle does)."""
        if self.pools is None:
            return
        if record.pool is None:
            out.pool, out.path = self.pools.initial, [PLACED]
        elif record.pool not in self.pools.definition.pools:
            out.pool, out.path = self.pools.initial, [POOL_REMOVED]

    def _hand_over(self, record: Snapshot, out: Outcome) -> None:
        """A record of a user the candidate deactivates goes back to the public pool (from a
        holding pool) or to the next candidate of the assignment rules."""
        policy = self.gone.get(record.owner or "")
        if policy is None:
            return
        owner = record.owner or ""
        if policy == "public" and self.public is not None and self.pools is not None:
            if out.pool in self.public.holding:
                settled = self.pools.settle(record.data, self.public.pool, self.now)
                self._moved(out, [HANDOVER], settled.moves, settled.pool)
                out.owner = None
                out.owners.append(("deactivated_public", owner))
        elif policy == "reassign" and self.can_reassign:
            out.owners.append(("deactivated_reassign", owner))

    def _write(self, record: Snapshot, out: Outcome) -> None:
        """The next write, through the same plan as every real one: scores and grades
        recomputed, promotions settled from the pool it is in, owners unassigned."""
        now_at = replace(record, pool=out.pool, owner=out.owner)
        made = plan(self.cfg, self.entity, record.id, now_at, written(record.data), self.now)
        out.values, out.derived = made.values, list(made.derived)
        self._moved(out, [], made.moves, made.pool)
        if out.owner is not None and made.owner is None:
            fallback = self.pools.definition.name if self.pools else ""  # public pool, owned
            out.owners.append(("unassigned", made.unassigned_by or fallback))
            out.owner = None

    def _expire(self, record: Snapshot, out: Outcome) -> None:
        """An owner whose protection ran out loses the record to the public pool (a sweep)."""
        public, until = self.public, record.protected_until
        if public is None or public.protection is None or self.pools is None:
            return
        if out.owner is None or out.owner != record.owner or out.pool not in public.holding:
            return
        if until is None or until > self.now:
            return
        settled = self.pools.settle(out.values, public.pool, self.now)
        self._moved(out, [EXPIRED], settled.moves, settled.pool)
        out.owners.append((EXPIRED, public.pool_set))
        out.owner = None

    def _reassign(self, record: Snapshot, out: Outcome) -> None:
        """Owners whose reassign_when came true hand the record on (to whom, the rotation
        decides when it happens)."""
        if out.owner is None or out.owner != record.owner or record.owner_since is None:
            return
        timed = {**out.values, ASSIGNED_AT: instant(record.owner_since)}
        for rule in self.reassign:
            assert rule.reassign is not None
            if rule.when is not None and not rule.when.evaluate(out.values, self.now):
                continue
            if rule.reassign.evaluate(timed, self.now):
                out.owners.append(("reassigned", rule.id))
                return

    def _outside(self, record: Snapshot, out: Outcome) -> None:
        """An owner the active rules would pick for the record but the candidate's would not:
        they keep it, yet any reassignment would hand it elsewhere (say, a changed region
        mapping)."""
        owner = out.owner
        if owner is None or owner != record.owner or out.owners or self.assign_then is None:
            return
        then = _candidates(self.assign_then, out.values, self.now)
        if then is None or owner in then[1]:
            return
        now = _candidates(self.assign_now, record.data, self.now) if self.assign_now else None
        if now is not None and owner in now[1]:
            out.owners.append((OUTSIDE, then[0]))

    @staticmethod
    def _moved(out: Outcome, first: list[str], moves: tuple[Move, ...], pool: str | None) -> None:
        out.path += first + [m.rule for m in moves]
        out.pool = pool

    # campaigns --------------------------------------------------------------------------------
    @property
    def has_campaigns(self) -> bool:
        return bool(self.on_change or self.relative or self.scheduled)

    def _campaigns(self, record: Snapshot, out: Outcome, members: frozenset[str]) -> None:
        if not self.has_campaigns:
            return
        before = {**record.data, "pool": record.pool, "owner": record.owner}
        after = {**out.values, "pool": out.pool, "owner": out.owner}
        entered, left = self._segments(before, after, members)
        if out.written(record):
            kinds: frozenset[str] | None = None
        elif entered or left:
            kinds = SEGMENT_TRIGGERS  # as a sweep finding time moved it in or out
        else:
            kinds = frozenset()
        if kinds != frozenset():
            change = Change(record.id, 0, before, after, entered, left)
            out.fires += [
                c
                for c in self.on_change
                if (kinds is None or c.definition.trigger.kind in kinds)
                and c.matches(change, self.now)
            ]
        for campaign in self.relative:
            self._plan(campaign, after, out)
        out.fires += [
            c for c in self.scheduled if c.when is None or c.when.evaluate(after, self.now)
        ]

    def _segments(
        self, before: Mapping[str, Any], after: Mapping[str, Any], members: frozenset[str]
    ) -> tuple[frozenset[str], frozenset[str]]:
        """Segments entered and left: a segment on values alone compares old and new values;
        one time can change compares with the stored membership (as the engine does)."""
        now_in, was_in = set(), set()
        for segment in self.segments:
            name = segment.definition.name
            if segment.holds(after, self.now):
                now_in.add(name)
            if name in self.timed:
                if name in members:
                    was_in.add(name)
            elif segment.holds(before, self.now):
                was_in.add(name)
        return frozenset(now_in - was_in), frozenset(was_in - now_in)

    def _plan(self, campaign: CompiledCampaign, after: Mapping[str, Any], out: Outcome) -> None:
        """A relative campaign planned for an existing record: only dates at most a day past
        count; one whose moment has come fires at once if its condition holds."""
        trigger = campaign.definition.trigger
        moment = instant_of(after.get(trigger.field or ""), self.cfg.tz)
        if moment is None:
            return
        due = moment + trigger.offset
        if max(moment, due) + LATE_GRACE < self.now:
            return
        if due > self.now:
            out.planned.append((campaign, "later"))
        elif campaign.when is not None and not campaign.when.evaluate(after, self.now):
            out.planned.append((campaign, "skipped"))  # due, but its condition fails
        else:
            out.planned.append((campaign, "due_now"))
            out.fires.append(campaign)


def _candidates(
    assignment: CompiledAssignment, values: Mapping[str, Any], now: datetime
) -> tuple[str, tuple[str, ...]] | None:
    """The rule that would assign the record and the users it would choose from (capacity
    and leave aside: they change by the day); None when no rule applies."""
    for rule in assignment.matching(values, now):
        definition = rule.definition
        if definition.strategy == "manual_queue":
            return rule.id, ()
        group = rule.group_of(values)
        users = tuple(rule.groups.get(group, [])) if group is not None else ()
        if users or definition.fallback_queue is not None:
            return rule.id, users
    return None
