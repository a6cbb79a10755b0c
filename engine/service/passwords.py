"""Passwords of the bundle's users for the admin UI: argon2 hashes, checked in constant time.

Who a user is and what they may do stays in the bundle; only the hash is stored here. A
user switched off in the bundle (or removed from it) cannot sign in, whatever their password.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.clock import Clock
from engine.fields.validator import FieldError
from engine.service.configs import TenantConfigs
from engine.service.errors import Invalid, NotFound
from engine.storage import tables as t
from engine.storage.store import Store

MIN_LENGTH = 8
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))  # verified against for unknown users: same time


class Passwords:
    def __init__(self, store: Store, configs: TenantConfigs, clock: Clock) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock

    def set(self, tenant: str, user: str, password: str) -> None:
        """Set a user's password (Invalid when too short; NotFound for a user the bundle
        does not have)."""
        if user not in self.configs.active(tenant).bundle.tenant.users:
            raise NotFound(f"tenant '{tenant}' has no user '{user}'")
        if len(password) < MIN_LENGTH:
            params = {"min": MIN_LENGTH}
            detail = f"a password has at least {MIN_LENGTH} characters"
            raise Invalid(detail, [FieldError("password", "too_short", params)])
        row = {
            "tenant_id": tenant,
            "user_id": user,
            "password_hash": _HASHER.hash(password),
            "updated_at": self.clock.now(),
        }
        with self.store.write() as tx:
            insert = (pg_insert if tx.dialect == "postgresql" else sqlite_insert)(
                t.user_credentials
            )
            keys = ["tenant_id", "user_id"]
            update = {"password_hash": row["password_hash"], "updated_at": row["updated_at"]}
            tx.conn.execute(
                insert.values(**row).on_conflict_do_update(index_elements=keys, set_=update)
            )

    def check(self, tenant: str, user: str, password: str) -> bool:
        """Whether the password is the active user's (as slow for an unknown user)."""
        stored = self._hash(tenant, user)
        try:
            _HASHER.verify(stored or _DUMMY, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return stored is not None and self._active(tenant, user)

    def has(self, tenant: str, user: str) -> bool:
        return self._hash(tenant, user) is not None

    def _hash(self, tenant: str, user: str) -> str | None:
        c = t.user_credentials.c
        query = sa.select(c.password_hash).where(c.tenant_id == tenant, c.user_id == user)
        with self.store.read() as tx:
            found = tx.conn.execute(query).scalar()
        return None if found is None else str(found)

    def _active(self, tenant: str, user: str) -> bool:
        try:
            found = self.configs.active(tenant).bundle.tenant.users.get(user)
        except NotFound:
            return False
        return found is not None and found.active


def app_secret(store: Store, clock: Clock, name: str) -> str:
    """An installation secret, made on first use (two first uses at once agree on one)."""
    c = t.app_secrets.c
    with store.write() as tx:
        insert = (pg_insert if tx.dialect == "postgresql" else sqlite_insert)(t.app_secrets)
        row = {"name": name, "value": secrets.token_urlsafe(32), "created_at": clock.now()}
        tx.conn.execute(insert.values(**row).on_conflict_do_nothing())
        return str(tx.conn.execute(sa.select(c.value).where(c.name == name)).scalar_one())
