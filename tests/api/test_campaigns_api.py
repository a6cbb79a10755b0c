"""Campaign endpoints: the list, stats per variant, notifications (own or, for a manager,
anyone's)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from engine.service import Services
from tests.helpers import FIXTURES

BASE = "/api/v1/promo"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def _key(svc: Services, user: str | None = None) -> dict[str, str]:
    key = svc.keys.create("promo", name=user or "integration", user=user)
    return {"Authorization": f"Bearer {key}"}


def test_campaigns_stats_and_notifications(client: TestClient, svc: Services) -> None:
    svc.install_dirs([FIXTURES / "campaigns"])
    tenant, bob, mia = _key(svc), _key(svc, "bob"), _key(svc, "mia")
    listed = client.get(f"{BASE}/campaigns", headers=tenant).json()["campaigns"]
    assert {"id": "vip_thanks", "trigger": "segment_enter"}.items() <= listed[3].items()
    made = client.post(
        f"{BASE}/records/customer", json={"name": "甲", "owner": "bob"}, headers=tenant
    )
    rid = made.json()["id"]
    client.patch(f"{BASE}/records/customer/{rid}", json={"status": "won"}, headers=tenant)
    stats = client.get(f"{BASE}/campaigns/won_alert/stats", headers=tenant).json()
    assert stats["variants"]["-"]["fired"] == 1 and stats["days"][0]["day"] == "2026-11-24"
    missing = _problem(client.get(f"{BASE}/campaigns/nope/stats", headers=tenant), 404)
    assert "won_alert" in missing["detail"]
    own = client.get(f"{BASE}/notifications", headers=mia).json()["notifications"]
    assert [n["title"] for n in own] == ["甲 won"]
    _problem(client.get(f"{BASE}/notifications?user=mia", headers=bob), 403)
    assert client.get(f"{BASE}/notifications?user=mia", headers=tenant).json()["notifications"]
    _problem(client.post(f"{BASE}/notifications/{own[0]['id']}/read", headers=bob), 404)
    read = client.post(f"{BASE}/notifications/{own[0]['id']}/read", headers=mia).json()
    assert read["read_at"] is not None
    assert client.get(f"{BASE}/notifications?unread=true", headers=mia).json() == {
        "notifications": []
    }
    _problem(client.get(f"{BASE}/notifications", headers=tenant), 422)  # whose?
