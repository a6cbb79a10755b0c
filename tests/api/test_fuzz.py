"""Whatever a client sends, the API answers with a 2xx or a 4xx — never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api.app import create_app
from engine.clock import FixedClock
from engine.service import Services
from engine.storage.db import make_engine
from tests.helpers import FIXTURES, START, pg_schema

FIELDS = [
    "name",
    "note",
    "employees",
    "ratio",
    "budget",
    "vip",
    "founded",
    "last_followup_at",
    "region",
    "interests",
    "tags",
    "phone",
    "email",
    "website",
    "source",
    "nope",
    "id",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2026-01-01",
            "2026-01-01T08:00:00",
            "east",
            "13800138000",
            "a@b.cn",
            "https://x.cn",
            "1e999",
            "NaN",
            "-0",
            "9" * 40,
            "\x00",
            "crm,erp",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
bodies = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)
queries = st.lists(
    st.tuples(
        st.sampled_from(
            [
                *FIELDS,
                "sort",
                "limit",
                "cursor",
                "budget__gte",
                "tags__contains",
                "employees__in",
                "created_at__lt",
                "vip__isnull",
                "x__y__z",
            ]
        ),
        st.text(max_size=12),
    ),
    max_size=3,
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """One client per database for all examples (records pile up, which is fine here)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
        yield _client(engine)
        engine.dispose()
        return
    with pg_schema() as engine:
        yield _client(engine)


def _client(engine: sa.Engine) -> tuple[TestClient, dict[str, str]]:
    svc = Services.open(engine=engine, clock=FixedClock(START))
    svc.install_dirs([FIXTURES / "shop"])
    client = TestClient(create_app(svc), raise_server_exceptions=False)
    return client, {"Authorization": f"Bearer {svc.keys.create('shop')}"}


@settings(max_examples=150, deadline=None)
@given(body=bodies, patch=bodies, query=queries)
def test_no_input_makes_a_500(
    fuzz_client: tuple[TestClient, dict[str, str]],
    body: dict[str, Any],
    patch: dict[str, Any],
    query: list[tuple[str, str]],
) -> None:
    client, auth = fuzz_client
    base = "/api/v1/shop/records/customer"
    created = client.post(base, json=body, headers=auth)
    assert created.status_code in (201, 409, 422), created.text
    batch = client.post(f"{base}/batch", json={"records": [body, patch]}, headers=auth)
    assert batch.status_code == 200, batch.text
    if created.status_code == 201:
        rid = created.json()["id"]
        changed = client.patch(f"{base}/{rid}", json=patch, headers=auth)
        assert changed.status_code in (200, 409, 422), changed.text
    listed = client.get(base, params=query, headers=auth)
    assert listed.status_code in (200, 400, 422), listed.text


@pytest.mark.parametrize(
    "raw",
    [
        b'{"budget": NaN}',
        b'{"employees": Infinity}',
        b'{"name": -Infinity}',
        b'{"name": "\\ud800"}',
        b'{"name": "a", "name": "b"}',
        b"\xff\xfe",
        b"[]",
        b"null",
    ],
)
def test_odd_json_is_refused_or_stored_cleanly(
    fuzz_client: tuple[TestClient, dict[str, str]], raw: bytes
) -> None:
    client, auth = fuzz_client
    response = client.post(
        "/api/v1/shop/records/customer",
        content=raw,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code in (201, 422), response.text


@pytest.mark.parametrize(
    "query",
    [
        "name=a%00b",
        "na%00me=x",
        "tags=%00",
        "sort=na%00me",
        "cursor=WyJcdTAwMDAiLCJcdTAwMDAiXQ",
        "budget__gte=1e999",
    ],
)
def test_odd_queries_are_400(fuzz_client: tuple[TestClient, dict[str, str]], query: str) -> None:
    client, auth = fuzz_client
    response = client.get(f"/api/v1/shop/records/customer?{query}", headers=auth)
    assert response.status_code == 400, response.text
