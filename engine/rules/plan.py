"""What one write makes of a record: the order of a write's effects, as one pure function.

    plan(cfg, entity, record_id, before, intent, now) -> Plan

Every path that changes a record asks it — create, update, batch, a move or a claim by hand,
a release, a hand assignment, sweeps (promotions, expired protection, reassignment), the
rollups a related write feeds into a parent, campaign actions, form submissions — and so does
the dry run. The order:

1. the write's own change (`Intent`): new values, the owner it asks for, a pool it puts the
   record in first (a move, a claim, a release, an expiry) and its own decisions;
2. scores and grades, recomputed when the write changes values;
3. pools settled: promotions from the pool the record is in (or was put in), rules that send
   it to the public pool waiting while the owner's protection runs;
4. ownership: an unassigning promotion or the public pool leave the record without an owner;
   the owner's clocks (owner_since, protected_until, remind_at) follow the owner and pool;
5. the decision rows of all of it, in that order, each with its trace.

No database and no clock: the caller reads the record and the time and stores the plan
(`columns`, `changes`, `decisions`) in its transaction. Assigning an owner to a new record
reads rotation state and loads, so it follows the plan (engine/service/assigning.py) and
`owned()` completes the plan with its outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from engine.rules.compiled import CompiledConfig
from engine.rules.decisions import derivation_row, move_row
from engine.rules.derived import Derivation
from engine.rules.ownership import Held
from engine.rules.pools import Move

KEEP: Any = object()  # Intent.owner: the owner stays who it is


class Stored(Protocol):
    """A stored record as the rules read it (engine.storage's Record is one)."""

    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def owner(self) -> str | None: ...
    @property
    def pool(self) -> str | None: ...
    @property
    def owner_since(self) -> datetime | None: ...
    @property
    def protected_until(self) -> datetime | None: ...
    @property
    def remind_at(self) -> datetime | None: ...
    @property
    def queue(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Intent:
    """What a write asks for, before the rules add theirs."""

    values: Mapping[str, Any] | None = None  # the values after the write; None: as stored
    owner: Any = KEEP  # the owner the write asks for (None: nobody)
    enter: str | None = None  # a pool the write puts the record in before promotions run
    shield: bool | None = None  # None: the owner's protection decides
    derive: bool = True  # recompute scores and grades (a write of values)
    lead: tuple[Mapping[str, Any], ...] = ()  # the write's own decisions (a claim, a move)


def written(values: Mapping[str, Any], owner: Any = KEEP) -> Intent:
    """New values (a create, an update, a rollup into a parent, a campaign's `set`)."""
    return Intent(values, owner)


def entered(
    pool: str,
    lead: tuple[Mapping[str, Any], ...] = (),
    *,
    owner: Any = KEEP,
    shield: bool | None = None,
) -> Intent:
    """The record put in `pool` first (a move by hand or by a campaign, a claim, a release,
    an expired protection), promotions then applying from there."""
    return Intent(None, owner, pool, shield, False, lead)


def resettled(owner: Any = KEEP, lead: tuple[Mapping[str, Any], ...] = ()) -> Intent:
    """Nothing but the rules again: a sweep finding time changed what holds, an owner handed
    the record by hand or by reassignment."""
    return Intent(None, owner, None, None, False, lead)


@dataclass(frozen=True, slots=True)
class Plan:
    """What the write makes of the record."""

    values: Mapping[str, Any]
    pool: str | None
    owner: str | None
    columns: Mapping[str, Any]  # record columns that change: pool, owner, clocks, queue
    changes: Mapping[str, list[Any]]  # the history entry: what changed, [before, after]
    decisions: tuple[dict[str, Any], ...]
    derived: tuple[Derivation, ...] = ()
    moves: tuple[Move, ...] = ()
    stopped: str | None = None  # promotions cut short (a loop the loader could not see)
    shielded: bool = False  # whether the owner's protection held rules back

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def unassigned_by(self) -> str | None:
        """The promotion that took the owner away, if one did."""
        return next((m.rule for m in self.moves if m.unassign), None)


@dataclass(frozen=True, slots=True)
class _Start:
    values: Mapping[str, Any]
    pool: str | None
    owner: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)


def plan(
    cfg: CompiledConfig,
    entity: str,
    record_id: str,
    before: Stored | None,
    intent: Intent,
    now: datetime,
) -> Plan:
    """What `intent` makes of the record `before` (None: a new record), at `now`."""
    stored: Mapping[str, Any] = before.data if before is not None else {}
    values = dict(intent.values) if intent.values is not None else dict(stored)
    if before is None:  # a new parent's rollups: nothing related yet (0 for count and sum)
        values.update(_initial(cfg, entity))
    owner = (before.owner if before is not None else None) if intent.owner is KEEP else intent.owner
    rows = [dict(r) for r in intent.lead]
    derived: tuple[Derivation, ...] = ()
    compiled = cfg.derived.get(entity)
    if intent.derive and compiled is not None:
        values, found = compiled.apply(values, now, old=stored if before is not None else None)
        derived = tuple(d for d in found if stored.get(d.field) != d.after or before is None)
        rows += [derivation_row(cfg, entity, record_id, d, now) for d in derived]
    pool = before.pool if before is not None else None
    pools, stopped, shield = cfg.pools.get(entity), None, False
    moves: tuple[Move, ...] = ()
    if pools is not None:
        shield = _shielded(cfg, entity, before, owner, now, intent.shield)
        start = intent.enter if intent.enter is not None else pool
        # rules on changes (`changed(…)`) compare with the values before a write of values
        old = stored if before is not None and intent.values is not None else None
        settled = pools.settle(values, start, now, old=old, shielded=shield)
        moves, stopped = settled.moves, settled.stopped
        holder = before.owner if before is not None else owner
        rows += [move_row(cfg, entity, record_id, holder, m, now) for m in moves]
        pool = settled.pool
        if settled.unassigned:
            owner = None
    columns = _columns(cfg, entity, before, pool, owner, values, now)
    owner = columns.get("owner", before.owner if before is not None else owner)
    changes = _changes(before, values, pool, owner)
    return Plan(values, pool, owner, columns, changes, tuple(rows), derived, moves, stopped, shield)


def owned(
    cfg: CompiledConfig,
    entity: str,
    made: Plan,
    owner: str | None,
    queue: str | None,
    rows: list[dict[str, Any]],
    now: datetime,
) -> Plan:
    """A new record's plan completed with what assignment decided (an owner or a queue)."""
    columns = _columns(cfg, entity, None, made.pool, owner, made.values, now)
    if queue is not None:
        columns["queue"] = queue
    return replace(
        made,
        owner=columns.get("owner"),
        columns=columns,
        decisions=(*made.decisions, *rows),
        changes=_changes(None, made.values, made.pool, columns.get("owner")),
    )


def _shielded(
    cfg: CompiledConfig,
    entity: str,
    before: Stored | None,
    owner: str | None,
    now: datetime,
    forced: bool | None,
) -> bool:
    if forced is not None:
        return forced
    public = cfg.public.get(entity)
    return public is not None and public.shields(held(before), owner, now)


def _columns(
    cfg: CompiledConfig,
    entity: str,
    before: Stored | None,
    pool: str | None,
    owner: str | None,
    values: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The record columns that change: the pool (and since when), the owner and its clocks;
    a record given an owner leaves its queue."""
    columns: dict[str, Any] = {}
    if before is None or pool != before.pool:
        columns["pool"] = pool
        columns["pool_entered_at"] = now if pool is not None else None
    columns.update(owner_columns(cfg, entity, before, owner, pool, values, now))
    final = columns.get("owner", before.owner if before is not None else None)
    if before is not None and before.queue is not None and final is not None:
        columns["queue"] = None
    return columns


def owner_columns(
    cfg: CompiledConfig,
    entity: str,
    before: Stored | None,
    owner: str | None,
    pool: str | None,
    data: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The owner and clock columns that change (empty when nothing does). The public pool is
    nobody's, however a record gets there."""
    old = held(before)
    public = cfg.public.get(entity)
    if public is not None and pool == public.pool:
        owner = None
    columns: dict[str, Any] = {"owner": owner} if owner != old.owner or before is None else {}
    if public is None:  # no protection: only since when the owner has it
        if owner != old.owner or before is None:
            columns["owner_since"] = now if owner is not None else None
        return columns
    clocks = public.clocks(old, Held(owner, pool, data=data), now).columns()
    current = old.owner_since, old.protected_until, old.remind_at
    for (name, value), was in zip(clocks.items(), current, strict=True):
        if value != was or before is None:
            columns[name] = value
    return columns


def _changes(
    before: Stored | None, values: Mapping[str, Any], pool: str | None, owner: str | None
) -> dict[str, list[Any]]:
    """The history entry's changes: values, then the pool and the owner, where they differ."""
    if before is None:
        return {}  # a create: history rebuilds its first values (records.history)
    old = before.data
    changes = {
        k: [old.get(k), values.get(k)]
        for k in (*old, *(k for k in values if k not in old))
        if old.get(k) != values.get(k)
    }
    if pool != before.pool:
        changes["pool"] = [before.pool, pool]
    if owner != before.owner:
        changes["owner"] = [before.owner, owner]
    return changes


def _initial(cfg: CompiledConfig, entity: str) -> dict[str, Any]:
    values = {r.field: r.initial() for r in cfg.rollups.get(entity, ())}
    return {k: v for k, v in values.items() if v is not None}


def held(record: Stored | None) -> Held:
    """What the public pool's clocks read of a record."""
    if record is None:
        return Held(None, None)
    return Held(
        record.owner,
        record.pool,
        record.owner_since,
        record.protected_until,
        record.remind_at,
        record.data,
    )
