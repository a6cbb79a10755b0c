"""Shared fixtures: a migrated database on SQLite (always) and PostgreSQL (when configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.service import Services
from engine.storage.db import make_engine
from tests.helpers import FIXTURES, PG_ENV, START


def _pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    return url


@pytest.fixture
def pg_engine() -> Iterator[sa.Engine]:
    """An engine on a fresh PostgreSQL schema, dropped afterwards."""
    url = _pg_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


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
