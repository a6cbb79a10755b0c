"""Sweeps find records whose time condition became true, and move each exactly once."""

from __future__ import annotations

import threading
from typing import Any

from engine.clock import FixedClock
from engine.service import Services
from tests.helpers import START


def create(svc: Services, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = svc.records.create("shop", "customer", data).result
    return result


def test_a_sweep_recycles_records_that_became_due(svc: Services, clock: FixedClock) -> None:
    due = create(svc, {"name": "due", "last_followup_at": "2026-11-01T00:00:00Z"})
    fresh = create(svc, {"name": "fresh", "last_followup_at": "2026-11-20T00:00:00Z"})
    assert due["pool"] == fresh["pool"] == "nurturing"  # not due when written
    clock.advance(days=10)  # 2026-12-04: 'due' is 33 days without follow-up
    assert svc.sweeper.sweep("shop") == {"customer_pool.recycle_unattended": 1}
    assert svc.records.get("shop", "customer", due["id"]).pool == "public"
    assert svc.records.get("shop", "customer", fresh["id"]).pool == "nurturing"
    assert svc.sweeper.sweep("shop") == {}  # moved once: a second sweep finds nothing
    history = svc.records.history("shop", "customer", due["id"])
    assert history[-1]["action"] == "sweep"
    assert history[-1]["changes"] == {"pool": {"old": "nurturing", "new": "public"}}
    assert history[0]["changes"]["name"] == {"old": None, "new": "due"}
    explained = svc.records.explain("shop", "customer", due["id"], "en")
    moves = [d["rule"] for d in explained["timeline"] if d["kind"] == "pool_move"]
    assert moves == ["customer_pool.recycle_unattended"]


def test_sweeps_catch_up_with_an_explicit_time(svc: Services, clock: FixedClock) -> None:
    record = create(svc, {"name": "a", "last_followup_at": "2026-11-10T00:00:00Z"})
    assert svc.sweeper.sweep("shop") == {}
    later = clock.now().replace(year=2027)
    assert svc.sweeper.sweep("shop", later) == {"customer_pool.recycle_unattended": 1}
    assert svc.records.get("shop", "customer", record["id"]).pool == "public"


def test_concurrent_sweepers_move_each_record_once(svc: Services, clock: FixedClock) -> None:
    items = [{"name": f"n{i}", "last_followup_at": "2026-11-01T00:00:00Z"} for i in range(60)]
    svc.records.create_many("shop", "customer", items)
    clock.advance(days=10)
    results: list[dict[str, int]] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        results.append(svc.sweeper.sweep("shop", batch=7))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(r.get("customer_pool.recycle_unattended", 0) for r in results) == 60
    with svc.store.read() as tx:
        count = tx.conn.exec_driver_sql(
            "SELECT count(*) FROM decisions WHERE kind = 'pool_move'"
        ).scalar()
    assert count == 60


def test_concurrent_sweepers_expire_and_remind_each_record_once(
    svc: Services, clock: FixedClock
) -> None:
    items = [{"name": f"n{i}", "owner": ["alice", "bob"][i % 2]} for i in range(40)]
    svc.records.create_many("shop", "customer", items)
    rounds: list[dict[str, int]] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        rounds.append(svc.sweeper.sweep("shop", batch=6))

    for days in (8, 3):  # the reminder first, then the end of the protection
        clock.advance(days=days)
        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        barrier.reset()
    assert sum(r.get("customer_pool.protection_reminder", 0) for r in rounds) == 40
    assert sum(r.get("customer_pool.protection_expired", 0) for r in rounds) == 40
    with svc.store.read() as tx:
        kinds = dict(
            tx.conn.exec_driver_sql(
                "SELECT kind, count(*) FROM decisions WHERE kind IN ('reminder', 'pool_move') "
                "GROUP BY kind"
            ).fetchall()
        )
    assert kinds == {"reminder": 40, "pool_move": 40}


def test_rules_on_values_are_swept_once_per_config_version(svc: Services) -> None:
    from engine.service.sweeps import Sweeper
    from engine.storage import tables as t

    assert svc.sweeper.sweep("shop") == {}
    # a record that skipped the write path (as if written before its rules existed)
    row = {
        "tenant_id": "shop",
        "id": "raw-1",
        "entity": "customer",
        "data": {"name": "r", "budget": "5.00", "region": "east"},
        "pool": "nurturing",
        "version": 1,
        "created_at": START,
        "updated_at": START,
    }
    with svc.store.engine.begin() as conn:
        conn.execute(t.records.insert(), [row])
    assert svc.sweeper.sweep("shop") == {}  # writes apply rules on values: not looked for
    fresh = Sweeper(svc.store, svc.configs, svc.clock)  # a restarted server catches up once
    assert fresh.sweep("shop") == {"customer_pool.need_confirmed": 1}
    assert svc.records.get("shop", "customer", "raw-1").pool == "has_need"
