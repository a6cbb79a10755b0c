"""Reading a submission: at most the form's `max_body_bytes` (by Content-Length up front,
then counted while reading, so nothing larger is ever held), as a form (urlencoded or
multipart, no files) or as JSON. Anything it cannot take is a BodyRefused: unreadable (400),
BodyTooLarge (413) or BodyUnsupported (415)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from engine.errors import CallerError

MAX_FIELDS = 200  # more names than any form has; a form posting more is not a person

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
JSON = "application/json"


class BodyRefused(CallerError):
    """The body cannot be read: a bad Content-Length, bad JSON, not UTF-8, too many fields."""

    status = 400
    code = "body_unreadable"


class BodyTooLarge(BodyRefused):
    status = 413
    code = "body_too_large"


class BodyUnsupported(BodyRefused):
    """Neither JSON nor a form."""

    status = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class Entered:
    """A submission as sent: JSON as parsed, or a form's values by name, as text."""

    is_json: bool
    data: Any = None  # the parsed JSON
    raw: dict[str, list[str]] = field(default_factory=dict)  # the form's values


def media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(headers: Headers) -> bool:
    kind = media_type(headers)
    return kind == JSON or (kind.startswith("application/") and kind.endswith("+json"))


async def read(request: Request, limit: int) -> bytes:
    """The whole body, refused (413) as soon as it is known to exceed `limit` bytes."""
    length = request.headers.get("content-length")
    if length is not None and (not length.strip().isdigit() or int(length) > limit):
        raise BodyTooLarge if length.strip().isdigit() else BodyRefused
    chunks: list[bytes] = []
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def entered(request: Request, limit: int) -> Entered:
    """The submission in the request's body (see the module's docstring)."""
    kind = media_type(request.headers)
    if not (is_json(request.headers) or kind in (FORM, MULTIPART)):
        raise BodyUnsupported
    body = await read(request, limit)
    if is_json(request.headers):
        return Entered(True, data=parse_json(body))
    if kind == FORM:
        return Entered(False, raw=parse_form(body))
    return Entered(False, raw=await parse_multipart(request.headers, body))


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, a number too long, too deep
        raise BodyRefused from None


def parse_form(body: bytes) -> dict[str, list[str]]:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:  # not UTF-8 (before or after %-decoding), too many fields
        raise BodyRefused from None
    return _grouped(pairs)


async def parse_multipart(headers: Headers, body: bytes) -> dict[str, list[str]]:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(headers, stream(), max_files=0, max_fields=MAX_FIELDS)
    try:
        form = await parser.parse()
    except (MultiPartException, ValueError):  # malformed, a file, too many parts
        raise BodyRefused from None
    pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return _grouped(pairs)


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped
