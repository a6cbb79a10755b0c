"""One way to change who owns a record: the owner column and the public pool's clocks.

Every path that sets a record's owner or pool (creates, updates, claims, releases, sweeps,
moves by hand) takes its column changes from `owner_columns`, so the protection period and
its reminder follow every change the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.fields.validator import FieldError
from engine.rules.compiled import CompiledConfig
from engine.rules.ownership import Held
from engine.storage.store import Record


def held(record: Record | None) -> Held:
    if record is None:
        return Held(None, None)
    return Held(
        record.owner,
        record.pool,
        record.owner_since,
        record.protected_until,
        record.remind_at,
        record.data,
    )


def owner_columns(
    cfg: CompiledConfig,
    entity: str,
    before: Record | None,
    owner: str | None,
    pool: str | None,
    data: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The owner and clock columns that change (empty when nothing does)."""
    old = held(before)
    public = cfg.public.get(entity)
    if public is not None and pool == public.pool:
        owner = None  # the public pool is nobody's, however a record gets there
    columns: dict[str, Any] = {"owner": owner} if owner != old.owner else {}
    if public is None:  # no protection: only since when the owner has it
        if owner != old.owner or before is None:
            columns["owner_since"] = now if owner is not None else None
        return columns
    clocks = public.clocks(old, Held(owner, pool, data=data), now).columns()
    current = old.owner_since, old.protected_until, old.remind_at
    for (name, value), was in zip(clocks.items(), current, strict=True):
        if value != was or before is None:
            columns[name] = value
    return columns


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
