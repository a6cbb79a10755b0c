"""Errors the pages' own handling (AdminRoute) does not see, as pages: an address or form value
that cannot be read (422), the database out of reach (503), a bug (500). The API answers the
same errors as problem+json (engine/api/problems.py asks here first)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from starlette.responses import Response

from admin_ui.session import AdminRoute, page_locale
from admin_ui.templating import render
from engine.fields.validator import FieldError
from engine.i18n import text

_KEYS = {422: "error.request", 503: "error.unavailable", 500: "error.internal"}


def error_page(request: Request, status: int, errors: Sequence[FieldError]) -> Response | None:
    """The admin UI's error page for a request to one of its pages; None for other requests."""
    if not isinstance(request.scope.get("route"), AdminRoute):
        return None
    locale = page_locale(request, "en")
    return render(
        request,
        None,
        "error.html",
        status=status,
        status_code=status,
        detail=text(_KEYS.get(status, "error.title"), locale),
        messages=[f"{e.field}: {e.message(locale)}" for e in errors],
    )
