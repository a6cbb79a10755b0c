"""Admin UI sessions on the server and sign-in limits counted in the database, on SQLite and
PostgreSQL: sign-out, password changes and switching a user off (at run time or in a config
version) end sessions; lifetime and idle timeout follow the clock; unknown users cost a dummy
hash; failures count across processes, per user (a delay that grows and expires) and per
client address."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from engine.clock import FixedClock
from engine.errors import Invalid
from engine.service import Services
from engine.service import passwords as pw
from engine.service.passwords import app_secret
from engine.service.sessions import (
    ADDRESS_LIMIT,
    ADDRESS_WINDOW,
    FREE_TRIES,
    MAX_DELAY,
    Sessions,
    SessionSettings,
)
from engine.storage import tables as t
from tests.helpers import run_all
from tests.sign_in import use_fast_hashes

T = "shop"
PASSWORD = "long-enough-1"
HERE = "198.51.100.7"


@pytest.fixture
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return use_fast_hashes(monkeypatch)


@pytest.fixture
def users(svc: Services, fast_hashes: list[str]) -> Services:
    for user in ("alice", "bob", "carol", "mia"):
        svc.passwords.set(T, user, PASSWORD)
    fast_hashes.clear()
    return svc


def sessions_of(svc: Services, settings: SessionSettings | None = None) -> Sessions:
    """What one server process builds (admin_ui.web.mount)."""
    secret = app_secret(svc.store, svc.clock, "sign_in_clients")
    return Sessions(svc.store, svc.configs, svc.clock, svc.passwords, secret, settings)


def clock_of(svc: Services) -> FixedClock:
    assert isinstance(svc.clock, FixedClock)
    return svc.clock


def signed_in(sessions: Sessions, user: str, address: str = HERE) -> str:
    done = sessions.sign_in(T, user, PASSWORD, address)
    assert done.signed_in and done.token is not None, done
    return done.token


def switch_in_bundle(svc: Services, user: str, line: str) -> None:
    """Activate a new version of the shop bundle whose `user` line reads `line`."""
    files = dict(svc.configs.active(T).bundle.files)
    old = next(x for x in files["tenant.yaml"].splitlines() if x.startswith(f"  - {{id: {user},"))
    files["tenant.yaml"] = files["tenant.yaml"].replace(old, line)
    svc.activate(T, svc.push(T, files)["number"], tests=False)


# sessions -----------------------------------------------------------------------------------
def test_sign_out_ends_the_session_for_every_copy_of_its_token(users: Services) -> None:
    sessions = sessions_of(users)
    token = signed_in(sessions, "alice")
    assert sessions.resume(T, token) == "alice"
    assert sessions.resume("other", token) is None  # the tenant is part of the key
    with users.store.read() as tx:
        stored = tx.conn.execute(sa.select(t.admin_sessions.c.id)).scalar_one()
    assert stored != token and len(stored) == 64  # only its hash is kept
    sessions.end(T, token)
    assert sessions.resume(T, token) is None
    assert sessions_of(users).resume(T, token) is None  # nor in another process
    assert sessions.count(T, "alice") == 0


def test_sign_in_by_email_any_case_and_wrong_answers(users: Services) -> None:
    sessions = sessions_of(users)
    files = dict(users.configs.active(T).bundle.files)
    files["tenant.yaml"] = files["tenant.yaml"].replace(
        "{id: bob, name: 李强,", "{id: bob, name: 李强, email: Bob@Shop.example,"
    )
    users.activate(T, users.push(T, files)["number"], tests=False)
    assert sessions.sign_in(T, " BOB@shop.EXAMPLE ", PASSWORD, HERE).user == "bob"
    assert not sessions.sign_in(T, "bob", "not-the-password", HERE).signed_in
    assert not sessions.sign_in(T, "gone", PASSWORD, HERE).signed_in  # off in the bundle
    assert not sessions.sign_in("other", "alice", PASSWORD, HERE).signed_in


def test_a_new_password_ends_every_session_of_the_user(users: Services) -> None:
    sessions = sessions_of(users)
    first, second = signed_in(sessions, "alice"), signed_in(sessions, "alice")
    bob = signed_in(sessions, "bob")
    users.passwords.set(T, "alice", "a-new-one-2")
    assert sessions.resume(T, first) is None and sessions.resume(T, second) is None
    assert sessions.resume(T, bob) == "bob"
    assert not sessions.sign_in(T, "alice", PASSWORD, HERE).signed_in
    assert sessions.sign_in(T, "alice", "a-new-one-2", HERE).signed_in


def test_switched_off_at_run_time_ends_sessions_and_sign_in(users: Services) -> None:
    sessions = sessions_of(users)
    token, bob = signed_in(sessions, "alice"), signed_in(sessions, "bob")
    clock_of(users).advance(seconds=5)
    users.owners.set_active(T, "alice", False)
    assert sessions.resume(T, token) is None
    assert sessions.count(T, "alice") == 0  # ended, not just refused
    assert sessions.resume(T, bob) == "bob"
    assert not sessions.sign_in(T, "alice", PASSWORD, HERE).signed_in  # the right password
    clock_of(users).advance(seconds=5)
    users.owners.set_active(T, "alice", True)
    assert sessions.resume(T, token) is None  # still ended
    assert signed_in(sessions, "alice")


def test_switched_off_and_on_again_before_the_next_request_ends_it(users: Services) -> None:
    sessions = sessions_of(users)
    token = signed_in(sessions, "alice")
    clock_of(users).advance(seconds=5)
    users.owners.set_active(T, "alice", False)
    users.owners.set_active(T, "alice", True)
    assert sessions.resume(T, token) is None


def test_switched_off_in_a_new_config_version_ends_sessions(users: Services) -> None:
    sessions = sessions_of(users)
    token, bob = signed_in(sessions, "alice"), signed_in(sessions, "bob")
    alice_line = "  - {id: alice, name: 王丽, teams: [east], roles: [sales]}"
    switch_in_bundle(users, "alice", alice_line.replace("}", ", active: false}"))
    assert sessions.resume(T, token) is None
    assert sessions.resume(T, bob) == "bob"  # other users stay signed in
    assert not sessions.sign_in(T, "alice", PASSWORD, HERE).signed_in
    switch_in_bundle(users, "alice", alice_line)  # on again: a new sign-in is needed
    assert sessions.resume(T, token) is None
    assert signed_in(sessions, "alice")


def test_a_version_that_drops_the_user_then_one_that_has_them_again(users: Services) -> None:
    """Any version activated since the session's last request counts, not only the newest."""
    sessions = sessions_of(users)
    token, bob = signed_in(sessions, "carol"), signed_in(sessions, "bob")
    carol_line = "  - {id: carol, name: 张敏, teams: [east], roles: [sales]}"
    switch_in_bundle(users, "carol", "")  # carol removed
    files = dict(users.configs.active(T).bundle.files)
    files["tenant.yaml"] = files["tenant.yaml"].replace("users:\n", f"users:\n{carol_line}\n")
    users.activate(T, users.push(T, files)["number"], tests=False)
    assert "carol" in users.configs.active(T).bundle.tenant.users
    assert sessions.resume(T, token) is None
    assert sessions.resume(T, bob) == "bob"


def test_lifetime_and_idle_timeout_follow_the_clock(users: Services) -> None:
    clock = clock_of(users)
    sessions = sessions_of(users, SessionSettings(hours=1, idle_minutes=20))
    token = signed_in(sessions, "alice")
    for _ in range(3):
        clock.advance(minutes=19)
        assert sessions.resume(T, token) == "alice"  # each request moves the idle timeout
    clock.advance(minutes=3)  # 60 minutes after sign-in
    assert sessions.resume(T, token) is None
    idle = signed_in(sessions, "alice")
    clock.advance(minutes=20)
    assert sessions.resume(T, idle) is None
    forever = sessions_of(users, SessionSettings(hours=12, idle_minutes=0))
    token = signed_in(forever, "alice")
    clock.advance(hours=11, minutes=59)
    assert forever.resume(T, token) == "alice"
    clock.advance(minutes=1)
    assert forever.resume(T, token) is None


def test_expired_sessions_are_pruned_at_sign_in(users: Services) -> None:
    sessions = sessions_of(users, SessionSettings(hours=1))
    for _ in range(3):
        signed_in(sessions, "alice")
    clock_of(users).advance(hours=1)
    signed_in(sessions, "bob")
    assert sessions.count(T, "alice") == 0 and sessions.count(T, "bob") == 1


def test_settings_from_the_environment() -> None:
    assert SessionSettings.from_env({}) == SessionSettings(12, 120)
    found = SessionSettings.from_env(
        {"TIDEPOOL_SESSION_HOURS": "8", "TIDEPOOL_SESSION_IDLE_MINUTES": "0"}
    )
    assert found.lifetime == timedelta(hours=8) and found.idle is None
    for given, code in (
        ("soon", "type"),
        ("nan", "type"),
        ("0", "too_small"),
        ("1e9", "too_large"),
    ):
        with pytest.raises(Invalid) as refused:
            SessionSettings.from_env({"TIDEPOOL_SESSION_HOURS": given})
        assert [(e.field, e.code) for e in refused.value.errors] == [
            ("TIDEPOOL_SESSION_HOURS", code)
        ]
        assert "TIDEPOOL_SESSION_HOURS" in refused.value.detail
    with pytest.raises(Invalid):
        SessionSettings.from_env({"TIDEPOOL_SESSION_IDLE_MINUTES": "-5"})


# the time a sign-in takes --------------------------------------------------------------------
def test_every_sign_in_of_a_known_tenant_verifies_one_hash(
    users: Services, fast_hashes: list[str]
) -> None:
    """Unknown users and users without a password cost a dummy verification, as long as a
    known user's (the answer's time tells nothing)."""
    sessions = sessions_of(users)
    sessions.sign_in(T, "nobody", PASSWORD, HERE)
    sessions.sign_in(T, "nobody@example.com", PASSWORD, HERE)
    with users.store.write() as tx:
        tx.conn.execute(t.user_credentials.delete().where(t.user_credentials.c.user_id == "carol"))
    sessions.sign_in(T, "carol", PASSWORD, HERE)  # in the bundle, no password
    assert fast_hashes == [pw.DUMMY_HASH] * 3
    fast_hashes.clear()
    sessions.sign_in(T, "alice", "wrong-password", HERE)
    signed_in(sessions, "alice")
    assert len(fast_hashes) == 2 and pw.DUMMY_HASH not in fast_hashes
    fast_hashes.clear()
    assert not sessions.sign_in("no-such-tenant", "alice", PASSWORD, HERE).signed_in
    assert fast_hashes == []  # the page lists the tenants: an unknown one is refused at once


# failed sign-ins ------------------------------------------------------------------------------
def _fail(sessions: Sessions, user: str, times: int, address: str = HERE) -> None:
    for _ in range(times):
        done = sessions.sign_in(T, user, "wrong-password", address)
        assert not done.signed_in and done.wait == 0, done


def test_failures_count_across_processes(svc: Services, fast_hashes: list[str]) -> None:
    svc.passwords.set(T, "alice", PASSWORD)
    other = Services.open(engine=svc.store.engine, clock=svc.clock)  # a second server
    one, two = sessions_of(svc), sessions_of(other)
    _fail(one, "alice", 3)
    _fail(two, "alice", 2)
    refused = one.sign_in(T, "alice", PASSWORD, HERE)  # even the right password, for now
    assert (refused.signed_in, refused.wait, refused.limit) == (False, 1, "user")
    assert two.sign_in(T, "alice", PASSWORD, "203.0.113.9").wait == 1  # from anywhere


def test_the_per_user_delay_grows_is_capped_and_expires(users: Services) -> None:
    clock = clock_of(users)
    sessions = sessions_of(users)
    _fail(sessions, "alice", FREE_TRIES)
    waits = []
    for _ in range(12):
        refused = sessions.sign_in(T, "alice", "wrong-password", HERE)
        waits.append(refused.wait)
        clock.advance(seconds=refused.wait)
        assert not sessions.sign_in(T, "alice", "wrong-password", HERE).signed_in
    cap = int(MAX_DELAY.total_seconds())
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, cap, cap]
    assert sessions.sign_in(T, "bob", PASSWORD, HERE).signed_in  # colleagues are not held up
    clock.advance(seconds=cap - 1)
    assert sessions.sign_in(T, "alice", PASSWORD, HERE).wait == 1
    clock.advance(seconds=1)
    assert signed_in(sessions, "alice")  # the wait is over: the right password signs in
    _fail(sessions, "alice", FREE_TRIES)  # and the count starts again
    assert sessions.sign_in(T, "alice", PASSWORD, HERE).wait == 1


def test_a_quiet_day_forgets_a_users_failures(users: Services) -> None:
    sessions = sessions_of(users)
    _fail(sessions, "alice", FREE_TRIES)
    clock_of(users).advance(days=1, minutes=1)
    _fail(sessions, "alice", FREE_TRIES)
    assert sessions.sign_in(T, "alice", PASSWORD, HERE).wait == 1


def test_a_new_password_forgets_the_failures(users: Services) -> None:
    sessions = sessions_of(users)
    _fail(sessions, "alice", FREE_TRIES)
    users.passwords.set(T, "alice", "set-by-admin-3")
    assert sessions.sign_in(T, "alice", "set-by-admin-3", HERE).signed_in


def test_unknown_users_are_delayed_like_known_ones(users: Services) -> None:
    sessions = sessions_of(users)
    _fail(sessions, "Nobody", FREE_TRIES)
    assert sessions.sign_in(T, "nobody", PASSWORD, HERE).wait == 1  # the name in any case
    assert sessions.sign_in(T, "alice", PASSWORD, HERE).signed_in
    with users.store.read() as tx:
        keys = tx.conn.execute(sa.select(t.sign_in_failures.c.user_key)).scalars().all()
    assert keys and all(k.startswith("?") and "nobody" not in k for k in keys)


def test_the_cap_per_client_address(users: Services) -> None:
    clock = clock_of(users)
    sessions = sessions_of(users)
    for i in range(ADDRESS_LIMIT):  # many names, each below its own delay
        _fail(sessions, f"guess{i % 10}", 1)
        clock.advance(seconds=10)
    refused = sessions.sign_in(T, "alice", PASSWORD, HERE)
    window = int(ADDRESS_WINDOW.total_seconds())
    assert (refused.wait, refused.limit) == (window - 10 * ADDRESS_LIMIT, "address")
    assert sessions.sign_in(T, "alice", PASSWORD, "2001:db8:1:2::5").signed_in  # elsewhere
    assert sessions.sign_in(T, "alice", PASSWORD, "2001:db8:1:2::6").signed_in
    clock.advance(seconds=refused.wait)  # the oldest failure leaves the window: one more try
    _fail(sessions, "guess0", 1)
    assert sessions.sign_in(T, "alice", PASSWORD, HERE).limit == "address"
    clock.advance(seconds=10)
    assert sessions.sign_in(T, "alice", PASSWORD, HERE).signed_in
    assert sessions.sign_in(T, "bob", PASSWORD, HERE).signed_in  # successes are no failures
    _fail(sessions, "guess1", 1)
    assert sessions.sign_in(T, "bob", PASSWORD, HERE).limit == "address"


def test_an_ipv6_network_counts_as_one_address(users: Services) -> None:
    sessions = sessions_of(users)
    for i in range(ADDRESS_LIMIT):
        _fail(sessions, f"guess{i % 10}", 1, address=f"2001:db8:0:1::{i + 1:x}")
    assert sessions.sign_in(T, "alice", PASSWORD, "2001:db8:0:1:ffff::1").limit == "address"
    assert sessions.sign_in(T, "alice", PASSWORD, "2001:db8:0:2::1").signed_in


def test_tries_at_once_cannot_pass_the_limit_together(
    users: Services, fast_hashes: list[str]
) -> None:
    sessions = sessions_of(users)
    answers: list[int] = []
    run_all([lambda: answers.append(sessions.sign_in(T, "alice", "wrong", HERE).wait)] * 10)
    assert sorted(answers) == [0] * FREE_TRIES + [1] * (10 - FREE_TRIES)
    assert len(fast_hashes) == FREE_TRIES  # the refused tries verified nothing


@pytest.fixture
def two_servers(users: Services) -> Iterator[tuple[Sessions, Sessions]]:
    other = Services.open(engine=users.store.engine, clock=users.clock)
    yield sessions_of(users), sessions_of(other)


def test_a_session_opened_by_one_server_is_ended_by_another(
    two_servers: tuple[Sessions, Sessions],
) -> None:
    one, two = two_servers
    token = signed_in(one, "alice")
    assert two.resume(T, token) == "alice"
    two.end(T, token)
    assert one.resume(T, token) is None


def test_a_hash_made_with_older_parameters_is_upgraded_at_sign_in(
    users: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stored() -> str:
        c = t.user_credentials.c
        query = sa.select(c.password_hash).where(c.tenant_id == T, c.user_id == "alice")
        with users.store.read() as tx:
            return str(tx.conn.execute(query).scalar_one())

    stronger = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    monkeypatch.setattr(pw, "_HASHER", stronger)
    assert not users.passwords.check(T, "alice", "wrong-password")
    assert stronger.check_needs_rehash(stored())  # a wrong password changes nothing
    signed_in(sessions_of(users), "alice")
    assert not stronger.check_needs_rehash(stored())
    assert users.passwords.check(T, "alice", PASSWORD)
