"""RFC 9457 problem+json responses for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.config.errors import BundleInvalid
from engine.errors import ServiceError, TidepoolError
from engine.fields.validator import FieldError
from engine.i18n import accepted, locale_of
from engine.storage.health import unavailable

log = logging.getLogger("tidepool.api")

RETRY_AFTER_SECONDS = 5  # the database out of reach: when to try again

# An error answered as a page rather than problem+json (the admin UI's): given the request,
# the status and the located errors (worded in the page's language), the page; None when the
# request is not for a page.
ErrorPage = Callable[[Request, int, Sequence[FieldError]], Response | None]


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
    if status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def asked_locale(request: Request) -> str | None:
    """The caller's language by Accept-Language (zh-CN or en); None when it names none, for
    the tenant's own then."""
    header = request.headers.get("accept-language", "")
    return locale_of(header) if accepted(header) else None


async def _known_error(request: Request, exc: Exception) -> Response:
    """An error of the tree, with its class's status: a service error with its located field
    errors, a bundle with every error at its file, line and column. Any other (a signal, an
    admin page's own error) escaped a handler: re-raised, `Unexpected` answers it (500)."""
    assert isinstance(exc, TidepoolError)
    if isinstance(exc, ServiceError):
        errors = [e.as_dict(asked_locale(request)) for e in exc.errors]
        return problem(exc.status, exc.title, exc.detail, errors, **exc.extra())
    if isinstance(exc, BundleInvalid):
        return problem(
            exc.status, "Invalid bundle", f"{len(exc.errors)} error(s) in the bundle", _bundle(exc)
        )
    raise exc


# pydantic's error types → the catalogue's codes (engine/i18n/fields.py) and their parameters.
_BOUNDS = {
    "greater_than_equal": ("too_small", "ge"),
    "greater_than": ("greater_than", "gt"),
    "less_than_equal": ("too_large", "le"),
    "less_than": ("less_than", "lt"),
    "string_too_short": ("too_short", "min_length"),
    "string_too_long": ("too_long", "max_length"),
    "too_short": ("too_few", "min_length"),
    "too_long": ("too_many", "max_length"),
}
_EXPECTED = (  # by prefix of the type, first match
    ("int_", "a whole number"),
    ("float_", "a number"),
    ("decimal_", "a number"),
    ("bool_", "true or false"),
    ("string_", "text"),
    ("dict_", "an object"),
    ("model_", "an object"),
    ("list_", "a list"),
    ("tuple_", "a list"),
    ("set_", "a list"),
)


def request_error(error: Mapping[str, Any]) -> FieldError:
    """One of pydantic's request errors as a located field error of the catalogue, so it reads
    in the caller's language like every other error."""
    loc = tuple(error.get("loc", ()))
    field = ".".join(str(p) for p in loc[1:]) or (str(loc[0]) if loc else "body")
    kind, ctx = str(error.get("type", "")), error.get("ctx") or {}
    where = {"in": str(loc[0])} if loc else {}
    if kind in _BOUNDS:
        code, key = _BOUNDS[kind]
        return FieldError(field, code, {"n": ctx.get(key), **where})
    if kind == "missing":
        return FieldError(field, "required", where)
    if kind in ("literal_error", "enum"):
        return FieldError(field, "option", {"options": ctx.get("expected", ""), **where})
    if kind == "string_pattern_mismatch":
        return FieldError(field, "pattern", where)
    if kind == "json_invalid":  # located at a character of the body, not at a field
        return FieldError("body", "json", where)
    if kind.startswith("datetime_"):
        return FieldError(field, "datetime", where)
    if kind.startswith("date_"):
        return FieldError(field, "date", where)
    expected = next((word for prefix, word in _EXPECTED if kind.startswith(prefix)), None)
    if expected is not None:
        return FieldError(field, "type", {"expected": expected, **where})
    return FieldError(field, "invalid", where)


def _located(error: FieldError, locale: str | None) -> dict[str, Any]:
    shown = error.as_dict(locale)
    if "in" in error.params:
        shown["in"] = error.params["in"]  # path, query, header, cookie or body
    return shown


def _request_invalid(page: ErrorPage | None) -> Callable[[Request, Exception], Any]:
    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [request_error(e) for e in exc.errors()]
        shown = page(request, 422, errors) if page is not None else None
        if shown is not None:
            return shown
        located = [_located(e, asked_locale(request)) for e in errors]
        return problem(422, "Invalid request", "the request could not be read", located)

    return handle


def _bundle(exc: BundleInvalid) -> list[dict[str, Any]]:
    """Every error of a bundle (a pushed version) with its file, line and column."""
    return [
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


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail))


class Unexpected:
    """Every exception no handler took, answered here: 503 with Retry-After when the database
    cannot be reached just now, else a logged 500. Plain ASGI, outermost of the app's own
    middleware.

    Why not `add_exception_handler(Exception, …)`: Starlette gives that handler to its
    ServerErrorMiddleware, which sends the answer and then re-raises so that the server logs
    the error; uvicorn, seeing an exception after the response started, closes the connection.
    An error answered here is handled: nothing reaches the server, keep-alive stays. Only an
    error after the response started still propagates (the server must cut that response)."""

    def __init__(self, app: ASGIApp, page: ErrorPage | None = None) -> None:
        self.app = app
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if started:
                raise
            response = self.answer(Request(scope, receive), exc)
            await response(scope, receive, send)

    def answer(self, request: Request, exc: Exception) -> Response:
        if unavailable(exc):
            log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
            status, title, detail = 503, "Service unavailable", "the database cannot be reached"
        else:
            log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
            status, title = 500, "Internal error"
            detail = "something went wrong on our side; it was logged"
        shown = self._page(request, status)
        if shown is not None:
            if status == 503:
                shown.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return shown
        return problem(status, title, detail)

    def _page(self, request: Request, status: int) -> Response | None:
        if self.page is None:
            return None
        try:
            return self.page(request, status, ())
        except Exception:  # the page itself failed: the plain answer then
            log.exception("the error page for %s failed", request.url.path)
            return None


def install(app: FastAPI, page: ErrorPage | None = None) -> None:
    """The handlers of expected errors. Unexpected ones: add `Unexpected` as the app's last
    (outermost) middleware."""
    app.add_exception_handler(TidepoolError, _known_error)
    app.add_exception_handler(RequestValidationError, _request_invalid(page))
    app.add_exception_handler(HTTPException, _http_error)
