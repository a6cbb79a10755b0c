"""Signing in and out, sessions, CSRF and the language switch."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.service import Services
from tests.admin_ui.conftest import PASSWORD, SignIn, csrf_of


def _client(svc: Services) -> TestClient:
    return TestClient(create_app(svc))


def _login(client: TestClient, tenant: str, user: str, password: str) -> Any:
    token = csrf_of(client.get("/admin/login").text)
    form = {"tenant": tenant, "user": user, "password": password, "csrf_token": token}
    return client.post("/admin/login", data=form, follow_redirects=False)


def test_signed_out_pages_go_to_sign_in_and_come_back(ui_svc: Services) -> None:
    client = _client(ui_svc)
    answer = client.get("/admin/?where=x", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login?next=/admin/%3Fwhere%3Dx"
    token = csrf_of(client.get(answer.headers["location"]).text)
    form = {
        "tenant": "chaotu-demo",
        "user": "frank",
        "password": PASSWORD,
        "csrf_token": token,
        "next": "/admin/?where=x",
    }
    done = client.post("/admin/login", data=form, follow_redirects=False)
    assert done.headers["location"] == "/admin/?where=x"


def test_sign_in_by_email_and_the_wrong_password(ui_svc: Services) -> None:
    client = _client(ui_svc)
    wrong = _login(client, "chaotu-demo", "frank", "not-the-password")
    assert wrong.status_code == 401
    assert "Wrong tenant, user or password." in wrong.text
    right = _login(client, "chaotu-demo", "ZhaoLei@chaotu-demo.cn", PASSWORD)
    assert right.status_code == 303
    home = client.get("/admin/", follow_redirects=False)
    assert home.headers["location"] == "/admin/dashboard"  # signed in: not sent to sign in


def test_a_user_of_another_tenant_or_without_password_cannot_sign_in(ui_svc: Services) -> None:
    client = _client(ui_svc)
    assert _login(client, "acme-saas", "frank", PASSWORD).status_code == 401
    assert _login(client, "nowhere", "frank", PASSWORD).status_code == 401


def test_repeated_failures_make_the_user_wait(ui_svc: Services) -> None:
    client = _client(ui_svc)
    for _ in range(5):
        _login(client, "chaotu-demo", "alice", "guess-guess")
    blocked = _login(client, "chaotu-demo", "alice", PASSWORD)  # even the right one, for now
    assert (blocked.status_code, blocked.headers["retry-after"]) == (429, "1")
    assert "Too many failed sign-ins for this user. Try again in 1 s." in blocked.text


def test_posts_without_the_session_token_are_refused(sign_in: SignIn) -> None:
    client = sign_in("chaotu-demo", "frank")
    refused = client.post("/admin/logout", data={})
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    forged = client.post("/admin/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 403


def test_sign_out_ends_the_session(sign_in: SignIn) -> None:
    client = sign_in("chaotu-demo", "frank")
    page = client.get("/admin/login")
    client.post("/admin/logout", data={"csrf_token": csrf_of(page.text)})
    assert (
        client.get("/admin/", follow_redirects=False).headers["location"].startswith("/admin/login")
    )


def test_language_switch_and_no_open_redirect(ui_svc: Services) -> None:
    client = _client(ui_svc)
    token = csrf_of(client.get("/admin/login").text)
    form = {"locale": "zh-CN", "next": "https://evil.example/", "csrf_token": token}
    answer = client.post("/admin/language", data=form, follow_redirects=False)
    assert answer.headers["location"] == "/admin/dashboard"
    page = client.get("/admin/login")
    assert "登录" in page.text and 'lang="zh-CN"' in page.text


def test_a_user_switched_off_in_the_bundle_is_signed_out(ui_svc: Services, sign_in: SignIn) -> None:
    client = sign_in("chaotu-demo", "alice")
    bundle = ui_svc.configs.active("chaotu-demo").bundle
    files = dict(bundle.files)
    assert "{id: alice, " in files["tenant.yaml"]
    files["tenant.yaml"] = files["tenant.yaml"].replace(
        "{id: alice, ", "{id: alice, active: false, "
    )
    number = ui_svc.push("chaotu-demo", files)["number"]
    ui_svc.activate("chaotu-demo", number, tests=False)
    assert (
        client.get("/admin/", follow_redirects=False).headers["location"].startswith("/admin/login")
    )
    assert _login(_client(ui_svc), "chaotu-demo", "alice", PASSWORD).status_code == 401
