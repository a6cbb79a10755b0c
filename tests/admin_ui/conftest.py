"""The admin UI over HTTP (Starlette's TestClient): the demo bundles installed, every demo
user with the password PASSWORD, and a helper that signs a client in."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.clock import FixedClock
from engine.config.loader import load_bundle_dir
from engine.service import Services
from engine.storage.db import make_engine
from tests.helpers import ROOT, START

PASSWORD = "correct-horse-42"
DEMOS = ("chaotu-demo", "acme-saas", "northwind-b2b")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def _ui_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo bundles installed and every password set, once (hashing is slow on purpose)."""
    path = tmp_path_factory.mktemp("ui") / "template.db"
    svc = Services.open(engine=make_engine(f"sqlite:///{path}"), clock=FixedClock(START))
    for name in DEMOS:
        bundle = load_bundle_dir(ROOT / "configs" / name)
        svc.install_bundle(bundle, actor="tests", tests=False)
        for user in bundle.tenant.users:
            svc.passwords.set(bundle.id, user, PASSWORD)
    svc.close()
    return path


@pytest.fixture
def ui_svc(_ui_template: Path, tmp_path: Path) -> Iterator[Services]:
    """Services on a fresh copy of that database."""
    path = tmp_path / "ui.db"
    shutil.copy(_ui_template, path)
    svc = Services.open(engine=make_engine(f"sqlite:///{path}"), clock=FixedClock(START))
    yield svc
    svc.close()


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


SignIn = Callable[[str, str], TestClient]


@pytest.fixture
def sign_in(ui_svc: Services) -> SignIn:
    """sign_in(tenant, user) -> a TestClient with that user's session."""

    def signed(tenant: str, user: str) -> TestClient:
        client = TestClient(create_app(ui_svc))
        token = csrf_of(client.get("/admin/login").text)
        form = {"tenant": tenant, "user": user, "password": PASSWORD, "csrf_token": token}
        answer = client.post("/admin/login", data=form, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return client

    return signed
