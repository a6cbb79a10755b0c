"""Reading the dashboard, assignment and campaign pages in tests: the page in a language, a
chart by id and its bars (each bar's <title> is "name: value")."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.admin_ui.conftest import csrf_of


def in_language(client: TestClient, locale: str, path: str) -> str:
    """The page at `path` after switching the session's language."""
    token = csrf_of(client.get(path).text)
    client.post("/admin/language", data={"csrf_token": token, "locale": locale, "next": path})
    page = client.get(path)
    assert page.status_code == 200, page.text
    return page.text


def svg(html: str, chart_id: str) -> str:
    found = re.search(rf'<svg[^>]*id="{re.escape(chart_id)}".*?</svg>', html, re.S)
    assert found, f"no chart {chart_id}"
    return found.group(0)


def bars(chart: str) -> dict[str, str]:
    """A chart's bars by name: the value each one's title gives."""
    titles = re.findall(r"<rect[^>]*><title>([^<]*)</title>", chart)
    named = dict(title.rsplit(": ", 1) for title in titles)
    assert len(named) == len(titles), f"bars with the same name: {titles}"
    return named


def signed_out_redirects(client: TestClient, path: str) -> None:
    anonymous = TestClient(client.app)
    answer = anonymous.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login")
