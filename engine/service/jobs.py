"""Durable jobs: the outbox that work leaving the database goes through.

A job is written in the transaction that causes it, so it exists exactly when its cause was
committed. Workers claim due jobs under a lease (SKIP LOCKED on PostgreSQL), run them at least
once and record the outcome; a worker that dies leaves its leases to expire, and the jobs run
again. Receivers recognise the repeat by the job's key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.clock import Clock
from engine.errors import Invalid, NotFound, Refused, Signal
from engine.fields.validator import FieldError
from engine.service.masking import Mask, scrub_text
from engine.service.views import instant
from engine.storage import tables as t
from engine.storage.store import Store, Tx

log = logging.getLogger("tidepool.jobs")

STATUSES = ("pending", "done", "dead", "cancelled")
MAX_LIST = 500
MAX_ERROR_CHARS = 2000
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 6 * 3600.0


class Retry(Signal):
    """A handler's attempt failed in a way a later attempt may cure (5xx, timeout).

    `after` (seconds) overrides the backoff, e.g. from a Retry-After header."""

    def __init__(self, message: str, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class GiveUp(Signal):
    """A handler's attempt failed in a way no retry cures (a 4xx, a bad payload): dead now."""


@dataclass(frozen=True, slots=True)
class JobRow:
    """One stored job, as a worker or the API sees it."""

    id: int
    tenant: str
    kind: str
    key: str
    payload: Mapping[str, Any]
    status: str
    attempts: int
    max_attempts: int
    run_at: datetime
    locked_until: datetime | None
    locked_by: str | None
    last_error: str | None
    created_at: datetime
    done_at: datetime | None
    campaign: str | None
    firing_id: int | None


# Called inside the transaction that gives a job its final status ("done" or "dead").
OnFinish = Callable[[Tx, JobRow, str], None]


def job_from_row(row: sa.Row[Any]) -> JobRow:
    m = row._mapping
    return JobRow(
        int(m["id"]),
        m["tenant_id"],
        m["kind"],
        m["key"],
        m["payload"],
        m["status"],
        m["attempts"],
        m["max_attempts"],
        m["run_at"],
        m["locked_until"],
        m["locked_by"],
        m["last_error"],
        m["created_at"],
        m["done_at"],
        m["campaign"],
        m["firing_id"],
    )


def job_json(job: JobRow, shown_to: Mask | None = None) -> dict[str, Any]:
    """What the API shows of a job (not its payload, which may hold personal data). Its last
    error may quote a receiver's answer echoing the payload: e-mail addresses and phone-like
    numbers in it are masked unless `shown_to` is a viewer who sees every field in full."""
    error = job.last_error
    if error is not None and (shown_to is None or not shown_to.sees_all):
        error = scrub_text(error)
    return {
        "id": job.id,
        "kind": job.kind,
        "key": job.key,
        "status": job.status,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "run_at": instant(job.run_at),
        "last_error": error,
        "created_at": instant(job.created_at),
        "done_at": instant(job.done_at),
        "campaign": job.campaign,
    }


def backoff_seconds(job_id: int, attempts: int) -> float:
    """Exponential (base × 2^(attempts-1), capped) plus up to 10% jitter derived from the id,
    so jobs that failed together do not all come back in the same second."""
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0 ** min(max(attempts - 1, 0), 30))
    spread = (job_id * 2654435761 % 1000) / 1000
    return delay * (1 + 0.1 * spread)


def _clip(error: str) -> str:
    return error if len(error) <= MAX_ERROR_CHARS else error[: MAX_ERROR_CHARS - 1] + "…"


class Jobs:
    """Enqueue, claim, finish and inspect jobs. `on_finish` learns each final status."""

    def __init__(self, store: Store, clock: Clock, *, on_finish: OnFinish | None = None) -> None:
        self.store = store
        self.clock = clock
        self.on_finish = on_finish

    # inside a caller's transaction (the outbox) ----------------------------------------------
    def enqueue(
        self,
        tx: Tx,
        tenant: str,
        kind: str,
        key: str,
        payload: Mapping[str, Any],
        *,
        run_at: datetime,
        max_attempts: int = 8,
        campaign: str | None = None,
        firing_id: int | None = None,
        record_id: str | None = None,
    ) -> bool:
        """Add a job unless the tenant has one with this key already; whether it was new."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        insert = (pg_insert if tx.dialect == "postgresql" else sqlite_insert)(t.jobs)
        row = insert.values(
            tenant_id=tenant,
            kind=kind,
            key=key,
            payload=dict(payload),
            status="pending",
            attempts=0,
            max_attempts=max_attempts,
            run_at=run_at,
            created_at=self.clock.now(),
            campaign=campaign,
            firing_id=firing_id,
            record_id=record_id,
        )
        row = row.on_conflict_do_nothing(index_elements=["tenant_id", "key"])
        return tx.conn.execute(row.returning(t.jobs.c.id)).first() is not None

    def cancel(self, tx: Tx, tenant: str, key_prefix: str) -> int:
        """Pending jobs whose key starts with the prefix will not run; how many there were."""
        c = t.jobs.c
        update = (
            t.jobs.update()
            .where(
                c.tenant_id == tenant,
                c.status == "pending",
                c.key.startswith(key_prefix, autoescape=True),
            )
            .values(status="cancelled", locked_until=None, locked_by=None)
        )
        return int(tx.conn.execute(update).rowcount)

    def replan(
        self,
        tx: Tx,
        tenant: str,
        kind: str,
        campaign: str,
        record_id: str,
        plan: tuple[str, Mapping[str, Any], datetime] | None,
    ) -> None:
        """A campaign's one pending plan for a record: the others are cancelled; `plan`
        (key, payload, run_at) is added, or revived when it was cancelled before."""
        c = t.jobs.c
        mine = (c.tenant_id == tenant, c.campaign == campaign, c.record_id == record_id)
        keep = [] if plan is None else [c.key != plan[0]]
        cancel = t.jobs.update().where(*mine, c.kind == kind, c.status == "pending", *keep)
        tx.conn.execute(cancel.values(status="cancelled", locked_until=None, locked_by=None))
        if plan is None:
            return
        key, payload, run_at = plan
        if self.enqueue(
            tx, tenant, kind, key, payload, run_at=run_at, campaign=campaign, record_id=record_id
        ):
            return
        # the same plan again (a moved trigger, a date moved away and back): its new time
        again = (c.tenant_id == tenant, c.key == key, c.status.in_(["pending", "cancelled"]))
        revive = t.jobs.update().where(*again)
        tx.conn.execute(revive.values(status="pending", run_at=run_at, attempts=0, last_error=None))

    # workers --------------------------------------------------------------------------------
    def claim(
        self, worker_id: str, kinds: Sequence[str], batch: int, lease_seconds: float
    ) -> list[JobRow]:
        """Lease up to `batch` due jobs of these kinds to the worker, counting an attempt each.

        One short transaction; on PostgreSQL rows other workers are claiming are skipped."""
        now = self.clock.now()
        with self.store.write() as tx:
            self._bury_abandoned(tx, now, batch)
            ids = self._due_ids(tx, now, kinds, batch)
            if not ids:
                return []
            c = t.jobs.c
            update = (
                t.jobs.update()
                .where(c.id.in_(ids))
                .values(
                    locked_until=now + timedelta(seconds=lease_seconds),
                    locked_by=worker_id,
                    attempts=c.attempts + 1,
                )
                .returning(*t.jobs.c)
            )
            rows = [job_from_row(r) for r in tx.conn.execute(update)]
        return sorted(rows, key=lambda job: (job.run_at, job.id))

    def _due_ids(self, tx: Tx, now: datetime, kinds: Sequence[str], batch: int) -> list[int]:
        c = t.jobs.c
        query = (
            sa.select(c.id)
            .where(
                c.status == "pending",
                c.run_at <= now,
                c.kind.in_(list(kinds)),
                c.attempts < c.max_attempts,
                sa.or_(c.locked_until.is_(None), c.locked_until <= now),
            )
            .order_by(c.run_at, c.id)
            .limit(batch)
        )
        if tx.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [int(i) for i in tx.conn.execute(query).scalars()]

    def _bury_abandoned(self, tx: Tx, now: datetime, batch: int) -> None:
        """Jobs whose last attempt's worker vanished (its lease ran out) are dead: a job
        that kills its worker must not be tried for ever."""
        c = t.jobs.c
        query = (
            sa.select(c.id)
            .where(
                c.status == "pending",
                c.run_at <= now,  # always true of them; it lets the due index narrow the scan
                c.attempts >= c.max_attempts,
                c.locked_until <= now,
            )
            .limit(batch)
        )
        if tx.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for job_id in tx.conn.execute(query).scalars().all():
            error = "the worker running its last attempt stopped before it finished"
            self._settle(tx, int(job_id), None, "dead", now, error)

    def renew(self, job: JobRow, worker_id: str, lease_seconds: float) -> JobRow | None:
        """A longer lease on a job this worker still holds; None when it holds it no more."""
        c = t.jobs.c
        until = self.clock.now() + timedelta(seconds=lease_seconds)
        with self.store.write() as tx:
            update = (
                t.jobs.update()
                .where(c.id == job.id, c.status == "pending", c.locked_by == worker_id)
                .values(locked_until=until)
                .returning(*t.jobs.c)
            )
            row = tx.conn.execute(update).first()
        return job_from_row(row) if row else None

    def finish(self, job: JobRow, worker_id: str) -> bool:
        """Mark a job done, if the worker still holds it (else another worker took it over)."""
        now = self.clock.now()
        with self.store.write() as tx:
            return self._settle(tx, job.id, worker_id, "done", now, None) is not None

    def fail(
        self,
        job: JobRow,
        worker_id: str,
        error: str,
        *,
        retryable: bool = True,
        after: float | None = None,
    ) -> str | None:
        """Record a failed attempt: back to pending after a backoff, or dead when retrying is
        pointless or the attempts are used up. The new status; None if the lease was lost."""
        now = self.clock.now()
        dead = not retryable or job.attempts >= job.max_attempts
        with self.store.write() as tx:
            if dead:
                settled = self._settle(tx, job.id, worker_id, "dead", now, error)
                return "dead" if settled else None
            delay = backoff_seconds(job.id, job.attempts) if after is None else after
            delay = min(max(delay, 0.0), BACKOFF_CAP_SECONDS)
            return "pending" if self._again(tx, job, worker_id, error, now, delay) else None

    def _again(
        self, tx: Tx, job: JobRow, worker_id: str, error: str, now: datetime, delay: float
    ) -> bool:
        c = t.jobs.c
        update = (
            t.jobs.update()
            .where(c.id == job.id, c.status == "pending", c.locked_by == worker_id)
            .values(
                run_at=now + timedelta(seconds=delay),
                last_error=_clip(error),
                locked_until=None,
                locked_by=None,
            )
        )
        return tx.conn.execute(update).rowcount == 1

    def _settle(
        self,
        tx: Tx,
        job_id: int,
        worker_id: str | None,
        status: str,
        now: datetime,
        error: str | None,
    ) -> JobRow | None:
        """Give a pending job its final status (held by `worker_id`, if given) and tell
        on_finish, in the same transaction."""
        c = t.jobs.c
        update = t.jobs.update().where(c.id == job_id, c.status == "pending")
        if worker_id is not None:
            update = update.where(c.locked_by == worker_id)
        values = {"status": status, "locked_until": None, "locked_by": None, "done_at": now}
        values["last_error"] = _clip(error) if error is not None else None
        row = tx.conn.execute(update.values(**values).returning(*t.jobs.c)).first()
        if row is None:
            return None
        job = job_from_row(row)
        if self.on_finish is not None:
            self.on_finish(tx, job, status)
        return job

    # the API --------------------------------------------------------------------------------
    def find(
        self,
        tenant: str,
        *,
        status: str | None = None,
        campaign: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[JobRow]:
        """A tenant's jobs, newest first (`before`: only jobs with a smaller id, to page)."""
        if status is not None and status not in STATUSES:
            raise Invalid(
                f"unknown job status '{status}'",
                [FieldError("status", "option", {"options": ", ".join(STATUSES)})],
            )
        c = t.jobs.c
        query = sa.select(t.jobs).where(c.tenant_id == tenant)
        if status is not None:
            query = query.where(c.status == status)
        if campaign is not None:
            query = query.where(c.campaign == campaign)
        if before is not None:
            query = query.where(c.id < before)
        query = query.order_by(c.id.desc()).limit(max(1, min(limit, MAX_LIST)))
        with self.store.read() as tx:
            return [job_from_row(r) for r in tx.conn.execute(query)]

    def get(self, tenant: str, job_id: int) -> JobRow:
        c = t.jobs.c
        with self.store.read() as tx:
            query = sa.select(t.jobs).where(c.tenant_id == tenant, c.id == job_id)
            row = tx.conn.execute(query).first()
        if row is None:
            raise NotFound(f"no job {job_id} in tenant '{tenant}'")
        return job_from_row(row)

    def retry(self, tenant: str, job_id: int) -> JobRow:
        """Give a dead job a fresh set of attempts, due now (its last error stays visible)."""
        c = t.jobs.c
        with self.store.write() as tx:
            update = (
                t.jobs.update()
                .where(c.tenant_id == tenant, c.id == job_id, c.status == "dead")
                .values(
                    status="pending",
                    attempts=0,
                    run_at=self.clock.now(),
                    done_at=None,
                    locked_until=None,
                    locked_by=None,
                )
                .returning(*t.jobs.c)
            )
            row = tx.conn.execute(update).first()
        if row is None:
            job = self.get(tenant, job_id)  # NotFound, or a job in another state
            raise Refused(f"job {job_id} is {job.status}: only dead jobs can be retried")
        return job_from_row(row)
