"""Races: concurrent writers must never break uniqueness, versions or idempotency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from engine.errors import DuplicateValue, VersionConflict
from engine.service import Idem, Services
from engine.storage import tables as t

WRITERS = 8


def race(work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in WRITERS threads released at the same moment; return results/exceptions."""
    barrier = threading.Barrier(WRITERS)
    results: list[Any] = [None] * WRITERS

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def live_records(svc: Services) -> int:
    with svc.store.read() as tx:
        query = (
            sa.select(sa.func.count())
            .select_from(t.records)
            .where(t.records.c.deleted_at.is_(None))
        )
        return int(tx.conn.execute(query).scalar_one())


def test_concurrent_inserts_of_one_unique_value_store_exactly_one(svc: Services) -> None:
    outcomes = race(
        lambda i: svc.records.create("shop", "customer", {"name": f"n{i}", "phone": "13800138000"})
    )
    stored = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(stored) == 1
    assert all(isinstance(o, DuplicateValue) for o in refused), refused
    assert live_records(svc) == 1


def test_concurrent_batches_with_overlapping_unique_values(svc: Services) -> None:
    def batch(i: int) -> Any:
        items = [{"name": f"w{i}-{k}", "email": f"shared{k}@example.com"} for k in range(20)]
        return svc.records.create_many("shop", "customer", items).result["results"]

    outcomes = race(batch)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    created = sum(r["status"] == 201 for results in outcomes for r in results)
    assert created == 20 and live_records(svc) == 20


def test_concurrent_updates_of_one_version_let_exactly_one_win(svc: Services) -> None:
    record = svc.records.create("shop", "customer", {"name": "a"}).result
    outcomes = race(
        lambda i: svc.records.update(
            "shop", "customer", record["id"], {"employees": i}, expected_version=1
        )
    )
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1
    assert all(isinstance(o, VersionConflict) for o in outcomes if isinstance(o, Exception))
    assert svc.records.get("shop", "customer", record["id"]).version == 2


def test_concurrent_retries_with_one_idempotency_key_create_one_record(svc: Services) -> None:
    body = {"name": "甲"}
    outcomes = race(
        lambda i: svc.records.create("shop", "customer", body, idem=Idem.of("same", body))
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len({o.result["id"] for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    assert live_records(svc) == 1
