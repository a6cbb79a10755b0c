"""Public forms (issue 9): a visitor's submission through the hosted page, next to a plain API
create of the same customer.

    .venv/bin/python bench/forms.py [--quick] [--pg URL] [--no-pg]

On SQLite and PostgreSQL, a tenant with configs/chaotu-demo active (pools, scores, grades,
assignment, campaigns; not its tests), its qr_signup form's limits raised so the bench is
never refused. N distinct customers (1,000; --quick 200) per path, through Starlette's
TestClient in process (what is measured is the app, not sockets):

  * api (baseline): POST /api/v1/chaotu-demo/records/customer, JSON, an integration key;
  * hosted: POST /f/chaotu-demo/qr_signup?source=qr_scan&activity=bench, form-encoded as a
    browser sends it (303 to the thank-you page, not followed): the rate-limit counts, the
    honeypot, the form's conditional logic, the duplicate window's claim, the record with all
    its rules and the submissions log row;
  * hosted, busy log: the same after 100,000 earlier submissions (10,000 with --quick) from
    2,000 addresses within the window (N/4 submissions) — the worst case: the bench's
    per_form limit is so high that every logged row is counted (with a real limit the count
    stops at the limit); the counts read the log's indexes alone;
  * duplicate: N/4 phones of the hosted path again, in the busy log — no record, the
    earlier one answered.

Checked: one customer per created submission and none for a duplicate. The last line of stdout
is one JSON object with every figure and the ratios to the baseline.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import _common
import sqlalchemy as sa
from _common import pg_engines, sqlite_engines
from _pools_data import DEMO_SOURCE
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

from engine.api.app import create_app
from engine.config.loader import load_bundle, read_bundle_dir
from engine.service import Services
from engine.storage import tables as t

TENANT, FORM, ENTITY = "chaotu-demo", "qr_signup", "customer"
FULL, QUICK = 1_000, 200
LOG_FULL, LOG_QUICK = 100_000, 10_000
ADDRESSES = 2_000
LIMITS_OLD = "limits: {per_ip: 60, per_form: 5000, window_minutes: 60}"
LIMITS_NEW = "limits: {per_ip: 100000, per_form: 10000000, window_minutes: 60}"
PATHS = ("api", "hosted", "hosted_busy_log", "duplicate")

console = Console(stderr=True)


def say(text: str) -> None:
    console.print(text)


def install(svc: Services) -> None:
    files = {k: v for k, v in read_bundle_dir(DEMO_SOURCE).items() if k != "tests.yaml"}
    if LIMITS_OLD not in files["entities.yaml"]:
        raise RuntimeError(f"qr_signup's limits changed: update LIMITS_OLD ({LIMITS_OLD})")
    files["entities.yaml"] = files["entities.yaml"].replace(LIMITS_OLD, LIMITS_NEW)
    svc.install_bundle(load_bundle(files, str(DEMO_SOURCE)), actor="bench", tests=False)


def visitor(i: int, prefix: str) -> dict[str, str]:
    industry = "manufacturing" if i % 3 == 0 else "retail"
    data = {"name": f"访客{prefix}{i}", "phone": f"139{prefix}{i:07d}", "industry": industry}
    if industry == "manufacturing":
        data["company_size"] = str(20 + i % 500)
    return data


def timed(calls: Iterator[Callable[[], int]], expected: int) -> list[float]:
    ms = []
    for call in calls:
        started = time.perf_counter()
        status = call()
        ms.append((time.perf_counter() - started) * 1000)
        if status != expected:
            raise RuntimeError(f"answered {status}, expected {expected}")
    return ms


def api_calls(client: TestClient, key: str, n: int, prefix: str) -> Iterator[Callable[[], int]]:
    headers = {"Authorization": f"Bearer {key}"}
    url = f"/api/v1/{TENANT}/records/{ENTITY}"
    for i in range(n):
        body = {**visitor(i, prefix), "source": "qr_scan", "activity": "bench"}
        yield lambda body=body: client.post(url, json=body, headers=headers).status_code


def hosted_calls(client: TestClient, n: int, prefix: str) -> Iterator[Callable[[], int]]:
    url = f"/f/{TENANT}/{FORM}?source=qr_scan&activity=bench"
    for i in range(n):
        form = visitor(i, prefix)
        yield lambda form=form: client.post(url, data=form, follow_redirects=False).status_code


def fill_log(svc: Services, rows: int) -> float:
    """`rows` earlier submissions within the window, from ADDRESSES addresses (untimed)."""
    started, now, rng = time.perf_counter(), svc.clock.now(), random.Random(7)
    clients = [svc.forms.client(f"198.51.{i // 250}.{i % 250}") for i in range(ADDRESSES)]
    batch = [
        {
            "tenant_id": TENANT,
            "form": FORM,
            "at": now - timedelta(seconds=rng.randrange(60, 3000)),
            "outcome": "created",
            "channel": {"source": "qr_scan"},
            "client": clients[i % ADDRESSES],
            "record_id": None,
        }
        for i in range(rows)
    ]
    with svc.store.write() as tx:
        for start in range(0, rows, 5_000):
            tx.conn.execute(t.form_submissions.insert(), batch[start : start + 5_000])
    engine = svc.store.engine
    if engine.dialect.name == "postgresql":  # what autovacuum does after a bulk insert
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE form_submissions")
    return time.perf_counter() - started


def customers(svc: Services) -> int:
    r = t.records.c
    query = sa.select(sa.func.count()).where(r.tenant_id == TENANT, r.entity == ENTITY)
    with svc.store.read() as tx:
        return int(tx.conn.execute(query).scalar_one())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def stats(ms: list[float]) -> dict[str, Any]:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 0.5), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "per_s": round(1000 * len(ms) / sum(ms), 1),
    }


def run_database(engine: sa.Engine, n: int, log_rows: int) -> dict[str, Any]:
    svc = Services.open(engine=engine)
    try:
        install(svc)
        key = svc.keys.create(TENANT)
        with TestClient(create_app(svc)) as client:
            timed(api_calls(client, key, 20, "8"), 201)  # warm both paths up (not counted)
            timed(hosted_calls(client, 20, "9"), 303)
            before = customers(svc)
            samples = {
                "api": timed(api_calls(client, key, n, "1"), 201),
                "hosted": timed(hosted_calls(client, n, "2"), 303),
            }
            made = customers(svc) - before
            fill_s = fill_log(svc, log_rows)
            busy = max(50, n // 4)  # the slow paths: fewer, so the bench ends within 5 minutes
            samples["hosted_busy_log"] = timed(hosted_calls(client, busy, "3"), 303)
            samples["duplicate"] = timed(hosted_calls(client, busy, "2"), 303)
            after = customers(svc) - before
    finally:
        svc.close()
    if made != 2 * n or after != 2 * n + busy:
        raise RuntimeError(f"expected {2 * n} then {2 * n + busy} customers, got {made}, {after}")
    out = {path: stats(ms) for path, ms in samples.items()}
    base = out["api"]["p50_ms"]
    out["ratios_p50_vs_api"] = {p: round(out[p]["p50_ms"] / base, 2) for p in PATHS[1:]}
    out["busy_log_vs_hosted_p95"] = round(
        out["hosted_busy_log"]["p95_ms"] / out["hosted"]["p95_ms"], 2
    )
    out["log_rows"], out["fill_log_s"] = log_rows, round(fill_s, 1)
    return out


def render(figs: dict[str, Any]) -> None:
    for db, res in figs["databases"].items():
        if res is None or "error" in res:
            continue
        table = Table(title=f"Form submissions, {figs['n']:,} per path ({db})")
        for column in ("path", "p50 ms", "p95 ms", "mean ms", "per s", "p50 vs api"):
            table.add_column(column, justify="left" if column == "path" else "right")
        for path in PATHS:
            f = res[path]
            ratio = res["ratios_p50_vs_api"].get(path, 1.0)
            name = (
                f"busy log ({res['log_rows'] // 1000}k rows)" if path == "hosted_busy_log" else path
            )
            table.add_row(
                name,
                f"{f['p50_ms']:.2f}",
                f"{f['p95_ms']:.2f}",
                f"{f['mean_ms']:.2f}",
                f"{f['per_s']:.0f}",
                f"{ratio:.2f}×",
            )
        console.print(table)


@contextmanager
def databases(folder: Path, pg: str | None) -> Iterator[dict[str, sa.Engine | None]]:
    with sqlite_engines(folder, ["forms"]) as (lite,):
        if pg is None:
            yield {"sqlite": lite, "postgresql": None}
            return
        with pg_engines(pg, ["forms"], say) as found:
            yield {"sqlite": lite, "postgresql": found[0] if found else None}


def main(argv: list[str] | None = None) -> int:
    parser = _common.bench_parser(__doc__, f"{QUICK} submissions per path, {LOG_QUICK:,} logged")
    args = parser.parse_args(argv)
    n = QUICK if args.quick else FULL
    log_rows = LOG_QUICK if args.quick else LOG_FULL
    started = time.perf_counter()
    results: dict[str, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="tidepool-bench-forms-") as tmp,
        databases(Path(tmp), None if args.no_pg else args.pg) as engines,
    ):
        for db, engine in engines.items():
            if engine is None:
                results[db] = None
                continue
            say(f"{db}: {n:,} submissions per path …")
            try:
                results[db] = run_database(engine, n, log_rows)
            except RuntimeError as exc:  # a wrong answer or count: reported, not hidden
                say(f"[red]{db}: {exc}")
                results[db] = {"error": str(exc)}
    figs = {
        "n": n,
        "quick": args.quick,
        "databases": results,
        "client": "starlette TestClient, in process",
        "seconds_total": round(time.perf_counter() - started, 1),
    }
    render(figs)
    print(json.dumps(figs, ensure_ascii=False, sort_keys=True), flush=True)
    return 1 if any(r and "error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
