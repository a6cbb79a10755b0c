"""The admin UI's pages (issue 8): milliseconds per page with 100,000 customers in SQLite.

    .venv/bin/python bench/ui.py [--quick] [--rounds N] [--records N] [--pg URL] [--no-pg]

A SQLite file with configs/chaotu-demo active (without its tests) and 100,000 customers loaded
in bulk (bench/_pools_data.py: stored form, scores and grades as the rules compute them; 10% of
them due for recycle_unattended), then one sweep (untimed: 10,000 customers move to the public
pool, each with a decision, so the dashboard and the timelines have something to show) and 100
records of every entity written through the service (engine.service.seed). frank (admin, so
every page is allowed) signs in through the sign-in form; then every page is requested N times
(30; --quick: 10,000 customers, 10 rounds), all pages in turn each round:

  * every GET route of the app under /admin (found in the app's routes, so a page added later is
    measured without touching this file) whose path parameters are known: {entity} = customer,
    {id}/{record_id} = the customer with the most decisions, {number} = the active version;
    QUERIES adds the customer list with a where= filter, the editor of pools.yaml and a diff;
  * left out, and listed: redirects (/admin/ → dashboard), routes with other path parameters,
    a 422 for want of a query, and downloads (the CSV export of every matching record).

Baseline: GET /healthz on the same client, in the same rounds (the app's middleware and the
client's own cost, no page). Requests go through Starlette's TestClient, in process (no
sockets: what is measured is the app, steadier than a live server on a small shared machine).
Any answer but 200 stops the bench.

The walls (issue 16): the pages a list filtered by the viewer's visibility serves — WALL_PAGES:
the customer list, the list with the where= filter, the pool board — for a sales rep (alice:
her own customers and the public pool, about a third of them) and for the admin (frank: every
record, no filter), their requests taking turns in the same rounds; on SQLite (the same
database as above) and on PostgreSQL (the same data loaded, swept and seeded the same way;
only these pages). `walls_ratio_max` is the largest sales ÷ admin ratio of the pages' medians;
target at most 2.

The last line of stdout is one JSON object; `p95_ms_max` (the slowest page's 95th percentile)
has the target 200 ms, `walls_ratio_max` 2.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import fastapi.routing
import sqlalchemy as sa
from _common import bench_parser, pg_engines, sqlite_engines
from _pools_data import DEMO_SOURCE, ENTITY, NOW
from _pools_sweep import StoredBatches, SweepDb, load
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

from engine.api.app import create_app
from engine.clock import FixedClock
from engine.config.loader import load_bundle, read_bundle_dir
from engine.config.model import Bundle
from engine.service import Services
from engine.service.seed import seed
from engine.storage import tables as t

FULL, QUICK = 100_000, 10_000
ROUNDS, QUICK_ROUNDS = 30, 10
WARM_UP = 2  # untimed requests per page first
BUDGET_S, QUICK_BUDGET_S = 180.0, 30.0  # for the timed rounds; at least MIN_ROUNDS run
MIN_ROUNDS = 5
SEEDED_PER_ENTITY = 100  # written through the service, every entity
TARGET_MS = 200.0
TARGET_WALLS = 2.0  # a list filtered by visibility costs at most this many times the unfiltered
TENANT = "chaotu-demo"
USER = "frank"  # admin and manager: may open every page
SALES = "alice"  # a sales rep: her own customers and the public pool
PASSWORD = "bench-password-42"
BASELINE = "/healthz"
WHERE = "budget >= 100000 and region == 'east'"
# Pages asked with these queries ("": without one); {number} is the active version.
QUERIES = {
    "/admin/records/{entity}": ("", f"where={quote(WHERE)}"),
    "/admin/config/files": ("file=pools.yaml",),
    "/admin/config/diff": ("a=1&b={number}",),
}
DOWNLOADS = (".csv",)
WALL_PAGES = {
    "records": "/admin/records/customer",
    "records_where": f"/admin/records/customer?where={quote(WHERE)}",
    "board": "/admin/pools",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

console = Console(width=120, highlight=False)
STARTED = time.perf_counter()


def say(text: str) -> None:
    console.print(f"[{time.perf_counter() - STARTED:6.1f} s] {text}")


def bundle() -> Bundle:
    """chaotu-demo without its tests (activation would run them)."""
    files = {k: v for k, v in read_bundle_dir(DEMO_SOURCE).items() if k != "tests.yaml"}
    return load_bundle(files)


# the data ------------------------------------------------------------------------------------
@dataclass
class Prepared:
    svc: Services
    records: int
    load_s: float
    sweep_s: float
    seed_s: float
    moved: dict[str, int]
    seeded: dict[str, int]
    record_id: str
    decisions: int
    version: int


def prepare(engine: sa.Engine, records: int, stored: StoredBatches | None = None) -> Prepared:
    """The tenant on `engine` with `records` customers (`stored`: batches already made),
    swept once and seeded; frank's and alice's passwords set."""
    active = bundle()
    svc = Services.open(engine=engine, clock=FixedClock(NOW))
    version, _ = svc.install_bundle(active, actor="bench", tests=False)
    db = SweepDb(engine.dialect.name, svc, active.id, version)
    say(f"{db.label}: loading {records:,} customers (untimed) …")
    gc.disable()
    if stored is None:
        stored = StoredBatches(records)
    stored.serialize_all()
    began = time.perf_counter()
    load(db, stored.batches, stored.texts)
    load_s = time.perf_counter() - began
    gc.enable()
    say("one sweep (untimed) …")
    began = time.perf_counter()
    moved = svc.sweep(TENANT)
    sweep_s = time.perf_counter() - began
    say(f"  moved {sum(moved.values()):,}; seeding {SEEDED_PER_ENTITY} records per entity …")
    began = time.perf_counter()
    seeded = seed(svc.records, active, SEEDED_PER_ENTITY, NOW)
    seed_s = time.perf_counter() - began
    for user in (USER, SALES):
        svc.passwords.set(TENANT, user, PASSWORD)
    d = t.decisions.c
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(d.record_id, sa.func.count())
            .where(d.tenant_id == TENANT, d.entity == ENTITY)
            .group_by(d.record_id)
            .order_by(sa.func.count().desc(), d.record_id)
            .limit(1)
        ).first()
        decisions = conn.execute(sa.select(sa.func.count()).select_from(t.decisions)).scalar()
    if found is None:
        raise RuntimeError("no customer has a decision: the sweep and the seed made none")
    return Prepared(
        svc,
        records,
        load_s,
        sweep_s,
        seed_s,
        moved,
        seeded,
        str(found[0]),
        int(decisions or 0),
        version,
    )


# the pages -----------------------------------------------------------------------------------
@dataclass
class Found:
    pages: list[str] = field(default_factory=list)  # paths to measure
    left_out: dict[str, str] = field(default_factory=dict)  # route path: why


def app_routes(app: FastAPI) -> list[tuple[str, frozenset[str]]]:
    """(path, methods) of every route the app serves. Newer FastAPI keeps included routers as
    lazy branches of app.routes; its iter_route_contexts walks them (older ones list all)."""
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    found: list[tuple[str, frozenset[str]]] = []
    for route in walk(app.routes) if walk is not None else app.routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if isinstance(path, str) and methods:
            found.append((path, frozenset(methods)))
    return found


def discover(app: FastAPI, record_id: str, version: int) -> Found:
    """Admin GET routes whose path parameters are known ({entity}, {id}/{record_id},
    {number}), with the queries QUERIES gives some of them."""
    found = Found()
    values = {"entity": ENTITY, "id": record_id, "record_id": record_id, "number": str(version)}
    for path, methods in app_routes(app):
        if not path.startswith("/admin") or "GET" not in methods:
            continue
        if path.endswith(DOWNLOADS):
            found.left_out[path] = "a download of every matching record, not a page"
            continue
        names = set(re.findall(r"{(\w+)(?::\w+)?}", path))
        unknown = names - set(values)
        if unknown:
            found.left_out[path] = f"path parameters {sorted(unknown)}"
            continue
        filled = re.sub(r"{(\w+)(?::\w+)?}", lambda m: quote(values[m.group(1)], safe=""), path)
        for query in QUERIES.get(path, ("",)):
            query = query.format(**values)
            page = f"{filled}?{query}" if query else filled
            if page not in found.pages:
                found.pages.append(page)
    return found


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    if match is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    return match.group(1)


def sign_in(client: TestClient, user: str = USER) -> None:
    token = csrf_of(client.get("/admin/login").text)
    form = {"tenant": TENANT, "user": user, "password": PASSWORD, "csrf_token": token}
    answer = client.post("/admin/login", data=form, follow_redirects=False)
    if answer.status_code != 303:
        raise RuntimeError(f"signing in answered {answer.status_code}: {answer.text[:300]}")


@dataclass
class Sample:
    path: str
    status: int = 0
    size: int = 0
    ms: list[float] = field(default_factory=list)


def get(client: TestClient, path: str) -> tuple[float, int, int]:
    began = time.perf_counter()
    answer = client.get(path, follow_redirects=False)
    elapsed = (time.perf_counter() - began) * 1000
    return elapsed, answer.status_code, len(answer.content)


def check_pages(client: TestClient, found: Found) -> list[str]:
    """Warm up every page; a redirect (such as /admin/ → dashboard) or a 422 for want of a
    query is left out, and a page that answers anything else but 200 stops the bench."""
    kept: list[str] = []
    problems: list[str] = []
    for path in found.pages:
        began = time.perf_counter()
        statuses = {get(client, path)[1] for _ in range(WARM_UP)}
        ms = (time.perf_counter() - began) * 1000 / WARM_UP
        say(f"  {path}: {'/'.join(map(str, sorted(statuses)))}, {ms:.0f} ms")
        if statuses <= {301, 302, 303, 307, 308}:
            found.left_out[path] = f"redirects ({'/'.join(map(str, sorted(statuses)))})"
        elif statuses == {422} and "?" not in path:
            found.left_out[path] = "needs query parameters (422)"
        elif statuses == {200}:
            kept.append(path)
        else:
            problems.append(f"{path}: {sorted(statuses)}")
    if problems:
        raise RuntimeError("pages that do not answer 200: " + "; ".join(problems))
    return kept


def measure(
    client: TestClient, paths: list[str], rounds: int, budget_s: float
) -> dict[str, Sample]:
    """`rounds` turns over every page and the baseline (fewer if the budget runs out)."""
    samples = {path: Sample(path) for path in [BASELINE, *paths]}
    began = time.perf_counter()
    for done in range(rounds):
        if done >= MIN_ROUNDS and time.perf_counter() - began > budget_s:
            say(f"  time budget of {budget_s:.0f} s spent after {done} rounds")
            break
        for sample in samples.values():
            ms, status, size = get(client, sample.path)
            if status != 200:
                raise RuntimeError(f"{sample.path} answered {status} in round {done + 1}")
            sample.ms.append(ms)
            sample.status, sample.size = status, size
        if (done + 1) % 5 == 0:
            say(f"  round {done + 1} of {rounds}")
    return samples


def measure_walls(app: FastAPI, rounds: int, budget_s: float) -> dict[str, dict[str, Sample]]:
    """WALL_PAGES for the admin and the sales rep ({"admin"|"sales": {page: Sample}}): warmed
    up, then `rounds` turns in which each page is asked by one and then the other."""
    with (
        TestClient(app, raise_server_exceptions=False) as admin,
        TestClient(app, raise_server_exceptions=False) as sales,
    ):
        viewers = {"admin": admin, "sales": sales}
        sign_in(admin, USER)
        sign_in(sales, SALES)
        samples = {
            who: {name: Sample(path) for name, path in WALL_PAGES.items()} for who in viewers
        }
        for who, client in viewers.items():
            for name, path in WALL_PAGES.items():
                began = time.perf_counter()
                statuses = {get(client, path)[1] for _ in range(WARM_UP)}
                ms = (time.perf_counter() - began) * 1000 / WARM_UP
                say(f"  {who} {name}: {'/'.join(map(str, sorted(statuses)))}, {ms:.0f} ms")
                if statuses != {200}:
                    raise RuntimeError(f"{path} answered {sorted(statuses)} to {who}")
        began = time.perf_counter()
        for done in range(rounds):
            if done >= MIN_ROUNDS and time.perf_counter() - began > budget_s:
                say(f"  time budget of {budget_s:.0f} s spent after {done} rounds")
                break
            for name, path in WALL_PAGES.items():
                for who, client in viewers.items():
                    ms, status, size = get(client, path)
                    if status != 200:
                        raise RuntimeError(f"{path} answered {status} to {who}")
                    sample = samples[who][name]
                    sample.ms.append(ms)
                    sample.status, sample.size = status, size
            if (done + 1) % 10 == 0:
                say(f"  round {done + 1} of {rounds}")
    return samples


def wall_figures(samples: dict[str, dict[str, Sample]]) -> dict[str, Any]:
    """Per page: both viewers' figures and the sales ÷ admin ratios of median and p95."""
    out: dict[str, Any] = {}
    for name, path in WALL_PAGES.items():
        admin, sales = page_figures(samples["admin"][name]), page_figures(samples["sales"][name])
        out[name] = {
            "path": path,
            "admin": admin,
            "sales": sales,
            "ratio_p50": round(sales["p50_ms"] / admin["p50_ms"], 2),
            "ratio_p95": round(sales["p95_ms"] / admin["p95_ms"], 2),
        }
    return out


def walls_summary(walls: dict[str, dict[str, Any]], skipped: dict[str, str]) -> dict[str, Any]:
    """The walls' figures per database, the largest median ratio and whether it is met."""
    ratios = {
        f"{db} {name}": page["ratio_p50"]
        for db, pages in walls.items()
        for name, page in pages.items()
    }
    worst = max(ratios, key=ratios.__getitem__) if ratios else None
    value = ratios[worst] if worst else None
    return {
        "walls": walls,
        "walls_skipped": skipped,
        "walls_ratio_max": value,
        "walls_worst": worst,
        "walls_users": {"sales": SALES, "admin": USER},
    }


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def page_figures(sample: Sample) -> dict[str, Any]:
    return {
        "p50_ms": round(percentile(sample.ms, 0.50), 2),
        "p95_ms": round(percentile(sample.ms, 0.95), 2),
        "max_ms": round(max(sample.ms), 2),
        "mean_ms": round(statistics.fmean(sample.ms), 2),
        "n": len(sample.ms),
        "status": sample.status,
        "bytes": sample.size,
    }


def figures(
    samples: dict[str, Sample], prep: Prepared, found: Found, extra: dict[str, Any]
) -> dict[str, Any]:
    pages = {p: page_figures(s) for p, s in samples.items() if p != BASELINE}
    base = page_figures(samples[BASELINE])
    slowest = max(pages, key=lambda p: pages[p]["p95_ms"]) if pages else None
    p95_max = pages[slowest]["p95_ms"] if slowest else None
    sign_in = pages.get("/admin/login")
    walls = extra.get("walls_ratio_max")
    out: dict[str, Any] = {
        "p95_ms_max": p95_max,
        "slowest_page": slowest,
        "target_ms": TARGET_MS,
        "targets": {"p95_ms_max": TARGET_MS, "walls_ratio_max": TARGET_WALLS},
        "targets_met": {
            "p95_ms_max": None if p95_max is None else p95_max < TARGET_MS,
            "walls_ratio_max": None if walls is None else walls <= TARGET_WALLS,
        },
        "pages": pages,
        "baseline": {"path": BASELINE, **base},
        "p95_max_vs_baseline": round(p95_max / base["p95_ms"], 1) if p95_max else None,
        "sign_in_p95_ms": sign_in["p95_ms"] if sign_in else None,
        "left_out": found.left_out,
        "records": prep.records,
        "customers": prep.records + prep.seeded.get(ENTITY, 0),
        "seeded_per_entity": prep.seeded,
        "decisions": prep.decisions,
        "swept": prep.moved,
        "record_id": prep.record_id,
        "where": WHERE,
        "load_s": round(prep.load_s, 1),
        "sweep_s": round(prep.sweep_s, 1),
        "seed_s": round(prep.seed_s, 1),
        "client": "starlette TestClient, in process",
        "database": "sqlite",
        "user": USER,
        "now": NOW.isoformat(),
    }
    out.update(extra)
    return out


def render(figs: dict[str, Any]) -> None:
    table = Table(
        title=f"Admin pages, {figs['customers']:,} customers (SQLite), signed in as {USER}"
    )
    for column in ("page", "p50 ms", "p95 ms", "max ms", "n", "KB", "vs baseline p95"):
        table.add_column(column, justify="left" if column == "page" else "right")
    base = figs["baseline"]
    rows = [(p, f) for p, f in figs["pages"].items()]
    for path, f in sorted(rows, key=lambda row: -float(row[1]["p95_ms"])):
        over = f["p95_ms"] >= TARGET_MS
        table.add_row(
            ("[red]" if over else "") + (path if len(path) <= 60 else path[:59] + "…"),
            f"{f['p50_ms']:.1f}",
            f"{f['p95_ms']:.1f}",
            f"{f['max_ms']:.1f}",
            str(f["n"]),
            f"{f['bytes'] / 1024:.1f}",
            f"{f['p95_ms'] / base['p95_ms']:.0f}×",
        )
    table.add_row(
        f"{BASELINE} (baseline)",
        f"{base['p50_ms']:.1f}",
        f"{base['p95_ms']:.1f}",
        f"{base['max_ms']:.1f}",
        str(base["n"]),
        f"{base['bytes'] / 1024:.1f}",
        "1×",
    )
    console.print(table)
    for path, why in figs["left_out"].items():
        console.print(f"  not measured: {path} ({why})")
    value, met = figs["p95_ms_max"], figs["targets_met"]["p95_ms_max"]
    verdict = "no pages" if met is None else "[green]met" if met else "[red]NOT met"
    shown = "–" if value is None else f"{value:.1f} ms ({figs['slowest_page']})"
    console.print(f"  p95_ms_max {shown}  target < {TARGET_MS:g} ms  {verdict}")
    render_walls(figs)


def render_walls(figs: dict[str, Any]) -> None:
    table = Table(title=f"Walls: {SALES} (sales) vs {USER} (admin), the same pages and rounds")
    for column in (
        "database",
        "page",
        "admin p50",
        "sales p50",
        "×",
        "admin p95",
        "sales p95",
        "×",
    ):
        table.add_column(column, justify="left" if column in ("database", "page") else "right")
    for db, pages in figs["walls"].items():
        for name, page in pages.items():
            admin, sales = page["admin"], page["sales"]
            over = page["ratio_p50"] > TARGET_WALLS
            table.add_row(
                db,
                ("[red]" if over else "") + name,
                f"{admin['p50_ms']:.1f}",
                f"{sales['p50_ms']:.1f}",
                f"{page['ratio_p50']:.2f}",
                f"{admin['p95_ms']:.1f}",
                f"{sales['p95_ms']:.1f}",
                f"{page['ratio_p95']:.2f}",
            )
    console.print(table)
    for db, why in figs["walls_skipped"].items():
        console.print(f"  walls not measured on {db}: {why}")
    value, met = figs["walls_ratio_max"], figs["targets_met"]["walls_ratio_max"]
    verdict = "no pages" if met is None else "[green]met" if met else "[red]NOT met"
    shown = "–" if value is None else f"{value:.2f}× ({figs['walls_worst']})"
    console.print(f"  walls_ratio_max {shown}  target ≤ {TARGET_WALLS:g}×  {verdict}")


def run(args: argparse.Namespace, folder: Path) -> int:
    records = args.records or (QUICK if args.quick else FULL)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else ROUNDS)
    budget = QUICK_BUDGET_S if args.quick else BUDGET_S
    say(f"generating {records:,} customers (untimed) …")
    stored = StoredBatches(records)  # made once, loaded into both databases
    walls: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    with sqlite_engines(folder, ["ui"]) as (engine,):
        prep = prepare(engine, records, stored)
        try:
            app = create_app(prep.svc)
            found = discover(app, prep.record_id, prep.version)
            with TestClient(app, raise_server_exceptions=False) as client:
                sign_in(client)
                say(f"warming up {len(found.pages)} pages …")
                paths = check_pages(client, found)
                say(f"measuring {len(paths)} pages and the baseline, {rounds} rounds …")
                samples = measure(client, paths, rounds, budget)
            say(f"sqlite: the walls, {SALES} and {USER}, {rounds} rounds …")
            walls["sqlite"] = wall_figures(measure_walls(app, rounds, budget))
        finally:
            prep.svc.close()
    if args.no_pg:
        skipped["postgresql"] = "--no-pg"
    else:
        with pg_engines(args.pg, ["ui"], lambda text: console.print(f"[yellow]{text}")) as pg:
            if pg is None:
                skipped["postgresql"] = f"not reachable at {args.pg}"
            else:
                pg_prep = prepare(pg[0], records, stored)
                try:
                    say(f"postgresql: the walls, {SALES} and {USER}, {rounds} rounds …")
                    pg_app = create_app(pg_prep.svc)
                    walls["postgresql"] = wall_figures(measure_walls(pg_app, rounds, budget))
                finally:
                    pg_prep.svc.close()
    extra = {
        "quick": args.quick,
        "rounds": min(len(s.ms) for s in samples.values()),
        "rounds_asked": rounds,
        **walls_summary(walls, skipped),
        "seconds_total": round(time.perf_counter() - STARTED, 1),
    }
    figs = figures(samples, prep, found, extra)
    render(figs)
    print(json.dumps(figs, ensure_ascii=False, sort_keys=True), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(
        __doc__, f"{QUICK:,} customers and {QUICK_ROUNDS} rounds instead of {FULL:,} and {ROUNDS}"
    )
    parser.add_argument("--rounds", type=int, help="timed requests per page")
    parser.add_argument("--records", type=int, help="customers loaded in bulk")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tidepool-bench-ui-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
