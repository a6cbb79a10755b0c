"""Pages are Jinja2 templates (autoescaped) with the viewer's language and CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from admin_ui.session import Viewer, csrf_token, page_locale
from engine.errors import ServiceError
from engine.i18n import text

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["text"] = text
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def render(
    request: Request, who: Viewer | None, name: str, status: int = 200, **context: Any
) -> Response:
    """A page for the viewer (or for nobody yet: the sign-in page)."""
    locale = who.locale if who is not None else page_locale(request, "en")

    def t(key: str, **params: Any) -> str:
        return text(key, locale, **params)

    base: dict[str, Any] = {
        "who": who,
        "locale": locale,
        "t": t,
        "path": request.url.path,
        "csrf": who.csrf if who is not None else csrf_token(request),
    }
    if who is not None:
        base["label"] = who.label
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def render_error(
    request: Request, status: int, key: str | None, exc: ServiceError | None = None
) -> Response:
    """An error as a page: what went wrong, in the viewer's language, and the way back."""
    locale = page_locale(request, "en")
    detail = text(key, locale) if key else (exc.detail if exc else "")
    if exc is not None and status == 404 and not key:
        detail = text("error.404", locale)  # the service's detail is English and names ids
    if exc is not None and status == 403:
        roles = next(
            (
                e.params.get("role_labels") or e.params.get("roles")
                for e in exc.errors
                if "roles" in e.params
            ),
            "-",
        )
        detail = f"{text('error.403', locale)} {text('error.403.roles', locale, roles=roles)}"
    messages = [e.as_dict(locale).get("message", "") for e in exc.errors] if exc else []
    return render(
        request,
        None,
        "error.html",
        status=status,
        status_code=status,
        detail=detail,
        messages=[m for m in messages if m and m != detail],
    )
