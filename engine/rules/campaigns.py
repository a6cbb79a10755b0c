"""Campaigns, compiled: which fire for a change of a record, in which variant, and whether
a record is in a segment — pure functions of the values, no storage.

A change is seen as two snapshots (before, after) of the record's values with its pool and
owner merged in, plus the segments entered and left. Each trigger kind has a matcher.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property
from typing import Any

from engine.conditions import Condition, compile_any, entity_scope, reads_clock
from engine.config.model import CampaignDef, EntityDef, SegmentDef, StepDef, TriggerDef

HOLDOUT = "holdout"


@dataclass(frozen=True)
class Change:
    """One write of a record as campaigns see it."""

    record_id: str
    version: int
    before: Mapping[str, Any] | None  # None: the record was created
    after: Mapping[str, Any]
    entered: frozenset[str] = frozenset()  # segments
    left: frozenset[str] = frozenset()

    def occurrence(self, trigger: TriggerDef, now: datetime) -> str:
        """What makes a firing once-only: the trigger and the record's version (for segments,
        also the time: sweeps see a record enter again without a new version)."""
        if trigger.segment is not None:  # fits the column: name ≤ 63, stamp 15
            side = "in" if trigger.kind == "segment_enter" else "out"
            return f"{side}:{trigger.segment}:v{self.version}:{now:%Y%m%dT%H%M%S}"
        return f"{trigger.kind}:v{self.version}"


def _changed(trigger: TriggerDef, change: Change) -> bool:
    """The field changed (a record created with a value changed it from nothing)."""
    if trigger.field is None:
        return False
    before = change.before or {}
    old, new = before.get(trigger.field), change.after.get(trigger.field)
    if old == new:
        return False
    fits_from = trigger.from_values is None or old in trigger.from_values
    return fits_from and (trigger.to_values is None or new in trigger.to_values)


def _pool(change: Change, side: str) -> Any:
    snapshot = change.before if side == "before" else change.after
    return None if snapshot is None else snapshot.get("pool")


MATCHERS: dict[str, Callable[[TriggerDef, Change], bool]] = {
    "created": lambda t, c: c.before is None,
    "updated": lambda t, c: c.before is not None,
    "field_changed": _changed,
    "pool_entered": lambda t, c: _pool(c, "after") == t.pool and _pool(c, "before") != t.pool,
    "pool_left": lambda t, c: _pool(c, "before") == t.pool and _pool(c, "after") != t.pool,
    "segment_enter": lambda t, c: t.segment in c.entered,
    "segment_leave": lambda t, c: t.segment in c.left,
}


@dataclass(frozen=True)
class CompiledCampaign:
    definition: CampaignDef
    when: Condition | None
    goal: Condition | None
    steps: tuple[Condition | None, ...]  # each step's `when`

    @property
    def id(self) -> str:
        return self.definition.id

    def matches(self, change: Change, now: datetime) -> bool:
        """Whether this change fires the campaign (trigger, then `when`)."""
        matcher = MATCHERS.get(self.definition.trigger.kind)
        if matcher is None or not matcher(self.definition.trigger, change):
            return False
        return self.when is None or self.when.evaluate(change.after, now, change.before)

    def variant(self, record_id: str) -> str | None:
        """The record's variant of the split: the same every time (a hash of campaign and
        record), shares as declared; None without a split."""
        split = self.definition.split
        total = sum(share for _, share in split)
        if not total:
            return None
        digest = hashlib.sha256(f"{self.id}:{record_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") % total
        for name, share in split:
            if point < share:
                return name
            point -= share
        return split[-1][0]

    def step(self, index: int) -> StepDef:
        return self.definition.steps[index]


@dataclass(frozen=True)
class CompiledSegment:
    definition: SegmentDef
    when: Condition

    def holds(self, values: Mapping[str, Any], now: datetime) -> bool:
        return self.when.evaluate(values, now)

    @property
    def timed(self) -> bool:
        """Whether time alone can move records in or out (sweeps look for those)."""
        return reads_clock(self.when.tree)


@dataclass
class CompiledCampaigns:
    """An entity's segments and campaigns (enabled ones), by how they are started."""

    segments: list[CompiledSegment] = field(default_factory=list)
    on_change: list[CompiledCampaign] = field(default_factory=list)  # matched in the write
    relative: list[CompiledCampaign] = field(default_factory=list)  # planned from a date
    scheduled: list[CompiledCampaign] = field(default_factory=list)  # cron, swept
    goals: list[CompiledCampaign] = field(default_factory=list)  # with a goal to watch

    def members(self, values: Mapping[str, Any], now: datetime) -> frozenset[str]:
        return frozenset(s.definition.name for s in self.segments if s.holds(values, now))

    @cached_property
    def timed_names(self) -> frozenset[str]:
        """Segments time alone can move records into or out of (kept in storage)."""
        return frozenset(s.definition.name for s in self.segments if s.timed)

    @property
    def active(self) -> bool:
        return bool(self.segments or self.on_change or self.relative or self.goals)


def compile_campaigns(
    campaigns: tuple[CampaignDef, ...],
    segments: Mapping[str, SegmentDef],
    entities: Mapping[str, EntityDef],
    pools: Mapping[str, tuple[str, ...]],
    tz: tzinfo,
) -> dict[str, CompiledCampaigns]:
    """Per entity (the loader has checked every condition)."""
    out: dict[str, CompiledCampaigns] = {}

    def scope(entity: str, update: bool = False) -> Any:
        return entity_scope(
            entities[entity], tz, update=update, columns=True, pools=pools.get(entity, ())
        )

    for segment in segments.values():
        compiled = CompiledSegment(segment, compile_any(segment.when, scope(segment.entity))[0])
        out.setdefault(segment.entity, CompiledCampaigns()).segments.append(compiled)
    for campaign in campaigns:
        if not campaign.enabled:
            continue
        one = _campaign(campaign, scope)
        target = out.setdefault(campaign.entity, CompiledCampaigns())
        kind = campaign.trigger.kind
        {"relative": target.relative, "schedule": target.scheduled}.get(
            kind, target.on_change
        ).append(one)
        if campaign.goal is not None:
            target.goals.append(one)
    return out


def _campaign(campaign: CampaignDef, scope: Callable[..., Any]) -> CompiledCampaign:
    update = campaign.trigger.kind in ("updated", "field_changed")
    plain = scope(campaign.entity)

    def cond(raw: Any, where: Any = plain) -> Condition | None:
        return None if raw is None else compile_any(raw, where)[0]

    return CompiledCampaign(
        campaign,
        cond(campaign.when, scope(campaign.entity, update)),
        cond(campaign.goal.when) if campaign.goal else None,
        tuple(cond(step.when) for step in campaign.steps),
    )


def in_quiet_hours(quiet: tuple[int, int] | None, local: datetime) -> timedelta | None:
    """How long until the quiet hours end, if `local` (the tenant's time) is inside them."""
    if quiet is None:
        return None
    start, end = quiet
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else minute >= start or minute < end
    if not inside:
        return None
    wait = (end - minute) % (24 * 60)
    return timedelta(minutes=wait) - timedelta(seconds=local.second, microseconds=local.microsecond)


LATE_GRACE = timedelta(days=1)  # a date this far past still fires its relative campaign


def instant_of(value: Any, tz: tzinfo) -> datetime | None:
    """A stored date (local midnight) or datetime as an instant; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tz)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
