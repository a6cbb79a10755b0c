"""Who may frame the hosted page and call it from their own script: only the form's
`embed_origins`. Every /f/ response gets the frame policy and the usual hardening headers; a
request whose Origin is listed gets the CORS headers naming it (and only it)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

PREFLIGHT_MAX_AGE = "600"  # seconds a browser may keep a preflight's answer


def frame_ancestors(origins: Sequence[str]) -> str:
    return " ".join(("frame-ancestors", "'self'", *origins))


def listed(origin: str | None, origins: Sequence[str]) -> str | None:
    """The request's Origin when the form lists it (origins compare in any case)."""
    if not origin:
        return None
    lowered = origin.lower()
    return origin if any(o.lower() == lowered for o in origins) else None


def same_site(request: Request, origin: str) -> bool:
    """The Origin is this server itself (the hosted page posting to itself): the browser
    says so (Sec-Fetch-Site, which no page can set), or the Origin is the Host asked for or
    the public URL (behind a proxy that rewrites Host)."""
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    try:
        netloc = urlsplit(origin).netloc.lower()
        public = urlsplit(os.environ.get("TIDEPOOL_PUBLIC_URL", "")).netloc.lower()
    except ValueError:
        return False
    return bool(netloc) and netloc in (request.headers.get("host", "").lower(), public)


def foreign(request: Request, origins: Sequence[str]) -> str | None:
    """The Origin of a browser request from a site that is neither this one nor listed: such a
    site may not make its visitors submit the form. Requests without Origin (servers, curl)
    pass: the rate limits still count them."""
    origin = request.headers.get("origin")
    if origin is None or listed(origin, origins) or same_site(request, origin):
        return None
    return origin


def secure(response: Response, request: Request, origins: Sequence[str]) -> Response:
    """The frame policy, the hardening headers and, for a listed Origin, CORS."""
    headers = response.headers
    headers["Content-Security-Policy"] = frame_ancestors(origins)
    if not origins:  # X-Frame-Options cannot name several origins: only without any
        headers["X-Frame-Options"] = "SAMEORIGIN"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if origins:  # the answer differs by Origin: caches must keep them apart
        vary = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
        headers["Vary"] = ", ".join([*vary, "Origin"])
    allowed = listed(request.headers.get("origin"), origins)
    if allowed is not None:
        headers["Access-Control-Allow-Origin"] = allowed
    return response


def preflight(request: Request, origins: Sequence[str]) -> Response:
    """The answer to a CORS preflight: POST with a Content-Type, for listed origins only."""
    response = Response(status_code=204)
    if listed(request.headers.get("origin"), origins) is not None:
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return secure(response, request, origins)
