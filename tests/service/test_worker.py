"""The worker: outcomes of handlers, leases, several workers at once, and a crash mid-batch."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine import cli
from engine.clock import FixedClock, SystemClock
from engine.service.jobs import GiveUp, JobRow, Jobs, Retry
from engine.service.webhooks import Webhooks, verify
from engine.service.worker import Worker, WorkerLoop, default_handlers
from engine.storage import tables as t
from engine.storage.store import Store
from tests.helpers import ROOT
from tests.service.test_jobs import add, open_store, status_of
from tests.service.test_webhooks import Receiver, Seen

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(engine: sa.Engine) -> Store:
    return open_store(engine)


@pytest.fixture
def jobs(store: Store, clock: FixedClock) -> Jobs:
    return Jobs(store, clock)


def handler_for(
    outcomes: dict[str, Callable[[], None]], ran: list[str]
) -> Callable[[JobRow], None]:
    def handle(job: JobRow) -> None:
        ran.append(job.key)
        outcomes.get(job.key, lambda: None)()

    return handle


def raising(exc: Exception) -> Callable[[], None]:
    def go() -> None:
        raise exc

    return go


def test_each_outcome_is_recorded_and_one_failure_stops_nothing(
    store: Store, clock: FixedClock, jobs: Jobs, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes = {
        "retry": raising(Retry("HTTP 503")),
        "give-up": raising(GiveUp("HTTP 404")),
        "boom": raising(ValueError("boom")),
        "later": raising(Retry("HTTP 429", after=5)),
    }
    for key in ("ok-1", "retry", "give-up", "boom", "later", "ok-2"):
        add(jobs, key)
    ran: list[str] = []
    worker = Worker(store, clock, {"webhook": handler_for(outcomes, ran)}, worker_id="w1")
    with caplog.at_level(logging.INFO, logger="tidepool.worker"):
        assert worker.run_once() == 6
    assert ran == ["ok-1", "retry", "give-up", "boom", "later", "ok-2"]
    found = {j.key: (j.status, j.last_error) for j in jobs.find("shop")}
    assert found == {
        "ok-1": ("done", None),
        "retry": ("pending", "HTTP 503"),
        "give-up": ("dead", "HTTP 404"),
        "boom": ("pending", "ValueError: boom"),
        "later": ("pending", "HTTP 429"),
        "ok-2": ("done", None),
    }
    assert status_of(jobs, "later").run_at == clock.now() + timedelta(seconds=5)
    assert "job 3 (webhook) is dead after attempt 1/8: HTTP 404" in caplog.text
    assert "ValueError: boom" in caplog.text  # with its traceback
    assert worker.run_once() == 0  # the failed ones wait for their backoff


def test_on_finish_hears_the_final_status(store: Store, clock: FixedClock, jobs: Jobs) -> None:
    heard: list[tuple[str, str]] = []
    add(jobs, "ok")
    add(jobs, "bad", max_attempts=2)
    handlers = {"webhook": handler_for({"bad": raising(Retry("HTTP 500"))}, [])}
    worker = Worker(
        store, clock, handlers, on_finish=lambda tx, job, status: heard.append((job.key, status))
    )
    worker.run_once()
    assert heard == [("ok", "done")]  # a retry is not final
    clock.advance(hours=1)
    worker.run_once()
    assert heard == [("ok", "done"), ("bad", "dead")]


def test_a_long_batch_renews_the_leases_it_still_needs(
    store: Store, clock: FixedClock, jobs: Jobs
) -> None:
    leases: dict[str, datetime | None] = {}

    def slow(job: JobRow) -> None:
        leases[job.key] = job.locked_until
        clock.advance(seconds=50)  # this job ate most of the batch's lease

    add(jobs, "a")
    add(jobs, "b")
    Worker(store, clock, {"webhook": slow}, lease_seconds=60).run_once()
    assert leases == {
        "a": clock.now() - timedelta(seconds=40),
        "b": clock.now() + timedelta(seconds=10),
    }
    assert {j.status for j in jobs.find("shop")} == {"done"}


def test_a_job_taken_over_meanwhile_is_not_run_again(
    store: Store, clock: FixedClock, jobs: Jobs
) -> None:
    ran: list[str] = []
    other = Worker(store, clock, {"webhook": lambda job: None}, worker_id="w2")

    def stuck(job: JobRow) -> None:
        ran.append(job.key)
        clock.advance(seconds=61)  # w1's leases run out; w2 claims what is left
        assert [j.key for j in other.jobs.claim("w2", ["webhook"], 10, 60)] == ["b"]

    add(jobs, "a")
    add(jobs, "b")
    assert Worker(store, clock, {"webhook": stuck}, worker_id="w1").run_once() == 1
    assert ran == ["a"]
    assert status_of(jobs, "b").locked_by == "w2"


def test_kinds_without_a_handler_wait(store: Store, clock: FixedClock, jobs: Jobs) -> None:
    add(jobs, "sms", kind="sms")
    assert Worker(store, clock, {"webhook": lambda job: None}).run_once() == 0
    assert status_of(jobs, "sms").attempts == 0


def test_run_forever_outlives_errors_and_stops(
    store: Store,
    clock: FixedClock,
    jobs: Jobs,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stop = threading.Event()
    worker = Worker(store, clock, {"webhook": lambda job: stop.set()}, worker_id="w1")
    claim = worker.jobs.claim
    calls = []

    def flaky(*args: Any) -> list[JobRow]:
        calls.append(args)
        if len(calls) == 1:
            raise sa.exc.OperationalError("SELECT", {}, Exception("database restarting"))
        return claim(*args)

    monkeypatch.setattr(worker.jobs, "claim", flaky)
    add(jobs, "k")
    worker.run_forever(stop, idle_seconds=0.01)
    assert len(calls) >= 2 and "claiming jobs failed" in caplog.text
    assert status_of(jobs, "k").status == "done"


def test_the_loop_starts_and_stops(store: Store, clock: FixedClock, jobs: Jobs) -> None:
    add(jobs, "k")
    loop = WorkerLoop(Worker(store, clock, {"webhook": lambda job: None}), 0.01).start()
    deadline = time.monotonic() + 10
    while status_of(jobs, "k").status != "done" and time.monotonic() < deadline:
        time.sleep(0.01)
    loop.stop()
    assert not loop.thread.is_alive() and status_of(jobs, "k").status == "done"


def test_several_workers_never_run_a_job_twice(store: Store, clock: FixedClock) -> None:
    jobs = Jobs(store, clock)
    with store.write() as tx:
        for n in range(200):
            jobs.enqueue(tx, "shop", "webhook", f"k{n}", {}, run_at=clock.now())
    running: set[int] = set()
    runs: Counter[int] = Counter()
    overlaps: list[int] = []
    lock = threading.Lock()

    def handle(job: JobRow) -> None:
        with lock:
            if job.id in running:
                overlaps.append(job.id)
            running.add(job.id)
            runs[job.id] += 1
        time.sleep(0.001)
        with lock:
            running.discard(job.id)

    stop = threading.Event()
    workers = [
        Worker(store, clock, {"webhook": handle}, worker_id=f"w{n}", batch=7) for n in range(4)
    ]
    threads = [threading.Thread(target=w.run_forever, args=(stop, 0.01)) for w in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(jobs.find("shop", status="done", limit=500)) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()
    assert overlaps == [] and len(runs) == 200 and set(runs.values()) == {1}
    assert len(jobs.find("shop", status="done", limit=500)) == 200


def test_default_handlers_send_webhooks_and_emails(
    store: Store, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIDEPOOL_SMTP_URL", raising=False)
    handlers = default_handlers(store, clock)
    assert sorted(handlers) == ["email", "webhook"]
    email = JobRow(1, "shop", "email", "k", {}, "pending", 1, 8, clock.now(), None, None, None,
                   clock.now(), None, None, None)  # fmt: skip
    with pytest.raises(GiveUp, match="SMTP not configured"):
        handlers["email"](email)


# the command line ------------------------------------------------------------------------------


def tidepool(args: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "argv", ["tidepool", *args])
    try:
        cli.main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_worker_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = sa.create_engine(url)
    jobs = Jobs(open_store(engine), SystemClock())
    with Receiver() as receiver:
        add(jobs, "once", payload={"url": receiver.url(), "body": {}}, run_at=LONG_AGO)
        assert tidepool(["worker", "--db", url, "--once"], monkeypatch) == 0
        assert receiver.keys() == ["once"]
    assert capsys.readouterr().out == "1 job(s) run\n"
    assert status_of(jobs, "once").status == "done"
    engine.dispose()


def test_cli_webhook_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = sa.create_engine(url)
    open_store(engine)
    engine.dispose()
    printed = []
    for extra in ([], [], ["--rotate"], []):
        assert (
            tidepool(["webhooks", "secret", "--tenant", "shop", "--db", url, *extra], monkeypatch)
            == 0
        )
        printed.append(capsys.readouterr().out.strip())
    assert printed[0] == printed[1] != printed[2] == printed[3]
    assert tidepool(["webhooks", "secret", "--tenant", "nobody", "--db", url], monkeypatch) == 1
    assert capsys.readouterr().err == "error: unknown tenant 'nobody'\n"


@pytest.mark.parametrize(
    ("flag", "env", "runs"),
    [(None, None, True), ("--no-worker", None, False), (None, "0", False), ("--worker", "0", True)],
)
def test_serve_runs_a_worker_unless_told_not_to(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flag: str | None,
    env: str | None,
    runs: bool,
) -> None:
    import uvicorn

    started: list[WorkerLoop] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)

    def start(loop: WorkerLoop) -> WorkerLoop:
        started.append(loop)
        return loop

    monkeypatch.setattr(WorkerLoop, "start", start)
    monkeypatch.setattr(WorkerLoop, "stop", lambda loop, timeout=30.0: None)
    if env is None:
        monkeypatch.delenv("TIDEPOOL_WORKER", raising=False)
    else:
        monkeypatch.setenv("TIDEPOOL_WORKER", env)
    args = ["serve", "--db", f"sqlite:///{tmp_path / 's.db'}", "--sweep-every", "0"]
    assert tidepool(args + ([flag] if flag else []), monkeypatch) == 0
    assert len(started) == (1 if runs else 0)


# a worker killed mid-batch ---------------------------------------------------------------------

BATCH = 20
JOBS = 200


def subprocess_url(engine: sa.Engine) -> str:
    """The test database as a URL another process can open (PostgreSQL: with its schema)."""
    if engine.dialect.name != "postgresql":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.execute(sa.text("select current_schema()")).scalar_one()
    url = engine.url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def start_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    args = ["worker", "--db", url, "--batch", str(BATCH), "--lease", "2", "--idle", "0.1"]
    code = "from engine.cli import main; main()"
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", code, *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def statuses(store: Store) -> Counter[str]:
    with store.read() as tx:
        return Counter(tx.conn.execute(sa.select(t.jobs.c.status)).scalars())


def test_a_worker_killed_mid_batch_loses_nothing(
    engine: sa.Engine, store: Store, tmp_path: Path
) -> None:
    """kill -9 during a delivery; a second worker finishes the rest once the leases expire.
    Every job ends done, the receiver saw every key, and the only repeats are jobs that were
    in flight when the first worker died."""
    jobs = Jobs(store, SystemClock())
    secret = Webhooks(store, SystemClock()).secret("shop")
    killed = threading.Event()
    first: list[subprocess.Popen[bytes]] = []
    forged: list[str] = []

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        stamp, signature = (
            seen.headers["x-tidepool-timestamp"],
            seen.headers["x-tidepool-signature"],
        )
        if not verify(secret, stamp, seen.body, signature):
            forged.append(seen.key)
        if seen.key == "k059" and not killed.is_set():  # mid-batch, mid-delivery
            os.kill(first[0].pid, signal.SIGKILL)
            first[0].wait()
            killed.set()
        return 200, {}, b""

    log = tmp_path / "workers.log"
    with Receiver(answer, delay=0.01) as receiver:
        with store.write() as tx:
            for n in range(JOBS):
                payload = {"url": receiver.url(), "body": {"n": n}}
                jobs.enqueue(tx, "shop", "webhook", f"k{n:03}", payload, run_at=LONG_AGO)
        url = subprocess_url(engine)
        first.append(start_worker(url, log))
        wait_for(killed.is_set, 90, "the first worker to reach k059")
        assert first[0].returncode == -signal.SIGKILL
        left = statuses(store)
        assert 0 < left["pending"] < JOBS  # it died with work left
        second = start_worker(url, log)
        try:
            wait_for(lambda: statuses(store)["done"] == JOBS, 120, "every job to be done")
        finally:
            second.terminate()  # SIGTERM: a clean stop after the job in hand
            assert second.wait(30) == 0, log.read_text()
        keys = receiver.keys()
    assert statuses(store) == {"done": JOBS}
    assert set(keys) == {f"k{n:03}" for n in range(JOBS)}
    repeats = Counter(keys) - Counter(set(keys))
    assert 1 <= sum(repeats.values()) <= BATCH  # k059 at least: it was in flight
    assert "k059" in repeats and forged == []
    again = {j.key: j.attempts for j in jobs.find("shop", limit=500) if j.attempts > 1}
    assert set(repeats) <= set(again) and len(again) <= BATCH
