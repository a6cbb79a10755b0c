"""Which fields of an entity a viewer sees masked (数据脱敏), from the config model alone.

One implementation for the service (engine/service/masking.py, which masks the values) and
for the load checks (engine/config/campaign_checks.py, which warn when a campaign would carry
a masked value where it is not masked). The rules are written out in masking.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from engine.config.model import EntityDef, TenantDef

# A viewer id no user can have (ids are slugs): a stranger, who sees everything masked that
# anyone might — a webhook's receiver, an address outside the bundle, a task without assignee.
STRANGER = "<stranger>"


def masked_for(
    definition: EntityDef,
    tenant: TenantDef,
    user: str | None,
    switched_off: Iterable[str] = (),
) -> frozenset[str]:
    """The fields of the entity that `user` sees masked (None: a tenant-wide key, nothing)."""
    if user is None:
        return frozenset()
    found = tenant.users.get(user)
    pii = {name for name, f in definition.fields.items() if f.pii}
    if found is None or not found.active or user in set(switched_off):
        named = {n for role in tenant.roles.values() for n in role.see_masked}
        return frozenset(pii | (named & set(definition.fields)))
    roles = [tenant.roles[r] for r in found.roles if r in tenant.roles]
    if not roles:
        return frozenset(pii)
    common = set(definition.fields)
    for role in roles:
        common &= set(role.see_masked)
    return frozenset(common)


def masked_for_strangers(definition: EntityDef, tenant: TenantDef) -> frozenset[str]:
    """What a viewer the bundle does not know sees masked: every pii field and every field
    a role's `see_masked` names."""
    return masked_for(definition, tenant, STRANGER)


def viewer_classes(definition: EntityDef, tenant: TenantDef) -> Iterator[frozenset[str]]:
    """Every distinct set of masked fields the bundle's users see the entity with (and a
    stranger's)."""
    seen: set[frozenset[str]] = set()
    for user in (*tenant.users, STRANGER):
        found = masked_for(definition, tenant, user)
        if found not in seen:
            seen.add(found)
            yield found
