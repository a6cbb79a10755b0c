"""The dry run (issue 7): `simulate` of a candidate bundle over 100,000 stored customers, next
to the least work that reads the same rows.

    .venv/bin/python bench/simulate.py [--quick] [--pg URL] [--no-pg] [--profile]

On SQLite and PostgreSQL, a tenant with configs/chaotu-demo active (pools, scores, grades,
rollups, segments and campaigns; not its tests) and N customers loaded in bulk
(bench/_pools_data.py: stored form, scores and grades as the rules compute them). The candidate
differs from the active bundle in a promotion threshold (need_confirmed from 5,000 instead of
10,000), two score weights and a segment (sleeping after 30 days instead of 90).

  * dry run: engine.service.simulate.simulate over every customer (read in batches of 2,000 in
    one read-only transaction, each through the candidate's compiled rules);
  * baseline: the same rows read with the same batched query and decoded, nothing evaluated.

Checked: every customer is scanned, none fails, the database is unchanged after the runs.
The last line of stdout is one JSON object with every figure (seconds_100k: target ≤ 60 s).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import json
import pstats
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common
import sqlalchemy as sa
from _common import pg_engines, sqlite_engines
from _pools_data import DEMO_SOURCE, ENTITY, NOW
from _pools_sweep import StoredBatches, SweepDb, load
from rich.console import Console
from rich.table import Table

from engine.clock import FixedClock
from engine.config.loader import load_bundle, read_bundle_dir
from engine.config.model import Bundle
from engine.service import Services
from engine.service.simulate import BATCH, simulate
from engine.service.simulate_report import SimulationReport
from engine.storage import tables as t

FULL, QUICK = 100_000, 10_000
TARGET_S = 60.0  # seconds for 100,000 records
DATABASES = ("sqlite", "postgresql")
# (file, old, new): what the candidate changes
CHANGES = (
    ("pools.yaml", 'when: "budget >= 10000"', 'when: "budget >= 5000"'),
    (
        "pools.yaml",
        '{when: "wechat_followed", points: 20}',
        '{when: "wechat_followed", points: 40}',
    ),
    (
        "pools.yaml",
        "{when: \"source == 'referral'\", points: 30}",
        "{when: \"source == 'referral'\", points: 40}",
    ),
    (
        "campaigns.yaml",
        'when: "paid_orders >= 1 and days_since(last_paid_at) > 90"',
        'when: "paid_orders >= 1 and days_since(last_paid_at) > 30"',
    ),
)

console = Console(width=120, highlight=False)
STARTED = time.perf_counter()


def say(text: str) -> None:
    console.print(f"[{time.perf_counter() - STARTED:6.1f} s] {text}")


def bundles() -> tuple[Bundle, Bundle]:
    """chaotu-demo without its tests (activation would run them), and the candidate."""
    files = {k: v for k, v in read_bundle_dir(DEMO_SOURCE).items() if k != "tests.yaml"}
    changed = dict(files)
    for name, old, new in CHANGES:
        if old not in changed[name]:
            raise LookupError(f"{name} no longer has {old!r}: update bench/simulate.py")
        changed[name] = changed[name].replace(old, new)
    return load_bundle(files), load_bundle(changed)


@dataclass
class Result:
    db: str
    records: int
    load_s: float
    simulate_s: list[float]
    read_s: list[float]
    report: SimulationReport
    checks: dict[str, Any]


def open_db(label: str, engine: sa.Engine, active: Bundle, stored: StoredBatches) -> SweepDb:
    svc = Services.open(engine=engine, clock=FixedClock(NOW))
    version, _ = svc.install_bundle(active, actor="bench", tests=False)
    db = SweepDb(label, svc, active.id, version)
    load(db, stored.batches, stored.texts)
    return db


def read_all(db: SweepDb) -> int:
    """The baseline: the dry run's own batched query and decoding, nothing evaluated."""
    r = t.records.c
    after, seen = "", 0
    with db.engine.connect() as conn, conn.begin():
        while True:
            query = (
                sa.select(r.id, r.data, r.owner, r.pool, r.owner_since, r.protected_until)
                .where(r.tenant_id == db.tenant, r.entity == ENTITY, r.deleted_at.is_(None))
                .where(r.id > after)
                .order_by(r.id)
                .limit(BATCH)
            )
            rows = conn.execute(query).all()
            if not rows:
                return seen
            seen, after = seen + len(rows), rows[-1].id


def fingerprint(db: SweepDb) -> tuple[Any, ...]:
    """What a write would change: rows per pool and owner, versions, the newest update, and
    the sizes of the tables beside the records."""
    r = t.records.c
    with db.engine.connect() as conn:
        pools = conn.execute(
            sa.select(
                r.pool, r.owner, sa.func.count(), sa.func.sum(r.version), sa.func.max(r.updated_at)
            )
            .where(r.tenant_id == db.tenant)
            .group_by(r.pool, r.owner)
            .order_by(r.pool, r.owner)
        ).all()
        sizes = [
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in (
                t.decisions,
                t.record_history,
                t.segment_members,
                t.campaign_firings,
                t.jobs,
            )
        ]
    return tuple(tuple(p) for p in pools), tuple(sizes)


def timed(run: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    found = run()
    return time.perf_counter() - began, found


def measure(db: SweepDb, candidate: Bundle, records: int, reps: int, load_s: float) -> Result:
    before = fingerprint(db)
    reads, runs, report = [], [], None
    for rep in range(reps):  # taking turns: a slow spell of the machine hits both alike
        say(f"  {db.label}: round {rep + 1} of {reps}: reading every row …")
        seconds, seen = timed(lambda: read_all(db))
        if seen != records:
            raise RuntimeError(f"the baseline read {seen} rows, expected {records}")
        reads.append(seconds)
        say(f"  {db.label}: round {rep + 1} of {reps}: the dry run …")
        seconds, report = timed(lambda: simulate(db.svc, db.tenant, candidate, now=NOW))
        runs.append(seconds)
    assert report is not None
    customers = report.entity(ENTITY)
    if customers.scanned != records or customers.errors:
        raise RuntimeError(f"scanned {customers.scanned} of {records}, {customers.errors} errors")
    if fingerprint(db) != before:
        raise RuntimeError("the database changed during the dry runs")
    checks = {"scanned": customers.scanned, "errors": customers.errors, "unchanged": True}
    return Result(db.label, records, load_s, runs, reads, report, checks)


def _r(value: float, digits: int = 3) -> float:
    return round(value, digits)


def db_figures(res: Result) -> dict[str, Any]:
    run, read = min(res.simulate_s), min(res.read_s)
    customers = res.report.entity(ENTITY)
    scale = FULL / res.records
    return {
        "records": res.records,
        "load_s": _r(res.load_s, 1),
        "simulate_s": _r(run),
        "simulate_runs_s": [_r(s) for s in res.simulate_s],
        "simulate_per_s": _r(res.records / run, 1),
        "read_all_s": _r(read),
        "read_all_runs_s": [_r(s) for s in res.read_s],
        "simulate_vs_read": _r(run / read, 2),
        "read_share_in_simulate": _r(res.report.read_seconds / res.report.seconds, 2),
        "seconds_100k": _r(run * scale, 1),
        "extrapolated": res.records != FULL,
        "changed": customers.changed,
        "pool_moves": {f"{m.before}->{m.after}": m.count for m in customers.pool_moves},
        "owner_changes": {f"{o.reason}:{o.rule}": o.count for o in customers.owner_changes},
        "field_changes": {f.rule: f.count for f in customers.field_changes},
        "campaigns": {
            c.campaign: {"count": c.count, "limited": dict(c.limited)} for c in customers.campaigns
        },
        "checks": res.checks,
    }


def figures(results: dict[str, Result], extra: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        db: db_figures(results[db]) if db in results else None for db in DATABASES
    }
    lite, pg = out["sqlite"], out["postgresql"]
    out["seconds_100k"] = lite["seconds_100k"] if lite else None
    out["seconds_100k_pg"] = pg["seconds_100k"] if pg else None
    out["simulate_vs_read"] = lite["simulate_vs_read"] if lite else None
    out["simulate_vs_read_pg"] = pg["simulate_vs_read"] if pg else None
    out["targets"] = {"seconds_100k": TARGET_S, "seconds_100k_pg": TARGET_S}
    out["targets_met"] = {
        k: None if out[k] is None else out[k] <= v for k, v in out["targets"].items()
    }
    out["candidate_changes"] = [f"{name}: {old} -> {new}" for name, old, new in CHANGES]
    out.update(extra)
    return out


def render(results: dict[str, Result], figs: dict[str, Any]) -> None:
    table = Table(title="Dry run of a candidate bundle (chaotu-demo customers)")
    for column in ("measurement", "db", "records", "seconds", "records/s", "vs baseline"):
        table.add_column(column, justify="left" if column in ("measurement", "db") else "right")
    for db, res in results.items():
        f = figs[db]
        table.add_row(
            "simulate()",
            db,
            f"{res.records:,}",
            f"{f['simulate_s']:.2f}",
            f"{f['simulate_per_s']:,.0f}",
            f"{f['simulate_vs_read']:.1f} × read",
        )
        table.add_row(
            "read all rows (batched, decoded)",
            db,
            f"{res.records:,}",
            f"{f['read_all_s']:.2f}",
            f"{res.records / f['read_all_s']:,.0f}",
            "baseline",
        )
    console.print(table)
    for db, res in results.items():
        customers = res.report.entity(ENTITY)
        changed = f"{customers.changed:,} of {customers.scanned:,} customers change"
        moves = Table(title=f"What the candidate would do ({db}, {changed})")
        for column in ("kind", "item", "records"):
            moves.add_column(column, justify="right" if column == "records" else "left")
        for m in customers.pool_moves:
            moves.add_row(
                "pool move",
                f"{m.before} → {m.after} ({', '.join(r.rule for r in m.rules)})",
                f"{m.count:,}",
            )
        for o in customers.owner_changes:
            moves.add_row("owner", f"{o.reason} by {o.rule}", f"{o.count:,}")
        for fc in customers.field_changes:
            moves.add_row("derived", f"{fc.field} ({fc.rule})", f"{fc.count:,}")
        for c in customers.campaigns:
            limited = f", limited {dict(c.limited)}" if c.limited else ""
            moves.add_row("campaign", f"{c.campaign} ({c.trigger}{limited})", f"{c.count:,}")
        console.print(moves)
    for name, target in figs["targets"].items():
        value, met = figs[name], figs["targets_met"][name]
        verdict = "skipped" if met is None else "[green]met" if met else "[red]NOT met"
        shown = "–" if value is None else f"{value:.1f}"
        console.print(f"  {name:<16} {shown:>7} s  target ≤ {target:g} s  {verdict}")


def profile(db: SweepDb, candidate: Bundle) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(simulate, db.svc, db.tenant, candidate, now=NOW)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(r"engine", 30)
    stats.strip_dirs().sort_stats("tottime").print_stats(25)


def run(args: argparse.Namespace, folder: Path) -> int:
    records = QUICK if args.quick else FULL
    reps = 2
    active, candidate = bundles()
    say(f"generating {records:,} customers (untimed) …")
    gc.disable()
    stored = StoredBatches(records)
    stored.serialize_all()
    gc.freeze()  # they live through every run: keep the collector off them
    gc.enable()
    results: dict[str, Result] = {}
    skipped: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        targets: dict[str, sa.Engine] = {
            "sqlite": stack.enter_context(sqlite_engines(folder, ["simulate"]))[0]
        }
        if args.no_pg or args.profile:
            skipped["postgresql"] = "--no-pg" if args.no_pg else "--profile"
        else:
            pg = stack.enter_context(
                pg_engines(args.pg, ["simulate"], lambda text: console.print(f"[yellow]{text}"))
            )
            if pg is None:
                skipped["postgresql"] = f"not reachable at {args.pg}"
            else:
                targets["postgresql"] = pg[0]
        for label, engine in targets.items():
            say(f"{label}: loading {records:,} customers (untimed) …")
            load_s, db = timed(lambda: open_db(label, engine, active, stored))  # noqa: B023
            try:
                if args.profile:
                    profile(db, candidate)
                    return 0
                results[label] = measure(db, candidate, records, reps, load_s)
            finally:
                db.svc.close()
    extra = {"quick": args.quick, "skipped": skipped, "now": NOW.isoformat(), "batch": BATCH}
    extra["seconds_total"] = round(time.perf_counter() - STARTED, 1)
    figs = figures(results, extra)
    render(results, figs)
    print(json.dumps(figs, sort_keys=True, ensure_ascii=False), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _common.bench_parser(__doc__, f"{QUICK:,} customers instead of {FULL:,}")
    parser.add_argument("--profile", action="store_true", help="cProfile one dry run (SQLite)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
