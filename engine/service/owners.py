"""Who holds a record, changed by people: claims from and releases to the public pool (公海),
assignment by hand, and users switched off with their records handed over.

A claim is one transaction: the rep's daily counter row is locked first (so one rep's
concurrent claims take turns at the caps), then the record (so two reps racing for one
record get one winner); every limit is checked on what that transaction sees. A refused claim
changes nothing and says why, in the caller's language.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from engine.clock import Clock
from engine.errors import Invalid, NotFound, Refused
from engine.fields.validator import FieldError
from engine.rules.compiled import CompiledConfig
from engine.rules.decisions import decision
from engine.rules.ownership import CompiledPublicPool
from engine.rules.plan import Plan, entered, plan, resettled
from engine.service.apply import apply_change
from engine.service.assigning import EPOCH, USER_LOCK, Assigner
from engine.service.campaign_runner import RunnerFactory
from engine.service.configs import TenantConfigs
from engine.service.ownership import owner_error
from engine.service.policy import Policy
from engine.storage.store import Record, Store, Tx

CLAIMS = "claim"


class Owners:
    def __init__(
        self,
        store: Store,
        configs: TenantConfigs,
        clock: Clock,
        campaigns: RunnerFactory | None = None,
    ) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock
        self.campaigns = campaigns  # claims, releases and hand moves fire campaigns too

    def claim(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        user: Any,
        *,
        actor: str | None = None,
        by: str | None = None,
    ) -> Record:
        """`user` takes a record from the public pool; a caller acting for another user
        (`by`) claims only for themselves unless a role of theirs can assign."""
        cfg = self.configs.active(tenant)
        public = _public(cfg, entity)
        _check_user(cfg, user)
        now = self.clock.now()
        day = now.astimezone(cfg.tz).date()
        with self.store.write() as tx:
            policy = Policy(cfg, by, tx.switched_off(tenant))
            policy.require_active()
            if by is not None and by != user:
                policy.require("assign")
            # one row per user first: all of a user's claims take turns (holdings too, also
            # across midnight); then the day's count
            tx.lock_counter(tenant, user, USER_LOCK, EPOCH)
            _check_on(tx, tenant, user)
            claimed_today = tx.lock_counter(tenant, user, CLAIMS, day)
            current = policy.require_see(
                _record(tx, tenant, entity, record_id), tx.parents_of(tenant)
            )
            if not Policy(cfg, user, tx.switched_off(tenant)).may_claim(entity):
                raise _refused("claim_not_claimer", f"{user} may not claim from this pool", {})
            self._check_claim(tx, cfg, public, current, user, claimed_today, now)
            moved = self._take(tx, cfg, public, current, user, now, actor)
            tx.add_to_counter(tenant, user, CLAIMS, day)
        return moved

    def release(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        user: Any,
        *,
        actor: str | None = None,
        by: str | None = None,
    ) -> Record:
        """Give a record back to the public pool; `user`, when given, must be its owner. A
        caller acting for a user (`by`) releases their own records, others' only with a role
        that can assign."""
        cfg = self.configs.active(tenant)
        public = _public(cfg, entity)
        now = self.clock.now()
        if user is not None:
            _check_user(cfg, user)
        with self.store.write() as tx:
            policy = Policy(cfg, by, tx.switched_off(tenant))
            policy.require_active()
            current = policy.require_see(
                _record(tx, tenant, entity, record_id), tx.parents_of(tenant)
            )
            if by is not None and (user != by or current.owner != by):
                policy.require("assign")
            if current.pool == public.pool or current.owner is None:
                raise _refused("release_unowned", "the record is not held by anyone", {})
            if current.pool not in public.holding:
                params = {"pools": ", ".join(sorted(public.holding)), "pool": current.pool}
                raise _refused("release_held_elsewhere", "the record is not a holding", params)
            if user is not None and current.owner != user:
                params = {"user": user, "owner": current.owner}
                raise _refused(
                    "release_not_owner", f"the record is held by {current.owner}", params
                )
            return self._give_back(tx, cfg, public, current, now, actor)

    def assign(
        self,
        tenant: str,
        entity: str,
        record_id: str,
        user: Any,
        *,
        actor: str | None = None,
        by: str | None = None,
    ) -> Record:
        """A manager gives a record to a user by hand (out of a queue, or from someone else;
        from the public pool it goes where a claim would take it). No cap applies. A caller
        acting for a user (`by`) needs a role that can assign."""
        cfg = self.configs.active(tenant)
        cfg.entity(entity)
        Policy(cfg, by).require("assign")
        _check_user(cfg, user)
        now = self.clock.now()
        with self.store.write() as tx:
            policy = Policy(cfg, by, tx.switched_off(tenant))
            policy.require_active()
            policy.require("assign")
            _check_on(tx, tenant, user)
            current = policy.require_see(
                _record(tx, tenant, entity, record_id), tx.parents_of(tenant)
            )
            if current.owner == user:
                return current
            by_hand = {"rule": "by_hand", "strategy": "by_hand", "owner": user, "by": actor}
            handed = decision(
                cfg,
                entity,
                current.id,
                "assignment",
                "assignment.by_hand",
                now,
                {"owner": current.owner},
                {"owner": user},
                {"assignment": by_hand},
            )
            public = cfg.public.get(entity)
            if public is not None and current.pool == public.pool:  # where a claim takes it
                intent = entered(public.claim_to, (handed,), owner=user, shield=True)
            else:
                intent = resettled(user, (handed,))
            made = plan(cfg, entity, current.id, current, intent, now)
            return self._store(tx, cfg, current, made, "assign", now, actor)

    def set_active(
        self,
        tenant: str,
        user: str,
        active: bool,
        *,
        actor: str | None = None,
        by: str | None = None,
    ) -> dict[str, Any]:
        """Switch a user off (or on again) without a bundle change: a user switched off gets
        no new records at once; their records go as the bundle's on_deactivate says. A
        caller acting for a user (`by`) needs a role that can manage_users."""
        cfg = self.configs.active(tenant)
        if by is not None:
            with self.store.read() as tx:
                caller = Policy(cfg, by, tx.switched_off(tenant))
            caller.require_active()
            caller.require("manage_users")
        defined = cfg.bundle.tenant.users.get(user)
        if defined is None:
            raise NotFound(f"no user '{user}' in this tenant")
        if active and not defined.active:
            raise Refused(
                f"the bundle marks {user} inactive",
                [FieldError("user", "inactive_owner", {"value": user})],
            )
        with self.store.write() as tx:
            tx.set_active(tenant, user, active, self.clock.now(), actor)
        policy = defined.on_deactivate or cfg.bundle.tenant.on_deactivate
        moved = self.hand_over(tenant, user, policy) if not active and policy != "stay" else 0
        return {"user": user, "active": active, "on_deactivate": policy, "handed_over": moved}

    def hand_over(self, tenant: str, gone: str, policy: str) -> int:
        """A deactivated user's records: reassigned by the rules, or back to the public pool
        (each its own transaction and decision); how many moved."""
        cfg = self.configs.active(tenant)
        moved = 0
        for entity in sorted(set(cfg.assignment) | set(cfg.public)):
            with self.store.read() as tx:
                ids = tx.owned_ids(tenant, entity, gone)
            for record_id in ids:
                with self.store.write() as tx:
                    current = tx.get_record(tenant, entity, record_id, for_update=True)
                    if current is None or current.owner != gone:
                        continue
                    moved += self._hand_over_one(tx, cfg, current, policy)
        return moved

    def _hand_over_one(self, tx: Tx, cfg: CompiledConfig, current: Record, policy: str) -> int:
        now = self.clock.now()
        public = cfg.public.get(current.entity)
        if policy == "public":
            if public is None or current.pool not in public.holding:
                return 0
            self._give_back(tx, cfg, public, current, now, "handover")
            return 1
        if current.entity not in cfg.assignment:
            return 0
        assigner = Assigner(tx, cfg, current.entity, now)
        fresh, rows = assigner.assign(replace(current, owner=None))
        assigner.flush()
        for row in rows:
            row["before"] = {"owner": current.owner}
        made = plan(
            cfg, current.entity, current.id, current, resettled(fresh.owner, tuple(rows)), now
        )
        self._store(tx, cfg, current, made, "handover", now, "handover", fresh.queue)
        return 1

    # claiming ------------------------------------------------------------------------------
    def _check_claim(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        public: CompiledPublicPool,
        record: Record,
        user: str,
        claimed_today: int,
        now: datetime,
    ) -> None:
        limits = public.definition
        if record.pool != public.pool:
            params: dict[str, Any] = {"pool": record.pool, "owner": record.owner or "-"}
            raise _refused("claim_not_public", "the record is not in the public pool", params)
        if limits.daily_claims is not None and claimed_today >= limits.daily_claims:
            params = {"n": limits.daily_claims}
            detail = f"cap of {limits.daily_claims} claims reached today"
            raise _refused("claim_daily_cap", detail, params)
        if limits.max_holdings is not None:
            held = tx.count_owned(cfg.tenant, record.entity, user, public.holding)
            if held >= limits.max_holdings:
                params = {"n": limits.max_holdings}
                raise _refused("claim_holdings_cap", f"holds {held} records already", params)
        if limits.cooldown_days is not None:
            self._check_cooldown(tx, cfg, record, user, limits.cooldown_days, now)

    def _check_cooldown(
        self, tx: Tx, cfg: CompiledConfig, record: Record, user: str, days: int, now: datetime
    ) -> None:
        """The previous owner waits `days` after giving the record up (or losing it)."""
        window = timedelta(days=days)
        lost = [
            row.at
            for row in tx.decisions_since(cfg.tenant, record.id, now - window)
            if row.before.get("owner") == user and row.after.get("owner", user) != user
        ]
        if lost:
            again = max(lost) + window
            params = {"since": _local(cfg, max(lost)), "again": _local(cfg, again)}
            raise _refused("claim_cooldown", f"may claim it again from {params['again']}", params)

    def _take(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        public: CompiledPublicPool,
        current: Record,
        user: str,
        now: datetime,
        actor: str | None,
    ) -> Record:
        claim = self._decision(cfg, current, "claim", public, now)
        claim["after"] = {"pool": public.claim_to, "owner": user}
        intent = entered(public.claim_to, (claim,), owner=user, shield=True)
        made = plan(cfg, current.entity, current.id, current, intent, now)
        return self._store(tx, cfg, current, made, "claim", now, actor)

    # releasing -----------------------------------------------------------------------------
    def _give_back(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        public: CompiledPublicPool,
        current: Record,
        now: datetime,
        actor: str | None,
    ) -> Record:
        release = self._decision(cfg, current, "release", public, now)
        release["after"] = {"pool": public.pool, "owner": None}
        intent = entered(public.pool, (release,), owner=None, shield=False)
        made = plan(cfg, current.entity, current.id, current, intent, now)
        return self._store(tx, cfg, current, made, "release", now, actor)

    # one path for both -----------------------------------------------------------------------
    @staticmethod
    def _decision(
        cfg: CompiledConfig, record: Record, kind: str, public: CompiledPublicPool, now: datetime
    ) -> dict[str, Any]:
        rule, before = f"{public.pool_set}.{kind}", {"pool": record.pool, "owner": record.owner}
        return decision(cfg, record.entity, record.id, kind, rule, now, before, {})

    def _store(
        self,
        tx: Tx,
        cfg: CompiledConfig,
        current: Record,
        made: Plan,
        action: str,
        now: datetime,
        actor: str | None,
        queue: str | None = None,
    ) -> Record:
        if queue is not None:  # nobody eligible: the record waits in a queue
            made = replace(made, columns={**made.columns, "queue": queue})
        after = apply_change(tx, cfg, current, made, action, actor, now)
        assert after is not None
        if self.campaigns is not None and current.entity in cfg.campaigns:
            self.campaigns(tx, cfg).on_write(current, after)
        return after


def _public(cfg: CompiledConfig, entity: str) -> CompiledPublicPool:
    cfg.entity(entity)
    public = cfg.public.get(entity)
    if public is None:
        raise NotFound(f"{entity} records have no public pool")
    return public


def _check_user(cfg: CompiledConfig, user: Any) -> None:
    error = owner_error(cfg, user) if user is not None else FieldError("user", "required")
    if error is not None:
        raise Invalid("a claim needs an active user of the tenant", [replace(error, field="user")])


def _check_on(tx: Tx, tenant: str, user: str) -> None:
    """A user switched off through the API takes no records."""
    if user in tx.switched_off(tenant):
        error = FieldError("user", "inactive_owner", {"value": user})
        raise Invalid(f"user '{user}' is switched off", [error])


def _record(tx: Tx, tenant: str, entity: str, record_id: str) -> Record:
    record = tx.get_record(tenant, entity, record_id, for_update=True)
    if record is None:
        raise NotFound(f"no {entity} record with id {record_id}")
    return record


def _refused(code: str, detail: str, params: dict[str, Any]) -> Refused:
    return Refused(detail, [FieldError("user", code, params)])


def _local(cfg: CompiledConfig, moment: datetime) -> str:
    """An instant as the tenant reads it: local date and time, minutes precision."""
    return moment.astimezone(cfg.tz).strftime("%Y-%m-%d %H:%M")
