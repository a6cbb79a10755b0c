"""The public pool (公海): claims with caps and cooldown, releases, protection that a follow-up
extends, reminders before recycling, and owners set through the API keeping the same clocks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.errors import Forbidden, Invalid, NotFound, Refused
from engine.service import Services
from tests.helpers import START, run_all

OLD = "2026-10-01T00:00:00Z"  # more than 30 days before START: recycled on create


def in_public(svc: Services, name: str = "c", **data: Any) -> str:
    values = {"name": name, "last_followup_at": OLD, **data}
    created = svc.records.create("shop", "customer", values)
    assert created.result["pool"] == "public"
    return str(created.result["id"])


def refusal(caught: pytest.ExceptionInfo[Refused], locale: str = "en") -> tuple[str, str]:
    error = caught.value.errors[0]
    return error.code, error.message(locale)


def test_a_claim_takes_the_record_and_starts_its_protection(svc: Services) -> None:
    record_id = in_public(svc)
    record = svc.owners.claim("shop", "customer", record_id, "alice", actor="key")
    assert (record.pool, record.owner) == ("has_need", "alice")
    assert record.owner_since == START
    assert record.protected_until == START + timedelta(days=10)
    assert record.remind_at == START + timedelta(days=8)
    # the recycling rule (days since follow-up > 30) waits while the protection runs
    assert [d["kind"] for d in record.decisions] == ["claim"]
    history = svc.records.history("shop", "customer", record_id)
    assert history[-1]["action"] == "claim"
    assert history[-1]["changes"]["owner"] == {"old": None, "new": "alice"}


def test_only_records_in_the_public_pool_can_be_claimed(svc: Services) -> None:
    record_id = in_public(svc)
    svc.owners.claim("shop", "customer", record_id, "alice")
    with pytest.raises(Refused) as caught:
        svc.owners.claim("shop", "customer", record_id, "bob")
    assert refusal(caught) == (
        "claim_not_public",
        "is not in the public pool (it is in has_need, held by alice)",
    )


def test_the_daily_cap_refuses_with_the_reason_in_both_languages(
    svc: Services, clock: FixedClock
) -> None:
    ids = [in_public(svc, f"c{i}") for i in range(4)]
    for record_id in ids[:3]:
        svc.owners.claim("shop", "customer", record_id, "alice")
    with pytest.raises(Refused) as caught:
        svc.owners.claim("shop", "customer", ids[3], "alice")
    assert refusal(caught) == ("claim_daily_cap", "cap of 3 claims reached today")
    assert refusal(caught, "zh-CN")[1] == "今天已达到领取上限 3 个"
    assert svc.records.get("shop", "customer", ids[3]).pool == "public"  # nothing changed
    clock.advance(days=1)  # a new day in the tenant's zone
    assert svc.owners.claim("shop", "customer", ids[3], "alice").owner == "alice"


def test_the_holdings_cap_counts_records_in_holding_pools(svc: Services, clock: FixedClock) -> None:
    ids = [in_public(svc, f"c{i}") for i in range(5)]
    for day, record_id in enumerate(ids[:4]):
        clock.advance(days=day and 1)
        svc.owners.claim("shop", "customer", record_id, "alice")
    clock.advance(days=1)
    with pytest.raises(Refused) as caught:
        svc.owners.claim("shop", "customer", ids[4], "alice")
    assert refusal(caught) == ("claim_holdings_cap", "already holds 4 records, the most allowed")
    svc.owners.release("shop", "customer", ids[0], "alice")
    assert svc.owners.claim("shop", "customer", ids[4], "alice").owner == "alice"


def test_the_previous_owner_waits_for_the_cooldown(svc: Services, clock: FixedClock) -> None:
    record_id = in_public(svc)
    svc.owners.claim("shop", "customer", record_id, "alice")
    released = svc.owners.release("shop", "customer", record_id, "alice")
    assert (released.pool, released.owner, released.protected_until) == ("public", None, None)
    clock.advance(days=2)
    with pytest.raises(Refused) as caught:
        svc.owners.claim("shop", "customer", record_id, "alice")
    assert refusal(caught) == (
        "claim_cooldown",
        "gave this record up on 2026-11-24 16:00; may claim it again from 2026-12-01 16:00",
    )
    assert svc.owners.claim("shop", "customer", record_id, "bob").owner == "bob"  # others may


def test_release_rules(svc: Services) -> None:
    record_id = in_public(svc)
    with pytest.raises(Refused) as caught:
        svc.owners.release("shop", "customer", record_id, None)
    assert refusal(caught)[0] == "release_unowned"
    svc.owners.claim("shop", "customer", record_id, "alice")
    with pytest.raises(Refused) as caught:
        svc.owners.release("shop", "customer", record_id, "bob")
    assert refusal(caught) == ("release_not_owner", "'bob' does not hold this record (alice does)")


def test_claims_need_an_active_user_and_a_public_pool(svc: Services) -> None:
    record_id = in_public(svc)
    for user, code in [(None, "required"), ("mallory", "owner"), ("gone", "inactive_owner")]:
        with pytest.raises(Invalid) as caught:
            svc.owners.claim("shop", "customer", record_id, user)
        assert caught.value.errors[0].code == code
    with pytest.raises(NotFound):
        svc.owners.claim("shop", "order", record_id, "alice")
    with pytest.raises(NotFound):
        svc.owners.claim("shop", "customer", "no-such-id", "alice")


def test_protection_ends_in_the_public_pool_once(svc: Services, clock: FixedClock) -> None:
    # no follow-up at all: only the protection can send it back (not the bundle's 30-day rule)
    created = svc.records.create("shop", "customer", {"name": "c", "owner": "carol"}).result
    record_id = created["id"]
    svc.owners.release("shop", "customer", record_id, "carol")
    svc.owners.claim("shop", "customer", record_id, "alice")
    clock.advance(days=8)
    assert svc.sweeper.sweep("shop") == {"customer_pool.protection_reminder": 1}
    assert svc.sweeper.sweep("shop") == {}  # reminded once
    clock.advance(days=2)
    assert svc.sweeper.sweep("shop") == {"customer_pool.protection_expired": 1}
    record = svc.records.get("shop", "customer", record_id)
    assert (record.pool, record.owner, record.protected_until) == ("public", None, None)
    assert svc.sweeper.sweep("shop") == {}
    timeline = svc.records.explain("shop", "customer", record_id, "en")["timeline"]
    assert [d["kind"] for d in timeline][-3:] == ["claim", "reminder", "pool_move"]
    reminder, expiry = timeline[-2], timeline[-1]
    assert reminder["after"] == {"owner": "alice", "protected_until": "2026-12-04T08:00:00Z"}
    assert expiry["rule"] == "customer_pool.protection_expired"
    assert expiry["before"] == {"pool": "has_need", "owner": "alice"}
    # losing a record starts the cooldown like releasing it
    with pytest.raises(Refused):
        svc.owners.claim("shop", "customer", record_id, "alice")


def test_a_follow_up_extends_the_protection_up_to_the_maximum(
    svc: Services, clock: FixedClock
) -> None:
    record_id = in_public(svc)
    svc.owners.claim("shop", "customer", record_id, "alice")
    clock.advance(days=5)
    followed = svc.records.update(
        "shop", "customer", record_id, {"last_followup_at": clock.now().isoformat()}
    )
    assert followed.protected_until == START + timedelta(days=15)  # follow-up + 10 days
    assert followed.remind_at == START + timedelta(days=13)
    for _ in range(4):
        clock.advance(days=6)
        svc.sweeper.sweep("shop")
        followed = svc.records.update(
            "shop", "customer", record_id, {"last_followup_at": clock.now().isoformat()}
        )
    assert followed.protected_until == START + timedelta(days=30)  # max_days after the claim
    assert followed.owner == "alice"
    clock.advance(days=1, seconds=1)
    svc.sweeper.sweep("shop")
    assert svc.records.get("shop", "customer", record_id).owner is None


def test_an_owner_set_through_the_api_gets_the_same_clocks(svc: Services) -> None:
    created = svc.records.create("shop", "customer", {"name": "c", "owner": "bob"}).result
    assert (created["owner"], created["pool"]) == ("bob", "nurturing")
    assert created["protected_until"] == "2026-12-04T08:00:00Z"
    moved = svc.records.update("shop", "customer", created["id"], {"owner": "carol"})
    assert moved.owner_since == START and moved.owner == "carol"
    history = svc.records.history("shop", "customer", created["id"])
    assert history[-1]["changes"] == {"owner": {"old": "bob", "new": "carol"}}
    assert "owner" not in history[0]["changes"]  # a column, not one of the created values
    cleared = svc.records.update("shop", "customer", created["id"], {"owner": None})
    assert (cleared.owner, cleared.protected_until, cleared.remind_at) == (None, None, None)
    with pytest.raises(Invalid) as caught:
        svc.records.update("shop", "customer", created["id"], {"owner": "mallory"})
    assert caught.value.errors[0].message("en").startswith("'mallory' is not a user")


def test_an_owned_record_is_shielded_from_recycling_rules(svc: Services, clock: FixedClock) -> None:
    data = {"name": "c", "owner": "alice", "last_followup_at": OLD}
    created = svc.records.create("shop", "customer", data).result
    assert created["pool"] == "nurturing"  # not recycled: alice's protection runs
    why = svc.records.explain("shop", "customer", created["id"], "en")["why_not"]
    recycle = next(w for w in why if w["rule"] == "recycle_unattended")
    assert recycle["holds"] is True and recycle["waits_until"] == "2026-12-04T08:00:00Z"
    clock.advance(days=10, seconds=1)  # protection over: the bundle's rule fires first
    assert svc.sweeper.sweep("shop") == {"customer_pool.recycle_unattended": 1}
    assert svc.records.get("shop", "customer", created["id"]).pool == "public"


def test_concurrent_claims_of_one_record_have_one_winner(svc: Services) -> None:
    record_id = in_public(svc)
    users = ["alice", "bob", "carol"] * 3
    outcomes: list[str] = []

    def claim(user: str) -> None:
        try:
            svc.owners.claim("shop", "customer", record_id, user)
            outcomes.append("won")
        except Refused as exc:
            outcomes.append(exc.errors[0].code)

    run_all([lambda u=u: claim(u) for u in users])  # type: ignore[misc]
    assert sorted(outcomes) == ["claim_not_public"] * 8 + ["won"]
    assert len(svc.records.history("shop", "customer", record_id)) == 2


def test_concurrent_claims_of_one_user_respect_the_daily_cap(svc: Services) -> None:
    ids = [in_public(svc, f"c{i}") for i in range(8)]
    outcomes: list[str] = []

    def claim(record_id: str) -> None:
        try:
            svc.owners.claim("shop", "customer", record_id, "alice")
            outcomes.append("won")
        except Refused as exc:
            outcomes.append(exc.errors[0].code)

    run_all([lambda r=r: claim(r) for r in ids])  # type: ignore[misc]
    assert sorted(outcomes) == ["claim_daily_cap"] * 5 + ["won"] * 3


def test_the_public_pool_is_nobodys(svc: Services, clock: FixedClock) -> None:
    record_id = in_public(svc)
    with pytest.raises(Refused) as caught:
        svc.records.update("shop", "customer", record_id, {"owner": "alice"})
    assert refusal(caught)[0] == "claim_instead"
    # a move by hand into the public pool clears the owner, like a release
    owned = svc.records.create("shop", "customer", {"name": "o", "owner": "bob"}).result
    moved = svc.records.move("shop", "customer", owned["id"], "has_need")
    assert moved.owner == "bob"


def test_a_record_won_is_not_released(svc: Services) -> None:
    created = svc.records.create("shop", "customer", {"name": "c", "owner": "alice"}).result
    data = {"customer_id": created["id"], "amount": "5", "status": "paid"}
    svc.records.create("shop", "order", data)
    assert svc.records.get("shop", "customer", created["id"]).pool == "won"
    with pytest.raises(Refused) as caught:
        svc.owners.release("shop", "customer", created["id"], "alice")
    assert refusal(caught) == (
        "release_held_elsewhere",
        "only records in has_need, key, nurturing go back to the public pool (it is in won)",
    )
    with pytest.raises(Invalid):
        svc.owners.release("shop", "customer", created["id"], 42)


def test_rules_on_values_still_apply_to_protected_records(svc: Services) -> None:
    from tests.helpers import ROOT

    svc.install_dirs([ROOT / "configs" / "acme-saas"])
    data = {"first_name": "A", "last_name": "B", "email": "a@b.example", "owner": "maria"}
    lead = svc.records.create("acme-saas", "lead", data).result
    assert (lead["pool"], lead["owner"]) == ("new", "maria")
    # disqualified sends the lead to the shared pool at once, protection or not: it is
    # about the lead, not about time passing; the shared pool is nobody's
    dropped = svc.records.update("acme-saas", "lead", lead["id"], {"status": "disqualified"})
    assert (dropped.pool, dropped.owner, dropped.protected_until) == ("recycled", None, None)
    move = next(d for d in dropped.decisions if d["kind"] == "pool_move")
    assert move["before"] == {"pool": "new", "owner": "maria"}
    assert move["after"] == {"pool": "recycled", "owner": None}


def test_a_deactivated_users_holdings_go_back_to_the_public_pool(
    svc: Services, tmp_path: Any
) -> None:
    import shutil

    from tests.helpers import FIXTURES

    held = svc.records.create("shop", "customer", {"name": "c", "owner": "alice"}).result
    changed = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", changed)
    tenant = changed / "tenant.yaml"
    tenant.write_text(
        tenant.read_text().replace(
            "{id: alice, name: 王丽, teams: [east], roles: [sales]}",
            "{id: alice, name: 王丽, teams: [east], roles: [sales], active: false, "
            "on_deactivate: public}",
        )
    )
    svc.install_dirs([changed])
    record = svc.records.get("shop", "customer", held["id"])
    assert (record.pool, record.owner) == ("public", None)
    assert svc.records.history("shop", "customer", held["id"])[-1]["action"] == "release"


def test_a_user_claims_and_releases_for_themselves_only(svc: Services) -> None:
    # mia's role can assign; bob's and carol's cannot
    record_id = in_public(svc)
    with pytest.raises(Forbidden) as caught:
        svc.owners.claim("shop", "customer", record_id, "carol", by="bob")
    assert caught.value.errors[0].params["roles"] == "manager"
    assert svc.owners.claim("shop", "customer", record_id, "bob", by="bob").owner == "bob"
    with pytest.raises(NotFound):  # bob's record: carol (own scope) does not see it
        svc.owners.release("shop", "customer", record_id, None, by="carol")
    assert svc.owners.release("shop", "customer", record_id, "bob", by="bob").owner is None
    other = in_public(svc, "c2")
    assert svc.owners.claim("shop", "customer", other, "carol", by="mia").owner == "carol"
    svc.owners.set_active("shop", "mia", False)
    with pytest.raises(Forbidden):  # a user switched off acts for nobody
        svc.owners.claim("shop", "customer", record_id, "carol", by="mia")
