"""What a caller acting for a user may do: the bundle's roles say (`can:`).

A caller without a user (a tenant-wide integration key) may do everything; a user's key may
act on the user's own behalf and, with a role that `can: [assign]`, hand records to anyone.
"""

from __future__ import annotations

from engine.fields.validator import FieldError
from engine.service.compiled import CompiledConfig
from engine.service.errors import Forbidden


def may(cfg: CompiledConfig, by: str | None, permission: str) -> bool:
    """Whether the caller (a user id, or None for a tenant-wide key) has the permission."""
    if by is None:
        return True
    user = cfg.bundle.tenant.users.get(by)
    if user is None or not user.active:
        return False
    roles = cfg.bundle.tenant.roles
    return any(permission in roles[r].can for r in user.roles if r in roles)


def require(
    cfg: CompiledConfig, by: str | None, permission: str, switched_off: frozenset[str] = frozenset()
) -> None:
    """Forbidden (403) unless the caller has the permission (and is not switched off)."""
    if may(cfg, by, permission) and by not in switched_off:
        return
    granted = sorted(r.id for r in cfg.bundle.tenant.roles.values() if permission in r.can)
    params = {"user": by, "permission": permission, "roles": ", ".join(granted) or "-"}
    detail = f"user '{by}' may not {permission}: no role of theirs can"
    raise Forbidden(detail, [FieldError("user", "forbidden", params)])


def require_for(
    cfg: CompiledConfig, by: str | None, user: str, switched_off: frozenset[str] = frozenset()
) -> None:
    """A caller acting for `user`: for themselves always (while active), for anyone else
    with a role that can assign."""
    if by is not None and by == user:
        active = cfg.bundle.tenant.users.get(by)
        if active is not None and active.active and by not in switched_off:
            return
    require(cfg, by, "assign", switched_off)
