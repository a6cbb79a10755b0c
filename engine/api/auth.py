"""Bearer API keys: a missing or wrong key is 401; a key of another tenant is 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from engine.errors import NotFound, Unauthorized
from engine.service import Services
from engine.service.keys import Caller
from engine.service.policy import Policy


async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


BEARER = HTTPBearer(auto_error=False, description="A tenant API key (tidepool keys create)")


async def caller(
    tenant: Annotated[str, Path(description="Tenant id")],
    svc: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> Caller:
    """The caller, if its bearer key belongs to the tenant of the path."""
    token = credentials.credentials if credentials is not None else ""
    if not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <api key>'")
    known, found = svc.keys.cached(token.strip())
    if not known:  # a database look-up: off the event loop
        found = await run_in_threadpool(svc.keys.caller, token.strip())
    if found is None:
        raise Unauthorized("the API key is not valid")
    if found.tenant != tenant:  # same answer as an unknown tenant: no existence leak
        raise NotFound(f"unknown tenant '{tenant}'")
    return found


Who = Annotated[Caller, Depends(caller)]
Svc = Annotated[Services, Depends(services)]


async def acting(who: Who, svc: Svc) -> Policy:
    """The caller's access policy: what they may see and do (engine/service/policy.py). A
    key acting for a user switched off, in the bundle or through the API, is refused (403)
    on every route: each router depends on this."""
    if who.user is None:
        return svc.records.policy_for(who.tenant, None)
    return await run_in_threadpool(svc.records.policy_for, who.tenant, who.user)


Acting = Annotated[Policy, Depends(acting)]
