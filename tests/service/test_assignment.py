"""Assignment on create: strategies, eligibility (inactive, leave, hours, capacity), queues,
explanations, and fair rotation under concurrent writers."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.service import Services
from tests.helpers import FIXTURES, run_all


@pytest.fixture
def leads(svc: Services) -> Services:
    svc.install_dirs([FIXTURES / "leads"])
    return svc


def lead(svc: Services, **data: Any) -> dict[str, Any]:
    result: dict[str, Any] = svc.records.create("leads", "lead", {"name": "l", **data}).result
    return result


def test_round_robin_rotates_over_the_eligible(leads: Services) -> None:
    owners = [lead(leads, industry="other")["owner"] for _ in range(8)]
    # u5 is inactive and u6 on leave: the rotation skips them
    assert owners == ["u1", "u2", "u3", "u4", "u1", "u2", "u3", "u4"]
    decision = lead(leads, industry="other")["decisions"][-1]
    assert decision["kind"] == "assignment" and decision["rule"] == "assignment.everyone"


def test_weighted_follows_the_weights(leads: Services) -> None:
    owners = [lead(leads, industry="finance")["owner"] for _ in range(8)]
    assert Counter(owners) == {"u1": 4, "u2": 2, "u3": 2}
    assert owners[:4] == ["u1", "u2", "u3", "u1"]  # smooth: no bursts


def test_load_balanced_picks_the_fewest_open(leads: Services) -> None:
    for _ in range(3):
        lead(leads, industry="other", status="won")  # won: not open
    first = lead(leads, industry="it")
    # nobody has an open lead; u1–u3 got one today already: the fewest today wins
    assert first["owner"] == "u4"
    busy = [lead(leads, industry="it")["owner"] for _ in range(3)]
    assert busy == ["u1", "u2", "u3"]
    leads.records.update("leads", "lead", first["id"], {"status": "won"})
    assert lead(leads, industry="it")["owner"] == "u4"  # u4 has no open lead again


def test_by_field_with_capacity_hours_and_fallback(leads: Services) -> None:
    assert lead(leads, industry="retail", region="east")["owner"] == "e1"
    # e1 holds one open lead (its cap); e2's daily cap is 1
    assert lead(leads, industry="retail", region="east")["owner"] == "e2"
    queued = lead(leads, industry="retail", region="east")
    assert (queued["owner"], queued["queue"]) == (None, "triage")
    explained = leads.records.explain("leads", "lead", queued["id"], "en")["timeline"][-1]
    assert explained["explanation"].splitlines() == [
        "rule by_region (by_field)",
        "group east",
        "candidates: e1, e2",
        "skipped: e1 (at open capacity), e2 (at daily capacity)",
        "queued in triage",
    ]
    zh = leads.records.explain("leads", "lead", queued["id"], "zh-CN")["timeline"][-1]
    assert "跳过：e1（已达持有上限）、e2（已达当日上限）" in zh["explanation"].splitlines()
    # n1 works 20:00–23:00 Shanghai; it is 16:00 there
    north = lead(leads, industry="retail", region="north")
    assert north["queue"] == "triage"
    assert north["decisions"][-1]["after"] == {"queue": "triage"}


def test_unmapped_value_goes_to_the_fallback(leads: Services, clock: FixedClock) -> None:
    south = lead(leads, industry="retail", region="south")
    assert (south["owner"], south["queue"]) == (None, "triage")


def test_an_owner_given_is_kept(leads: Services) -> None:
    assert lead(leads, industry="other", owner="u3")["owner"] == "u3"
    assert lead(leads, industry="other")["owner"] == "u1"  # the rotation did not move


def test_concurrent_writers_rotate_fairly(leads: Services) -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(50):
                leads.records.create("leads", "lead", {"name": "x", "industry": "other"})
        except BaseException as exc:  # a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with leads.store.read() as tx:
        rows = tx.conn.exec_driver_sql(
            "SELECT owner, count(*) FROM records WHERE tenant_id = 'leads' GROUP BY owner"
        ).fetchall()
    counts = dict(rows)
    assert sum(counts.values()) == 400 and set(counts) == {"u1", "u2", "u3", "u4"}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_sticky_by_keeps_the_earlier_owner(leads: Services) -> None:
    first = lead(leads, industry="other", phone="13800000001")
    assert first["owner"] == "u1"
    assert lead(leads, industry="other")["owner"] == "u2"
    again = lead(leads, industry="other", phone="138 0000 0001")
    assert again["owner"] == "u1"
    assert lead(leads, industry="other")["owner"] == "u3"  # the rotation did not move
    explained = leads.records.explain("leads", "lead", again["id"], "en")["timeline"][-1]
    assert explained["explanation"].splitlines()[1] == (
        f"same phone as record {first['id']}: its owner keeps it"
    )


def test_assign_by_hand_and_the_stats(leads: Services) -> None:
    queued = lead(leads, industry="retail", region="south")
    assert queued["queue"] == "triage"
    taken = leads.owners.assign("leads", "lead", queued["id"], "u2", actor="manager")
    assert (taken.owner, taken.queue) == ("u2", None)
    assert taken.decisions[0]["rule"] == "assignment.by_hand"
    history = leads.records.history("leads", "lead", queued["id"])
    assert history[-1]["action"] == "assign" and history[-1]["actor"] == "manager"
    for _ in range(3):
        lead(leads, industry="other")
    stats = leads.assignment.stats("leads")
    u1 = next(u for u in stats["users"] if u["user"] == "u1")
    assert (u1["assigned_today"], u1["assigned_week"], u1["owned"]) == (1, 1, 1)
    everyone = next(r for r in stats["rules"] if r["rule"] == "assignment.everyone")
    assert everyone["by_user"] == {n: {"today": 1, "week": 1} for n in ("u1", "u2", "u3")}
    assert everyone["spread_week"] == 0
    e1 = next(u for u in stats["users"] if u["user"] == "e1")
    assert e1["capacity"] == {"open": 1, "per_day": None}
    assert e1["capacity_left"] == {"open": 1, "per_day": None}


def test_assign_by_hand_refuses_unknown_users(leads: Services) -> None:
    from engine.errors import Invalid, NotFound

    record_id = lead(leads, industry="other")["id"]
    with pytest.raises(Invalid):
        leads.owners.assign("leads", "lead", record_id, "u5")  # inactive
    with pytest.raises(NotFound):
        leads.owners.assign("leads", "lead", "nope", "u1")


def test_a_batch_rotates_like_single_writes(leads: Services) -> None:
    items = [{"name": f"l{i}", "industry": "other"} for i in range(6)]
    results = leads.records.create_many("leads", "lead", items).result["results"]
    assert [r["record"]["owner"] for r in results] == ["u1", "u2", "u3", "u4", "u1", "u2"]
    assert lead(leads, industry="other")["owner"] == "u3"


def test_capacity_counts_what_the_batch_assigned(leads: Services) -> None:
    items = [{"name": f"l{i}", "industry": "retail", "region": "east"} for i in range(3)]
    results = leads.records.create_many("leads", "lead", items).result["results"]
    owners = [(r["record"]["owner"], r["record"]["queue"]) for r in results]
    assert owners == [("e1", None), ("e2", None), (None, "triage")]


def test_a_later_rule_in_a_batch_sees_what_earlier_items_were_given(leads: Services) -> None:
    # the batch's assignments are written with its records, at the end: a rule that reads
    # the loads after others assigned must still count them (u1–u3 got one each)
    items = [{"name": f"l{i}", "industry": "other"} for i in range(3)]
    items.append({"name": "balanced", "industry": "it"})
    results = leads.records.create_many("leads", "lead", items).result["results"]
    assert [r["record"]["owner"] for r in results] == ["u1", "u2", "u3", "u4"]


def test_a_large_batch_stores_every_record_and_decision(leads: Services) -> None:
    industries = ["other", "finance", "it", "retail"]
    items = [{"name": f"l{i}", "industry": industries[i % 4], "region": "east"} for i in range(45)]
    results = leads.records.create_many("leads", "lead", items).result["results"]
    stored = [r["record"] for r in results]
    assert len({r["id"] for r in stored}) == 45
    for record in stored:
        explained = leads.records.explain("leads", "lead", record["id"], "en")["timeline"]
        (assigned,) = [d for d in explained if d["kind"] == "assignment"]
        assert assigned["after"] == (
            {"owner": record["owner"]} if record["owner"] else {"queue": record["queue"]}
        )
    others = [r["owner"] for r in stored if r["data"]["industry"] == "other"]
    assert others[:8] == ["u1", "u2", "u3", "u4"] * 2
    assert lead(leads, industry="finance")["owner"] in {"u1", "u2", "u3"}


def test_deactivating_a_user_hands_their_records_over(leads: Services, tmp_path: Any) -> None:
    import shutil

    ids = [lead(leads, industry="other")["id"] for _ in range(8)]  # u1..u4, twice
    changed = tmp_path / "leads"
    shutil.copytree(FIXTURES / "leads", changed)
    tenant = changed / "tenant.yaml"
    text = tenant.read_text()
    text = text.replace(
        "{id: u2, name: Two, teams: [sales], roles: [rep]}",
        "{id: u2, name: Two, teams: [sales], roles: [rep], active: false, on_deactivate: reassign}",
    )
    text = text.replace(
        "{id: u3, name: Three, teams: [sales], roles: [rep]}",
        "{id: u3, name: Three, teams: [sales], roles: [rep], active: false}",
    )
    tenant.write_text(text)
    leads.install_dirs([changed])
    owners = [leads.records.get("leads", "lead", i).owner for i in ids]
    # u3's leads stay with u3 (the tenant's default: stay); u2's two continue the rotation
    # (after u4: u1, then u4 — u2 and u3 are inactive)
    assert [owners[i] for i in (0, 2, 3, 4, 6, 7)] == ["u1", "u3", "u4", "u1", "u3", "u4"]
    assert sorted([owners[1], owners[5]]) == ["u1", "u4"]
    handed = leads.records.explain("leads", "lead", ids[1], "en")["timeline"][-1]
    assert handed["before"] == {"owner": "u2"} and handed["after"] == {"owner": owners[1]}
    history = leads.records.history("leads", "lead", ids[1])
    assert history[-1]["action"] == "handover"
    assert lead(leads, industry="other")["owner"] == "u1"  # no new leads for u2 or u3


def test_a_record_nobody_worked_is_handed_on(leads: Services, clock: FixedClock) -> None:
    idle = lead(leads, industry="other")
    worked = lead(leads, industry="other")
    leads.records.update("leads", "lead", worked["id"], {"status": "working"})
    assert (idle["owner"], worked["owner"]) == ("u1", "u2")
    clock.advance(hours=23)
    assert leads.sweeper.sweep("leads") == {}
    clock.advance(hours=2)
    assert leads.sweeper.sweep("leads") == {"assignment.everyone.reassign": 1}
    handed = leads.records.get("leads", "lead", idle["id"])
    assert handed.owner == "u3" and handed.owner_since == clock.now()  # the rotation's next
    assert leads.records.get("leads", "lead", worked["id"]).owner == "u2"
    assert leads.sweeper.sweep("leads") == {}  # u3 has a fresh 24 hours
    step = leads.records.explain("leads", "lead", idle["id"], "en")["timeline"][-1]
    assert step["rule"] == "assignment.everyone.reassign"
    assert step["before"] == {"owner": "u1"} and step["after"] == {"owner": "u3"}
    lines = step["explanation"].splitlines()
    assert lines[0] == "rule everyone (round_robin)"
    assert "handed on because:" in lines
    assert "  ✓ hours_since(assigned_at) > 24 and status == 'new'" in lines
    assert "skipped: u1 (had it), u5 (inactive), u6 (on leave)" in lines


def test_switching_a_user_off_through_the_api(leads: Services) -> None:
    from engine.errors import NotFound

    first = lead(leads, industry="other")
    assert first["owner"] == "u1"
    answer = leads.owners.set_active("leads", "u2", False, actor="admin")
    assert answer == {"user": "u2", "active": False, "on_deactivate": "stay", "handed_over": 0}
    assert lead(leads, industry="other")["owner"] == "u3"  # u2 is skipped at once
    u2 = next(u for u in leads.assignment.stats("leads")["users"] if u["user"] == "u2")
    assert u2["active"] is False
    skipped = leads.records.explain("leads", "lead", first["id"], "en")  # unchanged
    assert skipped["record"]["owner"] == "u1"
    leads.owners.set_active("leads", "u2", True)
    assert lead(leads, industry="other")["owner"] == "u4"
    assert lead(leads, industry="other")["owner"] == "u1"
    assert lead(leads, industry="other")["owner"] == "u2"
    with pytest.raises(NotFound):
        leads.owners.set_active("leads", "nobody", False)


def test_a_switched_off_user_takes_no_records_by_any_path(leads: Services) -> None:
    from engine.errors import Invalid

    record_id = lead(leads, industry="other")["id"]
    leads.owners.set_active("leads", "u3", False)
    with pytest.raises(Invalid) as caught:
        lead(leads, industry="other", owner="u3")
    assert caught.value.errors[0].code == "inactive_owner"
    with pytest.raises(Invalid):
        leads.records.update("leads", "lead", record_id, {"owner": "u3"})
    with pytest.raises(Invalid):
        leads.owners.assign("leads", "lead", record_id, "u3")
    leads.records.update("leads", "lead", record_id, {"owner": "u4"})  # others still may


SHARED = """
queues:
  full: {label: {en: Full, zh-CN: 已满}}
assignment:
  - id: web
    entity: lead
    when: "industry == 'it'"
    strategy: round_robin
    candidates: {users: [cap, u1]}
    fallback: {queue: full}
  - id: fair
    entity: lead
    when: "industry == 'finance'"
    strategy: round_robin
    candidates: {users: [cap, u2]}
    fallback: {queue: full}
  - id: everyone
    entity: lead
    strategy: manual_queue
    queue: full
"""


@pytest.fixture
def shared(svc: Services, tmp_path: Any) -> Services:
    """Two rules sharing user 'cap' (20 leads a day); u1 and u2 are out of office."""
    import shutil

    folder = tmp_path / "leads"
    shutil.copytree(FIXTURES / "leads", folder)
    (folder / "assignment.yaml").write_text(SHARED)
    tenant = folder / "tenant.yaml"
    text = tenant.read_text().replace(
        "  - {id: m1,", "  - {id: cap, name: Capped, capacity: {per_day: 20}}\n  - {id: m1,"
    )
    away = 'out_of_office: [{from: "2026-11-01", to: "2026-12-31"}]'
    text = text.replace("teams: [sales], roles: [rep]}", f"teams: [sales], roles: [rep], {away}}}")
    tenant.write_text(text)
    svc.install_dirs([folder])
    return svc


def test_a_cap_holds_across_rules_under_concurrent_writers(shared: Services) -> None:
    def writer(industry: str) -> Any:
        return lambda: [
            shared.records.create("leads", "lead", {"name": "x", "industry": industry})
            for _ in range(8)
        ]

    run_all([writer("it"), writer("finance")] * 4)
    with shared.store.read() as tx:
        rows = tx.conn.exec_driver_sql(
            "SELECT owner, queue, count(*) FROM records WHERE tenant_id = 'leads' "
            "GROUP BY owner, queue"
        ).fetchall()
    assert sorted(rows, key=str) == sorted([("cap", None, 20), (None, "full", 44)], key=str)


def test_concurrent_batches_through_several_rules_do_not_deadlock(leads: Services) -> None:
    # each batch reaches the rules in another order: locks taken in the bundle's order
    forward = [{"name": "f", "industry": i} for i in ("finance", "it", "other")] * 5
    backward = forward[::-1]

    def batch(items: list[dict[str, Any]]) -> Any:
        return lambda: leads.records.create_many("leads", "lead", items)

    run_all([batch(forward), batch(backward)] * 3)
    with leads.store.read() as tx:
        total = tx.conn.exec_driver_sql("SELECT count(*) FROM records").scalar()
        decided = tx.conn.exec_driver_sql(
            "SELECT count(*) FROM decisions WHERE kind = 'assignment'"
        ).scalar()
    assert total == decided == 90


def test_only_deadlocks_and_serialization_failures_are_retried() -> None:
    import sqlalchemy as sa

    from engine.storage.store import transient

    class Orig(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    def error(sqlstate: str) -> sa.exc.OperationalError:
        return sa.exc.OperationalError("stmt", {}, Orig(sqlstate))

    assert transient(error("40P01")) and transient(error("40001"))
    assert not transient(error("23505")) and not transient(error("08006"))
