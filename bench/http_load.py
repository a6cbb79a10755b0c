"""HTTP writes under load: a bare FastAPI route, Tidepool without rules, Tidepool with rules.

    .venv/bin/python bench/http_load.py [--quick] [--pg URL] [--no-pg]

8 client threads post chaotu-demo customers for a fixed time to three servers, each one
uvicorn worker in its own process on its own database: `bare` (bench/_bare.py's route: a JSON
Schema check and one insert), `plain` (Tidepool, chaotu-demo's entities without its pools,
assignment and campaigns) and `rules` (Tidepool, chaotu-demo as it is), on SQLite and
PostgreSQL. (Not `bench/http.py`: a script's folder comes first on sys.path, and a module
named http there would hide the standard library's from every bench and server in bench/.)
What each figure means is in bench/README.md. The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _common import (
    BENCH_DIR,
    STARTED,
    bench_parser,
    console,
    free_port,
    pg_engines,
    say,
    sqlite_url,
)
from _pools_data import DEMO_SOURCE, client_fields, money
from rich.table import Table

from engine.storage import tables as t
from engine.storage.db import make_engine

TENANT = "chaotu-demo"
ENTITY = "customer"  # the entity chaotu-demo's pools, assignment and campaigns act on
PATH = f"/api/v1/{TENANT}/records/{ENTITY}"
SERVERS = ("bare", "plain", "rules")
DATABASES = ("sqlite", "pg")
CLIENTS = 8
TARGETS = {
    "plain_vs_bare_sqlite": 0.8,
    "plain_vs_bare_pg": 0.8,
    "rules_vs_plain_sqlite": 0.5,
    "rules_vs_plain_pg": 0.5,
}
# The bundle's own tests run when it is installed (over 20 s here) and not on a write: left out.
NOT_MEASURED = ("tests.yaml",)
# The plain bundle is chaotu-demo without its rules.
RULE_FILES = ("pools.yaml", "assignment.yaml", "campaigns.yaml")
# Webhooks go to the discard port on loopback (which the engine refuses to call anyway); no
# worker runs in the servers, so the jobs are written and never sent.
DEAD_END = "http://127.0.0.1:9"
_WEBHOOK_URL = re.compile(r"""(\burl:\s*["']?)https?://[^/"'\s]+""")
MAX_RATE = 3000  # writes/s no server reaches here: sizes the bodies made before timing
REQUEST_TIMEOUT = 30.0
STARTUP_DEADLINE = 180.0  # all servers start at once on a small machine: imports, migrations
SEED = 23


@dataclass(frozen=True)
class Sizes:
    seconds: float  # per timed round and server
    rounds: int  # timed rounds, the servers taking turns
    warmup: float  # untimed seconds of load per server first

    @property
    def bodies(self) -> int:
        return int(MAX_RATE * (self.rounds * self.seconds + self.warmup))


FULL = Sizes(seconds=10.0, rounds=3, warmup=2.0)
QUICK = Sizes(seconds=3.0, rounds=1, warmup=1.0)


# bundles and bodies -----------------------------------------------------------------------
def rules_bundle(folder: Path) -> Path:
    """chaotu-demo as it is (without its tests), every webhook URL pointed at DEAD_END."""
    target = folder / "rules" / TENANT
    shutil.copytree(DEMO_SOURCE, target, ignore=shutil.ignore_patterns(*NOT_MEASURED))
    for path in target.glob("*.yaml"):
        text = _WEBHOOK_URL.sub(rf"\g<1>{DEAD_END}", path.read_text(encoding="utf-8"))
        if re.search(r"""\burl:\s*["']?https?://(?!127\.0\.0\.1:9/)""", text):
            raise RuntimeError(f"{path.name}: a URL the bench does not redirect")
        path.write_text(text, encoding="utf-8")
    return target


def plain_bundle(folder: Path) -> Path:
    """chaotu-demo's tenant and entities (fields, validation, forms, views), no rules."""
    target = folder / "plain" / TENANT
    shutil.copytree(DEMO_SOURCE, target, ignore=shutil.ignore_patterns(*RULE_FILES, *NOT_MEASURED))
    return target


def make_bodies(count: int) -> list[bytes]:
    """`count` customers as JSON bodies, distinct phones (the unique field), in their stored
    form; 80% with a budget, so need_confirmed, scores and the key account rule all fire."""
    rand = random.Random(SEED).random
    bodies = []
    for i in range(count):
        data = client_fields(i, rand, has_need=False)
        if rand() < 0.8:
            data["budget"] = money(int(rand() * 100_000_000))
        bodies.append(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
    return bodies


# load -------------------------------------------------------------------------------------
@dataclass
class Run:
    """One server's share of a round: every request's status and seconds."""

    seconds: float  # first request sent to last answer
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    ran_out: bool = False

    @property
    def created(self) -> int:
        return self.statuses[201]

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 201)

    @property
    def per_s(self) -> float:
        return self.created / self.seconds if self.seconds > 0 else 0.0


class Target:
    """A running server: where to post, with which headers, and its next unsent body."""

    def __init__(self, port: int, headers: dict[str, str], bodies: Sequence[bytes]) -> None:
        self.host, self.port = "127.0.0.1", port
        self.headers = {"Content-Type": "application/json", **headers}
        self.bodies = bodies
        # next() of a range iterator is atomic under the GIL: each body is sent once
        self.cursor = iter(range(len(bodies)))


def load(target: Target, seconds: float) -> Run:
    """CLIENTS threads post for `seconds`, each on its own keep-alive connection. The stdlib
    client, as it costs the least CPU: the load shares the machine's cores with the server."""
    clock = time.perf_counter
    barrier = threading.Barrier(CLIENTS + 1)
    deadline = [0.0]
    parts = [Run(0.0) for _ in range(CLIENTS)]

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(target.host, target.port, timeout=REQUEST_TIMEOUT)

    def client(part: Run) -> None:
        conn = connect()
        barrier.wait()
        while clock() < deadline[0]:
            index = next(target.cursor, None)
            if index is None:
                part.ran_out = True
                break
            began = clock()
            try:
                conn.request("POST", PATH, target.bodies[index], target.headers)
                answer = conn.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                status = -1  # no answer: counted as an error, on a new connection
                conn.close()
                conn = connect()
            part.latencies.append(clock() - began)
            part.statuses[status] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(part,)) for part in parts]
    for thread in threads:
        thread.start()
    deadline[0] = clock() + seconds
    barrier.wait()
    start = clock()
    for thread in threads:
        thread.join()
    run = Run(clock() - start)
    for part in parts:
        run.statuses.update(part.statuses)
        run.latencies += part.latencies
        run.ran_out |= part.ran_out
    return run


def percentile_ms(latencies: Sequence[float], share: float) -> float | None:
    """Nearest rank."""
    if not latencies:
        return None
    ordered = sorted(latencies)
    return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)


# one database -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Database:
    """Where each server keeps its records, and the bench's own engine on each (checks)."""

    label: str  # "sqlite" or "pg"
    urls: dict[str, str]
    schemas: dict[str, str | None]  # PostgreSQL: the server's schema
    engines: dict[str, sa.Engine]


@contextlib.contextmanager
def sqlite_database(folder: Path) -> Iterator[Database]:
    """A fresh file per server."""
    urls = {name: sqlite_url(folder / f"{name}.db") for name in SERVERS}
    engines = {name: make_engine(url) for name, url in urls.items()}
    try:
        yield Database("sqlite", urls, dict.fromkeys(SERVERS), engines)
    finally:
        for engine in engines.values():
            engine.dispose()


@contextlib.contextmanager
def pg_database(url: str, note: list[str]) -> Iterator[Database | None]:
    """A fresh schema per server, dropped at the end; None when PostgreSQL is unusable."""
    with pg_engines(url, SERVERS, note.append) as engines:
        if engines is None:
            yield None
            return
        by_name = dict(zip(SERVERS, engines, strict=True))
        schemas: dict[str, str | None] = {}
        for name, engine in by_name.items():
            with engine.connect() as conn:
                schemas[name] = str(conn.exec_driver_sql("SELECT current_schema()").scalar_one())
        yield Database("pg", dict.fromkeys(SERVERS, url), schemas, by_name)


@dataclass
class DbResult:
    label: str
    warmup: dict[str, Run]
    rounds: dict[str, list[Run]]
    checks: dict[str, Any] = field(default_factory=dict)
    served: dict[str, Any] = field(default_factory=dict)

    def best(self, name: str) -> Run:
        return max(self.rounds[name], key=lambda run: run.per_s)

    def timed_latencies(self, name: str) -> list[float]:
        return [s for run in self.rounds[name] for s in run.latencies]

    def errors(self, name: str) -> int:
        return sum(run.errors for run in [self.warmup[name], *self.rounds[name]])


def log_file(folder: Path, db: Database, name: str) -> Path:
    return folder / f"{db.label}-{name}.log"


def server_args(db: Database, name: str, bundles: dict[str, Path], key_file: Path) -> list[str]:
    args = ["bare" if name == "bare" else "tidepool", "--url", db.urls[name]]
    if (schema := db.schemas[name]) is not None:
        args += ["--schema", schema]
    if name != "bare":
        args += ["--bundle", str(bundles[name]), "--key-file", str(key_file)]
    return args


def _answers(base: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200
    return False


def wait_ready(proc: subprocess.Popen[bytes], base: str, log: Path, deadline: float) -> None:
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{log.name}: server exited with {proc.returncode}:\n{tail(log)}")
        if _answers(base):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{log.name}: server not ready after {STARTUP_DEADLINE:g} s:\n{tail(log)}")


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to all (each then prints its counts), SIGKILL to any that does not stop."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def start_servers(
    stack: contextlib.ExitStack,
    databases: Sequence[Database],
    bundles: dict[str, Path],
    bodies: Sequence[bytes],
    folder: Path,
) -> dict[str, dict[str, Target]]:
    """Every server of every database, started at once so their imports and installs overlap
    (an idle one costs nothing); stopped when `stack` closes. Per database and server."""
    started = []
    procs: list[subprocess.Popen[bytes]] = []
    stack.callback(stop, procs)
    for db in databases:
        for name in SERVERS:
            port, log = free_port(), log_file(folder, db, name)
            key_file = folder / f"{db.label}-{name}.key"
            command = [sys.executable, str(BENCH_DIR / "_http_serve.py"), "--port", str(port)]
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [*command, *server_args(db, name, bundles, key_file)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            procs.append(proc)
            started.append((db.label, name, proc, port, key_file, log))
    targets: dict[str, dict[str, Target]] = {db.label: {} for db in databases}
    deadline = time.perf_counter() + STARTUP_DEADLINE
    for label, name, proc, port, key_file, log in started:
        base = f"http://127.0.0.1:{port}"
        wait_ready(proc, base, log, deadline)
        key = {} if name == "bare" else {"Authorization": f"Bearer {key_file.read_text()}"}
        targets[label][name] = Target(port, key, bodies)
    return targets


def measure(label: str, targets: dict[str, Target], sizes: Sizes) -> DbResult:
    """Warm each server up, then rounds in which the servers take turns (who goes first
    rotating), so a slow spell of the machine hits all three alike."""
    say(f"{label}: warming up, {sizes.warmup:g} s per server …")
    result = DbResult(label, {name: load(targets[name], sizes.warmup) for name in SERVERS}, {})
    result.rounds = {name: [] for name in SERVERS}
    for number in range(sizes.rounds):
        order = SERVERS[number % 3 :] + SERVERS[: number % 3]
        say(f"{label}: round {number + 1} of {sizes.rounds}: {', '.join(order)}")
        for name in order:
            result.rounds[name].append(load(targets[name], sizes.seconds))
    return result


def last_json(log: Path) -> Any:
    """The server's own count of what it served: the last line of its log."""
    lines = log.read_text(errors="replace").strip().splitlines()
    with contextlib.suppress(IndexError, ValueError):
        return json.loads(lines[-1])
    return None


def _count(conn: sa.Connection, table: sa.Table, *where: Any) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(*where)
    return int(conn.execute(query).scalar_one())


def _by(conn: sa.Connection, column: sa.Column[Any]) -> dict[str, int]:
    rows = conn.execute(sa.select(column, sa.func.count()).group_by(column))
    return {str(key): int(n) for key, n in rows}


def check(db: Database, result: DbResult) -> dict[str, Any]:
    """What each database holds after the servers stopped."""
    out: dict[str, Any] = {}
    for name in SERVERS:
        answered = result.warmup[name].created + sum(r.created for r in result.rounds[name])
        figures: dict[str, Any] = {"answered_201": answered}
        with db.engines[name].connect() as conn:
            if name == "bare":
                figures["customers"] = _count(conn, t.records)
            else:
                by_entity = _by(conn, t.records.c.entity)
                figures["customers"] = by_entity.pop(ENTITY, 0)
                figures["other_records"] = by_entity
                figures["decisions"] = _by(conn, t.decisions.c.kind)
                figures["firings"] = _by(conn, t.campaign_firings.c.campaign)
                figures["jobs"] = _by(conn, t.jobs.c.kind)
                figures["jobs_tried"] = _count(conn, t.jobs, t.jobs.c.attempts > 0)
        out[name] = figures
    return out


def problems_of(result: DbResult) -> list[str]:
    """Failed checks: a customer answered 201 and not stored (or stored twice), a server
    that ran out of bodies, a job someone tried to send, rules on the plain path, none on
    the rules path."""
    found = []
    where = result.label
    for name in SERVERS:
        c = result.checks[name]
        if c["customers"] != c["answered_201"]:
            found.append(f"{where} {name}: {c['customers']} stored, {c['answered_201']} created")
        if any(run.ran_out for run in [result.warmup[name], *result.rounds[name]]):
            found.append(f"{where} {name}: ran out of bodies (raise MAX_RATE)")
        if c.get("jobs_tried"):
            found.append(f"{where} {name}: {c['jobs_tried']} jobs were tried (sent out)")
    plain, rules = result.checks["plain"], result.checks["rules"]
    if plain["decisions"] or plain["firings"] or plain["jobs"]:
        found.append(f"{where} plain: rules ran ({plain['decisions']}, {plain['firings']})")
    if not rules["decisions"]:
        found.append(f"{where} rules: no decision recorded, the rules did not run")
    return found


# figures and output -----------------------------------------------------------------------
def server_figures(result: DbResult, name: str) -> dict[str, Any]:
    best, timed = result.best(name), result.timed_latencies(name)
    statuses: Counter[int] = Counter()
    for run in [result.warmup[name], *result.rounds[name]]:
        statuses.update(run.statuses)
    return {
        "writes_per_s": round(best.per_s, 1),
        "rounds_per_s": [round(run.per_s, 1) for run in result.rounds[name]],
        "p50_ms": percentile_ms(timed, 0.50),
        "p95_ms": percentile_ms(timed, 0.95),
        "requests": len(timed),
        "errors": result.errors(name),
        "statuses": {str(s): n for s, n in sorted(statuses.items())},
        "warmup_per_s": round(result.warmup[name].per_s, 1),
    }


def db_figures(result: DbResult) -> dict[str, Any]:
    out: dict[str, Any] = {name: server_figures(result, name) for name in SERVERS}
    rate = {name: out[name]["writes_per_s"] for name in SERVERS}
    out["plain_vs_bare"] = round(rate["plain"] / rate["bare"], 3) if rate["bare"] else None
    out["rules_vs_plain"] = round(rate["rules"] / rate["plain"], 3) if rate["plain"] else None
    out["checks"] = result.checks
    out["served"] = result.served
    return out


def figures(
    results: dict[str, DbResult], sizes: Sizes, problems: list[str], extra: dict[str, Any]
) -> dict[str, Any]:
    per_db = {db: db_figures(results[db]) if db in results else None for db in DATABASES}
    out: dict[str, Any] = {}
    for ratio in ("plain_vs_bare", "rules_vs_plain"):
        values = {db: f[ratio] for db, f in per_db.items() if f is not None}
        for db in DATABASES:
            out[f"{ratio}_{db}"] = values.get(db)
        ran = [v for v in values.values() if v is not None]
        out[ratio] = min(ran) if ran else None
    for db, f in per_db.items():
        for name in SERVERS:
            for key in ("writes_per_s", "p50_ms", "p95_ms"):
                out[f"{name}_{key}_{db}"] = f[name][key] if f else None
    out["errors"] = sum(f[name]["errors"] for f in per_db.values() if f for name in SERVERS)
    out["targets"] = {name: f">= {bound:g}" for name, bound in TARGETS.items()}
    out["targets_met"] = {
        name: None if out[name] is None else out[name] >= bound for name, bound in TARGETS.items()
    }
    out["problems"] = problems
    out["sqlite"], out["postgresql"] = per_db["sqlite"], per_db["pg"]
    out["sizes"] = {**asdict(sizes), "clients": CLIENTS, "bodies": sizes.bodies}
    out.update(extra)
    return out


def render(figs: dict[str, Any]) -> None:
    rounds = figs["sizes"]["rounds"]
    table = Table(
        title=f"HTTP writes, {CLIENTS} clients, {figs['sizes']['seconds']:g} s per round: "
        f"best of {rounds} round{'s' if rounds > 1 else ''} (latency: every timed request)"
    )
    for column in ("server", "db", "writes/s", "each round", "p50 ms", "p95 ms", "errors", "vs"):
        table.add_column(column, justify="left" if column in ("server", "db") else "right")
    labels = {
        "bare": "bare FastAPI + jsonschema + insert",
        "plain": "Tidepool, no rules",
        "rules": "Tidepool, chaotu-demo's rules",
    }
    versus = {"plain": ("bare", "plain_vs_bare"), "rules": ("plain", "rules_vs_plain")}
    for db, key in (("sqlite", "sqlite"), ("pg", "postgresql")):
        f = figs[key]
        if f is None:
            continue
        for name in SERVERS:
            s = f[name]
            ratio = "baseline"
            if name in versus:
                other, ratio_key = versus[name]
                ratio = f"{f[ratio_key]:.2f} × {other}"
            table.add_row(
                labels[name],
                db,
                f"{s['writes_per_s']:,.0f}",
                " ".join(f"{r:,.0f}" for r in s["rounds_per_s"]),
                f"{s['p50_ms']:.1f}",
                f"{s['p95_ms']:.1f}",
                str(s["errors"]),
                ratio,
            )
        table.add_section()
    console.print(table)
    for key in ("sqlite", "postgresql"):
        if figs[key] is not None:
            rules = figs[key]["checks"]["rules"]
            console.print(
                f"  {key} rules path wrote: {json.dumps(rules, ensure_ascii=False, sort_keys=True)}"
            )
    for name, bound in TARGETS.items():
        value, met = figs[name], figs["targets_met"][name]
        verdict = "skipped" if met is None else "[green]met" if met else "[red]NOT met"
        shown = "–" if value is None else f"{value:.3f}"
        console.print(f"  {name:<22} {shown:>6}  target ≥ {bound:g}  {verdict}")
    if figs["errors"]:
        console.print(f"[red]{figs['errors']} POSTs were not answered 201: the figures are invalid")
    for problem in figs["problems"]:
        console.print(f"  [red]problem: {problem}")


# entry points -----------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = bench_parser(__doc__, f"{QUICK.seconds:g} s per server, 1 round: under a minute")
    return parser.parse_args(argv)


@contextlib.contextmanager
def databases(
    args: argparse.Namespace, folder: Path, skipped: dict[str, str]
) -> Iterator[list[Database]]:
    """SQLite, and PostgreSQL unless skipped (`skipped` says why)."""
    with contextlib.ExitStack() as stack:
        out = [stack.enter_context(sqlite_database(folder))]
        if args.no_pg:
            skipped["postgresql"] = "--no-pg"
        else:
            notes: list[str] = []
            pg = stack.enter_context(pg_database(args.pg, notes))
            if pg is None:
                skipped["postgresql"] = " ".join(notes)
                console.print(f"[yellow]{skipped['postgresql']}")
            else:
                out.append(pg)
        yield out


def run(args: argparse.Namespace, folder: Path) -> int:
    sizes = QUICK if args.quick else FULL
    say(f"generating {sizes.bodies:,} customers (untimed) …")
    bodies = make_bodies(sizes.bodies)
    gc.collect()
    gc.freeze()  # the bodies live through every round: keep the collector from walking them
    bundles = {"plain": plain_bundle(folder), "rules": rules_bundle(folder)}
    results: dict[str, DbResult] = {}
    skipped: dict[str, str] = {}
    with databases(args, folder, skipped) as dbs:
        with contextlib.ExitStack() as running:
            say(f"starting {len(dbs) * len(SERVERS)} servers …")
            targets = start_servers(running, dbs, bundles, bodies, folder)
            for db in dbs:
                results[db.label] = measure(db.label, targets[db.label], sizes)
        for db in dbs:  # the servers stopped: their own counts are in their logs
            result = results[db.label]
            result.served = {name: last_json(log_file(folder, db, name)) for name in SERVERS}
            result.checks = check(db, result)
    problems = [p for result in results.values() for p in problems_of(result)]
    extra = {
        "quick": args.quick,
        "skipped": skipped,
        "seconds_total": round(time.perf_counter() - STARTED, 1),
    }
    figs = figures(results, sizes, problems, extra)
    render(figs)
    print(json.dumps(figs, sort_keys=True, ensure_ascii=False), flush=True)
    return 1 if figs["errors"] or problems else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
