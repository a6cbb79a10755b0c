"""Bearer API keys: a missing or wrong key is 401; a key of another tenant is 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from engine.service import NotFound, Services
from engine.service.errors import ServiceError


class Unauthorized(ServiceError):
    title = "Unauthorized"


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def tenant_access(
    tenant: Annotated[str, Path(description="Tenant id")],
    svc: Annotated[Services, Depends(services)],
    authorization: Annotated[str | None, Header()] = None,
) -> str:
    """The tenant of the path, if the bearer key belongs to it."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <api key>'")
    owner = svc.keys.tenant_of(token.strip())
    if owner is None:
        raise Unauthorized("the API key is not valid")
    if owner != tenant:  # same answer as an unknown tenant: no existence leak
        raise NotFound(f"unknown tenant '{tenant}'")
    return tenant


Tenant = Annotated[str, Depends(tenant_access)]
Svc = Annotated[Services, Depends(services)]
