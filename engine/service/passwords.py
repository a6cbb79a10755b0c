"""Passwords of the bundle's users for the admin UI: argon2 hashes, checked in constant time.

Who a user is and what they may do stays in the bundle; only the hash is stored here. A new
password ends the user's admin sessions (engine.service.sessions, which also decides whether
the user is still active).
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from engine.clock import Clock
from engine.errors import Invalid, NotFound
from engine.fields.validator import FieldError
from engine.service.configs import TenantConfigs
from engine.storage import admin_auth as db
from engine.storage.store import Store

MIN_LENGTH = 8
_HASHER = PasswordHasher()
# Verified against when there is no hash to check (unknown user, no password set): every
# sign-in costs one argon2 verification, so the answer's time tells nothing.
DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def verify(hashed: str, password: str) -> bool:
    """Whether the password matches the argon2 hash (constant time in the password)."""
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class Passwords:
    def __init__(self, store: Store, configs: TenantConfigs, clock: Clock) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock

    def set(self, tenant: str, user: str, password: str) -> None:
        """Set a user's password (Invalid when too short; NotFound for a user the bundle
        does not have). The user's admin sessions end and their failed sign-ins are
        forgotten, in the same transaction."""
        if user not in self.configs.active(tenant).bundle.tenant.users:
            raise NotFound(f"tenant '{tenant}' has no user '{user}'")
        if len(password) < MIN_LENGTH:
            params = {"min": MIN_LENGTH}
            detail = f"a password has at least {MIN_LENGTH} characters"
            raise Invalid(detail, [FieldError("password", "too_short", params)])
        hashed = _HASHER.hash(password)
        with self.store.write() as tx:
            db.save_password_hash(tx, tenant, user, hashed, self.clock.now())
            db.delete_user_sessions(tx, tenant, user)
            db.reset_user_failures(tx, tenant, user)

    def check(self, tenant: str, user: str | None, password: str) -> bool:
        """Whether the password is the user's; as slow for an unknown user (None) or one
        without a password: the dummy hash is verified then. Whether the user may still
        sign in (active) is the caller's question."""
        stored = self._hash(tenant, user) if user is not None else None
        matches = verify(stored or DUMMY_HASH, password)
        if not matches or stored is None or user is None:
            return False
        if _HASHER.check_needs_rehash(stored):  # hashed with older parameters: upgrade it
            with self.store.write() as tx:
                now = self.clock.now()
                db.save_password_hash(tx, tenant, user, _HASHER.hash(password), now)
        return True

    def has(self, tenant: str, user: str) -> bool:
        return self._hash(tenant, user) is not None

    def _hash(self, tenant: str, user: str) -> str | None:
        with self.store.read() as tx:
            return db.password_hash(tx, tenant, user)


def app_secret(store: Store, clock: Clock, name: str) -> str:
    """An installation secret, made on first use (two first uses at once agree on one)."""
    with store.write() as tx:
        return db.app_secret(tx, name, secrets.token_urlsafe(32), clock.now())
