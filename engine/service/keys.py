"""Tenant API keys: shown once, stored as a hash, looked up by their public id part."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.clock import Clock
from engine.errors import Invalid, NotFound
from engine.fields.validator import FieldError
from engine.storage import tables as t
from engine.storage.store import Store

PREFIX = "tp"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


CACHE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Caller:
    """The owner of an API key: its tenant, and the key's id and name (used as the actor)."""

    tenant: str
    key_id: str
    name: str
    user: str | None = None  # a key acting for a user of the bundle: their roles apply

    @property
    def actor(self) -> str:
        return f"api:{self.name}"


class ApiKeys:
    """Keys are checked against the database at most every few seconds per key."""

    def __init__(
        self, store: Store, clock: Clock, users_of: Callable[[str], set[str]] | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.users_of = users_of  # the active bundle's user ids of a tenant
        self._cache: dict[str, tuple[float, Caller | None]] = {}

    def create(self, tenant: str, name: str = "default", user: str | None = None) -> str:
        """A new key for the tenant (acting for `user`, one of the active bundle's users, when
        given); the only time its secret is seen in clear."""
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        with self.store.write() as tx:
            if tx.tenant(tenant) is None:
                raise NotFound(f"unknown tenant '{tenant}'")
            if user is not None:
                self._check_user(tenant, user)
            tx.conn.execute(
                t.api_keys.insert().values(
                    id=key_id,
                    tenant_id=tenant,
                    name=name,
                    secret_hash=_hash(secret),
                    created_at=self.clock.now(),
                    user_id=user,
                )
            )
        return f"{PREFIX}_{key_id}_{secret}"

    def _check_user(self, tenant: str, user: str) -> None:
        users = self.users_of(tenant) if self.users_of is not None else set()
        if user not in users:
            known = ", ".join(sorted(users)) or "none"
            error = FieldError("user", "owner", {"value": user, "users": known})
            raise Invalid(f"'{user}' is not a user of tenant '{tenant}'", [error])

    def tenant_of(self, token: str) -> str | None:
        """The tenant a key belongs to, or None for a malformed, unknown or revoked key."""
        found = self.caller(token)
        return found.tenant if found else None

    def cached(self, token: str) -> tuple[bool, Caller | None]:
        """(known, caller) from memory only: no database access (safe on an event loop)."""
        cached = self._cache.get(_hash(token))
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return True, cached[1]
        return False, None

    def caller(self, token: str) -> Caller | None:
        """Who is calling with this key, or None for a malformed, unknown or revoked key."""
        known, found = self.cached(token)
        if known:
            return found
        digest, now = _hash(token), time.monotonic()
        caller = self._lookup(token)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now, caller)
        return caller

    def forget_cache(self) -> None:
        self._cache.clear()

    def _lookup(self, token: str) -> Caller | None:
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 16:
            return None
        with self.store.read() as tx:
            row = tx.conn.execute(sa.select(t.api_keys).where(t.api_keys.c.id == parts[1])).first()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(parts[2])):
            return None
        user = None if row.user_id is None else str(row.user_id)
        return Caller(str(row.tenant_id), str(row.id), str(row.name), user)

    def list(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's keys (never their secrets): id, name, created, revoked."""
        with self.store.read() as tx:
            rows = tx.conn.execute(
                sa.select(t.api_keys)
                .where(t.api_keys.c.tenant_id == tenant)
                .order_by(t.api_keys.c.created_at)
            ).fetchall()
        return [
            {
                "id": r.id,
                "name": r.name,
                "user": r.user_id,
                "created_at": r.created_at,
                "revoked_at": r.revoked_at,
            }
            for r in rows
        ]

    def revoke(self, tenant: str, name: str) -> int:
        with self.store.write() as tx:
            result = tx.conn.execute(
                t.api_keys.update()
                .where(
                    t.api_keys.c.tenant_id == tenant,
                    t.api_keys.c.name == name,
                    t.api_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=self.clock.now())
            )
        self.forget_cache()
        return result.rowcount
