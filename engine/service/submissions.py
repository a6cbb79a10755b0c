"""Form submissions inside a caller's transaction: the log (rate limits, report) and the
duplicate window.

The window is one row per form and submitter (the sha256 of the form's `duplicates.by`
values). A submission claims it with an insert that, on conflict, only takes over a row older
than the window: two identical submissions at once (a double click) meet on that row's key,
the second waits for the first to commit and then finds its record — one record, on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.config.model import DuplicateRule
from engine.storage import tables as t
from engine.storage.store import Tx

S = t.form_submissions.c
D = t.form_dedupe.c

CREATED, DUPLICATE, INVALID, SPAM = "created", "duplicate", "invalid", "spam"


def dedupe_key(rule: DuplicateRule, values: Mapping[str, Any]) -> str | None:
    """The submitter's key: None when a `by` field has no value (nothing to compare)."""
    parts = [values.get(name) for name in rule.by]
    if any(p is None or p == "" or p == [] for p in parts):
        return None
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def claim(tx: Tx, tenant: str, form: str, key: str, now: datetime, within: timedelta) -> str | None:
    """Take the window for this submitter; the earlier record's id when it is still held."""
    insert = (pg_insert if tx.dialect == "postgresql" else sqlite_insert)(t.form_dedupe)
    statement = (
        insert.values(tenant_id=tenant, form=form, key=key, record_id=None, at=now)
        .on_conflict_do_update(
            index_elements=[D.tenant_id, D.form, D.key],
            set_={"record_id": None, "at": now},
            where=D.at <= now - within,
        )
        .returning(D.key)
    )
    if tx.conn.execute(statement).first() is not None:
        return None
    held = sa.select(D.record_id).where(D.tenant_id == tenant, D.form == form, D.key == key)
    return tx.conn.execute(held).scalar_one_or_none() or ""


def prune(tx: Tx, tenant: str, now: datetime, windows: Mapping[str, int]) -> int:
    """Drop the tenant's duplicate-window rows that decide nothing any more: past their
    form's window (`windows`: form → minutes), or of a form without a duplicates rule."""
    expired = [
        sa.and_(D.form == form, D.at <= now - timedelta(minutes=minutes))
        for form, minutes in windows.items()
    ]
    unruled = D.form.not_in(list(windows)) if windows else sa.true()
    statement = sa.delete(t.form_dedupe).where(D.tenant_id == tenant, sa.or_(unruled, *expired))
    return int(tx.conn.execute(statement).rowcount or 0)


def take_over(tx: Tx, tenant: str, form: str, key: str, now: datetime) -> None:
    """Claim the window whatever it holds (its record was deleted meanwhile)."""
    where = sa.and_(D.tenant_id == tenant, D.form == form, D.key == key)
    tx.conn.execute(sa.update(t.form_dedupe).where(where).values(record_id=None, at=now))


def hold(tx: Tx, tenant: str, form: str, key: str, record_id: str) -> None:
    where = sa.and_(D.tenant_id == tenant, D.form == form, D.key == key)
    tx.conn.execute(sa.update(t.form_dedupe).where(where).values(record_id=record_id))


def log(
    tx: Tx,
    tenant: str,
    form: str,
    now: datetime,
    outcome: str,
    *,
    channel: Mapping[str, Any] | None = None,
    client: str | None = None,
    record_id: str | None = None,
) -> None:
    row = {
        "tenant_id": tenant,
        "form": form,
        "at": now,
        "outcome": outcome,
        "channel": dict(channel) if channel else None,
        "client": client,
        "record_id": record_id,
    }
    tx.conn.execute(t.form_submissions.insert().values(row))


def _counted(tenant: str, form: str, since: datetime, client: str | None) -> Any:
    """What a rate limit counts: from one client, everything it sent the form (refusals
    too); for the whole form, the hosted page's accepted submissions only — refusals and API
    writes cannot close the form to everyone else."""
    where = sa.and_(S.tenant_id == tenant, S.form == form, S.at > since)
    if client is not None:
        return sa.and_(where, S.client == client)
    return sa.and_(where, S.client.is_not(None), S.outcome.in_((CREATED, DUPLICATE)))


def count_since(
    tx: Tx, tenant: str, form: str, since: datetime, client: str | None, up_to: int
) -> int:
    """The counted submissions, up to `up_to`: a limit needs no more, so a busy form's
    check reads at most that many index entries."""
    counted = sa.select(sa.literal(1)).where(_counted(tenant, form, since, client)).limit(up_to)
    query = sa.select(sa.func.count()).select_from(counted.subquery())
    return int(tx.conn.execute(query).scalar_one())


def oldest_since(
    tx: Tx, tenant: str, form: str, since: datetime, client: str | None
) -> datetime | None:
    """The oldest counted submission: when it leaves the window, one more is allowed."""
    query = sa.select(sa.func.min(S.at)).where(_counted(tenant, form, since, client))
    found: datetime | None = tx.conn.execute(query).scalar_one_or_none()
    return found


def serialize(tx: Tx, tenant: str, form: str) -> None:
    """Hold the form's submissions lock to the end of the transaction, so a limit is counted
    and used up by one submission at a time (SQLite's write transactions already are)."""
    if tx.dialect == "postgresql":
        key = sa.func.hashtextextended(f"form_submissions:{tenant}:{form}", 0)
        tx.conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def channel_of(hidden: Sequence[str], values: Mapping[str, Any]) -> dict[str, Any]:
    """The hidden (URL-filled) fields' values: where the submission came from."""
    return {name: values[name] for name in hidden if values.get(name) not in (None, "")}
