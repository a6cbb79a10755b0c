"""Rollups: a related record's write recomputes its parent's fields, which then grade and
promote the parent through the same path as any update."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.errors import Invalid
from engine.service import Services


def customer(svc: Services, **data: Any) -> dict[str, Any]:
    result: dict[str, Any] = svc.records.create("shop", "customer", {"name": "c", **data}).result
    return result


def order(svc: Services, customer_id: str, amount: str, status: str = "paid") -> dict[str, Any]:
    data = {"customer_id": customer_id, "amount": amount, "status": status}
    result: dict[str, Any] = svc.records.create("shop", "order", data).result
    return result


def stored(svc: Services, record_id: str) -> dict[str, Any]:
    return dict(svc.records.get("shop", "customer", record_id).data)


def test_a_new_parent_starts_with_empty_rollups(svc: Services) -> None:
    data = customer(svc)["data"]
    assert (data["paid_orders"], data["paid_total"], data["buyer"]) == (0, "0.00", "prospect")
    assert "last_order_amount" not in data and "largest_order" not in data


def test_a_paid_order_grades_and_promotes_its_customer(svc: Services, clock: FixedClock) -> None:
    c = customer(svc)
    written = order(svc, c["id"], "120.50")
    [parent] = written["related"]
    assert parent["id"] == c["id"] and parent["pool"] == "won"
    assert parent["data"]["paid_orders"] == 1 and parent["data"]["buyer"] == "signed"
    kinds = [(d["kind"], d["rule"]) for d in parent["decisions"]]
    assert kinds == [
        ("rollup", "paid_orders"),
        ("rollup", "paid_total"),
        ("rollup", "last_order_amount"),
        ("rollup", "largest_order"),
        ("grade", "buyer"),
        ("pool_move", "customer_pool.paid"),
    ]
    clock.advance(minutes=5)
    order(svc, c["id"], "99.50")
    data = stored(svc, c["id"])
    assert (data["paid_orders"], data["paid_total"], data["buyer"]) == (2, "220.00", "repeat")
    assert (data["last_order_amount"], data["largest_order"]) == ("99.50", "120.50")


def test_only_records_matching_where_count(svc: Services) -> None:
    c = customer(svc)
    pending = order(svc, c["id"], "10", status="pending")
    data = stored(svc, c["id"])
    assert (data["paid_orders"], data["paid_total"]) == (0, "0.00")
    assert data["last_order_amount"] == "10.00"  # last takes every order: it has no where
    svc.records.update("shop", "order", pending["id"], {"status": "paid"})
    assert stored(svc, c["id"])["paid_orders"] == 1
    svc.records.update("shop", "order", pending["id"], {"status": "refunded"})
    data = stored(svc, c["id"])
    assert (data["paid_orders"], data["paid_total"], data["buyer"]) == (0, "0.00", "prospect")
    # no rule takes a customer out of won: a refund changes the grade, not the pool
    assert svc.records.get("shop", "customer", c["id"]).pool == "won"


def test_a_record_moved_to_another_parent_updates_both(svc: Services) -> None:
    a, b = customer(svc, phone="13800000001"), customer(svc, phone="13800000002")
    o = order(svc, a["id"], "50")
    svc.records.update("shop", "order", o["id"], {"customer_id": b["id"]})
    assert (stored(svc, a["id"])["paid_orders"], stored(svc, b["id"])["paid_orders"]) == (0, 1)
    assert "largest_order" not in stored(svc, a["id"])  # max of nothing: no value


def test_deleting_a_related_record_recomputes(svc: Services, clock: FixedClock) -> None:
    c = customer(svc)
    first = order(svc, c["id"], "30")
    clock.advance(minutes=5)
    second = order(svc, c["id"], "70")
    svc.records.delete("shop", "order", second["id"])
    data = stored(svc, c["id"])
    assert (data["paid_orders"], data["paid_total"], data["largest_order"]) == (1, "30.00", "30.00")
    assert data["last_order_amount"] == "30.00"
    assert first["id"] != second["id"]


def test_a_change_the_rollups_do_not_read_leaves_the_parent_alone(svc: Services) -> None:
    c = customer(svc)
    o = order(svc, c["id"], "30")
    version = svc.records.get("shop", "customer", c["id"]).version
    updated = svc.records.update("shop", "order", o["id"], {"note": "gift wrap"})
    assert updated.related == ()
    assert svc.records.get("shop", "customer", c["id"]).version == version


def test_a_batch_recomputes_each_parent_once(svc: Services) -> None:
    a, b = customer(svc, phone="13800000001"), customer(svc, phone="13800000002")
    items = [
        {"customer_id": a["id"], "amount": "1", "status": "paid"},
        {"customer_id": a["id"], "amount": "2", "status": "paid"},
        {"customer_id": b["id"], "amount": "3", "status": "pending"},
    ]
    results = svc.records.create_many("shop", "order", items).result["results"]
    assert [r["status"] for r in results] == [201, 201, 201]
    assert (stored(svc, a["id"])["paid_orders"], stored(svc, a["id"])["paid_total"]) == (2, "3.00")
    history = svc.records.history("shop", "customer", a["id"])
    assert [h["actor"] for h in history] == [None, "rollup"]  # one update for the batch


def test_rollup_fields_are_read_only(svc: Services) -> None:
    with pytest.raises(Invalid) as caught:
        customer(svc, paid_orders=5)
    assert caught.value.errors[0].code == "computed"


def test_explain_shows_how_a_rollup_was_computed(svc: Services) -> None:
    c = customer(svc)
    order(svc, c["id"], "10")
    timeline = svc.records.explain("shop", "customer", c["id"], "en")["timeline"]
    rolled = next(d for d in timeline if d["rule"] == "paid_orders")
    assert rolled["before"] == {"paid_orders": 0} and rolled["after"] == {"paid_orders": 1}
    assert rolled["explanation"] == "paid_orders = count(order where status == 'paid') = 1"
    total = next(d for d in timeline if d["rule"] == "paid_total")
    assert total["explanation"].splitlines() == [
        "paid_total = sum(order.amount where status == 'paid') = 10",
        "  count(order where status == 'paid') = 1",
    ]


def test_concurrent_payments_of_one_customer_all_count(svc: Services, clock: FixedClock) -> None:
    c = customer(svc)
    errors: list[BaseException] = []

    def pay() -> None:
        try:
            for _ in range(5):
                order(svc, c["id"], "1")
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    data = stored(svc, c["id"])
    assert (data["paid_orders"], data["paid_total"]) == (30, "30.00")


def test_refresh_recomputes_rollups_of_existing_records(svc: Services) -> None:
    import sqlalchemy as sa

    from engine.storage import tables as t

    c = customer(svc)
    order(svc, c["id"], "5")
    plain = customer(svc, phone="13800000009")
    # as if the rollup had been added to the bundle after these records were written
    with svc.store.engine.begin() as conn:
        conn.execute(
            t.records.update().values(data={"name": "c"}).where(t.records.c.entity == "customer")
        )
        assert conn.execute(sa.select(sa.func.count()).select_from(t.records)).scalar() == 3
    assert svc.records.refresh_rollups("shop") == 2
    data = stored(svc, c["id"])
    assert (data["paid_orders"], data["paid_total"], data["largest_order"]) == (1, "5.00", "5.00")
    assert stored(svc, plain["id"])["paid_orders"] == 0
    assert svc.records.get("shop", "customer", c["id"]).pool == "won"  # promotions follow
    assert svc.records.refresh_rollups("shop") == 0  # nothing left to change


def test_a_total_the_field_cannot_hold_refuses_the_write(svc: Services) -> None:
    from engine.errors import Refused

    c = customer(svc)
    order(svc, c["id"], "9999999999999.99")
    with pytest.raises(Refused) as caught:
        order(svc, c["id"], "9999999999999.99")
    assert caught.value.errors[0].field == "customer.paid_total"
    assert caught.value.errors[0].code == "digits"
    assert stored(svc, c["id"])["paid_orders"] == 1  # nothing of the refused write stayed


def test_last_keeps_the_order_of_a_batch(svc: Services) -> None:
    c = customer(svc)
    items = [{"customer_id": c["id"], "amount": str(n), "status": "paid"} for n in (10, 20, 30)]
    svc.records.create_many("shop", "order", items)
    assert stored(svc, c["id"])["last_order_amount"] == "30.00"


def test_each_item_of_a_batch_lists_only_its_own_parents(svc: Services) -> None:
    a, b = customer(svc, phone="13800000001"), customer(svc, phone="13800000002")
    items = [{"customer_id": x["id"], "amount": "1"} for x in (a, b)]
    results = svc.records.create_many("shop", "order", items).result["results"]
    assert [[p["id"] for p in r["record"]["related"]] for r in results] == [[a["id"]], [b["id"]]]


CHAIN = {
    "tenant.yaml": "tenant: chain\nname: Chain\ntimezone: UTC\n",
    "entities.yaml": """
entities:
  account:
    fields:
      name: {type: string}
      orders: {type: integer}
      customers_paid: {type: money}
  customer:
    fields:
      name: {type: string}
      account_id: {type: reference, entity: account}
      paid: {type: money}
  order:
    fields:
      customer_id: {type: reference, entity: customer}
      account_id: {type: reference, entity: account}
      amount: {type: money}
""",
    "pools.yaml": """
rollups:
  paid: {entity: customer, field: paid, from: order, via: customer_id, fn: sum, of: amount}
  orders: {entity: account, field: orders, from: order, via: account_id, fn: count}
  customers_paid:
    {entity: account, field: customers_paid, from: customer, via: account_id, fn: sum, of: paid}
""",
}


def test_chained_rollups_under_concurrent_writers(svc: Services, tmp_path: Any) -> None:
    """Orders roll into customers and accounts, customers into accounts: writers that reach
    the same records from different sides take turns (no deadlock) and every order counts."""
    for name, text in CHAIN.items():
        (tmp_path / name).write_text(text)
    svc.install_dirs([tmp_path])
    account = svc.records.create("chain", "account", {"name": "X"}).result["id"]
    customer_id = svc.records.create("chain", "customer", {"account_id": account}).result["id"]
    errors: list[BaseException] = []

    def write(with_account: bool) -> None:
        data = {"customer_id": customer_id, "amount": "1"}
        try:
            for _ in range(10):
                svc.records.create(
                    "chain", "order", {**data, "account_id": account} if with_account else data
                )
        except BaseException as exc:  # a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i % 2 == 0,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert svc.records.get("chain", "customer", customer_id).data["paid"] == "60.00"
    totals = svc.records.get("chain", "account", account).data
    assert (totals["orders"], totals["customers_paid"]) == (30, "60.00")
