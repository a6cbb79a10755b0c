"""Sign in and out, and the language switch."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from admin_ui.session import (
    AdminRoute,
    Checked,
    SameSession,
    Svc,
    Who,
    admin_sessions,
    csrf_token,
    forget_session,
)
from admin_ui.templating import render
from engine.i18n import LOCALES

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)


@router.get("")
@router.get("/")
def home(who: Who) -> Response:
    return RedirectResponse("/admin/dashboard", status_code=303)


@router.get("/login")
def login_page(request: Request, svc: Svc, next: str = "/admin/dashboard") -> Response:
    csrf_token(request)
    return render(request, None, "login.html", tenants=svc.configs.tenants(), next=_safe(next))


@router.post("/login")
async def login(
    request: Request,
    svc: Svc,
    _: SameSession,
    tenant: Annotated[str, Form()],
    user: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/admin/dashboard",
) -> Response:
    """A session for an active user of the tenant's bundle (by id or email); 401 for a wrong
    tenant, user or password, 429 with how long to wait once a limit holds."""
    address = request.client.host if request.client else None
    sessions = admin_sessions(request)
    done = await run_in_threadpool(sessions.sign_in, tenant, user, password, address)
    if not done.signed_in:
        status, headers = 401, {}
        error: tuple[str, dict[str, int]] = ("bad_sign_in", {})
        if done.wait:
            status, headers = 429, {"Retry-After": str(done.wait)}
            error = _wait_text(done.wait, done.limit)
        page = render(
            request,
            None,
            "login.html",
            status=status,
            tenants=svc.configs.tenants(),
            next=_safe(next),
            error=error,
            tenant=tenant,
            user=user,
        )
        page.headers.update(headers)
        return page
    locale = request.session.get("locale")
    request.session.clear()  # a fresh session: no fixation
    request.session.update({"tenant": tenant, "sid": done.token, "csrf": secrets.token_urlsafe(24)})
    if locale:
        request.session["locale"] = locale
    return RedirectResponse(_safe(next), status_code=303)


@router.post("/logout")
async def logout(request: Request, who: Checked) -> Response:
    """Ends the session on the server: a copy of the cookie signs nobody in any more."""
    token = request.session.get("sid")
    if isinstance(token, str):
        await run_in_threadpool(admin_sessions(request).end, who.tenant, token)
    forget_session(request)
    return RedirectResponse("/admin/login", status_code=303)


@router.post("/language")
async def language(
    request: Request,
    _: SameSession,
    locale: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/admin/",
) -> Response:
    """Switch the UI's language (signed in or not: the sign-in page has the switch too)."""
    if locale in LOCALES:
        request.session["locale"] = locale
    return RedirectResponse(_safe(next), status_code=303)


def _wait_text(seconds: int, limit: str | None) -> tuple[str, dict[str, int]]:
    """The refusal's words: which limit, and the wait in seconds or (from two on) minutes."""
    key = "sign_in.wait_address" if limit == "address" else "sign_in.wait_user"
    if seconds >= 120:
        return f"{key}.minutes", {"minutes": -(-seconds // 60)}
    return key, {"seconds": seconds}


def _safe(target: str) -> str:
    """Only paths of the admin UI: never an open redirect to another site."""
    ok = target.startswith("/admin") and not target.startswith("//") and "\\" not in target
    return target if ok else "/admin/dashboard"
