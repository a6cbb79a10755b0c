"""Who may own a record, and whether an owner's protection holds rules back.

The owner and clock columns themselves change in one place: the plan (engine/rules/plan.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.fields.validator import FieldError
from engine.rules.compiled import CompiledConfig
from engine.rules.plan import held
from engine.storage.store import Record


def shielded(
    cfg: CompiledConfig, entity: str, before: Record | None, owner: str | None, now: datetime
) -> bool:
    """Whether rules into the public pool must wait for the owner's protection to end."""
    public = cfg.public.get(entity)
    return public is not None and public.shields(held(before), owner, now)


def owner_error(cfg: CompiledConfig, owner: Any) -> FieldError | None:
    """Why a value cannot be a record's owner (a user of the tenant, active), or None."""
    users = cfg.bundle.tenant.users
    if owner is None:
        return None
    if not isinstance(owner, str) or owner not in users:
        names = ", ".join(sorted(u for u in users if users[u].active)) or "(none)"
        return FieldError("owner", "owner", {"value": owner, "users": names})
    if not users[owner].active:
        return FieldError("owner", "inactive_owner", {"value": owner})
    return None
