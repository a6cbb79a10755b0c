"""Campaign endpoints under /api/v1/{tenant}: stats per variant and day, and the in-app
notifications campaigns leave for users."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from engine.api.auth import Acting, Svc, Who, acting
from engine.api.params import RowId

router = APIRouter(prefix="/api/v1/{tenant}", tags=["campaigns"], dependencies=[Depends(acting)])


@router.get(
    "/campaigns",
    summary="The tenant's campaigns: trigger, entity, steps, split, goal",
)
def list_campaigns(who: Who, svc: Svc) -> dict[str, Any]:
    return {"campaigns": svc.campaigns.overview(who.tenant)}


@router.get(
    "/campaigns/{campaign}/stats",
    summary="Fired, delivered, failed, held out, deferred and converted per variant and day",
)
def campaign_stats(
    who: Who,
    svc: Svc,
    policy: Acting,
    campaign: str,
    since: Annotated[date | None, Query(description="From this day (tenant's time zone)")] = None,
) -> dict[str, Any]:
    policy.require("see_all_stats")  # counts over every record of the tenant
    return svc.campaigns.stats(who.tenant, campaign, since)


@router.get("/notifications", summary="A user's in-app notifications, newest first")
def notifications(
    who: Who,
    svc: Svc,
    user: Annotated[str | None, Query(description="Whose (a user's key: its own)")] = None,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    found = svc.campaigns.notifications(who.tenant, user or who.user, unread, limit, by=who.user)
    return {"notifications": found}


@router.post("/notifications/{notification}/read", summary="Mark a notification read")
def read_notification(who: Who, svc: Svc, notification: RowId) -> dict[str, Any]:
    return svc.campaigns.mark_read(who.tenant, notification, by=who.user)
