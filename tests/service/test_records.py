"""The record service on SQLite and PostgreSQL: validation, storage, history, uniqueness."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from engine.clock import FixedClock
from engine.errors import DuplicateValue, Invalid, NotFound, VersionConflict
from engine.service import Services
from engine.storage import tables as t

GOOD = {"name": "甲公司", "phone": "138 0013 8000", "budget": 1234.5, "region": "east"}


def count(svc: Services, table: sa.Table) -> int:
    with svc.store.read() as tx:
        return int(tx.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def create(svc: Services, data: dict[str, Any], entity: str = "customer") -> dict[str, Any]:
    result: dict[str, Any] = svc.records.create("shop", entity, data).result
    return result


def test_create_stores_coerced_values_defaults_and_history(svc: Services) -> None:
    record = create(svc, {**GOOD, "last_followup_at": "2026-01-01T09:00:00", "note": ""})
    assert record["data"] == {
        "name": "甲公司",
        "phone": "13800138000",
        "budget": "1234.50",
        "region": "east",
        "vip": False,
        "last_followup_at": "2026-01-01T01:00:00Z",
        "score": 0,  # derived by the bundle's scoring and grade rules
        "grade": "potential",
        "buyer": "prospect",
        "paid_orders": 0,  # rollups start at 0 (count, sum) or no value (last, max)
        "paid_total": "0.00",
    }
    assert record["version"] == 1 and record["config_version"] == 1
    assert record["created_at"] == "2026-11-24T08:00:00Z"
    history = svc.records.history("shop", "customer", record["id"])
    assert [h["action"] for h in history] == ["create"]
    assert history[0]["changes"]["phone"] == {"old": None, "new": "13800138000"}


def test_invalid_record_lists_every_error_and_stores_nothing(svc: Services) -> None:
    bad = {
        "phone": "12ab",
        "budget": -1,
        "region": "mars",
        "budjet": 3,
        "id": "x",
        "employees": 1.5,
        "website": "ftp://x",
        "founded": "2026-02-30",
    }
    with pytest.raises(Invalid) as caught:
        create(svc, bad)
    got = {(e.field, e.code) for e in caught.value.errors}
    assert got == {
        ("phone", "phone"),
        ("budget", "too_small"),
        ("region", "option"),
        ("budjet", "unknown_field"),
        ("id", "read_only"),
        ("employees", "type"),
        ("website", "url"),
        ("founded", "date"),
        ("name", "required"),
    }
    budjet = next(e for e in caught.value.errors if e.field == "budjet")
    assert "did you mean 'budget'?" in budjet.message("en")
    assert budjet.message("zh-CN").startswith("不是")
    assert count(svc, t.records) == 0 and count(svc, t.record_history) == 0


def test_unique_values_are_normalised_and_freed_on_delete(svc: Services) -> None:
    first = create(svc, GOOD)
    with pytest.raises(DuplicateValue) as caught:
        create(svc, {"name": "乙", "phone": "+8613800138000".replace("+86", "")})
    assert [(e.field, e.code) for e in caught.value.errors] == [("phone", "unique")]
    create(svc, {"name": "丙", "email": "A@Example.com"})
    with pytest.raises(DuplicateValue):
        create(svc, {"name": "丁", "email": "a@example.COM"})
    svc.records.delete("shop", "customer", first["id"])
    assert create(svc, {"name": "乙", "phone": "13800138000"})["data"]["phone"] == "13800138000"


def test_update_to_a_taken_unique_value_is_refused(svc: Services) -> None:
    create(svc, GOOD)
    other = create(svc, {"name": "乙", "phone": "13900000000"})
    with pytest.raises(DuplicateValue):
        svc.records.update("shop", "customer", other["id"], {"phone": "13800138000"})
    moved = svc.records.update("shop", "customer", other["id"], {"phone": "13700000000"})
    assert moved.data["phone"] == "13700000000"
    create(svc, {"name": "丙", "phone": "13900000000"})  # the old value was released


def test_references_must_exist_in_the_same_tenant(svc: Services) -> None:
    customer = create(svc, GOOD)
    order = create(svc, {"customer_id": customer["id"], "amount": "10"}, "order")
    assert order["data"]["status"] == "pending"
    elsewhere = svc.records.create("other", "customer", {"name": "X"}).result
    with pytest.raises(Invalid) as caught:
        create(svc, {"customer_id": elsewhere["id"], "amount": "10"}, "order")
    assert caught.value.errors[0].code == "reference"
    svc.records.delete("shop", "customer", customer["id"])
    with pytest.raises(Invalid):
        create(svc, {"customer_id": customer["id"], "amount": "10"}, "order")


def test_update_checks_version_and_records_changes(svc: Services, clock: FixedClock) -> None:
    record = create(svc, GOOD)
    clock.advance(minutes=5)
    updated = svc.records.update(
        "shop",
        "customer",
        record["id"],
        {"budget": "99", "note": "hi"},
        expected_version=1,
        actor="tester",
    )
    assert updated.version == 2 and updated.data["budget"] == "99.00"
    with pytest.raises(VersionConflict) as caught:
        svc.records.update("shop", "customer", record["id"], {"budget": 1}, expected_version=1)
    assert caught.value.current_version == 2
    same = svc.records.update("shop", "customer", record["id"], {"budget": "99.0"})
    assert same.version == 2  # nothing changed: no new version, no history
    cleared = svc.records.update("shop", "customer", record["id"], {"note": None})
    assert "note" not in cleared.data
    history = svc.records.history("shop", "customer", record["id"])
    assert [h["version"] for h in history] == [1, 2, 3]
    assert history[1]["changes"] == {
        "budget": {"old": "1234.50", "new": "99.00"},
        "note": {"old": None, "new": "hi"},
    }
    assert history[1]["actor"] == "tester" and history[1]["at"] == "2026-11-24T08:05:00Z"


def test_required_fields_cannot_be_cleared(svc: Services) -> None:
    record = create(svc, GOOD)
    with pytest.raises(Invalid) as caught:
        svc.records.update("shop", "customer", record["id"], {"name": ""})
    assert [(e.field, e.code) for e in caught.value.errors] == [("name", "required")]


def test_delete_is_soft_and_hides_the_record(svc: Services) -> None:
    record = create(svc, GOOD)
    svc.records.delete("shop", "customer", record["id"], expected_version=1)
    with pytest.raises(NotFound):
        svc.records.get("shop", "customer", record["id"])
    with pytest.raises(NotFound):
        svc.records.update("shop", "customer", record["id"], {"budget": 1})
    assert [h["action"] for h in svc.records.history("shop", "customer", record["id"])] == [
        "create",
        "delete",
    ]
    assert count(svc, t.records) == 1  # still stored, marked deleted


def test_tenants_never_see_each_other(svc: Services) -> None:
    record = create(svc, GOOD)
    with pytest.raises(NotFound):
        svc.records.get("other", "customer", record["id"])
    with pytest.raises(NotFound):
        svc.records.history("other", "customer", record["id"])
    with pytest.raises(NotFound):
        svc.records.update("other", "customer", record["id"], {"name": "x"})
    # the same unique value is free in another tenant
    svc.records.create("other", "customer", {"name": "X", "phone": "13800138000"})


def test_unknown_entity_and_tenant_are_not_found(svc: Services) -> None:
    with pytest.raises(NotFound, match="did you mean 'customer'"):
        svc.records.create("shop", "custmer", {})
    with pytest.raises(NotFound):
        svc.records.create("nobody", "customer", {})


def test_naive_datetimes_are_read_in_the_tenant_timezone(svc: Services) -> None:
    shop = create(svc, {"name": "a", "last_followup_at": "2026-03-01 08:00"})
    other = svc.records.create(
        "other", "customer", {"name": "a", "last_followup_at": "2026-03-01 08:00"}
    ).result
    assert shop["data"]["last_followup_at"] == "2026-03-01T00:00:00Z"
    assert other["data"]["last_followup_at"] == "2026-03-01T08:00:00Z"
