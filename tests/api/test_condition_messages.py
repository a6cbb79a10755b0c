"""A wrong where= condition is explained in the caller's language (Accept-Language)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_records_api import BASE, GOOD, problem

URL = f"{BASE}/records/customer"


def test_a_bad_where_in_chinese(client: TestClient, auth: dict[str, str]) -> None:
    zh = {**auth, "Accept-Language": "zh-CN"}
    body = problem(client.get(URL, params={"where": "budjet > 1"}, headers=zh), 400)
    error = body["errors"][0]
    assert set(error) == {"field", "code", "message", "start", "end", "caret"}
    assert (error["field"], error["code"], error["start"], error["end"]) == (
        "where",
        "condition",
        0,
        6,
    )
    assert error["message"] == "未知字段“budjet” — 您是不是要写“budget”？"
    assert error["caret"] == "budjet > 1\n^~~~~~"
    english = problem(client.get(URL, params={"where": "budjet > 1"}, headers=auth), 400)
    assert english["errors"][0]["message"] == "unknown field 'budjet' — did you mean 'budget'?"


def test_syntax_and_type_errors_in_chinese(client: TestClient, auth: dict[str, str]) -> None:
    zh = {**auth, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    cases = {
        "(budget > 1": "此处应为 ')'，实际是条件结尾",
        "name == 'abc": "文本缺少结束引号 — 请用相同的引号结束文本",
        "name > 3": "无法比较 name（文本） 与 整数 3 — 与文本比较请加引号：'3'",
    }
    for where, message in cases.items():
        body = problem(client.get(URL, params={"where": where}, headers=zh), 400)
        assert body["errors"][0]["message"] == message, where


def test_check_explains_a_bad_condition_in_chinese(
    client: TestClient, auth: dict[str, str]
) -> None:
    rid = client.post(URL, json=GOOD, headers=auth).json()["id"]
    zh = {**auth, "Accept-Language": "zh-CN"}
    body = problem(client.post(f"{URL}/{rid}/check", json={"where": "foo(1)"}, headers=zh), 400)
    assert body["errors"][0]["message"].startswith("未知函数“foo” — 已有函数：abs, ")
