"""Who is looking: the signed-in user (the session the signed cookie names, kept on the server:
engine.service.sessions), their tenant's active config, their language and their CSRF token.
Pages take a `Viewer`; POSTs also `Checked`."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from engine.config.model import Label, UserDef
from engine.errors import CallerError, NotFound, ServiceError
from engine.i18n import LOCALES, locale_of
from engine.rules.compiled import CompiledConfig
from engine.service import Services
from engine.service.permissions import may, require
from engine.service.sessions import Sessions

SESSION_COOKIE = "tidepool_admin"


class SignInNeeded(CallerError):
    """No (valid) session: the page answers with a redirect to the sign-in page."""

    status = 401
    code = "sign_in_needed"


class CsrfFailed(CallerError):
    """A POST without this session's CSRF token."""

    status = 403
    code = "csrf_failed"


@dataclass(frozen=True)
class Viewer:
    tenant: str
    user: UserDef
    cfg: CompiledConfig
    locale: str
    csrf: str

    def can(self, permission: str) -> bool:
        return may(self.cfg, self.user.id, permission)

    def require(self, permission: str) -> None:
        """Forbidden (a 403 page naming the roles that may) unless a role of theirs can."""
        require(self.cfg, self.user.id, permission)

    def label(self, label: Label | None, default: str = "") -> str:
        return label.get(self.locale, self.cfg.bundle.tenant.locale) if label else default


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def page_locale(request: Request, default: str) -> str:
    """The page's language: the one chosen on the page (kept in the session), else the
    browser's (Accept-Language), else `default`."""
    chosen = request.session.get("locale")
    if chosen in LOCALES:
        return str(chosen)
    header = request.headers.get("accept-language", "")
    return locale_of(header) if header.strip() else default


def admin_sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.admin_sessions
    return found


async def viewer(request: Request) -> Viewer:
    """The user of the request's server-side session, still an active user of the tenant's
    active config (a session that has ended sends them to sign in)."""
    tenant, token = request.session.get("tenant"), request.session.get("sid")
    if not isinstance(tenant, str) or not isinstance(token, str):
        raise SignInNeeded
    user = await run_in_threadpool(admin_sessions(request).resume, tenant, token)
    if user is None:
        forget_session(request)
        raise SignInNeeded
    try:
        cfg = await run_in_threadpool(services(request).configs.active, tenant)
    except NotFound:
        raise SignInNeeded from None
    found = cfg.bundle.tenant.users.get(user)
    if found is None or not found.active:  # switched off in the bundle: signed out
        forget_session(request)
        raise SignInNeeded
    locale = page_locale(request, locale_of(cfg.bundle.tenant.locale))
    return Viewer(tenant, found, cfg, locale, csrf_token(request))


def forget_session(request: Request) -> None:
    """The cookie stops naming a session; its language stays."""
    for name in ("tenant", "sid", "user"):
        request.session.pop(name, None)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


async def same_session(request: Request) -> None:
    """A POST of this session: its form's csrf_token (or X-CSRF-Token header) must match the
    session's (signed in or not: the sign-in form is checked too)."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else ""
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed


async def checked(
    request: Request,
    who: Annotated[Viewer, Depends(viewer)],
    _: Annotated[None, Depends(same_session)],
) -> Viewer:
    return who


Who = Annotated[Viewer, Depends(viewer)]
Checked = Annotated[Viewer, Depends(checked)]
Svc = Annotated[Services, Depends(services)]
SameSession = Annotated[None, Depends(same_session)]


class AdminRoute(APIRoute):
    """Admin pages answer errors as pages: sign-in redirects, 403/404/409/422 explained."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/admin/login?next={_quote(target)}", status_code=303)
            except CsrfFailed as exc:
                return await _error_page(request, exc.status, "error.csrf")
            except ServiceError as exc:
                return await _error_page(request, exc.status, None, exc)

        return handle


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


async def _error_page(
    request: Request, status: int, key: str | None, exc: ServiceError | None = None
) -> Response:
    from admin_ui.templating import render_error

    return render_error(request, status, key, exc)
