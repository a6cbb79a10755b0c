"""Assignment in the write path: a new record without an owner gets one (or a queue).

Per rule (and by_field group) the rotation state row is locked first, then the candidates'
loads are read: writers assigning through one rule take turns, so the rotation and the
capacities hold under concurrency. State, counters and the record commit together: the
assigner keeps its writes (`pending`) for the caller to write with the record's own rows,
as late in the transaction as it can, since the lock is held until the commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from engine.conditions import types as T
from engine.config.model import Capacity
from engine.rules.assignment import DEFAULT_QUEUE, CompiledRule, Load, Outcome
from engine.rules.compiled import CompiledConfig
from engine.rules.decisions import decision
from engine.storage import tables as t
from engine.storage.combined import NewRows
from engine.storage.store import Record, Tx

ASSIGNED = "assigned"  # the per-user daily counter of assignments
USER_LOCK, EPOCH = "user", date(1970, 1, 1)  # one row per user: claims and capped assignments


class Assigner:
    """Assigns the new records of one write (one transaction)."""

    def __init__(self, tx: Tx, cfg: CompiledConfig, entity: str, now: datetime) -> None:
        self.tx = tx
        self.cfg = cfg
        self.entity = entity
        self.now = now
        self.compiled = cfg.assignment.get(entity)
        self.states: dict[str, dict[str, Any]] = {}
        self.loads: dict[str, dict[str, Load]] = {}  # by rule id
        self._off: frozenset[str] | None = None
        self.saved: set[str] = set()  # state keys to write
        self.confirmed: set[str] = set()  # capped users locked (or checked) in this write
        self.bumps: Counter[tuple[str, str, date]] = Counter()  # (user, kind, day) counters

    def pending(
        self, records: Sequence[Mapping[str, Any]] = (), decisions: Sequence[Mapping[str, Any]] = ()
    ) -> NewRows:
        """The write's new rows with the rotation states and counter increments this
        assigner has yet to store."""
        states = {k: self.states[k] for k in sorted(self.saved)}
        return NewRows(self.cfg.tenant, records, decisions, states, dict(self.bumps))

    def flush(self) -> None:
        """Store the pending writes by themselves (paths without new records)."""
        self.tx.write_new(self.pending())
        self.saved.clear()
        self.bumps.clear()

    @property
    def off(self) -> frozenset[str]:
        """Users deactivated through the API (read once per write)."""
        if self._off is None:
            self._off = frozenset(self.tx.switched_off(self.cfg.tenant))
        return self._off

    def prepare(self, records: list[Record]) -> None:
        """A batch locks the rotation of every rule (and group) its records may use first,
        in the bundle's order, as a single write reaches them: batches never wait in a
        circle on each other's rules."""
        if self.compiled is None or len(records) < 2:
            return
        keys: dict[tuple[int, str], str] = {}
        for record in records:
            if record.owner is not None or self._in_public(record):
                continue
            for rule in self.compiled.matching(record.data, self.now):
                group = rule.group_of(record.data)
                if rule.definition.strategy != "manual_queue" and group is not None:
                    index = self.compiled.rules.index(rule)
                    keys[(index, group)] = rule.id if not group else f"{rule.id}:{group}"
        for _, key in sorted(keys.items()):
            self._state(key)

    def assign(self, record: Record) -> tuple[Record, list[dict[str, Any]]]:
        """The record with its owner or queue, and the decision that says why."""
        if self.compiled is None or record.owner is not None or self._in_public(record):
            return record, []
        _ = self.off  # read before any rule's lock is taken: shorter waits
        passed: list[dict[str, Any]] = []
        for rule in self.compiled.matching(record.data, self.now):
            outcome = self._decide(rule, record)
            if outcome is None:
                passed.append({"rule": rule.id, "reason": "nobody_eligible"})
                continue
            return self._apply(record, outcome, passed)
        queued = replace(record, queue=DEFAULT_QUEUE)
        explanation = {"rule": None, "queue": DEFAULT_QUEUE, "passed": passed}
        return queued, [self._row(record, "no_rule", {"queue": DEFAULT_QUEUE}, explanation)]

    def assign_by(
        self, rule: CompiledRule, record: Record
    ) -> tuple[Record, list[dict[str, Any]]] | None:
        """Through one named rule (a campaign's `assign`), when its condition holds; None
        when nobody is eligible and the rule has no fallback queue."""
        if self.compiled is None or (
            rule.when is not None and not rule.when.evaluate(record.data, self.now)
        ):
            return None
        outcome = self._decide(rule, record)
        return None if outcome is None else self._apply(record, outcome, [])

    def reassign(
        self, record: Record, rule: CompiledRule, because: dict[str, Any]
    ) -> tuple[Record, list[dict[str, Any]]] | None:
        """Hand a record on to the rule's next eligible candidate (not its owner); None when
        nobody else may take it now."""
        assert self.compiled is not None and record.owner is not None
        group = rule.group_of(record.data)
        key = rule.id if not group else f"{rule.id}:{group}"
        state = self._state(key)
        loads = self._loads(rule)
        outcome = self._confirmed(rule, record, state, loads, frozenset({record.owner}))
        if outcome is None or outcome.owner is None:
            return None
        fresh, rows = self._apply(record, outcome, [])
        for row in rows:
            row["rule"] = f"assignment.{rule.id}.reassign"
            row["before"] = {"owner": record.owner}
            row["trace"]["assignment"]["because"] = because
        return fresh, rows

    def _in_public(self, record: Record) -> bool:
        public = self.cfg.public.get(self.entity)
        return public is not None and record.pool == public.pool

    def _decide(self, rule: CompiledRule, record: Record) -> Outcome | None:
        assert self.compiled is not None
        group = rule.group_of(record.data)
        key = rule.id if not group else f"{rule.id}:{group}"
        state = self._state(key) if rule.definition.strategy != "manual_queue" else {}
        loads = self._loads(rule)
        earlier = self._earlier(rule, record)
        if earlier is not None:
            kept = self.compiled.keep(rule, record.data, earlier, loads, state, self.now, self.off)
            if kept is not None and self._fits(rule, kept.owner):
                return kept
        return self._confirmed(rule, record, state, loads)

    def _confirmed(
        self,
        rule: CompiledRule,
        record: Record,
        state: dict[str, Any],
        loads: dict[str, Load],
        exclude: frozenset[str] = frozenset(),
    ) -> Outcome | None:
        """The rule's decision, its owner's capacity confirmed (else decided again)."""
        assert self.compiled is not None
        while True:
            outcome = self.compiled.decide(
                rule, record.data, loads, state, self.now, exclude, self.off
            )
            if outcome is None or self._fits(rule, outcome.owner):
                return outcome

    def _fits(self, rule: CompiledRule, user: str | None) -> bool:
        """Whether a capped user still has room, read again under the user's own lock: a
        writer through another rule may have given them records since the loads were read.
        A full user's lock is let go at once (a savepoint), so writers never wait in a
        circle on full users."""
        capped = user is not None and self.cfg.bundle.tenant.users[user].capacity != Capacity()
        if not capped or not rule.definition.respect_capacity or user in self.confirmed:
            return True
        assert user is not None and self.compiled is not None
        self.confirmed.add(user)
        if self.tx.dialect != "postgresql":  # one writer at a time: the loads are current
            return True
        savepoint = self.tx.conn.begin_nested()
        self.tx.lock_counter(self.cfg.tenant, user, USER_LOCK, EPOCH)
        fresh = self._read_loads(rule, [user])[user]
        for loads in self.loads.values():
            if user in loads:
                loads[user] = fresh
        if self.compiled.eligible(rule, [user], {user: fresh}, self.now)[0]:
            savepoint.commit()  # the lock stays until the write commits
            return True
        savepoint.rollback()
        return False

    def _earlier(self, rule: CompiledRule, record: Record) -> dict[str, Any] | None:
        """The newest owned record with the same value in one of the rule's sticky_by fields."""
        entity = self.cfg.bundle.entities[self.entity]
        for name in rule.definition.sticky_by:
            value = record.data.get(name)
            if value is None:
                continue
            kind = T.field_type(entity.fields[name].type, entity.fields[name].option_values)
            found = self.tx.newest_owned(self.cfg.tenant, self.entity, name, kind, value)
            if found is not None:
                return {"field": name, "record": found[0], "owner": found[1]}
        return None

    def _state(self, key: str) -> dict[str, Any]:
        if key not in self.states:
            self.states[key] = self.tx.lock_state(self.cfg.tenant, key)
        return self.states[key]

    def _loads(self, rule: CompiledRule) -> dict[str, Load]:
        """Open records and today's assignments of the rule's candidates (read once per
        write, under the rule's lock, then kept current as this write assigns)."""
        if rule.id in self.loads:
            return self.loads[rule.id]
        users = sorted({u for group in rule.groups.values() for u in group})
        if not rule.needs_loads:  # no capacity to respect and no balancing: nothing to read
            self.loads[rule.id] = {u: Load() for u in users}
            return self.loads[rule.id]
        self.loads[rule.id] = self._read_loads(rule, users)
        return self.loads[rule.id]

    def _read_loads(self, rule: CompiledRule, users: list[str]) -> dict[str, Load]:
        where = None
        if rule.open_when is not None:
            where = rule.open_when.sql(self.tx.dialect, self.now, t.records.c.data)
        tenant = self.cfg.tenant
        opened = self.tx.open_counts(tenant, self.entity, users, where) if users else {}
        day = self.now.astimezone(self.cfg.tz).date()
        kind = f"{ASSIGNED}:{self.entity}"
        today = self.tx.counters(tenant, users, kind, day) if users else {}
        # this write's own assignments are not stored yet: count them as the other rules do
        mine = {u: self.bumps[(u, kind, day)] for u in users}
        return {u: Load(opened.get(u, 0) + mine[u], today.get(u, 0) + mine[u]) for u in users}

    def _apply(
        self, record: Record, outcome: Outcome, passed: list[dict[str, Any]]
    ) -> tuple[Record, list[dict[str, Any]]]:
        explanation = {**outcome.explanation(), "passed": passed}
        if outcome.owner is None:
            queued = replace(record, queue=outcome.queue)
            row = self._row(record, outcome.rule, {"queue": outcome.queue}, explanation)
            return queued, [row]
        self.states[outcome.state_key] = dict(outcome.state)
        self.saved.add(outcome.state_key)
        day = self.now.astimezone(self.cfg.tz).date()
        self.bumps[(outcome.owner, f"{ASSIGNED}:{self.entity}", day)] += 1
        for loads in self.loads.values():
            if outcome.owner in loads:
                was = loads[outcome.owner]
                loads[outcome.owner] = Load(was.open + 1, was.today + 1)
        row = self._row(record, outcome.rule, {"owner": outcome.owner}, explanation)
        return replace(record, owner=outcome.owner, queue=None), [row]

    def _row(
        self, record: Record, rule: str, after: dict[str, Any], explanation: dict[str, Any]
    ) -> dict[str, Any]:
        rule_name, before = f"assignment.{rule}", {"owner": None}
        why = {"assignment": explanation}
        return decision(
            self.cfg,
            record.entity,
            record.id,
            "assignment",
            rule_name,
            self.now,
            before,
            after,
            why,
        )
