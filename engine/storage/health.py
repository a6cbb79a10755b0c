"""Is the database there, and how far behind are the workers: what readiness probes ask, and
which errors mean "the database cannot be reached just now" (a 503 and a retry, not a bug)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import psycopg
import sqlalchemy as sa

from engine.storage import tables as t

# SQLite's primary result codes that say "not now" (busy, locked, out of memory, a read-only or
# missing file, I/O, a full disk) — not SQLITE_ERROR, which is also a syntax error or no table.
_SQLITE_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_INTERRUPT,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)
_CAUSES = 5  # how deep to look through wrapped exceptions


def _driver_unavailable(error: BaseException) -> bool:
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _SQLITE_UNAVAILABLE
    # psycopg: OperationalError is lost connections, refused connects, shutdowns, timeouts,
    # lock waits and serialization failures; InterfaceError a connection already closed.
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) says the database cannot serve just now: worth a 503
    with Retry-After. Errors in the statements themselves stay bugs."""
    seen: BaseException | None = exc
    for _ in range(_CAUSES):
        if seen is None:
            return False
        if isinstance(seen, sa.exc.DisconnectionError | sa.exc.TimeoutError):
            return True  # a dropped connection, or no free one in the pool in time
        if isinstance(seen, sa.exc.DBAPIError):
            if seen.connection_invalidated or (
                seen.orig is not None and _driver_unavailable(seen.orig)
            ):
                return True
            if isinstance(seen, sa.exc.OperationalError | sa.exc.InterfaceError):
                return not isinstance(seen.orig, sqlite3.Error)  # another driver's: trust it
        elif _driver_unavailable(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def ping(engine: sa.Engine) -> None:
    """A round trip to the database; raises when it cannot be reached."""
    with engine.connect() as conn:
        conn.execute(sa.select(1))


def oldest_due(engine: sa.Engine, now: datetime) -> datetime | None:
    """When the longest-waiting job a worker should already have run became due (every
    tenant's; None when none waits). Reads the due index (status, run_at)."""
    c = t.jobs.c
    query = sa.select(sa.func.min(c.run_at)).where(
        c.status == "pending",
        c.run_at <= now,
        c.attempts < c.max_attempts,
        sa.or_(c.locked_until.is_(None), c.locked_until <= now),  # not one a worker holds
    )
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    return found if isinstance(found, datetime) else None
