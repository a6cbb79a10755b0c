"""What the admin UI's dashboard shows: records per pool, the funnel between a pool set's
stages, the decisions of the last 24 hours and the failed jobs.

Each figure is one COUNT … GROUP BY on indexed columns or a read bounded by a LIMIT, so the page
stays fast with 100,000+ records; nothing here loops over records in Python.

Given a viewer's policy without `can: see_all_stats`, the counts, the funnel and the decisions
are those of the records the viewer sees, and the failed jobs (tenant-wide) are left out unless
they may `configure`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engine.config.model import Bundle, Label, PoolSetDef
from engine.rules.compiled import CompiledConfig
from engine.service.policy import Policy
from engine.storage import tables as t
from engine.storage.store import Store, Tx
from engine.storage.visibility import visible

# The decisions table has no index on `at`: the 24-hour counts read the newest decisions by id
# (the primary key; ids count up), at most this many. Beyond it the counts are lower bounds.
DECISIONS_SCANNED = 10_000
LATEST_FAILED = 5
ERROR_CHARS = 240
WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Stage:
    pool: str
    reached: int  # records now in this stage or a later one
    conversion: float | None  # reached(next) / reached(this); None for the last stage or none


@dataclass(frozen=True, slots=True)
class Funnel:
    stages: tuple[Stage, ...]
    exits: tuple[tuple[str, int], ...]  # pools off the funnel (lost, invalid, public): counts
    bottleneck: str | None  # the stage with the lowest conversion


@dataclass(frozen=True, slots=True)
class PoolSetFigures:
    pool_set: PoolSetDef
    counts: Mapping[str, int]  # every pool of the set, in bundle order
    other: int  # live records in no pool of the set (written before it, or a dropped pool)
    funnel: Funnel

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.other


@dataclass(frozen=True, slots=True)
class DecisionCount:
    kind: str
    rule: str
    count: int


@dataclass(frozen=True, slots=True)
class RecentDecisions:
    counts: tuple[DecisionCount, ...]  # most first
    since: datetime
    partial: bool  # more than DECISIONS_SCANNED decisions lately: the counts are lower bounds

    @property
    def total(self) -> int:
        return sum(c.count for c in self.counts)

    def by_kind(self) -> list[tuple[str, int]]:
        totals: dict[str, int] = {}
        for c in self.counts:
            totals[c.kind] = totals.get(c.kind, 0) + c.count
        return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass(frozen=True, slots=True)
class FailedJob:
    id: int
    kind: str
    campaign: str | None
    attempts: int
    at: datetime | None  # when it was given up
    error: str  # clipped, addresses and long numbers masked


@dataclass(frozen=True, slots=True)
class FailedJobs:
    total: int
    latest: tuple[FailedJob, ...]  # newest first


@dataclass(frozen=True, slots=True)
class Dashboard:
    pool_sets: tuple[PoolSetFigures, ...]
    decisions: RecentDecisions
    failed: FailedJobs | None  # None: not the viewer's to see
    everything: bool = True  # whether the figures count every record (else the viewer's)


def dashboard(
    store: Store, cfg: CompiledConfig, now: datetime, policy: Policy | None = None
) -> Dashboard:
    """Every figure of the dashboard, read in one transaction (one consistent snapshot);
    with a `policy`, as its caller may see them (see the module's doc)."""
    scoped = policy if policy is not None and not policy.may("see_all_stats") else None
    with store.read() as tx:
        sets = tuple(
            pool_set_figures(tx, cfg.tenant, p, scoped) for p in cfg.bundle.pool_sets.values()
        )
        seen = None if scoped is None else decisions_seen(tx, cfg, scoped)
        decisions = recent_decisions(tx, cfg.tenant, now - WINDOW, seen)
        jobs = scoped is None or scoped.may("configure")
        failed = failed_jobs(tx, cfg.tenant) if jobs else None
    return Dashboard(sets, decisions, failed, scoped is None)


# records per pool and the funnel -------------------------------------------------------------
def pool_counts(
    tx: Tx, tenant: str, entity: str, policy: Policy | None = None
) -> dict[str | None, int]:
    """Live records per pool (ix_records_pool: tenant_id, entity, pool); with a `policy`,
    those its caller sees."""
    r = t.records.c
    query = (
        sa.select(r.pool, sa.func.count())
        .where(r.tenant_id == tenant, r.entity == entity, r.deleted_at.is_(None))
        .group_by(r.pool)
    )
    if policy is not None:
        shown = policy.visibility(entity)
        if not shown.everything:
            query = query.where(visible(shown, tenant, tx.dialect))
    return {pool: int(n) for pool, n in tx.conn.execute(query)}


def pool_set_figures(
    tx: Tx, tenant: str, pool_set: PoolSetDef, policy: Policy | None = None
) -> PoolSetFigures:
    found = pool_counts(tx, tenant, pool_set.entity, policy)
    counts = {p: found.get(p, 0) for p in pool_set.pools}
    other = sum(n for p, n in found.items() if p not in pool_set.pools)
    return PoolSetFigures(pool_set, counts, other, funnel(pool_set, counts))


def funnel_pools(pool_set: PoolSetDef) -> list[str]:
    """The funnel's stages: the pools in bundle order, up to the first one no promotion leaves
    (the goal, e.g. won). The pools after it (lost, invalid) and the public pool are ways out
    of the funnel, not stages of it."""
    public = pool_set.public.pool if pool_set.public else None
    pools = [p for p in pool_set.pools if p != public]
    for i, pool in enumerate(pools):
        if i > 0 and not _left(pool_set, pool):
            return pools[: i + 1]
    return pools


def _left(pool_set: PoolSetDef, pool: str) -> bool:
    """Whether some promotion moves records out of the pool."""
    return any(
        p.to != pool and (p.from_pools is None or pool in p.from_pools) for p in pool_set.promotions
    )


def funnel(pool_set: PoolSetDef, counts: Mapping[str, int]) -> Funnel:
    """Conversion from the records' current pools, not from their history: a record in a stage
    has reached it and every stage before it, so reached(stage) counts the records now at or
    beyond it, and conversion = reached(next) / reached(stage). One GROUP BY on an indexed
    column answers it at any size; records that left (lost, public…) are shown as exits, since
    where they left from is in the decision log only (a scan too slow for a page)."""
    pools = funnel_pools(pool_set)
    reached, total = [], 0
    for pool in reversed(pools):
        total += counts.get(pool, 0)
        reached.append(total)
    reached.reverse()
    stages = tuple(
        Stage(pool, reached[i], _ratio(reached[i + 1], reached[i]) if i + 1 < len(pools) else None)
        for i, pool in enumerate(pools)
    )
    exits = tuple((p, counts.get(p, 0)) for p in pool_set.pools if p not in pools)
    return Funnel(stages, exits, bottleneck(stages))


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def bottleneck(stages: tuple[Stage, ...]) -> str | None:
    """The stage that converts least into the next one (the first of equals); None when no
    stage has records to convert."""
    rated = [s for s in stages if s.conversion is not None]
    if not rated:
        return None
    return min(rated, key=lambda s: s.conversion or 0.0).pool


# decisions -------------------------------------------------------------------------------------
def recent_decisions(
    tx: Tx, tenant: str, since: datetime, seen: sa.ColumnElement[bool] | None = None
) -> RecentDecisions:
    """The tenant's decisions per kind and rule since `since`, among the installation's newest
    DECISIONS_SCANNED: a range of the primary key, whatever the size of the table (those
    `seen` allows, when given: decisions_seen)."""
    d = t.decisions.c
    low = int(tx.conn.execute(sa.select(sa.func.max(d.id))).scalar() or 0) - DECISIONS_SCANNED
    # `tenant_id || ''`: SQLite would otherwise walk every entry of the tenant's index
    # (ix_decisions_record) instead of the id range
    query = (
        sa.select(d.kind, d.rule, sa.func.count())
        .where(d.id > low, d.tenant_id.concat("") == tenant, d.at >= since)
        .group_by(d.kind, d.rule)
    )
    if seen is not None:
        query = query.where(seen)
    counts = [DecisionCount(str(k), str(r), int(n)) for k, r, n in tx.conn.execute(query)]
    ordered = sorted(counts, key=lambda c: (-c.count, c.kind, c.rule))
    return RecentDecisions(tuple(ordered), since, low > 0 and _in_window(tx, low, since))


def decisions_seen(tx: Tx, cfg: CompiledConfig, policy: Policy) -> sa.ColumnElement[bool]:
    """The decisions about records the policy's caller sees: of an entity whose every record
    they see, all; else those whose record is live and visible to them (one primary-key
    look-up per decision read)."""
    d = t.decisions.c
    everything, some = [], []
    r = t.records.alias("decided")
    for entity in cfg.bundle.entities:
        shown = policy.visibility(entity)
        if shown.everything:
            everything.append(entity)
        else:
            clause = visible(shown, cfg.tenant, tx.dialect, r)
            some.append(sa.and_(d.entity == entity, clause))
    parts: list[sa.ColumnElement[bool]] = [d.entity.in_(everything)] if everything else []
    if some:
        record = sa.exists().where(
            r.c.tenant_id == cfg.tenant,
            r.c.id == d.record_id,
            r.c.deleted_at.is_(None),
            sa.or_(*some),
        )
        parts.append(record)
    return sa.or_(*parts) if parts else sa.false()


def _in_window(tx: Tx, low: int, since: datetime) -> bool:
    """Whether the oldest decision read is itself recent: then older ones may be too."""
    d = t.decisions.c
    oldest = sa.select(d.at).where(d.id > low).order_by(d.id).limit(1)
    found: datetime | None = tx.conn.execute(oldest).scalar()
    return found is not None and found >= since


def rule_label(bundle: Bundle, kind: str, rule: str) -> Label | None:
    """The bundle's label of the rule behind a decision (None: the rule's id is all there is)."""
    head, _, tail = rule.partition(".")
    if kind in ("pool_move", "manual_move") and head in bundle.pool_sets:
        found = next((p for p in bundle.pool_sets[head].promotions if p.id == tail), None)
        return found.label if found else None
    if kind == "assignment":
        rule_def = next((a for a in bundle.assignment if a.id == tail), None)
        return rule_def.label if rule_def else None
    if kind.startswith("campaign") and head == "campaign":
        campaign = next((c for c in bundle.campaigns if c.id == tail), None)
        return campaign.label if campaign else None
    if kind in ("score", "grade", "rollup"):
        return _derived_label(bundle, kind, rule)
    return None


def _derived_label(bundle: Bundle, kind: str, name: str) -> Label | None:
    """A score's, grade's or rollup's label: its own, else its field's."""
    if kind == "rollup":
        rollup = next((r for r in bundle.rollups if r.name == name), None)
        if rollup is None:
            return None
        return rollup.label or _field_label(bundle, rollup.entity, rollup.field)
    derived = next((d for d in bundle.derived if d.name == name), None)
    return _field_label(bundle, derived.entity, derived.field) if derived else None


def _field_label(bundle: Bundle, entity: str, field: str) -> Label | None:
    found = bundle.entities.get(entity)
    defined = found.fields.get(field) if found else None
    return defined.label if defined else None


# failed jobs -----------------------------------------------------------------------------------
def failed_jobs(tx: Tx, tenant: str, latest: int = LATEST_FAILED) -> FailedJobs:
    """Dead jobs: how many, and the newest few with their last error (ix_jobs_due starts with
    status, so only dead jobs are read). Never their payloads, which hold record values."""
    c = t.jobs.c
    dead = (c.status == "dead", c.tenant_id == tenant)
    total = int(tx.conn.execute(sa.select(sa.func.count()).where(*dead)).scalar_one())
    query = (
        sa.select(c.id, c.kind, c.campaign, c.attempts, c.done_at, c.last_error)
        .where(*dead)
        .order_by(c.id.desc())
        .limit(latest)
    )
    rows = tx.conn.execute(query).all() if total else []
    jobs = tuple(
        FailedJob(
            int(r.id), str(r.kind), r.campaign, int(r.attempts), r.done_at, scrub(r.last_error)
        )
        for r in rows
    )
    return FailedJobs(total, jobs)


_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")
_DIGITS = re.compile(r"\+?\d[\d ()-]{5,}\d")


def scrub(error: str | None) -> str:
    """An error as the dashboard shows it: short, with e-mail addresses and phone-like numbers
    masked, since a receiver's answer or a refused recipient may echo a record's values."""
    text = _EMAIL.sub(r"\1***@\2", (error or "").strip())
    text = _DIGITS.sub(_mask_digits, text)
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _mask_digits(found: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", found.group(0))
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"
