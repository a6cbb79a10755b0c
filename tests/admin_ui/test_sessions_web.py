"""The admin UI's sessions and sign-in over HTTP, on SQLite and PostgreSQL: a cookie copied
before sign-out stops working; switching a user off (API or bundle) or a new password (CLI)
signs them out at once; the lifetime setting; the refusal page says how long to wait, in
English and Chinese; two servers count failures together."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from admin_ui.session import SESSION_COOKIE
from engine import cli
from engine.api.app import create_app
from engine.clock import FixedClock
from engine.service import Services
from engine.service.sessions import ADDRESS_LIMIT, FREE_TRIES
from tests.admin_ui.conftest import csrf_of
from tests.sign_in import use_fast_hashes

T = "shop"
PASSWORD = "long-enough-1"


@pytest.fixture
def web(svc: Services, monkeypatch: pytest.MonkeyPatch) -> Services:
    use_fast_hashes(monkeypatch)
    for user in ("alice", "bob", "mia"):
        svc.passwords.set(T, user, PASSWORD)
    return svc


def client_of(svc: Services, **headers: str) -> TestClient:
    return TestClient(create_app(svc), headers=headers)


def sign_in(client: TestClient, user: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client.get("/admin/login").text)
    form = {"tenant": T, "user": user, "password": password, "csrf_token": token}
    return client.post("/admin/login", data=form, follow_redirects=False)


def signed_in(client: TestClient) -> bool:
    """Whether the client's session opens the admin UI (else it is sent to sign in)."""
    location = client.get("/admin/", follow_redirects=False).headers["location"]
    assert location in ("/admin/dashboard", "/admin/login?next=/admin/"), location
    return location == "/admin/dashboard"


def with_cookie(svc: Services, value: str) -> TestClient:
    """Another browser (and another server process) holding a copy of the cookie."""
    client = client_of(svc)
    client.cookies.set(SESSION_COOKIE, value)
    return client


def test_a_cookie_copied_before_sign_out_stops_working(web: Services) -> None:
    client = client_of(web)
    assert sign_in(client, "alice").status_code == 303
    copied = client.cookies[SESSION_COOKIE]
    thief = with_cookie(web, copied)
    assert signed_in(thief) and signed_in(client)
    page = client.get("/admin/login").text
    client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    assert not signed_in(client)
    assert not signed_in(thief)
    assert not signed_in(with_cookie(web, copied))


def test_switched_off_through_the_api_is_signed_out_at_once(web: Services) -> None:
    client, other = client_of(web), client_of(web)
    sign_in(client, "alice")
    sign_in(other, "bob")
    key = web.keys.create(T, "ops")
    api = client_of(web, authorization=f"Bearer {key}")
    assert api.post(f"/api/v1/{T}/users/alice/deactivate").status_code == 200
    assert not signed_in(client)
    assert signed_in(other)
    assert sign_in(client_of(web), "alice").status_code == 401
    assert api.post(f"/api/v1/{T}/users/alice/activate").status_code == 200
    assert not signed_in(client)  # switched on again: the old session stays ended
    assert sign_in(client, "alice").status_code == 303


def test_switched_off_in_the_bundle_is_signed_out_at_once(web: Services) -> None:
    client, other = client_of(web), client_of(web)
    sign_in(client, "alice")
    sign_in(other, "bob")
    files = dict(web.configs.active(T).bundle.files)
    files["tenant.yaml"] = files["tenant.yaml"].replace(
        "{id: alice, name: 王丽, teams: [east], roles: [sales]}",
        "{id: alice, name: 王丽, teams: [east], roles: [sales], active: false}",
    )
    web.activate(T, web.push(T, files)["number"], tests=False)
    assert not signed_in(client)
    assert signed_in(other)


def test_a_password_set_from_the_cli_signs_the_user_out(
    web: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = client_of(web)
    sign_in(client, "alice")
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-new-password-2\n"))
    monkeypatch.setattr(cli, "_open", lambda db: web)  # this test's database, either kind
    args = ["tidepool", "users", "set-password", "alice", "--tenant", T, "--password-stdin"]
    monkeypatch.setattr(sys, "argv", args)
    try:
        cli.main()
    except SystemExit as exc:
        assert exc.code in (None, 0)
    assert "shop: password set for alice" in capsys.readouterr().out
    assert not signed_in(client)
    assert sign_in(client, "alice").status_code == 401
    assert sign_in(client, "alice", "a-new-password-2").status_code == 303


def test_the_session_lifetime_is_a_setting_of_the_server(
    web: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIDEPOOL_SESSION_HOURS", "1")
    monkeypatch.setenv("TIDEPOOL_SESSION_IDLE_MINUTES", "0")
    client = client_of(web)
    answer = sign_in(client, "alice")
    assert "Max-Age=3600" in answer.headers["set-cookie"]
    assert isinstance(web.clock, FixedClock)
    web.clock.advance(minutes=59)
    assert signed_in(client)
    web.clock.advance(minutes=1)
    assert not signed_in(client)
    monkeypatch.setenv("TIDEPOOL_SESSION_HOURS", "soon")
    with pytest.raises(Exception, match="TIDEPOOL_SESSION_HOURS must be a number"):
        client_of(web)


def test_the_refusal_says_how_long_to_wait_in_both_languages(web: Services) -> None:
    assert isinstance(web.clock, FixedClock)
    en, zh = client_of(web), client_of(web, **{"accept-language": "zh-CN"})
    for _ in range(FREE_TRIES):
        assert sign_in(en, "alice", "wrong-password").status_code == 401
    refused = sign_in(en, "alice")  # even the right password, for now
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "1")
    assert "Too many failed sign-ins for this user. Try again in 1 s." in refused.text
    assert 'value="alice"' in refused.text  # the form is kept
    assert not signed_in(en)
    web.clock.advance(seconds=1)
    assert sign_in(zh, "alice", "wrong-password").status_code == 401
    refused = sign_in(zh, "alice")
    assert refused.headers["retry-after"] == "2"
    assert "该用户登录失败次数过多，请 2 秒后再试。" in refused.text
    for wait in (2, 4, 8, 16, 32, 64):
        web.clock.advance(seconds=wait)
        sign_in(en, "alice", "wrong-password")
    assert "Try again in 3 min." in sign_in(en, "alice").text  # 128 s
    assert "请 3 分钟后再试。" in sign_in(zh, "alice").text
    web.clock.advance(seconds=128)
    assert sign_in(en, "alice").status_code == 303


def test_the_cap_per_address_is_told_in_both_languages(web: Services) -> None:
    en, zh = client_of(web), client_of(web, **{"accept-language": "zh-CN"})
    for i in range(ADDRESS_LIMIT):
        assert sign_in(en, f"someone{i % 10}", "wrong-password").status_code == 401
    refused = sign_in(en, "bob")
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "900")
    assert "from your network address. Try again in 15 min." in refused.text
    assert "您的网络地址登录失败次数过多，请 15 分钟后再试。" in sign_in(zh, "bob").text


def test_two_servers_count_failures_together(web: Services) -> None:
    other = Services.open(engine=web.store.engine, clock=web.clock)
    one, two = client_of(web), client_of(other)
    for client in (one, two, one, two, one):
        assert sign_in(client, "alice", "wrong-password").status_code == 401
    assert sign_in(two, "alice").status_code == 429
    assert sign_in(one, "alice").status_code == 429
