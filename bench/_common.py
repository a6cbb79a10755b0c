"""Shared by the ingest bench and its two servers: the bench bundle, payloads, a JSON Schema."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvicorn
from rich.console import Console

from engine.config.loader import load_bundle_dir
from engine.config.model import Bundle
from engine.rules.compiled import CompiledConfig
from engine.service.seed import Faker
from engine.storage.db import make_engine

# Every bench's progress lines and table, and the seconds since it started.
console = Console(width=120, highlight=False)
STARTED = time.perf_counter()


def say(text: str) -> None:
    """A progress line, with the seconds since the bench started."""
    console.print(f"[{time.perf_counter() - STARTED:6.1f} s] {text}")


BENCH_DIR = Path(__file__).resolve().parent
BUNDLE_DIR = BENCH_DIR / "bundle"
ENTITY = "lead"
# A fixed "now" keeps generated datetimes, and so payload sizes, the same from run to run.
FAKE_NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

_EMAIL = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
_INSTANT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


# The bench entity as JSON Schema, for the bare baseline: the same 15 fields and roughly the
# same checks the engine makes (types, lengths, options, bounds, formats as patterns).
LEAD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["last_name", "email"],
    "properties": {
        "first_name": _text(100),
        "last_name": _text(100),
        "email": {"type": "string", "maxLength": 254, "pattern": _EMAIL},
        "phone": {"type": "string", "pattern": r"^\+?[0-9]{5,20}$"},
        "company": _text(200),
        "title": _text(150),
        "source": {"enum": ["website", "webinar", "event", "paid_ads", "partner", "outbound"]},
        "status": {"enum": ["new", "working", "nurturing", "qualified", "disqualified"]},
        "deal_size": {"type": "string", "pattern": r"^[0-9]{1,7}\.[0-9]{2}$"},
        "employees": {"type": "integer", "minimum": 1, "maximum": 100000},
        "last_activity_at": {"type": "string", "pattern": _INSTANT},
        "tags": {
            "type": "array",
            "maxItems": 50,
            "uniqueItems": True,
            "items": _text(64),
        },
        "opted_in": {"type": "boolean"},
        "website": {"type": "string", "maxLength": 2048, "pattern": r"^https?://[^\s/]+"},
        "notes": _text(20000),
    },
}


def load_bench_bundle() -> Bundle:
    return load_bundle_dir(BUNDLE_DIR)


def make_payloads(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """`count` valid lead payloads with distinct emails, already in their stored form.

    Each fake record is passed through the engine's own validator once (untimed), so every
    path of the bench sends or stores exactly the same, already-valid data dicts."""
    bundle = load_bench_bundle()
    entity = bundle.entities[ENTITY]
    validator = CompiledConfig.compile(bundle, 1).validator(ENTITY)
    faker = Faker(zh=False, now=FAKE_NOW, seed=seed)
    payloads: list[dict[str, Any]] = []
    for _ in range(count):
        raw = {f.name: faker.value(f, {}) for f in entity.fields.values()}
        values, errors = validator.for_create(raw)
        if errors:
            raise ValueError(f"the fake record {raw} is invalid: {errors}")
        payloads.append(values)
    if len({p["email"] for p in payloads}) != count:
        raise ValueError("generated emails are not distinct")
    return payloads


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@contextlib.contextmanager
def pg_schema(url: str, note: Callable[[str], None]) -> Iterator[sa.Engine | None]:
    """An engine on a fresh PostgreSQL schema, dropped at the end; None (with a note) when
    PostgreSQL cannot be used, so the bench skips its PG rows."""
    admin = sa.create_engine(url, connect_args={"connect_timeout": 3})
    schema = f"bench_{secrets.token_hex(4)}"
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.SQLAlchemyError as exc:
        admin.dispose()
        note(f"note: PostgreSQL not usable, PG rows skipped ({str(exc).strip().splitlines()[0]})")
        yield None
        return
    engine: sa.Engine | None = None
    try:
        options = {"options": f"-csearch_path={schema}", "connect_timeout": 3}
        engine = make_engine(url, connect_args=options)
        yield engine
    finally:
        if engine is not None:
            engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


class RequestCounter:
    """ASGI wrapper counting answers by status, so a bench server can report what it served."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.statuses: dict[int, int] = {}
        self.started = time.perf_counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counted(message: Any) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                self.statuses[status] = self.statuses.get(status, 0) + 1
            await send(message)

        await self.app(scope, receive, counted if scope["type"] == "http" else send)

    def figures(self, server: str) -> dict[str, Any]:
        seconds = time.perf_counter() - self.started
        served = sum(self.statuses.values())
        return {
            "server": server,
            "requests": served,
            "created": self.statuses.get(201, 0),
            "not_2xx": sum(n for s, n in self.statuses.items() if not 200 <= s < 300),
            "seconds_up": round(seconds, 3),
            "requests_per_s_up": round(served / seconds, 1) if seconds else None,
            "statuses": {str(s): n for s, n in sorted(self.statuses.items())},
        }


def serve_until_stopped(counter: RequestCounter, port: int) -> None:
    """Run one uvicorn worker until SIGTERM or SIGINT; the caller prints its figures after."""

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    # uvicorn shuts down gracefully, restores the handlers it found and raises the signal
    # again: with ours in place that ends here, where the figures are printed.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    uvicorn.run(counter, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextlib.contextmanager
def sqlite_engines(folder: Path, names: Sequence[str]) -> Iterator[list[sa.Engine]]:
    """One SQLite database per name in `folder`, disposed at the end."""
    engines = [make_engine(sqlite_url(folder / f"{name}.db")) for name in names]
    try:
        yield engines
    finally:
        for engine in engines:
            engine.dispose()


@contextlib.contextmanager
def pg_engines(
    url: str, names: Sequence[str], note: Callable[[str], None]
) -> Iterator[list[sa.Engine] | None]:
    """One engine per name, each on a fresh schema dropped at the end; None if PostgreSQL
    is unusable (`note` says why)."""
    with contextlib.ExitStack() as stack:
        engines = []
        for _ in names:
            engine = stack.enter_context(pg_schema(url, note))
            if engine is None:
                yield None
                return
            engines.append(engine)
        yield engines


DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def bench_parser(doc: str | None, quick: str) -> argparse.ArgumentParser:
    """The options every bench has: --quick (`quick` says what it shrinks), --pg URL, --no-pg."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument(
        "--pg",
        default=os.environ.get("TIDEPOOL_TEST_POSTGRES_URL") or DEFAULT_PG,
        help="PostgreSQL URL (default: $TIDEPOOL_TEST_POSTGRES_URL or a local test database)",
    )
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    return parser
