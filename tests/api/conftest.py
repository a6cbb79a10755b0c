"""An API client with a key for tenant 'shop' (and one for 'other')."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.service import Services


@pytest.fixture
def client(svc: Services) -> TestClient:
    return TestClient(create_app(svc), raise_server_exceptions=False)


@pytest.fixture
def auth(svc: Services) -> dict[str, str]:
    return {"Authorization": f"Bearer {svc.keys.create('shop')}"}


@pytest.fixture
def other_auth(svc: Services) -> dict[str, str]:
    return {"Authorization": f"Bearer {svc.keys.create('other')}"}
