"""Fairness at a glance: per user and rule, what was assigned today and this week, the open
load and the capacity left."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine.clock import Clock
from engine.rules.compiled import CompiledConfig
from engine.service.assigning import ASSIGNED
from engine.service.configs import TenantConfigs
from engine.service.policy import Policy
from engine.storage import tables as t
from engine.storage.store import Store, Tx


class AssignmentStats:
    def __init__(self, store: Store, configs: TenantConfigs, clock: Clock) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock

    def stats(self, tenant: str, policy: Policy | None = None) -> dict[str, Any]:
        """Every user's figures. With a `policy` whose caller may not `see_all_stats`, only
        the users whose records they see (their own, their team's or subtree's), and each
        rule's figures for those users alone."""
        cfg = self.configs.active(tenant)
        now = self.clock.now()
        today = now.astimezone(cfg.tz).date()
        monday = today - timedelta(days=today.weekday())
        since = datetime.combine(monday, datetime.min.time(), cfg.tz)
        day_start = datetime.combine(today, datetime.min.time(), cfg.tz)
        with self.store.read() as tx:
            off = tx.switched_off(tenant)
            users = [
                row
                for entity in cfg.assignment
                for row in self._users(tx, cfg, entity, today, monday, off)
            ]
            rules = self._rules(tx, cfg, since, day_start)
        if policy is not None and not policy.may("see_all_stats"):
            users = [u for u in users if _seen(policy, u["entity"], u["user"])]
            rules = _only(rules, {u["user"] for u in users})
        return {
            "day": today.isoformat(),
            "week_from": monday.isoformat(),
            "users": users,
            "rules": rules,
        }

    def _users(
        self, tx: Tx, cfg: CompiledConfig, entity: str, today: date, monday: date, off: set[str]
    ) -> list[dict[str, Any]]:
        """Each user's figures for one entity (three queries for all users)."""
        ids = list(cfg.bundle.tenant.users)
        kind = f"{ASSIGNED}:{entity}"
        assigned_today = tx.counters(cfg.tenant, ids, kind, today)
        week = tx.counter_sums(cfg.tenant, ids, kind, monday)
        held = tx.open_counts(cfg.tenant, entity, ids)
        return [
            _user_row(cfg, entity, u, assigned_today.get(u, 0), week.get(u, 0), held.get(u, 0), off)
            for u in ids
        ]

    def _rules(
        self, tx: Tx, cfg: CompiledConfig, since: datetime, day_start: datetime
    ) -> list[dict[str, Any]]:
        """Assignments per rule and user this week, from the decision log."""
        d = t.decisions.c
        owner = d.after["owner"].as_string()
        query = sa.select(d.rule, owner, d.at).where(
            d.tenant_id == cfg.tenant, d.kind == "assignment", d.at >= since
        )
        week: Counter[tuple[str, str]] = Counter()
        today: Counter[tuple[str, str]] = Counter()
        for rule, user, at in tx.conn.execute(query):
            if user is None:
                continue
            week[(rule, user)] += 1
            if at >= day_start:
                today[(rule, user)] += 1
        out = []
        for rule in sorted({r for r, _ in week}):
            by_user = {
                u: {"today": today[(r, u)], "week": n} for (r, u), n in week.items() if r == rule
            }
            counts = [v["week"] for v in by_user.values()]
            out.append({"rule": rule, "by_user": by_user, "spread_week": max(counts) - min(counts)})
        return out


def _seen(policy: Policy, entity: str, user: str) -> bool:
    owners = policy.owners_seen(entity)
    return owners is None or user in owners


def _only(rules: list[dict[str, Any]], users: set[str]) -> list[dict[str, Any]]:
    """Each rule's figures for `users` alone (the spread among them)."""
    out = []
    for rule in rules:
        by_user = {u: v for u, v in rule["by_user"].items() if u in users}
        if by_user:
            counts = [v["week"] for v in by_user.values()]
            out.append({**rule, "by_user": by_user, "spread_week": max(counts) - min(counts)})
    return out


def _user_row(
    cfg: CompiledConfig, entity: str, user_id: str, today: int, week: int, held: int, off: set[str]
) -> dict[str, Any]:
    user = cfg.bundle.tenant.users[user_id]
    capacity = user.capacity
    left = {
        "open": None if capacity.open is None else max(0, capacity.open - held),
        "per_day": None if capacity.per_day is None else max(0, capacity.per_day - today),
    }
    return {
        "user": user_id,
        "name": user.name,
        "active": user.active and user_id not in off,
        "entity": entity,
        "assigned_today": today,
        "assigned_week": week,
        "owned": held,
        "capacity": {"open": capacity.open, "per_day": capacity.per_day},
        "capacity_left": left,
    }
