"""Config versions under /api/v1/{tenant}/config: push a bundle, list, activate, roll back,
a semantic diff between two versions, and a dry run of a candidate against stored records."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse

from engine.api.auth import Acting, Svc, Who, acting
from engine.api.params import VersionNumber
from engine.service.simulate import dry_run_request

router = APIRouter(
    prefix="/api/v1/{tenant}/config", tags=["config"], dependencies=[Depends(acting)]
)


@router.get("/versions", summary="The stored config versions, newest first (active marked)")
def list_versions(who: Who, svc: Svc, policy: Acting) -> dict[str, Any]:
    policy.require("configure")
    return {"versions": svc.configs.versions(who.tenant)}


@router.post(
    "/versions",
    status_code=201,
    summary="Store a bundle as a new version (validated whole; not active yet)",
    description='Body: {"files": {"tenant.yaml": "…", "entities.yaml": "…"}}. A bundle '
    "with errors is refused with 422 listing every error with its file, line and column; the "
    "same files again give the same version (200).",
)
def push_version(
    who: Who,
    svc: Svc,
    body: Annotated[dict[str, Any], Body(examples=[{"files": {"tenant.yaml": "tenant: acme"}}])],
) -> JSONResponse:
    result = svc.push(who.tenant, body.get("files"), actor=who.actor, by=who.user)
    return JSONResponse(result, status_code=201 if result["created"] else 200)


@router.post("/versions/{number}/activate", summary="Switch the tenant to this version")
def activate_version(who: Who, svc: Svc, number: VersionNumber) -> dict[str, Any]:
    changed = svc.activate(who.tenant, number, who.actor, by=who.user)
    return {"active": number, "changed": changed}


@router.post("/rollback", summary="Reactivate the version that was active before")
def rollback(who: Who, svc: Svc) -> dict[str, Any]:
    return {"active": svc.rollback(who.tenant, who.actor, by=who.user)}


@router.get(
    "/versions/{a}/diff/{b}",
    summary="What changes from version a to b: fields, pools, rules, campaigns… added, "
    "removed or changed (with the keys that differ)",
)
def diff_versions(
    who: Who, svc: Svc, policy: Acting, a: VersionNumber, b: VersionNumber
) -> dict[str, Any]:
    policy.require("configure")
    return {"from": a, "to": b, "changes": svc.diff(who.tenant, a, b)}


@router.post(
    "/dry-run",
    summary="What a candidate bundle would do to the stored records, without writing",
    description='Body: {"files": {"tenant.yaml": "…", …}} or {"version": n} (a stored '
    'version), optionally "now" (an ISO time with an offset: as of then) and "sample" (only '
    "the first N records of each entity). Answers per entity: pool moves (from → to, with the "
    "rules and example records), owner changes, scores and grades that would differ, campaigns "
    "that would fire, records the candidate cannot take, and the time it took. A bundle with "
    "errors is refused with 422 listing every error with its file, line and column.",
)
def dry_run(
    who: Who,
    svc: Svc,
    body: Annotated[
        dict[str, Any],
        Body(examples=[{"files": {"tenant.yaml": "tenant: acme"}, "sample": 1000}]),
    ],
) -> dict[str, Any]:
    return dry_run_request(svc, who.tenant, body, by=who.user).to_json()
