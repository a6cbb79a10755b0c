"""Config version endpoints: push (422 with located errors), list, activate, diff, rollback;
a user's key needs a role that can configure."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from engine.config.loader import read_bundle_dir
from engine.service import Services
from tests.helpers import FIXTURES

BASE = "/api/v1/shop/config"


def test_the_consultant_workflow_over_the_api(
    client: TestClient, svc: Services, auth: dict[str, str]
) -> None:
    files = read_bundle_dir(FIXTURES / "shop")
    bad = {**files, "pools.yaml": files["pools.yaml"].replace("to: won", "to: wonn")}
    refused = client.post(f"{BASE}/versions", json={"files": bad}, headers=auth)
    assert refused.status_code == 422
    error: dict[str, Any] = refused.json()["errors"][0]
    assert error["file"] == "pools.yaml" and error["line"] > 1 and "won" in (error["hint"] or "")
    changed = {
        **files,
        "entities.yaml": files["entities.yaml"].replace("max_length: 50", "max_length: 80"),
    }
    pushed = client.post(f"{BASE}/versions", json={"files": changed}, headers=auth)
    assert pushed.status_code == 201 and pushed.json()["number"] == 2
    again = client.post(f"{BASE}/versions", json={"files": changed}, headers=auth)
    assert again.status_code == 200 and again.json()["created"] is False
    diff = client.get(f"{BASE}/versions/1/diff/2", headers=auth).json()
    assert diff["changes"] == [
        {"kind": "field", "id": "customer.name", "change": "changed", "keys": ["max_length"]}
    ]
    assert client.post(f"{BASE}/versions/2/activate", headers=auth).json() == {
        "active": 2,
        "changed": True,
    }
    listed = client.get(f"{BASE}/versions", headers=auth).json()["versions"]
    assert [(v["number"], v["active"]) for v in listed] == [(2, True), (1, False)]
    assert client.post(f"{BASE}/rollback", headers=auth).json() == {"active": 1}
    rep = {"Authorization": f"Bearer {svc.keys.create('shop', name='rep', user='alice')}"}
    assert client.post(f"{BASE}/versions/2/activate", headers=rep).status_code == 403
    assert client.post(f"{BASE}/versions", json={"files": "x"}, headers=auth).status_code == 422
    assert client.get(f"{BASE}/versions/1/diff/9", headers=auth).status_code == 404
