"""What switching from one bundle to another does beyond the rules themselves: users it
switches off (their records are handed over) and relative campaigns it adds or re-triggers
(existing records get their plans). Activation does it; a dry run reports it."""

from __future__ import annotations

from engine.config.model import Bundle


def deactivated_users(before: Bundle | None, after: Bundle) -> dict[str, str]:
    """Users `after` switches off, with what happens to their records (the user's
    on_deactivate, else the tenant's); 'stay' is left out."""
    out: dict[str, str] = {}
    for user in after.tenant.users.values():
        was = before.tenant.users.get(user.id) if before is not None else None
        if user.active or was is None or not was.active:
            continue
        policy = user.on_deactivate or after.tenant.on_deactivate
        if policy != "stay":
            out[user.id] = policy
    return out


def new_relative(before: Bundle | None, after: Bundle) -> list[str]:
    """Relative campaigns `after` adds or whose trigger it changes."""
    old = {c.id: c.trigger for c in before.campaigns} if before is not None else {}
    return [
        c.id
        for c in after.campaigns
        if c.trigger.kind == "relative" and c.enabled and old.get(c.id) != c.trigger
    ]
