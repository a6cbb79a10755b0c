"""POST /config/dry-run: a candidate's effect on the stored records as JSON, nothing written;
422 with located errors for a bad bundle, 4xx (never 500) for every other bad request."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine.config.loader import read_bundle_dir
from engine.service import Services
from engine.storage import tables as t
from tests.helpers import FIXTURES, START

URL = "/api/v1/shop/config/dry-run"
THRESHOLD = (
    "when: {field: budget, op: gte, value: 100000}",
    "when: {field: budget, op: gte, value: 50000}",
)


def shop_files(old: str = "", new: str = "") -> dict[str, str]:
    files = read_bundle_dir(FIXTURES / "shop")
    if old:
        files["pools.yaml"] = files["pools.yaml"].replace(old, new)
    return files


def records(svc: Services) -> list[Any]:
    with svc.store.read() as tx:
        return sorted(tuple(r) for r in tx.conn.execute(sa.select(t.records)))


def test_a_dry_run_of_files_reports_moves_and_writes_nothing(
    client: TestClient, svc: Services, auth: dict[str, str]
) -> None:
    for budget in ("60000", "70000", "150000", "5"):
        svc.records.create(
            "shop", "customer", {"name": f"c{budget}", "budget": budget, "region": "east"}
        )
    before = records(svc)
    body = {"files": shop_files(*THRESHOLD), "now": "2026-12-01T09:00:00+08:00"}
    answer = client.post(URL, json=body, headers=auth)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert records(svc) == before and len(svc.configs.versions("shop")) == 1
    assert report["tenant"] == "shop" and report["now"] == "2026-12-01T01:00:00Z"
    (entity,) = report["entities"]
    assert (entity["entity"], entity["scanned"], entity["changed"]) == ("customer", 4, 2)
    (move,) = entity["pool_moves"]
    assert (move["before"], move["after"], move["count"]) == ("has_need", "key", 2)
    assert move["after_label"] == {"zh-CN": "重点跟进池", "en": "Key follow-up"}
    assert {e["title"] for e in move["examples"]} == {"c60000", "c70000"}
    assert report["changes"] == [
        {
            "kind": "promotion",
            "id": "customer_pool.big_budget",
            "change": "changed",
            "keys": ["when"],
        }
    ]
    sampled = client.post(URL, json={**body, "sample": 1}, headers=auth).json()
    assert sampled["entities"][0]["scanned"] == 1 and sampled["sample"] == 1


def test_a_stored_version_can_be_dry_run_by_number(
    client: TestClient, svc: Services, auth: dict[str, str]
) -> None:
    svc.records.create("shop", "customer", {"name": "c", "budget": "60000", "region": "east"})
    pushed = client.post(
        "/api/v1/shop/config/versions", json={"files": shop_files(*THRESHOLD)}, headers=auth
    )
    number = pushed.json()["number"]
    answer = client.post(URL, json={"version": number}, headers=auth)
    assert answer.status_code == 200
    assert answer.json()["candidate_version"] == number
    assert answer.json()["entities"][0]["pool_moves"][0]["count"] == 1
    assert client.post(URL, json={"version": 99}, headers=auth).status_code == 404


def test_a_bad_bundle_is_422_with_every_error_located(
    client: TestClient, auth: dict[str, str]
) -> None:
    bad = shop_files("to: won", "to: wonn")
    answer = client.post(URL, json={"files": bad}, headers=auth)
    assert answer.status_code == 422
    error = answer.json()["errors"][0]
    assert error["file"] == "pools.yaml" and error["line"] > 1 and error["column"] >= 1


def test_bad_requests_are_4xx_never_500(
    client: TestClient, svc: Services, auth: dict[str, str], other_auth: dict[str, str]
) -> None:
    files = shop_files()
    other = read_bundle_dir(FIXTURES / "other")
    cases: list[tuple[Any, int]] = [
        ({"files": other}, 422),  # another tenant's bundle
        ({}, 422),
        ({"files": files, "version": 1}, 422),
        ({"files": "tenant: shop"}, 422),
        ({"files": {"tenant.yaml": 5}}, 422),
        ({"version": "1"}, 422),
        ({"version": True}, 422),
        ({"version": 0}, 422),
        ({"files": files, "now": "tomorrow"}, 422),
        ({"files": files, "now": "2026-12-01T09:00:00"}, 422),  # no offset
        ({"files": files, "now": 5}, 422),
        ({"files": files, "sample": 0}, 422),
        ({"files": files, "sample": "10"}, 422),
        ([1, 2], 422),
    ]
    for body, status in cases:
        answer = client.post(URL, json=body, headers=auth)
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert client.post(URL, json={"files": files}, headers=other_auth).status_code == 404
    assert client.post(URL, json={"files": files}).status_code == 401
    rep = {"Authorization": f"Bearer {svc.keys.create('shop', name='rep', user='alice')}"}
    assert client.post(URL, json={"files": files}, headers=rep).status_code == 403


def test_now_moves_time_based_rules(
    client: TestClient, svc: Services, auth: dict[str, str]
) -> None:
    svc.records.create(
        "shop", "customer", {"name": "quiet", "last_followup_at": "2026-11-20T00:00:00Z"}
    )
    later = (START.replace(year=2027)).isoformat()
    moved = client.post(URL, json={"files": shop_files(), "now": later}, headers=auth).json()
    (move,) = moved["entities"][0]["pool_moves"]
    assert (move["before"], move["after"], move["rules"][0]["rule"]) == (
        "nurturing",
        "public",
        "recycle_unattended",
    )
    today = client.post(URL, json={"files": shop_files()}, headers=auth).json()
    assert today["entities"][0]["pool_moves"] == [] and today["changed"] == 0
