"""Admin UI sessions kept on the server, and sign-in with limits that hold across processes.

A session is a row (engine.storage.admin_auth); the cookie carries a random token whose
sha256 keys it. A session ends at sign-out, after its lifetime, after the idle timeout, when
the user's password changes, and when the user is switched off: at run time (user_status,
also switched off and on again since the session began) or by any config version activated
since (without the user, or with `active: false`) — checked on the session's next request.

Failed sign-ins are counted in the database: per user (by id, or a hash of the name typed
for an unknown one, so unknown users are treated alike) after FREE_TRIES failures each
further try waits 2^(n - FREE_TRIES) seconds, at most MAX_DELAY, so nobody can lock a
colleague out for long; per client address at most ADDRESS_LIMIT failures per
ADDRESS_WINDOW. A try is counted as failed before the password is checked (then undone on
success), so tries at once cannot pass a limit together.
"""

from __future__ import annotations

import hashlib
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from engine.clock import Clock
from engine.config.model import UserDef
from engine.errors import Invalid, NotFound
from engine.fields.validator import FieldError
from engine.service.clients import client_key
from engine.service.configs import TenantConfigs
from engine.service.passwords import Passwords
from engine.storage import admin_auth as db
from engine.storage.admin_auth import SessionState
from engine.storage.store import Store, Tx

HOURS_ENV = "TIDEPOOL_SESSION_HOURS"
IDLE_ENV = "TIDEPOOL_SESSION_IDLE_MINUTES"

FREE_TRIES = 5
MAX_DELAY = timedelta(minutes=15)
FORGET = timedelta(days=1)  # a user's failures, quiet this long, are forgotten
ADDRESS_LIMIT = 30
ADDRESS_WINDOW = timedelta(minutes=15)
TOUCH_EVERY = timedelta(minutes=1)  # how often a request writes the session's seen_at


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """How long a session lasts: `hours` from sign-in, and `idle_minutes` without a request
    (0: no idle timeout)."""

    hours: float = 12.0
    idle_minutes: float = 120.0

    @property
    def lifetime(self) -> timedelta:
        return timedelta(hours=self.hours)

    @property
    def idle(self) -> timedelta | None:
        return timedelta(minutes=self.idle_minutes) if self.idle_minutes > 0 else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SessionSettings:
        """TIDEPOOL_SESSION_HOURS and TIDEPOOL_SESSION_IDLE_MINUTES (unset: the defaults);
        Invalid naming the variable for a value that is not a number in range."""
        found = env if env is not None else os.environ
        default = cls()
        hours = _number(found, HOURS_ENV, default.hours, low=1 / 60, high=24 * 365)
        idle = _number(found, IDLE_ENV, default.idle_minutes, low=0, high=60 * 24 * 365)
        return cls(hours, idle)


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    given = env.get(name, "").strip()
    if not given:
        return default
    try:
        value = float(given)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        params = {"expected": "a number"}
        raise Invalid(f"{name} must be a number, not {given!r}", [FieldError(name, "type", params)])
    if value < low:
        raise Invalid(
            f"{name} must be at least {low:g}", [FieldError(name, "too_small", {"n": low})]
        )
    if value > high:
        raise Invalid(
            f"{name} must be at most {high:g}", [FieldError(name, "too_large", {"n": high})]
        )
    return value


@dataclass(frozen=True, slots=True)
class SignIn:
    """What a sign-in came to: a session (`token` for the cookie), a wrong tenant, user or
    password (nothing set), or a refusal untried: `wait` seconds, because of the `limit`."""

    user: str | None = None
    token: str | None = None
    wait: int = 0
    limit: Literal["user", "address"] | None = None

    @property
    def signed_in(self) -> bool:
        return self.token is not None


@dataclass(frozen=True, slots=True)
class _Try:
    wait: int = 0
    limit: Literal["user", "address"] | None = None
    address_failure: int | None = None


class Sessions:
    def __init__(
        self,
        store: Store,
        configs: TenantConfigs,
        clock: Clock,
        passwords: Passwords,
        secret: str,
        settings: SessionSettings | None = None,
    ) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock
        self.passwords = passwords
        self.secret = secret.encode()
        self.settings = settings or SessionSettings()
        self._active_users: dict[tuple[str, int], frozenset[str]] = {}

    # signing in ------------------------------------------------------------------------
    def sign_in(self, tenant: str, given: str, password: str, address: str | None) -> SignIn:
        """Sign in a user of the tenant's bundle (by id or email, any case). Every try of a
        known tenant costs one argon2 verification (a dummy one for an unknown user). An
        unknown tenant is refused at once: the sign-in page lists the tenants anyway."""
        users = self._users(tenant)
        if users is None:
            return SignIn()
        user = resolve_user(users, given)
        key = user if user is not None else _name_key(given)
        self._prune(tenant)
        tried = self._count_try(tenant, key, self.client(address))
        if tried.wait:
            return SignIn(wait=tried.wait, limit=tried.limit)
        if not self.passwords.check(tenant, user, password) or user is None:
            return SignIn()
        token = self._open(tenant, user, tried.address_failure)
        return SignIn(user, token) if token is not None else SignIn()

    def client(self, address: str | None) -> str | None:
        """A keyed hash of the client's address (engine/service/clients.py)."""
        return client_key(self.secret, address)

    def _users(self, tenant: str) -> Mapping[str, UserDef] | None:
        try:
            return self.configs.active(tenant).bundle.tenant.users
        except NotFound:
            return None

    def _prune(self, tenant: str) -> None:
        now = self.clock.now()
        with self.store.write() as tx:
            db.prune(tx, tenant, now, now - FORGET, now - ADDRESS_WINDOW)

    def _count_try(self, tenant: str, key: str, client: str | None) -> _Try:
        """Refused (with the wait) when a limit holds; else counted as a failure now."""
        now = self.clock.now()
        with self.store.write() as tx:
            db.serialize_sign_in(tx, tenant, key, client)
            found = db.user_failures(tx, tenant, key)
            if found is not None and found[1] < now - FORGET:
                found = None  # gone quiet (not pruned yet)
            failures = found[0] if found else 0
            waits: list[tuple[int, Literal["user", "address"]]] = []
            if found is not None and failures >= FREE_TRIES:
                delay = timedelta(seconds=2 ** min(failures - FREE_TRIES, 20))
                waits.append((_seconds(found[1] + min(delay, MAX_DELAY) - now), "user"))
            if client is not None:
                since = now - ADDRESS_WINDOW
                count, oldest = db.address_failures(tx, tenant, client, since, ADDRESS_LIMIT)
                if count >= ADDRESS_LIMIT and oldest is not None:
                    waits.append((_seconds(oldest + ADDRESS_WINDOW - now), "address"))
            wait, limit = max(waits, default=(0, None))
            if wait > 0:
                return _Try(wait, limit)
            db.save_user_failures(tx, tenant, key, failures + 1, now)
            failure = db.add_address_failure(tx, tenant, client, now) if client else None
        return _Try(address_failure=failure)

    def _open(self, tenant: str, user: str, address_failure: int | None) -> str | None:
        """A new session for a user whose password matched, if the newest config version
        and the run-time switch still have them active; the try's failure is undone."""
        now = self.clock.now()
        token = secrets.token_urlsafe(32)
        with self.store.write() as tx:
            current = _current(tx, tenant)
            if current is None or user not in self._active(tx, tenant, current[1]):
                return None
            status = db.user_status(tx, tenant, user)
            if status is not None and not status[0]:
                return None
            db.reset_user_failures(tx, tenant, user)
            if address_failure is not None:
                db.drop_address_failure(tx, tenant, address_failure)
            row = {
                "tenant_id": tenant,
                "id": _digest(token),
                "user_id": user,
                "created_at": now,
                "expires_at": now + self.settings.lifetime,
                "seen_at": now,
                "activation": current[0],
            }
            db.insert_session(tx, row)
        return token

    # a session's requests --------------------------------------------------------------
    def resume(self, tenant: str, token: str) -> str | None:
        """The session's user, while the session holds; None (and the session ended) once
        it does not."""
        digest = _digest(token)
        now = self.clock.now()
        with self.store.read() as tx:
            state = db.session_state(tx, tenant, digest)
            newest = state.latest_activation if state is not None else None
            later = (
                db.activations_after(tx, tenant, state.activation)
                if state is not None and newest is not None and newest > state.activation
                else []
            )
            holds = state is not None and self._holds(tx, tenant, state, later, now)
        if state is None:
            return None
        if not holds:
            self.end(tenant, token)
            return None
        if later or now - state.seen_at >= TOUCH_EVERY:
            activation = later[-1][0] if later else state.activation
            with self.store.write() as tx:
                db.touch_session(tx, tenant, digest, now, activation)
        return state.user

    def end(self, tenant: str, token: str) -> None:
        """Sign-out: the session's row goes, so a copy of the cookie signs nobody in."""
        with self.store.write() as tx:
            db.delete_session(tx, tenant, _digest(token))

    def end_user(self, tenant: str, user: str) -> int:
        """End every session of the user; how many there were."""
        with self.store.write() as tx:
            return db.delete_user_sessions(tx, tenant, user)

    def count(self, tenant: str, user: str) -> int:
        """The user's stored sessions (expired ones included until they are pruned)."""
        with self.store.read() as tx:
            return db.count_sessions(tx, tenant, user)

    def _holds(
        self,
        tx: Tx,
        tenant: str,
        state: SessionState,
        later: list[tuple[int, int]],
        now: datetime,
    ) -> bool:
        idle = self.settings.idle
        if now >= state.expires_at or (idle is not None and now - state.seen_at >= idle):
            return False
        if state.status is not None:
            active, since = state.status
            if not active or since > state.created_at:  # off, or switched off and on since
                return False
        return all(state.user in self._active(tx, tenant, number) for _, number in later)

    def _active(self, tx: Tx, tenant: str, number: int) -> frozenset[str]:
        """The active users of a config version (versions never change: kept)."""
        key = (tenant, number)
        found = self._active_users.get(key)
        if found is None:
            users = self.configs.bundle(tenant, number, tx.conn).tenant.users
            found = frozenset(u.id for u in users.values() if u.active)
            if len(self._active_users) > 256:
                self._active_users.clear()
            self._active_users[key] = found
        return found


def resolve_user(users: Mapping[str, UserDef], given: str) -> str | None:
    """The bundle's user id for an id or an email (case-insensitive)."""
    given = given.strip()
    if given in users:
        return given
    wanted = given.lower()
    return next((u.id for u in users.values() if (u.email or "").lower() == wanted), None)


def _current(tx: Tx, tenant: str) -> tuple[int, int] | None:
    """(activation id, version number) of the tenant's active version; activation 0 for a
    tenant activated before activations were logged."""
    found = db.latest_activation(tx, tenant)
    if found is not None:
        return found
    row = tx.tenant(tenant)
    return None if row is None or row.active_version is None else (0, int(row.active_version))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _name_key(given: str) -> str:
    """An unknown user's failures count under a hash of the name typed (any case)."""
    return "?" + hashlib.sha256(given.strip().lower().encode()).hexdigest()[:40]


def _seconds(delta: timedelta) -> int:
    return max(0, math.ceil(delta.total_seconds()))
