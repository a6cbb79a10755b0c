"""Assignment, compiled: who gets a new record, and why everyone else did not.

Pure: the service passes the record's values, the time, each candidate's load (open records,
records assigned today) and the rule's rotation state; `assign` returns the owner (or queue),
the new state and an explanation. The service stores the state in the same transaction as
the record, under a row lock, so concurrent writers rotate fairly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Protocol

from engine.conditions import Condition, compile_any, entity_scope
from engine.config.model import (
    AssignmentRuleDef,
    Candidates,
    Capacity,
    EntityDef,
    Hours,
    TenantDef,
)

DEFAULT_QUEUE = "unassigned"


@dataclass(frozen=True, slots=True)
class Load:
    open: int = 0
    today: int = 0


@dataclass(frozen=True, slots=True)
class Skip:
    user: str
    reason: str  # inactive | on_leave | out_of_hours | at_open_capacity | at_daily_capacity


@dataclass(frozen=True, slots=True)
class Outcome:
    """One rule's answer: an owner or a queue (or neither: the next rule tries)."""

    rule: str
    strategy: str
    owner: str | None
    queue: str | None
    considered: tuple[str, ...]
    skipped: tuple[Skip, ...]
    state_key: str
    state: Mapping[str, Any]
    group: str | None = None  # by_field: the value that chose the group
    sticky: Mapping[str, Any] | None = None  # the earlier record whose owner was kept

    def explanation(self) -> dict[str, Any]:
        return {
            "sticky": dict(self.sticky) if self.sticky else None,
            "rule": self.rule,
            "strategy": self.strategy,
            "group": self.group,
            "considered": list(self.considered),
            "skipped": [{"user": s.user, "reason": s.reason} for s in self.skipped],
            "owner": self.owner,
            "queue": self.queue,
            "state": dict(self.state),
        }


class Strategy(Protocol):
    def pick(
        self, eligible: list[str], loads: Mapping[str, Load], state: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]: ...


class RoundRobin:
    """Strict rotation: the eligible candidate after the last one assigned."""

    def __init__(self, order: list[str]) -> None:
        self.order = order

    def pick(
        self, eligible: list[str], loads: Mapping[str, Load], state: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        last = state.get("last")
        start = self.order.index(last) + 1 if last in self.order else 0
        ring = self.order[start:] + self.order[:start]
        chosen = next(u for u in ring if u in eligible)
        return chosen, {"last": chosen}


class Weighted:
    """Smooth weighted rotation (as nginx): 2:1 gives a, b, a, a, b, a — deterministic."""

    def __init__(self, weights: Mapping[str, int]) -> None:
        self.weights = weights

    def pick(
        self, eligible: list[str], loads: Mapping[str, Load], state: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        current = {u: int(state.get("current", {}).get(u, 0)) for u in eligible}
        for user in eligible:
            current[user] += self.weights.get(user, 1)
        chosen = max(eligible, key=lambda u: (current[u], -eligible.index(u)))
        current[chosen] -= sum(self.weights.get(u, 1) for u in eligible)
        kept = {u: v for u, v in state.get("current", {}).items() if u not in current}
        return chosen, {"current": {**kept, **current}}


class LoadBalanced:
    """The fewest open records; ties go to the fewest assigned today, then candidate order."""

    def pick(
        self, eligible: list[str], loads: Mapping[str, Load], state: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        chosen = min(eligible, key=lambda u: (loads[u].open, loads[u].today, eligible.index(u)))
        return chosen, {}


STRATEGIES: dict[str, Callable[[AssignmentRuleDef, list[str]], Strategy]] = {
    "round_robin": lambda rule, order: RoundRobin(order),
    "weighted": lambda rule, order: Weighted(rule.weights),
    "load_balanced": lambda rule, order: LoadBalanced(),
}


@dataclass(frozen=True)
class CompiledRule:
    definition: AssignmentRuleDef
    when: Condition | None
    open_when: Condition | None
    groups: Mapping[str, list[str]]  # by_field value (or "") -> candidate users, in order
    strategies: Mapping[str, Strategy] = field(default_factory=dict)
    reassign: Condition | None = None  # reads assigned_at

    needs_loads: bool = True  # balancing or a capacity: open and today's counts are read

    @property
    def id(self) -> str:
        return self.definition.id

    def group_of(self, data: Mapping[str, Any]) -> str | None:
        """The candidates' group for a record: "" for the rule's own candidates; by_field:
        the field's value (None when the map has no entry for it)."""
        if self.definition.strategy != "by_field":
            return ""
        value = data.get(self.definition.key_field or "")
        return str(value) if value is not None and str(value) in self.groups else None


class CompiledAssignment:
    """An entity's assignment rules, in order."""

    def __init__(
        self, rules: list[AssignmentRuleDef], entity: EntityDef, tenant: TenantDef, tz: tzinfo
    ) -> None:
        scope = entity_scope(entity, tz)
        self.tenant = tenant
        self.tz = tz
        self.timed_scope = entity_scope(entity, tz, assigned_at=True)
        self.rules = [self._compile(rule, scope) for rule in rules]

    def _compile(self, rule: AssignmentRuleDef, scope: Any) -> CompiledRule:
        when = compile_any(rule.when, scope)[0] if rule.when is not None else None
        reassign = None
        if rule.reassign_when is not None:
            reassign = compile_any(rule.reassign_when, self.timed_scope)[0]
        open_when = compile_any(rule.open_when, scope)[0] if rule.open_when is not None else None
        if rule.strategy == "by_field":
            groups = {value: self.users_of(c) for value, c in rule.map.items()}
            kind = rule.within
        else:
            groups = {"": self.users_of(rule.candidates)} if rule.candidates else {}
            kind = rule.strategy
        make = STRATEGIES.get(kind)
        strategies = {g: make(rule, users) for g, users in groups.items()} if make else {}
        needs = kind == "load_balanced" or (
            rule.respect_capacity
            and any(
                self.tenant.users[u].capacity != Capacity()
                for users in groups.values()
                for u in users
            )
        )
        return CompiledRule(rule, when, open_when, groups, strategies, reassign, needs)

    def users_of(self, candidates: Candidates | None) -> list[str]:
        """Users named, members of the teams and holders of the roles, in the tenant's order."""
        if candidates is None:
            return []
        return [
            u.id
            for u in self.tenant.users.values()
            if u.id in candidates.users
            or set(u.teams) & set(candidates.teams)
            or set(u.roles) & set(candidates.roles)
        ]

    def matching(self, data: Mapping[str, Any], now: datetime) -> list[CompiledRule]:
        return [r for r in self.rules if r.when is None or r.when.evaluate(data, now)]

    def eligible(
        self,
        rule: CompiledRule,
        users: list[str],
        loads: Mapping[str, Load],
        now: datetime,
        exclude: frozenset[str] = frozenset(),
        off: frozenset[str] = frozenset(),
    ) -> tuple[list[str], list[Skip]]:
        """Who may take a record now, and why each of the others may not (`off`: users
        deactivated outside the bundle)."""
        ok, skipped = [], []
        for user in users:
            reason = self._unavailable(rule.definition, user, loads.get(user, Load()), now)
            if reason is None and user in off:
                reason = "inactive"
            if reason is None and user in exclude:
                reason = "previous_owner"
            if reason is None:
                ok.append(user)
            else:
                skipped.append(Skip(user, reason))
        return ok, skipped

    def _unavailable(
        self, rule: AssignmentRuleDef, user_id: str, load: Load, now: datetime
    ) -> str | None:
        user = self.tenant.users[user_id]
        local = now.astimezone(self.tz)
        if not user.active:
            return "inactive"
        if any(start <= local.date() <= end for start, end in user.out_of_office):
            return "on_leave"
        hours = user.working_hours or self.tenant.working_hours
        if rule.working_hours and hours is not None and not _within(hours, local):
            return "out_of_hours"
        if not rule.respect_capacity:
            return None
        if user.capacity.open is not None and load.open >= user.capacity.open:
            return "at_open_capacity"
        if user.capacity.per_day is not None and load.today >= user.capacity.per_day:
            return "at_daily_capacity"
        return None

    def decide(
        self,
        rule: CompiledRule,
        data: Mapping[str, Any],
        loads: Mapping[str, Load],
        state: Mapping[str, Any],
        now: datetime,
        exclude: frozenset[str] = frozenset(),
        off: frozenset[str] = frozenset(),
    ) -> Outcome | None:
        """This rule's outcome for a record, or None when the next rule should try."""
        definition = rule.definition
        if definition.strategy == "manual_queue":
            return Outcome(rule.id, "manual_queue", None, definition.queue, (), (), rule.id, {})
        group = rule.group_of(data)
        users = rule.groups.get(group, []) if group is not None else []
        eligible, skipped = self.eligible(rule, users, loads, now, exclude, off)
        key = rule.id if not group else f"{rule.id}:{group}"
        shown_group = group or None
        if not eligible:
            if definition.fallback_queue is None:
                return None
            return Outcome(
                rule.id,
                definition.strategy,
                None,
                definition.fallback_queue,
                tuple(users),
                tuple(skipped),
                key,
                state,
                shown_group,
            )
        owner, new_state = rule.strategies[group or ""].pick(eligible, loads, state)
        return Outcome(
            rule.id,
            definition.strategy,
            owner,
            None,
            tuple(users),
            tuple(skipped),
            key,
            new_state,
            shown_group,
        )

    def keep(
        self,
        rule: CompiledRule,
        data: Mapping[str, Any],
        earlier: Mapping[str, Any],
        loads: Mapping[str, Load],
        state: Mapping[str, Any],
        now: datetime,
        off: frozenset[str] = frozenset(),
    ) -> Outcome | None:
        """sticky_by: the owner of an earlier record with the same value, if they are still
        a candidate and eligible (the rotation does not move)."""
        group = rule.group_of(data)
        owner = earlier["owner"]
        if group is None or owner not in rule.groups.get(group, []):
            return None
        eligible, _ = self.eligible(rule, [owner], loads, now, off=off)
        if not eligible:
            return None
        key = rule.id if not group else f"{rule.id}:{group}"
        strategy = rule.definition.strategy
        return Outcome(
            rule.id, strategy, owner, None, (owner,), (), key, state, group or None, earlier
        )


def _within(hours: Hours, local: datetime) -> bool:
    minute = local.hour * 60 + local.minute
    return local.weekday() in hours.days and hours.start <= minute < hours.end
