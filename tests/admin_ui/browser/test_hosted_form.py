"""The hosted form in a real browser (the issue's scenario): a visitor opens the QR code's
link, company_size is not there until they choose manufacturing, they fill the form in and
submit, see the thank-you text, and the record exists with the channel from the URL. Once in
English, once in Chinese (where a field shown and then hidden again is not stored), and once
embedded in a client's page through embed.js."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Route, expect

from tests.admin_ui.browser.conftest import TIMEOUT_MS, Live, shot

pytestmark = pytest.mark.browser

TENANT = "chaotu-demo"
LINK = "/f/chaotu-demo/qr_signup?source=qr_scan&activity=2026-expo"
CLIENT_SITE = "https://www.chaotu.example"  # the form's embed origin


def customer(live: Live, phone: str) -> dict[str, Any]:
    """The stored values of the chaotu-demo customer with that phone."""
    from engine.storage import tables as t

    r = t.records.c
    with live.svc.store.read() as tx:
        rows = tx.conn.execute(
            sa.select(r.data).where(
                r.tenant_id == TENANT, r.entity == "customer", r.deleted_at.is_(None)
            )
        )
        found = [dict(data) for (data,) in rows if data.get("phone") == phone]
    assert len(found) == 1, found
    return found[0]


def size_field(page: Page) -> Any:
    return page.locator("[data-field=company_size]")


def test_a_visitor_sees_company_size_appear_and_signs_up(page: Page, live: Live) -> None:
    page.goto(LINK)
    expect(page.get_by_role("heading", name="Street promotion QR sign-up")).to_be_visible()
    expect(size_field(page)).to_be_hidden()
    shot(page, "hosted-form-en")
    page.get_by_label("Industry").select_option(label="Manufacturing")
    expect(size_field(page)).to_be_visible()
    page.get_by_label("Name").fill("浏览器扫码客户")
    page.get_by_label("Phone").fill("136 0000 1111")
    page.get_by_label("Region").select_option(label="East")
    page.get_by_label("Company size").fill("250")
    shot(page, "hosted-form-en-filled")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Thank you! Our consultant will call you soon.")).to_be_visible()
    expect(page).to_have_url(LINK.replace("?", "/thanks?") + "&lang=en")
    shot(page, "hosted-form-en-thanks")
    stored = customer(live, "13600001111")
    assert stored["name"] == "浏览器扫码客户"
    assert (stored["source"], stored["activity"]) == ("qr_scan", "2026-expo")
    assert (stored["industry"], stored["company_size"], stored["region"]) == (
        "manufacturing",
        250,
        "east",
    )


def test_in_chinese_a_field_hidden_again_is_not_stored(browser: Browser, live: Live) -> None:
    context = browser.new_context(base_url=live.url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(LINK)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.get_by_role("heading", name="地推扫码登记")).to_be_visible()
        expect(size_field(page)).to_be_hidden()
        page.get_by_label("行业").select_option(label="制造业")
        expect(size_field(page)).to_be_visible()
        page.get_by_label("员工人数").fill("80")
        shot(page, "hosted-form-zh")
        page.get_by_label("行业").select_option(label="零售")  # company_size goes away again
        expect(size_field(page)).to_be_hidden()
        page.get_by_label("客户名称").fill("浏览器中文客户")
        page.get_by_label("电话").fill("13600002222")
        page.get_by_role("button", name="提交").click()
        expect(page.get_by_text("感谢登记，我们的顾问会尽快联系您。")).to_be_visible()
        shot(page, "hosted-form-zh-thanks")
        stored = customer(live, "13600002222")
        assert (stored["source"], stored["activity"]) == ("qr_scan", "2026-expo")
        assert stored["industry"] == "retail" and "company_size" not in stored
    finally:
        context.close()


def test_a_client_site_embeds_the_form_with_its_own_channel(page: Page, live: Live) -> None:
    """A page of the form's embed origin (served by the test) includes embed.js: the iframe
    shows the form, grows to its height, and a submission records the script's channel."""
    snippet = (
        "<!doctype html><html><body><h1>Chaotu</h1>"
        f'<script src="{live.url}/f/{TENANT}/qr_signup/embed.js" '
        'data-params="source=website_form&activity=homepage" data-lang="en"></script>'
        "<p id='after'>footer</p></body></html>"
    )

    def client_page(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=snippet)

    page.route(f"{CLIENT_SITE}/**", client_page)
    # a public site reaching the test's 127.0.0.1 server: allowed, as a visitor would be asked
    page.context.grant_permissions(["local-network-access"], origin=CLIENT_SITE)
    page.goto(f"{CLIENT_SITE}/")
    frame_element = page.locator("iframe")
    expect(frame_element).to_have_attribute(
        "src", f"{live.url}/f/{TENANT}/qr_signup?source=website_form&activity=homepage&lang=en"
    )
    form = page.frame_locator("iframe")
    expect(form.get_by_role("heading", name="Street promotion QR sign-up")).to_be_visible()
    # the frame takes the form's height (the page posts it), and follows it as fields appear
    inner = next(f for f in page.frames if f.url.startswith(live.url))
    height = "Math.ceil(document.documentElement.getBoundingClientRect().height) + 'px'"
    expect(frame_element).to_have_css("height", inner.evaluate(height))
    before = inner.evaluate(height)
    form.get_by_label("Industry").select_option(label="Manufacturing")
    expect(form.get_by_label("Company size")).to_be_visible()
    expect(frame_element).not_to_have_css("height", before)
    expect(frame_element).to_have_css("height", inner.evaluate(height))
    form.get_by_label("Name").fill("官网嵌入客户")
    form.get_by_label("Phone").fill("13600003333")
    form.get_by_label("Company size").fill("30")
    form.get_by_role("button", name="Submit").click()
    expect(form.get_by_text("Thank you! Our consultant will call you soon.")).to_be_visible()
    shot(page, "hosted-form-embedded")
    stored = customer(live, "13600003333")
    assert (stored["source"], stored["activity"]) == ("website_form", "homepage")
    assert stored["industry"] == "manufacturing" and stored["company_size"] == 30
