"""The jobs REST API: list with filters and pages, retry a dead job, tenant isolation."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.api import jobs as jobs_api
from engine.api import problems
from engine.api.app import create_app
from engine.clock import FixedClock
from engine.service import Services
from engine.service.jobs import Jobs

BASE = "/api/v1/shop"


@pytest.fixture
def jobs(svc: Services, clock: FixedClock) -> Jobs:
    return Jobs(svc.store, clock)


@pytest.fixture
def client(svc: Services, jobs: Jobs) -> TestClient:
    """The jobs router alone, on services that have what it needs: keys, the access
    policy (records) and jobs."""
    app = FastAPI()
    app.state.services = SimpleNamespace(keys=svc.keys, jobs=jobs, records=svc.records)
    problems.install(app)
    app.include_router(jobs_api.router)
    return TestClient(app, raise_server_exceptions=False)


def enqueue(jobs: Jobs, tenant: str, key: str, **options: Any) -> None:
    with jobs.store.write() as tx:
        payload = {"url": "http://127.0.0.1:9/", "body": {"secret": "not shown"}}
        jobs.enqueue(tx, tenant, "webhook", key, payload, run_at=jobs.clock.now(), **options)


def kill(jobs: Jobs, error: str = "HTTP 410") -> int:
    """Claim one due job and let it fail for good; its id."""
    (job,) = jobs.claim("w1", ["webhook"], 1, 60)
    jobs.fail(job, "w1", error, retryable=False)
    return job.id


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_list_shows_jobs_without_payloads(
    client: TestClient, auth: dict[str, str], jobs: Jobs
) -> None:
    enqueue(jobs, "shop", "wake:r1:0", campaign="wake")
    enqueue(jobs, "other", "wake:r9:0")
    response = client.get(f"{BASE}/jobs", headers=auth)
    assert response.status_code == 200
    (shown,) = response.json()["jobs"]
    assert shown == {
        "id": shown["id"],
        "kind": "webhook",
        "key": "wake:r1:0",
        "status": "pending",
        "attempts": 0,
        "max_attempts": 8,
        "run_at": "2026-11-24T08:00:00Z",
        "last_error": None,
        "created_at": "2026-11-24T08:00:00Z",
        "done_at": None,
        "campaign": "wake",
    }
    assert response.json()["next_before"] is None


def test_list_filters_and_pages(client: TestClient, auth: dict[str, str], jobs: Jobs) -> None:
    enqueue(jobs, "shop", "a", campaign="wake")
    kill(jobs)
    for key in ("b", "c", "d"):
        enqueue(jobs, "shop", key, campaign="wake" if key == "d" else None)
    dead = client.get(f"{BASE}/jobs", params={"status": "dead"}, headers=auth).json()
    assert [(j["key"], j["last_error"]) for j in dead["jobs"]] == [("a", "HTTP 410")]
    wake = client.get(f"{BASE}/jobs", params={"campaign": "wake"}, headers=auth).json()
    assert [j["key"] for j in wake["jobs"]] == ["d", "a"]
    first = client.get(f"{BASE}/jobs", params={"limit": 2}, headers=auth).json()
    assert [j["key"] for j in first["jobs"]] == ["d", "c"]
    rest = client.get(
        f"{BASE}/jobs", params={"limit": 2, "before": first["next_before"]}, headers=auth
    ).json()
    assert [j["key"] for j in rest["jobs"]] == ["b", "a"]


def test_a_bad_filter_is_explained(client: TestClient, auth: dict[str, str]) -> None:
    body = problem(client.get(f"{BASE}/jobs", params={"status": "lost"}, headers=auth), 422)
    assert body["detail"] == "unknown job status 'lost'"
    assert body["errors"][0]["field"] == "status"
    assert "pending, done, dead, cancelled" in body["errors"][0]["message"]
    problem(client.get(f"{BASE}/jobs", params={"limit": 0}, headers=auth), 422)


def test_retry_a_dead_job(client: TestClient, auth: dict[str, str], jobs: Jobs) -> None:
    enqueue(jobs, "shop", "a")
    job_id = kill(jobs)
    response = client.post(f"{BASE}/jobs/{job_id}/retry", headers=auth)
    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("id", "status", "attempts", "last_error")} == {
        "id": job_id,
        "status": "pending",
        "attempts": 0,
        "last_error": "HTTP 410",
    }
    again = problem(client.post(f"{BASE}/jobs/{job_id}/retry", headers=auth), 409)
    assert again["detail"] == f"job {job_id} is pending: only dead jobs can be retried"
    problem(client.post(f"{BASE}/jobs/999999/retry", headers=auth), 404)
    problem(client.post(f"{BASE}/jobs/abc/retry", headers=auth), 422)


def test_tenants_see_only_their_jobs(
    client: TestClient, auth: dict[str, str], other_auth: dict[str, str], jobs: Jobs
) -> None:
    enqueue(jobs, "shop", "a")
    job_id = kill(jobs)
    problem(client.get(f"{BASE}/jobs", headers=other_auth), 404)  # a key of another tenant
    body = problem(client.post(f"/api/v1/other/jobs/{job_id}/retry", headers=other_auth), 404)
    assert body["detail"] == f"no job {job_id} in tenant 'other'"
    assert client.get("/api/v1/other/jobs", headers=other_auth).json()["jobs"] == []
    problem(client.get(f"{BASE}/jobs"), 401)


def test_the_full_app_serves_the_jobs_of_its_services(svc: Services, auth: dict[str, str]) -> None:
    enqueue(svc.jobs, "shop", "a")
    client = TestClient(create_app(svc), raise_server_exceptions=False)
    assert [j["key"] for j in client.get(f"{BASE}/jobs", headers=auth).json()["jobs"]] == ["a"]


def test_only_users_who_can_configure_see_and_retry_jobs(svc: Services) -> None:
    enqueue(svc.jobs, "shop", "a")
    job = kill(svc.jobs)
    client = TestClient(create_app(svc), raise_server_exceptions=False)
    rep = {"Authorization": f"Bearer {svc.keys.create('shop', 'rep', user='alice')}"}
    problem(client.get(f"{BASE}/jobs", headers=rep), 403)
    problem(client.post(f"{BASE}/jobs/{job}/retry", headers=rep), 403)
    manager = {"Authorization": f"Bearer {svc.keys.create('shop', 'boss', user='mia')}"}
    body = problem(client.get(f"{BASE}/jobs", headers=manager), 403)
    assert "may not configure" in body["detail"]
