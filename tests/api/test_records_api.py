"""The records REST API: statuses, problem+json bodies, headers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.service import Services

BASE = "/api/v1/shop"
GOOD = {"name": "甲公司", "phone": "13800138000", "budget": "10", "region": "east"}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and "errors" in body
    return body


def test_create_read_update_delete(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post(f"{BASE}/records/customer", json=GOOD, headers=auth)
    assert created.status_code == 201
    rid = created.json()["id"]
    got = client.get(f"{BASE}/records/customer/{rid}", headers=auth)
    assert got.json()["data"]["budget"] == "10.00" and got.headers["etag"] == '"1"'
    patched = client.patch(
        f"{BASE}/records/customer/{rid}", json={"budget": 20}, headers={**auth, "If-Match": '"1"'}
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert client.delete(f"{BASE}/records/customer/{rid}", headers=auth).status_code == 204
    problem(client.get(f"{BASE}/records/customer/{rid}", headers=auth), 404)
    history = client.get(f"{BASE}/records/customer/{rid}/history", headers=auth).json()
    assert [h["action"] for h in history["history"]] == ["create", "update", "delete"]
    assert {h["actor"] for h in history["history"]} == {"api:default"}


def test_every_bad_field_is_listed(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post(
        f"{BASE}/records/customer",
        json={"phone": "x", "budjet": 1},
        headers={**auth, "Accept-Language": "zh-CN"},
    )
    body = problem(response, 422)
    assert {e["field"] for e in body["errors"]} == {"phone", "budjet", "name"}
    assert all(set(e) == {"field", "code", "message"} for e in body["errors"])
    assert any(e["message"] == "必填" for e in body["errors"])


def test_stale_version_is_a_conflict_with_the_current_version(
    client: TestClient, auth: dict[str, str]
) -> None:
    rid = client.post(f"{BASE}/records/customer", json=GOOD, headers=auth).json()["id"]
    client.patch(f"{BASE}/records/customer/{rid}", json={"budget": 1}, headers=auth)
    stale = client.patch(
        f"{BASE}/records/customer/{rid}", json={"budget": 2, "version": 1}, headers=auth
    )
    assert problem(stale, 409)["current_version"] == 2
    stale_delete = client.delete(
        f"{BASE}/records/customer/{rid}", headers={**auth, "If-Match": "1"}
    )
    problem(stale_delete, 409)
    bad_version = client.patch(
        f"{BASE}/records/customer/{rid}", json={"budget": 2}, headers={**auth, "If-Match": "latest"}
    )
    problem(bad_version, 422)


def test_duplicate_unique_value_is_a_conflict(client: TestClient, auth: dict[str, str]) -> None:
    client.post(f"{BASE}/records/customer", json=GOOD, headers=auth)
    body = problem(client.post(f"{BASE}/records/customer", json=GOOD, headers=auth), 409)
    assert body["errors"][0]["field"] == "phone"


def test_auth(client: TestClient, auth: dict[str, str], other_auth: dict[str, str]) -> None:
    url = f"{BASE}/records/customer"
    problem(client.get(url), 401)
    problem(client.get(url, headers={"Authorization": "Bearer tp_0000000000000000_nope"}), 401)
    problem(client.get(url, headers={"Authorization": "Basic abc"}), 401)
    problem(client.get(url, headers=other_auth), 404)  # another tenant's key: no leak
    problem(client.get("/api/v1/nobody/records/customer", headers=auth), 404)
    assert client.get(url, headers=auth).status_code == 200


def test_revoked_key_stops_working(svc: Services, client: TestClient) -> None:
    key = svc.keys.create("shop", name="temp")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(f"{BASE}/records/customer", headers=headers).status_code == 200
    assert svc.keys.revoke("shop", "temp") == 1
    svc.keys.forget_cache()
    problem(client.get(f"{BASE}/records/customer", headers=headers), 401)


def test_unreadable_bodies_are_422_not_500(client: TestClient, auth: dict[str, str]) -> None:
    url = f"{BASE}/records/customer"
    raw = client.post(
        url, content=b"{not json", headers={**auth, "Content-Type": "application/json"}
    )
    problem(raw, 422)
    problem(client.post(url, json=[1, 2], headers=auth), 422)
    problem(client.post(f"{BASE}/records/nothing", json={}, headers=auth), 404)


def test_oversized_body_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    big = b'{"name": "' + b"x" * 10_000_001 + b'"}'
    response = client.post(
        f"{BASE}/records/customer",
        content=big,
        headers={**auth, "Content-Type": "application/json"},
    )
    problem(response, 413)


def test_form_submit(client: TestClient, auth: dict[str, str]) -> None:
    ok = client.post(
        f"{BASE}/forms/signup/submit", json={"name": "a", "region": "north"}, headers=auth
    )
    assert ok.status_code == 201 and ok.json()["data"]["source"] == "website_form"
    problem(client.post(f"{BASE}/forms/signup/submit", json={"name": "a"}, headers=auth), 422)
    problem(client.post(f"{BASE}/forms/nope/submit", json={}, headers=auth), 404)


def test_batch(client: TestClient, auth: dict[str, str]) -> None:
    items = [{"name": "a"}, {"name": ""}, {"name": "c", "budget": "-1"}]
    response = client.post(f"{BASE}/records/customer/batch", json={"records": items}, headers=auth)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == [201, 422, 422]
    too_many = client.post(
        f"{BASE}/records/customer/batch", json={"records": [{"name": "x"}] * 1001}, headers=auth
    )
    problem(too_many, 413)
    problem(client.post(f"{BASE}/records/customer/batch", json={"rows": []}, headers=auth), 422)


def test_idempotency_key(client: TestClient, auth: dict[str, str]) -> None:
    headers = {**auth, "Idempotency-Key": "abc-1"}
    first = client.post(f"{BASE}/records/customer", json=GOOD, headers=headers)
    again = client.post(f"{BASE}/records/customer", json=GOOD, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    listed = client.get(f"{BASE}/records/customer", headers=auth).json()["records"]
    assert len(listed) == 1
    body = problem(
        client.post(f"{BASE}/records/customer", json={**GOOD, "budget": "11"}, headers=headers), 422
    )
    assert "Idempotency-Key" in body["detail"]


def test_list_filters_sort_and_cursor(client: TestClient, auth: dict[str, str]) -> None:
    for i in range(5):
        client.post(
            f"{BASE}/records/customer", json={"name": f"n{i}", "employees": i}, headers=auth
        )
    page = client.get(
        f"{BASE}/records/customer?employees__gte=1&sort=-employees&limit=2", headers=auth
    ).json()
    assert [r["data"]["name"] for r in page["records"]] == ["n4", "n3"]
    rest = client.get(
        f"{BASE}/records/customer?employees__gte=1&sort=-employees&limit=2"
        f"&cursor={page['next_cursor']}",
        headers=auth,
    ).json()
    assert [r["data"]["name"] for r in rest["records"]] == ["n2", "n1"]
    body = problem(client.get(f"{BASE}/records/customer?regoin=east", headers=auth), 400)
    assert "did you mean 'region'?" in body["errors"][0]["message"]
    problem(client.get(f"{BASE}/records/customer?limit=0", headers=auth), 422)


def test_openapi_documents_the_records_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/{tenant}/records/{entity}" in spec["paths"]
    assert "/api/v1/{tenant}/records/{entity}/batch" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_where_runs_a_condition_in_the_database(client: TestClient, auth: dict[str, str]) -> None:
    for i, region in enumerate(["east", "north", "east"]):
        client.post(
            f"{BASE}/records/customer",
            json={"name": f"n{i}", "budget": 1000 * i, "region": region},
            headers=auth,
        )
    url = f"{BASE}/records/customer"
    found = client.get(
        url, params={"where": "budget >= 1000 and region == 'east'"}, headers=auth
    ).json()
    assert [r["data"]["name"] for r in found["records"]] == ["n2"]
    both = client.get(
        url, params={"where": "region == 'east'", "budget__gte": "1"}, headers=auth
    ).json()
    assert [r["data"]["name"] for r in both["records"]] == ["n2"]
    body = problem(client.get(url, params={"where": "budjet > 1"}, headers=auth), 400)
    error = body["errors"][0]
    assert (error["field"], error["start"], error["end"]) == ("where", 0, 6)
    assert error["message"] == "unknown field 'budjet' — did you mean 'budget'?"
    assert error["caret"] == "budjet > 1\n^~~~~~"


def test_saved_views(client: TestClient, auth: dict[str, str]) -> None:
    for name, budget in (("small", 10), ("big", 500000), ("bigger", 900000)):
        client.post(
            f"{BASE}/records/customer",
            json={"name": name, "budget": budget, "region": "east"},
            headers=auth,
        )
    page = client.get(f"{BASE}/records/customer?view=big_east", headers=auth).json()
    assert [r["data"]["name"] for r in page["records"]] == ["bigger", "big"]  # view's sort
    asc = client.get(f"{BASE}/records/customer?view=big_east&sort=budget", headers=auth).json()
    assert [r["data"]["name"] for r in asc["records"]] == ["big", "bigger"]
    body = problem(client.get(f"{BASE}/records/customer?view=big_eats", headers=auth), 404)
    assert "did you mean 'big_east'?" in body["detail"]


def test_check_explains_a_condition_on_a_record(client: TestClient, auth: dict[str, str]) -> None:
    rid = client.post(f"{BASE}/records/customer", json=GOOD, headers=auth).json()["id"]
    url = f"{BASE}/records/customer/{rid}/check"
    answer = client.post(
        url,
        json={"where": "budget > 5 and region == 'north'"},
        headers={**auth, "Accept-Language": "zh-CN"},
    ).json()
    assert answer["result"] is False
    assert answer["condition"] == "budget > 5 and region == 'north'"
    assert answer["explanation"].splitlines() == [
        "✗ budget > 5 and region == 'north'",
        "  ✓ budget > 5",
        "    budget = 10",
        "  ✗ region == 'north'",
        "    region = 'east'",
    ]
    problem(client.post(url, json={"where": "budjet > 5"}, headers=auth), 400)
    problem(client.post(url, json={}, headers=auth), 422)
    problem(
        client.post(f"{BASE}/records/customer/nope/check", json={"where": "vip"}, headers=auth), 404
    )


def test_explain_over_the_api(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post(f"{BASE}/records/customer", json=GOOD, headers=auth).json()
    assert created["pool"] == "has_need"  # budget 10 in the east: need confirmed on create
    answer = client.get(
        f"{BASE}/records/customer/{created['id']}/explain",
        headers={**auth, "Accept-Language": "zh-CN"},
    ).json()
    assert answer["record"]["pool"] == "has_need"
    moves = [d for d in answer["timeline"] if d["kind"] == "pool_move"]
    assert moves[0]["rule"] == "customer_pool.need_confirmed"
    assert [w["rule"] for w in answer["why_not"]] == ["paid", "big_budget", "recycle_unattended"]
    problem(client.get(f"{BASE}/records/customer/nope/explain", headers=auth), 404)


def test_move_over_the_api(client: TestClient, auth: dict[str, str]) -> None:
    rid = client.post(f"{BASE}/records/customer", json={"name": "a"}, headers=auth).json()["id"]
    url = f"{BASE}/records/customer/{rid}/move"
    moved = client.post(url, json={"pool": "has_need"}, headers=auth)
    assert moved.status_code == 200 and moved.json()["pool"] == "has_need"
    assert problem(client.post(url, json={"pool": "public"}, headers=auth), 409)["errors"]
    problem(client.post(url, json={"pool": "has_need", "version": 1}, headers=auth), 409)


def test_claim_and_release_over_the_api(client: TestClient, auth: dict[str, str]) -> None:
    data = {"name": "a", "last_followup_at": "2026-10-01T00:00:00Z"}
    rid = client.post(f"{BASE}/records/customer", json=data, headers=auth).json()["id"]
    url = f"{BASE}/records/customer/{rid}"
    claimed = client.post(f"{url}/claim", json={"user": "alice"}, headers=auth)
    assert claimed.status_code == 200, claimed.text
    body = claimed.json()
    assert (body["owner"], body["pool"]) == ("alice", "has_need")
    assert body["protected_until"] == "2026-12-04T08:00:00Z"
    assert claimed.headers["ETag"] == '"2"'
    again = client.post(
        f"{url}/claim", json={"user": "bob"}, headers={**auth, "Accept-Language": "zh-CN"}
    )
    refused = problem(again, 409)
    assert refused["errors"] == [
        {
            "field": "user",
            "code": "claim_not_public",
            "message": "不在公海中（当前在has_need，负责人 alice）",
        }
    ]
    problem(client.post(f"{url}/claim", json={"user": "nobody"}, headers=auth), 422)
    problem(client.post(f"{url}/release", json={"user": "bob"}, headers=auth), 409)
    released = client.post(f"{url}/release", headers=auth)  # no body: whoever holds it
    assert released.status_code == 200 and released.json()["owner"] is None
    problem(client.post(f"{BASE}/records/order/{rid}/claim", json={"user": "a"}, headers=auth), 404)


def test_owner_through_the_api(client: TestClient, auth: dict[str, str]) -> None:
    made = client.post(f"{BASE}/records/customer", json={"name": "a", "owner": "bob"}, headers=auth)
    assert made.status_code == 201 and made.json()["owner"] == "bob"
    rid = made.json()["id"]
    wrong = client.patch(f"{BASE}/records/customer/{rid}", json={"owner": "zed"}, headers=auth)
    assert problem(wrong, 422)["errors"][0]["field"] == "owner"
    cleared = client.patch(f"{BASE}/records/customer/{rid}", json={"owner": None}, headers=auth)
    assert cleared.status_code == 200 and cleared.json()["owner"] is None


def test_assignment_over_the_api(client: TestClient, svc: Any) -> None:
    from tests.helpers import FIXTURES

    svc.install_dirs([FIXTURES / "leads"])
    headers = {"Authorization": f"Bearer {svc.keys.create('leads')}", "Accept-Language": "zh-CN"}
    base = "/api/v1/leads"
    made = client.post(
        f"{base}/records/lead", json={"name": "a", "industry": "other"}, headers=headers
    )
    assert made.status_code == 201 and made.json()["owner"] == "u1"
    rid = made.json()["id"]
    moved = client.post(f"{base}/records/lead/{rid}/assign", json={"user": "u3"}, headers=headers)
    assert moved.status_code == 200 and moved.json()["owner"] == "u3"
    problem(
        client.post(f"{base}/records/lead/{rid}/assign", json={"user": "zz"}, headers=headers), 422
    )
    stats = client.get(f"{base}/assignment/stats", headers=headers).json()
    assert {u["user"] for u in stats["users"]} >= {"u1", "u3"}
    timeline = client.get(f"{base}/records/lead/{rid}/explain", headers=headers).json()["timeline"]
    assert timeline[0]["explanation"].splitlines()[0] == "规则 everyone（轮询）"


def test_a_users_key_assigns_only_with_a_role_that_can(client: TestClient, svc: Any) -> None:
    from tests.helpers import FIXTURES

    svc.install_dirs([FIXTURES / "leads"])
    base = "/api/v1/leads"

    def as_(user: str) -> dict[str, str]:
        key = svc.keys.create("leads", name=f"{user}-phone", user=user)
        return {"Authorization": f"Bearer {key}", "Accept-Language": "zh-CN"}

    rep, manager = as_("u2"), as_("m1")
    rid = client.post(f"{base}/records/lead", json={"name": "a"}, headers=manager).json()["id"]
    refused = problem(
        client.post(f"{base}/records/lead/{rid}/assign", json={"user": "u2"}, headers=rep), 403
    )
    error = refused["errors"][0]
    assert (error["field"], error["code"]) == ("user", "forbidden")
    assert error["message"] == "Two无权手动分配记录（有此权限的角色：组长）"  # labels, not ids
    assert client.get(f"{base}/records/lead/{rid}", headers=rep).json()["owner"] == "u1"
    moved = client.post(f"{base}/records/lead/{rid}/assign", json={"user": "u2"}, headers=manager)
    assert moved.status_code == 200 and moved.json()["owner"] == "u2"
    timeline = client.get(f"{base}/records/lead/{rid}/explain", headers=manager).json()
    last = timeline["timeline"][-1]
    assert (last["rule"], last["after"]) == ("assignment.by_hand", {"owner": "u2"})


def test_keys_act_only_for_users_of_the_bundle(svc: Any) -> None:
    from engine.errors import Invalid
    from tests.helpers import FIXTURES

    svc.install_dirs([FIXTURES / "leads"])
    with pytest.raises(Invalid) as refused:
        svc.keys.create("leads", name="x", user="nobody")
    assert refused.value.errors[0].field == "user"
    key = svc.keys.create("leads", name="m", user="m1")
    assert svc.keys.caller(key).user == "m1"
    assert [k["user"] for k in svc.keys.list("leads")] == ["m1"]
