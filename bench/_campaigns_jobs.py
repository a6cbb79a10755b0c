"""The jobs half of bench/campaigns.py: webhook jobs made by a campaign, delivered by the
worker to a local receiver (bench/_campaigns_receiver.py), next to the same signed POSTs sent
straight from a client (the baseline), and checked: every job done, every key received once.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _campaigns_data import ACTOR, ENTITY, NOW, SIGNUP_HOOK, TENANT
from _campaigns_receiver import SECRET_ENV

from engine.service import Services
from engine.service.webhooks import Webhooks, sign
from engine.storage import tables as t

BENCH_DIR = Path(__file__).resolve().parent
BATCH = 50  # jobs a worker claims at a time
CREATE_BATCH = 500  # customers per create_many when making jobs


@dataclass(frozen=True)
class Config:
    label: str
    workers: int  # worker threads (each its own Worker, sharing the Services' engine)


CONFIGS = (Config("1 worker", 1), Config("2 workers (threads)", 2))


# the receiver ----------------------------------------------------------------------------------
class Receiver:
    """bench/_campaigns_receiver.py in a subprocess, with the tenant's signing secret."""

    def __init__(self, port: int, secret: str) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        env = {**os.environ, SECRET_ENV: secret}
        script = str(BENCH_DIR / "_campaigns_receiver.py")
        self.process = subprocess.Popen(
            [sys.executable, script, str(port)], env=env, stdout=subprocess.PIPE, text=True
        )
        self.client = httpx.Client(timeout=10)
        self._wait_ready()

    def _wait_ready(self, seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the webhook receiver stopped (status {self.process.returncode})"
                )
            with contextlib.suppress(httpx.TransportError):
                self.client.get(self.base + "/_stats")
                return
            time.sleep(0.05)
        raise RuntimeError(f"the webhook receiver did not answer on port {self.port}")

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.get(self.base + "/_stats").json()
        return answer

    def reset(self) -> None:
        self.client.post(self.base + "/_reset")

    def stop(self) -> dict[str, Any]:
        """Stop it; what it printed last (its totals)."""
        self.client.close()
        self.process.terminate()
        out, _ = self.process.communicate(timeout=10)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}


@contextlib.contextmanager
def receiver(port: int, secret: str) -> Iterator[Receiver]:
    running = Receiver(port, secret)
    try:
        yield running
    finally:
        running.stop()


# making jobs -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pending:
    """The webhook jobs due now, as the worker will find them."""

    ids: list[int]
    keys: list[str]
    payloads: list[dict[str, Any]]
    firings: set[int]


def pending_webhooks(svc: Services) -> Pending:
    c = t.jobs.c
    query = (
        sa.select(c.id, c.key, c.payload, c.firing_id)
        .where(c.tenant_id == TENANT, c.kind == "webhook", c.status == "pending")
        .order_by(c.id)
    )
    with svc.store.read() as tx:
        rows = list(tx.conn.execute(query))
    firings = {int(r.firing_id) for r in rows if r.firing_id is not None}
    return Pending([r.id for r in rows], [r.key for r in rows], [r.payload for r in rows], firings)


def make_jobs(svc: Services, customers: Sequence[dict[str, Any]]) -> Pending:
    """Create customers that fire SIGNUP_HOOK (create_many, untimed): one webhook job each,
    written in the creates' transactions (the outbox)."""
    for start in range(0, len(customers), CREATE_BATCH):
        chunk = list(customers[start : start + CREATE_BATCH])
        result = svc.records.create_many(TENANT, ENTITY, chunk, actor=ACTOR).result
        refused = [r for r in result["results"] if r["status"] != 201]
        if refused:
            raise RuntimeError(f"{len(refused)} customers refused, first: {refused[0]}")
    return pending_webhooks(svc)


# delivering ------------------------------------------------------------------------------------
@dataclass
class Drain:
    seconds: float
    attempted: list[int]  # per worker


def drain(svc: Services, workers: int, batch: int = BATCH) -> Drain:
    """Each worker in its own thread runs `run_once()` until it finds nothing to claim.
    The clock is fixed, so a failed attempt's retry is never due: it stays pending."""
    made = [svc.worker(worker_id=f"bench-{i}", batch=batch) for i in range(workers)]
    start = threading.Barrier(workers + 1)
    attempted = [0] * workers
    errors: list[BaseException] = []

    def loop(index: int) -> None:
        start.wait()
        try:
            while ran := made[index].run_once():
                attempted[index] += ran
        except BaseException as exc:  # reported after the join
            errors.append(exc)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"a worker failed: {errors[0]!r}") from errors[0]
    return Drain(seconds, attempted)


def direct(url_base: str, secret: str, pending: Pending, threads: int) -> tuple[float, int]:
    """The baseline: the same bodies, signed and POSTed to the same receiver by `threads`
    httpx clients, no database. Seconds, and answers other than 200."""
    stamp = str(int(NOW.timestamp()))  # the worker's clock is fixed at NOW: the same header
    requests = []
    for key, payload in zip(pending.keys, pending.payloads, strict=True):
        body = json.dumps(payload.get("body"), ensure_ascii=False, separators=(",", ":")).encode()
        path = httpx.URL(payload["url"]).path
        requests.append((url_base + path, f"direct:{key}", body))
    clients = [httpx.Client(follow_redirects=False) for _ in range(threads)]
    failed = [0] * threads
    start = threading.Barrier(threads + 1)

    def post(index: int) -> None:
        client = clients[index]
        start.wait()
        for url, key, body in requests[index::threads]:
            headers = {
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                "X-Tidepool-Tenant": TENANT,
                "X-Tidepool-Timestamp": stamp,
                "X-Tidepool-Signature": sign(secret, stamp, body),
            }
            if client.post(url, content=body, headers=headers, timeout=10).status_code != 200:
                failed[index] += 1

    workers = [threading.Thread(target=post, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - began
    for client in clients:
        client.close()
    return seconds, sum(failed)


# checks ----------------------------------------------------------------------------------------
def job_statuses(svc: Services, ids: Sequence[int]) -> dict[str, int]:
    c = t.jobs.c
    counts: Counter[str] = Counter()
    with svc.store.read() as tx:
        for start in range(0, len(ids), 1000):
            chunk = list(ids[start : start + 1000])
            query = sa.select(c.status, sa.func.count()).where(c.id.in_(chunk)).group_by(c.status)
            counts.update({str(s): int(n) for s, n in tx.conn.execute(query)})
    return dict(counts)


def firing_statuses(svc: Services, ids: set[int]) -> dict[str, int]:
    f = t.campaign_firings.c
    counts: Counter[str] = Counter()
    ordered = sorted(ids)
    with svc.store.read() as tx:
        for start in range(0, len(ordered), 1000):
            chunk = ordered[start : start + 1000]
            query = sa.select(f.status, sa.func.count()).where(f.id.in_(chunk)).group_by(f.status)
            counts.update({str(s): int(n) for s, n in tx.conn.execute(query)})
    return dict(counts)


def received(stats: dict[str, Any], expected: Sequence[str]) -> dict[str, int]:
    """Keys the receiver got against the keys it should have got, once each."""
    keys: dict[str, int] = stats["keys"]
    wanted = set(expected)
    return {
        "requests": int(stats["requests"]),
        "lost": sum(1 for k in wanted if k not in keys),
        "duplicates": sum(n - 1 for k, n in keys.items() if n > 1),
        "unexpected": sum(n for k, n in keys.items() if k not in wanted),
        "bad_signature": int(stats["bad_signature"]) + int(stats["no_key"]),
    }


@dataclass
class JobRound:
    config: Config
    jobs: int
    seconds: float
    direct_seconds: float
    direct_failed: int
    attempted: list[int]
    statuses: dict[str, int]
    firings: dict[str, int]
    keys: dict[str, int]
    direct_keys: dict[str, int]
    problems: list[str] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.jobs / self.seconds if self.seconds else 0.0

    @property
    def direct_per_s(self) -> float:
        return self.jobs / self.direct_seconds if self.direct_seconds else 0.0


def job_round(
    svc: Services,
    hooks: Receiver,
    secret: str,
    config: Config,
    customers: Sequence[dict[str, Any]],
    say: Callable[[str], None],
) -> JobRound:
    """Make the jobs; send their bodies directly (baseline); let the workers deliver them."""
    pending = make_jobs(svc, customers)
    if not pending.ids:
        raise RuntimeError("the sign-up campaign made no webhook jobs")
    threads = config.workers
    hooks.reset()
    direct_s, direct_failed = direct(hooks.base, secret, pending, threads)
    direct_keys = received(hooks.stats(), [f"direct:{k}" for k in pending.keys])
    hooks.reset()
    say(f"    {config.label}: {len(pending.ids):,} jobs …")
    done = drain(svc, config.workers)
    result = JobRound(
        config,
        len(pending.ids),
        done.seconds,
        direct_s,
        direct_failed,
        done.attempted,
        job_statuses(svc, pending.ids),
        firing_statuses(svc, pending.firings),
        received(hooks.stats(), pending.keys),
        direct_keys,
    )
    check_round(result)
    return result


def check_round(r: JobRound) -> None:
    label = r.config.label
    not_done = r.jobs - r.statuses.get("done", 0)
    if not_done:
        r.problems.append(f"{label}: {not_done} of {r.jobs} jobs not done ({r.statuses})")
    for what in ("lost", "duplicates", "unexpected", "bad_signature"):
        if r.keys[what]:
            r.problems.append(f"{label}: {r.keys[what]} keys {what.replace('_', ' ')}")
    undelivered = sum(n for s, n in r.firings.items() if s != "delivered")
    if undelivered:
        r.problems.append(f"{label}: {undelivered} firings not delivered ({r.firings})")
    if r.direct_failed or r.direct_keys["lost"] or r.direct_keys["duplicates"]:
        r.problems.append(f"{label}: the direct baseline failed ({r.direct_keys})")


def warm_up(svc: Services, hooks: Receiver) -> dict[str, Any]:
    """Deliver what the event rounds left (their campaigns' webhooks), untimed."""
    pending = pending_webhooks(svc)
    hooks.reset()
    done = drain(svc, 1)
    keys = received(hooks.stats(), pending.keys)
    return {
        "jobs": len(pending.ids),
        "seconds": round(done.seconds, 3),
        "statuses": job_statuses(svc, pending.ids),
        "firings": firing_statuses(svc, pending.firings),
        **{f"keys_{k}": v for k, v in keys.items()},
    }


def secret_of(svc: Services) -> str:
    return Webhooks(svc.store, svc.clock).secret(TENANT)


def signup_firings(svc: Services) -> int:
    f = t.campaign_firings.c
    with svc.store.read() as tx:
        query = sa.select(sa.func.count()).where(f.tenant_id == TENANT, f.campaign == SIGNUP_HOOK)
        return int(tx.conn.execute(query).scalar() or 0)
