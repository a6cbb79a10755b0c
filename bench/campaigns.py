"""Campaigns (issue 6): what 100 active campaigns cost a write, and how fast the worker
delivers their webhooks.

    .venv/bin/python bench/campaigns.py [--quick] [--pg URL] [--no-pg] [--profile sqlite|pg]

On SQLite and PostgreSQL, with bench/campaigns_bundle and 100 generated campaigns
(bench/_campaigns_data.py; most with a `when` that rarely holds):
  1. one client writes the same stream of customer creates and updates, one transaction each,
     through `RecordService` with the 100 campaigns active vs. the same bundle without
     campaigns.yaml, taking turns; then one instrumented round shows where a write's time goes;
  2. webhook jobs written by a campaign are delivered by `svc.worker(batch=50).run_once()`
     loops (1 worker, then 2 worker threads) to a signature-checking receiver in its own
     process, next to the same signed POSTs sent straight from a client; checked: every job
     done, every Idempotency-Key received exactly once, every firing delivered.
What each figure means is in bench/README.md. The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import _common
import sqlalchemy as sa
import yaml
from _campaigns_data import (
    ACTOR,
    CAMPAIGNS,
    ENTITY,
    KINDS,
    MIX,
    NOW,
    TENANT,
    Op,
    Stream,
    signup_customers,
    stored,
    summary,
    write_bundles,
)
from _campaigns_jobs import CONFIGS, JobRound, job_round, receiver, secret_of, warm_up
from _common import console, free_port, say
from rich.table import Table

import engine as engine_package
from engine.clock import FixedClock
from engine.rules.campaigns import CompiledCampaign, CompiledCampaigns
from engine.service import Services
from engine.service.campaign_runner import CampaignRunner
from engine.service.records import RecordService
from engine.storage import campaign_store
from engine.storage import tables as t

DATABASES = ("sqlite", "postgresql")
PATHS = ("campaigns", "plain")  # 100 campaigns active; the same bundle without campaigns.yaml
# (comparison, bound): the ratios must reach theirs, the delivery checks must stay at 0
TARGETS: dict[str, tuple[str, float]] = {
    "match_100_vs_0": (">=", 0.5),
    "match_100_vs_0_sqlite": (">=", 0.5),
    "match_100_vs_0_pg": (">=", 0.5),
    "jobs_lost": ("<=", 0),
    "jobs_duplicates": ("<=", 0),
    "jobs_not_done": ("<=", 0),
}
SIGNUP_FROM = 5_000_000  # customer numbers of the job rounds' sign-ups (distinct emails)


@dataclass(frozen=True)
class Sizes:
    base: int  # customers seeded (create_many, untimed) before the writes
    warmup: int  # untimed writes first, on both paths
    ops: int  # writes per timed round and path
    reps: int  # timed rounds per path (the best counts)
    breakdown: int  # writes of the instrumented round (not a figure of the ratio)
    jobs: int  # webhook jobs per worker configuration

    @property
    def writes(self) -> int:
        return self.warmup + self.reps * self.ops + self.breakdown


FULL = Sizes(base=2000, warmup=200, ops=1000, reps=3, breakdown=400, jobs=2000)
QUICK = Sizes(base=300, warmup=50, ops=200, reps=2, breakdown=100, jobs=300)


# the write stream ------------------------------------------------------------------------------
@dataclass
class EventDb:
    """One path's database: its bundle installed, the base customers seeded."""

    path: str
    svc: Services
    ids: list[str]

    def count(self, table: sa.Table, *where: Any) -> int:
        query = sa.select(sa.func.count()).select_from(table).where(*where)
        with self.svc.store.read() as tx:
            return int(tx.conn.execute(query).scalar() or 0)

    def last_firing(self) -> int:
        with self.svc.store.read() as tx:
            found = tx.conn.execute(sa.select(sa.func.max(t.campaign_firings.c.id))).scalar()
        return int(found or 0)


def open_event_db(
    path: str, svc: Services, bundle: Path, base: Sequence[dict[str, Any]]
) -> EventDb:
    svc.install_dirs([bundle], actor=ACTOR)
    ids: list[str] = []
    for start in range(0, len(base), 1000):
        chunk = list(base[start : start + 1000])
        result = svc.records.create_many(TENANT, ENTITY, chunk, actor=ACTOR).result
        refused = [r for r in result["results"] if r["status"] != 201]
        if refused:
            raise RuntimeError(f"{len(refused)} seed customers refused, first: {refused[0]}")
        ids += [r["record"]["id"] for r in result["results"]]
    return EventDb(path, svc, ids)


Write = tuple[str, Callable[[], object]]


def resolve(db: EventDb, ops: Sequence[Op]) -> list[Write]:
    """Each write as a ready call on this database (ids filled in), made before any timing."""
    records = db.svc.records
    out: list[Write] = []
    for op in ops:
        if op.customer is None:
            out.append((op.kind, _create(records, dict(op.payload))))
        else:
            out.append((op.kind, _update(records, db.ids[op.customer], dict(op.payload))))
    return out


def _create(records: RecordService, payload: dict[str, Any]) -> Callable[[], object]:
    return lambda: records.create(TENANT, ENTITY, payload, actor=ACTOR)


def _update(records: RecordService, record_id: str, patch: dict[str, Any]) -> Callable[[], object]:
    return lambda: records.update(TENANT, ENTITY, record_id, patch, actor=ACTOR)


@dataclass(frozen=True)
class Round:
    writes: int
    seconds: float
    per_kind: dict[str, float]  # seconds in each kind of write
    counts: dict[str, int]
    firings: int = 0  # campaign firings the round made (campaigns path)

    @property
    def per_s(self) -> float:
        return self.writes / self.seconds


def run_round(writes: Sequence[Write]) -> Round:
    """Every write once, in order, by one client: wall time and the time per kind."""
    per_kind = dict.fromkeys(KINDS, 0.0)
    counts: Counter[str] = Counter()
    clock = time.perf_counter
    start = clock()
    for kind, call in writes:
        began = clock()
        call()
        per_kind[kind] += clock() - began
        counts[kind] += 1
    return Round(len(writes), clock() - start, per_kind, dict(counts))


# where the time goes ---------------------------------------------------------------------------
# (category, what it covers, the functions timed into it): exclusive time, so a function
# called inside another counts only in its own category.
PARTS: tuple[tuple[str, str, tuple[tuple[Any, str], ...]], ...] = (
    (
        "matching",
        "trigger matching: on_write's loop over the campaigns, snapshots",
        ((CampaignRunner, "on_write"), (RecordService, "_campaigns_after")),
    ),
    (
        "conditions",
        "each campaign's trigger and `when` (CompiledCampaign.matches)",
        ((CompiledCampaign, "matches"),),
    ),
    ("segment_eval", "segment conditions (members)", ((CompiledCampaigns, "members"),)),
    (
        "segment_rows",
        "segment membership: read, join, leave (SQL)",
        (
            (CampaignRunner, "_segments"),
            (campaign_store, "segments_of"),
            (campaign_store, "join_segments"),
            (campaign_store, "leave_segments"),
        ),
    ),
    ("goals", "open goals of the record (SQL)", ((CampaignRunner, "_goals"),)),
    ("plans", "relative campaigns' plans (cancel + enqueue)", ((CampaignRunner, "_plan"),)),
    ("why", "traces for the firings' decisions", ((CampaignRunner, "_why"),)),
    (
        "firing",
        "firing: limits, firing row, decision, actions, nested writes",
        ((CampaignRunner, "fire"),),
    ),
)


class Breakdown:
    """Times the campaign functions of PARTS while installed (exclusive time per part)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.stack: list[list[Any]] = []
        self.missing: list[str] = []  # functions the engine no longer has (not timed)

    def _wrap(self, fn: Callable[..., Any], part: str) -> Callable[..., Any]:
        stack, seconds, clock = self.stack, self.seconds, time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            now = clock()
            if stack:  # pause the caller's part
                seconds[stack[-1][0]] += now - stack[-1][1]
            stack.append([part, now])
            try:
                return fn(*args, **kwargs)
            finally:
                end = clock()
                name, began = stack.pop()
                seconds[name] += end - began
                if stack:
                    stack[-1][1] = end

        return timed

    @contextlib.contextmanager
    def installed(self) -> Iterator[Breakdown]:
        originals = []
        try:
            for part, _, fns in PARTS:
                for owner, name in fns:
                    original = vars(owner).get(name)
                    if original is None:
                        self.missing.append(f"{owner.__name__}.{name}")
                        continue
                    originals.append((owner, name, original))
                    setattr(owner, name, self._wrap(original, part))
            yield self
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)


# one database ----------------------------------------------------------------------------------
@dataclass
class EventResult:
    db: str
    rounds: dict[str, list[Round]] = field(default_factory=lambda: {p: [] for p in PATHS})
    breakdown: dict[str, Round] = field(default_factory=dict)
    parts: dict[str, float] = field(default_factory=dict)  # seconds per part, breakdown round
    untimed: list[str] = field(default_factory=list)  # PARTS functions the engine lacks
    fired: dict[str, int] = field(default_factory=dict)  # firings per campaign, timed rounds
    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def best(self, path: str) -> Round:
        return min(self.rounds[path], key=lambda r: r.seconds)


def measure_events(
    dbs: dict[str, EventDb], ops: Sequence[Op], sizes: Sizes, label: str
) -> EventResult:
    result = EventResult(label)
    resolved = {path: resolve(db, ops) for path, db in dbs.items()}
    say(f"{label}: warm-up, {sizes.warmup} writes per path …")
    for path in PATHS:
        run_round(resolved[path][: sizes.warmup])
    first = dbs["campaigns"].last_firing()
    for rep in range(sizes.reps):
        say(f"{label}: round {rep + 1} of {sizes.reps}, {sizes.ops:,} writes per path …")
        start = sizes.warmup + rep * sizes.ops
        for path in PATHS if rep % 2 == 0 else PATHS[::-1]:
            before = dbs[path].count(t.campaign_firings)
            done = run_round(resolved[path][start : start + sizes.ops])
            fired = dbs[path].count(t.campaign_firings) - before
            result.rounds[path].append(replace(done, firings=fired))
    result.fired = fired_by_campaign(dbs["campaigns"], first)
    say(f"{label}: instrumented round, {sizes.breakdown} writes per path …")
    start = sizes.warmup + sizes.reps * sizes.ops
    tail = slice(start, start + sizes.breakdown)
    breakdown = Breakdown()
    with breakdown.installed():
        result.breakdown["campaigns"] = run_round(resolved["campaigns"][tail])
    result.breakdown["plain"] = run_round(resolved["plain"][tail])
    result.parts = dict(breakdown.seconds)
    result.untimed = breakdown.missing
    check_events(result, dbs, ops)
    return result


def fired_by_campaign(db: EventDb, after: int) -> dict[str, int]:
    f = t.campaign_firings.c
    query = sa.select(f.campaign, sa.func.count()).where(f.id > after).group_by(f.campaign)
    with db.svc.store.read() as tx:
        rows = tx.conn.execute(query)
        return dict(sorted(((str(c), int(n)) for c, n in rows), key=lambda x: -x[1]))


def check_events(result: EventResult, dbs: dict[str, EventDb], ops: Sequence[Op]) -> None:
    """Both databases hold the same customers; only the campaigns path fired anything."""
    r = t.records.c
    expected = len(dbs["campaigns"].ids) + sum(1 for op in ops if op.kind == "create")
    checks: dict[str, Any] = {}
    for path, db in dbs.items():
        checks[path] = {
            "customers": db.count(t.records, r.tenant_id == TENANT, r.entity == ENTITY),
            "firings": db.count(t.campaign_firings),
            "notifications": db.count(t.notifications),
            "jobs": db.count(t.jobs),
            "segment_members": db.count(t.segment_members),
        }
        if checks[path]["customers"] != expected:
            found = checks[path]["customers"]
            result.problems.append(f"{result.db} {path}: {found} customers, expected {expected}")
    if any(checks["plain"][k] for k in ("firings", "notifications", "jobs", "segment_members")):
        result.problems.append(f"{result.db}: the plain bundle fired campaigns ({checks['plain']})")
    if not checks["campaigns"]["firings"]:
        result.problems.append(f"{result.db}: no campaign fired")
    with dbs["campaigns"].svc.store.read() as tx:
        kinds = tx.conn.execute(sa.select(t.jobs.c.kind, sa.func.count()).group_by(t.jobs.c.kind))
        checks["campaigns"]["jobs_by_kind"] = {str(k): int(n) for k, n in kinds}
    result.checks = checks


@dataclass
class JobsResult:
    db: str
    warm_up: dict[str, Any] = field(default_factory=dict)
    rounds: list[JobRound] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def measure_jobs(svc: Services, port: int, sizes: Sizes, label: str) -> JobsResult:
    result = JobsResult(label)
    secret = secret_of(svc)
    with receiver(port, secret) as hooks:
        say(f"{label}: delivering the event rounds' webhooks (warm-up, untimed) …")
        result.warm_up = warm_up(svc, hooks)
        for index, config in enumerate(CONFIGS):
            customers = stored(signup_customers(sizes.jobs, SIGNUP_FROM + index * sizes.jobs))
            say(f"{label}: {config.label}: making {sizes.jobs:,} webhook jobs (untimed) …")
            done = job_round(svc, hooks, secret, config, customers, say)
            result.rounds.append(done)
            result.problems += [f"{label}, {p}" for p in done.problems]
    warm = result.warm_up
    if (
        warm["statuses"].get("done", 0) != warm["jobs"]
        or warm["keys_lost"]
        or warm["keys_duplicates"]
    ):
        result.problems.append(f"{label}: warm-up jobs not all delivered once ({warm})")
    return result


# databases -------------------------------------------------------------------------------------
def sqlite_engines(folder: Path) -> contextlib.AbstractContextManager[list[sa.Engine]]:
    return _common.sqlite_engines(folder, PATHS)


def pg_engines(url: str) -> contextlib.AbstractContextManager[list[sa.Engine] | None]:
    """One engine per path, each on a fresh schema dropped at the end; None if PG is unusable."""
    return _common.pg_engines(url, PATHS, lambda text: console.print(f"[yellow]{text}"))


@contextlib.contextmanager
def event_dbs(
    engines: Sequence[sa.Engine],
    bundles: Sequence[Path],
    base: Sequence[dict[str, Any]],
    label: str,
) -> Iterator[dict[str, EventDb]]:
    opened = [Services.open(engine=e, clock=FixedClock(NOW)) for e in engines]
    try:
        dbs = {}
        for path, svc, bundle in zip(PATHS, opened, bundles, strict=True):
            say(f"{label}: {path}: installing, seeding {len(base):,} customers (untimed) …")
            dbs[path] = open_event_db(path, svc, bundle, base)
        yield dbs
    finally:
        for svc in opened:
            svc.close()


# figures and output ----------------------------------------------------------------------------
def _r(value: float, digits: int = 3) -> float:
    return round(value, digits)


def event_figures(ev: EventResult) -> dict[str, Any]:
    on, off = ev.best("campaigns"), ev.best("plain")
    rounds_on, rounds_off = ev.rounds["campaigns"], ev.rounds["plain"]
    per_kind: dict[str, Any] = {}
    for kind in KINDS:
        n = sum(r.counts.get(kind, 0) for r in rounds_on)
        if n:
            on_ms = 1000 * sum(r.per_kind[kind] for r in rounds_on) / n
            off_ms = 1000 * sum(r.per_kind[kind] for r in rounds_off) / n
            per_kind[kind] = {
                "writes": n,
                "campaigns_ms": _r(on_ms),
                "plain_ms": _r(off_ms),
                "ratio": _r(off_ms / on_ms),
            }
    writes = sum(r.writes for r in rounds_on)
    firings = sum(r.firings for r in rounds_on)
    b_on, b_off = ev.breakdown["campaigns"], ev.breakdown["plain"]
    parts_ms = {name: _r(1000 * ev.parts.get(name, 0.0) / b_on.writes) for name, _, _ in PARTS}
    total_ms = 1000 * b_on.seconds / b_on.writes
    return {
        "campaigns_per_s": _r(on.per_s, 1),
        "plain_per_s": _r(off.per_s, 1),
        "match_100_vs_0": _r(on.per_s / off.per_s),
        "campaigns_rounds_per_s": [_r(r.per_s, 1) for r in rounds_on],
        "plain_rounds_per_s": [_r(r.per_s, 1) for r in rounds_off],
        "ratio_rounds": [_r(a.per_s / p.per_s) for a, p in zip(rounds_on, rounds_off, strict=True)],
        "firings_per_100_writes": _r(100 * firings / writes, 2),
        "firings_rounds": [r.firings for r in rounds_on],
        "fired_by_campaign": ev.fired,
        "per_kind": per_kind,
        "breakdown": {
            "writes": b_on.writes,
            "campaigns_ms_per_write": _r(total_ms),
            "plain_ms_per_write": _r(1000 * b_off.seconds / b_off.writes),
            "parts_ms_per_write": parts_ms,
            "rest_ms_per_write": _r(total_ms - sum(parts_ms.values())),
            "untimed_functions": ev.untimed,
        },
        "checks": ev.checks,
    }


def job_figures(jr: JobsResult) -> dict[str, Any]:
    configs: dict[str, Any] = {}
    for r in jr.rounds:
        configs[r.config.label] = {
            "workers": r.config.workers,
            "batch": 50,
            "jobs": r.jobs,
            "seconds": _r(r.seconds),
            "jobs_per_s": _r(r.per_s, 1),
            "direct_per_s": _r(r.direct_per_s, 1),
            "vs_direct": _r(r.per_s / r.direct_per_s),
            "attempted_per_worker": r.attempted,
            "statuses": r.statuses,
            "firings": r.firings,
            "keys": r.keys,
            "direct_keys": r.direct_keys,
        }
    best = max(jr.rounds, key=lambda r: r.per_s)
    return {
        "jobs_per_s": _r(best.per_s, 1),
        "best_config": best.config.label,
        "configs": configs,
        "warm_up": jr.warm_up,
    }


def target_met(name: str, value: float | None) -> bool | None:
    if value is None:
        return None
    comparison, bound = TARGETS[name]
    return value >= bound if comparison == ">=" else value <= bound


def figures(
    events: dict[str, EventResult],
    jobs: dict[str, JobsResult],
    extra: dict[str, Any],
    problems: list[str],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for db in DATABASES:
        figs: dict[str, Any] = {}
        if db in events:
            figs["events"] = event_figures(events[db])
        if db in jobs:
            figs["jobs"] = job_figures(jobs[db])
        out[db] = figs or None
    ratios = {
        db: out[db]["events"]["match_100_vs_0"]
        for db in DATABASES
        if out[db] and "events" in out[db]
    }
    out["match_100_vs_0_sqlite"] = ratios.get("sqlite")
    out["match_100_vs_0_pg"] = ratios.get("postgresql")
    out["match_100_vs_0"] = min(ratios.values()) if ratios else None
    for db in DATABASES:
        figs = out[db] or {}
        short = "pg" if db == "postgresql" else db
        out[f"events_per_s_100_{short}"] = (
            figs["events"]["campaigns_per_s"] if "events" in figs else None
        )
        out[f"events_per_s_0_{short}"] = figs["events"]["plain_per_s"] if "events" in figs else None
        out[f"jobs_per_s_{short}"] = figs["jobs"]["jobs_per_s"] if "jobs" in figs else None
    per_db = [
        out[f"jobs_per_s_{s}"] for s in ("sqlite", "pg") if out[f"jobs_per_s_{s}"] is not None
    ]
    out["jobs_per_s"] = min(per_db) if per_db else None
    rounds = [r for jr in jobs.values() for r in jr.rounds]
    out["jobs_lost"] = sum(r.keys["lost"] for r in rounds)
    out["jobs_duplicates"] = sum(r.keys["duplicates"] for r in rounds)
    out["jobs_not_done"] = sum(r.jobs - r.statuses.get("done", 0) for r in rounds)
    out["jobs_bad_signatures"] = sum(r.keys["bad_signature"] for r in rounds)
    out["targets"] = {name: f"{c} {b:g}" for name, (c, b) in TARGETS.items()}
    out["targets_met"] = {name: target_met(name, out[name]) for name in TARGETS}
    out["problems"] = problems
    out.update(extra)
    return out


def render(
    events: dict[str, EventResult], jobs: dict[str, JobsResult], figs: dict[str, Any]
) -> None:
    table = Table(title="Writes with 100 campaigns vs. none: 1 client, one transaction per write")
    columns = ("db", "campaigns", "writes", "seconds", "writes/s", "vs 0", "fired/100 writes")
    for column in columns:
        table.add_column(column, justify="left" if column == "db" else "right")
    for db in DATABASES:
        if db not in events:
            continue
        ev, f = events[db], figs[db]["events"]
        for path in PATHS:
            r = ev.best(path)
            table.add_row(
                db,
                f"{CAMPAIGNS} (best round)" if path == "campaigns" else "0 (baseline)",
                f"{r.writes:,}",
                f"{r.seconds:.3f}",
                f"{r.per_s:,.0f}",
                f"{f['match_100_vs_0']:.2f} ×" if path == "campaigns" else "baseline",
                f"{f['firings_per_100_writes']:.1f}" if path == "campaigns" else "–",
            )
        table.add_section()
    console.print(table)
    for db in DATABASES:
        if db in events:
            f = figs[db]["events"]
            pairs = zip(f["campaigns_rounds_per_s"], f["plain_rounds_per_s"], strict=True)
            per_round = ", ".join(f"{a:,.0f}/{p:,.0f}" for a, p in pairs)
            top = ", ".join(f"{c} {n}" for c, n in list(f["fired_by_campaign"].items())[:6])
            ratios = f["ratio_rounds"]
            console.print(f"  {db} every round (100/0 campaigns, writes/s): {per_round}; {ratios}")
            console.print(f"  {db} fired in the timed rounds: {top or 'nothing'}")
    render_breakdown(events, figs)
    render_kinds(events, figs)
    render_jobs(jobs, figs)
    for name, (comparison, bound) in TARGETS.items():
        value, met = figs[name], figs["targets_met"][name]
        verdict = "skipped" if met is None else "[green]met" if met else "[red]NOT met"
        text = "–" if value is None else f"{value:.3f}" if isinstance(value, float) else value
        console.print(f"  {name:<24} {text:>8}  target {comparison} {bound:g}  {verdict}")
    best = figs["jobs_per_s"] or "–"
    console.print(f"  {'jobs_per_s':<24} {best:>8}  best configuration, slowest database")
    for db in DATABASES:
        if db in events and figs[db]["events"]["match_100_vs_0"] < TARGETS["match_100_vs_0"][1]:
            console.print(f"  [yellow]note: {missed(figs[db]['events'], db)}")
    for problem in figs["problems"]:
        console.print(f"  [red]problem: {problem}")


def missed(f: dict[str, Any], db: str) -> str:
    """Where the time 100 campaigns add to a write goes, largest parts first."""
    b = f["breakdown"]
    added = b["campaigns_ms_per_write"] - b["plain_ms_per_write"]
    parts = sorted(b["parts_ms_per_write"].items(), key=lambda item: -item[1])
    largest = ", ".join(f"{name} {ms:.2f}" for name, ms in parts[:4])
    return (
        f"{db} misses the 0.5 target: 100 campaigns add {added:.2f} ms to a "
        f"{b['plain_ms_per_write']:.2f} ms write; largest parts (ms a write): {largest}; "
        f"`--profile {'pg' if db == 'postgresql' else db}` prints cProfile's view of one round"
    )


def render_breakdown(events: dict[str, EventResult], figs: dict[str, Any]) -> None:
    ran = [db for db in DATABASES if db in events]
    if not ran:
        return
    table = Table(
        title="Where a write's time goes with 100 campaigns (instrumented round, ms per write)"
    )
    table.add_column("part")
    table.add_column("what", max_width=52)
    for db in ran:
        table.add_column(f"{db} ms", justify="right")
        table.add_column("%", justify="right")
    rows: list[tuple[str, str, str]] = [(name, what, name) for name, what, _ in PARTS]
    for name, what, _ in rows:
        cells = []
        for db in ran:
            b = figs[db]["events"]["breakdown"]
            ms = b["parts_ms_per_write"][name]
            cells += [f"{ms:.3f}", f"{100 * ms / b['campaigns_ms_per_write']:.0f}"]
        table.add_row(name, what, *cells)
    table.add_section()
    extra = (
        (
            "rest",
            "the write itself: validation, pools, record, history, commit",
            "rest_ms_per_write",
        ),
        ("total", "a write with 100 campaigns", "campaigns_ms_per_write"),
        ("baseline", "the same writes without campaigns", "plain_ms_per_write"),
    )
    for name, what, key in extra:
        cells = []
        for db in ran:
            b = figs[db]["events"]["breakdown"]
            cells += [f"{b[key]:.3f}", f"{100 * b[key] / b['campaigns_ms_per_write']:.0f}"]
        table.add_row(name, what, *cells)
    console.print(table)


def render_kinds(events: dict[str, EventResult], figs: dict[str, Any]) -> None:
    ran = [db for db in DATABASES if db in events]
    if not ran:
        return
    table = Table(title="ms per write by kind, timed rounds (100 campaigns / 0 / ratio)")
    table.add_column("write")
    table.add_column("share", justify="right")
    for db in ran:
        table.add_column(db, justify="right")
    for kind in KINDS:
        cells = []
        for db in ran:
            k = figs[db]["events"]["per_kind"].get(kind)
            cells.append(
                "–"
                if k is None
                else f"{k['campaigns_ms']:.2f} / {k['plain_ms']:.2f} / {k['ratio']:.2f}"
            )
        table.add_row(kind, f"{MIX[kind]}%", *cells)
    console.print(table)


def render_jobs(jobs: dict[str, JobsResult], figs: dict[str, Any]) -> None:
    if not jobs:
        return
    table = Table(title="Webhook jobs: worker run_once(batch=50) loops vs. direct signed POSTs")
    columns = (
        "db",
        "configuration",
        "jobs",
        "seconds",
        "jobs/s",
        "direct/s",
        "vs direct",
        "lost",
        "dup",
        "not done",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("db", "configuration") else "right")
    for db in DATABASES:
        if db not in jobs:
            continue
        for r in jobs[db].rounds:
            table.add_row(
                db,
                r.config.label,
                f"{r.jobs:,}",
                f"{r.seconds:.3f}",
                f"{r.per_s:,.0f}",
                f"{r.direct_per_s:,.0f}",
                f"{r.per_s / r.direct_per_s:.2f} ×",
                str(r.keys["lost"]),
                str(r.keys["duplicates"]),
                str(r.jobs - r.statuses.get("done", 0)),
            )
        table.add_section()
    console.print(table)
    for db in DATABASES:
        if db in jobs:
            w = jobs[db].warm_up
            console.print(
                f"  {db} warm-up: {w['jobs']} webhooks of the event rounds delivered, "
                f"statuses {w['statuses']}, firings {w['firings']}"
            )


# profiling -------------------------------------------------------------------------------------
def print_profile(profile: cProfile.Profile, title: str) -> None:
    stats = pstats.Stats(profile, stream=sys.stdout)
    engine_dir = re.escape(str(Path(engine_package.__file__).resolve().parent) + os.sep)
    print(f"--- {title}: top by cumulative time, engine/ only")
    stats.sort_stats("cumulative").print_stats(engine_dir, 35)
    print(f"--- {title}: what the campaign runner calls")
    stats.print_callees(r"campaign_runner.py:\d+\((on_write|_segments)\)")
    print(f"--- {title}: top by own time (SQLAlchemy and the driver included)")
    stats.strip_dirs().sort_stats("tottime").print_stats(25)


def run_profile(args: argparse.Namespace, folder: Path, sizes: Sizes) -> int:
    bundles = write_bundles(folder, f"http://127.0.0.1:{free_port()}")
    stream = Stream()
    base = stored(stream.base(sizes.base))
    ops = stream.ops(sizes.warmup + sizes.ops)
    with contextlib.ExitStack() as stack:
        if args.profile == "pg":
            found = stack.enter_context(pg_engines(args.pg))
            if found is None:
                return 1
            engines = found
        else:
            engines = stack.enter_context(sqlite_engines(folder))
        dbs = stack.enter_context(event_dbs(engines, bundles, base, args.profile))
        for path in PATHS:
            writes = resolve(dbs[path], ops)
            run_round(writes[: sizes.warmup])
            profile = cProfile.Profile()
            profile.enable()
            done = run_round(writes[sizes.warmup :])
            profile.disable()
            title = f"{done.writes:,} writes, {path}, {args.profile}"
            print(f"=== {title}: {done.seconds:.3f} s, {done.per_s:,.0f}/s (under the profiler)")
            print_profile(profile, title)
    return 0


# entry points ----------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _common.bench_parser(__doc__, "smaller sizes, under a minute")
    parser.add_argument(
        "--profile",
        choices=["sqlite", "pg"],
        help="only cProfile one round of writes per path on this database",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace, folder: Path) -> int:
    began = time.perf_counter()
    sizes = QUICK if args.quick else FULL
    if args.profile:
        return run_profile(args, folder, sizes)
    port = free_port()
    made = f"{CAMPAIGNS} campaigns, {sizes.base:,} customers, {sizes.writes:,} writes"
    say(f"generating {made} (untimed) …")
    bundles = write_bundles(folder, f"http://127.0.0.1:{port}")
    doc = yaml.safe_load((bundles[0] / "campaigns.yaml").read_text(encoding="utf-8"))
    stream = Stream()
    base = stored(stream.base(sizes.base))
    ops = stream.ops(sizes.writes)
    events: dict[str, EventResult] = {}
    jobs: dict[str, JobsResult] = {}
    skipped: dict[str, str] = {}
    targets: dict[str, Callable[[], contextlib.AbstractContextManager[list[sa.Engine] | None]]]
    targets = {"sqlite": lambda: sqlite_engines(folder)}
    if args.no_pg:
        skipped["postgresql"] = "--no-pg"
    else:
        targets["postgresql"] = lambda: pg_engines(args.pg)
    for db, open_engines in targets.items():
        with open_engines() as engines:
            if engines is None:
                skipped[db] = f"not reachable at {args.pg}"
                continue
            with event_dbs(engines, bundles, base, db) as dbs:
                events[db] = measure_events(dbs, ops, sizes, db)
                jobs[db] = measure_jobs(dbs["campaigns"].svc, port, sizes, db)
    problems = [p for ev in events.values() for p in ev.problems]
    problems += [p for jr in jobs.values() for p in jr.problems]
    extra = {
        "quick": args.quick,
        "skipped": skipped,
        "now": NOW.isoformat(),
        "clients": 1,
        "campaigns": summary(doc),
        "sizes": {**asdict(sizes), "writes": sizes.writes, "mix": dict(MIX), "batch": 50},
        "seconds_total": round(time.perf_counter() - began, 1),
    }
    figs = figures(events, jobs, extra, problems)
    render(events, jobs, figs)
    print(json.dumps(figs, sort_keys=True, ensure_ascii=False), flush=True)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    # the receiver listens on 127.0.0.1, which the engine refuses in production
    os.environ.setdefault("TIDEPOOL_WEBHOOK_ALLOW_PRIVATE", "1")
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
