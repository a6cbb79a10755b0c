"""What a caller acting for a user may do: shorthands over the one access policy
(engine/service/policy.py) for callers that hold no `Policy` of their own.

A caller without a user (a tenant-wide integration key) may do everything; a user's key
acts with their roles' `can:`.
"""

from __future__ import annotations

from engine.rules.compiled import CompiledConfig
from engine.service.policy import Policy


def may(cfg: CompiledConfig, by: str | None, permission: str) -> bool:
    """Whether the caller (a user id, or None for a tenant-wide key) has the permission."""
    return Policy(cfg, by).may(permission)


def require(
    cfg: CompiledConfig, by: str | None, permission: str, switched_off: frozenset[str] = frozenset()
) -> None:
    """Forbidden (403) unless the caller has the permission (and is not switched off)."""
    Policy(cfg, by, switched_off).require(permission)
