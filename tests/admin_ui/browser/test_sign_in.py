"""Signing in and out, the language switch, CSRF and roles, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.admin_ui.browser.conftest import Live, shot, signed_in

pytestmark = pytest.mark.browser

SIGN_IN = re.compile(r"/admin/login(\?.*)?$")
DASHBOARD = re.compile(r"/admin/dashboard$")


def test_sign_in_by_id(page: Page) -> None:
    page.goto("/admin/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "sign_in-login")
    signed_in(page, "chaotu-demo", "frank")
    expect(page).to_have_url(DASHBOARD)
    expect(page.locator("header .me")).to_have_text("Signed in as 赵磊")
    shot(page, "sign_in-by-id-dashboard")


def test_sign_in_by_email_in_any_case(page: Page) -> None:
    signed_in(page, "chaotu-demo", "ZhaoLei@Chaotu-Demo.cn")
    expect(page).to_have_url(DASHBOARD)
    expect(page.locator("header .me")).to_have_text("Signed in as 赵磊")
    shot(page, "sign_in-by-email-dashboard")


def test_a_wrong_password_is_told_and_the_form_kept(page: Page) -> None:
    page.goto("/admin/login")
    page.locator("select[name=tenant]").select_option("acme-saas")
    page.locator("input[name=user]").fill("frank")
    page.locator("input[name=password]").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong tenant, user or password.")
    expect(page).to_have_url(SIGN_IN)
    expect(page.locator("input[name=user]")).to_have_value("frank")
    expect(page.locator("select[name=tenant]")).to_have_value("acme-saas")
    expect(page.locator("header .me")).to_have_count(0)
    shot(page, "sign_in-wrong-password")


def test_the_language_switch_changes_the_texts_and_back(page: Page) -> None:
    page.goto("/admin/login")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")
    shot(page, "sign_in-login-zh")
    # the language chosen before signing in stays with the session
    signed_in(page, "chaotu-demo", "frank")
    expect(page.locator("header .me")).to_have_text("当前用户：赵磊")
    expect(page.locator("header nav")).to_contain_text("概览")
    expect(page.locator("header nav")).to_contain_text("客户池看板")
    shot(page, "sign_in-dashboard-zh")
    page.get_by_role("button", name="EN").click()
    expect(page).to_have_url(DASHBOARD)
    expect(page.locator("header .me")).to_have_text("Signed in as 赵磊")
    expect(page.locator("header nav")).to_contain_text("Dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "sign_in-dashboard-en")


def test_sign_out_ends_the_session(page: Page) -> None:
    signed_in(page, "acme-saas", "maria")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "sign_in-signed-out")
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))


def test_a_signed_out_visit_goes_to_sign_in_and_comes_back(page: Page) -> None:
    page.goto("/admin/dashboard")
    expect(page).to_have_url(re.compile(r"/admin/login\?next=/admin/dashboard$"))
    expect(page.locator("main input[name=next]")).to_have_value("/admin/dashboard")
    shot(page, "sign_in-next")
    page.locator("select[name=tenant]").select_option("chaotu-demo")
    page.locator("input[name=user]").fill("carol")
    page.locator("input[name=password]").fill("correct-horse-42")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(DASHBOARD)
    expect(page.locator("header .me")).to_have_text("Signed in as 张敏")


def test_a_post_without_the_csrf_token_is_refused(page: Page, live: Live) -> None:
    signed_in(page, "chaotu-demo", "frank")
    # from the browser's own session, without the form's token: refused, still signed in
    refused = page.request.post("/admin/logout", form={"next": "/admin/"})
    assert refused.status == 403
    assert "CSRF" in refused.text()
    forged = page.request.post("/admin/logout", form={"csrf_token": "forged"})
    assert forged.status == 403
    status = page.evaluate(
        """async () => {
            const answer = await fetch('/admin/language', {
                method: 'POST',
                headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                body: 'locale=zh-CN&next=/admin/dashboard',
            });
            return answer.status;
        }"""
    )
    assert status == 403
    page.reload()
    expect(page.locator("header .me")).to_have_text("Signed in as 赵磊")  # still English
    # the refusal as a page
    page.set_content(
        f'<form method="post" action="{live.url}/admin/logout">'
        '<button id="forged">go</button></form>'
    )
    page.locator("#forged").click()
    expect(page.get_by_role("alert")).to_contain_text("CSRF")
    expect(page.get_by_role("heading")).to_contain_text("403")
    shot(page, "sign_in-csrf-refused")


def test_a_sales_rep_cannot_open_the_config_pages(page: Page) -> None:
    """Depends on the config page (/admin/config) being there: 403 for a rep, not 404."""
    signed_in(page, "chaotu-demo", "alice")
    expect(page.locator("header nav")).not_to_contain_text("Config")
    answer = page.goto("/admin/config")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading")).to_contain_text("403")
    expect(page.get_by_role("alert")).to_contain_text("You may not open this page.")
    shot(page, "sign_in-sales-config-403")
