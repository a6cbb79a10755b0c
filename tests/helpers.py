"""Constants and small helpers shared by the tests."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.storage.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PG_ENV = "TIDEPOOL_TEST_POSTGRES_URL"
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    return url


@contextmanager
def pg_schema() -> Iterator[sa.Engine]:
    """An engine on a fresh PostgreSQL schema, dropped afterwards."""
    url = pg_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def run_all(work: list[Any]) -> None:
    """Each callable in a thread of its own, started together; any failure fails the test."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work))

    def guarded(job: Any) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
