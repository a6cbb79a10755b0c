"""Wiring the admin UI into the app: signed session cookies, static files, the pages."""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from admin_ui.hosted import router as hosted_router
from admin_ui.pages import routers
from admin_ui.session import SESSION_COOKIE
from admin_ui.templating import HERE
from engine.service import Services
from engine.service.passwords import app_secret
from engine.service.sessions import Sessions, SessionSettings


def mount(app: FastAPI, services: Services) -> None:
    """Serve the admin UI under /admin/: cookies signed with the installation's secret name
    sessions kept on the server, which last TIDEPOOL_SESSION_HOURS (default 12) and end
    after TIDEPOOL_SESSION_IDLE_MINUTES without a request (default 120; 0: never)."""
    store, clock = services.store, services.clock
    secret = os.environ.get("TIDEPOOL_SESSION_SECRET") or app_secret(store, clock, "admin_session")
    settings = SessionSettings.from_env()
    app.state.admin_sessions = Sessions(
        store,
        services.configs,
        clock,
        services.passwords,
        app_secret(store, clock, "sign_in_clients"),
        settings,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie=SESSION_COOKIE,
        max_age=max(1, round(settings.lifetime.total_seconds())),
        path="/admin",
        same_site="lax",
        https_only=os.environ.get("TIDEPOOL_SECURE_COOKIES") == "1",
    )
    app.mount("/admin/static", StaticFiles(directory=HERE / "static"), name="admin-static")
    app.include_router(hosted_router)  # the public form pages under /f/
    for router in routers():
        app.include_router(router)
