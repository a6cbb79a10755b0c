"""Wiring the admin UI into the app: signed session cookies, static files, the pages."""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from admin_ui.hosted import router as hosted_router
from admin_ui.pages import routers
from admin_ui.session import SESSION_COOKIE, SESSION_SECONDS
from admin_ui.templating import HERE
from engine.service import Services
from engine.service.passwords import app_secret


def mount(app: FastAPI, services: Services) -> None:
    """Serve the admin UI under /admin/ (sessions signed with the installation's secret)."""
    secret = os.environ.get("TIDEPOOL_SESSION_SECRET") or app_secret(
        services.store, services.clock, "admin_session"
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_SECONDS,
        path="/admin",
        same_site="lax",
        https_only=os.environ.get("TIDEPOOL_SECURE_COOKIES") == "1",
    )
    app.mount("/admin/static", StaticFiles(directory=HERE / "static"), name="admin-static")
    app.include_router(hosted_router)  # the public form pages under /f/
    for router in routers():
        app.include_router(router)
