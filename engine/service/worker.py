"""The job worker: claims due jobs under a lease, runs their handlers, records the outcome.

Any number of workers (threads, processes, machines) may run against one database: a job is
leased to one worker at a time, and a worker that dies only delays its jobs until their
leases expire. A handler therefore runs at least once per job, and receivers dedupe by key.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta

from engine.clock import Clock
from engine.service.jobs import GiveUp, JobRow, Jobs, OnFinish, Retry
from engine.service.mailer import Mailer
from engine.service.webhooks import Webhooks
from engine.storage.store import Store

log = logging.getLogger("tidepool.worker")

Handler = Callable[[JobRow], None]

__all__ = ["GiveUp", "Handler", "Retry", "Worker", "WorkerLoop", "default_handlers"]


def default_worker_id() -> str:
    """Unique per process and instance, readable in `locked_by`: host, pid, random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def default_handlers(store: Store, clock: Clock) -> dict[str, Handler]:
    """Handlers for the kinds of job the engine itself writes: webhooks and emails."""
    return {"webhook": Webhooks(store, clock).deliver, "email": Mailer.from_env(clock).send}


class Worker:
    """Runs jobs of the kinds it has handlers for; other kinds wait for a worker that has."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        worker_id: str | None = None,
        batch: int = 20,
        lease_seconds: float = 60.0,
        on_finish: OnFinish | None = None,
    ) -> None:
        if batch < 1 or lease_seconds <= 0:
            raise ValueError("batch must be at least 1 and lease_seconds positive")
        self.clock = clock
        self.handlers = dict(handlers)
        self.worker_id = worker_id or default_worker_id()
        self.batch = batch
        self.lease = lease_seconds
        self.jobs = Jobs(store, clock, on_finish=on_finish)

    def run_once(self) -> int:
        """Claim one batch and run it; how many jobs were attempted (whatever the outcome)."""
        claimed = self.jobs.claim(self.worker_id, sorted(self.handlers), self.batch, self.lease)
        ran = 0
        for job in claimed:
            try:
                ran += self._run(job)
            except Exception:  # the database went away mid-batch: the lease brings it back
                log.exception("job %s (%s): could not record its outcome", job.id, job.kind)
        return ran

    def run_forever(self, stop: threading.Event, idle_seconds: float = 1.0) -> None:
        """Run batches until `stop` is set, resting when there was nothing (or an error)."""
        while not stop.is_set():
            try:
                full = self.run_once() >= self.batch
            except Exception:
                log.exception("worker %s: claiming jobs failed", self.worker_id)
                full = False
            if not full:
                stop.wait(idle_seconds)

    def _run(self, job: JobRow) -> int:
        """One attempt at one job; 0 when its lease was lost before it started."""
        held = self._hold(job)
        if held is None:
            log.info("job %s: lease lost before it ran; another worker has it", job.id)
            return 0
        try:
            self.handlers[held.kind](held)
        except Retry as exc:
            self._failed(held, str(exc), True, exc.after)
        except GiveUp as exc:
            self._failed(held, str(exc), False, None)
        except Exception as exc:
            log.exception("job %s (%s) raised", held.id, held.kind)
            self._failed(held, f"{type(exc).__name__}: {exc}", True, None)
        else:
            if not self.jobs.finish(held, self.worker_id):
                log.warning("job %s ran, but was cancelled or taken over meanwhile", held.id)
        return 1

    def _hold(self, job: JobRow) -> JobRow | None:
        """The job with at least half a lease left (renewed if a long batch ate it up)."""
        left = job.locked_until - self.clock.now() if job.locked_until else timedelta()
        if left.total_seconds() > self.lease / 2:
            return job
        return self.jobs.renew(job, self.worker_id, self.lease)

    def _failed(self, job: JobRow, error: str, retryable: bool, after: float | None) -> None:
        status = self.jobs.fail(job, self.worker_id, error, retryable=retryable, after=after)
        attempt = f"attempt {job.attempts}/{job.max_attempts}"
        if status == "dead":
            log.warning("job %s (%s) is dead after %s: %s", job.id, job.kind, attempt, error)
        elif status == "pending":
            log.info("job %s (%s) %s failed, will retry: %s", job.id, job.kind, attempt, error)


class WorkerLoop:
    """A worker on a background thread (inside `tidepool serve`)."""

    def __init__(self, worker: Worker, idle_seconds: float = 1.0) -> None:
        self.worker = worker
        self.idle = idle_seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=worker.run_forever, args=(self.stopped, idle_seconds), name="tidepool-worker"
        )
        self.thread.daemon = True

    def start(self) -> WorkerLoop:
        self.thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the job in hand; its lease covers it if that takes longer."""
        self.stopped.set()
        self.thread.join(timeout=timeout)
