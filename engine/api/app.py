"""The FastAPI application: wiring only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from engine import __version__
from engine.api import problems, records
from engine.service import Services

MAX_BODY_BYTES = 10_000_000


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="Tidepool",
        version=__version__,
        description="Low-code rules engine for CRM. All endpoints under "
        "/api/v1/{tenant} take `Authorization: Bearer <api key>`.",
    )
    app.state.services = services
    problems.install(app)
    app.include_router(records.router)

    @app.middleware("http")
    async def limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return problems.problem(
                413, "Request too large", f"bodies are limited to {MAX_BODY_BYTES} bytes"
            )
        return await call_next(request)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
