"""Who may see and change which record: the one policy every path asks.

The bundle's roles say it (tenant.yaml). Per entity, `see`, `edit` and `delete` each reach
`none`, `own`, `team`, `subtree` or `all` records, judged by the record's owner; `can:` grants
the privileged actions of `PERMISSIONS`. A user with several roles gets the widest of each; a
user without roles sees and edits their own records and deletes none. Beyond owners:

- records in a public pool are seen by those who may claim from it (every active user, or the
  pool's `claimers`); nobody edits them but through a claim (or with an `all` scope);
- unowned records outside a public pool are seen and edited by those who can `assign` (they
  wait for an owner) — except records of an entity with `visible_via`, which are seen
  (edited, deleted) by whoever may see (edit, delete) their parent, as well as through their
  own owner.

A caller without a user (a tenant-wide integration key) may do everything. A user unknown to
the bundle, marked `active: false`, or switched off at run time may do nothing: every request
of theirs is refused (`Forbidden`).

A record a caller may not see is answered as if it did not exist (`NotFound`); one they see
but may not change is `Forbidden`, naming the permission and the roles that have it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from engine.config.model import SCOPES, Bundle, RoleDef, TenantDef
from engine.errors import Forbidden, NotFound
from engine.fields.validator import FieldError
from engine.i18n import LOCALES, Message
from engine.service.masking import Mask
from engine.storage.visibility import Visibility

if TYPE_CHECKING:
    from engine.rules.compiled import CompiledConfig
    from engine.storage.store import Record

_RANK = {scope: i for i, scope in enumerate(SCOPES)}
ACTIONS = ("see", "edit", "delete")
MAX_VIA_DEPTH = 4  # parents of parents: the bundle refuses circles, this bounds long chains

# A parent record by (entity, id), or None: how the policy follows `visible_via`.
Parents = Callable[[str, str], "Record | None"]


def team_of(tenant: TenantDef, user: str) -> frozenset[str]:
    """The user and everyone sharing one of their teams."""
    found = tenant.users.get(user)
    teams = set(found.teams) if found is not None else set()
    mates = {u.id for u in tenant.users.values() if teams & set(u.teams)}
    return frozenset(mates | {user})


def subtree_of(tenant: TenantDef, user: str) -> frozenset[str]:
    """The user and everyone under them in the org chart, at any depth (no cycles: the bundle
    refuses them; the walk stops at users already seen all the same)."""
    reports: dict[str, list[str]] = {}
    for u in tenant.users.values():
        if u.manager is not None:
            reports.setdefault(u.manager, []).append(u.id)
    seen, todo = {user}, [user]
    while todo:
        for report in reports.get(todo.pop(), ()):
            if report not in seen:
                seen.add(report)
                todo.append(report)
    return frozenset(seen)


@dataclass(frozen=True, slots=True)
class _Reach:
    """The owners one action reaches for one entity: everyone, or a set of user ids."""

    everyone: bool
    owners: frozenset[str]

    def covers(self, owner: str | None) -> bool:
        return self.everyone or (owner is not None and owner in self.owners)


class Policy:
    """The rights of one caller (a user id, or None for an integration key) under one config.

    Build it once per request (`RecordService.policy_for`); it carries the caller's `mask`.
    """

    __slots__ = ("_cache", "bundle", "mask", "switched_off", "user")

    def __init__(
        self,
        source: Bundle | CompiledConfig,
        user: str | None,
        switched_off: Iterable[str] = (),
    ) -> None:
        self.bundle = source if isinstance(source, Bundle) else source.bundle
        self.user = user
        self.switched_off = frozenset(switched_off)
        self.mask = Mask(self.bundle, user, self.switched_off)
        self._cache: dict[tuple[str, str], _Reach] = {}

    # who --------------------------------------------------------------------------------------
    @property
    def full(self) -> bool:
        """An integration key: every record, every action."""
        return self.user is None

    @property
    def active(self) -> bool:
        """Whether the caller may act at all (a known, active user not switched off)."""
        if self.user is None:
            return True
        found = self.bundle.tenant.users.get(self.user)
        return found is not None and found.active and self.user not in self.switched_off

    def require_active(self) -> None:
        """Forbidden for a user the bundle does not know, marks inactive or who is switched off."""
        if not self.active:
            detail = f"user '{self.user}' is switched off"
            raise Forbidden(detail, [FieldError("user", "user_off", {"user": self.user})])

    def _roles(self) -> list[str]:
        found = self.bundle.tenant.users.get(self.user or "")
        roles = self.bundle.tenant.roles
        return [r for r in (found.roles if found is not None else ()) if r in roles]

    # privileged actions -------------------------------------------------------------------------
    def may(self, permission: str) -> bool:
        """Whether the caller has a privileged action (`can:`)."""
        if self.user is None:
            return True
        roles = self.bundle.tenant.roles
        return self.active and any(permission in roles[r].can for r in self._roles())

    def require(self, permission: str) -> None:
        """Forbidden (403) unless the caller has the permission; names the roles that do."""
        if self.may(permission):
            return
        roles = self.bundle.tenant.roles.values()
        granted = [r for r in roles if permission in r.can]
        raise _forbidden(self, permission, granted)

    # scopes -----------------------------------------------------------------------------------
    def scope(self, entity: str, action: str) -> str:
        """The widest scope of the caller's roles for an action on an entity's records."""
        if self.user is None:
            return "all"
        if not self.active:
            return "none"
        roles = self.bundle.tenant.roles
        found: list[str] = [getattr(roles[r].scopes(entity), action) for r in self._roles()]
        if not found:  # a user without roles: their own records, deleting none
            found = ["own" if action != "delete" else "none"]
        return max(found, key=_RANK.__getitem__)

    def _reach(self, entity: str, action: str) -> _Reach:
        key = (entity, action)
        found = self._cache.get(key)
        if found is None:
            found = self._reach_of(self.scope(entity, action))
            self._cache[key] = found
        return found

    def _reach_of(self, scope: str) -> _Reach:
        tenant, user = self.bundle.tenant, self.user or ""
        if scope == "all":
            return _Reach(True, frozenset())
        if scope == "own":
            return _Reach(False, frozenset({user}))
        if scope == "team":
            return _Reach(False, team_of(tenant, user))
        if scope == "subtree":
            return _Reach(False, subtree_of(tenant, user))
        return _Reach(False, frozenset())

    def owners_seen(self, entity: str) -> frozenset[str] | None:
        """The owners whose records of `entity` the caller sees by scope (None: everyone's)."""
        reach = self._reach(entity, "see")
        return None if reach.everyone else reach.owners

    def sees_user(self, user: str) -> bool:
        """Whether the caller sees some of `user`'s records (their own, their team's, their
        subtree's or everyone's, for some entity): whose notifications and figures they may
        read."""
        if self.user is None or user == self.user:
            return True
        return any(
            (owners := self.owners_seen(entity)) is None or user in owners
            for entity in self.bundle.entities
        )

    def may_claim(self, entity: str) -> bool:
        """Whether the caller may claim from (and so see) the entity's public pool."""
        if self.user is None:
            return True
        pool_set = self.bundle.pool_set_of(entity)
        if not self.active or pool_set is None or pool_set.public is None:
            return False
        claimers = pool_set.public.claimers
        if claimers is None:
            return True
        found = self.bundle.tenant.users[self.user or ""]
        return bool(
            set(found.teams) & set(claimers.teams) or set(self._roles()) & set(claimers.roles)
        )

    def _public_pool(self, entity: str) -> str | None:
        pool_set = self.bundle.pool_set_of(entity)
        return pool_set.public.pool if pool_set is not None and pool_set.public else None

    # records ----------------------------------------------------------------------------------
    def visibility(self, entity: str, depth: int = 0) -> Visibility:
        """Which records of `entity` the caller sees, as storage turns it into SQL."""
        reach = self._reach(entity, "see")
        if reach.everyone:
            return Visibility(everything=True)
        public = self._public_pool(entity)
        via = None
        definition = self.bundle.entities.get(entity)
        if definition is not None and definition.visible_via and depth < MAX_VIA_DEPTH:
            ref = definition.fields.get(definition.visible_via)
            if ref is not None and ref.ref_entity is not None:
                parent = self.visibility(ref.ref_entity, depth + 1)
                via = (ref.name, ref.ref_entity, parent)
        return Visibility(
            owners=reach.owners,
            public_pool=public if public is not None and self.may_claim(entity) else None,
            unowned=via is None and self.may("assign"),
            other_public=public,
            via=via,
        )

    def may_see(self, record: Record, parents: Parents | None = None) -> bool:
        return self._allowed(record, "see", parents, 0)

    def may_edit(self, record: Record, parents: Parents | None = None) -> bool:
        return self._allowed(record, "edit", parents, 0)

    def may_delete(self, record: Record, parents: Parents | None = None) -> bool:
        return self._allowed(record, "delete", parents, 0)

    def _allowed(self, record: Record, action: str, parents: Parents | None, depth: int) -> bool:
        reach = self._reach(record.entity, action)
        if reach.everyone:
            return True
        public = self._public_pool(record.entity)
        if record.pool is not None and record.pool == public:
            if action == "see" and self.may_claim(record.entity):
                return True
        elif record.owner is None:
            if self.may("assign") and action != "delete" and not self._has_parent(record):
                return True
        elif record.owner in reach.owners:
            return True
        parent = self._parent(record, parents, depth)
        return parent is not None and self._allowed(parent, action, parents, depth + 1)

    def _has_parent(self, record: Record) -> bool:
        definition = self.bundle.entities.get(record.entity)
        return definition is not None and definition.visible_via is not None

    def _parent(self, record: Record, parents: Parents | None, depth: int) -> Record | None:
        definition = self.bundle.entities.get(record.entity)
        if parents is None or definition is None or not definition.visible_via:
            return None
        ref = definition.fields.get(definition.visible_via)
        parent_id = record.data.get(definition.visible_via)
        if ref is None or ref.ref_entity is None or not isinstance(parent_id, str):
            return None
        return parents(ref.ref_entity, parent_id) if depth < MAX_VIA_DEPTH else None

    def require_see(self, record: Record, parents: Parents | None = None) -> Record:
        """The record, or NotFound as for a record that does not exist (no existence leak)."""
        if not self.may_see(record, parents):
            raise NotFound(f"no {record.entity} record with id {record.id}")
        return record

    def require_change(self, record: Record, action: str, parents: Parents | None = None) -> None:
        """NotFound for a record the caller may not see; Forbidden for one they see but may
        not `edit` / `delete`, naming the roles whose scope would reach it."""
        self.require_see(record, parents)
        if self._allowed(record, action, parents, 0):
            return
        roles = self.bundle.tenant.roles.values()
        granted = [r for r in roles if getattr(r.scopes(record.entity), action) == "all"]
        raise _forbidden(self, action, granted)

    def shown_errors(self, entity: str, errors: Iterable[FieldError]) -> list[FieldError]:
        """Field errors as the caller may read them: a value of a field they see masked (a
        phone already on file) is shown masked, never in full."""
        masked = self.mask.fields(entity)
        return [
            replace(
                e, params={**e.params, "value": self.mask.value(entity, e.field, e.params["value"])}
            )
            if e.field in masked and "value" in e.params
            else e
            for e in errors
        ]

    def require_owner_change(self, owner: str | None, current: str | None) -> None:
        """Setting an owner by hand: one's own records to oneself, anything with `assign`."""
        if self.user is None or owner == current:
            return
        if owner == self.user and current is None and self.active:
            return
        self.require("assign")


def _forbidden(policy: Policy, permission: str, granted: Iterable[RoleDef]) -> Forbidden:
    """A refusal naming the permission and the roles that have it, by their labels in the
    reader's language (the ids stay in `roles` for programs)."""
    tenant = policy.bundle.tenant
    roles = sorted(granted, key=lambda r: r.id)
    found = tenant.users.get(policy.user or "")
    labels = [{loc: r.label.get(loc, tenant.locale) for loc in LOCALES} for r in roles]
    params = {
        "user": policy.user,
        "who": found.name if found is not None else str(policy.user),
        "permission": permission,
        "action": Message(f"permission.{permission}", {"message": permission}),
        "roles": ", ".join(r.id for r in roles) or "-",
        "role_labels": labels or "-",
    }
    detail = f"user '{policy.user}' may not {permission}: no role of theirs can"
    return Forbidden(detail, [FieldError("user", "forbidden", params)])
