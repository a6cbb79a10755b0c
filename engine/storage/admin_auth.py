"""The admin UI's sign-in statements: password hashes, installation secrets, server-side
sessions and failed sign-ins. One small function per statement, run inside the caller's
transaction (engine.service.passwords and engine.service.sessions decide)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.storage import tables as t
from engine.storage.store import Tx

C = t.user_credentials.c
S = t.admin_sessions.c
F = t.sign_in_failures.c
A = t.sign_in_address_failures.c
U = t.user_status.c
ACT = t.config_activations.c


def _insert(tx: Tx, table: sa.Table) -> Any:
    return (pg_insert if tx.dialect == "postgresql" else sqlite_insert)(table)


# passwords and secrets ---------------------------------------------------------------------
def password_hash(tx: Tx, tenant: str, user: str) -> str | None:
    query = sa.select(C.password_hash).where(C.tenant_id == tenant, C.user_id == user)
    found = tx.conn.execute(query).scalar()
    return None if found is None else str(found)


def save_password_hash(tx: Tx, tenant: str, user: str, hashed: str, at: datetime) -> None:
    row = {"tenant_id": tenant, "user_id": user, "password_hash": hashed, "updated_at": at}
    update = {"password_hash": hashed, "updated_at": at}
    statement = _insert(tx, t.user_credentials).values(**row)
    tx.conn.execute(
        statement.on_conflict_do_update(index_elements=["tenant_id", "user_id"], set_=update)
    )


def app_secret(tx: Tx, name: str, value: str, at: datetime) -> str:
    """The secret called `name`, stored as `value` unless one is there already."""
    row = {"name": name, "value": value, "created_at": at}
    tx.conn.execute(_insert(tx, t.app_secrets).values(**row).on_conflict_do_nothing())
    query = sa.select(t.app_secrets.c.value).where(t.app_secrets.c.name == name)
    return str(tx.conn.execute(query).scalar_one())


def user_status(tx: Tx, tenant: str, user: str) -> tuple[bool, datetime] | None:
    """(active, since when) for a user switched off or on at run time; None: never was."""
    query = sa.select(U.active, U.changed_at).where(U.tenant_id == tenant, U.user_id == user)
    row = tx.conn.execute(query).first()
    return None if row is None else (bool(row.active), row.changed_at)


# config activations ------------------------------------------------------------------------
def latest_activation(tx: Tx, tenant: str) -> tuple[int, int] | None:
    """(activation id, version number) of the tenant's newest activation."""
    query = (
        sa.select(ACT.id, ACT.number)
        .where(ACT.tenant_id == tenant)
        .order_by(ACT.id.desc())
        .limit(1)
    )
    row = tx.conn.execute(query).first()
    return None if row is None else (int(row.id), int(row.number))


def activations_after(tx: Tx, tenant: str, after: int) -> list[tuple[int, int]]:
    """(activation id, version number) of every activation after `after`, oldest first."""
    query = (
        sa.select(ACT.id, ACT.number)
        .where(ACT.tenant_id == tenant, ACT.id > after)
        .order_by(ACT.id)
    )
    return [(int(r.id), int(r.number)) for r in tx.conn.execute(query)]


# sessions ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SessionState:
    """A stored session with what decides whether it still holds."""

    user: str
    created_at: datetime
    expires_at: datetime
    seen_at: datetime
    activation: int
    latest_activation: int | None  # the tenant's newest activation id
    status: tuple[bool, datetime] | None  # the user's run-time switch (see user_status)


def insert_session(tx: Tx, row: Mapping[str, Any]) -> None:
    tx.conn.execute(t.admin_sessions.insert().values(**row))


def session_state(tx: Tx, tenant: str, digest: str) -> SessionState | None:
    """The session, the user's run-time status and the tenant's newest activation, in one
    statement (it runs on every admin page)."""
    newest = sa.select(sa.func.max(ACT.id)).where(ACT.tenant_id == tenant).scalar_subquery()
    query = (
        sa.select(
            S.user_id,
            S.created_at,
            S.expires_at,
            S.seen_at,
            S.activation,
            U.active,
            U.changed_at,
            newest.label("newest"),
        )
        .select_from(
            t.admin_sessions.outerjoin(
                t.user_status, sa.and_(U.tenant_id == S.tenant_id, U.user_id == S.user_id)
            )
        )
        .where(S.tenant_id == tenant, S.id == digest)
    )
    row = tx.conn.execute(query).first()
    if row is None:
        return None
    status = None if row.active is None else (bool(row.active), row.changed_at)
    newest_id = None if row.newest is None else int(row.newest)
    return SessionState(
        str(row.user_id),
        row.created_at,
        row.expires_at,
        row.seen_at,
        int(row.activation),
        newest_id,
        status,
    )


def touch_session(tx: Tx, tenant: str, digest: str, seen: datetime, activation: int) -> None:
    tx.conn.execute(
        t.admin_sessions.update()
        .where(S.tenant_id == tenant, S.id == digest)
        .values(seen_at=seen, activation=activation)
    )


def delete_session(tx: Tx, tenant: str, digest: str) -> None:
    tx.conn.execute(t.admin_sessions.delete().where(S.tenant_id == tenant, S.id == digest))


def delete_user_sessions(tx: Tx, tenant: str, user: str) -> int:
    done = tx.conn.execute(
        t.admin_sessions.delete().where(S.tenant_id == tenant, S.user_id == user)
    )
    return int(done.rowcount or 0)


def count_sessions(tx: Tx, tenant: str, user: str) -> int:
    query = sa.select(sa.func.count()).where(S.tenant_id == tenant, S.user_id == user)
    return int(tx.conn.execute(query).scalar_one())


# failed sign-ins ---------------------------------------------------------------------------
def serialize_sign_in(tx: Tx, tenant: str, user_key: str, client: str | None) -> None:
    """Hold the user's (then the address's) sign-in lock to the end of the transaction, so
    tries at once are counted one after the other (SQLite's write transactions already are).
    Always in this order: no two sign-ins wait for each other's lock."""
    if tx.dialect != "postgresql":
        return
    names = [f"sign_in:{tenant}:{user_key}"]
    if client is not None:
        names.append(f"sign_in_address:{tenant}:{client}")
    for name in names:
        key = sa.func.hashtextextended(name, 0)
        tx.conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def user_failures(tx: Tx, tenant: str, user_key: str) -> tuple[int, datetime] | None:
    """(failures counted, the last one's time) for the user; None: none."""
    query = sa.select(F.failures, F.last_at).where(F.tenant_id == tenant, F.user_key == user_key)
    row = tx.conn.execute(query).first()
    return None if row is None else (int(row.failures), row.last_at)


def save_user_failures(tx: Tx, tenant: str, user_key: str, failures: int, at: datetime) -> None:
    row = {"tenant_id": tenant, "user_key": user_key, "failures": failures, "last_at": at}
    statement = _insert(tx, t.sign_in_failures).values(**row)
    tx.conn.execute(
        statement.on_conflict_do_update(
            index_elements=["tenant_id", "user_key"], set_={"failures": failures, "last_at": at}
        )
    )


def reset_user_failures(tx: Tx, tenant: str, user_key: str) -> None:
    tx.conn.execute(
        t.sign_in_failures.delete().where(F.tenant_id == tenant, F.user_key == user_key)
    )


def address_failures(
    tx: Tx, tenant: str, client: str, since: datetime, up_to: int
) -> tuple[int, datetime | None]:
    """(failures from the address since `since`, counted up to `up_to`; the oldest of
    them): when the oldest leaves the window, one more try is allowed."""
    recent = (
        sa.select(A.at)
        .where(A.tenant_id == tenant, A.client == client, A.at > since)
        .order_by(A.at)
        .limit(up_to)
        .subquery()
    )
    query = sa.select(sa.func.count(), sa.func.min(recent.c.at)).select_from(recent)
    row = tx.conn.execute(query).one()
    return int(row[0]), row[1]


def add_address_failure(tx: Tx, tenant: str, client: str, at: datetime) -> int:
    done = tx.conn.execute(
        t.sign_in_address_failures.insert().values(tenant_id=tenant, client=client, at=at)
    )
    key = done.inserted_primary_key
    assert key is not None
    return int(key[0])


def drop_address_failure(tx: Tx, tenant: str, failure: int) -> None:
    tx.conn.execute(
        t.sign_in_address_failures.delete().where(A.tenant_id == tenant, A.id == failure)
    )


def prune(
    tx: Tx, tenant: str, now: datetime, users_before: datetime, addresses_before: datetime
) -> None:
    """Drop what no check reads any more: expired sessions, users' failure counts gone
    quiet, addresses' failures out of the window. On PostgreSQL one pruning at a time per
    tenant (the others skip it), so concurrent deletes of the same rows never wait on
    each other."""
    if tx.dialect == "postgresql":
        key = sa.func.hashtextextended(f"sign_in_prune:{tenant}", 0)
        if not tx.conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(key))).scalar():
            return
    tx.conn.execute(t.admin_sessions.delete().where(S.tenant_id == tenant, S.expires_at <= now))
    tx.conn.execute(
        t.sign_in_failures.delete().where(F.tenant_id == tenant, F.last_at < users_before)
    )
    tx.conn.execute(
        t.sign_in_address_failures.delete().where(A.tenant_id == tenant, A.at <= addresses_before)
    )
