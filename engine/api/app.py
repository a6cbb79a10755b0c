"""The FastAPI application: wiring only."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import admin_ui
from admin_ui.errors import error_page
from engine import __version__
from engine.api import campaigns, config, healthz, jobs, problems, records
from engine.errors import TooLarge
from engine.service import Services

MAX_BODY_BYTES = 10_000_000


class BodyLimit:
    """Refuses bodies over the limit: by Content-Length up front, else while reading.

    Plain ASGI (not BaseHTTPMiddleware, which costs a task per request)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.limit:
            response = problems.problem(
                413, "Request too large", f"bodies are limited to {self.limit} bytes"
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise TooLarge(f"bodies are limited to {self.limit} bytes")
            return message

        await self.app(scope, counted, send)


def create_app(services: Services, max_queue_age: float | None = None) -> FastAPI:
    """The app over these services; `max_queue_age` (seconds, default from the environment):
    how long a due job may wait before /healthz/ready says not ready."""
    app = FastAPI(
        title="Tidepool",
        version=__version__,
        description="Low-code rules engine for CRM. All endpoints under "
        "/api/v1/{tenant} take `Authorization: Bearer <api key>`.",
    )
    app.state.services = services
    app.state.max_queue_age = healthz.max_queue_age() if max_queue_age is None else max_queue_age
    problems.install(app, page=error_page)
    app.include_router(healthz.router)
    app.include_router(records.router)
    app.include_router(campaigns.router)
    app.include_router(jobs.router)
    app.include_router(config.router)
    admin_ui.mount(app, services)

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(problems.Unexpected, page=error_page)  # last: the outermost
    return app
