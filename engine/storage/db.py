"""Database engines and migrations. SQLite (WAL) is embedded; PostgreSQL is production."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event

from engine.conditions import sqlite_udf

DEFAULT_SQLITE = "sqlite:///var/tidepool.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT = 5  # seconds, PostgreSQL (unless the URL says connect_timeout=…)


def default_url() -> str:
    return os.environ.get("TIDEPOOL_DATABASE_URL") or DEFAULT_SQLITE


# One encoder for every JSON column: json.dumps with options builds a new one per call.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def make_engine(url: str | None = None, **kwargs: Any) -> sa.Engine:
    """An engine with the settings Tidepool relies on for its dialect."""
    url = url or default_url()
    kwargs.setdefault("json_serializer", _dumps)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    # Server-side prepared statements get generic plans after 5 runs; for `value IN (…)`
    # lookups those plans stop using the index (seen in bench/ingest.py). Plan each query.
    connect_args = {"prepare_threshold": None, **kwargs.pop("connect_args", {})}
    if "connect_timeout" not in sa.make_url(url).query:
        # An unreachable server then fails a request (503) in seconds, not after the TCP
        # retries (minutes), and /healthz/ready answers in time.
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT)
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> sa.Engine:
    path = sa.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        sqlite_udf.register(dbapi_conn)  # exact decimals and RE2 for the condition language

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that later upgrades
        # would fail with SQLITE_BUSY instead of waiting its turn.
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()
