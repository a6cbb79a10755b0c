"""Submitting the hosted form: the record with its channel from the URL, the thank-you page or
the form's redirect, field errors next to their fields in the visitor's language, the
duplicate window, the rate limits, the honeypot, the body limit, JSON from a client's script,
and garbage that is refused without a 500 and without storing anything."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.service import Services
from tests.admin_ui.test_hosted_support import (
    FORM,
    PAGE,
    clock_of,
    errors_of,
    field_html,
    hosted_template,
    is_hidden,
    records,
    services_on,
    visible_text,
    visitor,
)

GOOD = {"name": "王芳", "phone": "138 0013 8000", "industry": "retail"}


@pytest.fixture(scope="module")
def template(_ui_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hosted_template(_ui_template, tmp_path_factory.mktemp("hosted_submit"))


@pytest.fixture
def svc(template: Path, tmp_path: Path) -> Iterator[Services]:
    yield from services_on(template, tmp_path)


def post(
    svc: Services,
    data: Any,
    address: str = "203.0.113.7",
    path: str = PAGE,
    locale: str = "en",
) -> Any:
    client = visitor(svc, address, **{"Accept-Language": locale})
    return client.post(path, data=data, follow_redirects=False)


# a submission that is taken --------------------------------------------------------------------
def test_a_submission_stores_the_record_with_its_channel_and_says_thanks(svc: Services) -> None:
    data = {
        **GOOD,
        "email": "Wang@Example.CN",
        "interests": ["crm", "bi"],
        "labels": "展会，老客户, vip",
        "newsletter": "true",
        "call_at": "2026-12-01T09:30",
        "visit_on": "2026-12-02",
        "budget": "12000.5",
        "rating": "",
        "note": "  ",
    }
    answer = post(svc, data)
    assert answer.status_code == 303
    thanks = f"{FORM}/thanks?source=qr_scan&act=2026-expo&lang=en"
    assert answer.headers["location"] == thanks
    (stored,) = records(svc)
    assert stored == {
        "name": "王芳",
        "phone": "13800138000",
        "email": "Wang@example.cn",
        "industry": "retail",
        "interests": ["crm", "bi"],
        "labels": ["展会", "老客户", "vip"],
        "newsletter": True,
        "call_at": "2026-12-01T01:30:00Z",  # the tenant's time zone, stored in UTC
        "visit_on": "2026-12-02",
        "budget": "12000.50",
        "source": "qr_scan",  # from the page's URL
        "activity": "2026-expo",
    }
    page = visitor(svc).get(thanks)
    assert page.status_code == 200
    assert "Thanks for signing up!" in visible_text(page.text)
    assert "already received" not in page.text
    assert f'href="{FORM}?source=qr_scan&amp;act=2026-expo&amp;lang=en"' in page.text


def test_the_thank_you_page_in_chinese_and_the_default_text(svc: Services) -> None:
    assert post(svc, GOOD, locale="zh-CN").headers["location"].endswith("&lang=zh-CN")
    page = visitor(svc).get(f"{FORM}/thanks?lang=zh-CN")
    assert "感谢登记！" in visible_text(page.text)
    plain = post(svc, {"name": "李", "industry": "retail"}, path="/f/formdemo/plain")
    assert plain.headers["location"] == "/f/formdemo/plain/thanks?lang=en"
    (plain_record,) = [r for r in records(svc) if r["name"] == "李"]
    assert plain_record["newsletter"] is True  # the form's default
    default = visitor(svc).get("/f/formdemo/plain/thanks?lang=en")
    assert "Thank you! We have received your details." in visible_text(default.text)
    assert "感谢提交！我们已收到您的信息。" in visitor(svc).get("/f/formdemo/plain/thanks").text


def test_without_a_channel_in_the_url_the_form_default_applies(svc: Services) -> None:
    assert post(svc, GOOD, path=FORM).status_code == 303
    assert records(svc)[0]["source"] == "website" and "activity" not in records(svc)[0]


def test_a_wrong_channel_in_the_url_is_dropped_not_refused(svc: Services) -> None:
    assert post(svc, GOOD, path=f"{FORM}?source=fax&act=2026-expo").status_code == 303
    stored = records(svc)[0]
    assert (stored["source"], stored["activity"]) == ("website", "2026-expo")


def test_a_form_with_a_redirect_goes_there(svc: Services) -> None:
    answer = post(svc, {"name": "张"}, path="/f/formdemo/redirecting")
    assert answer.status_code == 303
    assert answer.headers["location"] == "https://www.client.example/thanks"
    assert [r["name"] for r in records(svc)] == ["张"]


def test_a_multipart_submission_is_taken_too(svc: Services) -> None:
    client = visitor(svc)
    answer = client.post(PAGE, files={"name": (None, "赵"), "phone": (None, "13900139000")})
    assert answer.status_code == 200 and "感谢登记！" in answer.text  # the tenant's language
    assert records(svc)[0]["name"] == "赵"


def test_a_value_for_a_field_the_conditions_hide_is_dropped(svc: Services) -> None:
    assert post(svc, {**GOOD, "headcount": "50"}).status_code == 303  # retail: no headcount
    assert "headcount" not in records(svc)[0]
    made = post(svc, {**GOOD, "phone": "13900000001", "industry": "manufacturing", "headcount": 50})
    assert made.status_code == 303
    assert {r["phone"]: r.get("headcount") for r in records(svc)} == {
        "13800138000": None,
        "13900000001": 50,
    }


# field errors -------------------------------------------------------------------------------------
BAD = {
    "name": "",
    "phone": "not a phone",
    "industry": "manufacturing",  # headcount shows and is required
    "newsletter": "true",  # email becomes required
    "interests": ["crm", "erp"],
    "labels": "a, b",
    "note": "<script>alert(1)</script>",
}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            {
                "name": "Name is required",
                "phone": "Mobile is not a valid phone number",
                "email": "Email is required",
                "headcount": "Headcount is required",
            },
        ),
        (
            "zh-CN",
            {
                "name": "姓名必填",
                "phone": "手机不是有效的电话号码",
                "email": "邮箱必填",
                "headcount": "员工人数必填",
            },
        ),
    ],
)
def test_field_errors_are_told_next_to_their_fields_in_the_visitors_language(
    svc: Services, locale: str, expected: dict[str, str]
) -> None:
    answer = post(svc, BAD, locale=locale)
    assert answer.status_code == 422
    assert answer.headers["cache-control"] == "no-store"
    page = answer.text
    assert {name: errors_of(page, name) for name in expected} == expected
    assert errors_of(page, "website") == ""
    summary = re.findall(r'<li><a href="#f-(\w+)">([^<]+)</a></li>', page)
    assert summary == list(expected.items())  # in the page's order, each a link to its field
    assert 'aria-invalid="true"' in field_html(page, "phone")
    assert records(svc) == []


def test_after_an_error_the_answers_are_kept_and_the_conditions_hold(svc: Services) -> None:
    page = post(svc, BAD).text
    assert 'value="not a phone"' in field_html(page, "phone")
    assert 'value="crm" checked' in field_html(page, "interests")
    assert 'value="bi"><span>' in field_html(page, "interests")
    assert 'value="a, b"' in field_html(page, "labels")
    assert '<input type="radio" name="newsletter" value="true" checked' in page
    assert '<option value="manufacturing" selected>' in page
    note = field_html(page, "note")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in note
    assert "<script>alert" not in page
    assert not is_hidden(page, "headcount")  # shown: manufacturing was chosen
    assert 'name="website-url" value=""' in page  # the honeypot is never filled in again
    assert f'action="{FORM}?source=qr_scan&amp;act=2026-expo"' in page  # the channel stays


def test_a_phone_already_on_file_is_received_without_saying_so(svc: Services) -> None:
    assert post(svc, GOOD).status_code == 303
    clock_of(svc).advance(minutes=31)  # past the duplicate window: the unique phone decides
    again = post(svc, {**GOOD, "name": "又一个"}, address="198.51.100.1")
    assert again.status_code == 303  # thanked as for a new record: nothing told about the CRM
    assert "dup" not in again.headers["location"]
    assert [r["name"] for r in records(svc)] == [GOOD["name"]]  # the record is left alone
    mixed = post(svc, {**GOOD, "email": "not an email"}, address="198.51.100.2")
    assert mixed.status_code == 422  # other problems are shown, the taken phone is not
    assert errors_of(mixed.text, "phone") == ""
    assert errors_of(mixed.text, "email") != ""


# the duplicate window ---------------------------------------------------------------------------
def test_the_same_phone_twice_makes_one_record_and_says_so(svc: Services) -> None:
    first = post(svc, GOOD)
    again = post(svc, {**GOOD, "phone": "13800138000"}, address="198.51.100.1")
    assert (first.status_code, again.status_code) == (303, 303)
    assert "dup" not in first.headers["location"]
    assert again.headers["location"].endswith("&lang=en&dup=1")
    assert len(records(svc)) == 1
    page = visitor(svc).get(again.headers["location"]).text
    note = "We already received your details a moment ago, so this was not saved twice."
    assert "Thanks for signing up!" in page and note in page
    zh = visitor(svc).get(f"{FORM}/thanks?lang=zh-CN&dup=1").text
    assert "我们刚刚已收到您的信息，本次不会重复登记。" in zh


# rate limits -------------------------------------------------------------------------------------
def test_one_address_is_limited_and_told_when_to_try_again(svc: Services) -> None:
    for i in range(3):  # per_ip: 3 within 10 minutes (refusals count too)
        data = {**GOOD, "phone": f"1390000000{i}"} if i else {"name": ""}
        assert post(svc, data).status_code in (303, 422)
    answer = post(svc, {**GOOD, "phone": "13900000009"})
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "600"
    said = visible_text(answer.text)
    assert "Too many submissions from your network. Please try again in 10 minutes." in said
    assert "Your answers are kept below; nothing was saved yet." in said
    assert 'value="13900000009"' in field_html(answer.text, "phone")
    zh = post(svc, GOOD, locale="zh-CN")
    assert "您所在网络的提交次数过多。请 10 分钟后再试。" in visible_text(zh.text)
    assert len(records(svc)) == 2
    # another address is not limited; this one is again once the window has passed
    assert post(svc, {**GOOD, "phone": "13700000000"}, address="198.51.100.1").status_code == 303
    clock_of(svc).advance(minutes=9, seconds=30)
    assert post(svc, {**GOOD, "phone": "13700000001"}).headers["retry-after"] == "30"
    clock_of(svc).advance(seconds=30)
    assert post(svc, {**GOOD, "phone": "13700000001"}).status_code == 303


def test_the_whole_form_is_limited_too(svc: Services) -> None:
    for i in range(5):  # per_form: 5 within 10 minutes
        made = post(svc, {**GOOD, "phone": f"1390000000{i}"}, address=f"198.51.100.{i}")
        assert made.status_code == 303
    answer = post(svc, {**GOOD, "phone": "13900000009"}, address="192.0.2.1")
    assert answer.status_code == 429 and answer.headers["retry-after"] == "600"
    assert "This form is receiving too many submissions right now." in visible_text(answer.text)
    assert len(records(svc)) == 5


# the honeypot and the body limit ----------------------------------------------------------------
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_a_filled_in_honeypot_is_refused_and_nothing_stored(svc: Services, locale: str) -> None:
    answer = post(svc, {**GOOD, "website-url": "http://spam.example"}, locale=locale)
    assert answer.status_code == 422
    said = visible_text(answer.text)
    if locale == "en":
        assert "Your submission looked automated, so it was not saved." in said
        assert "Please reload the page and try again." in said
    else:
        assert "您的提交看起来像是自动程序发出的，因此未被保存。请刷新页面后重试。" in said
    assert f'href="{FORM}?source=qr_scan&amp;act=2026-expo"' in answer.text
    assert records(svc) == []


def test_a_body_over_the_limit_is_refused_and_nothing_stored(svc: Services) -> None:
    answer = post(svc, {**GOOD, "note": "x" * 3000})  # max_body_kb: 2
    assert answer.status_code == 413
    said = visible_text(answer.text)
    assert "The submission is larger than this form accepts (2 KB)" in said
    chunks = (b"name=a&note=" + b"y" * 1000 for _ in range(3))  # no Content-Length
    streamed = visitor(svc).post(
        PAGE, content=chunks, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413
    as_json = visitor(svc).post(PAGE, json={**GOOD, "note": "z" * 3000})
    assert as_json.status_code == 413 and as_json.json()["status"] == 413
    assert records(svc) == []


# JSON from a client's own script ----------------------------------------------------------------
def test_json_submissions_answer_json(svc: Services) -> None:
    client = visitor(svc, **{"Accept-Language": "en"})
    made = client.post(PAGE, json=GOOD)
    assert made.status_code == 201
    assert made.json() == {
        "status": "created",
        "message": "Thanks for signing up!",
        "redirect": None,
    }
    again = client.post(PAGE, json={**GOOD, "name": "again"})
    assert again.status_code == 201
    assert again.json()["status"] == "duplicate"
    assert again.json()["message"].startswith("We already received your details")
    other = client.post("/f/formdemo/redirecting", json={"name": "x"})
    assert other.json()["redirect"] == "https://www.client.example/thanks"
    by_name = {r["name"]: r for r in records(svc)}
    assert sorted(by_name) == ["x", "王芳"]
    assert by_name["王芳"]["source"] == "qr_scan"


def test_json_errors_are_problems_with_a_message_per_field(svc: Services) -> None:
    client = visitor(svc, **{"Accept-Language": "zh-CN"})
    answer = client.post(PAGE, json={"phone": "x", "industry": "manufacturing", "bogus": 1})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == 422 and body["detail"] == "请检查下方标出的项目。"
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages == {
        "name": "姓名必填",
        "phone": "手机不是有效的电话号码",
        "headcount": "员工人数必填",
        "bogus": "bogus不是lead的字段",  # the engine's words
    }
    spam = client.post(PAGE, json={**GOOD, "website-url": "x"})
    assert spam.status_code == 422 and spam.json()["title"] == "提交未被接受"
    assert client.post(PAGE, json=GOOD).status_code == 201  # the third from this address
    limited = client.post(PAGE, json={**GOOD, "phone": "13900139000"})
    assert limited.status_code == 429
    assert limited.json()["retry_after"] == 600 and limited.headers["retry-after"] == "600"
    assert limited.json()["detail"] == "您所在网络的提交次数过多。请 10 分钟后再试。"
    assert [r["name"] for r in records(svc)] == ["王芳"]


# garbage ---------------------------------------------------------------------------------------
FORM_TYPE = "application/x-www-form-urlencoded"
GARBAGE: list[tuple[bytes, str, int]] = [
    (b"name=%ff%fe&phone=1", FORM_TYPE, 400),  # not UTF-8 after %-decoding
    (b"name=\xff\xfe", FORM_TYPE, 400),  # not UTF-8
    (b"&&&===&=", FORM_TYPE, 422),
    (b"name=" + b"%00" * 10, FORM_TYPE, 422),
    (b"a=1&" * 250, FORM_TYPE, 400),  # too many fields
    (b"name=x&headcount=1e999&budget=NaN&visit_on=2026-02-30&call_at=tomorrow", FORM_TYPE, 422),
    (b"name=x&phone=1&interests=nope&newsletter=maybe&referrer=../../etc", FORM_TYPE, 422),
    (b"name=x&phone=13800138000&unknown=1&__proto__=1", FORM_TYPE, 422),
    (b"name=" + "长".encode() * 500, FORM_TYPE, 422),  # longer than max_length
    (b"{bad", "application/json", 400),
    (b"\xff\xfe\x00{", "application/json", 400),
    (b"[1, 2]", "application/json", 422),
    (b'"text"', "application/json", 422),
    (b"null", "application/json", 422),
    (b"[" * 1500, "application/json", 400),  # too deep
    (b'{"name": 1' + b"0" * 1500 + b"}", "application/json", 422),  # too long a number
    (b'{"name": {"a": [1]}, "phone": [1, 2], "headcount": true}', "application/json", 422),
    (b'{"name": "\\ud800", "phone": "\\u0000"}', "application/json", 422),
    (b'{"name": "x", "industry": "manufacturing", "headcount": 1e309}', "application/json", 422),
    (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n", "multipart/form-data", 400),
    (b"garbage", "multipart/form-data; boundary=b", 400),
    (
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nx\r\n--b--\r\n',
        "multipart/form-data; boundary=b",
        400,
    ),
    (b"name=x", "text/plain", 415),
    (b"name=x", "", 415),
    (b"<xml/>", "application/xml", 415),
]


@pytest.mark.parametrize(("content", "content_type", "status"), GARBAGE)
def test_garbage_is_refused_without_a_500_and_nothing_stored(
    svc: Services, content: bytes, content_type: str, status: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    answer = visitor(svc).post(PAGE, content=content, headers=headers, follow_redirects=False)
    assert answer.status_code == status, answer.text
    if content_type.startswith("application/json"):
        assert answer.headers["content-type"] == "application/problem+json"
        assert json.loads(answer.text)["status"] == status
    else:
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert "Traceback" not in answer.text
    assert records(svc) == []


def test_odd_urls_and_headers_never_fail(svc: Services) -> None:
    client = visitor(svc, **{"Accept-Language": "q=;;,,*;q=2, x-" + "a" * 300})
    for path in (f"{FORM}?lang=%ff&source=%00&act={'x' * 500}", f"{FORM}?a=1&a=2&lang="):
        assert client.get(path).status_code == 200
        assert client.post(path, data=GOOD, follow_redirects=False).status_code in (303, 422)
    assert client.get(f"{FORM}/").status_code == 200  # a trailing slash goes to the page
    assert client.head(FORM).status_code == 200
    assert client.put(FORM).status_code == 405
