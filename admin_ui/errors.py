"""Errors the pages' own handling (AdminRoute) does not see, as pages: an address or form value
that cannot be read (422), the database out of reach (503), a bug (500). The API answers the
same errors as problem+json (engine/api/problems.py asks here first)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from starlette.responses import Response

from admin_ui.session import AdminRoute, locale_of
from admin_ui.templating import render
from admin_ui.texts import add, text
from engine.fields.validator import FieldError

add(
    {
        "error.request": (
            "A value in this page's address or form cannot be used.",
            "此页面地址或表单中有无法使用的值。",
        ),
        "error.unavailable": (
            "The database cannot be reached just now. Please try again in a moment.",
            "暂时无法连接数据库，请稍后再试。",
        ),
        "error.internal": (
            "Something went wrong on our side; it was logged.",
            "服务器出错了，已记录下来。",
        ),
    }
)
_KEYS = {422: "error.request", 503: "error.unavailable", 500: "error.internal"}


def error_page(request: Request, status: int, errors: Sequence[FieldError]) -> Response | None:
    """The admin UI's error page for a request to one of its pages; None for other requests."""
    if not isinstance(request.scope.get("route"), AdminRoute):
        return None
    locale = locale_of(request, "en")
    return render(
        request,
        None,
        "error.html",
        status=status,
        status_code=status,
        detail=text(_KEYS.get(status, "error.title"), locale),
        messages=[f"{e.field}: {e.message(locale)}" for e in errors],
    )
