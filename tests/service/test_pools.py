"""Pool sets on writes: the initial pool, promotions that cascade, unassign, decisions, explain."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine.clock import FixedClock
from engine.service import Services
from engine.storage import tables as t


def create(svc: Services, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = svc.records.create("shop", "customer", data).result
    return result


def test_a_new_record_starts_in_the_initial_pool(svc: Services) -> None:
    record = create(svc, {"name": "a"})
    assert record["pool"] == "nurturing"
    assert [d["kind"] for d in record["decisions"]] == ["score", "grade", "grade"]  # no move


def test_promotions_cascade_within_one_write(svc: Services) -> None:
    record = create(svc, {"name": "a", "budget": 200000, "region": "east"})
    assert record["pool"] == "key"
    moves = [d for d in record["decisions"] if d["kind"] == "pool_move"]
    assert [(d["rule"], d["before"], d["after"]) for d in moves] == [
        ("customer_pool.need_confirmed", {"pool": "nurturing"}, {"pool": "has_need"}),
        ("customer_pool.big_budget", {"pool": "has_need"}, {"pool": "key"}),
    ]


def test_an_update_moves_the_record_and_records_why(svc: Services, clock: FixedClock) -> None:
    record = create(svc, {"name": "a", "region": "east"})
    clock.advance(hours=1)
    updated = svc.records.update("shop", "customer", record["id"], {"budget": 10})
    assert updated.pool == "has_need" and updated.pool_entered_at == clock.now()
    assert [d["rule"] for d in updated.decisions if d["kind"] == "pool_move"] == [
        "customer_pool.need_confirmed"
    ]
    with svc.store.read() as tx:
        rows = tx.decisions("shop", record["id"])
    moves = [r for r in rows if r.kind == "pool_move"]
    assert len(moves) == 1 and moves[0].config_version == 1
    assert moves[0].trace["expr"] == "budget > 0 and region == 'east'"


def test_a_recycling_rule_unassigns(svc: Services, clock: FixedClock) -> None:
    record = create(svc, {"name": "a"})
    with svc.store.write() as tx:  # an owner set by hand (assignment is a later issue)
        tx.conn.execute(
            sa.update(t.records).where(t.records.c.id == record["id"]).values(owner="alice")
        )
    updated = svc.records.update(
        "shop", "customer", record["id"], {"last_followup_at": "2026-09-01T00:00:00Z"}
    )
    assert (updated.pool, updated.owner) == ("public", None)
    move = next(d for d in updated.decisions if d["kind"] == "pool_move")
    assert move["after"] == {"pool": "public", "owner": None}


def test_explain_shows_the_timeline_and_why_not(svc: Services) -> None:
    record = create(svc, {"name": "a", "budget": 5, "region": "east"})
    answer = svc.records.explain("shop", "customer", record["id"], "en")
    moves = [d for d in answer["timeline"] if d["kind"] == "pool_move"]
    assert [d["rule"] for d in moves] == ["customer_pool.need_confirmed"]
    assert moves[0]["explanation"].splitlines() == [
        "✓ budget > 0 and region == 'east'",
        "  ✓ budget > 0",
        "    budget = 5",
        "  ✓ region == 'east'",
        "    region = 'east'",
    ]
    why_not = {w["rule"]: w for w in answer["why_not"]}
    assert set(why_not) == {"paid", "big_budget", "recycle_unattended"}
    assert why_not["big_budget"]["holds"] is False
    assert why_not["big_budget"]["explanation"].splitlines() == [
        "✗ budget >= 100000",
        "  budget = 5",
    ]
    zh = svc.records.explain("shop", "customer", record["id"], "zh-CN")
    assert "（无值）" in {w["rule"]: w for w in zh["why_not"]}["recycle_unattended"]["explanation"]


def test_moving_by_hand_where_the_bundle_allows(svc: Services) -> None:
    import pytest

    from engine.errors import Invalid, Refused

    record = create(svc, {"name": "a", "budget": 200000})
    assert record["pool"] == "nurturing"  # no region: need not confirmed
    moved = svc.records.move("shop", "customer", record["id"], "has_need", actor="carol")
    assert moved.pool == "key"  # by hand to has_need, then big_budget promoted it
    assert [d["kind"] for d in moved.decisions] == ["manual_move", "pool_move"]  # scores same
    assert moved.decisions[0]["rule"] == "by carol"
    with pytest.raises(Refused):
        svc.records.move("shop", "customer", record["id"], "public")
    with pytest.raises(Invalid):
        svc.records.move("shop", "customer", record["id"], "has_ned")
    history = svc.records.history("shop", "customer", record["id"])
    assert history[-1]["action"] == "move" and history[-1]["actor"] == "carol"


def test_scores_and_grades_are_derived_on_every_write(svc: Services) -> None:
    import pytest

    from engine.errors import Invalid

    record = create(svc, {"name": "a", "source": "referral"})
    assert (record["data"]["score"], record["data"]["grade"]) == (30, "potential")
    assert [d["kind"] for d in record["decisions"]] == ["score", "grade", "grade"]
    updated = svc.records.update("shop", "customer", record["id"], {"budget": 200000})
    assert (updated.data["score"], updated.data["grade"]) == (70, "key")
    assert [(d["rule"], d["after"]) for d in updated.decisions] == [
        ("lead_score", {"score": 70}),
        ("customer_grade", {"grade": "key"}),
    ]
    history = svc.records.history("shop", "customer", record["id"])
    assert history[-1]["changes"]["score"] == {"old": 30, "new": 70}
    with pytest.raises(Invalid) as caught:
        svc.records.update("shop", "customer", record["id"], {"score": 99})
    assert caught.value.errors[0].code == "computed"
    explained = svc.records.explain("shop", "customer", record["id"], "en")
    score = next(d for d in explained["timeline"] if d["kind"] == "score")
    assert score["explanation"].splitlines()[:2] == ["score = 30", "  ✓ source == 'referral'"]


def test_records_from_before_their_pools_start_in_the_initial_pool(
    engine: sa.Engine, clock: FixedClock, tmp_path: Any
) -> None:
    import shutil

    from tests.helpers import FIXTURES

    plain = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", plain)
    (plain / "pools.yaml").unlink()
    services = Services.open(engine=engine, clock=clock)
    services.install_dirs([plain])
    before = services.records.create("shop", "customer", {"name": "early"}).result
    assert before["pool"] is None
    services.install_dirs([FIXTURES / "shop"])
    assert services.records.get("shop", "customer", before["id"]).pool == "nurturing"
