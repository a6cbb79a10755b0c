"""The jobs outbox: enqueue once per key, leases, backoff, dead letters, retry, on_finish."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.errors import Invalid, NotFound, Refused
from engine.service.jobs import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    JobRow,
    Jobs,
    backoff_seconds,
    job_json,
)
from engine.storage import tables as t
from engine.storage.db import migrate
from engine.storage.store import Store, Tx
from tests.helpers import START

HOOK = {"url": "http://127.0.0.1:9/hook", "body": {"hello": "world"}}


def open_store(engine: sa.Engine) -> Store:
    """A migrated store with the tenants 'shop' and 'other' (no bundles: jobs need none)."""
    migrate(engine)
    store = Store(engine)
    with store.write() as tx:
        for tenant in ("shop", "other"):
            tx.conn.execute(
                t.tenants.insert().values(id=tenant, name={"en": tenant}, created_at=START)
            )
    return store


def add(jobs: Jobs, key: str, tenant: str = "shop", **options: Any) -> bool:
    """Enqueue a webhook job in a transaction of its own, due now unless told otherwise."""
    options.setdefault("run_at", jobs.clock.now())
    kind = options.pop("kind", "webhook")
    payload = options.pop("payload", HOOK)
    with jobs.store.write() as tx:
        return jobs.enqueue(tx, tenant, kind, key, payload, **options)


def status_of(jobs: Jobs, key: str, tenant: str = "shop") -> JobRow:
    found = [j for j in jobs.find(tenant, limit=500) if j.key == key]
    assert len(found) == 1
    return found[0]


@pytest.fixture
def store(engine: sa.Engine) -> Store:
    return open_store(engine)


@pytest.fixture
def finished() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def jobs(store: Store, clock: FixedClock, finished: list[tuple[str, str]]) -> Jobs:
    def on_finish(tx: Tx, job: JobRow, status: str) -> None:
        assert job.status == status and isinstance(tx, Tx)
        finished.append((job.key, status))

    return Jobs(store, clock, on_finish=on_finish)


def test_a_key_makes_one_job_per_tenant(jobs: Jobs) -> None:
    assert add(jobs, "c1:r1:0") is True
    assert add(jobs, "c1:r1:0", payload={"url": "http://other"}) is False
    assert add(jobs, "c1:r1:0", tenant="other") is True
    job = status_of(jobs, "c1:r1:0")
    assert job.payload == HOOK and job.status == "pending" and job.attempts == 0
    assert job.max_attempts == 8 and job.created_at == START


def test_an_enqueue_belongs_to_its_transaction(jobs: Jobs) -> None:
    """The outbox: a rolled-back cause leaves no job behind."""
    with pytest.raises(RuntimeError), jobs.store.write() as tx:
        jobs.enqueue(tx, "shop", "webhook", "k", HOOK, run_at=START)
        raise RuntimeError("the write that caused it failed")
    assert jobs.find("shop") == []


def test_claim_takes_due_jobs_under_a_lease(jobs: Jobs, clock: FixedClock) -> None:
    add(jobs, "now")
    add(jobs, "later", run_at=START + timedelta(minutes=5))
    claimed = jobs.claim("w1", ["webhook"], 10, 60)
    assert [j.key for j in claimed] == ["now"]
    assert claimed[0].attempts == 1 and claimed[0].locked_by == "w1"
    assert claimed[0].locked_until == START + timedelta(seconds=60)
    assert jobs.claim("w2", ["webhook"], 10, 60) == []  # leased, and "later" is not due
    clock.advance(seconds=61)  # w1 vanished: its lease ran out
    again = jobs.claim("w2", ["webhook"], 10, 60)
    assert [(j.key, j.attempts, j.locked_by) for j in again] == [("now", 2, "w2")]


def test_claim_respects_kinds_and_batch(jobs: Jobs) -> None:
    for n in range(5):
        add(jobs, f"hook{n}")
    add(jobs, "sms", kind="sms")
    assert len(jobs.claim("w1", ["webhook"], 3, 60)) == 3
    assert [j.key for j in jobs.claim("w1", ["webhook"], 10, 60)] == ["hook3", "hook4"]
    assert jobs.claim("w1", ["webhook", "email"], 10, 60) == []
    assert [j.key for j in jobs.claim("w1", ["sms"], 10, 60)] == ["sms"]


def test_finish_marks_done_and_tells_on_finish(
    jobs: Jobs, clock: FixedClock, finished: list[tuple[str, str]]
) -> None:
    add(jobs, "k")
    (job,) = jobs.claim("w1", ["webhook"], 10, 60)
    clock.advance(seconds=3)
    assert jobs.finish(job, "w1") is True
    done = status_of(jobs, "k")
    assert (done.status, done.done_at, done.locked_by, done.locked_until) == (
        "done",
        START + timedelta(seconds=3),
        None,
        None,
    )
    assert finished == [("k", "done")]
    assert jobs.finish(job, "w1") is False  # once only
    assert finished == [("k", "done")]


def test_finish_needs_the_lease(jobs: Jobs, clock: FixedClock) -> None:
    add(jobs, "k")
    (job,) = jobs.claim("w1", ["webhook"], 10, 60)
    clock.advance(seconds=61)
    (taken,) = jobs.claim("w2", ["webhook"], 10, 60)
    assert jobs.finish(job, "w1") is False  # w1 was too slow: w2 holds it now
    assert jobs.fail(job, "w1", "late") is None
    assert jobs.finish(taken, "w2") is True


def test_on_finish_shares_the_transaction(store: Store, clock: FixedClock) -> None:
    """A failing hook undoes the finish: the job stays pending and runs again."""

    def broken(tx: Tx, job: JobRow, status: str) -> None:
        raise RuntimeError("campaign bookkeeping failed")

    jobs = Jobs(store, clock, on_finish=broken)
    add(jobs, "k")
    (job,) = jobs.claim("w1", ["webhook"], 10, 60)
    with pytest.raises(RuntimeError):
        jobs.finish(job, "w1")
    assert status_of(jobs, "k").status == "pending"


def test_failures_back_off_then_go_dead(
    jobs: Jobs, clock: FixedClock, finished: list[tuple[str, str]]
) -> None:
    add(jobs, "k", max_attempts=3)
    delays = []
    for attempt in (1, 2):
        (job,) = jobs.claim("w1", ["webhook"], 10, 60)
        assert job.attempts == attempt
        assert jobs.fail(job, "w1", f"HTTP 503 #{attempt}") == "pending"
        after = status_of(jobs, "k")
        assert after.last_error == f"HTTP 503 #{attempt}" and after.locked_by is None
        delays.append((after.run_at - clock.now()).total_seconds())
        assert jobs.claim("w1", ["webhook"], 10, 60) == []  # not before its backoff
        clock.moment = after.run_at
    assert delays == [backoff_seconds(job.id, 1), backoff_seconds(job.id, 2)]
    assert BACKOFF_BASE_SECONDS <= delays[0] <= 1.1 * BACKOFF_BASE_SECONDS
    assert 2 * BACKOFF_BASE_SECONDS <= delays[1] <= 2.2 * BACKOFF_BASE_SECONDS
    (job,) = jobs.claim("w1", ["webhook"], 10, 60)
    assert jobs.fail(job, "w1", "HTTP 503 #3") == "dead"
    dead = status_of(jobs, "k")
    assert (dead.status, dead.attempts, dead.last_error) == ("dead", 3, "HTTP 503 #3")
    assert finished == [("k", "dead")]


def test_backoff_is_capped_and_spread() -> None:
    assert backoff_seconds(1, 500) <= 1.1 * BACKOFF_CAP_SECONDS
    assert len({backoff_seconds(n, 1) for n in range(1, 50)}) > 10


def test_a_non_retryable_failure_is_dead_at_once(
    jobs: Jobs, finished: list[tuple[str, str]]
) -> None:
    add(jobs, "k")
    (job,) = jobs.claim("w1", ["webhook"], 10, 60)
    assert jobs.fail(job, "w1", "HTTP 404", retryable=False) == "dead"
    assert status_of(jobs, "k").attempts == 1
    assert finished == [("k", "dead")]


def test_retry_after_overrides_the_backoff(jobs: Jobs, clock: FixedClock) -> None:
    add(jobs, "k")
    (job,) = jobs.claim("w1", ["webhook"], 10, 60)
    jobs.fail(job, "w1", "HTTP 429", after=7)
    assert status_of(jobs, "k").run_at == clock.now() + timedelta(seconds=7)


def test_a_job_whose_last_attempt_was_abandoned_is_dead(
    jobs: Jobs, clock: FixedClock, finished: list[tuple[str, str]]
) -> None:
    """A job that kills its worker every time must not be tried for ever."""
    add(jobs, "poison", max_attempts=1)
    assert len(jobs.claim("w1", ["webhook"], 10, 60)) == 1
    clock.advance(seconds=61)
    assert jobs.claim("w2", ["webhook"], 10, 60) == []
    dead = status_of(jobs, "poison")
    assert dead.status == "dead" and "stopped before it finished" in str(dead.last_error)
    assert finished == [("poison", "dead")]


def test_cancel_by_key_prefix(jobs: Jobs) -> None:
    for key in ("c1:r_1:0", "c1:r_1:1", "c1:r11:0", "c2:r_1:0"):
        add(jobs, key)
    (first,) = jobs.claim("w1", ["webhook"], 1, 60)
    jobs.finish(first, "w1")  # c1:r_1:0 is done: cancelling leaves it so
    with jobs.store.write() as tx:
        assert jobs.cancel(tx, "shop", "c1:r_1:") == 1  # '_' is a character, not a wildcard
        assert jobs.cancel(tx, "other", "c1:") == 0
    statuses = {j.key: j.status for j in jobs.find("shop")}
    assert statuses == {
        "c1:r_1:0": "done",
        "c1:r_1:1": "cancelled",
        "c1:r11:0": "pending",
        "c2:r_1:0": "pending",
    }
    assert [j.key for j in jobs.claim("w1", ["webhook"], 10, 60)] == ["c1:r11:0", "c2:r_1:0"]


def test_retry_gives_a_dead_job_fresh_attempts(jobs: Jobs, clock: FixedClock) -> None:
    add(jobs, "k", max_attempts=1)
    (job,) = jobs.claim("w1", ["webhook"], 10, 60)
    jobs.fail(job, "w1", "HTTP 500")
    clock.advance(hours=2)
    again = jobs.retry("shop", job.id)
    assert (again.status, again.attempts, again.run_at, again.done_at) == (
        "pending",
        0,
        clock.now(),
        None,
    )
    assert again.last_error == "HTTP 500"  # still visible until the next attempt
    assert [j.id for j in jobs.claim("w1", ["webhook"], 10, 60)] == [job.id]


def test_retry_refuses_what_is_not_dead(jobs: Jobs) -> None:
    add(jobs, "k")
    job = status_of(jobs, "k")
    with pytest.raises(Refused, match=f"job {job.id} is pending: only dead jobs can be retried"):
        jobs.retry("shop", job.id)
    with pytest.raises(NotFound, match=f"no job {job.id} in tenant 'other'"):
        jobs.retry("other", job.id)
    with pytest.raises(NotFound):
        jobs.retry("shop", 999_999)


def test_find_filters_and_pages(jobs: Jobs) -> None:
    for n in range(5):
        add(jobs, f"a{n}", campaign="wake" if n % 2 else None)
    (job,) = jobs.claim("w1", ["webhook"], 1, 60)
    jobs.fail(job, "w1", "HTTP 400", retryable=False)
    assert [j.key for j in jobs.find("shop")] == ["a4", "a3", "a2", "a1", "a0"]
    assert [j.key for j in jobs.find("shop", campaign="wake")] == ["a3", "a1"]
    assert [j.key for j in jobs.find("shop", status="dead")] == ["a0"]
    page = jobs.find("shop", limit=2)
    assert [j.key for j in jobs.find("shop", limit=2, before=page[-1].id)] == ["a2", "a1"]
    assert jobs.find("other") == []
    with pytest.raises(Invalid, match="unknown job status 'lost'") as raised:
        jobs.find("shop", status="lost")
    assert "pending, done, dead, cancelled" in raised.value.errors[0].message()


def test_job_json_leaves_the_payload_out(jobs: Jobs) -> None:
    add(jobs, "k", campaign="wake")
    shown = job_json(status_of(jobs, "k"))
    assert "payload" not in shown
    assert shown["run_at"] == "2026-11-24T08:00:00Z" and shown["campaign"] == "wake"


def test_enqueue_checks_max_attempts(jobs: Jobs) -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        add(jobs, "k", max_attempts=0)
