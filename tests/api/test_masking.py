"""Masked fields over the API (数据脱敏): a user's key sees what their roles allow; tenant-wide
keys see everything; masking changes what is shown, never what is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.service import Services
from tests.helpers import FIXTURES

BASE = "/api/v1/masked"
MARIA = {
    "name": "Maria",
    "phone": "138 1234 5678",
    "email": "maria@x.example",
    "birthday": "1990-01-31",
    "tags": ["vip", "new"],
    "budget": "50",
}
Keys = Callable[[str | None], dict[str, str]]


@pytest.fixture
def key(svc: Services) -> Keys:
    svc.install_dirs([FIXTURES / "masked"])
    made: dict[str | None, dict[str, str]] = {}

    def headers(user: str | None) -> dict[str, str]:
        if user not in made:
            secret = svc.keys.create("masked", name=user or "integration", user=user)
            made[user] = {"Authorization": f"Bearer {secret}"}
        return made[user]

    return headers


@pytest.fixture
def maria(client: TestClient, key: Keys) -> str:
    made = client.post(f"{BASE}/records/contact", json=MARIA, headers=key(None))
    assert made.status_code == 201, made.text
    rid: str = made.json()["id"]
    return rid


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_the_sdr_sees_masked_values_the_manager_sees_them_all(
    client: TestClient, key: Keys, maria: str
) -> None:
    url = f"{BASE}/records/contact/{maria}"
    full = client.get(url, headers=key(None)).json()["data"]
    assert full["phone"] == "13812345678" and full["email"] == "maria@x.example"
    rita = client.get(url, headers=key("rita"))
    assert rita.headers["etag"] == '"1"'
    assert rita.json()["data"] == {
        "name": "Maria",
        "phone": "138****5678",
        "email": "m***@x.example",
        "birthday": "***",
        "tags": ["***"],
        "budget": "50.00",
    }
    assert client.get(url, headers=key("max")).json()["data"] == full  # manager
    assert client.get(url, headers=key("sam")).json()["data"] == full  # sales and manager
    sue = client.get(url, headers=key("sue")).json()["data"]  # sales and support: phone only
    assert sue == {**full, "phone": "138****5678"}
    assert client.get(url, headers=key("nora")).status_code == 404  # no role: her own only
    mine = {"name": "Nina", "phone": "13900001111", "email": "nina@x.example", "owner": "nora"}
    own = client.post(f"{BASE}/records/contact", json=mine, headers=key(None)).json()["id"]
    nora = client.get(f"{BASE}/records/contact/{own}", headers=key("nora")).json()["data"]
    assert (nora["phone"], nora["email"]) == ("139****1111", "n***@x.example")  # pii masked


def test_lists_mask_values_and_refuse_masked_filters_and_sorts(
    client: TestClient, key: Keys, maria: str
) -> None:
    url = f"{BASE}/records/contact"
    listed = client.get(url, headers=key("rita")).json()["records"]
    assert [r["data"]["phone"] for r in listed] == ["138****5678"]
    assert client.get(f"{url}?where=budget > 1", headers=key("rita")).json()["records"]
    # the bundle's view reads the phone: fine; it sorts by it too: its cursors would carry it
    view = f"{url}?view=mainland_mobiles"
    refused = _problem(client.get(view, headers=key("rita")), 403)
    assert [e["field"] for e in refused["errors"]] == ["sort"]
    viewed = client.get(f"{view}&sort=-created_at", headers=key("rita")).json()
    assert [r["data"]["phone"] for r in viewed["records"]] == ["138****5678"]
    assert client.get(view, headers=key("max")).status_code == 200
    for query, field in [
        ("where=phone starts_with '1381'", "where"),
        ("phone__gte=13800000000", "phone__gte"),
        ("email__isnull=false", "email__isnull"),
        ("sort=-phone", "sort"),
    ]:
        refused = _problem(client.get(f"{url}?{query}", headers=key("rita")), 403)
        assert [e["field"] for e in refused["errors"]] == [field]
        assert "masked for user 'rita'" in refused["detail"]
        assert client.get(f"{url}?{query}", headers=key("max")).status_code == 200
    assert client.get(f"{url}?where=phone starts_with '1381'", headers=key(None)).json()["records"]


def test_history_and_explain_are_masked(client: TestClient, key: Keys, maria: str) -> None:
    url = f"{BASE}/records/contact/{maria}"
    client.patch(url, json={"phone": "13900001111"}, headers=key(None))
    history = client.get(f"{url}/history", headers=key("rita")).json()["history"]
    assert history[0]["changes"]["phone"] == {"old": None, "new": "138****5678"}
    assert history[1]["changes"]["phone"] == {"old": "138****5678", "new": "139****1111"}
    full = client.get(f"{url}/history", headers=key("max")).json()["history"]
    assert full[1]["changes"]["phone"] == {"old": "13812345678", "new": "13900001111"}

    explained = client.get(f"{url}/explain", headers=key("rita")).json()
    text = repr(explained)
    assert "13812345678" not in text and "13900001111" not in text and "maria@" not in text
    assert explained["record"]["data"]["phone"] == "139****1111"
    move = next(t for t in explained["timeline"] if t["kind"] == "pool_move")
    assert "phone = '138****5678'" in move["explanation"]
    why_not = next(w for w in explained["why_not"] if w["rule"] == "vip_spender")
    assert "email = 'm***@x.example'" in why_not["explanation"]
    manager = client.get(f"{url}/explain", headers=key("max")).json()
    assert "email = 'maria@x.example'" in repr(manager["why_not"])
    assert "phone = '13812345678'" in repr(manager["timeline"])


def test_a_masked_value_sent_back_keeps_the_stored_one(
    client: TestClient, key: Keys, maria: str
) -> None:
    url = f"{BASE}/records/contact/{maria}"
    shown = client.get(url, headers=key("rita")).json()["data"]
    saved = client.patch(url, json={**shown, "name": "Maria L"}, headers=key("rita"))
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"]["phone"] == "138****5678" and saved.json()["version"] == 2
    stored = client.get(url, headers=key(None)).json()["data"]
    assert stored == {**MARIA, "phone": "13812345678", "budget": "50.00", "name": "Maria L"}
    history = client.get(f"{url}/history", headers=key(None)).json()["history"]
    assert set(history[-1]["changes"]) == {"name"}
    same = client.patch(url, json=shown | {"name": "Maria L"}, headers=key("rita"))
    assert same.json()["version"] == 2  # nothing changed: no new version
    changed = client.patch(url, json={"phone": "13900001111"}, headers=key("rita"))
    assert changed.json()["data"]["phone"] == "139****1111"  # a new value is written
    assert client.get(url, headers=key(None)).json()["data"]["phone"] == "13900001111"


def test_writes_answer_masked(client: TestClient, key: Keys, maria: str) -> None:
    made = client.post(
        f"{BASE}/records/contact",
        json={"name": "Li", "phone": "+1 415 555 0199"},
        headers=key("rita"),
    )
    assert made.status_code == 201 and made.json()["data"]["phone"] == "+14****0199"
    batch = client.post(
        f"{BASE}/records/contact/batch",
        json={"records": [{"name": "Wu", "phone": "13700001234"}, {"phone": "x"}]},
        headers=key("rita"),
    ).json()["results"]
    assert batch[0]["record"]["data"]["phone"] == "137****1234" and batch[1]["status"] == 422
    moved = client.post(
        f"{BASE}/records/contact/{maria}/move", json={"pool": "parked"}, headers=key("rita")
    )
    assert moved.status_code == 200 and moved.json()["data"]["phone"] == "138****5678"
    assert moved.headers["etag"] == '"2"'
    assigned = client.post(
        f"{BASE}/records/contact/{maria}/assign", json={"user": "rita"}, headers=key("sam")
    )
    assert assigned.status_code == 200 and assigned.json()["data"]["phone"] == "13812345678"
    call = client.post(
        f"{BASE}/records/call",
        json={"contact_id": maria, "phone": "13812345678"},
        headers=key(None),
    ).json()
    seen = client.get(f"{BASE}/records/call/{call['id']}", headers=key("rita")).json()
    assert seen["data"]["phone"] == "138****5678"  # see_masked names apply to every entity


def test_a_replayed_write_is_masked_for_whoever_replays_it(client: TestClient, key: Keys) -> None:
    url, body = f"{BASE}/records/contact", {"name": "Zhao", "phone": "13600001234"}
    first = client.post(url, json=body, headers={**key(None), "Idempotency-Key": "k1"})
    assert first.json()["data"]["phone"] == "13600001234"
    again = client.post(url, json=body, headers={**key("rita"), "Idempotency-Key": "k1"})
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["data"]["phone"] == "136****1234"


def test_conditions_on_masked_fields_are_refused(client: TestClient, key: Keys, maria: str) -> None:
    url = f"{BASE}/records/contact/{maria}/check"
    refused = _problem(client.post(url, json={"where": "phone == '1'"}, headers=key("rita")), 403)
    assert refused["errors"][0]["field"] == "where"
    assert client.post(url, json={"where": "budget > 1"}, headers=key("rita")).json()["result"]
    assert client.post(url, json={"where": "phone == '1'"}, headers=key("max")).status_code == 200


def test_a_switched_off_user_is_refused_everything(
    client: TestClient, svc: Services, key: Keys, maria: str
) -> None:
    url = f"{BASE}/records/contact/{maria}"
    headers = key("max")
    assert client.get(url, headers=headers).json()["data"]["phone"] == "13812345678"
    client.post(f"{BASE}/users/max/deactivate", headers=key(None))
    refused = _problem(client.get(url, headers=headers), 403)
    assert refused["errors"][0]["code"] == "user_off"
    assert client.get(f"{BASE}/records/contact", headers=headers).status_code == 403
