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
    SignInLimiter,
    Svc,
    Who,
    csrf_token,
)
from admin_ui.templating import render
from admin_ui.texts import LOCALES
from engine.service import Services

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)


def _limiter(request: Request) -> SignInLimiter:
    """One per app (a server process): failures counted where they are tried."""
    state = request.app.state
    if not hasattr(state, "sign_in_limiter"):
        state.sign_in_limiter = SignInLimiter()
    found: SignInLimiter = state.sign_in_limiter
    return found


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
    """A session for an active user of the tenant's bundle (by id or email)."""
    ident = await run_in_threadpool(_user_id, svc, tenant, user.strip())
    key = (tenant, ident or user.strip().lower(), request.client.host if request.client else "")
    limiter = _limiter(request)
    wait = limiter.wait(key)
    ok = not wait and ident is not None
    ok = ok and await run_in_threadpool(svc.passwords.check, tenant, ident or "", password)
    if not ok:
        if not wait:
            limiter.failed(key)
        error = ("too_many_attempts", {"seconds": wait}) if wait else ("bad_sign_in", {})
        page = render(
            request,
            None,
            "login.html",
            status=401,
            tenants=svc.configs.tenants(),
            next=_safe(next),
            error=error,
            tenant=tenant,
            user=user,
        )
        return page
    limiter.passed(key)
    locale = request.session.get("locale")
    request.session.clear()  # a fresh session: no fixation
    request.session.update({"tenant": tenant, "user": ident, "csrf": secrets.token_urlsafe(24)})
    if locale:
        request.session["locale"] = locale
    return RedirectResponse(_safe(next), status_code=303)


@router.post("/logout")
def logout(request: Request, who: Checked) -> Response:
    request.session.clear()
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


def _user_id(svc: Services, tenant: str, given: str) -> str | None:
    """The bundle's user id for an id or an email (case-insensitive)."""
    try:
        users = svc.configs.active(tenant).bundle.tenant.users
    except Exception:  # an unknown tenant reads as a wrong sign-in, nothing more
        return None
    if given in users:
        return given
    wanted = given.lower()
    return next((u.id for u in users.values() if (u.email or "").lower() == wanted), None)


def _safe(target: str) -> str:
    """Only paths of the admin UI: never an open redirect to another site."""
    ok = target.startswith("/admin") and not target.startswith("//") and "\\" not in target
    return target if ok else "/admin/dashboard"
