"""RFC 9457 problem+json responses for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from engine.api.auth import Unauthorized
from engine.config.errors import BundleInvalid
from engine.service.errors import (
    BadQuery,
    DuplicateValue,
    Forbidden,
    IdempotencyMismatch,
    Invalid,
    NotFound,
    Refused,
    ServiceError,
    TooLarge,
    VersionConflict,
)
from engine.service.public_forms import RateLimited, Spam

log = logging.getLogger("tidepool.api")

STATUS: dict[type[ServiceError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    BadQuery: 400,
    Invalid: 422,
    DuplicateValue: 409,
    VersionConflict: 409,
    Refused: 409,
    IdempotencyMismatch: 422,
    TooLarge: 413,
    RateLimited: 429,
    Spam: 422,
}


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors or [],
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def locale_of(request: Request) -> str | None:
    header = request.headers.get("accept-language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return first or None


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    locale = locale_of(request)
    return problem(
        status, exc.title, exc.detail, [e.as_dict(locale) for e in exc.errors], **exc.extra()
    )


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
            "code": str(e.get("type", "invalid")),
            "message": str(e.get("msg", "")),
        }
        for e in exc.errors()
    ]
    return problem(422, "Invalid request", "the request could not be read", errors)


async def _bundle_invalid(request: Request, exc: Exception) -> JSONResponse:
    """A bundle with errors (a pushed version): every error with its file, line and column."""
    assert isinstance(exc, BundleInvalid)
    errors = [
        {
            "field": f"{e.file}:{e.line}:{e.col}",
            "code": e.code,
            "message": e.message,
            "hint": e.hint,
            "file": e.file,
            "line": e.line,
            "column": e.col,
            "pointer": e.pointer,
        }
        for e in exc.errors
    ]
    return problem(422, "Invalid bundle", f"{len(errors)} error(s) in the bundle", errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "something went wrong on our side; it was logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(BundleInvalid, _bundle_invalid)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
