"""The assignment page's figures: per user and entity the open load, the capacity left and the
assignments of today and this week; per rule and candidate group, today's assignments side by
side (fairness); the records waiting in queues.

The per-user figures are the ones AssignmentStats.stats gives (the same store queries). Its
per-rule part reads a week of the decision log, which has no index on `at` and grows with the
records; here fairness comes from the per-user day counters instead — what the assigning
engine itself reads when it balances and checks capacities — so the page stays a few small
indexed queries at any size.

Given a viewer's policy without `can: see_all_stats`, the page is about the users whose records
the viewer sees (their own, their team's or subtree's: as AssignmentStats.stats) and the queued
records they see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from engine.rules.compiled import CompiledConfig
from engine.service.assigning import ASSIGNED
from engine.service.policy import Policy
from engine.storage import tables as t
from engine.storage.store import Store, Tx
from engine.storage.visibility import visible


@dataclass(frozen=True, slots=True)
class UserLoad:
    user: str
    entity: str
    active: bool
    open: int  # live records of the entity they own
    today: int  # assigned today (the tenant's day)
    week: int  # assigned since Monday
    cap_open: int | None
    cap_per_day: int | None

    @property
    def open_left(self) -> int | None:
        return None if self.cap_open is None else max(0, self.cap_open - self.open)

    @property
    def per_day_left(self) -> int | None:
        return None if self.cap_per_day is None else max(0, self.cap_per_day - self.today)


@dataclass(frozen=True, slots=True)
class GroupFairness:
    entity: str
    rule: str
    group: str  # a by_field rule's value; "" for the rule's own candidates
    today: tuple[tuple[str, int], ...]  # each candidate (tenant's order): assigned today
    active: frozenset[str]  # the candidates who can get records (spread is among them)

    @property
    def spread(self) -> int:
        """Most minus fewest assigned today among the active candidates."""
        counts = [n for u, n in self.today if u in self.active]
        return max(counts) - min(counts) if counts else 0


@dataclass(frozen=True, slots=True)
class QueueCount:
    entity: str
    queue: str
    count: int


@dataclass(frozen=True, slots=True)
class AssignmentBoard:
    day: date
    week_from: date
    users: tuple[UserLoad, ...]
    fairness: tuple[GroupFairness, ...]
    queues: tuple[QueueCount, ...]


def assignment_board(
    store: Store, cfg: CompiledConfig, now: datetime, policy: Policy | None = None
) -> AssignmentBoard:
    """Every figure of the page, in one read transaction; with a `policy`, as its caller may
    see them (see the module's doc)."""
    today = now.astimezone(cfg.tz).date()
    monday = today - timedelta(days=today.weekday())
    scoped = policy if policy is not None and not policy.may("see_all_stats") else None
    with store.read() as tx:
        off = tx.switched_off(cfg.tenant)
        users = tuple(
            row
            for entity in cfg.assignment
            for row in user_loads(tx, cfg, entity, (today, monday), off)
            if scoped is None or _seen(scoped, entity, row.user)
        )
        queues = tuple(
            q for entity in cfg.assignment for q in queue_counts(tx, cfg, entity, scoped)
        )
    return AssignmentBoard(today, monday, users, fairness(cfg, users), queues)


def _seen(policy: Policy, entity: str, user: str) -> bool:
    """Whether the policy's caller sees the user's records of the entity."""
    owners = policy.owners_seen(entity)
    return owners is None or user in owners


def user_loads(
    tx: Tx, cfg: CompiledConfig, entity: str, days: tuple[date, date], off: set[str]
) -> list[UserLoad]:
    """Each user's figures for one entity (today, and the week from `days`' Monday): three
    queries for all users, as stats does. Users switched off through the API are inactive."""
    users, (today, monday) = cfg.bundle.tenant.users, days
    ids = list(users)
    kind = f"{ASSIGNED}:{entity}"
    assigned = tx.counters(cfg.tenant, ids, kind, today)
    week = tx.counter_sums(cfg.tenant, ids, kind, monday)
    held = tx.open_counts(cfg.tenant, entity, ids)
    return [
        UserLoad(
            u,
            entity,
            users[u].active and u not in off,
            held.get(u, 0),
            assigned.get(u, 0),
            week.get(u, 0),
            users[u].capacity.open,
            users[u].capacity.per_day,
        )
        for u in ids
    ]


def fairness(cfg: CompiledConfig, loads: tuple[UserLoad, ...]) -> tuple[GroupFairness, ...]:
    """Per rule and candidate group: who got how many today, among the users of `loads`. The
    counters are per entity, so a user who is a candidate of two rules of one entity shows the
    sum in both."""
    today = {(u.entity, u.user): u.today for u in loads}
    active = frozenset(u.user for u in loads if u.active)
    out = []
    for entity, compiled in cfg.assignment.items():
        for rule in compiled.rules:
            for group, candidates in rule.groups.items():
                users = [u for u in candidates if (entity, u) in today]
                if users:
                    counts = tuple((u, today[(entity, u)]) for u in users)
                    out.append(GroupFairness(entity, rule.id, group, counts, active))
    return tuple(out)


def queue_counts(
    tx: Tx, cfg: CompiledConfig, entity: str, policy: Policy | None = None
) -> list[QueueCount]:
    """Live records waiting in each queue for a manager (ix_records_queue); with a `policy`,
    those its caller sees."""
    r = t.records.c
    query = (
        sa.select(r.queue, sa.func.count())
        .where(
            r.tenant_id == cfg.tenant,
            r.entity == entity,
            r.queue.is_not(None),
            r.deleted_at.is_(None),
        )
        .group_by(r.queue)
        .order_by(r.queue)
    )
    if policy is not None:
        shown = policy.visibility(entity)
        if not shown.everything:
            query = query.where(visible(shown, cfg.tenant, tx.dialect))
    return [QueueCount(entity, str(q), int(n)) for q, n in tx.conn.execute(query)]
