"""Ingest throughput: records/s through the service layer and the API, next to raw baselines.

    .venv/bin/python bench/ingest.py [--quick] [--pg URL] [--no-pg] [--no-api] [--profile]

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
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _common import (
    BENCH_DIR,
    BUNDLE_DIR,
    ENTITY,
    free_port,
    load_bench_bundle,
    make_payloads,
    pg_schema,
    sqlite_url,
)
from rich.console import Console
from rich.table import Table

import engine as engine_package
from engine.service import Services
from engine.storage import tables as t

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 1000  # the service's MAX_BATCH: the largest batch one call may carry
TARGETS = {"service_batch_vs_raw": 0.40, "service_batch_vs_raw_pg": 0.40, "api_vs_bare": 0.40}
CONCURRENCY = 12  # client connections: enough to keep one worker busy, few enough for 2 cores
REQUEST_TIMEOUT = 30.0
LOAD_DEADLINE = 120.0  # seconds per load run: a stuck server must not hang the bench
STARTUP_DEADLINE = 30.0

Payload = dict[str, Any]
console = Console(width=120, highlight=False)


@dataclass(frozen=True)
class Sizes:
    batch: int  # records per batched measurement (raw and service)
    single: int  # records per one-transaction-per-record measurement
    api: int  # timed POSTs per server and round
    warmup: int  # untimed POSTs first, so both servers are warm
    reps: int  # every measurement runs this often (API: rounds); the best counts


FULL = Sizes(batch=20_000, single=4_000, api=1_000, warmup=200, reps=3)
QUICK = Sizes(batch=3_000, single=400, api=300, warmup=100, reps=3)


@dataclass(frozen=True)
class Result:
    key: str  # figure name in the JSON, e.g. "service_batch_sqlite"
    name: str
    db: str
    records: int
    seconds: float
    baseline: str | None = None  # key of the result this one is compared with

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Db:
    """A database holding the installed bench bundle, and its short name for the figures."""

    label: str  # "sqlite" or "pg"
    svc: Services
    tenant: str
    version: int

    @property
    def engine(self) -> sa.Engine:
        return self.svc.store.engine


def open_db(label: str, svc: Services) -> Db:
    [(bundle, version, _)] = svc.install_dirs([BUNDLE_DIR], actor="bench")
    return Db(label, svc, bundle.id, version)


def chunks(items: Sequence[Payload], size: int) -> Iterator[Sequence[Payload]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# the four in-process ingest paths ---------------------------------------------------------
def _raw_row(db: Db, data: Payload, now: datetime) -> dict[str, Any]:
    return {
        "tenant_id": db.tenant,
        "id": str(uuid.uuid4()),
        "entity": ENTITY,
        "data": data,
        "owner": None,
        "pool": None,
        "version": 1,
        "config_version": db.version,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
    }


def raw_batched(db: Db, payloads: Sequence[Payload]) -> None:
    """The floor: one executemany per batch into the records table, nothing else."""
    for chunk in chunks(payloads, BATCH):
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            conn.execute(t.records.insert(), [_raw_row(db, p, now) for p in chunk])


def raw_single(db: Db, payloads: Sequence[Payload]) -> None:
    """One insert and one commit per record: what a transaction per record costs by itself."""
    for p in payloads:
        with db.engine.begin() as conn:
            conn.execute(t.records.insert(), [_raw_row(db, p, datetime.now(UTC))])


def service_batched(db: Db, payloads: Sequence[Payload]) -> None:
    for chunk in chunks(payloads, BATCH):
        result = db.svc.records.create_many(db.tenant, ENTITY, list(chunk), actor="bench").result
        refused = [r for r in result["results"] if r["status"] != 201]
        if refused:
            raise RuntimeError(f"{len(refused)} records refused, first: {refused[0]}")


def service_single(db: Db, payloads: Sequence[Payload]) -> None:
    for p in payloads:
        db.svc.records.create(db.tenant, ENTITY, p, actor="bench")


IngestPath = Callable[[Db, Sequence[Payload]], None]


def reset(db: Db) -> None:
    """Empty the record tables (the tenant and its config stay) so every run starts alike."""
    tables = ("records", "record_unique", "record_history")
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)}")
        else:
            for name in tables:
                conn.exec_driver_sql(f"DELETE FROM {name}")
    if db.engine.dialect.name == "sqlite":  # a long WAL would slow the next run's writes
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def stored_count(db: Db) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.records)).scalar_one())


def timed_run(db: Db, path: IngestPath, payloads: Sequence[Payload]) -> float:
    """Seconds for one run on emptied tables; checks that every record was stored."""
    reset(db)
    start = time.perf_counter()
    path(db, payloads)
    seconds = time.perf_counter() - start
    stored = stored_count(db)
    if stored != len(payloads):
        raise RuntimeError(f"{path.__name__} stored {stored} of {len(payloads)} records")
    return seconds


def measure_db(db: Db, payloads: Sequence[Payload], sizes: Sizes) -> list[Result]:
    """Every path `reps` times, taking turns, so a slow spell of the machine (or of the
    database server) hits baseline and service alike; the best run of each counts."""
    plan: list[tuple[str, str, IngestPath, int]] = [
        ("raw", "raw Core executemany", raw_batched, sizes.batch),
        ("service_batch", f"service create_many ×{BATCH}", service_batched, sizes.batch),
        ("service_single", "service create (1 tx/record)", service_single, sizes.single),
        ("raw_single", "raw Core insert (1 tx/record)", raw_single, sizes.single),
    ]
    best = {short: float("inf") for short, *_ in plan}
    for rep in range(sizes.reps):
        console.print(f"  {db.label}: round {rep + 1} of {sizes.reps} …")
        for short, _, path, count in plan:
            best[short] = min(best[short], timed_run(db, path, payloads[:count]))
    raw_key = f"raw_{db.label}"
    results = []
    for short, name, _, count in plan:
        key = f"{short}_{db.label}"
        baseline = None if key == raw_key else raw_key
        results.append(Result(key, name, db.label, count, best[short], baseline))
    return results


# databases --------------------------------------------------------------------------------
@contextlib.contextmanager
def sqlite_db(folder: Path) -> Iterator[Db]:
    svc = Services.open(sqlite_url(folder / "ingest.db"))
    try:
        yield open_db("sqlite", svc)
    finally:
        svc.close()


@contextlib.contextmanager
def postgres_db(url: str) -> Iterator[Db | None]:
    """A fresh schema for this run (dropped at the end), so the bench never meets old rows."""
    with pg_schema(url, lambda text: console.print(f"[yellow]{text}")) as engine:
        if engine is None:
            yield None
            return
        svc = Services.open(engine=engine)
        try:
            yield open_db("pg", svc)
        finally:
            svc.close()


# API: servers in subprocesses and a bounded load generator --------------------------------
def _log_tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.perf_counter() + STARTUP_DEADLINE
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{_log_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server not ready after {STARTUP_DEADLINE}s:\n{_log_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def server(script: str, args: list[str], log: Path) -> Iterator[str]:
    """Start bench/<script> on a free port; yield its base URL; always stop it."""
    port = free_port()
    command = [sys.executable, str(BENCH_DIR / script), "--port", str(port), *args]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(proc, base, log)
        yield base
    finally:
        _stop(proc)


def post_all(client: httpx.Client, path: str, payloads: Sequence[Payload]) -> tuple[float, int]:
    """POST every payload over CONCURRENCY connections; (seconds, responses other than 201)."""
    deadline = time.perf_counter() + LOAD_DEADLINE

    def post(payload: Payload) -> int:
        if time.perf_counter() > deadline:
            return 0  # counted as a failure: the run took too long
        try:
            return client.post(path, json=payload).status_code
        except httpx.HTTPError:
            return -1

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        start = time.perf_counter()
        statuses = list(pool.map(post, payloads))
        seconds = time.perf_counter() - start
    return seconds, sum(1 for s in statuses if s != 201)


def _client(base: str, headers: dict[str, str]) -> httpx.Client:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    return httpx.Client(base_url=base, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT)


def _start_servers(stack: contextlib.ExitStack, folder: Path) -> dict[str, httpx.Client]:
    """Both servers, each on its own fresh SQLite file, and a client for each."""
    bare = stack.enter_context(
        server("_bare.py", ["--db", str(folder / "bare.db")], folder / "bare.log")
    )
    key_file = folder / "api.key"
    args = ["--db", str(folder / "api.db"), "--key-file", str(key_file)]
    api = stack.enter_context(server("_serve.py", args, folder / "api.log"))
    auth = {"Authorization": f"Bearer {key_file.read_text().strip()}"}
    return {
        "bare": stack.enter_context(_client(bare, {})),
        "api": stack.enter_context(_client(api, auth)),
    }


def measure_api(
    folder: Path, payloads: Sequence[Payload], sizes: Sizes
) -> tuple[list[Result], dict[str, Any]]:
    """Warm both servers, then time rounds taking turns between them, so a slow spell of the
    machine hits both alike; the best round of each counts, as for the in-process rows."""
    path = f"/api/v1/{load_bench_bundle().id}/records/{ENTITY}"
    rounds: dict[str, list[float]] = {"bare": [], "api": []}
    errors = {"bare": 0, "api": 0}
    with contextlib.ExitStack() as stack:
        clients = _start_servers(stack, folder)
        for name, client in clients.items():
            errors[name] += post_all(client, path, payloads[: sizes.warmup])[1]
        for i in range(sizes.reps):
            start = sizes.warmup + i * sizes.api
            console.print(f"  api: round {i + 1}, {sizes.api} POSTs to each server …")
            for name, client in clients.items():
                seconds, failed = post_all(client, path, payloads[start : start + sizes.api])
                rounds[name].append(seconds)
                errors[name] += failed
    bare_s, api_s = min(rounds["bare"]), min(rounds["api"])
    results = [
        Result("bare", "bare FastAPI + jsonschema + Core", "sqlite", sizes.api, bare_s),
        Result("api", "Tidepool API POST (full stack)", "sqlite", sizes.api, api_s, "bare"),
    ]
    extra: dict[str, Any] = {f"{k}_errors": v for k, v in errors.items()}
    for name, times in rounds.items():
        extra[f"{name}_rounds_per_s"] = [round(sizes.api / s, 1) for s in times]
    return results, extra


# figures and output -----------------------------------------------------------------------
RATIOS = [
    ("service_batch_vs_raw", "service_batch_sqlite", "raw_sqlite"),
    ("service_single_vs_raw", "service_single_sqlite", "raw_sqlite"),
    ("service_single_vs_raw_single", "service_single_sqlite", "raw_single_sqlite"),
    ("service_batch_vs_raw_pg", "service_batch_pg", "raw_pg"),
    ("service_single_vs_raw_pg", "service_single_pg", "raw_pg"),
    ("service_single_vs_raw_single_pg", "service_single_pg", "raw_single_pg"),
    ("api_vs_bare", "api", "bare"),
]
ALL_KEYS = [f"{s}_{db}" for db in ("sqlite", "pg") for s in ("raw", "service_batch")] + [
    f"{s}_{db}" for db in ("sqlite", "pg") for s in ("service_single", "raw_single")
]


def figures(results: list[Result], extra: dict[str, Any], sizes: Sizes) -> dict[str, Any]:
    rate = {r.key: r.per_s for r in results}
    out: dict[str, Any] = {}
    for name, num, den in RATIOS:
        out[name] = round(rate[num] / rate[den], 3) if num in rate and den in rate else None
    for key in [*ALL_KEYS, "api", "bare"]:
        out[f"{key}_per_s"] = round(rate[key], 1) if key in rate else None
    out.update(extra)
    out["targets"] = TARGETS
    out["targets_met"] = {k: None if out[k] is None else out[k] >= v for k, v in TARGETS.items()}
    out["runs"] = {r.key: {"records": r.records, "seconds": round(r.seconds, 4)} for r in results}
    out["sizes"] = {**asdict(sizes), "batch_size": BATCH, "concurrency": CONCURRENCY}
    return out


def render(results: list[Result], figs: dict[str, Any]) -> None:
    rate = {r.key: r.per_s for r in results}
    reps = figs["sizes"]["reps"]
    table = Table(title=f"Ingest throughput: best of {reps} runs per row (API rows: rounds)")
    for column in ("measurement", "db", "records", "seconds", "records/s", "vs baseline"):
        table.add_column(column, justify="left" if column in ("measurement", "db") else "right")
    for r in results:
        ratio = f"{r.per_s / rate[r.baseline]:.2f} × {r.baseline}" if r.baseline else "baseline"
        table.add_row(r.name, r.db, str(r.records), f"{r.seconds:.3f}", f"{r.per_s:,.0f}", ratio)
    console.print(table)
    for name, target in TARGETS.items():
        value, met = figs[name], figs["targets_met"][name]
        verdict = "skipped" if met is None else "[green]met" if met else "[red]NOT met"
        shown = "–" if value is None else f"{value:.3f}"
        console.print(f"  {name:<26} {shown:>6}  target ≥ {target:.2f}  {verdict}")


# entry points -----------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--pg",
        default=os.environ.get("TIDEPOOL_TEST_POSTGRES_URL") or DEFAULT_PG,
        help="PostgreSQL URL (default: $TIDEPOOL_TEST_POSTGRES_URL or a local test database)",
    )
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument("--no-api", action="store_true", help="skip the HTTP servers")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="sqlite",
        choices=["sqlite", "pg"],
        help="only cProfile the service batch path on this database (default sqlite)",
    )
    return parser.parse_args()


def profile(db: Db, payloads: Sequence[Payload]) -> None:
    """cProfile one service batch run (after an unprofiled warm-up run) and print the top."""
    timed_run(db, service_batched, payloads)
    reset(db)
    profiler = cProfile.Profile()
    profiler.runcall(service_batched, db, payloads)
    title = f"service create_many, {len(payloads)} records on {db.label}"
    print(f"--- {title}: top by cumulative time")
    pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("cumulative").print_stats(35)
    print("--- the same, functions of engine/ only (where the engine owner can act)")
    engine_dir = re.escape(str(Path(engine_package.__file__).resolve().parent) + os.sep)
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(engine_dir, 30)
    print("--- the same, top by own time (SQLAlchemy and the driver included)")
    pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("tottime").print_stats(20)


def run_profile(args: argparse.Namespace, folder: Path, payloads: Sequence[Payload]) -> int:
    opened = sqlite_db(folder) if args.profile == "sqlite" else postgres_db(args.pg)
    with opened as db:
        if db is None:
            return 1
        profile(db, payloads)
    return 0


def run(args: argparse.Namespace, folder: Path) -> int:
    sizes = QUICK if args.quick else FULL
    count = max(sizes.batch, sizes.single, sizes.warmup + sizes.reps * sizes.api)
    console.print(f"generating {count} lead payloads (untimed) …")
    payloads = make_payloads(count)
    # The payloads live through every timed run; keep the collector from walking them each time.
    gc.collect()
    gc.freeze()
    if args.profile:
        return run_profile(args, folder, payloads[: sizes.batch])
    results: list[Result] = []
    with sqlite_db(folder) as db:
        results += measure_db(db, payloads, sizes)
    if not args.no_pg:
        with postgres_db(args.pg) as pg:
            if pg is not None:
                results += measure_db(pg, payloads, sizes)
    extra: dict[str, Any] = {"quick": args.quick}
    if not args.no_api:
        api_results, api_extra = measure_api(folder, payloads, sizes)
        results += api_results
        extra.update(api_extra)
    figs = figures(results, extra, sizes)
    render(results, figs)
    failed = (figs.get("api_errors") or 0) + (figs.get("bare_errors") or 0)
    if failed:
        console.print(f"[red]{failed} POSTs were not answered 201: the API figures are invalid")
    print(json.dumps(figs, sort_keys=True), flush=True)
    return 1 if failed else 0


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
