"""Probes: /healthz/live (the process answers), /healthz/ready (the database answers and the
workers keep up), /healthz (as before: the process)."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from engine.api.problems import problem
from engine.service import Services
from engine.storage.health import oldest_due, ping, unavailable

# Due jobs waiting longer than this mean no worker is running them: the instance is not ready.
QUEUE_AGE_ENV = "TIDEPOOL_READY_MAX_QUEUE_AGE"
DEFAULT_MAX_QUEUE_AGE = 300.0  # seconds

router = APIRouter(include_in_schema=False)


def max_queue_age() -> float:
    raw = os.environ.get(QUEUE_AGE_ENV, "")
    try:
        return float(raw) if raw.strip() else DEFAULT_MAX_QUEUE_AGE
    except ValueError:
        return DEFAULT_MAX_QUEUE_AGE


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/healthz/live")
def live() -> dict[str, str]:
    """Always 200 while the process runs: a restart would not help with anything else."""
    return {"status": "live"}


@router.get("/healthz/ready")
def ready(request: Request) -> JSONResponse:
    """200 when the database answers and the oldest due job waited at most the limit; else a
    503 problem with what failed (a load balancer stops sending requests meanwhile)."""
    services: Services = request.app.state.services
    limit: float = request.app.state.max_queue_age
    engine = services.store.engine
    checks: dict[str, Any] = {"database": "ok", "queue_age_seconds": None, "queue_age_limit": limit}
    try:
        ping(engine)
        due = oldest_due(engine, services.clock.now())
    except Exception as exc:
        if not unavailable(exc):
            raise
        checks["database"] = "unreachable"
        return problem(503, "Not ready", "the database cannot be reached", checks=checks)
    if due is not None:
        age = max(0.0, (services.clock.now() - due).total_seconds())
        checks["queue_age_seconds"] = round(age, 3)
        if age > limit:
            detail = f"the oldest due job has waited {age:.0f} s (limit {limit:.0f} s)"
            return problem(503, "Not ready", detail, checks=checks)
    return JSONResponse({"status": "ready", "checks": checks})
