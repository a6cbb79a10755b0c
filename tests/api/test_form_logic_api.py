"""Submitting a form with conditional fields over the API: 422s name the field a condition
makes required, in the caller's language; the query string fills the hidden fields."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.service import Services
from tests.helpers import FIXTURES

URL = "/api/v1/forms/forms/signup/submit"


@pytest.fixture
def headers(svc: Services) -> dict[str, str]:
    svc.install_dirs([FIXTURES / "forms"])
    return {"Authorization": f"Bearer {svc.keys.create('forms')}"}


def test_422_lists_the_missing_required_when_field(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = {"name": "甲", "interest": "enterprise", "budget": "200000"}
    answer = client.post(URL, json=body, headers=headers)
    assert answer.status_code == 422
    problem = answer.json()
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("seats", "required"),
        ("note", "required_when"),
    ]
    assert problem["errors"][1]["message"] == "is required when interest == 'enterprise'"


def test_zh_cn_message_with_accept_language(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post(
        URL,
        json={"name": "甲", "interest": "enterprise"},
        headers={**headers, "Accept-Language": "zh-CN,zh;q=0.9"},
    )
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert errors == [
        {"field": "note", "code": "required_when", "message": "当 interest == 'enterprise' 时必填"}
    ]


def test_query_fills_hidden_fields_and_invisible_values_are_dropped(
    client: TestClient, svc: Services, headers: dict[str, str]
) -> None:
    answer = client.post(
        f"{URL}?source=qr_scan&act=2026-expo&utm_campaign=spring",
        json={"name": "乙", "interest": "basic", "budget": "9000"},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()["data"]
    assert data == {"name": "乙", "interest": "basic", "source": "qr_scan", "activity": "2026-expo"}
    stored = svc.records.get("forms", "lead", answer.json()["id"]).data
    assert "budget" not in stored


def test_idempotency_key_covers_the_query(client: TestClient, headers: dict[str, str]) -> None:
    keyed = {**headers, "Idempotency-Key": "form-1"}
    first = client.post(f"{URL}?act=a", json={"name": "丙"}, headers=keyed)
    assert first.status_code == 201
    again = client.post(f"{URL}?act=a", json={"name": "丙"}, headers=keyed)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    other = client.post(f"{URL}?act=b", json={"name": "丙"}, headers=keyed)
    assert other.status_code == 422
