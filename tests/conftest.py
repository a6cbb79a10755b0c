"""Shared fixtures: a migrated database on SQLite (always) and PostgreSQL (when configured)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.service import Services
from engine.storage.db import make_engine
from tests.helpers import FIXTURES, START, pg_schema


@pytest.fixture
def pg_engine() -> Iterator[sa.Engine]:
    """An engine on a fresh PostgreSQL schema, dropped afterwards."""
    with pg_schema() as engine:
        yield engine


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'tidepool.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> sa.Engine:
    """Each test using this runs on SQLite and on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    found: sa.Engine = request.getfixturevalue(name)
    return found


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def svc(engine: sa.Engine, clock: FixedClock) -> Services:
    """Services on a migrated database with the test bundles 'shop' and 'other' installed."""
    services = Services.open(engine=engine, clock=clock)
    services.install_dirs([FIXTURES / "shop", FIXTURES / "other"])
    return services


@pytest.fixture(autouse=True)
def webhooks_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' webhook receivers listen on 127.0.0.1, which production refuses."""
    monkeypatch.setenv("TIDEPOOL_WEBHOOK_ALLOW_PRIVATE", "1")
