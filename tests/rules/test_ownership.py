"""The public pool's clocks, pure: protection, its extension by follow-ups, and its cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.config.model import Label, Loc, PoolDef, PoolSetDef, ProtectionDef, PublicPoolDef
from engine.rules.ownership import CompiledPublicPool, Held

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
DAY = timedelta(days=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def public_pool(extend_on: str = "followed", max_days: int | None = 30) -> CompiledPublicPool:
    loc = Loc("pools.yaml", "")
    pools = {p: PoolDef(p, Label.of(p, p), loc) for p in ("open", "public", "won")}
    protection = ProtectionDef(10, extend_on, 10, max_days, 2)
    public = PublicPoolDef("public", loc, "open", ("open",), protection=protection)
    pool_set = PoolSetDef("set", "customer", "open", pools, (), loc, public=public)
    return CompiledPublicPool(pool_set, SHANGHAI)


def claimed(pool: CompiledPublicPool) -> Held:
    clocks = pool.clocks(Held(None, "public"), Held("alice", "open"), NOW)
    return Held("alice", "open", clocks.owner_since, clocks.protected_until, clocks.remind_at)


def test_a_new_owner_gets_a_protection_and_a_reminder() -> None:
    held = claimed(public_pool())
    assert (held.owner_since, held.protected_until, held.remind_at) == (
        NOW,
        NOW + 10 * DAY,
        NOW + 8 * DAY,
    )


def test_a_follow_up_extends_from_when_it_happened_up_to_max_days() -> None:
    pool, held = public_pool(), claimed(public_pool())
    later = NOW + 5 * DAY
    data = {"followed": (later - timedelta(hours=1)).isoformat()}
    clocks = pool.clocks(held, Held("alice", "open", data=data), later)
    assert clocks.protected_until == later - timedelta(hours=1) + 10 * DAY
    assert clocks.remind_at == clocks.protected_until - 2 * DAY
    data = {"followed": (NOW + 25 * DAY).isoformat()}
    capped = pool.clocks(held, Held("alice", "open", data=data), NOW + 25 * DAY)
    assert capped.protected_until == NOW + 30 * DAY


def test_a_follow_up_from_before_the_claim_does_not_count() -> None:
    pool, held = public_pool(), claimed(public_pool())
    data = {"followed": (NOW - DAY).isoformat()}
    assert (
        pool.clocks(held, Held("alice", "open", data=data), NOW).protected_until
        == held.protected_until
    )


def test_a_future_dated_follow_up_counts_from_now() -> None:
    pool, held = public_pool(max_days=None), claimed(public_pool(max_days=None))
    data = {"followed": "2099-01-01T00:00:00+00:00"}
    later = NOW + 3 * DAY
    assert (
        pool.clocks(held, Held("alice", "open", data=data), later).protected_until
        == later + 10 * DAY
    )


def test_a_follow_up_date_on_the_claim_day_counts() -> None:
    pool, held = public_pool(), claimed(public_pool())
    later = NOW + 2 * DAY
    clocks = pool.clocks(held, Held("alice", "open", data={"followed": "2026-11-24"}), later)
    # the end of that day in Shanghai + 10 days, counted no later than now
    assert clocks.protected_until == min(datetime(2026, 11, 25, tzinfo=SHANGHAI), later) + 10 * DAY


def test_back_in_a_holding_pool_a_new_period_starts() -> None:
    pool, held = public_pool(), claimed(public_pool())
    won = pool.clocks(held, Held("alice", "won"), NOW + DAY)
    assert (won.protected_until, won.remind_at) == (None, None)
    held_won = Held("alice", "won", won.owner_since, None, None)
    back = pool.clocks(held_won, Held("alice", "open"), NOW + 40 * DAY)
    assert back.owner_since == NOW + 40 * DAY
    assert back.protected_until == NOW + 50 * DAY  # not already over: max_days counts anew


def test_no_owner_no_clocks() -> None:
    pool, held = public_pool(), claimed(public_pool())
    assert pool.clocks(held, Held(None, "public"), NOW).protected_until is None
    assert pool.shields(held, "alice", NOW) and not pool.shields(held, "alice", NOW + 11 * DAY)
    assert pool.shields(held, "bob", NOW + 11 * DAY)  # a new owner starts a new protection
