"""What campaigns rendered, as the API shows it to a user's key (数据脱敏): explain, someone
else's notifications, job errors and dry-run examples as the caller may see them
(tests/fixtures/masked_campaigns; see tests/service/test_masking_rendered.py for the rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.config.loader import read_bundle_dir
from engine.service import Services
from tests.helpers import FIXTURES

T = "hush"
BASE = f"/api/v1/{T}"
PHONE, HIDDEN_PHONE = "13998765432", "139****5432"
EMAIL, HIDDEN_EMAIL = "ann@client.example", "a***@client.example"
Keys = Callable[[str | None], dict[str, str]]


@pytest.fixture
def key(svc: Services) -> Keys:
    svc.install_dirs([FIXTURES / "masked_campaigns"])
    made: dict[str | None, dict[str, str]] = {}

    def headers(user: str | None) -> dict[str, str]:
        if user not in made:
            secret = svc.keys.create(T, name=user or "integration", user=user)
            made[user] = {"Authorization": f"Bearer {secret}"}
        return made[user]

    return headers


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def contact(client: TestClient, key: Keys, **data: Any) -> str:
    values = {"name": "Ann", "phone": PHONE, "email": EMAIL, **data}
    made = client.post(f"{BASE}/records/contact", json=values, headers=key(None))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_explain_shows_a_campaign_condition_as_the_caller_sees_it(
    client: TestClient, key: Keys
) -> None:
    rid = contact(client, key, owner="rita")
    client.patch(f"{BASE}/records/contact/{rid}", json={"status": "won"}, headers=key(None))
    url = f"{BASE}/records/contact/{rid}/explain"
    for user, phone in (("rita", HIDDEN_PHONE), ("max", PHONE)):
        timeline = ok(client.get(url, headers=key(user)))["timeline"]
        (won,) = [d for d in timeline if d["rule"] == "campaign.mobile_won"]
        assert f"phone = '{phone}'" in won["explanation"]
        assert won["campaign"]["when"]["parts"][0]["value"] == phone


def test_notifications_of_someone_else_are_masked_for_a_reader_who_sees_less(
    client: TestClient, key: Keys
) -> None:
    contact(client, key)
    mine = ok(client.get(f"{BASE}/notifications", headers=key("rita")))["notifications"]
    assert [(n["title"], n["body"]) for n in mine] == [
        (f"Call Ann at {HIDDEN_PHONE}", f"or write to {HIDDEN_EMAIL}")
    ]
    maxs = ok(client.get(f"{BASE}/notifications?user=max", headers=key("lena")))
    assert [(n["title"], n["body"]) for n in maxs["notifications"]] == [("***", "***")]
    full = ok(client.get(f"{BASE}/notifications?user=max", headers=key(None)))
    assert full["notifications"][0]["title"] == f"Call Ann at {PHONE}"


def test_a_job_error_echoing_values_is_masked_in_the_jobs_list(
    client: TestClient, key: Keys, svc: Services
) -> None:
    contact(client, key)
    (claimed,) = svc.jobs.claim("w1", ["webhook"], 1, 30)
    svc.jobs.fail(claimed, "w1", f"HTTP 400: {PHONE} is not on file", retryable=False)
    dead = ok(client.get(f"{BASE}/jobs?status=dead", headers=key("olga")))["jobs"]
    assert [j["last_error"] for j in dead] == [f"HTTP 400: {HIDDEN_PHONE} is not on file"]


def test_the_dry_run_examples_are_masked_for_a_masked_caller(client: TestClient, key: Keys) -> None:
    contact(client, key, budget="5000")
    files = read_bundle_dir(FIXTURES / "masked_campaigns")
    files["pools.yaml"] = files["pools.yaml"].replace("points: 10", "points: 20")
    url = f"{BASE}/config/dry-run"
    shown = {}
    for user in ("olga", "max"):
        report = ok(client.post(url, json={"files": files}, headers=key(user)))
        (entity,) = [e for e in report["entities"] if e["entity"] == "contact"]
        (change,) = entity["field_changes"]
        shown[user] = [(e["title"], e["before"], e["after"]) for e in change["examples"]]
    assert shown == {"olga": [("A***", "***", "***")], "max": [("Ann", 10, 20)]}
