"""Embedding the hosted form: frame headers from the form's embed origins, CORS for those
origins only (with preflights), cross-site posts from other sites refused, the hardening
headers on every /f/ answer, and the embed script."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.service import Services
from tests.admin_ui.test_hosted_support import (
    CLIENT_SITE,
    FORM,
    GOOD_PHONE,
    OTHER_SITE,
    PAGE,
    hosted_template,
    records,
    services_on,
    visitor,
)

SHOP_SITE = "https://shop.client.example:8443"
PLAIN = "/f/formdemo/plain"


@pytest.fixture(scope="module")
def template(_ui_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hosted_template(_ui_template, tmp_path_factory.mktemp("hosted_embed"))


@pytest.fixture
def svc(template: Path, tmp_path: Path) -> Iterator[Services]:
    yield from services_on(template, tmp_path)


# frame headers ---------------------------------------------------------------------------------
def test_a_form_with_embed_origins_may_be_framed_by_them_only(svc: Services) -> None:
    answer = visitor(svc).get(PAGE)
    policy = f"frame-ancestors 'self' {CLIENT_SITE} {SHOP_SITE}"
    assert answer.headers["content-security-policy"] == policy
    assert "x-frame-options" not in answer.headers  # it cannot name several origins


def test_a_form_without_embed_origins_may_be_framed_by_itself_only(svc: Services) -> None:
    answer = visitor(svc).get(PLAIN)
    assert answer.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    demo = visitor(svc).get("/f/chaotu-demo/qr_signup")
    expected = "frame-ancestors 'self' https://www.chaotu.example"
    assert demo.headers["content-security-policy"] == expected


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", PAGE),
        ("GET", f"{FORM}/thanks"),
        ("GET", f"{FORM}/embed.js"),
        ("POST", f"{FORM}/state"),
        ("POST", PAGE),
        ("GET", "/f/formdemo/private"),
        ("GET", "/f/_assets/hosted.css"),
        ("GET", "/f/nothing/here/at/all"),
    ],
)
def test_every_answer_has_the_hardening_headers(svc: Services, method: str, path: str) -> None:
    answer = visitor(svc).request(method, path, json={}, follow_redirects=False)
    assert answer.status_code < 500
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert answer.headers["content-security-policy"].startswith("frame-ancestors 'self'")


# CORS ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", [CLIENT_SITE, SHOP_SITE])
def test_a_listed_origin_gets_cors_headers_naming_it(svc: Services, origin: str) -> None:
    client = visitor(svc, Origin=origin, **{"Accept-Language": "en"})
    answer = client.post(PAGE, json={"name": "网站", "phone": GOOD_PHONE})
    assert answer.status_code == 201, answer.text
    assert answer.headers["access-control-allow-origin"] == origin
    assert "Origin" in answer.headers["vary"]
    assert "access-control-allow-credentials" not in answer.headers
    state = client.post(f"{FORM}/state", json={"industry": "manufacturing"})
    assert state.headers["access-control-allow-origin"] == origin
    assert "headcount" in state.json()["visible"]


def test_an_unlisted_origin_gets_no_cors_headers_and_may_not_post(svc: Services) -> None:
    client = visitor(svc, Origin=OTHER_SITE, **{"Accept-Language": "en"})
    page = client.get(PAGE)
    assert page.status_code == 200 and "access-control-allow-origin" not in page.headers
    answer = client.post(PAGE, json={"name": "x", "phone": GOOD_PHONE})
    assert answer.status_code == 403
    assert answer.json()["detail"] == f"This form cannot be submitted from {OTHER_SITE}."
    assert "access-control-allow-origin" not in answer.headers
    as_form = client.post(PAGE, data={"name": "x"}, follow_redirects=False)
    assert as_form.status_code == 403 and "This form cannot be submitted" in as_form.text
    assert client.post(f"{FORM}/state", json={}).status_code == 403
    null = visitor(svc, Origin="null").post(PAGE, json={"name": "x"})
    assert null.status_code == 403
    assert records(svc) == []


def test_the_page_itself_and_servers_may_post(svc: Services) -> None:
    same = visitor(svc, Origin="http://testserver").post(
        PAGE, json={"name": "同站", "phone": GOOD_PHONE}
    )
    assert same.status_code == 201 and "access-control-allow-origin" not in same.headers
    server = visitor(svc, "198.51.100.9").post(PLAIN, json={"name": "服务器", "industry": "retail"})
    assert server.status_code == 201
    assert sorted(r["name"] for r in records(svc)) == ["同站", "服务器"]


@pytest.mark.parametrize("path", [PAGE, f"{FORM}/state"])
def test_preflights_allow_listed_origins_only(svc: Services, path: str) -> None:
    asking = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    listed = visitor(svc, Origin=CLIENT_SITE, **asking).options(path)
    assert listed.status_code == 204
    assert listed.headers["access-control-allow-origin"] == CLIENT_SITE
    assert listed.headers["access-control-allow-methods"] == "POST"
    assert listed.headers["access-control-allow-headers"] == "Content-Type"
    other = visitor(svc, Origin=OTHER_SITE, **asking).options(path)
    assert other.status_code == 204
    for header in ("allow-origin", "allow-methods", "allow-headers"):
        assert f"access-control-{header}" not in other.headers
    plain = visitor(svc, Origin=CLIENT_SITE, **asking).options(PLAIN)
    assert "access-control-allow-origin" not in plain.headers


# the embed script ------------------------------------------------------------------------------
def test_the_embed_script_is_served_for_public_forms(svc: Services) -> None:
    answer = visitor(svc).get(f"{FORM}/embed.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    script = answer.text
    assert "document.currentScript" in script
    assert 'createElement("iframe")' in script
    assert "event.origin !== origin" in script and "tidepool:form-height" in script
    assert 'getAttribute("data-params")' in script
    missing = visitor(svc).get("/f/formdemo/private/embed.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/javascript")


def test_behind_a_proxy_that_rewrites_host_the_page_may_still_post(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = "https://crm.example.cn"
    told = visitor(svc, Origin=public, **{"Sec-Fetch-Site": "same-origin"})
    assert told.post(PAGE, json={"name": "浏览器说同源", "phone": GOOD_PHONE}).status_code == 201
    untold = visitor(svc, "198.51.100.7", Origin=public)
    assert untold.post(PLAIN, json={"name": "x", "industry": "retail"}).status_code == 403
    monkeypatch.setenv("TIDEPOOL_PUBLIC_URL", public)
    assert untold.post(PLAIN, json={"name": "公开地址", "industry": "retail"}).status_code == 201
    assert sorted(r["name"] for r in records(svc)) == ["公开地址", "浏览器说同源"]
