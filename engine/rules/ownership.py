"""Ownership clocks of the public pool (公海), computed: how long an owner keeps a record.

Pure: every path that changes a record's owner or pool (writes, claims, releases, sweeps,
moves by hand) asks `clocks` for the record's new clock columns, so none of them bypasses
the protection period or its reminder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from engine.config.model import PoolSetDef, ProtectionDef, PublicPoolDef


@dataclass(frozen=True, slots=True)
class Clocks:
    owner_since: datetime | None
    protected_until: datetime | None
    remind_at: datetime | None

    def columns(self) -> dict[str, Any]:
        return {
            "owner_since": self.owner_since,
            "protected_until": self.protected_until,
            "remind_at": self.remind_at,
        }


@dataclass(frozen=True, slots=True)
class Held:
    """What the clocks depend on: a record's owner, pool, clocks and values."""

    owner: str | None
    pool: str | None
    owner_since: datetime | None = None
    protected_until: datetime | None = None
    remind_at: datetime | None = None
    data: Mapping[str, Any] | None = None


class CompiledPublicPool:
    def __init__(self, pool_set: PoolSetDef, tz: tzinfo) -> None:
        assert pool_set.public is not None
        self.definition: PublicPoolDef = pool_set.public
        self.pool_set = pool_set.name
        self.pool = pool_set.public.pool
        self.claim_to = pool_set.public.claim_to or pool_set.initial
        self.holding = frozenset(pool_set.holding_pools())
        self.protection: ProtectionDef | None = pool_set.public.protection
        self.tz = tz

    def clocks(self, before: Held, after: Held, now: datetime) -> Clocks:
        """The clocks after a change from `before` to `after` (either may be the same)."""
        if after.owner is None:
            return Clocks(None, None, None)
        new_owner = after.owner != before.owner
        if self.protection is None or after.pool not in self.holding:
            kept = before.owner_since if not new_owner else None
            return Clocks(kept or now, None, None)
        fresh = new_owner or before.protected_until is None or before.pool not in self.holding
        # A protection period starts when the owner gets the record, or gets it back into
        # a holding pool; max_days counts from there.
        since = now if fresh or before.owner_since is None else before.owner_since
        until = now + timedelta(days=self.protection.days) if fresh else before.protected_until
        assert until is not None
        until = self._extended(until, since, now, after.data or {})
        if not fresh and until == before.protected_until:
            return Clocks(since, until, before.remind_at)  # unchanged: keep (or not) the reminder
        return Clocks(since, until, self._remind_at(until))

    def shields(self, before: Held, owner: str | None, now: datetime) -> bool:
        """Whether the owner's protection keeps rules from sending the record to the public
        pool: a new owner always starts one; an owner keeps it until it runs out."""
        if self.protection is None or owner is None:
            return False
        if owner != before.owner:
            return True
        return before.protected_until is not None and before.protected_until > now

    def _extended(
        self, until: datetime, since: datetime, now: datetime, data: Mapping[str, Any]
    ) -> datetime:
        """A follow-up (the extend_on field) since the period began protects for extend_days
        more from when it happened — never from the future — up to max_days."""
        protection = self.protection
        assert protection is not None
        if protection.extend_on is None or protection.extend_days is None:
            return until
        start = self._follow_up(data.get(protection.extend_on), since)
        if start is not None:
            until = max(until, min(start, now) + timedelta(days=protection.extend_days))
        if protection.max_days is not None:
            until = min(until, since + timedelta(days=protection.max_days))
        return until

    def _follow_up(self, value: Any, since: datetime) -> datetime | None:
        """When a stored follow-up happened, if it counts for this period: a datetime at or
        after `since`, or a date on or after since's local date (as the end of that day)."""
        if not isinstance(value, str):
            return None
        if "T" in value:
            moment = datetime.fromisoformat(value)
            return moment if moment >= since else None
        day = date.fromisoformat(value)
        if day < since.astimezone(self.tz).date():
            return None
        return datetime.combine(day + timedelta(days=1), time(), self.tz)

    def _remind_at(self, until: datetime) -> datetime | None:
        before = self.protection.remind_days_before if self.protection else None
        return None if before is None else until - timedelta(days=before)
