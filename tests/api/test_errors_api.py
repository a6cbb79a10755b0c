"""The error paths: numbers out of range, NaN / Infinity and lists for one-value fields, the
database out of reach (503), readiness, and a 500 that leaves the connection usable."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import event

from engine.api.app import create_app
from engine.clock import FixedClock
from engine.service import Services
from engine.storage import tables as t
from engine.storage.db import make_engine
from engine.storage.health import unavailable

BASE = "/api/v1/shop"
INT32_MAX, INT64_MAX = 2**31 - 1, 2**63 - 1
PASSWORD = "correct-horse-42"


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    return body


# --- numbers out of range ----------------------------------------------------------------------


def _integer_parameters(app: FastAPI) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """(method, path, parameter, where) for every integer parameter of the API document."""
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                schema = param["schema"]
                kinds = [schema, *schema.get("anyOf", [])]
                if any(k.get("type") == "integer" for k in kinds):
                    yield method, path, param, param["in"]


def _url(path: str, operation: dict[str, Any], name: str, value: Any) -> str:
    """The path with every path parameter filled (the one tested with `value`)."""

    def filled(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == name:
            return str(value)
        kind = next(p for p in operation["parameters"] if p["name"] == key)["schema"]
        return "1" if kind.get("type") == "integer" else ("shop" if key == "tenant" else "x")

    return re.sub(r"\{(\w+)\}", filled, path)


def test_every_integer_parameter_states_its_range_and_refuses_beyond_it(
    client: TestClient, auth: dict[str, str]
) -> None:
    """Found from the document, so a new route's integer parameter is covered too: 2**64 (and
    one past its maximum) is a located 422, in the caller's language, never a 500."""
    app: FastAPI = client.app  # type: ignore[assignment]
    found = list(_integer_parameters(app))
    assert {p["name"] for _, _, p, _ in found} >= {"notification", "job_id", "number", "a", "b"}
    for method, path, param, where in found:
        schema = next(
            k for k in [param["schema"], *param["schema"].get("anyOf", [])] if "type" in k
        )
        assert schema.get("maximum") is not None, (path, param["name"])
        operation = app.openapi()["paths"][path][method]
        for value in (2**64, schema["maximum"] + 1, -(2**64)):
            url = _url(path, operation, param["name"], value)
            query = {param["name"]: value} if where == "query" else None
            answer = client.request(
                method, url, params=query, headers={**auth, "Accept-Language": "zh-CN"}
            )
            body = problem(answer, 422)
            error = next(e for e in body["errors"] if e["field"] == param["name"])
            assert error["in"] == where
            assert error["code"] in ("too_large", "too_small")
            assert re.fullmatch(r"不能(大|小)于-?\d+", error["message"]), error


def test_largest_ids_in_range_are_not_found(client: TestClient, auth: dict[str, str]) -> None:
    for url in (
        f"{BASE}/notifications/{INT64_MAX}/read",
        f"{BASE}/jobs/{INT64_MAX}/retry",
        f"{BASE}/config/versions/{INT32_MAX}/activate",
    ):
        assert client.post(url, headers=auth).status_code == 404, url
    diff = client.get(f"{BASE}/config/versions/{INT32_MAX}/diff/1", headers=auth)
    assert diff.status_code == 404
    listed = client.get(f"{BASE}/jobs", params={"before": INT64_MAX}, headers=auth)
    assert listed.status_code == 200 and listed.json()["jobs"] == []


def test_request_errors_read_in_the_callers_language(
    client: TestClient, auth: dict[str, str]
) -> None:
    url = f"{BASE}/config/versions/abc/activate"
    en = problem(client.post(url, headers=auth), 422)["errors"]
    assert en == [
        {"field": "number", "code": "type", "message": "must be a whole number", "in": "path"}
    ]
    zh = client.post(url, headers={**auth, "Accept-Language": "zh-CN,zh;q=0.9"}).json()["errors"]
    assert zh[0]["message"] == "必须是整数"
    broken = client.post(
        f"{BASE}/records/customer",
        content=b'{"name": ',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert problem(broken, 422)["errors"] == [
        {"field": "body", "code": "json", "message": "is not valid JSON", "in": "body"}
    ]


@pytest.fixture
def admin_client(svc: Services) -> TestClient:
    """A signed-in admin UI session of alice (tenant 'shop')."""
    svc.passwords.set("shop", "alice", PASSWORD)
    client = TestClient(create_app(svc), raise_server_exceptions=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
    assert token
    form = {"tenant": "shop", "user": "alice", "password": PASSWORD, "csrf_token": token[1]}
    assert client.post("/admin/login", data=form, follow_redirects=False).status_code == 303
    return client


def test_admin_pages_answer_bad_numbers_with_their_error_page(admin_client: TestClient) -> None:
    for url in (
        f"/admin/config/diff?a={2**64}&b=1",
        f"/admin/config/versions/{INT32_MAX + 1}",
        f"/admin/config/files?file=tenant.yaml&version={2**63}",
        "/admin/config/diff?a=one&b=1",
    ):
        answer = admin_client.get(url)
        assert answer.status_code == 422, url
        assert answer.headers["content-type"].startswith("text/html")
        assert "A value in this page&#39;s address or form cannot be used." in answer.text
        assert re.search(r"(a|number|version): must be (at most \d+|a whole number)", answer.text)
    zh = admin_client.get(
        "/admin/config/diff?a=99999999999&b=1", headers={"Accept-Language": "zh-CN"}
    )
    assert zh.status_code == 422 and "a: 不能大于2147483647" in zh.text


# --- NaN, Infinity and lists in record bodies --------------------------------------------------


def test_nan_and_infinity_are_refused_at_their_fields(
    client: TestClient, auth: dict[str, str]
) -> None:
    """Python's json reads these tokens; they used to be stored as the text 'nan' / 'inf'."""
    raw = (
        b'{"name": NaN, "note": Infinity, "employees": -Infinity, "ratio": NaN,'
        b' "budget": Infinity, "tags": [NaN]}'
    )
    headers = {**auth, "Content-Type": "application/json"}
    body = problem(client.post(f"{BASE}/records/customer", content=raw, headers=headers), 422)
    codes = {e["field"]: e["code"] for e in body["errors"]}
    assert codes == {
        "name": "not_finite",
        "note": "not_finite",
        "employees": "not_finite",
        "ratio": "not_finite",
        "budget": "not_finite",
        "tags": "type",
    }
    created = client.post(f"{BASE}/records/customer", json={"name": "Ada"}, headers=auth).json()
    patch = b'{"note": NaN}'
    url = f"{BASE}/records/customer/{created['id']}"
    refused = problem(client.patch(url, content=patch, headers=headers), 422)
    assert refused["errors"][0]["field"] == "note"
    zh = client.patch(url, content=patch, headers={**headers, "Accept-Language": "zh-CN"})
    assert zh.json()["errors"][0]["message"] == "必须是有限的数字（不能是 NaN 或 Infinity）"
    assert "note" not in client.get(url, headers=auth).json()["data"]
    batch = client.post(
        f"{BASE}/records/customer/batch",
        content=b'{"records": [{"name": "B", "budget": NaN}]}',
        headers=headers,
    )
    assert batch.json()["results"][0]["errors"][0]["code"] == "not_finite"


def test_a_list_or_object_for_a_one_value_field_is_refused(
    client: TestClient, auth: dict[str, str]
) -> None:
    """`[]` used to mean 'no value' for every field: now only for list fields."""
    sent = {"name": [], "employees": {}, "region": ["east"], "vip": [], "phone": {"n": 1}}
    answer = client.post(f"{BASE}/records/customer", json=sent, headers=auth)
    errors = {e["field"]: e["message"] for e in problem(answer, 422)["errors"]}
    assert errors == {
        "name": "must be text",
        "employees": "must be a whole number",
        "region": "must be a single option",
        "vip": "must be true or false",
        "phone": "must be a phone number",
    }
    fine = client.post(
        f"{BASE}/records/customer", json={"name": "Li", "tags": [], "interests": []}, headers=auth
    )
    assert fine.status_code == 201, fine.text


# --- the database out of reach -----------------------------------------------------------------


@contextmanager
def database_gone(engine: sa.Engine) -> Iterator[None]:
    """Every new connection fails as the driver fails when the database is not there (SQLite:
    a file that cannot be opened; PostgreSQL: connection refused); pooled ones are dropped."""

    def refuse(*_: Any) -> Any:
        if engine.dialect.name == "sqlite":
            return sqlite3.connect("file:/nonexistent/dir/tidepool.db?mode=rw", uri=True)
        return psycopg.connect("host=127.0.0.1 port=1 dbname=gone connect_timeout=2")

    event.listen(engine, "do_connect", refuse)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)
        engine.dispose()


def test_database_out_of_reach_is_a_503_with_retry_after(
    svc: Services, client: TestClient, auth: dict[str, str], admin_client: TestClient
) -> None:
    assert client.get(f"{BASE}/records/customer", headers=auth).status_code == 200
    with database_gone(svc.store.engine):
        for answer in (
            client.get(f"{BASE}/records/customer", headers=auth),
            client.post(f"{BASE}/records/customer", json={"name": "x"}, headers=auth),
            client.get(f"{BASE}/config/versions", headers=auth),
        ):
            body = problem(answer, 503)
            assert answer.headers["Retry-After"] == "5"
            assert body["detail"] == "the database cannot be reached"
        page = admin_client.get("/admin/records/customer")
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert page.headers["content-type"].startswith("text/html")
        assert "The database cannot be reached just now" in page.text
        assert client.get("/healthz/live").json() == {"status": "live"}
        assert client.get("/healthz").status_code == 200
        ready = problem(client.get("/healthz/ready"), 503)
        assert ready["checks"]["database"] == "unreachable"
    assert client.get(f"{BASE}/records/customer", headers=auth).status_code == 200
    assert client.get("/healthz/ready").json()["status"] == "ready"


def test_only_connection_errors_count_as_the_database_out_of_reach(svc: Services) -> None:
    engine = svc.store.engine
    with pytest.raises(sa.exc.DBAPIError) as bad_sql, engine.connect() as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert not unavailable(bad_sql.value)  # a bug stays a 500
    with database_gone(engine), pytest.raises(sa.exc.OperationalError) as gone:
        engine.connect()
    assert unavailable(gone.value)
    assert unavailable(RuntimeError("while saving")) is False
    wrapped = RuntimeError("while saving")
    wrapped.__cause__ = gone.value
    assert unavailable(wrapped)


# --- readiness: the workers' queue age ---------------------------------------------------------


def _due_job(svc: Services, waited: timedelta) -> None:
    now = svc.clock.now()
    with svc.store.write() as tx:
        tx.conn.execute(
            t.jobs.insert().values(
                tenant_id="shop",
                kind="webhook",
                key="probe",
                payload={},
                status="pending",
                attempts=0,
                max_attempts=3,
                run_at=now - waited,
                created_at=now - waited,
            )
        )


def test_ready_reports_the_oldest_due_jobs_age(svc: Services, clock: FixedClock) -> None:
    client = TestClient(create_app(svc, max_queue_age=120), raise_server_exceptions=False)
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "database": "ok",
        "queue_age_seconds": None,
        "queue_age_limit": 120,
    }
    _due_job(svc, timedelta(seconds=30))
    assert client.get("/healthz/ready").json()["checks"]["queue_age_seconds"] == 30
    clock.advance(seconds=100)  # no worker ran it: 130 s now
    late = problem(client.get("/healthz/ready"), 503)
    assert late["checks"]["queue_age_seconds"] == 130
    assert "130 s" in late["detail"]
    assert client.get("/healthz/live").status_code == 200


# --- a 500 keeps the connection --------------------------------------------------------------


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn server on 127.0.0.1 (a free port), in a thread."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_500_leaves_the_keep_alive_connection_usable(
    svc: Services, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(svc)

    @app.get("/test/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/test/port")
    def port(request: Request) -> dict[str, int]:
        assert request.client is not None
        return {"port": request.client.port}

    caplog.set_level(logging.ERROR, "tidepool.api")
    with served(app) as url, httpx.Client(base_url=url) as http:
        first = http.get("/test/port").json()["port"]
        failed = http.get("/test/boom")
        assert failed.status_code == 500
        assert failed.headers["content-type"] == "application/problem+json"
        assert failed.headers.get("connection", "").lower() != "close"
        assert failed.json()["detail"] == "something went wrong on our side; it was logged"
        assert http.get("/test/port").json()["port"] == first  # the same connection
        assert http.get("/healthz/live").status_code == 200
    assert any("unexpected error on GET /test/boom" in r.getMessage() for r in caplog.records)


def _connect_params(url: str) -> tuple[dict[str, Any], BaseException]:
    engine = make_engine(url)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(_d: Any, _r: Any, _a: Any, params: dict[str, Any]) -> None:
        seen.update(params)

    with pytest.raises(sa.exc.OperationalError) as refused:
        engine.connect()
    engine.dispose()
    return seen, refused.value


def test_postgresql_connections_give_up_in_seconds() -> None:
    """An unreachable server is a 503 soon, not after minutes of TCP retries."""
    seen, refused = _connect_params("postgresql+psycopg://postgres@127.0.0.1:1/gone")
    assert seen["connect_timeout"] == 5 and unavailable(refused)
    url = "postgresql+psycopg://postgres@127.0.0.1:1/gone?connect_timeout=1"
    assert _connect_params(url)[0]["connect_timeout"] == "1"  # the URL's own wins
