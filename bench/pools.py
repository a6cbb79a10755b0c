"""Automatic customer pools (issue 4): the event path and sweeps, each next to a baseline.

    .venv/bin/python bench/pools.py [--quick] [--pg URL] [--no-pg] [--profile events|sweep]

On SQLite and PostgreSQL, with configs/chaotu-demo:
  1. event path: writes/s through the RecordService with the bundle's rules active (pools,
     scores, grades, rollups) vs. the same writes with pools.yaml removed (plain validation);
  2. sweep over N customers of which 10% are due for recycle_unattended: finding them with the
     compiled SQL vs. loading every record and evaluating in Python; moving them with the real
     Sweeper vs. raw batched UPDATEs; checked: exactly the due records move, each once, and a
     second sweep moves nothing.
What each figure means is in bench/README.md. The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import json
import os
import pstats
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import _common
import sqlalchemy as sa
from _common import console, pg_schema, say, sqlite_engines
from _pools_data import DEMO_DIR, ENTITY, KINDS, MIX, NOW, Op, base_customers, make_ops
from _pools_events import EventDb, Round, check, open_event_db, plain_bundle, resolve, run_round
from _pools_sweep import (
    RULE,
    Loaded,
    StoredBatches,
    SweepDb,
    changed_rows,
    check_log,
    check_moved,
    load,
    raw_apply,
    select_python,
    select_sql,
    timed,
    undo_raw,
)
from rich.table import Table

import engine as engine_package
from engine.clock import FixedClock
from engine.config.loader import load_bundle_dir
from engine.rules.compiled import CompiledConfig
from engine.service import Services

TARGETS = {"event_vs_plain": 0.5, "sweep_select_vs_python": 10.0, "sweep_apply_vs_raw": 0.3}
DATABASES = ("sqlite", "postgresql")
NEW_CUSTOMERS_FROM = 10_000_000  # customer numbers of the "create" writes (distinct phones)


@dataclass(frozen=True)
class Sizes:
    customers: int  # sweep: customers in each database, a tenth of them due
    base: int  # events: customers seeded before the timed writes
    ops: int  # events: writes per round and path
    warmup: int  # events: untimed writes first, on both paths
    reps: int  # events: rounds per path (the best counts); SQL selects: runs
    python_budget_s: float  # the Python select runs again only while under this in total


FULL = Sizes(customers=1_000_000, base=2_000, ops=800, warmup=100, reps=3, python_budget_s=5.0)
QUICK = Sizes(customers=100_000, base=300, ops=200, warmup=50, reps=2, python_budget_s=1.5)


# the event path ----------------------------------------------------------------------------
@dataclass
class EventResult:
    db: str
    engine: list[Round] = field(default_factory=list)
    plain: list[Round] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    def best(self, path: str) -> Round:
        return min(self.engine if path == "engine" else self.plain, key=lambda r: r.seconds)


def measure_events(
    dbs: tuple[EventDb, EventDb], ops: Sequence[Op], sizes: Sizes, label: str
) -> EventResult:
    """A warm-up, then `reps` rounds of the same writes on both paths, taking turns (and
    swapping who goes first), so a slow spell of the machine hits both alike."""
    result = EventResult(label)
    resolved = {db.path: resolve(db, ops) for db in dbs}
    for db in dbs:
        run_round(resolved[db.path][: sizes.warmup])
    for rep in range(sizes.reps):
        say(f"  {label}: events round {rep + 1} of {sizes.reps} …")
        start = sizes.warmup + rep * sizes.ops
        for db in dbs if rep % 2 == 0 else dbs[::-1]:
            done = run_round(resolved[db.path][start : start + sizes.ops])
            (result.engine if db.path == "engine" else result.plain).append(done)
    result.checks = check(dbs[0], dbs[1], ops)
    return result


@contextlib.contextmanager
def event_dbs(
    engines: tuple[sa.Engine, sa.Engine], folder: Path, base: Sequence[dict[str, Any]]
) -> Iterator[tuple[EventDb, EventDb]]:
    bundles = (DEMO_DIR, plain_bundle(folder))
    services = [Services.open(engine=e, clock=FixedClock(NOW)) for e in engines]
    try:
        yield (
            open_event_db("engine", services[0], bundles[0], base),
            open_event_db("plain", services[1], bundles[1], base),
        )
    finally:
        for svc in services:
            svc.close()


# sweeps ------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    db: str
    customers: int
    due: int
    load_s: float
    sql_s: list[float]
    python_s: list[float]
    raw_s: float
    sweep_s: float
    idle_s: float
    moved: dict[str, int]
    checks: dict[str, Any]


def open_sweep_db(label: str, engine: sa.Engine) -> SweepDb:
    svc = Services.open(engine=engine, clock=FixedClock(NOW))
    [(bundle, version, _)] = svc.install_dirs([DEMO_DIR], actor="bench")
    return SweepDb(label, svc, bundle.id, version)


def runs(
    run: Callable[[], set[str]], count: int, budget_s: float, expected: set[str], what: str
) -> list[float]:
    """Up to `count` timed runs (fewer once they add up to `budget_s`); each must find exactly
    the expected ids."""
    times: list[float] = []
    while len(times) < count and sum(times) < budget_s:
        seconds, found = timed(run)
        if found != expected:
            extra, missing = len(found - expected), len(expected - found)
            raise RuntimeError(f"{what} found {extra} records not due and missed {missing}")
        times.append(seconds)
    return times


def measure_sweep(db: SweepDb, stored: StoredBatches, sizes: Sizes) -> SweepResult:
    # A running server has swept this config version before: its one catch-up on the rules
    # on values alone is behind it, as it is here.
    db.svc.sweeper.sweep(db.tenant, now=NOW)
    say(f"  {db.label}: loading {sizes.customers:,} customers (untimed) …")
    load_s, loaded = timed(lambda: load(db, stored.batches, stored.texts))
    say(f"  {db.label}: loaded in {load_s:.1f} s; finding the due records …")
    due = set(loaded.due)
    sql_s = runs(lambda: select_sql(db), sizes.reps, float("inf"), due, "SQL")
    say(f"  {db.label}: loading every record and evaluating in Python …")
    python_s = runs(lambda: select_python(db), sizes.reps, sizes.python_budget_s, due, "Python")
    raw_s, updated = _raw_run(db, loaded)
    say(f"  {db.label}: Sweeper.sweep over {len(due):,} due records …")
    sweep_s, moved = timed(lambda: db.svc.sweeper.sweep(db.tenant, now=NOW))
    rule = f"{db.pool_set().definition.name}.{RULE}"
    if moved != {rule: len(due)}:
        raise RuntimeError(f"the sweep moved {moved}, expected {{{rule!r}: {len(due)}}}")
    check_moved(db, loaded, "the sweep")
    checks = check_log(db, loaded)
    say(f"  {db.label}: a second sweep, nothing due …")
    idle_s, again = timed(lambda: db.svc.sweeper.sweep(db.tenant, now=NOW))
    if any(again.values()):
        raise RuntimeError(f"a second sweep moved {again}")
    check_moved(db, loaded, "the second sweep")
    checks.update(raw_rows_updated=updated, second_sweep_moved=sum(again.values()))
    return SweepResult(
        db.label,
        loaded.total,
        len(due),
        load_s,
        sql_s,
        python_s,
        raw_s,
        sweep_s,
        idle_s,
        moved,
        checks,
    )


def _raw_run(db: SweepDb, loaded: Loaded) -> tuple[float, int]:
    """Time the raw UPDATEs of the due rows, check them, then put the rows back (untimed)."""
    say(f"  {db.label}: raw UPDATEs of {len(loaded.due):,} rows …")
    seconds, updated = timed(lambda: raw_apply(db, sorted(loaded.due)))
    if updated != len(loaded.due):
        raise RuntimeError(f"raw UPDATEs changed {updated} rows, expected {len(loaded.due)}")
    check_moved(db, loaded, "the raw UPDATEs")
    undo_raw(db, loaded)
    if changed_rows(db):
        raise RuntimeError("the raw run could not be undone")
    return seconds, updated


# databases ---------------------------------------------------------------------------------
@contextlib.contextmanager
def pg_engines(url: str, count: int) -> Iterator[list[sa.Engine] | None]:
    """`count` engines, each on a fresh schema dropped at the end; None if PG is unusable."""
    with contextlib.ExitStack() as stack:
        engines = []
        for _ in range(count):
            engine = stack.enter_context(
                pg_schema(url, lambda text: console.print(f"[yellow]{text}"))
            )
            if engine is None:
                yield None
                return
            engines.append(engine)
        yield engines


# figures and output ------------------------------------------------------------------------
def _r(value: float, digits: int = 3) -> float:
    return round(value, digits)


def event_figures(ev: EventResult, sizes: Sizes) -> dict[str, Any]:
    engine, plain = ev.best("engine"), ev.best("plain")
    per_kind: dict[str, Any] = {}
    for kind in KINDS:
        n = sum(r.counts.get(kind, 0) for r in ev.engine)
        if n:
            e_ms = 1000 * sum(r.per_kind[kind] for r in ev.engine) / n
            p_ms = 1000 * sum(r.per_kind[kind] for r in ev.plain) / n
            per_kind[kind] = {
                "writes": n,
                "engine_ms": _r(e_ms),
                "plain_ms": _r(p_ms),
                "ratio": _r(p_ms / e_ms),
            }
    return {
        "event_per_s": _r(sizes.ops / engine.seconds, 1),
        "plain_per_s": _r(sizes.ops / plain.seconds, 1),
        "event_vs_plain": _r(plain.seconds / engine.seconds),
        "event_rounds_per_s": [_r(sizes.ops / r.seconds, 1) for r in ev.engine],
        "plain_rounds_per_s": [_r(sizes.ops / r.seconds, 1) for r in ev.plain],
        "event_per_kind": per_kind,
        "event_checks": ev.checks,
    }


def sweep_figures(sw: SweepResult) -> dict[str, Any]:
    sql, python = min(sw.sql_s), min(sw.python_s)
    return {
        "customers": sw.customers,
        "due": sw.due,
        "load_s": _r(sw.load_s, 1),
        "select_sql_s": _r(sql),
        "select_python_s": _r(python),
        "select_sql_runs_s": [_r(s) for s in sw.sql_s],
        "select_python_runs_s": [_r(s) for s in sw.python_s],
        "sweep_select_vs_python": _r(python / sql, 2),
        "raw_apply_s": _r(sw.raw_s),
        "raw_apply_per_s": _r(sw.due / sw.raw_s, 1),
        "sweep_apply_s": _r(sw.sweep_s),
        "sweep_apply_per_s": _r(sw.due / sw.sweep_s, 1),
        "sweep_apply_vs_raw": _r(sw.raw_s / sw.sweep_s),
        "idle_sweep_s": _r(sw.idle_s),
        "moved": sw.moved,
        "sweep_checks": sw.checks,
    }


def figures(
    events: dict[str, EventResult],
    sweeps: dict[str, SweepResult],
    sizes: Sizes,
    extra: dict[str, Any],
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for db in DATABASES:
        figs: dict[str, Any] = {}
        if db in events:
            figs.update(event_figures(events[db], sizes))
        if db in sweeps:
            figs.update(sweep_figures(sweeps[db]))
        out[db] = figs or None
    for name in TARGETS:
        values = [out[db][name] for db in DATABASES if out[db] and name in out[db]]
        out[name] = min(values) if values else None
    out["targets"] = TARGETS
    out["targets_met"] = {k: None if out[k] is None else out[k] >= v for k, v in TARGETS.items()}
    out["sizes"] = {**asdict(sizes), "due_share": 0.1, "mix": dict(MIX)}
    out.update(extra)
    return out


def render(
    events: dict[str, EventResult],
    sweeps: dict[str, SweepResult],
    figs: dict[str, Any],
    sizes: Sizes,
) -> None:
    table = Table(title="Pools: event path and sweeps (chaotu-demo)")
    for column in ("measurement", "db", "n", "seconds", "per s", "vs baseline"):
        table.add_column(column, justify="left" if column in ("measurement", "db") else "right")
    for db in DATABASES:
        f = figs[db]
        if db in events:
            e, p = events[db].best("engine"), events[db].best("plain")
            ratio = f"{f['event_vs_plain']:.2f} × plain"
            table.add_row(
                "writes, rules active",
                db,
                f"{sizes.ops:,}",
                f"{e.seconds:.3f}",
                f"{f['event_per_s']:,.0f}",
                ratio,
            )
            table.add_row(
                "writes, plain bundle",
                db,
                f"{sizes.ops:,}",
                f"{p.seconds:.3f}",
                f"{f['plain_per_s']:,.0f}",
                "baseline",
            )
        if db in sweeps:
            sw = sweeps[db]
            sql, py = f["select_sql_s"], f["select_python_s"]
            table.add_row(
                "find due: compiled SQL",
                db,
                f"{sw.customers:,}",
                f"{sql:.3f}",
                f"{sw.customers / sql:,.0f}",
                f"{f['sweep_select_vs_python']:.1f}× python",
            )
            table.add_row(
                "find due: load all + Python",
                db,
                f"{sw.customers:,}",
                f"{py:.3f}",
                f"{sw.customers / py:,.0f}",
                "baseline",
            )
            table.add_row(
                "move due: Sweeper.sweep",
                db,
                f"{sw.due:,}",
                f"{sw.sweep_s:.3f}",
                f"{f['sweep_apply_per_s']:,.0f}",
                f"{f['sweep_apply_vs_raw']:.2f} × raw",
            )
            table.add_row(
                "move due: raw Core UPDATEs",
                db,
                f"{sw.due:,}",
                f"{sw.raw_s:.3f}",
                f"{f['raw_apply_per_s']:,.0f}",
                "baseline",
            )
            table.add_row(
                "second sweep (nothing due)", db, f"{sw.customers:,}", f"{sw.idle_s:.3f}", "", ""
            )
    console.print(table)
    if events:
        kinds = Table(title="Event path by kind of write: mean ms per write over all rounds")
        for column in ("kind", "db", "writes", "rules active ms", "plain ms", "vs plain"):
            kinds.add_column(column, justify="left" if column in ("kind", "db") else "right")
        for db in DATABASES:
            for kind, k in (figs[db] or {}).get("event_per_kind", {}).items():
                kinds.add_row(
                    kind,
                    db,
                    str(k["writes"]),
                    f"{k['engine_ms']:.2f}",
                    f"{k['plain_ms']:.2f}",
                    f"{k['ratio']:.2f}",
                )
        console.print(kinds)
    for name, target in TARGETS.items():
        value, met = figs[name], figs["targets_met"][name]
        verdict = "skipped" if met is None else "[green]met" if met else "[red]NOT met"
        shown = "–" if value is None else f"{value:.3f}"
        console.print(
            f"  {name:<24} {shown:>8}  target ≥ {target:g}  {verdict}  (min over databases)"
        )


# profiling ---------------------------------------------------------------------------------
def print_profile(profiler: cProfile.Profile, title: str) -> None:
    print(f"--- {title}: top by cumulative time, functions of engine/ only")
    engine_dir = re.escape(str(Path(engine_package.__file__).resolve().parent) + os.sep)
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(engine_dir, 35)
    print(f"--- {title}: what the engine's busiest functions call")
    stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative")
    stats.print_callees(r"sweeps.py:\d+\(_batch\)|sweeps.py:\d+\(_settle\)|run_round")
    print(f"--- {title}: top by own time (SQLAlchemy and the driver included)")
    pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("tottime").print_stats(25)


def run_profile(args: argparse.Namespace, folder: Path, sizes: Sizes) -> tuple[int, dict[str, Any]]:
    began = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if args.profile_db == "pg":
            found = stack.enter_context(pg_engines(args.pg, 3))
            if found is None:
                return 1, {"profile": args.profile, "error": "PostgreSQL unreachable"}
            engines = found
        else:
            engines = stack.enter_context(
                sqlite_engines(folder, ("events-engine", "events-plain", "sweep"))
            )
        profiler = cProfile.Profile()
        if args.profile == "events":
            base = base_customers(sizes.base)
            ops = make_ops(sizes.warmup + sizes.ops, sizes.base, NEW_CUSTOMERS_FROM)
            engine_db, _ = stack.enter_context(event_dbs((engines[0], engines[1]), folder, base))
            writes = resolve(engine_db, ops)
            run_round(writes[: sizes.warmup])
            profiler.runcall(run_round, writes[sizes.warmup :])
            print_profile(profiler, f"{sizes.ops} event writes, rules active, {args.profile_db}")
        else:
            db = open_sweep_db(args.profile_db, engines[2])
            loaded = load(db, (stored := StoredBatches(sizes.customers)).batches, stored.texts)
            moved = profiler.runcall(db.svc.sweeper.sweep, db.tenant, now=NOW)
            print(f"moved {moved} of {len(loaded.due)} due")
            print_profile(
                profiler, f"Sweeper.sweep, {len(loaded.due):,} due of {sizes.customers:,}"
            )
    seconds = round(time.perf_counter() - began, 3)
    return 0, {"profile": args.profile, "db": args.profile_db, "seconds": seconds}


# entry points ------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _common.bench_parser(__doc__, "100,000 customers, fewer writes")
    parser.add_argument(
        "--profile",
        choices=["events", "sweep"],
        help="only cProfile one part: the rules-active writes or one Sweeper.sweep",
    )
    parser.add_argument("--profile-db", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument(
        "--part",
        choices=["events", "sweep"],
        help="only one half (what `python bench/_pools_events.py` and `_pools_sweep.py` run)",
    )
    return parser.parse_args(argv)


def check_customers(stored: StoredBatches, sample: int = 500) -> None:
    """The generated customers are what the engine would store: client fields as the
    validator keeps them, scores and grades as the rules compute them (untimed)."""
    cfg = CompiledConfig.compile(load_bundle_dir(DEMO_DIR), 1)
    validator, derived = cfg.validator(ENTITY), cfg.derived[ENTITY]
    computed = validator.computed
    for customer in stored.batches[0][:sample]:
        client = {k: v for k, v in customer.data.items() if k not in computed}
        values, errors = validator.for_create(dict(client))
        if errors or values != client:
            raise ValueError(f"not a stored customer: {client} -> {values} {errors}")
        again, _ = derived.apply(customer.data, NOW)
        if again != customer.data:
            raise ValueError(f"score or grade differ from the rules: {customer.data} -> {again}")


def measure_sweeps(targets: dict[str, list[sa.Engine]], sizes: Sizes) -> dict[str, SweepResult]:
    say(f"generating {sizes.customers:,} customers (untimed) …")
    gc.disable()  # a million new dicts would set off full collections, to no avail
    stored = StoredBatches(sizes.customers)
    stored.serialize_all()
    gc.freeze()  # the customers live through every run: keep the collector off them
    gc.enable()
    check_customers(stored)
    sweeps: dict[str, SweepResult] = {}
    for db, engines in targets.items():
        sweep_db = open_sweep_db(db, engines[2])
        try:
            sweeps[db] = measure_sweep(sweep_db, stored, sizes)
        finally:
            sweep_db.svc.close()
    return sweeps


def run(args: argparse.Namespace, folder: Path) -> tuple[int, dict[str, Any]]:
    """The bench (or its profile) as asked: the exit code and the figures."""
    began = time.perf_counter()
    sizes = QUICK if args.quick else FULL
    if args.profile:
        return run_profile(args, folder, sizes)
    base = base_customers(sizes.base)
    ops = make_ops(sizes.warmup + sizes.reps * sizes.ops, sizes.base, NEW_CUSTOMERS_FROM)
    events: dict[str, EventResult] = {}
    sweeps: dict[str, SweepResult] = {}
    skipped: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        lite = stack.enter_context(
            sqlite_engines(folder, ("events-engine", "events-plain", "sweep"))
        )
        pg = None
        if args.no_pg:
            skipped["postgresql"] = "--no-pg"
        else:
            pg = stack.enter_context(pg_engines(args.pg, 3))
            if pg is None:
                skipped["postgresql"] = f"not reachable at {args.pg}"
        targets = {"sqlite": lite} | ({"postgresql": pg} if pg else {})
        if args.part != "sweep":
            for db, engines in targets.items():
                say(f"events on {db}: seeding {sizes.base:,} customers in both bundles …")
                with event_dbs((engines[0], engines[1]), folder, base) as dbs:
                    events[db] = measure_events(dbs, ops, sizes, db)
        if args.part != "events":
            sweeps = measure_sweeps(targets, sizes)
    extra = {"quick": args.quick, "skipped": skipped, "now": NOW.isoformat()}
    extra["seconds_total"] = round(time.perf_counter() - began, 1)
    figs = figures(events, sweeps, sizes, extra)
    render(events, sweeps, figs, sizes)
    return 0, figs


def measured(argv: list[str] | None = None) -> tuple[int, dict[str, Any]]:
    """Run as the arguments ask; the exit code and the figures (printed by the caller, so
    each script that runs this bench ends with their JSON line itself)."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-") as tmp:
        return run(args, Path(tmp))


def main(argv: list[str] | None = None) -> int:
    code, figs = measured(argv)
    print(json.dumps(figs, sort_keys=True, ensure_ascii=False), flush=True)  # the last line
    return code


if __name__ == "__main__":
    sys.exit(main())
