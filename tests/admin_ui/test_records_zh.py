"""The records page explains a wrong condition in the viewer's language: message and hint."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.admin_ui.conftest import SignIn, csrf_of

PATH = "/admin/records/customer"
WHERE = "budget >= 10000 and regoin == 'east'"


def switch(client: TestClient, locale: str) -> None:
    token = csrf_of(client.get(PATH).text)
    form = {"locale": locale, "next": PATH, "csrf_token": token}
    answer = client.post("/admin/language", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def problem(page: str) -> tuple[str, str]:
    """(message, hint) shown under the condition box."""
    message = re.search(r'<span class="message">([^<]*)</span>', page)
    hint = re.search(r'<span class="hint">— ([^<]*)</span>', page)
    assert message and hint, page
    return html.unescape(message.group(1)), html.unescape(hint.group(1))


def test_a_misspelt_field_is_explained_in_chinese(sign_in: SignIn) -> None:
    client = sign_in("chaotu-demo", "frank")
    switch(client, "zh-CN")
    page = client.get(PATH, params={"where": WHERE}).text
    assert "条件第 21 列有错误：" in page
    assert problem(page) == ("未知字段“regoin”", "您是不是要写“region”？")
    assert "unknown field" not in page and "did you mean" not in page
    assert '<mark class="bad">regoin</mark>' in page

    switch(client, "en")
    page = client.get(PATH, params={"where": WHERE}).text
    assert "The condition has an error at column 21:" in page
    assert problem(page) == ("unknown field 'regoin'", "did you mean 'region'?")


def test_a_type_mismatch_and_a_syntax_error_in_chinese(sign_in: SignIn) -> None:
    client = sign_in("chaotu-demo", "frank")
    switch(client, "zh-CN")
    page = client.get(PATH, params={"where": "budget >= 'x'"}).text
    message, hint = problem(page)
    assert message.startswith("无法比较 budget（") and "文本 'x'" in message
    assert hint == "budget 是数字"
    page = client.get(PATH, params={"where": "(budget > 1"}).text
    assert "此处应为 &#39;)&#39;，实际是条件结尾" in page
