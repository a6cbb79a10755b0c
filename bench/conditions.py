"""Condition speed: the compiled closure next to a hand-written function, rule packages and SQL.

    .venv/bin/python bench/conditions.py [--quick] [--pg URL] [--no-pg] [--profile]

One 4-clause condition over the records of bench/conditions_bundle/ (`account`):
  1. in memory, evaluations/s on one core: our closure, a hand-written Python function with
     the same semantics, and the packages rule-engine, business-rules, json-logic, zen-engine;
  2. in a database (SQLite, PostgreSQL), records/s: the condition as SQL (`cond.sql`) vs.
     fetching every row and filtering in Python with the closure.
The last line of stdout is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import gc
import importlib.metadata
import json
import math
import os
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _common import pg_schema
from _conditions_packages import PACKAGES, Package
from rich.console import Console
from rich.table import Table

from engine.conditions import Condition, Env, compile_text, entity_scope
from engine.config import load_bundle_dir
from engine.rules.compiled import CompiledConfig
from engine.storage import tables as t
from engine.storage.db import make_engine

BUNDLE_DIR = Path(__file__).resolve().parent / "conditions_bundle"
ENTITY = "account"
TENANT = "bench-conditions"
CONDITION = (
    "budget >= 1000 and region in ['east', 'north']"
    " and days_since(last_followup_at) > 30 and score >= 60"
)
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # fixed, so every run sees the same matches
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGETS = {
    "closure_vs_lambda": 0.5,
    "closure_vs_best_package": 10.0,
    "sql_vs_python": 10.0,
    "sql_vs_python_pg": 10.0,
}
MIN_RUN_S = 0.25  # in-memory runs shorter than this repeat the sweep
LOAD_BATCH = 5_000
FETCH_CHUNK = 10_000

Record = dict[str, Any]  # a record's stored data, as json.loads gives it
Sweep = Callable[[Sequence[Record]], list[int]]  # the indexes of the matching records
console = Console(width=120, highlight=False)


@dataclass(frozen=True)
class Sizes:
    memory: int  # records of the in-memory loops
    db: int  # records in each database
    reps: int  # runs per row, the best counts …
    budget_s: float  # … but a row stops after the run that takes its total past this


FULL = Sizes(memory=100_000, db=1_000_000, reps=3, budget_s=20.0)
QUICK = Sizes(memory=20_000, db=100_000, reps=3, budget_s=3.0)


@dataclass(frozen=True)
class Timing:
    seconds: float  # the best run
    runs: int
    sweeps: int = 1  # passes over the records in one run


@dataclass(frozen=True)
class Row:
    key: str  # figure name in the JSON
    name: str
    records: int
    timing: Timing | None  # None: skipped
    matches: int | None = None
    mismatches: int | None = None  # records on which it disagrees with our closure
    note: str = ""

    @property
    def per_s(self) -> float | None:
        if self.timing is None:
            return None
        return self.records * self.timing.sweeps / self.timing.seconds


def best_of(run: Callable[[], Any], sizes: Sizes, repeat: bool = False) -> tuple[Timing, Any]:
    """Best wall time of sizes.reps runs, and the last result. A first run shorter than a tenth
    of sizes.budget_s is an untimed warm-up; if `repeat`, a run then repeats `run` often enough
    to last MIN_RUN_S (short runs are noisy). A slow row stops once its runs add up to more
    than sizes.budget_s (fewer runs, as the table shows)."""
    start = time.perf_counter()
    result = run()
    first = time.perf_counter() - start
    timings, sweeps = [], 1
    if first >= sizes.budget_s / 10:
        timings.append(first)
    elif repeat:
        sweeps = max(1, math.ceil(MIN_RUN_S / max(first, 1e-6)))
    while len(timings) < sizes.reps and sum(timings) < sizes.budget_s:
        start = time.perf_counter()
        for _ in range(sweeps):
            result = run()
        timings.append(time.perf_counter() - start)
    return Timing(min(timings), len(timings), sweeps), result


# the records -------------------------------------------------------------------------------
_STATUSES = ("prospect", "active", "dormant", "churned")
_REGION_OPTIONS = ("east", "north", "south", "west")
_TAG_SETS = ((), (), ("enterprise",), ("smb",), ("renewal", "trial"), ("partner", "smb"))
_NOW_EPOCH = int(NOW.timestamp())
_EDGE_AGES = (31 * 86400, 31 * 86400 - 1)  # exactly 31 days (matches), a second short (not)


def make_record(i: int, rand: Callable[[], float]) -> dict[str, Any]:
    """One stored `account` dict: about 6% of them match CONDITION; nulls are left out, as
    the engine stores them; some sit exactly on the condition's bounds."""
    data: dict[str, Any] = {
        "name": f"Account {i}",
        "email": f"contact{i}@example{i % 97}.com",
        "status": _STATUSES[int(rand() * 4)],
        "employees": 1 + int(rand() * 5000),
        "vip": rand() < 0.1,
    }
    if tags := _TAG_SETS[int(rand() * len(_TAG_SETS))]:
        data["tags"] = list(tags)
    if rand() < 0.92:
        cents = 100_000 if rand() < 0.01 else int(rand() * 300_001)
        data["budget"] = f"{cents // 100}.{cents % 100:02d}"
    if rand() < 0.95:
        data["region"] = _REGION_OPTIONS[int(rand() * 4)]
    if rand() < 0.90:
        data["last_followup_at"] = _followup(rand)
    if rand() < 0.95:
        data["score"] = int(rand() * 101)
    return data


def _followup(rand: Callable[[], float]) -> str:
    # 1%: on the edge; the rest from 2 days ahead to 90 days back
    ago = _EDGE_AGES[int(rand() * 2)] if rand() < 0.01 else int(rand() * 92 * 86400) - 2 * 86400
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_NOW_EPOCH - ago))


def make_batch(start: int, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Records start … start+count-1; a batch is the same whatever else is generated."""
    rand = random.Random(seed * 1_000_003 + start).random
    return [make_record(i, rand) for i in range(start, start + count)]


def make_batches(count: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The first `count` records in batches of LOAD_BATCH, each with its first index."""
    for start in range(0, count, LOAD_BATCH):
        yield start, make_batch(start, min(LOAD_BATCH, count - start))


def check_stored_form(records: Sequence[Record], sample: int = 500) -> None:
    """The generated dicts are what the engine's validator would store (untimed)."""
    bundle = load_bundle_dir(BUNDLE_DIR)
    validator = CompiledConfig.compile(bundle, 1).validator(ENTITY)
    for data in records[:sample]:
        values, errors = validator.for_create(dict(data))
        if errors or values != data:
            raise ValueError(f"not a stored record: {data} -> {values} {errors}")


def compile_condition() -> Condition:
    bundle = load_bundle_dir(BUNDLE_DIR)
    scope = entity_scope(bundle.entities[ENTITY], UTC)
    return compile_text(CONDITION, scope)


# the in-memory contenders ------------------------------------------------------------------
def closure_env_per_record(cond: Condition) -> Sweep:
    """The documented hot path: one Env per record, then cond.run(env)."""
    tz, run = cond.tz, cond.run

    def sweep(records: Sequence[Record]) -> list[int]:
        return [i for i, d in enumerate(records) if run(Env(d, NOW, tz))]

    return sweep


def closure_evaluate(cond: Condition) -> Sweep:
    evaluate = cond.evaluate

    def sweep(records: Sequence[Record]) -> list[int]:
        return [i for i, d in enumerate(records) if evaluate(d, NOW)]

    return sweep


def closure_reused_env(cond: Condition) -> Sweep:
    """One Env for the whole sweep, its .data swapped per record."""

    def sweep(records: Sequence[Record]) -> list[int]:
        env, run = Env({}, NOW, cond.tz), cond.run
        found: list[int] = []
        for i, d in enumerate(records):
            env.data = d
            if run(env):
                found.append(i)
        return found

    return sweep


_REGIONS = frozenset(("east", "north"))
_DAY = timedelta(days=1)
_THOUSAND = Decimal(1000)


def hand_written(data: Record) -> bool:
    """The same condition by hand: exact Decimal money, parsed datetimes, null checks."""
    budget = data.get("budget")
    if budget is None or Decimal(budget) < _THOUSAND:
        return False
    if data.get("region") not in _REGIONS:
        return False
    last = data.get("last_followup_at")
    if last is None or (NOW - datetime.fromisoformat(last)) // _DAY <= 30:
        return False
    score = data.get("score")
    return score is not None and score >= 60


def per_record(test: Callable[[Record], bool]) -> Sweep:
    def sweep(records: Sequence[Record]) -> list[int]:
        return [i for i, d in enumerate(records) if test(d)]

    return sweep


def package_row(
    key: str, package: Package, records: Sequence[Record], sizes: Sizes
) -> tuple[Row, list[int] | None]:
    label = f"{package.label} {_version(package.distribution)}"
    try:
        test = package.build(NOW)
    except ImportError as exc:
        return Row(key, package.label, len(records), None, note=f"skipped: {exc}"), None
    try:
        timing, found = best_of(lambda: per_record(test)(records), sizes, repeat=True)
    except Exception as exc:  # a package that cannot evaluate the data is reported, not fatal
        return Row(key, label, len(records), None, note=f"skipped: failed ({exc!r:.80})"), None
    return Row(key, label, len(records), timing, note=package.note), found


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def with_parity(row: Row, found: list[int] | None, reference: list[int]) -> Row:
    if found is None:
        return row
    differ = len(set(found).symmetric_difference(reference))
    return Row(row.key, row.name, row.records, row.timing, len(found), differ, row.note)


def measure_memory(cond: Condition, records: Sequence[Record], sizes: Sizes) -> list[Row]:
    ours: list[tuple[str, str, Sweep]] = [
        ("closure", "ours: cond.run(Env(data, now, tz))", closure_env_per_record(cond)),
        ("closure_evaluate", "ours: cond.evaluate(data, now)", closure_evaluate(cond)),
        ("closure_reused_env", "ours: one Env, .data swapped", closure_reused_env(cond)),
        ("lambda", "hand-written Python (Decimal)", per_record(hand_written)),
    ]
    rows: list[Row] = []
    reference: list[int] = []
    for key, name, sweep in ours:
        console.print(f"  in memory: {name} …")
        timing, found = best_of(functools.partial(sweep, records), sizes, repeat=True)
        reference = reference or found
        rows.append(with_parity(Row(key, name, len(records), timing), found, reference))
    for key, package in PACKAGES.items():
        console.print(f"  in memory: {package.label} …")
        row, found = package_row(key, package, records, sizes)
        rows.append(with_parity(row, found, reference))
    return rows


# databases ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Db:
    label: str
    engine: sa.Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def load(db: Db, count: int) -> None:
    """Bulk-load `count` records (untimed), as a bulk load goes: the driver's executemany in
    batches, the secondary indexes built after the rows, then ANALYZE."""
    insert = _INSERT[db.dialect]
    stamp = _stored(db, t.records.c.created_at, NOW)
    with db.engine.begin() as conn:
        for index in t.records.indexes:
            conn.exec_driver_sql(f'DROP INDEX "{index.name}"')
        for start in range(0, count, LOAD_BATCH):
            texts = stored_batch(start, min(LOAD_BATCH, count - start))
            rows = [
                (TENANT, f"acc-{start + i:09d}", ENTITY, text, 1, stamp, stamp)
                for i, text in enumerate(texts)
            ]
            conn.exec_driver_sql(insert, rows)
        for index in t.records.indexes:
            index.create(conn)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


_COLUMNS = "tenant_id, id, entity, data, version, created_at, updated_at"
_INSERT = {
    "sqlite": f"INSERT INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "postgresql": f"INSERT INTO records ({_COLUMNS}) VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s)",
}


def _stored(db: Db, column: sa.Column[Any], value: Any) -> Any:
    """A value as SQLAlchemy would send it for this column to this database."""
    process = column.type.bind_processor(db.engine.dialect)
    return value if process is None else process(value)


@functools.cache
def stored_batch(start: int, count: int) -> tuple[str, ...]:
    """A batch as stored JSON text (as make_engine's json_serializer writes it), generated once
    for both databases."""
    return tuple(
        json.dumps(d, ensure_ascii=False, separators=(",", ":")) for d in make_batch(start, count)
    )


def _scope() -> list[sa.ColumnElement[bool]]:
    rows = t.records
    return [rows.c.tenant_id == TENANT, rows.c.entity == ENTITY, rows.c.deleted_at.is_(None)]


def sql_ids(db: Db, cond: Condition) -> list[str]:
    """The condition as SQL: the database returns the matching ids."""
    query = sa.select(t.records.c.id).where(*_scope(), cond.sql(db.dialect, NOW, t.records.c.data))
    with db.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def python_ids(db: Db, cond: Condition) -> list[str]:
    """Every row of the entity fetched (streamed in chunks), filtered by the closure."""
    query = sa.select(t.records.c.id, t.records.c.data).where(*_scope())
    tz = cond.tz
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=FETCH_CHUNK).execute(query)
        return [rid for rid, data in result if cond(Env(data, NOW, tz))]


def measure_db(db: Db, cond: Condition, sizes: Sizes) -> list[Row]:
    console.print(f"  {db.label}: loading {sizes.db:,} records (untimed) …")
    start = time.perf_counter()
    load(db, sizes.db)
    console.print(f"  {db.label}: loaded in {time.perf_counter() - start:.1f} s")
    console.print(f"  {db.label}: SQL …")
    sql_timing, sql_found = best_of(lambda: sql_ids(db, cond), sizes)
    console.print(f"  {db.label}: fetch + Python …")
    py_timing, py_found = best_of(lambda: python_ids(db, cond), sizes)
    differ = len(set(sql_found).symmetric_difference(py_found))
    return [
        Row(
            f"sql_{db.label}",
            f"{db.label}: SELECT id WHERE cond.sql(…)",
            sizes.db,
            sql_timing,
            len(sql_found),
            differ,
        ),
        Row(
            f"python_{db.label}",
            f"{db.label}: fetch all rows + closure",
            sizes.db,
            py_timing,
            len(py_found),
        ),
    ]


@contextlib.contextmanager
def sqlite_db(folder: Path) -> Iterator[Db]:
    engine = make_engine(f"sqlite:///{folder / 'conditions.db'}")
    t.metadata.create_all(engine)
    try:
        yield Db("sqlite", engine)
    finally:
        engine.dispose()


@contextlib.contextmanager
def postgres_db(url: str) -> Iterator[Db | None]:
    """A fresh schema for this run, dropped at the end."""
    with pg_schema(url, lambda text: console.print(f"[yellow]{text}")) as engine:
        if engine is None:
            yield None
            return
        t.metadata.create_all(engine)
        yield Db("pg", engine)


# figures and output ------------------------------------------------------------------------
def _ratio(rate: dict[str, float], num: str, den: str) -> float | None:
    return round(rate[num] / rate[den], 3) if num in rate and den in rate else None


def _fastest(keys: list[str], rate: dict[str, float]) -> str | None:
    return max(keys, key=lambda k: rate[k]) if keys else None


def figures(rows: list[Row], sizes: Sizes, skipped: dict[str, str]) -> dict[str, Any]:
    rate = {r.key: r.per_s for r in rows if r.per_s is not None}
    best = _fastest([k for k in PACKAGES if k in rate], rate)
    best_python = _fastest([k for k in PACKAGES if k in rate and not PACKAGES[k].native], rate)
    out: dict[str, Any] = {
        "closure_vs_lambda": _ratio(rate, "closure", "lambda"),
        "closure_vs_best_package": _ratio(rate, "closure", best) if best else None,
        "closure_vs_best_python_package": _ratio(rate, "closure", best_python)
        if best_python
        else None,
        "sql_vs_python": _ratio(rate, "sql_sqlite", "python_sqlite"),
        "sql_vs_python_pg": _ratio(rate, "sql_pg", "python_pg"),
        "closure_reused_env_vs_lambda": _ratio(rate, "closure_reused_env", "lambda"),
        "closure_evaluate_vs_lambda": _ratio(rate, "closure_evaluate", "lambda"),
        "best_package": best,
        "best_python_package": best_python,
    }
    for r in rows:
        out[f"{r.key}_per_s"] = None if r.per_s is None else round(r.per_s, 1)
    out["matches"] = {r.key: r.matches for r in rows}
    out["mismatches"] = {r.key: r.mismatches for r in rows if r.mismatches}
    out["runs"] = {r.key: None if r.timing is None else r.timing.runs for r in rows}
    out["sweeps_per_run"] = {r.key: r.timing.sweeps for r in rows if r.timing is not None}
    out["skipped"] = skipped | {r.key: r.note for r in rows if r.timing is None}
    out["targets"] = TARGETS
    out["targets_met"] = {k: None if out[k] is None else out[k] >= v for k, v in TARGETS.items()}
    out["sizes"] = {"memory": sizes.memory, "db": sizes.db, "reps": sizes.reps}
    out["versions"] = {k: _version(p.distribution) for k, p in PACKAGES.items()}
    out["condition"] = CONDITION
    return out


def _versus(r: Row, rate: dict[str, float]) -> str:
    """The ratio the targets look at, from this row's side."""
    mine = rate.get(r.key)
    if mine is None:
        return "–"
    if r.key in PACKAGES and "closure" in rate:
        return f"ours {rate['closure'] / mine:.2f}×"
    if r.key.startswith("closure") and "lambda" in rate:
        return f"{mine / rate['lambda']:.2f}× hand"
    if r.key.startswith("sql_") and (python := rate.get("python_" + r.key[4:])):
        return f"{mine / python:.2f}× fetch"
    return "baseline"


def render(rows: list[Row], figs: dict[str, Any]) -> None:
    rate = {r.key: r.per_s for r in rows if r.per_s is not None}
    table = Table(title=f"Condition evaluation: {CONDITION}")
    columns = ("contender", "records", "runs", "best s", "per s", "ratio", "matches", "differ")
    for column in columns:
        table.add_column(column, justify="left" if column == "contender" else "right")
    for r in rows:
        if r.timing is None:
            table.add_row(r.name, f"{r.records:,}", "–", "–", "skipped", "–", "–", "–")
            continue
        differ = "–" if r.mismatches is None else str(r.mismatches)
        seconds, per_s = f"{r.timing.seconds:.3f}", f"{r.per_s or 0.0:,.0f}"
        runs = f"{r.timing.runs}×{r.timing.sweeps}" if r.timing.sweeps > 1 else str(r.timing.runs)
        cells = (f"{r.records:,}", runs, seconds, per_s, _versus(r, rate))
        table.add_row(r.name, *cells, str(r.matches), differ)
    console.print(table)
    console.print(
        "  runs: timed runs (×N: each run sweeps the records N times); best s: the best run.\n"
        "  per s: evaluations/s (in memory) or records/s (databases), best run. ratio: ours ÷ "
        "this package; ours ÷ the hand-written function; SQL ÷ fetch + closure.\n"
        "  differ: records on which the row disagrees with our closure (SQL: with fetch + "
        "closure)."
    )
    for r in rows:
        if r.note:
            console.print(f"  note, {r.name}: {r.note}")
    for name, target in TARGETS.items():
        value, met = figs[name], figs["targets_met"][name]
        verdict = "skipped" if met is None else "[green]met" if met else "[red]NOT met"
        shown = "–" if value is None else f"{value:.3f}"
        console.print(f"  {name:<30} {shown:>8}  target ≥ {target:g}  {verdict}")
    if (python := figs["closure_vs_best_python_package"]) is not None:
        best = figs["best_python_package"]
        console.print(f"  {'closure_vs_best_python_package':<30} {python:>8.3f}  (info: {best})")
    if figs["targets_met"]["closure_vs_lambda"] is False:
        console.print("  --profile shows where our closure spends its time")


def profile(cond: Condition, records: Sequence[Record]) -> None:
    """cProfile our closure over the records (one Env per record), to stdout."""
    sweep = closure_env_per_record(cond)
    profiler = cProfile.Profile()
    profiler.runcall(sweep, records)
    print(f"--- cProfile: cond(Env(...)) over {len(records):,} records, by own time")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(20)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--pg",
        default=os.environ.get("TIDEPOOL_TEST_POSTGRES_URL") or DEFAULT_PG,
        help="PostgreSQL URL (default: $TIDEPOOL_TEST_POSTGRES_URL or a local test database)",
    )
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument(
        "--profile", action="store_true", help="only cProfile our closure over the records"
    )
    return parser.parse_args()


def run(args: argparse.Namespace) -> int:
    sizes = QUICK if args.quick else FULL
    cond = compile_condition()
    console.print(f"generating {sizes.memory:,} records (untimed) …")
    records = [d for _, batch in make_batches(sizes.memory) for d in batch]
    check_stored_form(records)
    gc.collect()
    gc.freeze()  # the records live through every run: keep the collector from walking them
    if args.profile:
        profile(cond, records)
        return 0
    rows = measure_memory(cond, records, sizes)
    skipped: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory(prefix="tidepool-bench-") as folder,
        sqlite_db(Path(folder)) as db,
    ):
        rows += measure_db(db, cond, sizes)
    if args.no_pg:
        skipped["pg"] = "--no-pg"
    else:
        with postgres_db(args.pg) as pg:
            if pg is None:
                skipped["pg"] = f"PostgreSQL not reachable at {args.pg}"
            else:
                rows += measure_db(pg, cond, sizes)
    figs = figures(rows, sizes, skipped)
    render(rows, figs)
    print(json.dumps(figs, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(run(parse_args()))
