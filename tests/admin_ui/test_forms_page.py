"""The forms page: the tenant's forms, one form's submissions per day and channel, outcomes and
conversion to later pools, in both languages; the hosted URL, the QR code to download (422 for
a parameter the form does not take) and the embed snippets; who may open it."""

from __future__ import annotations

import html
import re

import pytest
import segno
from fastapi.testclient import TestClient

from engine.errors import Invalid
from engine.service import Services
from tests.admin_ui.conftest import SignIn
from tests.admin_ui.page_helpers import bars, in_language, signed_out_redirects, svg
from tests.service.test_qr import modules

T = "chaotu-demo"
EXPO = {"source": "qr_scan", "activity": "2026-expo"}
FAIR = {"source": "market_activity", "activity": "2026-fair"}
PAGE = "/admin/forms?form=qr_signup&days=7"
HOSTED = "http://testserver/f/chaotu-demo/qr_signup"


def submissions(svc: Services) -> str:
    """Today (24 November in Shanghai): two expo sign-ups and a double click, one from the
    fair, one refused (no phone); then the first expo lead is moved to has_need."""
    first = svc.forms.submit(T, "qr_signup", {"name": "甲", "phone": "13800000001"}, EXPO)
    svc.forms.submit(T, "qr_signup", {"name": "甲", "phone": "13800000001"}, EXPO)
    svc.forms.submit(T, "qr_signup", {"name": "乙", "phone": "13800000002"}, EXPO)
    svc.forms.submit(T, "qr_signup", {"name": "丙", "phone": "13800000003"}, FAIR)
    with pytest.raises(Invalid):
        svc.forms.submit(T, "qr_signup", {"name": "丁"}, EXPO)
    svc.records.move(T, "customer", first.record_id, "has_need")
    return first.record_id


def row(page: str, table: str, channel: str) -> dict[str, str]:
    """A table row's cells by class (the number before any percentage)."""
    found = re.search(
        rf'<table class="data {table}">.*?<tr data-channel="{re.escape(channel)}">(.*?)</tr>',
        page,
        re.S,
    )
    assert found, f"no row {channel} in {table}"
    cells = re.findall(
        r'<td class="num ([a-z_-]+)"(?: data-pool="([a-z_]+)")?>(\d+)', found.group(1)
    )
    return {pool or kind: n for kind, pool, n in cells}


def figure(page: str, outcome: str) -> str:
    found = re.search(rf'<div class="figure {outcome}"><b>(\d+)</b>', page)
    assert found, f"no figure {outcome}"
    return found.group(1)


def snippet(page: str, name: str) -> str:
    found = re.search(rf'<pre class="snippet" id="embed-{name}">(.*?)</pre>', page, re.S)
    assert found, f"no {name} snippet"
    return html.unescape(found.group(1))


def test_the_report_in_english(sign_in: SignIn, ui_svc: Services) -> None:
    submissions(ui_svc)
    client = sign_in(T, "carol")  # a manager: the figures need see_all_stats (or configure)
    en = in_language(client, "en", PAGE)
    assert '<a href="/admin/forms" class="here" aria-current="page">Forms</a>' in en
    listed = re.search(r'<tr id="form-qr_signup"[^>]*>(.*?)</tr>', en, re.S)
    assert listed and "Street promotion QR sign-up" in listed.group(1)
    assert f'href="{HOSTED}"' in listed.group(1)
    assert '<td class="num submissions">5</td>' in listed.group(1)
    private = re.search(r'<tr id="form-website_signup"[^>]*>(.*?)</tr>', en, re.S)
    assert private and "API only" in private.group(1) and "/f/" not in private.group(1)
    assert [figure(en, o) for o in ("total", "created", "duplicate", "invalid", "spam")] == [
        "5",
        "3",
        "1",
        "1",
        "0",
    ]
    assert row(en, "per-channel", "qr_scan") == {
        "created": "2",
        "duplicate": "1",
        "invalid": "0",
        "spam": "0",
        "total": "3",
    }
    assert row(en, "per-channel", "(none)")["invalid"] == "1"  # refused: no channel
    assert bars(svg(en, "days-chart")) == {
        "11-24 · Street promotion QR code": "3",
        "11-24 · Market activity": "1",
        "11-24 · (none)": "1",
    }
    assert 'id="channel-picker"' in en  # two hidden fields: source and activity
    expo = row(en, "conversion", "qr_scan")
    assert (expo["created"], expo["nurturing"], expo["has_need"], expo["won"]) == (
        "2",
        "2",
        "1",
        "0",
    )
    assert expo["deleted"] == "0" and expo["lost"] == "0"
    assert row(en, "conversion", "market_activity")["has_need"] == "0"
    assert "50.0%" in en  # one of the two expo leads has reached has_need
    assert "Refused submissions carry no channel" in en


def test_the_report_in_chinese_by_activity(sign_in: SignIn, ui_svc: Services) -> None:
    submissions(ui_svc)
    client = sign_in(T, "carol")
    zh = in_language(client, "zh-CN", PAGE + "&channel=activity")
    assert ">表单</a>" in zh and "地推扫码登记" in zh and "新建记录" in zh
    assert bars(svg(zh, "days-chart")) == {
        "11-24 · 2026-expo": "3",
        "11-24 · 2026-fair": "1",
        "11-24 · （无）": "1",
    }
    assert row(zh, "conversion", "2026-expo")["has_need"] == "1"
    assert "转化到后续客户池" in zh and "下载二维码（PNG）" in zh
    assert "允许嵌入的网站：https://www.chaotu.example" in zh
    assert "需求培养池" in zh  # pool labels from the bundle


def test_links_snippets_and_qr_code_for_chosen_values(sign_in: SignIn, ui_svc: Services) -> None:
    client = sign_in(T, "frank")
    en = in_language(client, "en", PAGE + "&p.source=qr_scan&p.activity=2026-expo")
    url = f"{HOSTED}?source=qr_scan&activity=2026-expo"
    assert f'id="hosted-url" target="_blank" rel="noopener">{html.escape(url)}</a>' in en
    qr = "/admin/forms/qr_signup/qr.png?source=qr_scan&activity=2026-expo"
    assert f'id="qr-download" href="{html.escape(qr)}" download>Download QR code (PNG)' in en
    assert snippet(en, "iframe") == (
        f'<iframe src="{html.escape(url)}" title="Street promotion QR sign-up" width="100%" '
        'height="720" style="border:0" loading="lazy"></iframe>'
    )
    assert snippet(en, "script") == (
        f'<script src="{HOSTED}/embed.js" data-params="source=qr_scan&amp;activity=2026-expo">'
        "</script>"
    )
    assert "Sites allowed to embed it: https://www.chaotu.example" in en
    assert '<option value="qr_scan" selected>Street promotion QR code</option>' in en

    answer = client.get(qr)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="chaotu-demo-qr_signup-qr_scan-2026-expo.png"'
    )
    expected = segno.make(url, error="m", micro=False).matrix
    assert modules(answer.content, 8) == [[bool(v) for v in r] for r in expected]


def test_a_value_the_field_refuses_is_shown_not_linked(sign_in: SignIn, ui_svc: Services) -> None:
    client = sign_in(T, "frank")
    en = in_language(client, "en", PAGE + "&p.source=billboard")
    errors = re.search(r'id="param-errors">(.*?)</div>', en, re.S)
    assert errors and "source: must be one of: website_form, qr_scan" in errors.group(1)
    assert 'id="qr-download"' not in en and 'id="embed-script"' not in en
    zh = in_language(client, "zh-CN", PAGE + "&p.source=billboard")
    assert "以下参数值不能用于链接" in zh and "source：必须是以下之一" in zh


def test_unknown_or_refused_qr_parameters_are_a_422_page(sign_in: SignIn, ui_svc: Services) -> None:
    client = sign_in(T, "alice")
    in_language(client, "en", "/admin/forms")
    unknown = client.get("/admin/forms/qr_signup/qr.png?source=qr_scan&utm=x")
    assert unknown.status_code == 422 and "image/png" not in unknown.headers["content-type"]
    assert "&#39;utm&#39; is not a URL parameter of this form (it takes: source, activity)." in (
        unknown.text
    )
    refused = client.get("/admin/forms/qr_signup/qr.png?activity=" + "x" * 101)
    assert refused.status_code == 422 and "activity: must be at most 100 characters" in refused.text
    private = client.get("/admin/forms/website_signup/qr.png")
    assert private.status_code == 404 and "no public form &#39;website_signup&#39;" in private.text
    in_language(client, "zh-CN", "/admin/forms")
    zh = client.get("/admin/forms/qr_signup/qr.png?utm=x")
    assert zh.status_code == 422 and "“utm”不是该表单的网址参数" in zh.text


def test_other_forms_and_bad_choices(sign_in: SignIn, ui_svc: Services) -> None:
    client = sign_in(T, "carol")
    en = in_language(client, "en", "/admin/forms?form=order_entry")
    assert "This form is not public: it has no hosted page" in en
    assert "This form has no hidden URL fields" in en
    assert "No submissions in this period." in en
    assert "No records were created through this form in the period." in en
    first = in_language(client, "en", "/admin/forms")  # the first public form by default
    assert 'id="form-qr_signup" class="selected"' in first
    missing = client.get("/admin/forms?form=nope")
    assert missing.status_code == 404 and "This tenant has no form &#39;nope&#39;." in missing.text
    channel = client.get("/admin/forms?form=qr_signup&channel=phone")
    assert channel.status_code == 422 and "is not a hidden URL field of this form" in channel.text


def test_the_public_url_setting_makes_the_links(
    sign_in: SignIn, ui_svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIDEPOOL_PUBLIC_URL", "https://forms.chaotu.example/")
    client = sign_in(T, "alice")
    en = in_language(client, "en", PAGE)
    assert 'href="https://forms.chaotu.example/f/chaotu-demo/qr_signup"' in en
    assert snippet(en, "script").startswith(
        '<script src="https://forms.chaotu.example/f/chaotu-demo/qr_signup/embed.js"'
    )


def test_who_may_see_it(sign_in: SignIn, ui_svc: Services) -> None:
    submissions(ui_svc)
    chaotu = sign_in(T, "alice")
    signed_out_redirects(chaotu, "/admin/forms")
    signed_out_redirects(chaotu, "/admin/forms/qr_signup/qr.png?source=qr_scan")
    anonymous = TestClient(chaotu.app)
    assert anonymous.get("/admin/forms/qr_signup/qr.png").headers["content-type"] != "image/png"
    other = sign_in("acme-saas", "maria")  # another tenant's user sees their own forms only
    theirs = in_language(other, "en", "/admin/forms")
    assert "qr_signup" not in theirs and 'id="form-' in theirs
    assert other.get(PAGE).status_code == 404
    assert other.get("/admin/forms/qr_signup/qr.png").status_code == 404
