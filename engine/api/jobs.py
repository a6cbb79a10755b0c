"""Jobs endpoints under /api/v1/{tenant}: see what left (or failed to leave), retry the dead."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from engine.api.auth import Acting, Who, acting
from engine.api.params import RowId
from engine.service import Services
from engine.service.jobs import MAX_LIST, STATUSES, Jobs, job_json

router = APIRouter(prefix="/api/v1/{tenant}", tags=["jobs"], dependencies=[Depends(acting)])


async def jobs_service(request: Request, policy: Acting) -> Jobs:
    """The jobs, for integration keys and users who can configure: payloads carry record
    values that other users may see only masked."""
    services: Services = request.app.state.services
    policy.require("configure")
    return services.jobs


JobsSvc = Annotated[Jobs, Depends(jobs_service)]


@router.get("/jobs", summary="Webhooks, emails and other jobs, newest first")
def list_jobs(
    who: Who,
    policy: Acting,
    jobs: JobsSvc,
    status: Annotated[str | None, Query(description=" | ".join(STATUSES))] = None,
    campaign: Annotated[str | None, Query(description="Only this campaign's jobs")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
    before: Annotated[
        RowId | None, Query(description="Only jobs with a smaller id (the next page)")
    ] = None,
) -> dict[str, Any]:
    found = jobs.find(who.tenant, status=status, campaign=campaign, limit=limit, before=before)
    more = len(found) == limit
    shown = [job_json(j, policy.mask) for j in found]
    return {"jobs": shown, "next_before": found[-1].id if more else None}


@router.post("/jobs/{job_id}/retry", summary="Give a dead job a fresh set of attempts")
def retry_job(who: Who, policy: Acting, jobs: JobsSvc, job_id: RowId) -> dict[str, Any]:
    return job_json(jobs.retry(who.tenant, job_id), policy.mask)
