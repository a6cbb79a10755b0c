"""Admin UI passwords: argon2 hashes of the bundle's users; switched-off users cannot sign in."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.errors import Invalid, NotFound
from engine.service import Services
from engine.service.passwords import app_secret
from engine.storage import tables as t


def test_set_and_check(svc: Services) -> None:
    svc.passwords.set("shop", "alice", "long-enough-1")
    assert svc.passwords.check("shop", "alice", "long-enough-1")
    assert not svc.passwords.check("shop", "alice", "long-enough-2")
    assert not svc.passwords.check("shop", "bob", "long-enough-1")  # no password set
    assert not svc.passwords.check("other", "alice", "long-enough-1")  # another tenant
    with svc.store.read() as tx:
        stored = tx.conn.execute(sa.select(t.user_credentials.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2") and "long-enough-1" not in stored
    svc.passwords.set("shop", "alice", "changed-it-2")  # set again: replaced
    assert svc.passwords.check("shop", "alice", "changed-it-2")
    assert not svc.passwords.check("shop", "alice", "long-enough-1")


def test_short_passwords_and_unknown_users_are_refused(svc: Services) -> None:
    with pytest.raises(Invalid, match="at least 8"):
        svc.passwords.set("shop", "alice", "short")
    with pytest.raises(NotFound, match="no user 'zoe'"):
        svc.passwords.set("shop", "zoe", "long-enough-1")


def test_the_session_secret_is_made_once(svc: Services) -> None:
    first = app_secret(svc.store, svc.clock, "admin_session")
    assert len(first) >= 40
    assert app_secret(svc.store, svc.clock, "admin_session") == first
